/**
 * How Pairings picks a connection's authentication while a pairing runs, with the signaling
 * client and the browser's database replaced. Vitest does not compile runes here, so
 * `$state` is stubbed as the identity.
 */
import { describe, expect, it, vi } from 'vitest';
import type { Pairing } from './p2p-db.ts';
import type { NearbyPeer, SignalingClient } from './signaling.svelte.ts';

vi.hoisted(() => {
  (globalThis as Record<string, unknown>).$state = <T>(value: T): T => value;
});

const remembered: Pairing = {
  room: 'pair:old',
  roomToken: 'T'.repeat(43),
  deviceId: 'device-b',
  name: 'Laptop',
  secret: 'S'.repeat(43),
  createdAt: 0,
  lastSeen: 0,
};

vi.mock('./p2p-db.ts', () => ({
  listPairings: vi.fn(async () => [remembered]),
  putPairing: vi.fn(async () => {}),
  deletePairing: vi.fn(async () => {}),
}));

const { Pairings } = await import('./pairings.svelte.ts');

/** A signaling client that is open and whose pair rooms are set by the test. */
class FakeSignaling {
  readonly status = 'open';
  greeted = true;
  readonly rejoined: string[] = [];
  readonly listeners = new Map<string, (message: unknown) => void>();
  readonly rooms = new Map<string, NearbyPeer[]>();

  on(event: string, listener: (message: unknown) => void): () => void {
    this.listeners.set(event, listener);
    return () => this.listeners.delete(event);
  }
  emit(event: string, message: unknown): void {
    this.listeners.get(event)?.(message);
  }
  createPairCode(): boolean {
    return true;
  }
  rejoinPair(room: string): boolean {
    this.rejoined.push(room);
    return true;
  }
  leaveRoom(room: string): void {
    this.rooms.delete(room);
  }
  /** Like the real one: the first pair room (in insertion order) that holds the peer. */
  pairRoomOf(peerId: string): string | null {
    for (const [room, peers] of this.rooms) if (peers.some((p) => p.id === peerId)) return room;
    return null;
  }
  /** Peers of this network (no device id there), found first, as by the real one. */
  network: NearbyPeer[] = [];
  device = { id: 'device-a', name: 'Quiet Owl' };
  peer(id: string): NearbyPeer | undefined {
    return this.network.find((p) => p.id === id) ?? [...this.rooms.values()].flat().find((p) => p.id === id);
  }
  pairRoomPeers(room: string): readonly NearbyPeer[] {
    return this.rooms.get(room) ?? [];
  }
}

const laptop: NearbyPeer = { id: 'peer-b', name: 'Amber Badger', deviceName: 'Laptop', deviceId: 'device-b' };

describe('Pairings.authFor', () => {
  it('pairing again with a remembered device uses the new pairing (code MAC and the people), not the old secret', async () => {
    const signaling = new FakeSignaling();
    const pairings = new Pairings(signaling as unknown as SignalingClient);
    pairings.start();
    await vi.waitFor(() => expect(pairings.remembered).toHaveLength(1));
    signaling.rooms.set(remembered.room, [laptop]);

    pairings.create();
    signaling.emit('pair-code', { type: 'pair-code', code: '123456', expiresAt: Date.now() + 60_000 });
    signaling.rooms.set('pair:new', [laptop]);
    signaling.emit('paired', { type: 'paired', room: 'pair:new', roomToken: 'N'.repeat(43), peers: [laptop] });
    expect(pairings.pending?.room).toBe('pair:new');

    const plan = pairings.authFor(laptop.id);
    expect(plan.compare).toBe(true);
    expect(plan.pairing?.room).toBe('pair:new');
    pairings.dispose();
  });
});

describe('Pairings on one network', () => {
  it('keeps the device id the pair room carries, not the network entry’s (none), so the device is known again', async () => {
    const signaling = new FakeSignaling();
    const pairings = new Pairings(signaling as unknown as SignalingClient);
    pairings.start();
    await vi.waitFor(() => expect(pairings.remembered).toHaveLength(1));
    signaling.network = [{ ...laptop, deviceId: null }];
    pairings.create();
    signaling.emit('pair-code', { type: 'pair-code', code: '123456', expiresAt: Date.now() + 60_000 });
    signaling.rooms.set('pair:new', [laptop]);
    signaling.emit('paired', { type: 'paired', room: 'pair:new', roomToken: 'N'.repeat(43), peers: [laptop] });
    expect(pairings.pending?.peer.deviceId).toBe('device-b');
    pairings.dispose();
  });

  it('learns a missing device id and a new name from the pair room, never from this device’s own other tab', async () => {
    const signaling = new FakeSignaling();
    const pairings = new Pairings(signaling as unknown as SignalingClient);
    pairings.start();
    await vi.waitFor(() => expect(pairings.remembered).toHaveLength(1));
    const old = pairings.remembered[0] as Pairing;
    Object.assign(old, { deviceId: '' });
    const ownTab: NearbyPeer = { id: 'peer-a2', name: 'Quiet Owl', deviceName: 'Quiet Owl', deviceId: 'device-a' };
    signaling.emit('pair-peer', { room: old.room, peer: ownTab });
    expect(pairings.remembered[0]).toMatchObject({ deviceId: '', name: 'Laptop' });
    signaling.emit('pair-peer', { room: old.room, peer: { ...laptop, name: 'Desk' } });
    expect(pairings.remembered[0]).toMatchObject({ deviceId: 'device-b', name: 'Desk' });
    // Someone else with the room's token is not taken for the paired device.
    signaling.emit('pair-peer', { room: old.room, peer: { ...laptop, name: 'Intruder', deviceId: 'device-c' } });
    expect(pairings.remembered[0]).toMatchObject({ deviceId: 'device-b', name: 'Desk' });
    pairings.dispose();
  });
});

describe('Pairings rejoin', () => {
  it('rejoins remembered rooms only once the server knows this device (hello), so their mailbox is handed over', async () => {
    const signaling = new FakeSignaling();
    signaling.greeted = false;
    const pairings = new Pairings(signaling as unknown as SignalingClient);
    pairings.start();
    await vi.waitFor(() => expect(pairings.remembered).toHaveLength(1));
    expect(signaling.rejoined).toEqual([]);

    signaling.greeted = true;
    signaling.emit('hello', { deviceId: 'device-a' });
    expect(signaling.rejoined).toEqual([remembered.room]);
    pairings.dispose();
  });

  it('rejoins at once when hello was said before the pairings were read', async () => {
    const signaling = new FakeSignaling();
    const pairings = new Pairings(signaling as unknown as SignalingClient);
    pairings.start();
    await vi.waitFor(() => expect(signaling.rejoined).toEqual([remembered.room]));
    pairings.dispose();
  });
});
