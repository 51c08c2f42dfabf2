import { createHmac } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PAIR_CODE_TTL_MS, SIGNAL_PATH, UNLISTED_QUERY } from '../../shared/signaling.ts';
import { api, createTestShare, startTestServer, type TestServer } from '../test-support.ts';
import {
  PAIR_LIMIT_WINDOW_MS,
  PAIR_WRONG_GUESSES_GLOBAL_PER_WINDOW,
  PAIR_WRONG_GUESSES_PER_WINDOW,
} from './context.ts';
import { refusedStatus, SignalClient } from './test-client.ts';

const FORWARDED = { 'X-Forwarded-For': '203.0.113.7' };
const DEVICE_A = 'device-aaaaaaaaaaaaaaaa';
const DEVICE_B = 'device-bbbbbbbbbbbbbbbb';

let open: SignalClient[] = [];
async function connect(server: TestServer, opts: Parameters<typeof SignalClient.connect>[1] = {}) {
  const client = await SignalClient.connect(server.url, opts);
  open.push(client);
  return client;
}
afterEach(async () => {
  for (const client of open) client.ws.terminate();
  await Promise.all(open.map((client) => client.closed));
  open = [];
});

/** Waits until the server has seen every connection close. */
async function drained(server: TestServer): Promise<void> {
  for (let i = 0; i < 100 && server.signaling.connections > 0; i++) await new Promise((r) => setTimeout(r, 10));
  expect(server.signaling.connections).toBe(0);
}

/** Pairs two clients by code; returns the `paired` each got. */
async function pair(a: SignalClient, b: SignalClient) {
  a.send({ type: 'pair-create' });
  const { code } = await a.next('pair-code');
  b.send({ type: 'pair-join', code });
  return { a: await a.next('paired'), b: await b.next('paired') };
}

