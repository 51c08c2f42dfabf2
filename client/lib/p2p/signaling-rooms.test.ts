/**
 * SignalingRooms as pure state: the server's room messages in, who is where and the events
 * out. A device in two rooms leaves only when it is in neither; a lost connection says
 * each device left once. Vitest does not compile runes here, so `$state` is the identity.
 */
import { describe, expect, it, vi } from 'vitest';
import type { RoomPeer } from '../../../shared/signaling.ts';
import { Emitter, type SignalingEvents } from './signaling-events.ts';

vi.hoisted(() => {
  (globalThis as Record<string, unknown>).$state = <T>(value: T): T => value;
});

const { SignalingRooms } = await import('./signaling-rooms.svelte.ts');

const NETWORK = `network:${'n'.repeat(16)}`;
const PAIR = `pair:${'p'.repeat(16)}`;
const SHARE = `share:${'s'.repeat(16)}`;
const laptop: RoomPeer = { id: 'peer-laptop', name: 'Amber Otter', deviceName: 'Laptop', deviceId: null };
const pairedLaptop: RoomPeer = { ...laptop, deviceId: 'device-bbbbbbbbbbbbbbbb', frames: 2 };
const phone: RoomPeer = { id: 'peer-phone', name: 'Quiet Owl', deviceName: null };

/** Rooms welcomed into NETWORK, and every event they emitted, in order. */
function rooms() {
  const events = new Emitter<SignalingEvents>();
  const heard: [keyof SignalingEvents, unknown][] = [];
  for (const name of ['peer-left', 'pair-room', 'pair-peer', 'share-room', 'paired'] as const) {
    events.on(name, (payload) => heard.push([name, payload]));
  }
  const state = new SignalingRooms(events);
  state.welcomed(NETWORK);
  return { state, heard };
}

describe('SignalingRooms', () => {
  it('keeps the network room in arrival order, a rename in place of the old entry, and a leaver out', () => {
    const { state, heard } = rooms();
    state.apply({ type: 'room', room: NETWORK, kind: 'network', peers: [laptop] });
    state.apply({ type: 'peer-joined', room: NETWORK, peer: phone });
    state.apply({ type: 'peer-updated', room: NETWORK, peer: { ...laptop, deviceName: 'Work laptop' } });
    expect(state.peers.map((p) => [p.id, p.deviceName])).toEqual([
      ['peer-phone', null],
      ['peer-laptop', 'Work laptop'],
    ]);
    state.apply({ type: 'peer-left', room: NETWORK, peerId: 'peer-phone' });
    expect(state.peers.map((p) => p.id)).toEqual(['peer-laptop']);
    expect(heard).toEqual([['peer-left', { peerId: 'peer-phone' }]]);
  });

  it('knows a paired device by its device id and frame version, and says who is in the room', () => {
    const { state, heard } = rooms();
    state.apply({ type: 'room', room: PAIR, kind: 'pair', peers: [pairedLaptop] });
    expect(state.pairRoomPeers(PAIR)).toEqual([
      { id: 'peer-laptop', name: 'Amber Otter', deviceName: 'Laptop', deviceId: 'device-bbbbbbbbbbbbbbbb', frames: 2 },
    ]);
    expect(state.pairRoomOf('peer-laptop')).toBe(PAIR);
    expect(state.peer('peer-laptop')?.deviceId).toBe('device-bbbbbbbbbbbbbbbb');
    expect(heard).toEqual([['pair-room', { room: PAIR, peers: state.pairRoomPeers(PAIR) }]]);

    state.apply({ type: 'peer-updated', room: PAIR, peer: { ...pairedLaptop, deviceName: 'Work laptop' } });
    expect(heard.at(-1)).toEqual([
      'pair-peer',
      { room: PAIR, peer: expect.objectContaining({ id: 'peer-laptop', deviceName: 'Work laptop' }) },
    ]);
  });

  it('a device in the network room and a pair room leaves only once it is in neither', () => {
    const { state, heard } = rooms();
    state.apply({ type: 'room', room: NETWORK, kind: 'network', peers: [laptop] });
    state.apply({ type: 'paired', room: PAIR, roomToken: 'T'.repeat(43), peers: [pairedLaptop] });
    expect(heard.map(([name]) => name)).toEqual(['paired']);

    state.apply({ type: 'peer-left', room: PAIR, peerId: 'peer-laptop' });
    expect(state.pairRoomPeers(PAIR)).toEqual([]);
    expect(
      heard.map(([name]) => name),
      'still reachable on the network',
    ).toEqual(['paired']);
    state.apply({ type: 'peer-left', room: NETWORK, peerId: 'peer-laptop' });
    expect(heard.at(-1)).toEqual(['peer-left', { peerId: 'peer-laptop' }]);
  });

  it('leaving a pair room says its devices left unless they are nearby too', () => {
    const { state, heard } = rooms();
    state.apply({ type: 'room', room: NETWORK, kind: 'network', peers: [laptop] });
    state.apply({ type: 'room', room: PAIR, kind: 'pair', peers: [pairedLaptop, phone] });
    state.leavePair(PAIR);
    expect(state.pairRoomOf('peer-phone')).toBeNull();
    expect(heard.filter(([name]) => name === 'peer-left')).toEqual([['peer-left', { peerId: 'peer-phone' }]]);
  });

  it("keeps a share room's sender and readers by role, and says who is there after each change", () => {
    const { state, heard } = rooms();
    const owner: RoomPeer = { id: 'peer-owner', name: 'A', deviceName: null, role: 'owner' };
    state.apply({ type: 'room', room: SHARE, kind: 'share', peers: [owner] });
    state.apply({ type: 'peer-joined', room: SHARE, peer: { ...phone, role: 'reader' } });
    state.apply({ type: 'peer-left', room: SHARE, peerId: 'peer-owner' });
    expect(heard).toEqual([
      ['share-room', { room: SHARE, peers: [{ id: 'peer-owner', role: 'owner' }] }],
      [
        'share-room',
        {
          room: SHARE,
          peers: [
            { id: 'peer-owner', role: 'owner' },
            { id: 'peer-phone', role: 'reader' },
          ],
        },
      ],
      ['share-room', { room: SHARE, peers: [{ id: 'peer-phone', role: 'reader' }] }],
    ]);
    expect(state.peer('peer-phone'), 'a share reader is not a device to send to').toBeUndefined();
  });

  it('a lost connection empties every room and says each device left once', () => {
    const { state, heard } = rooms();
    state.apply({ type: 'room', room: NETWORK, kind: 'network', peers: [laptop, phone] });
    state.apply({ type: 'room', room: PAIR, kind: 'pair', peers: [pairedLaptop] });
    state.apply({ type: 'room', room: SHARE, kind: 'share', peers: [] });
    heard.length = 0;
    state.lost();
    expect(state.peers).toEqual([]);
    expect(state.pairRoomPeers(PAIR)).toEqual([]);
    expect(heard).toEqual([
      ['share-room', { room: SHARE, peers: [] }],
      ['peer-left', { peerId: 'peer-laptop' }],
      ['peer-left', { peerId: 'peer-phone' }],
    ]);
  });

  it('ignores a room message for a room this connection is not in', () => {
    const { state, heard } = rooms();
    state.apply({ type: 'peer-joined', room: PAIR, peer: pairedLaptop });
    state.apply({ type: 'peer-left', room: PAIR, peerId: 'peer-laptop' });
    expect(state.peer('peer-laptop')).toBeUndefined();
    expect(heard).toEqual([]);
  });
});
