/**
 * The sweeper: expired and revoked shares become tombstones, blobs no live share points at
 * are removed, unfinished uploads past the tus expiry are removed (and their slots freed),
 * uploads no record knows are removed, idle tickets lapse and ended ones are forgotten, request links a week past their
 * end are forgotten. Runs on an unref'd timer and can
 * be called directly (tests pass their own clock through config.now).
 */
import { UPLOAD_KEEP_MS } from '../shared/request-api.ts';
import type { Logger } from './log.ts';
import type { RequestStore } from './requests/store.ts';
import type { ShareStore } from './shares/store.ts';
import type { BlobStore } from './uploads/blob-store.ts';

/** How long a swept share still answers 410 instead of 404. */
export const TOMBSTONE_MS = 7 * 24 * 60 * 60 * 1000;
/** An unsealed blob younger than this may still be in the middle of tus creation. */
const CREATION_GRACE_MS = 60_000;

export interface SweeperDeps {
  shares: ShareStore;
  blobs: BlobStore;
  requests: RequestStore;
  now: () => number;
  ticketIdleMs: number;
  logger: Logger;
  /** Told when a pass ends, whether it failed (the sweeper metrics). */
  onPass?: (failed: boolean) => void;
  /** Runs after every collection: releases the quota reservations of dead shares (access/release.ts). */
  afterCollect?: (now: number) => Promise<void>;
}

export class Sweeper {
  readonly #deps: SweeperDeps;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(deps: SweeperDeps) {
    this.#deps = deps;
  }

  /** Dead shares to tombstones, then every blob no remaining slot points at is removed. */
  async collect(now = this.#deps.now()): Promise<number> {
    const orphans = await this.#deps.shares.purgeDead(now, TOMBSTONE_MS);
    for (const id of orphans) await this.#deps.blobs.remove(id);
    await this.#deps.afterCollect?.(now);
    return orphans.length;
  }

  /** One full pass. Concurrent calls share the pass in progress. */
  sweep(now = this.#deps.now()): Promise<void> {
    this.#running ??= this.#pass(now)
      .then(
        () => this.#deps.onPass?.(false),
        (error: unknown) => {
          this.#deps.onPass?.(true);
          throw error;
        },
      )
      .finally(() => {
        this.#running = undefined;
      });
    return this.#running;
  }

  async #pass(now: number): Promise<void> {
    const { shares, blobs, requests, ticketIdleMs } = this.#deps;
    await shares.lapseTickets(now - ticketIdleMs);
    // Two idle periods: bytes still in flight when a ticket lapsed can still count it
    // (ShareStore.recordCoverage), and a done ticket's grace (get-file.ts) has passed.
    await shares.forgetEndedTickets(now - 2 * ticketIdleMs);
    await this.collect(now);
    await blobs.removeExpired();
    // Uploads tus expired (or that vanished) free their slot so the file can be sent again.
    for (const id of await shares.unsealedBlobsBefore(now - CREATION_GRACE_MS)) {
      if ((await blobs.size(id)) === undefined) await shares.releaseBlob(id);
    }
    for (const id of await shares.unknownBlobs(await blobs.list())) await blobs.remove(id);
    // A request's uploads live at most UPLOAD_KEEP_MS, and none starts after it ended: its
    // record (which the requester needs to find them) can go once that time has passed too.
    await requests.purgeBefore(now - UPLOAD_KEEP_MS);
  }

  start(intervalMs: number): void {
    this.#timer = setInterval(() => {
      this.sweep().catch((error: unknown) => this.#deps.logger.error({ err: error }, 'sweeper pass failed'));
    }, intervalMs);
    this.#timer.unref();
  }

  /** Stops the timer and waits for a pass in progress. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running?.catch(() => undefined);
  }
}
