/**
 * Server configuration: flags win over environment variables, which win over defaults.
 * Tests build a config directly with `resolveConfig({ ... })` and inject a clock.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UPLOAD_ACCESS, type UploadAccess } from '../shared/access-api.ts';
import { ICE_TRANSPORT_POLICIES, type IceTransportPolicy } from '../shared/signaling.ts';
import { createLogger, type Logger, logLevel } from './log.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface FerryConfig {
  port: number;
  host: string;
  /** data/files holds tus uploads; data/ferry.db, requests.db and signaling.db the records (without databaseUrl). */
  dataDir: string;
  /**
   * postgres://… (FERRY_DATABASE_URL): shares, requests, pair rooms and mailboxes live in
   * that database instead of the SQLite files, so several nodes can share them (records.ts).
   */
  databaseUrl: string | null;
  /**
   * redis://… (FERRY_REDIS_URL): tus upload locks (uploads/redis-locker.ts), signaling rooms
   * and delivery, pairing codes, rate limits, the network-room salt and the sweeper's lease
   * live there, so several nodes share them (coordination.ts). Null: in this process's memory.
   */
  redisUrl: string | null;
  /**
   * FERRY_UPLOAD_LOCK_TTL_MS: how long a tus upload lock in Redis outlives its holder's last
   * renewal (renewed every third of it while the request runs, however long): how soon
   * another node continues the uploads of a node that died.
   */
  uploadLockTtlMs: number;
  /**
   * FERRY_S3_BUCKET (and FERRY_S3_ENDPOINT for S3-compatible stores, path-style): uploads
   * live in that bucket instead of data/files (uploads/s3-blob-store.ts). Credentials and
   * region come from the AWS SDK's own chain (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
   * AWS_REGION, profiles, roles); tests pass `credentials`.
   */
  s3: S3Config | null;
  /** The built client (Vite's outDir). */
  distDir: string;
  /** Largest single upload and largest total of a share, in ciphertext bytes. */
  maxUploadBytes: number;
  /**
   * Free bytes kept in reserve on the storage (so the databases always have room): an
   * upload or PATCH that would leave less is refused with 507 STORAGE_FULL. Undefined: 256
   * MiB, or 5 % of the file system when that is smaller (server/storage-full.ts).
   */
  minFreeBytes: number | undefined;
  sweepIntervalMs: number;
  /** Unfinished tus uploads older than this are removed (@tus/file-store counts from creation). */
  uploadExpiryMs: number;
  /** A download ticket unused for this long lapses (see ARCHITECTURE.md "Download limits"; FERRY_TICKET_IDLE_MS). */
  ticketIdleMs: number;
  /**
   * A connection that neither sends nor receives a byte for this long is closed: a stalled
   * download or request body. A long upload or download that keeps moving is unaffected.
   */
  socketIdleMs: number;
  /** An API request's JSON body must arrive whole within this long of its headers (408 after). */
  bodyTimeoutMs: number;
  /** A request's headers must arrive whole within this long (Node's headersTimeout). */
  headersTimeoutMs: number;
  /**
   * An idle keep-alive connection is closed after this long (Node's keepAliveTimeout). Longer
   * than a balancer keeps its idle connections to the node, so the balancer closes first.
   */
  keepAliveMs: number;
  /** Open HTTP connections (WebSockets included) per client address; 0: no cap. Trusted proxies are not counted. */
  maxConnectionsPerIp: number;
  /** Backpressure (http/overload.ts): transfers in flight and event-loop lag past which new ones get 503. */
  overload: { maxUploads: number; maxDownloads: number; maxLagMs: number };
  /** Share creation per client IP: a token bucket. */
  createRate: { burst: number; perMinute: number };
  /**
   * Download tickets: token buckets per client network and per share, and how many open,
   * non-idle tickets one share may have at once (FERRY_MAX_OPEN_TICKETS_PER_SHARE).
   */
  tickets: {
    perClient: { burst: number; perMinute: number };
    perShare: { burst: number; perMinute: number };
    maxOpenPerShare: number;
  };
  /** Largest JSON request body. A manifest may be 1 MiB, so base64url ~1.4 MB. */
  maxJsonBytes: number;
  /** Enables PUT /api/bench/sink (a baseline for the benchmark). */
  benchSink: boolean;
  /** Reverse proxies (IPs or CIDRs) whose X-Forwarded-For is believed (signaling/client-address.ts). */
  trustedProxies: string[];
  /**
   * STUN and TURN for WebRTC; TURN credentials use coturn's shared secret (signaling/ice.ts).
   * `transportPolicy` is RTCConfiguration.iceTransportPolicy: `relay` makes clients use TURN only.
   */
  ice: {
    stunUrls: string[];
    turnUrls: string[];
    turnSecret: string | null;
    turnTtlS: number;
    transportPolicy: IceTransportPolicy;
  };
  /** WebSocket signaling at /signal: keep-alive ping interval, connections per client network, flood limit. */
  signaling: { heartbeatMs: number; maxConnectionsPerIp: number; messageBurst: number; messagesPerSecond: number };
  /** Who may create shares and request links: anyone (`open`) or upload key holders (`key`). */
  uploadAccess: UploadAccess;
  /** Ciphertext all live shares may reserve together (FERRY_MAX_STORAGE_BYTES); null: no cap. */
  maxStorageBytes: number | null;
  /** In `open` mode, ciphertext one client network may reserve per 24 hours; null: no limit. */
  openDailyBytes: number | null;
  /** FERRY_ADMIN_TOKEN; when null, a token is made at first start and only its hash kept. */
  adminToken: string | null;
  version: string;
  /** Milliseconds since the epoch; injected by tests to move time. */
  now: () => number;
  /** Structured logs (pino): one line per request plus the server's own events (log.ts). */
  logger: Logger;
  /** Whether request lines carry the client address (FERRY_LOG_IP=1); off by default. */
  logIp: boolean;
  /** When set, GET /metrics needs `Authorization: Bearer <this>`; open otherwise. */
  metricsToken: string | null;
}

