/**
 * The signaling server's durable state on Postgres, for several nodes: pair rooms and their
 * mailboxes, the twin of sqlite-signaling.ts (one conformance suite runs against memory,
 * SQLite and this). The room count limit and each room's mailbox limits are checked and
 * written under an advisory lock (one for room creation, one per mailbox room), so racing
 * nodes cannot pass them together; taking a device's boxes is one DELETE … RETURNING, so a
 * box is handed over once.
 */
import type pg from 'pg';
import { timingSafeEqual } from '../../shared/encoding.ts';
import { FerryError } from '../../shared/errors.ts';
import { advisoryLock, type OpenOptions, openPostgres, transaction } from '../postgres.ts';
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
import type { SignalingStores } from './sqlite-signaling.ts';

/** Schema versions, applied in order (postgres.ts records them in ferry_migrations). */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE pair_rooms (
     room TEXT PRIMARY KEY,
     token_hash TEXT NOT NULL,
     expires_at BIGINT NOT NULL
   );
   CREATE INDEX pair_rooms_expiry ON pair_rooms (expires_at);
   CREATE TABLE mail (
     id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     box_id TEXT NOT NULL UNIQUE,
     room TEXT NOT NULL,
     from_device TEXT NOT NULL,
     to_device TEXT NOT NULL,
     data TEXT NOT NULL,
     bytes INTEGER NOT NULL,
     expires_at BIGINT NOT NULL
   );
   CREATE INDEX mail_room ON mail (room, to_device);
   CREATE INDEX mail_expiry ON mail (expires_at);`,
];

/** Opens the pair rooms and mailboxes in the database at `url`; `maxPairRooms` is for tests. */
export async function openPostgresSignalingStores(
  url: string,
  maxPairRooms = MAX_PAIR_ROOMS,
  options: OpenOptions = {},
): Promise<SignalingStores> {
  const pool = await openPostgres(url, 'signaling', MIGRATIONS, { max: 5, ...options });
  return {
    pairRooms: new PostgresPairRoomStore(pool, maxPairRooms),
    mailbox: new PostgresPairMailbox(pool),
    close: () => pool.end(),
  };
}

class PostgresPairRoomStore implements PairRoomStore {
  readonly #pool: pg.Pool;
  readonly #max: number;

  constructor(pool: pg.Pool, max: number) {
    this.#pool = pool;
    this.#max = max;
  }

  async create(room: string, tokenHash: string, now: number): Promise<void> {
    await transaction(this.#pool, async (client) => {
      await advisoryLock(client, 'ferry:pair-rooms');
      const count = async () => (await client.query<{ n: number }>('SELECT count(*) AS n FROM pair_rooms')).rows[0]!.n;
      if ((await count()) >= this.#max) await client.query('DELETE FROM pair_rooms WHERE expires_at <= $1', [now]);
      if ((await count()) >= this.#max) throw tooManyPairRooms();
      await client.query('INSERT INTO pair_rooms (room, token_hash, expires_at) VALUES ($1, $2, $3)', [
        room,
        tokenHash,
        now + PAIR_ROOM_TTL_MS,
      ]);
    });
  }

  async verify(room: string, tokenHash: string, now: number): Promise<boolean> {
    const row = (
      await this.#pool.query<{ token_hash: string; expires_at: number }>(
        'SELECT token_hash, expires_at FROM pair_rooms WHERE room = $1',
        [room],
      )
    ).rows[0];
    if (!row || row.expires_at <= now || !timingSafeEqual(row.token_hash, tokenHash)) return false;
    await this.#pool.query('UPDATE pair_rooms SET expires_at = GREATEST(expires_at, $1) WHERE room = $2', [
      now + PAIR_ROOM_TTL_MS,
      room,
    ]);
    return true;
  }

  async sweep(now: number): Promise<void> {
    await this.#pool.query('DELETE FROM pair_rooms WHERE expires_at <= $1', [now]);
  }
}

interface MailRow {
  id: number;
  from_device: string;
  to_device: string;
  data: string;
  expires_at: number;
}

class PostgresPairMailbox implements PairMailbox {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async put(room: string, item: MailItem, now: number): Promise<string> {
    if (item.expiresAt <= now) throw new FerryError('BAD_REQUEST', 'This message has already expired.');
    const bytes = itemBytes(item);
    const id = newMailboxId();
    await transaction(this.#pool, async (client) => {
      await advisoryLock(client, `ferry:mailbox:${room}`);
      const held = (
        await client.query<{ n: number; bytes: number }>(
          'SELECT count(*) AS n, COALESCE(sum(bytes), 0)::bigint AS bytes FROM mail WHERE room = $1 AND expires_at > $2',
          [room, now],
        )
      ).rows[0]!;
      if (held.n >= MAILBOX_MAX_ITEMS || held.bytes + bytes > MAILBOX_MAX_BYTES) throw mailboxFull();
      await client.query(
        `INSERT INTO mail (box_id, room, from_device, to_device, data, bytes, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [
          id,
          room,
          item.from,
          item.to,
          JSON.stringify(item.data),
          bytes,
          Math.min(item.expiresAt, now + MAILBOX_MAX_TTL_MS),
        ],
      );
    });
    return id;
  }

  async withdraw(room: string, id: string, from: string, now: number): Promise<boolean> {
    const result = await this.#pool.query(
      'DELETE FROM mail WHERE room = $1 AND box_id = $2 AND from_device = $3 AND expires_at > $4',
      [room, id, from, now],
    );
    return result.rowCount === 1;
  }

  async take(room: string, to: string, now: number): Promise<MailItem[]> {
    // One statement: two nodes taking at once each get (and delete) disjoint boxes.
    const { rows } = await this.#pool.query<MailRow>(
      'DELETE FROM mail WHERE room = $1 AND to_device = $2 RETURNING id, from_device, to_device, data, expires_at',
      [room, to],
    );
    return rows
      .filter((row) => row.expires_at > now)
      .sort((a, b) => a.id - b.id)
      .map((row) => ({
        from: row.from_device,
        to: row.to_device,
        data: JSON.parse(row.data) as Record<string, unknown>,
        expiresAt: row.expires_at,
      }));
  }

  async clear(room: string): Promise<void> {
    await this.#pool.query('DELETE FROM mail WHERE room = $1', [room]);
  }

  async sweep(now: number): Promise<void> {
    await this.#pool.query('DELETE FROM mail WHERE expires_at <= $1', [now]);
  }
}
