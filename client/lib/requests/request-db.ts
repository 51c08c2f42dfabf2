/**
 * The requester's own IndexedDB (`ferry-requests`), apart from the `ferry` database so
 * neither schema waits on the other:
 *
 * - `requests`: every request link this browser created, with its ECDH private key as a
 *   non-extractable CryptoKey (IndexedDB stores it by structured clone; script can use it
 *   to derive, never read it) and the owner token. Losing this record means losing the
 *   ability to open what was sent: there is no other copy of the key.
 *
 * Versions only ever add: `MIGRATIONS[n]` takes the database from version n to n + 1.
 */
import { type DBSchema, type IDBPDatabase, openDB } from 'idb';
import { UPLOAD_KEEP_MS } from '../../../shared/request-api.ts';

export const REQUESTS_DB_NAME = 'ferry-requests';

export interface OwnedRequest {
  id: string;
  ownerToken: string;
  /** ECDH P-256, non-extractable, usage deriveBits only. */
  privateKey: CryptoKey;
  /** base64url public key: the link's fragment. */
  publicKey: string;
  link: string;
  /** The requester's note for senders (in the link's fragment); empty for none. */
  note: string;
  createdAt: number;
  expiresAt: number;
  maxBytes: number;
  maxFiles: number;
  closed: boolean;
}

interface RequestsSchema extends DBSchema {
  requests: { key: string; value: OwnedRequest; indexes: { createdAt: number } };
}

type RequestsDB = IDBPDatabase<RequestsSchema>;

/** One step per version: index n upgrades version n to n + 1. Never edit a released step; add one. */
const MIGRATIONS: readonly ((database: RequestsDB) => void)[] = [
  // 0 → 1: owned requests.
  (database) => {
    database.createObjectStore('requests', { keyPath: 'id' }).createIndex('createdAt', 'createdAt');
  },
];

let opened: Promise<RequestsDB> | undefined;

function open(): Promise<RequestsDB> {
  opened ??= openDB<RequestsSchema>(REQUESTS_DB_NAME, MIGRATIONS.length, {
    upgrade(database, oldVersion) {
      for (let version = oldVersion; version < MIGRATIONS.length; version++) MIGRATIONS[version]?.(database);
    },
    blocking() {
      void opened?.then((d) => d.close());
      opened = undefined;
    },
  });
  return opened;
}

export async function putRequest(record: OwnedRequest): Promise<void> {
  await (await open()).put('requests', record);
}

export async function getOwnedRequest(id: string): Promise<OwnedRequest | undefined> {
  return (await open()).get('requests', id);
}

/**
 * Owned requests, newest first. Those the server has forgotten (a week after they ended,
 * when every upload's share has expired too) are deleted, with their keys.
 */
export async function listOwnedRequests(now = Date.now()): Promise<OwnedRequest[]> {
  const database = await open();
  const all = await database.getAllFromIndex('requests', 'createdAt');
  const live: OwnedRequest[] = [];
  for (const record of all) {
    if (record.expiresAt + UPLOAD_KEEP_MS < now) await database.delete('requests', record.id);
    else live.push(record);
  }
  return live.reverse();
}
