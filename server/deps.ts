/** What handlers are given: configuration and the storage interfaces, nothing global. */

import type { IncomingMessage } from 'node:http';
import type { AccessStore } from './access/store.ts';
import type { UploadAccessControl } from './access/upload-access.ts';
import type { FerryConfig } from './config.ts';
import type { RateLimiter } from './http/rate-limit.ts';
import type { RequestContext } from './http/router.ts';
import type { FerryMetrics } from './metrics.ts';
import type { RequestStore } from './requests/store.ts';
import type { ShareStore } from './shares/store.ts';
import type { BlobStore } from './uploads/blob-store.ts';

export interface AppDeps {
  config: FerryConfig;
  shares: ShareStore;
  blobs: BlobStore;
  /** Request links (reverse shares) and the uploads made into them. */
  requests: RequestStore;
  /** Upload keys, quota reservations, request links' keys, the admin token's hash. */
  access: AccessStore;
  /** Who may create shares and whether their bytes fit (access/upload-access.ts). */
  uploadAccess: UploadAccessControl;
  /** Counters that handlers move (relay fallbacks); see metrics.ts. */
  metrics: FerryMetrics;
  /** Share, request-link and request-upload creations per client network (clientKey). */
  createLimiter: RateLimiter;
  /** Download tickets granted per client network, and per share. */
  ticketLimiters: { perClient: RateLimiter; perShare: RateLimiter };
  /** The client's network (its address behind trusted proxies; an IPv6 /64), for limits. */
  clientKey: (req: IncomingMessage) => string;
  /** Answers when Redis (FERRY_REDIS_URL) takes a command, for /ready; absent without Redis. */
  redisCheck?: () => Promise<void>;
  /** Removes dead shares' records and the blobs no live share points at (the sweeper's core). */
  collect: () => Promise<void>;
}

export type AppHandler = (ctx: RequestContext, deps: AppDeps) => Promise<void>;
