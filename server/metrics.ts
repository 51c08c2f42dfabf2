/**
 * GET /metrics: Prometheus text exposition (prom-client) of one Ferry server. Each server
 * has a registry of its own, never prom-client's global one, so tests can run several in
 * one process. Counters are moved where things happen (http/request-log.ts, respond.ts,
 * signaling, the sweeper); gauges that need a query are read at scrape time (`collect`).
 * Nothing here is per share or per client: labels are error codes, room kinds and ticket
 * states only, so the series stay few and say nothing about who sent what.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { statfs } from 'node:fs/promises';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { ErrorCode } from '../shared/errors.ts';
import { FerryError } from '../shared/errors.ts';
import type { RequestContext } from './http/router.ts';
import type { ShareStats, ShareStore } from './shares/store.ts';
import type { Signaling } from './signaling/server.ts';

/** What scrape-time gauges read. */
export interface MetricSources {
  shares: ShareStore;
  /** Free space is that of the file system holding this directory. */
  dataDir: string;
  signaling: Signaling;
  now: () => number;
}

export class FerryMetrics {
  readonly registry = new Registry();
  readonly uploadedBytes: Counter;
  readonly downloadedBytes: Counter;
  readonly uploadsInFlight: Gauge;
  readonly downloadsInFlight: Gauge;
  readonly relayFallbacks: Counter;
  readonly relayedMessages: Counter;
  readonly sweeperRuns: Counter;
  readonly sweeperFailures: Counter;
  readonly #refusals: Counter<'code'>;
  #sources: MetricSources | undefined;
  #stats: Promise<ShareStats> | undefined;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    const counter = (name: string, help: string) => new Counter({ name, help, registers });
    const gauge = (name: string, help: string) => new Gauge({ name, help, registers });
    this.uploadedBytes = counter('ferry_uploaded_bytes_total', 'Ciphertext bytes received in tus upload requests.');
    this.downloadedBytes = counter('ferry_downloaded_bytes_total', 'Ciphertext bytes sent in answers to file GETs.');
    this.uploadsInFlight = gauge('ferry_uploads_in_flight', 'tus POST and PATCH requests being handled.');
    this.downloadsInFlight = gauge('ferry_downloads_in_flight', 'File GETs (ciphertext downloads) being answered.');
    this.relayFallbacks = counter(
      'ferry_relay_fallbacks_total',
      'Shares created by a peer transfer falling back to the relay (a proposed id with client-made tokens).',
    );
    this.relayedMessages = counter(
      'ferry_signaling_relayed_messages_total',
      'Signaling relay messages delivered from one peer to another.',
    );
    this.sweeperRuns = counter('ferry_sweeper_runs_total', 'Sweeper passes finished, failed ones included.');
    this.sweeperFailures = counter(
      'ferry_sweeper_failures_total',
      'Sweeper passes in which a step failed (each failed step is logged).',
    );
    this.#refusals = new Counter({
      name: 'ferry_refusals_total',
      help: 'Requests, uploads and signaling messages answered with an error, by error code.',
      labelNames: ['code'],
      registers,
    });

    this.#scrapeTimeGauges(registers);
  }

  /** Gauges whose values are read when /metrics is asked for. */
  #scrapeTimeGauges(registers: Registry[]): void {
    const stats = () => this.#shareStats();
    const sources = () => this.#sources;
    const gauge = (
      name: string,
      help: string,
      collect: (this: Gauge<string>) => Promise<void> | void,
      labelNames: string[] = [],
    ) => new Gauge({ name, help, labelNames, registers, collect });
    gauge('ferry_live_shares', 'Shares neither revoked nor expired.', async function () {
      const s = await stats();
      if (s) this.set(s.liveShares);
    });
    gauge(
      'ferry_stored_bytes',
      'Ciphertext bytes the share records hold (unfinished uploads at their declared size).',
      async function () {
        const s = await stats();
        if (s) this.set(s.storedBytes);
      },
    );
    gauge(
      'ferry_download_tickets',
      'Download tickets kept, by state.',
      async function () {
        const s = await stats();
        for (const [state, n] of Object.entries(s?.tickets ?? {})) this.set({ state }, n);
      },
      ['state'],
    );
    gauge('ferry_free_bytes', 'Bytes available to Ferry on the file system of its data directory.', async function () {
      const dir = sources()?.dataDir;
      if (!dir) return;
      const fs = await statfs(dir);
      this.set(fs.bavail * fs.bsize);
    });
    gauge('ferry_signaling_connections', 'Open signaling WebSocket connections.', function () {
      const signaling = sources()?.signaling;
      if (signaling) this.set(signaling.connections);
    });
    gauge(
      'ferry_signaling_rooms',
      'Signaling rooms with members, by kind (network, pair, share).',
      async function () {
        const signaling = sources()?.signaling;
        if (!signaling) return;
        for (const [kind, n] of Object.entries(await signaling.roomCounts())) this.set({ kind }, n);
      },
      ['kind'],
    );
  }

  /** Gives the scrape-time gauges what they read (the server's parts exist after the metrics). */
  observe(sources: MetricSources): void {
    this.#sources = sources;
  }

  /** Counts one error answer (HTTP, tus or signaling) under its code. */
  refused(code: ErrorCode): void {
    this.#refusals.inc({ code });
  }

  /** The share store's counts, asked once per scrape however many gauges read them. */
  #shareStats(): Promise<ShareStats | undefined> {
    const sources = this.#sources;
    if (!sources) return Promise.resolve(undefined);
    this.#stats ??= sources.shares.stats(sources.now()).finally(() => {
      this.#stats = undefined;
    });
    return this.#stats;
  }
}

/** The GET /metrics handler: open without a token, else `Authorization: Bearer <token>`. */
export function metricsHandler(metrics: FerryMetrics, token: string | null) {
  const expected = token === null ? null : digest(token);
  return async ({ req, res }: RequestContext): Promise<void> => {
    if (expected) {
      const given = /^Bearer (\S+)$/i.exec(req.headers.authorization?.trim() ?? '')?.[1];
      // Compared as digests: equal lengths, and no early exit on the first differing byte.
      if (!given || !timingSafeEqual(digest(given), expected)) {
        throw new FerryError('UNAUTHORIZED', 'The metrics need the operator’s token (Authorization: Bearer).');
      }
    }
    const text = await metrics.registry.metrics();
    res.writeHead(200, {
      'Content-Type': metrics.registry.contentType,
      'Content-Length': Buffer.byteLength(text),
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(text);
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
