/**
 * Where the server keeps its records: SQLite files in the data directory (the default, one
 * node), or one Postgres database when FERRY_DATABASE_URL is set (any number of nodes).
 * Both give the same stores behind the same interfaces, and each pair passes one
 * conformance suite; nothing else in the server knows which it has.
 */
import path from 'node:path';
import { openPostgresAccessStore } from './access/postgres-store.ts';
import { openSqliteAccessStore } from './access/sqlite-store.ts';
import type { AccessStore } from './access/store.ts';
import type { FerryConfig } from './config.ts';
import { openPostgresRequestStore } from './requests/postgres-store.ts';
import { openSqliteRequestStore } from './requests/sqlite-store.ts';
import type { RequestStore } from './requests/store.ts';
import { openPostgresShareStore } from './shares/postgres-store.ts';
import { openSqliteShareStore } from './shares/sqlite-store.ts';
import type { ShareStore } from './shares/store.ts';
import { openPostgresSignalingStores } from './signaling/postgres-signaling.ts';
import { openSqliteSignalingStores, type SignalingStores } from './signaling/sqlite-signaling.ts';

export interface Records {
  shares: ShareStore;
  requests: RequestStore;
  /** Pair rooms and their mailboxes. */
  signaling: SignalingStores;
  /** Upload keys, quota reservations, request links' keys, the admin token's hash. */
  access: AccessStore;
  close(): Promise<void>;
}

function closeAll(stores: Array<{ close(): Promise<void> }>): Promise<void> {
  return Promise.all(stores.map((s) => s.close())).then(() => undefined);
}

/**
 * Opens every store, bringing its schema up to date. With a database URL, an unreachable or
 * missing database rejects with ENGINE_UNAVAILABLE and a sentence naming it; stores opened
 * before the failure are closed again.
 */
export async function openRecords(config: Pick<FerryConfig, 'dataDir' | 'databaseUrl' | 'logger'>): Promise<Records> {
  const url = config.databaseUrl;
  if (!url) {
    const shares = openSqliteShareStore(path.join(config.dataDir, 'ferry.db'));
    const requests = openSqliteRequestStore(path.join(config.dataDir, 'requests.db'));
    const signaling = openSqliteSignalingStores(path.join(config.dataDir, 'signaling.db'));
    const access = openSqliteAccessStore(path.join(config.dataDir, 'access.db'));
    return { shares, requests, signaling, access, close: () => closeAll([shares, requests, signaling, access]) };
  }
  const options = { logger: config.logger };
  const opened: Array<{ close(): Promise<void> }> = [];
  try {
    const shares = await openPostgresShareStore(url, options);
    opened.push(shares);
    const requests = await openPostgresRequestStore(url, options);
    opened.push(requests);
    const signaling = await openPostgresSignalingStores(url, undefined, options);
    opened.push(signaling);
    const access = await openPostgresAccessStore(url, options);
    opened.push(access);
    return { shares, requests, signaling, access, close: () => closeAll(opened) };
  } catch (error) {
    await closeAll(opened);
    throw error;
  }
}
