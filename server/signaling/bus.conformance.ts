/**
 * What every SignalingBus must do, as a suite any implementation runs:
 * `signalingBusConformance('memory', () => new MemorySignalingBus())`. `makeBus` answers a
 * new, empty bus each call; buses of one call to the suite never share state.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../shared/signaling.ts';
import { closedAfterEach } from '../store-harness.ts';
import type { PeerRecord, SignalingBus } from './bus.ts';
import { MAX_ROOM_MEMBERS, MAX_ROOMS_PER_PEER } from './rooms.ts';

/** A peer record with a fresh id, shaped as the server makes them (peer.ts). */
export function newPeer(name = 'Amber Otter'): PeerRecord {
  return { id: randomBytes(12).toString('base64url'), name, deviceName: null, deviceId: null, frames: null };
}

/** A room of `kind` with a fresh id. */
export function newRoom(kind: 'network' | 'pair' | 'share'): string {
  return `${kind}:${randomBytes(12).toString('base64url')}`;
}

export function signalingBusConformance(name: string, makeBus: () => Promise<SignalingBus>): void {
  describe(`SignalingBus conformance: ${name}`, () => {
    const bus = closedAfterEach(makeBus);

    /** Attaches `n` new peers; answers them with the messages each received. */
    async function attached(b: SignalingBus, n: number) {
      const peers: Array<PeerRecord & { inbox: ServerMessage[] }> = [];
      for (let i = 0; i < n; i++) {
        const peer = { ...newPeer(), inbox: [] as ServerMessage[] };
        const { inbox, ...record } = peer;
        await b.attach(record, (message) => inbox.push(message));
        peers.push(peer);
      }
      return peers;
    }

    it('tracks members both ways and forgets empty rooms', async () => {
      const b = await bus();
      const [a, c] = await attached(b, 2);
      const room = newRoom('pair');
      expect(await b.join(room, a!.id)).toBe('joined');
      expect(await b.join(room, c!.id)).toBe('joined');
      expect(await b.join(room, a!.id)).toBe('already');
      expect((await b.members(room)).map((m) => m.id)).toEqual([a!.id, c!.id]);
      expect(await b.roomsOf(a!.id)).toEqual([room]);
      expect(await b.together(a!.id, c!.id)).toBe(true);
      expect((await b.roomCounts()).pair).toBe(1);
      expect(await b.leave(room, a!.id)).toBe(true);
      expect(await b.leave(room, a!.id)).toBe(false);
      expect(await b.together(a!.id, c!.id)).toBe(false);
      expect(await b.detach(c!.id)).toEqual([room]);
      expect(await b.members(room)).toEqual([]);
      expect(await b.roomsOf(c!.id)).toEqual([]);
      expect((await b.roomCounts()).pair).toBe(0);
    });

    it('joins only connected peers and detaches a peer from every room', async () => {
      const b = await bus();
      const [a, c] = await attached(b, 2);
      const [one, two] = [newRoom('network'), newRoom('share')];
      expect(await b.join(one, newPeer().id)).toBe('unknown-peer');
      await b.join(one, a!.id);
      await b.join(two, a!.id, 'owner');
      await b.join(two, c!.id, 'reader');
      expect((await b.detach(a!.id)).sort()).toEqual([one, two].sort());
      expect(await b.members(one)).toEqual([]);
      expect((await b.members(two)).map((m) => m.id)).toEqual([c!.id]);
      expect(await b.join(one, a!.id)).toBe('unknown-peer');
      expect(await b.publish(a!.id, { type: 'pong' })).toBe(false);
    });

    it('relays only between peers that share a room', async () => {
      const b = await bus();
      const [a, c, d] = await attached(b, 3);
      const [one, two] = [newRoom('network'), newRoom('network')];
      await b.join(one, a!.id);
      await b.join(two, d!.id);
      await b.join(one, c!.id);
      expect(await b.together(a!.id, c!.id)).toBe(true);
      expect(await b.together(a!.id, d!.id)).toBe(false);
      expect(await b.together(a!.id, newPeer().id)).toBe(false);
    });

    it('caps members of pair and share rooms and rooms per peer, not network rooms', async () => {
      const b = await bus();
      const peers = await attached(b, MAX_ROOM_MEMBERS + 1);
      const [share, network] = [newRoom('share'), newRoom('network')];
      for (const peer of peers.slice(0, MAX_ROOM_MEMBERS)) expect(await b.join(share, peer.id)).toBe('joined');
      expect(await b.join(share, peers.at(-1)!.id)).toBe('room-full');
      for (const peer of peers) expect(await b.join(network, peer.id)).toBe('joined');
      const first = peers[0]!.id;
      for (let i = 2; i < MAX_ROOMS_PER_PEER; i++) expect(await b.join(newRoom('pair'), first)).toBe('joined');
      expect(await b.join(newRoom('pair'), first)).toBe('too-many-rooms');
      expect(await b.roomCounts()).toEqual({ network: 1, pair: MAX_ROOMS_PER_PEER - 2, share: 1 });
    });

    it('keeps the latest role and record of a member', async () => {
      const b = await bus();
      const [a] = await attached(b, 1);
      const room = newRoom('share');
      await b.join(room, a!.id, 'reader');
      expect(await b.join(room, a!.id, 'owner')).toBe('already');
      const { inbox: _, ...record } = a!;
      await b.update({ ...record, name: 'Desk', deviceName: 'Desk', deviceId: 'dev', frames: 2 });
      expect(await b.members(room)).toEqual([
        { ...record, name: 'Desk', deviceName: 'Desk', deviceId: 'dev', frames: 2, role: 'owner' },
      ]);
    });

    it('delivers to connected peers in order and says when a peer is gone', async () => {
      const b = await bus();
      const [a] = await attached(b, 1);
      const room = newRoom('pair');
      const sent = Array.from({ length: 20 }, () => ({ type: 'peer-left' as const, room, peerId: newPeer().id }));
      for (const message of sent) expect(await b.publish(a!.id, message)).toBe(true);
      expect(a!.inbox).toEqual(sent);
      expect(await b.publish(newPeer().id, { type: 'pong' })).toBe(false);
    });

    it('has nobody to reap while every process that attached peers is running', async () => {
      const b = await bus();
      await attached(b, 2);
      expect(await b.reap()).toEqual([]);
    });
  });
}
