/**
 * Moving a share or a request link past its expiry without waiting five minutes.
 *
 * The server takes its clock from config (`now`), but a server started as a process has no
 * way to set it yet, so this moves the share's `expires_at` (ms since the epoch) in the
 * server's SQLite database instead. WAL and the server's busy timeout let a second process
 * write while the server runs.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';

/** The share id of a link `<origin>/s/<id>#<key>`. */
export function shareIdOf(link: string): string {
  const id = /\/s\/([A-Za-z0-9_-]{16})#/.exec(link)?.[1];
  if (!id) throw new Error(`not a share link: ${link}`);
  return id;
}

/** Sets the share's expiry to one minute ago. */
export function expireShare(dataDir: string, shareId: string): void {
  expireRow(join(dataDir, 'ferry.db'), 'shares', shareId);
}

/** Sets the request link's expiry to one minute ago (`requests.db`, server/requests). */
export function expireRequest(dataDir: string, requestId: string): void {
  expireRow(join(dataDir, 'requests.db'), 'requests', requestId);
}

function expireRow(file: string, table: 'shares' | 'requests', id: string): void {
  const db = new Database(file);
  try {
    db.pragma('busy_timeout = 5000');
    const result = db.prepare(`UPDATE ${table} SET expires_at = ? WHERE id = ?`).run(Date.now() - 60_000, id);
    if (result.changes !== 1) throw new Error(`${table}: ${id} is not in ${file}`);
  } finally {
    db.close();
  }
}