export interface S3Config {
  bucket: string;
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

let processLogger: Logger | undefined;
/** One logger to stdout per process for configs that bring none (each has its own stdout stream). */
function defaultLogger(): Logger {
  processLogger ??= createLogger({ level: 'info' });
  return processLogger;
}

export function defaultConfig(): FerryConfig {
  return {
    port: 8080,
    host: '::',
    dataDir: path.resolve('data'),
    databaseUrl: null,
    redisUrl: null,
    uploadLockTtlMs: 10_000,
    s3: null,
    distDir: path.join(ROOT, 'dist'),
    maxUploadBytes: 10 * 1024 ** 3,
    minFreeBytes: undefined,
    sweepIntervalMs: 60_000,
    uploadExpiryMs: 24 * 60 * 60 * 1000,
    ticketIdleMs: 10 * 60 * 1000,
    socketIdleMs: 2 * 60 * 1000,
    // 2 MiB of JSON (a large manifest) over a slow mobile link still fits.
    bodyTimeoutMs: 60_000,
    headersTimeoutMs: 20_000,
    // Node's own 5 s is shorter than balancers keep a connection to a node idle (HAProxy
    // reuses it for any client; AWS ALB 60 s): a request the balancer sent on it just as
    // the node closed it was lost (the balancer closes the client's connection, and only
    // browsers retry that). Above deploy/haproxy.cfg's 30 s and ALB's 60 s.
    keepAliveMs: 65_000,
    // Browsers open up to 6 connections per host and tab group, plus signaling: room for a
    // busy office behind one address, and for the e2e suite's many pages on 127.0.0.1.
    maxConnectionsPerIp: 256,
    overload: { maxUploads: 1000, maxDownloads: 1000, maxLagMs: 1000 },
    createRate: { burst: 30, perMinute: 30 },
    tickets: {
      // A visit asks for one ticket naming every file (visit-ticket.ts) and a new one only
      // after 10 minutes idle: these leave room for a household behind one address.
      perClient: { burst: 30, perMinute: 10 },
      perShare: { burst: 60, perMinute: 30 },
      maxOpenPerShare: 100,
    },
    maxJsonBytes: 2 * 1024 * 1024,
    benchSink: false,
    trustedProxies: [],
    ice: { stunUrls: [], turnUrls: [], turnSecret: null, turnTtlS: 3600, transportPolicy: 'all' },
    signaling: { heartbeatMs: 25_000, maxConnectionsPerIp: 50, messageBurst: 100, messagesPerSecond: 50 },
    uploadAccess: 'open',
    maxStorageBytes: null,
    openDailyBytes: null,
    adminToken: null,
    version: packageVersion(),
    now: Date.now,
    logger: defaultLogger(),
    logIp: false,
    metricsToken: null,
  };
}

export function resolveConfig(overrides: Partial<FerryConfig> = {}): FerryConfig {
  return { ...defaultConfig(), ...overrides };
}

function positiveInt(name: string, text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${text}"`);
  return n;
}

/** Below this a lock renewed every third of its ttl could lapse on one slow round trip to Redis. */
const MIN_UPLOAD_LOCK_TTL_MS = 1000;

/** FERRY_UPLOAD_LOCK_TTL_MS: milliseconds, at least MIN_UPLOAD_LOCK_TTL_MS. */
export function uploadLockTtlMs(text: string | undefined): number | undefined {
  const ms = positiveInt('FERRY_UPLOAD_LOCK_TTL_MS', text);
  if (ms !== undefined && ms < MIN_UPLOAD_LOCK_TTL_MS)
    throw new Error(
      `FERRY_UPLOAD_LOCK_TTL_MS must be at least ${MIN_UPLOAD_LOCK_TTL_MS} (milliseconds), got "${text}"`,
    );
  return ms;
}

/** FERRY_ICE_TRANSPORT_POLICY: `all` (default) or `relay`. */
export function iceTransportPolicy(text: string | undefined): IceTransportPolicy | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const policy = ICE_TRANSPORT_POLICIES.find((p) => p === text.trim().toLowerCase());
  if (!policy) throw new Error(`FERRY_ICE_TRANSPORT_POLICY must be "all" or "relay", got "${text}"`);
  return policy;
}

