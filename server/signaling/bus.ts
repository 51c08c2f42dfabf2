/**
 * SignalingBus: where peers live and how messages reach them. Handlers use only this
 * interface: the in-memory bus below serves one process, RedisSignalingBus (redis-bus.ts)
 * several, without touching a handler. Every method is async for that reason. Both pass
 * one suite (bus.conformance.ts).
 */
import type { RoomKind, RoomPeer, ServerMessage, ShareRole } from '../../shared/signaling.ts';
import { type JoinResult, MAX_ROOM_MEMBERS, Rooms } from './rooms.ts';

/** What the bus knows about a connected peer. */
export interface PeerRecord {
  id: string;
  name: string;
  deviceName: string | null;
  deviceId: string | null;
  /** The highest data-channel frame version it reads (`hello`); null: it did not say. */
  frames: number | null;
}

export interface RoomMember extends PeerRecord {
  role?: ShareRole;
}

export type Deliver = (message: ServerMessage) => void;

export interface SignalingBus {
  /** Registers a connected peer and how to deliver to it. */
  attach(peer: PeerRecord, deliver: Deliver): Promise<void>;
  /** Replaces a peer's record (after `hello`). */
  update(peer: PeerRecord): Promise<void>;
  /** Forgets a peer and takes it out of every room; returns the rooms it left. */
  detach(peerId: string): Promise<string[]>;
  /** Puts a connected peer in a room. */
  join(room: string, peerId: string, role?: ShareRole): Promise<JoinResult | 'unknown-peer'>;
  leave(room: string, peerId: string): Promise<boolean>;
  members(room: string): Promise<RoomMember[]>;
  roomsOf(peerId: string): Promise<string[]>;
  /** Whether two peers share a room (the one condition for relaying between them). */
  together(a: string, b: string): Promise<boolean>;
  /** Delivers to one peer; false when it is not connected. */
  publish(peerId: string, message: ServerMessage): Promise<boolean>;
  /** How many rooms of each kind have members (for /metrics). */
  roomCounts(): Promise<Record<RoomKind, number>>;
  /**
   * Forgets the peers of server processes that stopped without detaching them; answers
   * each with the rooms it was taken out of (their members are told by the caller).
   */
  reap(): Promise<ReapedPeer[]>;
  /**
   * `listener` is called when the shared state forgot this process's peers (the engine came
   * back empty, or thought this process dead): their connections must be closed, so that
   * they come back and join again.
   */
  onLost(listener: () => void): void;
  /** Stops timers and connections of the bus itself (peers are detached before). */
  close(): Promise<void>;
}

export interface ReapedPeer {
  peerId: string;
  rooms: string[];
}

export function roomKind(room: string): RoomKind {
  return room.slice(0, room.indexOf(':')) as RoomKind;
}

/** A member as the other members of `room` see it: device id only among paired devices. */
export function peerView(room: string, member: RoomMember): RoomPeer {
  const kind = roomKind(room);
  return {
    id: member.id,
    name: member.name,
    deviceName: member.deviceName,
    ...(kind === 'pair' && { deviceId: member.deviceId }),
    ...(member.frames !== null && kind !== 'share' && { frames: member.frames }),
    ...(kind === 'share' && member.role && { role: member.role }),
  };
}

/** The bus of a single server process. */
export class MemorySignalingBus implements SignalingBus {
  readonly #rooms = new Rooms();
  readonly #peers = new Map<string, { record: PeerRecord; deliver: Deliver }>();

  async attach(peer: PeerRecord, deliver: Deliver): Promise<void> {
    this.#peers.set(peer.id, { record: { ...peer }, deliver });
  }

  async update(peer: PeerRecord): Promise<void> {
    const entry = this.#peers.get(peer.id);
    if (entry) entry.record = { ...peer };
  }

  async detach(peerId: string): Promise<string[]> {
    this.#peers.delete(peerId);
    return this.#rooms.leaveAll(peerId);
  }

  async join(room: string, peerId: string, role?: ShareRole): Promise<JoinResult | 'unknown-peer'> {
    if (!this.#peers.has(peerId)) return 'unknown-peer';
    const max = roomKind(room) === 'network' ? Number.POSITIVE_INFINITY : MAX_ROOM_MEMBERS;
    return this.#rooms.join(room, { peerId, ...(role && { role }) }, max);
  }

  async leave(room: string, peerId: string): Promise<boolean> {
    return this.#rooms.leave(room, peerId);
  }

  async members(room: string): Promise<RoomMember[]> {
    const members: RoomMember[] = [];
    for (const m of this.#rooms.members(room)) {
      const record = this.#peers.get(m.peerId)?.record;
      if (record) members.push({ ...record, ...(m.role && { role: m.role }) });
    }
    return members;
  }

  async roomsOf(peerId: string): Promise<string[]> {
    return this.#rooms.roomsOf(peerId);
  }

  async together(a: string, b: string): Promise<boolean> {
    return this.#rooms.together(a, b);
  }

  async publish(peerId: string, message: ServerMessage): Promise<boolean> {
    const entry = this.#peers.get(peerId);
    if (!entry) return false;
    entry.deliver(message);
    return true;
  }

  async roomCounts(): Promise<Record<RoomKind, number>> {
    const counts: Record<RoomKind, number> = { network: 0, pair: 0, share: 0 };
    for (const room of this.#rooms.names()) counts[roomKind(room)] += 1;
    return counts;
  }

  /** One process: no other process's peers to forget. */
  async reap(): Promise<ReapedPeer[]> {
    return [];
  }

  /** The memory lives and dies with the process: it never forgets its peers. */
  onLost(): void {}

  async close(): Promise<void> {}
}
