/**
 * Pairing two devices. One asks for a 6-digit code (good for PAIR_CODE_TTL_MS, one use);
 * the other enters it; the server puts both in a new pair room and gives both a room token
 * to rejoin it later. The server only joins them: the key for the clients' MAC over their
 * DTLS fingerprints comes from the code and their own randomness (`pair-auth` relay), and
 * a room token proves only that its holder was in the pairing.
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { timingSafeEqual } from '../../shared/encoding.ts';
import { FerryError } from '../../shared/errors.ts';
import { PAIR_CODE_DIGITS, PAIR_CODE_TTL_MS } from '../../shared/signaling.ts';

/** Codes alive at once, server-wide: with 10^6 codes, keep guessing hard. */
export const MAX_LIVE_CODES = 10_000;
/** A pair room's token works this long after its last use. */
export const PAIR_ROOM_TTL_MS = 90 * 24 * 60 * 60 * 1000;

export type RedeemResult = { ok: true; creator: string } | { ok: false; reason: 'unknown' | 'own-code' };

/** Live pairing codes, time passed in: here in memory, in Redis for several nodes (redis-pairing.ts). */
export interface PairingCodeStore {
  /** A new code for `creator`, replacing its previous one; undefined when MAX_LIVE_CODES are live. */
  create(creator: string, now: number): Promise<{ code: string; expiresAt: number } | undefined>;
  /** Uses a code up. A peer entering its own code gets `own-code` and the code stays. */
  redeem(code: string, joiner: string, now: number): Promise<RedeemResult>;
  /** Forgets the code of a peer that left. */
  drop(creator: string): Promise<void>;
  /** Codes live at `now`. */
  count(now: number): Promise<number>;
}

/** A 6-digit code from the random source. */
export function randomCode(random: () => number = () => randomInt(10 ** PAIR_CODE_DIGITS)): string {
  return String(random()).padStart(PAIR_CODE_DIGITS, '0');
}

/** The pairing codes of one process. */
export class PairingCodes implements PairingCodeStore {
  readonly #codes = new Map<string, { creator: string; expiresAt: number }>();
  readonly #byCreator = new Map<string, string>();
  readonly #random: () => number;

  constructor(random: () => number = () => randomInt(10 ** PAIR_CODE_DIGITS)) {
    this.#random = random;
  }

  async create(creator: string, now: number): Promise<{ code: string; expiresAt: number } | undefined> {
    this.prune(now);
    await this.drop(creator);
    if (this.#codes.size >= MAX_LIVE_CODES) return undefined;
    let code: string;
    do code = randomCode(this.#random);
    while (this.#codes.has(code));
    const expiresAt = now + PAIR_CODE_TTL_MS;
    this.#codes.set(code, { creator, expiresAt });
    this.#byCreator.set(creator, code);
    return { code, expiresAt };
  }

  async redeem(code: string, joiner: string, now: number): Promise<RedeemResult> {
    const entry = this.#codes.get(code);
    if (!entry || entry.expiresAt <= now) return { ok: false, reason: 'unknown' };
    if (entry.creator === joiner) return { ok: false, reason: 'own-code' };
    this.#codes.delete(code);
    this.#byCreator.delete(entry.creator);
    return { ok: true, creator: entry.creator };
  }

  async drop(creator: string): Promise<void> {
    const code = this.#byCreator.get(creator);
    if (code === undefined) return;
    this.#codes.delete(code);
    this.#byCreator.delete(creator);
  }

  prune(now: number): void {
    for (const [code, entry] of this.#codes) {
      if (entry.expiresAt <= now) {
        this.#codes.delete(code);
        this.#byCreator.delete(entry.creator);
      }
    }
  }

  async count(now: number): Promise<number> {
    this.prune(now);
    return this.#codes.size;
  }
}

/**
 * Pair rooms that can be rejoined: room id → hash of its token. In memory for tests, in
 * SQLite for a server (sqlite-signaling.ts: pairings outlive a restart), Postgres for several
 * (postgres-signaling.ts).
 */
export interface PairRoomStore {
  /**
   * Keeps a new room. Throws RATE_LIMITED when MAX_PAIR_ROOMS live rooms exist: a flood of
   * pairings must not push out the rooms people use, so new ones wait for old ones to expire.
   */
  create(room: string, tokenHash: string, now: number): Promise<void>;
  /** Whether `tokenHash` opens `room`; a successful check extends the room's life. */
  verify(room: string, tokenHash: string, now: number): Promise<boolean>;
  /** Forgets rooms unused for PAIR_ROOM_TTL_MS. */
  sweep(now: number): Promise<void>;
}

/** Live pair rooms a server keeps at once. */
export const MAX_PAIR_ROOMS = 1_000_000;

export function tooManyPairRooms(): FerryError {
  return new FerryError('RATE_LIMITED', 'This server holds as many pairings as it can; try again later.');
}

export class MemoryPairRoomStore implements PairRoomStore {
  readonly #rooms = new Map<string, { tokenHash: string; expiresAt: number }>();
  readonly #max: number;

  constructor(max = MAX_PAIR_ROOMS) {
    this.#max = max;
  }

  async create(room: string, tokenHash: string, now: number): Promise<void> {
    if (this.#rooms.size >= this.#max) await this.sweep(now);
    if (this.#rooms.size >= this.#max) throw tooManyPairRooms();
    this.#rooms.set(room, { tokenHash, expiresAt: now + PAIR_ROOM_TTL_MS });
  }

  async verify(room: string, tokenHash: string, now: number): Promise<boolean> {
    const entry = this.#rooms.get(room);
    if (!entry || entry.expiresAt <= now || !timingSafeEqual(entry.tokenHash, tokenHash)) return false;
    entry.expiresAt = now + PAIR_ROOM_TTL_MS;
    return true;
  }

  async sweep(now: number): Promise<void> {
    for (const [id, entry] of this.#rooms) if (entry.expiresAt <= now) this.#rooms.delete(id);
  }
}

/** A new pair room id and its token (43 base64url characters) with the hash to store. */
export function newPairRoom(): { room: string; token: string; tokenHash: string } {
  const token = randomBytes(32).toString('base64url');
  return { room: `pair:${randomBytes(12).toString('base64url')}`, token, tokenHash: hashToken(token) };
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