/** FERRY_UPLOAD_ACCESS: `open` (default) or `key`. */
export function uploadAccess(text: string | undefined): UploadAccess | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const access = UPLOAD_ACCESS.find((a) => a === text.trim().toLowerCase());
  if (!access) throw new Error(`FERRY_UPLOAD_ACCESS must be "open" or "key", got "${text}"`);
  return access;
}

/** An engine's URL from the environment: null when unset; one of `schemes`, or start-up stops with `usage`. */
function engineUrl(text: string | undefined, schemes: readonly string[], usage: string): string | null {
  if (text === undefined || text.trim() === '') return null;
  const url = text.trim();
  let scheme = '';
  try {
    scheme = new URL(url).protocol;
  } catch {
    // not a URL at all: the usage below
  }
  if (!schemes.includes(scheme)) throw new Error(usage);
  return url;
}

/** FERRY_DATABASE_URL: a postgres:// (or postgresql://) URL; anything else stops start-up. */
export function databaseUrl(text: string | undefined): string | null {
  return engineUrl(
    text,
    ['postgres:', 'postgresql:'],
    'FERRY_DATABASE_URL must be a postgres:// URL (postgres://user:password@host:5432/database)',
  );
}

/** FERRY_REDIS_URL: a redis:// or rediss:// URL; anything else stops start-up. */
export function redisUrl(text: string | undefined): string | null {
  return engineUrl(
    text,
    ['redis:', 'rediss:'],
    'FERRY_REDIS_URL must be a redis:// or rediss:// URL (redis://:password@host:6379/0)',
  );
}

/** FERRY_S3_BUCKET and FERRY_S3_ENDPOINT (an http(s) URL, only with a bucket); nothing set: no S3. */
export function s3Config(bucketText: string | undefined, endpointText: string | undefined): S3Config | null {
  const bucket = bucketText?.trim() ?? '';
  const endpoint = endpointText?.trim() ?? '';
  if (!bucket) {
    if (endpoint) throw new Error('FERRY_S3_ENDPOINT is set but FERRY_S3_BUCKET is not: name the bucket for uploads');
    return null;
  }
  // S3's rule for bucket names (3-63 characters of a-z, 0-9, dots and hyphens).
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new Error(`FERRY_S3_BUCKET must be an S3 bucket name (3-63 of a-z, 0-9, "." and "-"), got "${bucket}"`);
  }
  const url = engineUrl(
    endpoint,
    ['http:', 'https:'],
    `FERRY_S3_ENDPOINT must be an http:// or https:// URL (https://s3.example.net), got "${endpoint}"`,
  );
  return url ? { bucket, endpoint: url } : { bucket };
}