describe('signaling with a trusted proxy at 127.0.0.1', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      trustedProxies: ['127.0.0.1', '::1'],
      ice: {
        stunUrls: ['stun:stun.example.org:3478'],
        turnUrls: ['turn:turn.example.org:3478?transport=udp'],
        turnSecret: 's3cret',
        turnTtlS: 600,
        transportPolicy: 'relay',
      },
    });
  });
  afterAll(() => server.stop());

  it('puts peers of one address in one network room, and a forwarded client in another', async () => {
    const a = await connect(server);
    expect((await a.next('room')).peers).toEqual([]);
    const b = await connect(server);
    const seen = await b.next('room');
    expect(seen.kind).toBe('network');
    expect(seen.room).toBe(a.welcome.network);
    expect(seen.peers).toEqual([{ id: a.id, name: a.welcome.name, deviceName: null }]);
    expect((await a.next('peer-joined')).peer.id).toBe(b.id);

    const c = await connect(server, { headers: FORWARDED });
    expect(c.welcome.network).not.toBe(a.welcome.network);
    expect((await c.next('room')).peers).toEqual([]);
    const d = await connect(server, { headers: FORWARDED });
    expect((await d.next('room')).peers.map((p) => p.id)).toEqual([c.id]);
    await expect(a.next('peer-joined', (m) => m.peer.id === c.id, 200)).rejects.toThrow();

    b.send({ type: 'hello', deviceName: 'Work laptop', deviceId: DEVICE_B });
    const updated = await a.next('peer-updated');
    // The name the device keeps replaces the generated one: it is called the same on every visit.
    expect(updated.peer).toEqual({ id: b.id, name: 'Work laptop', deviceName: 'Work laptop' });
    // The frame version a page reads reaches the others; a page that does not say has none.
    b.send({ type: 'hello', deviceName: 'Work laptop', deviceId: DEVICE_B, frames: 2 });
    expect((await a.next('peer-updated')).peer).toEqual({
      id: b.id,
      name: 'Work laptop',
      deviceName: 'Work laptop',
      frames: 2,
    });
    // A rename is one more hello; a hello without a name falls back to the generated one.
    b.send({ type: 'hello', deviceName: 'Desk', deviceId: DEVICE_B, frames: 2 });
    expect((await a.next('peer-updated')).peer).toMatchObject({ name: 'Desk', deviceName: 'Desk' });
    b.send({ type: 'hello', deviceId: DEVICE_B, frames: 2 });
    expect((await a.next('peer-updated')).peer).toMatchObject({ name: b.welcome.name, deviceName: null });
    b.close();
    expect(await a.next('peer-left')).toMatchObject({ room: a.welcome.network, peerId: b.id });
  });

  it('pairs two networks by code; both learn the room and each other’s device id', async () => {
    const a = await connect(server);
    const c = await connect(server, { headers: FORWARDED });
    a.send({ type: 'hello', deviceName: 'Phone', deviceId: DEVICE_A });
    c.send({ type: 'hello', deviceId: DEVICE_B });
    const paired = await pair(a, c);
    expect(paired.a.room).toBe(paired.b.room);
    expect(paired.a.roomToken).toBe(paired.b.roomToken);
    expect(paired.a.peers).toEqual([{ id: c.id, name: c.welcome.name, deviceName: null, deviceId: DEVICE_B }]);
    expect(paired.b.peers).toEqual([{ id: a.id, name: 'Phone', deviceName: 'Phone', deviceId: DEVICE_A }]);

    // Relay now works across the two networks, through the pair room only.
    c.send({ type: 'relay', to: a.id, kind: 'pair-auth', data: { mac: 'x' } });
    expect(await a.next('relay')).toEqual({ type: 'relay', from: c.id, kind: 'pair-auth', data: { mac: 'x' } });

    // Later, new connections rejoin the pair room with the token.
    a.close();
    expect(await c.next('peer-left', (m) => m.room === paired.a.room)).toMatchObject({ peerId: a.id });
    const a2 = await connect(server);
    a2.send({ type: 'hello', deviceId: DEVICE_A });
    a2.send({ type: 'pair-rejoin', room: paired.a.room, roomToken: paired.a.roomToken });
    const room = await a2.next('room', (m) => m.kind === 'pair');
    expect(room.peers).toEqual([{ id: c.id, name: c.welcome.name, deviceName: null, deviceId: DEVICE_B }]);
    expect((await c.next('peer-joined', (m) => m.room === room.room)).peer.deviceId).toBe(DEVICE_A);

    const stranger = await connect(server);
    stranger.send({ type: 'pair-rejoin', room: paired.a.room, roomToken: 'A'.repeat(43) });
    expect(await stranger.next('error')).toMatchObject({ code: 'UNAUTHORIZED', of: 'pair-rejoin' });
    c.send({ type: 'leave', room: room.room });
    expect(await a2.next('peer-left', (m) => m.room === room.room)).toMatchObject({ peerId: c.id });
    c.send({ type: 'leave', room: c.welcome.network });
    expect(await c.next('error')).toMatchObject({ code: 'BAD_REQUEST', of: 'leave' });
  });

  it('refuses wrong, used, own and expired codes', async () => {
    const a = await connect(server);
    const b = await connect(server, { headers: { 'X-Forwarded-For': '198.51.100.20' } });
    a.send({ type: 'pair-create' });
    const { code, expiresAt } = await a.next('pair-code');
    expect(expiresAt).toBe(server.clock.now + PAIR_CODE_TTL_MS);
    a.send({ type: 'pair-join', code });
    expect(await a.next('error')).toMatchObject({ code: 'BAD_REQUEST', of: 'pair-join' });
    const wrong = code === '000000' ? '000001' : '000000';
    b.send({ type: 'pair-join', code: wrong });
    expect(await b.next('error')).toMatchObject({ code: 'PAIR_CODE_INVALID' });

    b.send({ type: 'pair-join', code });
    await b.next('paired');
    const late = await connect(server, { headers: { 'X-Forwarded-For': '198.51.100.21' } });
    late.send({ type: 'pair-join', code });
    expect(await late.next('error')).toMatchObject({ code: 'PAIR_CODE_INVALID' });

    a.send({ type: 'pair-create' });
    const second = await a.next('pair-code');
    server.clock.advance(PAIR_CODE_TTL_MS);
    late.send({ type: 'pair-join', code: second.code });
    expect(await late.next('error')).toMatchObject({ code: 'PAIR_CODE_INVALID' });
  });

  it('limits wrong guesses per network, even before a right code', async () => {
    const a = await connect(server);
    a.send({ type: 'pair-create' });
    const { code } = await a.next('pair-code');
    const guesser = await connect(server, { headers: { 'X-Forwarded-For': '198.51.100.99' } });
    const wrong = code === '999999' ? '999998' : '999999';
    for (let i = 0; i < PAIR_WRONG_GUESSES_PER_WINDOW; i++) {
      guesser.send({ type: 'pair-join', code: wrong });
      expect(await guesser.next('error')).toMatchObject({ code: 'PAIR_CODE_INVALID' });
    }
    guesser.send({ type: 'pair-join', code });
    expect(await guesser.next('error')).toMatchObject({ code: 'RATE_LIMITED', of: 'pair-join' });
    // Another connection from the same network shares the budget.
    const again = await connect(server, { headers: { 'X-Forwarded-For': '198.51.100.99' } });
    again.send({ type: 'pair-join', code });
    expect(await again.next('error')).toMatchObject({ code: 'RATE_LIMITED' });
    // The code was not spent; another network can still use it.
    const friend = await connect(server, { headers: { 'X-Forwarded-For': '198.51.100.100' } });
    friend.send({ type: 'pair-join', code });
    await friend.next('paired');
    // The budget refills with time.
    server.clock.advance(10 * 60 * 1000);
    again.send({ type: 'pair-join', code: wrong });
    expect(await again.next('error')).toMatchObject({ code: 'PAIR_CODE_INVALID' });
  });

  it('limits wrong guesses across all networks, so many networks cannot sweep the codes', async () => {
    server.clock.advance(PAIR_LIMIT_WINDOW_MS); // earlier tests' wrong guesses have refilled
    const a = await connect(server);
    a.send({ type: 'pair-create' });
    const { code } = await a.next('pair-code');
    const wrong = code === '999999' ? '999998' : '999999';
    // Each IPv6 /64 is its own network with its own budget; together they meet the global one.
    const network = (i: number) => ({ headers: { 'X-Forwarded-For': `2001:db8:0:${i.toString(16)}::1` } });
    const networks = Math.ceil(PAIR_WRONG_GUESSES_GLOBAL_PER_WINDOW / PAIR_WRONG_GUESSES_PER_WINDOW);
    let guesses = 0;
    for (let i = 0; i < networks; i++) {
      const guesser = await connect(server, network(i));
      for (let j = 0; j < PAIR_WRONG_GUESSES_PER_WINDOW && guesses < PAIR_WRONG_GUESSES_GLOBAL_PER_WINDOW; j++) {
        guesser.send({ type: 'pair-join', code: wrong });
        expect(await guesser.next('error')).toMatchObject({ code: 'PAIR_CODE_INVALID' });
        guesses++;
      }
      guesser.close();
    }
    // A network that has not guessed yet is refused too, before its code is looked at.
    const fresh = await connect(server, network(networks));
    fresh.send({ type: 'pair-join', code });
    expect(await fresh.next('error')).toMatchObject({ code: 'RATE_LIMITED', of: 'pair-join' });
    // The budget refills with time (the code has expired by then: a new one).
    server.clock.advance(PAIR_LIMIT_WINDOW_MS);
    a.send({ type: 'pair-create' });
    fresh.send({ type: 'pair-join', code: (await a.next('pair-code')).code });
    await fresh.next('paired');
  });

  it('limits pairing codes created per network', async () => {
    const a = await connect(server, { headers: { 'X-Forwarded-For': '198.51.100.50' } });
    const codes = new Set<string>();
    for (let i = 0; i < 10; i++) {
      a.send({ type: 'pair-create' });
      codes.add((await a.next('pair-code')).code);
    }
    expect(codes.size).toBe(10);
    a.send({ type: 'pair-create' });
    expect(await a.next('error')).toMatchObject({ code: 'RATE_LIMITED', of: 'pair-create' });
  });

  it('lets the sender and readers of a live share meet in its room', async () => {
    const share = await createTestShare(server.url, [{ size: 100 }]);
    const owner = await connect(server, { headers: FORWARDED });
    owner.send({ type: 'share-join', shareId: share.id, role: 'owner', token: share.ownerToken });
    expect(await owner.next('room', (m) => m.kind === 'share')).toMatchObject({ room: `share:${share.id}`, peers: [] });

    const reader = await connect(server);
    reader.send({ type: 'share-join', shareId: share.id, role: 'reader', token: share.readerToken });
    const room = await reader.next('room', (m) => m.kind === 'share');
    expect(room.peers).toEqual([{ id: owner.id, name: owner.welcome.name, deviceName: null, role: 'owner' }]);
    expect((await owner.next('peer-joined', (m) => m.room === room.room)).peer).toMatchObject({
      id: reader.id,
      role: 'reader',
    });
    owner.send({ type: 'relay', to: reader.id, kind: 'share-signal', data: { type: 'offer' } });
    expect(await reader.next('relay')).toMatchObject({ from: owner.id, kind: 'share-signal' });

    const intruder = await connect(server);
    intruder.send({
      type: 'share-join',
      shareId: share.id,
      role: 'reader',
      token: share.ownerToken.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')),
    });
    expect(await intruder.next('error')).toMatchObject({ code: 'UNAUTHORIZED', of: 'share-join' });
    intruder.send({ type: 'share-join', shareId: share.id, role: 'owner', token: share.readerToken });
    expect(await intruder.next('error')).toMatchObject({ code: 'UNAUTHORIZED' });
    intruder.send({ type: 'share-join', shareId: 'AAAAAAAAAAAAAAAA', role: 'reader', token: share.readerToken });
    expect(await intruder.next('error')).toMatchObject({ code: 'SHARE_NOT_FOUND' });
    intruder.send({ type: 'relay', to: owner.id, kind: 'signal', data: {} });
    expect(await intruder.next('error')).toMatchObject({ code: 'PEER_NOT_REACHABLE', of: 'relay' });

    await api(server.url, 'DELETE', `/api/shares/${share.id}`, { token: share.ownerToken });
    intruder.send({ type: 'share-join', shareId: share.id, role: 'reader', token: share.readerToken });
    expect(await intruder.next('error')).toMatchObject({ code: 'SHARE_REVOKED' });
  });

  it('keeps an unlisted connection (a page pulling a share) out of its network room, and it still meets the share’s owner', async () => {
    const share = await createTestShare(server.url, [{ size: 100 }]);
    const owner = await connect(server);
    expect((await owner.next('room')).kind).toBe('network');
    const reader = await connect(server, { path: `${SIGNAL_PATH}?${UNLISTED_QUERY}` });
    expect(reader.welcome.network).toBe(owner.welcome.network);
    // Same address, so the same network; but nobody there hears of it, and it hears of nobody.
    await expect(owner.next('peer-joined', () => true, 300)).rejects.toThrow();
    await expect(reader.next('room', () => true, 300)).rejects.toThrow();
    const listed = await connect(server);
    expect((await listed.next('room')).peers.map((p) => p.id)).toEqual([owner.id]);

    owner.send({ type: 'share-join', shareId: share.id, role: 'owner', token: share.ownerToken });
    await owner.next('room', (m) => m.kind === 'share');
    reader.send({ type: 'share-join', shareId: share.id, role: 'reader', token: share.readerToken });
    expect((await reader.next('room', (m) => m.kind === 'share')).peers.map((p) => p.id)).toEqual([owner.id]);
    reader.send({ type: 'relay', to: listed.id, kind: 'signal', data: {} });
    expect(await reader.next('error')).toMatchObject({ code: 'PEER_NOT_REACHABLE', of: 'relay' });
  });

  it('relays only between peers in a common room', async () => {
    const a = await connect(server);
    const b = await connect(server);
    const far = await connect(server, { headers: { 'X-Forwarded-For': '192.0.2.44' } });
    a.send({ type: 'relay', to: b.id, kind: 'signal', data: { type: 'offer', sdp: 'v=0\r\n' } });
    expect(await b.next('relay')).toEqual({
      type: 'relay',
      from: a.id,
      kind: 'signal',
      data: { type: 'offer', sdp: 'v=0\r\n' },
    });
    a.send({ type: 'relay', to: far.id, kind: 'signal', data: {} });
    expect(await a.next('error')).toMatchObject({ code: 'PEER_NOT_REACHABLE' });
    far.send({ type: 'relay', to: a.id, kind: 'signal', data: {} });
    expect(await far.next('error')).toMatchObject({ code: 'PEER_NOT_REACHABLE' });
    a.send({ type: 'relay', to: a.id, kind: 'signal', data: {} });
    expect(await a.next('error')).toMatchObject({ code: 'PEER_NOT_REACHABLE' });
    b.close();
    await a.next('peer-left');
    a.send({ type: 'relay', to: b.id, kind: 'signal', data: {} });
    expect(await a.next('error')).toMatchObject({ code: 'PEER_NOT_REACHABLE' });
    expect(far.inbox.filter((m) => m.type === 'relay')).toEqual([]);
  });

  it('hands out TURN credentials in coturn’s shared-secret scheme', async () => {
    const a = await connect(server);
    const { iceServers, expiresAt, iceTransportPolicy } = a.welcome.ice;
    expect(iceTransportPolicy).toBe('relay');
    const expiry = Math.floor(server.clock.now / 1000) + 600;
    expect(expiresAt).toBe(expiry * 1000);
    expect(iceServers[0]).toEqual({ urls: ['stun:stun.example.org:3478'] });
    const turn = iceServers[1]!;
    expect(turn.urls).toEqual(['turn:turn.example.org:3478?transport=udp']);
    expect(turn.username).toBe(`${expiry}:${a.id}`);
    expect(turn.credential).toBe(createHmac('sha1', 's3cret').update(turn.username!).digest('base64'));

    const answer = await api(server.url, 'GET', '/api/ice');
    expect(answer.status).toBe(200);
    expect((answer.json as { iceTransportPolicy?: string }).iceTransportPolicy).toBe('relay');
    const fresh = (answer.json as { iceServers: Array<{ username?: string; credential?: string }> }).iceServers[1]!;
    expect(fresh.username).toMatch(new RegExp(`^${expiry}:[A-Za-z0-9_-]{12}$`));
    expect(fresh.credential).toBe(createHmac('sha1', 's3cret').update(fresh.username!).digest('base64'));
    expect(answer.headers.get('cache-control')).toBe('no-store');
  });

  it('answers ping with pong, and other upgrade paths and foreign origins with an HTTP error', async () => {
    const a = await connect(server);
    a.send({ type: 'ping' });
    await a.next('pong');
    expect(await refusedStatus(server.url, '/files/')).toBe(404);
    expect(await refusedStatus(server.url, '/signal/x')).toBe(404);
    expect(await refusedStatus(server.url, '/signal', { Origin: 'https://evil.example' })).toBe(403);
    const host = new URL(server.url).host;
    const same = await connect(server, { headers: { Origin: `http://${host}` } });
    expect(same.welcome.peerId).toMatch(/^[A-Za-z0-9_-]{16}$/);
  });
});

