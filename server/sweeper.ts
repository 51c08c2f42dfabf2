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
import { SOLE_LEASE, type SweepLease } from './sweep-lease.ts';
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
  /** Held by one node at a time: only its holder sweeps (sweep-lease.ts). Default: always held. */
  lease?: SweepLease;
}

export class Sweeper {
  readonly #deps: SweeperDeps;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<string[]> | undefined;

  constructor(deps: SweeperDeps) {
    this.#deps = deps;
  }

  /**
   * Blobs no live share points at are removed, then dead shares become tombstones and the
   * records of those blobs are forgotten. Files go first: removing one needs no space, and
   * on a full disk it is what lets the record writes succeed.
   */
  async collect(now = this.#deps.now()): Promise<number> {
    const { shares, blobs } = this.#deps;
    const dead = await shares.deadBlobs(now);
    for (const id of dead) await blobs.remove(id);
    const orphans = await shares.purgeDead(now, TOMBSTONE_MS);
    // Normally the same ids (removing again is no error); one that died in between too.
    for (const id of orphans) if (!dead.includes(id)) await blobs.remove(id);
    await this.#deps.afterCollect?.(now);
    return orphans.length;
  }

  /**
   * One full pass. Concurrent calls share the pass in progress. Each step runs even when
   * an earlier one failed (a full disk refuses record writes, not file removals); each
   * failure is logged, the pass counts as failed, and the names of failed steps are returned.
   * Another node holding the lease: no pass (onPass is not told), and [] is returned.
   */
  sweep(now = this.#deps.now()): Promise<string[]> {
    this.#running ??= this.#pass(now)
      .then((failed) => {
        if (failed === null) return [];
        this.#deps.onPass?.(failed.length > 0);
        return failed;
      })
      .finally(() => {
        this.#running = undefined;
      });
    return this.#running;
  }

  /**
   * One pass, if this node holds the lease: renewed while the pass runs, and a pass whose
   * lease is lost stops before its next step. Answers the failed steps (null when not held).
   */
  async #pass(now: number): Promise<string[] | null> {
    const lease = this.#deps.lease ?? SOLE_LEASE;
    if (!(await lease.hold())) return null;
    let held = true;
    const renewal = setInterval(() => {
      lease.hold().then(
        (still) => {
          held &&= still;
        },
        () => {
          held = false;
        },
      );
    }, lease.renewEveryMs);
    try {
      return await this.#steps(now, () => held);
    } finally {
      clearInterval(renewal);
    }
  }

  async #steps(now: number, held: () => boolean): Promise<string[]> {
    const { shares, blobs, requests, ticketIdleMs } = this.#deps;
    const steps: Record<string, () => Promise<unknown>> = {
      'lapse idle tickets': () => shares.lapseTickets(now - ticketIdleMs),
      // Two idle periods: bytes still in flight when a ticket lapsed can still count it
      // (ShareStore.recordCoverage), and a done ticket's grace (get-file.ts) has passed.
      'forget ended tickets': () => shares.forgetEndedTickets(now - 2 * ticketIdleMs),
      'collect dead shares': () => this.collect(now),
      'remove expired uploads': () => blobs.removeExpired(),
      // Uploads tus expired (or that vanished) free their slot so the file can be sent again.
      'free slots of vanished uploads': async () => {
        for (const id of await shares.unsealedBlobsBefore(now - CREATION_GRACE_MS)) {
          if ((await blobs.size(id)) === undefined) await shares.releaseBlob(id);
        }
      },
      'remove unknown uploads': async () => {
        for (const id of await shares.unknownBlobs(await blobs.list())) await blobs.remove(id);
      },
      // A request's uploads live at most UPLOAD_KEEP_MS, and none starts after it ended: its
      // record (which the requester needs to find them) can go once that time has passed too.
      'forget old requests': () => requests.purgeBefore(now - UPLOAD_KEEP_MS),
    };
    const failed: string[] = [];
    for (const [name, step] of Object.entries(steps)) {
      if (!held()) {
        this.#deps.logger.warn({ step: name }, 'sweeper: lease lost; the pass stops here');
        break;
      }
      try {
        await step();
      } catch (error) {
        failed.push(name);
        this.#deps.logger.error({ err: error, step: name }, 'sweeper step failed');
      }
    }
    return failed;
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
    await this.#deps.lease?.release().catch(() => undefined);
  }
}
