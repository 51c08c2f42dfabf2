/**
 * Room membership as pure state: which peers are in which room, and the reverse index. No
 * I/O and no clock, so the rules are unit-tested directly (rooms.test.ts). A room exists
 * while it has members.
 */
import type { ShareRole } from '../../shared/signaling.ts';

/** Rooms one peer may be in at once (its network room included). */
export const MAX_ROOMS_PER_PEER = 16;
/** Members of one pair or share room (network rooms are not capped: one NAT, many devices). */
export const MAX_ROOM_MEMBERS = 32;

export interface Membership {
  peerId: string;
  /** Only in share rooms: whether the peer joined with the owner or a reader token. */
  role?: ShareRole;
}

export type JoinResult = 'joined' | 'already' | 'room-full' | 'too-many-rooms';

export class Rooms {
  readonly #rooms = new Map<string, Map<string, Membership>>();
  readonly #byPeer = new Map<string, Set<string>>();

  /** Adds a member; an existing member keeps its place (its role is updated). */
  join(room: string, member: Membership, maxMembers = MAX_ROOM_MEMBERS): JoinResult {
    const members = this.#rooms.get(room);
    const existing = members?.get(member.peerId);
    if (existing) {
      members!.set(member.peerId, member);
      return 'already';
    }
    if (members && members.size >= maxMembers) return 'room-full';
    const rooms = this.#byPeer.get(member.peerId) ?? new Set<string>();
    if (rooms.size >= MAX_ROOMS_PER_PEER) return 'too-many-rooms';
    rooms.add(room);
    this.#byPeer.set(member.peerId, rooms);
    this.#rooms.set(room, (members ?? new Map()).set(member.peerId, member));
    return 'joined';
  }

  /** Removes a member; false when it was not in the room. */
  leave(room: string, peerId: string): boolean {
    const members = this.#rooms.get(room);
    if (!members?.delete(peerId)) return false;
    if (members.size === 0) this.#rooms.delete(room);
    const rooms = this.#byPeer.get(peerId);
    rooms?.delete(room);
    if (rooms?.size === 0) this.#byPeer.delete(peerId);
    return true;
  }

  /** Removes a peer from every room; returns the rooms it was in. */
  leaveAll(peerId: string): string[] {
    const rooms = this.roomsOf(peerId);
    for (const room of rooms) this.leave(room, peerId);
    return rooms;
  }

  members(room: string): Membership[] {
    return [...(this.#rooms.get(room)?.values() ?? [])];
  }

  roomsOf(peerId: string): string[] {
    return [...(this.#byPeer.get(peerId) ?? [])];
  }

  has(room: string, peerId: string): boolean {
    return this.#rooms.get(room)?.has(peerId) ?? false;
  }

  /** Whether two peers share at least one room. */
  together(a: string, b: string): boolean {
    const mine = this.#byPeer.get(a);
    const theirs = this.#byPeer.get(b);
    if (!mine || !theirs) return false;
    for (const room of mine) if (theirs.has(room)) return true;
    return false;
  }

  get size(): number {
    return this.#rooms.size;
  }

  /** The rooms that have members. */
  names(): IterableIterator<string> {
    return this.#rooms.keys();
  }
}
