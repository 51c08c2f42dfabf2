/**
 * createFerryServer: the whole server on one http.Server — tus at /files/, the share API
 * under /api/, /health and /ready, and the built client for everything else. Used by main.ts and by
 * the tests (which pass port 0, a temp data dir and their own clock).
 */
import { mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { FerryError } from '../shared/errors.ts';
import { releaseDeadShares } from './access/release.ts';
import { addConfigRoute } from './access/routes.ts';
import type { AccessStore } from './access/store.ts';
import { UploadAccessControl } from './access/upload-access.ts';
import { adminTokenHash } from './admin/admin-token.ts';
import { addAdminRoutes } from './admin/routes.ts';
import { type FerryConfig, resolveConfig } from './config.ts';
import { openCoordination } from './coordination.ts';
import type { AppDeps } from './deps.ts';
import { assertJsonType, hasBody, setBodyDeadline } from './http/body.ts';
import { capConnectionsPerAddress } from './http/connection-cap.ts';
import { Overload } from './http/overload.ts';
import { RateLimiter } from './http/rate-limit.ts';
import { type RequestTrace, traceRequest } from './http/request-log.ts';
import { AllowError, type ErrorReport, sendError, sendJson } from './http/respond.ts';
import { type RequestContext, Router } from './http/router.ts';
import { assertSameOrigin } from './http/same-origin.ts';
import { serveStatic } from './http/static.ts';
import { announce } from './log.ts';
import { FerryMetrics, metricsHandler } from './metrics.ts';
import { readyRoute } from './ready.ts';
import { openRecords } from './records.ts';
import { openRedis } from './redis.ts';
import { addRequestRoutes } from './requests/routes.ts';
import type { RequestStore } from './requests/store.ts';
import { ticketLimiters } from './shares/create-download.ts';
import { addShareRoutes, FILE_ROUTE } from './shares/routes.ts';
import type { ShareStore } from './shares/store.ts';
import { clientAddress, networkKey, trustedProxyList } from './signaling/client-address.ts';
import { addIceRoute } from './signaling/ice.ts';
import { attachSignaling, type Signaling } from './signaling/server.ts';
import { Sweeper } from './sweeper.ts';
import { type BlobStore, FileBlobStore } from './uploads/blob-store.ts';
import { RedisLocker } from './uploads/redis-locker.ts';
import { S3BlobStore } from './uploads/s3-blob-store.ts';
import { createTus, TUS_PATH } from './uploads/tus.ts';

export interface FerryServer {
  server: http.Server;
  /** http://localhost:<port> */
  url: string;
  port: number;
  config: FerryConfig;
  shares: ShareStore;
  blobs: BlobStore;
  requests: RequestStore;
  /** Upload keys, quota reservations, the admin token's hash. */
  access: AccessStore;
  sweeper: Sweeper;
  /** WebSocket signaling at /signal. */
  signaling: Signaling;
  /** Transfers in flight and event-loop lag (503 OVERLOADED past the limits). */
  overload: Overload;
  /** What GET /metrics reports. */
  metrics: FerryMetrics;
  close(): Promise<void>;
}

/** tus requests that carry ciphertext (creation-with-upload and PATCH): uploads in the metrics. */
const UPLOAD_METHODS = new Set(['POST', 'PATCH']);

/** How many following ports to try when the configured one is busy. */
const PORT_ATTEMPTS = 20;

function buildRouter(deps: AppDeps, adminHash: string): Router {
  const { config } = deps;
  const health = ({ res }: RequestContext) => sendJson(res, 200, { ok: true, version: config.version });
  const ready = readyRoute(deps);
  const router = new Router()
    .add('/health', { GET: health, HEAD: health })
    .add('/ready', { GET: ready, HEAD: ready })
    .add('/metrics', { GET: metricsHandler(deps.metrics, config.metricsToken) });
  if (config.benchSink) {
    router.add('/api/bench/sink', {
      PUT: async ({ req, res }) => {
        let bytes = 0;
        for await (const chunk of req as AsyncIterable<Buffer>) bytes += chunk.length;
        sendJson(res, 200, { bytes });
      },
    });
  }
  addIceRoute(router, config);
  addConfigRoute(router, config);
  addAdminRoutes(router, deps, adminHash);
  addRequestRoutes(router, deps);
  return addShareRoutes(router, deps);
}

export async function createFerryServer(overrides: Partial<FerryConfig> = {}): Promise<FerryServer> {
  const config = resolveConfig(overrides);
  const trusted = trustedProxyList(config.trustedProxies);
  const filesDir = path.join(config.dataDir, 'files');
  mkdirSync(filesDir, { recursive: true });
  const blobs = await openBlobs(config, filesDir);
  const coordination = await openCoordination(config).catch((error: unknown) => {
    blobs.close?.();
    throw error;
  });
  const locker = coordination.redis
    ? new RedisLocker({
        redis: coordination.redis,
        subscriber: await openRedis(config.redisUrl!, config.logger, 'upload locks'),
        ttlMs: config.uploadLockTtlMs,
        logger: config.logger,
      })
    : undefined;
  const closeEngines = async () => {
    await locker?.close();
    await coordination.close();
    blobs.close?.();
  };
  const records = await openRecords(config).catch(async (error: unknown) => {
    await closeEngines();
    throw error;
  });
  await locker?.ready();
  const { shares, requests, access } = records;
  const metrics = new FerryMetrics();
  const report: ErrorReport = { logger: config.logger, refused: (code) => metrics.refused(code) };
  const sweeper = new Sweeper({
    shares,
    blobs,
    requests,
    now: config.now,
    ticketIdleMs: config.ticketIdleMs,
    logger: config.logger,
    onPass: (failed) => {
      metrics.sweeperRuns.inc();
      if (failed) metrics.sweeperFailures.inc();
    },
    afterCollect: (now) => releaseDeadShares({ access, shares, requests }, now),
    lease: coordination.sweepLease,
  });
  const deps: AppDeps = {
    config,
    shares,
    blobs,
    requests,
    access,
    uploadAccess: new UploadAccessControl(config, access),
    metrics,
    createLimiter: new RateLimiter(coordination.buckets, 'create', config.createRate),
    ticketLimiters: ticketLimiters(config, coordination.buckets),
    clientKey: (req) => networkKey(clientAddress(req, trusted)),
    ...(coordination.engine && { redisCheck: coordination.engine.check }),
    collect: async () => {
      await sweeper.collect();
      // A revoke collects at once: its share's signaling room empties now too.
      await signaling.closeDeadShareRooms();
    },
  };
  const router = buildRouter(
    deps,
    await adminTokenHash(config.adminToken, access, (line) => announce(config.logger, line)),
  );
  const tus = createTus({
    shares,
    blobs,
    maxUploadBytes: config.maxUploadBytes,
    minFreeBytes: config.minFreeBytes,
    now: config.now,
    report,
    ...(locker ? { locker } : {}),
  });

  const overload = new Overload(config.overload);

  async function dispatch(req: http.IncomingMessage, res: http.ServerResponse, trace: RequestTrace): Promise<void> {
    const raw = req.url ?? '';
    if (!raw.startsWith('/')) throw new FerryError('BAD_REQUEST', 'Malformed request target.');
    // Concatenate rather than resolve: "//host/x" must stay a path, not become an authority.
    const url = new URL(`http://localhost${raw}`);
    const method = req.method ?? 'GET';
    assertSameOrigin(req, trusted);
    if (url.pathname === TUS_PATH || url.pathname.startsWith(`${TUS_PATH}/`)) {
      // Ciphertext leaves only through ticketed GETs of the share API, never tus GET.
      trace.route(
        url.pathname === TUS_PATH ? TUS_PATH : `${TUS_PATH}/:id`,
        UPLOAD_METHODS.has(method) ? 'upload' : 'other',
      );
      if (UPLOAD_METHODS.has(method)) overload.admit('upload', res);
      if (method === 'GET') throw new AllowError(['POST', 'HEAD', 'PATCH', 'DELETE', 'OPTIONS']);
      return tus.handle(req, res);
    }
    if (
      url.pathname.startsWith('/api/') ||
      url.pathname === '/health' ||
      url.pathname === '/ready' ||
      url.pathname === '/metrics'
    ) {
      const { handler, params, route } = router.match(method, url.pathname);
      trace.route(route, route === FILE_ROUTE && method === 'GET' ? 'download' : 'other');
      if (route === FILE_ROUTE && method === 'GET') overload.admit('download', res);
      // Every API body sent with POST or PATCH is JSON: refuse others before a handler spends a limit.
      if ((method === 'POST' || method === 'PATCH') && hasBody(req)) assertJsonType(req);
      setBodyDeadline(req, config.bodyTimeoutMs);
      return handler({ req, res, params, url });
    }
    // App routes carry share ids (/s/<id>): logged as one pattern.
    trace.route('static');
    if (method !== 'GET' && method !== 'HEAD') throw new AllowError(['GET', 'HEAD']);
    return serveStatic(config.distDir, req, res, url);
  }

  // Node checks headersTimeout on this interval (default 30 s).
  const connectionsCheckingInterval = Math.min(5000, Math.max(250, config.headersTimeoutMs / 4));
  const server = http.createServer({ connectionsCheckingInterval }, (req, res) => {
    req.on('error', () => res.destroy());
    const trace = traceRequest(req, res, { logger: config.logger, metrics, logIp: config.logIp });
    dispatch(req, res, trace).catch((error: unknown) => {
      // Leave unread request bodies behind without reading them (e.g. a 413 upload).
      if (!req.complete) res.setHeader('Connection', 'close');
      sendError(res, error, report);
    });
  });
  // Node's default 5-minute requestTimeout would cut a long tus PATCH, so there is no limit
  // on a whole request; instead a socket without a byte in either direction for
  // socketIdleMs is destroyed (a stalled body, or a download the client stopped reading),
  // an API body has a deadline (setBodyDeadline), and headers must arrive within
  // headersTimeout. Between requests keepAliveTimeout applies (its clock does not run while
  // a request is parsed, and headersTimeout's does not run between requests).
  server.requestTimeout = 0;
  server.headersTimeout = config.headersTimeoutMs;
  server.keepAliveTimeout = config.keepAliveMs;
  server.timeout = config.socketIdleMs;
  capConnectionsPerAddress(server, config.maxConnectionsPerIp, trusted, {
    counts: coordination.httpConnections,
    logger: config.logger,
  });
  const signaling = attachSignaling(server, {
    config,
    shares,
    bus: coordination.bus,
    pairing: coordination.pairing,
    networkSalt: coordination.networkSalt,
    buckets: coordination.buckets,
    connections: coordination.signalConnections,
    pairRooms: records.signaling.pairRooms,
    mailbox: records.signaling.mailbox,
    observer: { refused: report.refused, relayed: () => metrics.relayedMessages.inc() },
  });
  metrics.observe({ shares, dataDir: config.dataDir, signaling, now: config.now });
  let port: number;
  try {
    port = await listen(server, config.port, config.host);
  } catch (error) {
    await signaling.close();
    await records.close();
    await closeEngines();
    throw error;
  }
  sweeper.start(config.sweepIntervalMs);

  return {
    server,
    url: `http://localhost:${port}`,
    port,
    config,
    shares,
    blobs,
    requests,
    access,
    sweeper,
    signaling,
    metrics,
    overload,
    async close() {
      overload.stop();
      await sweeper.stop();
      await signaling.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await records.close();
      await closeEngines();
    },
  };
}

/** Where ciphertext lives: the S3 bucket when one is configured (checked now), else data/files. */
async function openBlobs(config: FerryConfig, filesDir: string): Promise<BlobStore> {
  if (!config.s3) return new FileBlobStore(filesDir, config.uploadExpiryMs);
  return S3BlobStore.open({ ...config.s3, expiryMs: config.uploadExpiryMs });
}

/** Listens on `port`, or the next free one; falls back from '::' to IPv4 where IPv6 is off. */
async function listen(server: http.Server, port: number, host: string): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const candidate = port === 0 ? 0 : port + attempt;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(candidate, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      return (server.address() as AddressInfo).port;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EAFNOSUPPORT' && host === '::') return listen(server, port, '0.0.0.0');
      if (code !== 'EADDRINUSE' || port === 0 || attempt >= PORT_ATTEMPTS) throw error;
    }
  }
}
