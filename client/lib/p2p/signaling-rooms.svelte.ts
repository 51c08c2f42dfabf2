/**
 * Who is in the rooms of the page's signaling connection, as reactive state: its network
 * room (devices nearby), its pair rooms (paired devices, known by device id) and its share
 * rooms (a share link's sender and recipients). Fed the server's room messages by
 * SignalingClient (signaling.svelte.ts); emits who came and went through its events.
 * Nothing here touches the socket.
 */
import type { RoomPeer, ServerMessageOf } from '../../../shared/signaling.ts';
import type { Emitter, NearbyPeer, SharePeer, SignalingEvents } from './signaling-events.ts';

/** The server messages that say who is in a room. */
export type RoomMessage = ServerMessageOf<'room' | 'peer-joined' | 'peer-updated' | 'peer-left' | 'paired'>;

export class SignalingRooms {
  readonly #events: Emitter<SignalingEvents>;
  /** The network room's id, from the last `welcome`. */
  #network: string | null = null;
  #peers = $state<NearbyPeer[]>([]);
  /** Peers of each pair room this connection is in, by room id. */
  #pairRooms = $state<Record<string, NearbyPeer[]>>({});
  /** Peers of each share room this connection is in, by room id. */
  #shareRooms: Record<string, SharePeer[]> = {};

  constructor(events: Emitter<SignalingEvents>) {
    this.#events = events;
  }

  /** Others on the same network, in the order they arrived. */
  get peers(): readonly NearbyPeer[] {
    return this.#peers;
  }

  /** The others in a pair room this connection is in. */
  pairRoomPeers(room: string): readonly NearbyPeer[] {
    return this.#pairRooms[room] ?? [];
  }

  /** The pair room a peer shares with this connection, if any. */
  pairRoomOf(peerId: string): string | null {
    for (const [room, peers] of Object.entries(this.#pairRooms)) if (peers.some((p) => p.id === peerId)) return room;
    return null;
  }

  /** A peer of the network room or of a pair room. */
  peer(id: string): NearbyPeer | undefined {
    return (
      this.#peers.find((p) => p.id === id) ??
      Object.values(this.#pairRooms)
        .flat()
        .find((p) => p.id === id)
    );
  }

  /** The connection was welcomed into network room `network`. */
  welcomed(network: string): void {
    this.#network = network;
  }

  /** Applies one of the server's room messages. */
  apply(message: RoomMessage): void {
    switch (message.type) {
      case 'room':
        if (message.room === this.#network) this.#peers = message.peers.map(nearby);
        else if (message.kind === 'pair') {
          this.#setPairRoom(message.room, message.peers.map(nearby));
          this.#events.emit('pair-room', { room: message.room, peers: this.pairRoomPeers(message.room).slice() });
        } else if (message.kind === 'share') this.#setShareRoom(message.room, message.peers.flatMap(sharePeer));
        return;
      case 'peer-joined':
      case 'peer-updated':
        this.#came(message.room, message.peer);
        return;
      case 'peer-left':
        this.#left(message.room, message.peerId);
        return;
      case 'paired':
        this.#setPairRoom(message.room, message.peers.map(nearby));
        this.#events.emit('paired', message);
        return;
    }
  }

  /** This connection left a pair room: its peers reachable through no other room are gone. */
  leavePair(room: string): void {
    const others = this.pairRoomPeers(room);
    this.#setPairRoom(room, null);
    for (const peer of others) if (!this.peer(peer.id)) this.#events.emit('peer-left', { peerId: peer.id });
  }

  /** This connection left a share room. */
  leaveShare(room: string): void {
    this.#setShareRoom(room, null);
  }

  /** The connection was lost: every room is empty, and everyone in them has left. */
  lost(): void {
    const gone = new Set([...this.#peers, ...Object.values(this.#pairRooms).flat()].map((p) => p.id));
    this.clear();
    for (const room of Object.keys(this.#shareRooms)) this.#setShareRoom(room, null);
    for (const peerId of gone) this.#events.emit('peer-left', { peerId });
  }

  /** Forgets the network and pair rooms' peers without a word (the connection was stopped). */
  clear(): void {
    this.#peers = [];
    this.#pairRooms = {};
  }

  #came(room: string, roomPeer: RoomPeer): void {
    const peer = nearby(roomPeer);
    if (room === this.#network) this.#peers = [...this.#peers.filter((p) => p.id !== peer.id), peer];
    else if (this.#pairRooms[room]) {
      this.#setPairRoom(room, [...this.pairRoomPeers(room).filter((p) => p.id !== peer.id), peer]);
      this.#events.emit('pair-peer', { room, peer });
    } else if (this.#shareRooms[room])
      this.#setShareRoom(room, [
        ...(this.#shareRooms[room] ?? []).filter((p) => p.id !== peer.id),
        ...sharePeer(roomPeer),
      ]);
  }

  #left(room: string, peerId: string): void {
    if (this.#shareRooms[room]) {
      this.#setShareRoom(
        room,
        (this.#shareRooms[room] ?? []).filter((p) => p.id !== peerId),
      );
      return;
    }
    if (room === this.#network) this.#peers = this.#peers.filter((p) => p.id !== peerId);
    else if (this.#pairRooms[room])
      this.#setPairRoom(
        room,
        this.pairRoomPeers(room).filter((p) => p.id !== peerId),
      );
    else return;
    // Still reachable through another room: the link to it stays.
    if (!this.peer(peerId)) this.#events.emit('peer-left', { peerId });
  }

  #setPairRoom(room: string, peers: NearbyPeer[] | null): void {
    const { [room]: _, ...rest } = this.#pairRooms;
    this.#pairRooms = peers ? { ...rest, [room]: peers } : rest;
  }

  /** Sets (null: forgets) a share room's peers and tells subscribers who is there now. */
  #setShareRoom(room: string, peers: SharePeer[] | null): void {
    const { [room]: _, ...rest } = this.#shareRooms;
    this.#shareRooms = peers ? { ...rest, [room]: peers } : rest;
    this.#events.emit('share-room', { room, peers: peers ?? [] });
  }
}

function nearby(peer: RoomPeer): NearbyPeer {
  return {
    id: peer.id,
    name: peer.name,
    deviceName: peer.deviceName,
    deviceId: peer.deviceId ?? null,
    ...(peer.frames !== undefined && { frames: peer.frames }),
  };
}

function sharePeer(peer: RoomPeer): SharePeer[] {
  return peer.role ? [{ id: peer.id, role: peer.role }] : [];
}
