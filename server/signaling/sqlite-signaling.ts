/**
 * The signaling server's durable state on SQLite (`signaling.db` beside the share
 * database): pair rooms, so that devices stay paired across a server restart for as long
 * as PAIR_ROOM_TTL_MS says, and the pair rooms' mailboxes, so that a sealed offer left for
 * a device that was away survives one too. The same contracts as the memory stores
 * (pairing.ts, mailbox.ts; one conformance suite runs against both).
 */
import type Database from 'better-sqlite3';
import { timingSafeEqual } from '../../shared/encoding.ts';
import { FerryError } from '../../shared/errors.ts';
import { openDatabase } from '../sqlite.ts';
import {
  itemBytes,
  MAILBOX_MAX_BYTES,
  MAILBOX_MAX_ITEMS,
  MAILBOX_MAX_TTL_MS,
  type MailItem,
  mailboxFull,
  newMailboxId,
  type PairMailbox,
} from './mailbox.ts';
import { MAX_PAIR_ROOMS, PAIR_ROOM_TTL_MS, type PairRoomStore, tooManyPairRooms } from './pairing.ts';

/** The file's schema, version by version (openDatabase); only ever appended to. */
export const SIGNALING_MIGRATIONS: readonly string[] = [
  `CREATE TABLE pair_rooms (
     room TEXT PRIMARY KEY,
     token_hash TEXT NOT NULL,
     expires_at INTEGER NOT NULL
   );
   CREATE INDEX pair_rooms_expiry ON pair_rooms (expires_at);
   CREATE TABLE mail (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     room TEXT NOT NULL,
     from_device TEXT NOT NULL,
     to_device TEXT NOT NULL,
     data TEXT NOT NULL,
     bytes INTEGER NOT NULL,
     expires_at INTEGER NOT NULL
   );
   CREATE INDEX mail_room ON mail (room, id);
   CREATE INDEX mail_expiry ON mail (expires_at);`,
  // Boxes get an id their sender can withdraw them by; boxes left before have none.
  `ALTER TABLE mail ADD COLUMN box_id TEXT;
   CREATE UNIQUE INDEX mail_box_id ON mail (box_id);`,
];

export interface SignalingStores {
  pairRooms: PairRoomStore;
  mailbox: PairMailbox;
  close(): Promise<void>;
}

/** Opens (or creates) the file; `maxPairRooms` is for tests. */
export function openSqliteSignalingStores(file: string, maxPairRooms = MAX_PAIR_ROOMS): SignalingStores {
  const db = openDatabase(file, SIGNALING_MIGRATIONS);
  return {
    pairRooms: new SqlitePairRoomStore(db, maxPairRooms),
    mailbox: new SqlitePairMailbox(db),
    close: async () => {
      db.close();
    },
  };
}

class SqlitePairRoomStore implements PairRoomStore {
  readonly #db: Database.Database;
  readonly #max: number;
  readonly #q;

  constructor(db: Database.Database, max: number) {
    this.#db = db;
    this.#max = max;
    this.#q = {
      count: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM pair_rooms'),
      insert: db.prepare<[string, string, number]>(
        'INSERT INTO pair_rooms (room, token_hash, expires_at) VALUES (?, ?, ?)',
      ),
      get: db.prepare<[string], { token_hash: string; expires_at: number }>(
        'SELECT token_hash, expires_at FROM pair_rooms WHERE room = ?',
      ),
      extend: db.prepare<[number, string]>('UPDATE pair_rooms SET expires_at = ? WHERE room = ?'),
      sweep: db.prepare<[number]>('DELETE FROM pair_rooms WHERE expires_at <= ?'),
    };
  }

  async create(room: string, tokenHash: string, now: number): Promise<void> {
    this.#db
      .transaction(() => {
        if (this.#q.count.get()!.n >= this.#max) this.#q.sweep.run(now);
        if (this.#q.count.get()!.n >= this.#max) throw tooManyPairRooms();
        this.#q.insert.run(room, tokenHash, now + PAIR_ROOM_TTL_MS);
      })
      .immediate();
  }

  async verify(room: string, tokenHash: string, now: number): Promise<boolean> {
    const row = this.#q.get.get(room);
    if (!row || row.expires_at <= now || !timingSafeEqual(row.token_hash, tokenHash)) return false;
    this.#q.extend.run(now + PAIR_ROOM_TTL_MS, room);
    return true;
  }

  async sweep(now: number): Promise<void> {
    this.#q.sweep.run(now);
  }
}

interface MailRow {
  id: number;
  from_device: string;
  to_device: string;
  data: string;
  expires_at: number;
}

class SqlitePairMailbox implements PairMailbox {
  readonly #db: Database.Database;
  readonly #q;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#q = {
      held: db.prepare<[string, number], { n: number; bytes: number | null }>(
        'SELECT COUNT(*) AS n, SUM(bytes) AS bytes FROM mail WHERE room = ? AND expires_at > ?',
      ),
      insert: db.prepare<[string, string, string, string, string, number, number]>(
        'INSERT INTO mail (box_id, room, from_device, to_device, data, bytes, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      withdraw: db.prepare<[string, string, string, number]>(
        'DELETE FROM mail WHERE room = ? AND box_id = ? AND from_device = ? AND expires_at > ?',
      ),
      mine: db.prepare<[string, string, number], MailRow>(
        'SELECT id, from_device, to_device, data, expires_at FROM mail WHERE room = ? AND to_device = ? AND expires_at > ? ORDER BY id',
      ),
      takeMine: db.prepare<[string, string]>('DELETE FROM mail WHERE room = ? AND to_device = ?'),
      clear: db.prepare<[string]>('DELETE FROM mail WHERE room = ?'),
      sweep: db.prepare<[number]>('DELETE FROM mail WHERE expires_at <= ?'),
    };
  }

  async put(room: string, item: MailItem, now: number): Promise<string> {
    if (item.expiresAt <= now) throw new FerryError('BAD_REQUEST', 'This message has already expired.');
    const bytes = itemBytes(item);
    const id = newMailboxId();
    this.#db
      .transaction(() => {
        const held = this.#q.held.get(room, now)!;
        if (held.n >= MAILBOX_MAX_ITEMS || (held.bytes ?? 0) + bytes > MAILBOX_MAX_BYTES) throw mailboxFull();
        const expiresAt = Math.min(item.expiresAt, now + MAILBOX_MAX_TTL_MS);
        this.#q.insert.run(id, room, item.from, item.to, JSON.stringify(item.data), bytes, expiresAt);
      })
      .immediate();
    return id;
  }

  async withdraw(room: string, id: string, from: string, now: number): Promise<boolean> {
    return this.#q.withdraw.run(room, id, from, now).changes === 1;
  }

  async take(room: string, to: string, now: number): Promise<MailItem[]> {
    return this.#db
      .transaction(() => {
        const rows = this.#q.mine.all(room, to, now);
        this.#q.takeMine.run(room, to);
        return rows.map((row) => ({
          from: row.from_device,
          to: row.to_device,
          data: JSON.parse(row.data) as Record<string, unknown>,
          expiresAt: row.expires_at,
        }));
      })
      .immediate();
  }

  async clear(room: string): Promise<void> {
    this.#q.clear.run(room);
  }

  async sweep(now: number): Promise<void> {
    this.#q.sweep.run(now);
  }
}
