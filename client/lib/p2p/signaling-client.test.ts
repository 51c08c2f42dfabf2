/**
 * The page's SignalingClient against a real Ferry server (`ws` as the browser's WebSocket):
 * it says hello once welcomed, sees its network room, leaves a box in a pair room's mailbox
 * and takes it back, and when its connection is lost it rejects the requests waiting for an
 * answer, says everyone left, and connects again.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, type TestServer } from '../../../server/test-support.ts';
import { FerryError } from '../../../shared/errors.ts';
import { memoryDevice, nextEvent, signalUrl, until, useNodeWebSocket } from './signaling-test-kit.ts';

vi.hoisted(() => {
  const identity = <T>(value: T): T => value;
  (globalThis as Record<string, unknown>).$state = Object.assign(identity, { raw: identity });
});

const { SignalingClient } = await import('./signaling.svelte.ts');

const DEVICE_A = 'device-aaaaaaaaaaaaaaaa';
const DEVICE_B = 'device-bbbbbbbbbbbbbbbb';
const BOX = { kind: 'offer', transfer: 'T'.repeat(22), box: 'sealed' };

describe('SignalingClient over a real /signal', () => {
  let server: TestServer;
  let open: InstanceType<typeof SignalingClient>[] = [];
  let sockets: import('ws').WebSocket[] = [];
  beforeAll(async () => {
    sockets = useNodeWebSocket();
    server = await startTestServer();
  });
  afterAll(async () => {
    vi.unstubAllGlobals();
    await server.stop();
  });
  afterEach(() => {
    for (const client of open) client.stop();
    open = [];
  });

  /** A started client for device `id`, once it said hello. */
  async function device(id: string, name: string) {
    const client = new SignalingClient(signalUrl(server.url), memoryDevice({ id, name }));
    open.push(client);
    socketOf.set(client, sockets.length);
    client.start();
    await until(() => client.status === 'open' && client.greeted, `${name} to say hello`);
    return client;
  }

  /** Which of `sockets` each client opened first. */
  const socketOf = new WeakMap<object, number>();

  /** A and B paired by code through the server: the room's id, and its token. */
  async function paired() {
    const a = await device(DEVICE_A, 'Desk');
    const b = await device(DEVICE_B, 'Laptop');
    const code = nextEvent(a, 'pair-code');
    a.createPairCode();
    const bPaired = nextEvent(b, 'paired');
    const aPaired = nextEvent(a, 'paired');
    b.joinPair((await code).code);
    const { room, roomToken } = await bPaired;
    await aPaired;
    return { a, b, room, roomToken };
  }

  it('says hello once welcomed and sees the other device of its network, by name', async () => {
    const a = await device(DEVICE_A, 'Desk');
    const b = await device(DEVICE_B, 'Laptop');
    await until(() => a.peers.some((p) => p.deviceName === 'Laptop'), 'A to see Laptop');
    expect(a.self?.peerId).toMatch(/\S/);
    const peer = a.peers.find((p) => p.deviceName === 'Laptop');
    expect(peer?.id).toBe(b.self?.peerId);
    expect(a.peer(peer?.id ?? '')).toEqual(peer);

    await b.rename('Work laptop');
    await until(() => a.peers.some((p) => p.deviceName === 'Work laptop'), 'A to see the new name');
  });

  it('puts both devices in a pair room with their device ids, and hands a box over at once when the other is there', async () => {
    const { a, b, room } = await paired();
    expect(a.pairRoomPeers(room).map((p) => p.deviceId)).toEqual([DEVICE_B]);
    expect(a.pairRoomOf(b.self?.peerId ?? '')).toBe(room);
    const box = nextEvent(b, 'mailbox');
    expect(await a.mailboxPut(room, DEVICE_B, BOX, Date.now() + 60_000)).toBeNull();
    expect(await box).toEqual({ type: 'mailbox', room, items: [{ from: DEVICE_A, data: BOX }] });
  });

  it('keeps a box for a device that is away under an id, takes it back once, and answers false the second time', async () => {
    const { a, b, room } = await paired();
    b.stop();
    await nextEvent(a, 'peer-left').catch(() => undefined);
    await until(() => a.pairRoomPeers(room).length === 0, 'B to leave the pair room');
    const id = await a.mailboxPut(room, DEVICE_B, BOX, Date.now() + 60_000);
    expect(id).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(await a.mailboxWithdraw(room, id ?? '')).toBe(true);
    expect(await a.mailboxWithdraw(room, id ?? '')).toBe(false);
  });

  it("refuses a mailbox request with the server's code, and the next one is still answered", async () => {
    const { a, room } = await paired();
    const refused = await a.mailboxPut(room, DEVICE_A, BOX, Date.now() + 60_000).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(FerryError);
    expect((refused as FerryError).code).toMatch(/^[A-Z_]+$/);
    expect(await a.mailboxPut(room, DEVICE_B, BOX, Date.now() + 60_000)).toBeNull();
  });

  it('on a lost connection rejects the waiting requests, says everyone left, and connects again', async () => {
    const { a, b, room } = await paired();
    const bPeer = b.self?.peerId ?? '';
    await until(() => a.peer(bPeer) !== undefined, 'A to see B');
    const left = nextEvent(a, 'peer-left', (e) => e.peerId === bPeer);
    const welcomed = nextEvent(a, 'welcome', () => true, 10_000);
    // A's network goes: its socket is cut while its request waits for the answer.
    const waiting = a.mailboxPut(room, DEVICE_B, BOX, Date.now() + 60_000).catch((error: unknown) => error);
    sockets[socketOf.get(a) ?? -1]?.terminate();
    const lost = await waiting;
    expect(lost).toBeInstanceOf(FerryError);
    expect((lost as FerryError).code).toBe('NETWORK_ERROR');
    expect((lost as FerryError).message).toBe('The connection to the server was lost.');
    await left;
    expect(a.peers).toEqual([]);
    expect(a.pairRoomPeers(room)).toEqual([]);
    await welcomed;
    await until(() => a.status === 'open' && a.greeted, 'A to be back and say hello');
  });

  it('once stopped is not welcomed any more, and started again says hello on a new connection', async () => {
    const a = await device(DEVICE_A, 'Desk');
    const first = a.self?.peerId;
    a.stop();
    expect(a.status).toBe('offline');
    expect(a.self).toBeNull();
    expect(a.greeted).toBe(false);
    expect(a.relay(first ?? '', 'signal', {})).toBe(false);
    a.start();
    await until(() => a.status === 'open' && a.greeted, 'A to be welcomed again');
    expect(a.self?.peerId).not.toBe(first);
  });

  it('rejects a request at once while not connected', async () => {
    const client = new SignalingClient(signalUrl(server.url), memoryDevice({ id: DEVICE_A, name: 'Desk' }));
    const refused = await client.mailboxPut('pair:x', DEVICE_B, BOX, 1).catch((error: unknown) => error);
    expect((refused as FerryError).code).toBe('NETWORK_ERROR');
    expect(client.relay('someone', 'signal', {})).toBe(false);
  });
});