describe('signaling without trusted proxies', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      signaling: { heartbeatMs: 150, maxConnectionsPerIp: 4, messageBurst: 100, messagesPerSecond: 50 },
    });
  });
  afterAll(() => server.stop());

  it('ignores X-Forwarded-For from an untrusted socket', async () => {
    const a = await connect(server);
    const b = await connect(server, { headers: FORWARDED });
    expect(b.welcome.network).toBe(a.welcome.network);
    expect((await b.next('room')).peers.map((p) => p.id)).toEqual([a.id]);
    expect(b.welcome.ice).toEqual({ iceServers: [], iceTransportPolicy: 'all', expiresAt: null });
  });

  it('closes a peer that stops answering pings, and its room hears it leave', async () => {
    const alive = await connect(server);
    const dead = await connect(server, { autoPong: false });
    await alive.next('peer-joined', (m) => m.peer.id === dead.id);
    const started = Date.now();
    expect((await dead.closed).code).toBe(1006);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await alive.next('peer-left', (m) => m.peerId === dead.id)).toBeTruthy();
    // A peer that answers pings stays.
    alive.send({ type: 'ping' });
    await alive.next('pong');
    expect(alive.ws.readyState).toBe(alive.ws.OPEN);
  });

  it('caps connections per client network', async () => {
    await drained(server);
    for (let i = 0; i < 4; i++) await connect(server);
    expect(await refusedStatus(server.url, '/signal')).toBe(429);
    open.pop()!.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await connect(server);
  });
});
