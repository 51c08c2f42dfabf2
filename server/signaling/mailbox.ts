/**
 * PairMailbox: what one paired device leaves for the other while that one is not online —
 * today only a sealed offer of files sent through the relay (shared/p2p/offline-seal.ts)
 * and the sealed answers to it. The server keeps the boxes as opaque JSON it cannot read,
 * per pair room and addressed to one device id, until that device enters the room (they
 * are then handed over once and forgotten) or until they expire. Bounded per room in count
 * and bytes, so a room cannot grow without limit. Behind an interface like the bus, so it
 * can move to Redis or SQLite for several server processes.
 */
import { randomBytes } from 'node:crypto';
import { FerryError } from '../../shared/errors.ts';

/** Boxes one pair room may hold at once. */
export const MAILBOX_MAX_ITEMS = 16;
/** Bytes (of the boxes' JSON) one pair room may hold at once. */
export const MAILBOX_MAX_BYTES = 64 * 1024;
/** Longest a box is kept: the life of the relay share it points to (shared/p2p/relay.ts). */
export const MAILBOX_MAX_TTL_MS = 24 * 60 * 60 * 1000;

export interface MailItem {
  /** Device id of the device that left it. */
  from: string;
  /** Device id of the device it is for. */
  to: string;
  /** The sealed box, opaque to the server. */
  data: Record<string, unknown>;
  /** Milliseconds since the epoch; forgotten after. */
  expiresAt: number;
}

export interface PairMailbox {
  /**
   * Keeps `item` for `room` and answers the box's new id (mailboxIdSchema); throws
   * MAILBOX_FULL when the room holds too many or too much.
   */
  put(room: string, item: MailItem, now: number): Promise<string>;
  /** Hands over (and forgets) the unexpired boxes of `room` for device `to`, oldest first. */
  take(room: string, to: string, now: number): Promise<MailItem[]>;
  /**
   * Forgets box `id` of `room` if device `from` left it and it still waits (not taken, not
   * expired); answers whether it did. Nobody but the device that left a box can take it back.
   */
  withdraw(room: string, id: string, from: string, now: number): Promise<boolean>;
  /** Forgets every box of `room` (the pairing is gone). */
  clear(room: string): Promise<void>;
  /** Forgets expired boxes everywhere. */
  sweep(now: number): Promise<void>;
}

export function mailboxFull(): FerryError {
  return new FerryError(
    'MAILBOX_FULL',
    'Too many messages are waiting for the paired device; they are delivered when it comes online.',
  );
}

/** A new box id: 96 random bits, base64url (16 characters), so ids are neither guessed nor reused. */
export function newMailboxId(): string {
  return randomBytes(12).toString('base64url');
}

/** The size a box counts for against MAILBOX_MAX_BYTES. */
export function itemBytes(item: MailItem): number {
  return Buffer.byteLength(JSON.stringify(item.data));
}

/** The mailbox of a single server process. */
export class MemoryPairMailbox implements PairMailbox {
  readonly #rooms = new Map<string, (MailItem & { id: string })[]>();

  async put(room: string, item: MailItem, now: number): Promise<string> {
    if (item.expiresAt <= now) throw new FerryError('BAD_REQUEST', 'This message has already expired.');
    const items = this.#live(room, now);
    const bytes = items.reduce((sum, held) => sum + itemBytes(held), itemBytes(item));
    if (items.length >= MAILBOX_MAX_ITEMS || bytes > MAILBOX_MAX_BYTES) throw mailboxFull();
    const id = newMailboxId();
    const kept = { ...item, id, expiresAt: Math.min(item.expiresAt, now + MAILBOX_MAX_TTL_MS) };
    this.#rooms.set(room, [...items, kept]);
    return id;
  }

  async take(room: string, to: string, now: number): Promise<MailItem[]> {
    const items = this.#live(room, now);
    this.#store(
      room,
      items.filter((item) => item.to !== to),
    );
    return items.filter((item) => item.to === to).map(({ id: _, ...item }) => item);
  }

  async withdraw(room: string, id: string, from: string, now: number): Promise<boolean> {
    const items = this.#live(room, now);
    const rest = items.filter((item) => item.id !== id || item.from !== from);
    this.#store(room, rest);
    return rest.length < items.length;
  }

  async clear(room: string): Promise<void> {
    this.#rooms.delete(room);
  }

  async sweep(now: number): Promise<void> {
    for (const room of [...this.#rooms.keys()]) this.#store(room, this.#live(room, now));
  }

  #live(room: string, now: number): (MailItem & { id: string })[] {
    return (this.#rooms.get(room) ?? []).filter((item) => item.expiresAt > now);
  }

  #store(room: string, items: (MailItem & { id: string })[]): void {
    if (items.length === 0) this.#rooms.delete(room);
    else this.#rooms.set(room, items);
  }
}
