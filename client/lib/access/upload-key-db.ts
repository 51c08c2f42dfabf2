/**
 * The upload key this browser sends when it creates a share or a request link
 * (`Ferry-Upload-Key`), in its own IndexedDB (`ferry-access`) so no other schema waits on
 * it. Read on every creation, so a key saved or removed in another tab counts at once.
 *
 * Versions only ever add: `MIGRATIONS[n]` takes the database from version n to n + 1.
 */
import { type DBSchema, type IDBPDatabase, openDB } from 'idb';
import { UPLOAD_KEY_HEADER } from '../../../shared/access-api.ts';

export const ACCESS_DB_NAME = 'ferry-access';
const KEY = 'uploadKey';

interface AccessSchema extends DBSchema {
  settings: { key: string; value: string };
}

type AccessDB = IDBPDatabase<AccessSchema>;

/** One step per version: index n upgrades version n to n + 1. Never edit a released step; add one. */
const MIGRATIONS: readonly ((database: AccessDB) => void)[] = [
  // 0 → 1: settings by name (today only the upload key).
  (database) => {
    database.createObjectStore('settings');
  },
];

let opened: Promise<AccessDB> | undefined;

function open(): Promise<AccessDB> {
  opened ??= openDB<AccessSchema>(ACCESS_DB_NAME, MIGRATIONS.length, {
    upgrade(database, oldVersion) {
      for (let version = oldVersion; version < MIGRATIONS.length; version++) MIGRATIONS[version]?.(database);
    },
    blocking() {
      void opened?.then((d) => d.close());
      opened = undefined;
    },
    terminated() {
      opened = undefined;
    },
  });
  return opened;
}

export async function loadUploadKey(): Promise<string | null> {
  if (typeof indexedDB === 'undefined') return null;
  return (await (await open()).get('settings', KEY)) ?? null;
}

export async function saveUploadKey(key: string): Promise<void> {
  await (await open()).put('settings', key, KEY);
}

export async function removeUploadKey(): Promise<void> {
  await (await open()).delete('settings', KEY);
}

/** The header that carries this browser's upload key, or none. */
export async function uploadKeyHeaders(): Promise<Record<string, string>> {
  const key = await loadUploadKey().catch(() => null);
  return key ? { [UPLOAD_KEY_HEADER]: key } : {};
}