function list(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/** Reads `--port`, `--data`, `--host` (also as `--flag=value`) and the FERRY_* environment. */
export function configFromProcess(argv: string[], env: NodeJS.ProcessEnv): FerryConfig {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) continue;
    const eq = arg.indexOf('=');
    if (eq > 0) flags.set(arg.slice(2, eq), arg.slice(eq + 1));
    else flags.set(arg.slice(2), argv[++i] ?? '');
  }
  const base = defaultConfig();
  const dataDir = flags.get('data') ?? env.FERRY_DATA_DIR;
  return {
    ...base,
    port: positiveInt('port', flags.get('port') ?? env.PORT) ?? base.port,
    host: flags.get('host') ?? env.HOST ?? base.host,
    dataDir: dataDir ? path.resolve(dataDir) : base.dataDir,
    databaseUrl: databaseUrl(env.FERRY_DATABASE_URL),
    redisUrl: redisUrl(env.FERRY_REDIS_URL),
    uploadLockTtlMs: uploadLockTtlMs(env.FERRY_UPLOAD_LOCK_TTL_MS) ?? base.uploadLockTtlMs,
    s3: s3Config(env.FERRY_S3_BUCKET, env.FERRY_S3_ENDPOINT),
    distDir: env.FERRY_DIST_DIR ? path.resolve(env.FERRY_DIST_DIR) : base.distDir,
    maxUploadBytes: positiveInt('FERRY_MAX_UPLOAD_BYTES', env.FERRY_MAX_UPLOAD_BYTES) ?? base.maxUploadBytes,
    minFreeBytes: positiveInt('FERRY_MIN_FREE_BYTES', env.FERRY_MIN_FREE_BYTES) ?? base.minFreeBytes,
    sweepIntervalMs: positiveInt('FERRY_SWEEP_INTERVAL_MS', env.FERRY_SWEEP_INTERVAL_MS) ?? base.sweepIntervalMs,
    uploadExpiryMs: positiveInt('FERRY_UPLOAD_EXPIRY_MS', env.FERRY_UPLOAD_EXPIRY_MS) ?? base.uploadExpiryMs,
    ticketIdleMs: positiveInt('FERRY_TICKET_IDLE_MS', env.FERRY_TICKET_IDLE_MS) ?? base.ticketIdleMs,
    socketIdleMs: positiveInt('FERRY_SOCKET_IDLE_MS', env.FERRY_SOCKET_IDLE_MS) ?? base.socketIdleMs,
    bodyTimeoutMs: positiveInt('FERRY_BODY_TIMEOUT_MS', env.FERRY_BODY_TIMEOUT_MS) ?? base.bodyTimeoutMs,
    headersTimeoutMs: positiveInt('FERRY_HEADERS_TIMEOUT_MS', env.FERRY_HEADERS_TIMEOUT_MS) ?? base.headersTimeoutMs,
    keepAliveMs: positiveInt('FERRY_KEEP_ALIVE_MS', env.FERRY_KEEP_ALIVE_MS) ?? base.keepAliveMs,
    maxConnectionsPerIp:
      positiveInt('FERRY_MAX_CONNECTIONS_PER_IP', env.FERRY_MAX_CONNECTIONS_PER_IP) ?? base.maxConnectionsPerIp,
    overload: {
      maxUploads: positiveInt('FERRY_MAX_UPLOADS', env.FERRY_MAX_UPLOADS) ?? base.overload.maxUploads,
      maxDownloads: positiveInt('FERRY_MAX_DOWNLOADS', env.FERRY_MAX_DOWNLOADS) ?? base.overload.maxDownloads,
      maxLagMs: positiveInt('FERRY_MAX_LAG_MS', env.FERRY_MAX_LAG_MS) ?? base.overload.maxLagMs,
    },
    benchSink: env.FERRY_BENCH_SINK === '1',
    tickets: {
      ...base.tickets,
      maxOpenPerShare:
        positiveInt('FERRY_MAX_OPEN_TICKETS_PER_SHARE', env.FERRY_MAX_OPEN_TICKETS_PER_SHARE) ??
        base.tickets.maxOpenPerShare,
    },
    trustedProxies: list(env.FERRY_TRUSTED_PROXIES),
    ice: {
      stunUrls: list(env.FERRY_STUN_URLS),
      turnUrls: list(env.FERRY_TURN_URLS),
      turnSecret: env.FERRY_TURN_SECRET || null,
      turnTtlS: positiveInt('FERRY_TURN_TTL_S', env.FERRY_TURN_TTL_S) ?? base.ice.turnTtlS,
      transportPolicy: iceTransportPolicy(env.FERRY_ICE_TRANSPORT_POLICY) ?? base.ice.transportPolicy,
    },
    uploadAccess: uploadAccess(env.FERRY_UPLOAD_ACCESS) ?? base.uploadAccess,
    maxStorageBytes: positiveInt('FERRY_MAX_STORAGE_BYTES', env.FERRY_MAX_STORAGE_BYTES) ?? base.maxStorageBytes,
    openDailyBytes: positiveInt('FERRY_OPEN_DAILY_BYTES', env.FERRY_OPEN_DAILY_BYTES) ?? base.openDailyBytes,
    adminToken: env.FERRY_ADMIN_TOKEN?.trim() || null,
    signaling: {
      ...base.signaling,
      maxConnectionsPerIp:
        positiveInt('FERRY_SIGNAL_MAX_PER_IP', env.FERRY_SIGNAL_MAX_PER_IP) ?? base.signaling.maxConnectionsPerIp,
    },
    logger: createLogger({ level: logLevel(env.FERRY_LOG_LEVEL) }),
    logIp: env.FERRY_LOG_IP === '1',
    metricsToken: env.FERRY_METRICS_TOKEN || null,
  };
}
