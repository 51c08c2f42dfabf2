/**
 * Fuzzing /signal: thousands of malformed frames from several connections. Every one must
 * be answered with an error from the catalogue (never a crash, never silence), floods must
 * end in close 1008, oversize frames in 1009, invalid UTF-8 in 1007 — and afterwards a fresh
 * client must still connect and discover a peer.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isErrorCode } from '../../shared/errors.ts';
import { CLOSE_CODES, MAX_SIGNAL_MESSAGE_BYTES, RELAY_KINDS } from '../../shared/signaling.ts';
import { startTestServer, type TestServer } from '../test-support.ts';
import { FLOOD_STRIKES } from './server.ts';
import { SignalClient } from './test-client.ts';

const CONNECTIONS = 5;
const MESSAGES_PER_CONNECTION = 1000;

/** A deterministic PRNG (mulberry32), so a failure can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One frame the server must refuse with an error (never a valid, reachable message). */
function badFrame(random: () => number): { frame: string | Buffer; binary: boolean } {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const nobody = randomBytes(12).toString('base64url');
  const valid = [
    { type: 'hello', deviceName: 'Desk', deviceId: 'device-0123456789abcdef' },
    { type: 'pair-join', code: '123456' },
    { type: 'relay', to: nobody, kind: 'signal', data: { sdp: 'v=0' } },
    { type: 'share-join', shareId: 'AAAAAAAAAAAAAAAA', role: 'reader', token: 'a'.repeat(43) },
  ];
  const wrongTypes: unknown[] = [
    null,
    42,
    'ping',
    [],
    [{ type: 'ping' }],
    {},
    { type: 42 },
    { type: 'PING' },
    { type: 'launch-missiles' },
    { type: 'ping', extra: true },
    { type: 'hello', deviceName: { toString: 'x' } },
    { type: 'hello', deviceName: 'a\u0007b' },
    { type: 'hello', deviceId: '../../etc/passwd' },
    { type: 'hello', frames: pick([0, 256, 2.5, '2', -1, null]) },
    { type: 'pair-join', code: 123456 },
    { type: 'pair-join', code: '12345a' },
    { type: 'relay', to: nobody, kind: pick(['exec', '', 'SIGNAL']), data: {} },
    { type: 'relay', to: 12, kind: pick(RELAY_KINDS), data: {} },
    { type: 'relay', to: nobody, kind: 'signal', data: pick([null, 'sdp', 7, [1, 2]]) },
    { type: 'share-join', shareId: '../x', role: 'admin', token: '' },
    { type: 'leave', room: 'network:AAAAAAAAAAAAAAAAAAAAAA' },
    { type: 'pair-rejoin', room: 'pair:AAAAAAAAAAAAAAAA', roomToken: 'b'.repeat(43) },
    { __proto__: { type: 'ping' } },
    JSON.parse('{"type":"ping","__proto__":{"admin":true}}'),
  ];
  switch (Math.floor(random() * 8)) {
    case 0:
      return { frame: randomBytes(1 + Math.floor(random() * 512)), binary: true };
    case 1: {
      const text = JSON.stringify(pick(valid));
      return { frame: text.slice(0, Math.floor(random() * (text.length - 1))), binary: false };
    }
    case 2:
      return { frame: JSON.stringify(pick(wrongTypes)), binary: false };
    case 3: {
      // Huge strings just under the frame limit.
      const size = MAX_SIGNAL_MESSAGE_BYTES - 200 - Math.floor(random() * 1000);
      const huge = pick([
        { type: 'hello', deviceName: 'x'.repeat(size) },
        { type: 'relay', to: nobody, kind: 'signal', data: { sdp: 'y'.repeat(size) } },
        { type: 'x'.repeat(size) },
      ]);
      return { frame: JSON.stringify(huge), binary: false };
    }
    case 4:
      return { frame: `${'['.repeat(2000)}${']'.repeat(pick([0, 2000]))}`, binary: false };
    case 5:
      return {
        frame: randomBytes(64)
          .toString('latin1')
          .replace(/[\ud800-\udfff]/g, ''),
        binary: false,
      };
    case 6:
      // Valid messages that must still be refused: nobody to reach, no such code or share.
      return { frame: JSON.stringify(pick(valid.slice(1))), binary: false };
    default:
      return { frame: pick(['', ' ', '{}', '"', 'true', '{"type":}', '\u0000', '{"type":"relay"}']), binary: false };
  }
}

describe('signaling fuzz', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      // A bucket large enough that the fuzzers are never throttled; the flood test below
      // runs on a second server with the default limits.
      signaling: { heartbeatMs: 25_000, maxConnectionsPerIp: 50, messageBurst: 100_000, messagesPerSecond: 100_000 },
    });
  });
  afterAll(() => server.stop());

  it(`answers ${CONNECTIONS * MESSAGES_PER_CONNECTION} malformed frames each with an error, and keeps serving`, async () => {
    const clients = await Promise.all(Array.from({ length: CONNECTIONS }, () => SignalClient.connect(server.url)));
    const errors = new Map<SignalClient, number>(clients.map((c) => [c, 0]));
    const done = clients.map(
      (client) =>
        new Promise<void>((resolve, reject) => {
          client.ws.on('message', (data) => {
            const message = JSON.parse(String(data)) as { type: string; code?: string };
            if (message.type !== 'error') return;
            if (!isErrorCode(message.code)) reject(new Error(`not a catalogue code: ${String(data)}`));
            const n = errors.get(client)! + 1;
            errors.set(client, n);
            if (n === MESSAGES_PER_CONNECTION) resolve();
          });
          client.ws.once('close', (code) => reject(new Error(`fuzzed connection closed with ${code}`)));
        }),
    );
    for (const [i, client] of clients.entries()) {
      const random = prng(0xf022 + i);
      for (let n = 0; n < MESSAGES_PER_CONNECTION; n++) {
        const { frame, binary } = badFrame(random);
        client.ws.send(frame, { binary });
      }
    }
    await Promise.all(done);
    for (const client of clients) {
      expect(errors.get(client)).toBe(MESSAGES_PER_CONNECTION);
      expect(client.garbage).toEqual([]);
      expect(client.inbox.filter((m) => m.type === 'relay' || m.type === 'paired')).toEqual([]);
      client.ws.terminate();
    }

    const fresh = await SignalClient.connect(server.url);
    const other = await SignalClient.connect(server.url);
    expect((await other.next('room')).peers.map((p) => p.id)).toContain(fresh.id);
    fresh.send({ type: 'relay', to: other.id, kind: 'signal', data: { ok: true } });
    expect(await other.next('relay')).toMatchObject({ from: fresh.id, data: { ok: true } });
    fresh.ws.terminate();
    other.ws.terminate();
  });

  it('closes a frame over the limit with 1009 and invalid UTF-8 with 1007, and stays up', async () => {
    const big = await SignalClient.connect(server.url);
    big.send({ type: 'hello', deviceName: 'x'.repeat(MAX_SIGNAL_MESSAGE_BYTES) });
    expect((await big.closed).code).toBe(CLOSE_CODES.MESSAGE_TOO_BIG);

    const utf = await SignalClient.connect(server.url);
    utf.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect((await utf.closed).code).toBe(CLOSE_CODES.INVALID_DATA);

    const after = await SignalClient.connect(server.url);
    after.send({ type: 'ping' });
    await after.next('pong');
    after.ws.terminate();
  });
});

describe('signaling flood limit', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it('answers RATE_LIMITED past the burst, then closes with 1008; other peers are unaffected', async () => {
    const { messageBurst } = server.config.signaling;
    const calm = await SignalClient.connect(server.url);
    const flood = await SignalClient.connect(server.url);
    let pongs = 0;
    let limited = 0;
    const refusedOf = new Set<string | undefined>();
    flood.ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string; code?: string; of?: string };
      if (message.type === 'pong') pongs++;
      if (message.type === 'error' && message.code === 'RATE_LIMITED') {
        limited++;
        refusedOf.add(message.of);
      }
    });
    for (let i = 0; i < messageBurst * 3; i++) flood.send({ type: 'ping' });
    const { code } = await flood.closed;
    expect(code).toBe(CLOSE_CODES.POLICY_VIOLATION);
    expect(pongs).toBeGreaterThanOrEqual(messageBurst);
    expect(pongs).toBeLessThan(messageBurst + 10);
    expect(limited).toBeGreaterThan(0);
    expect(limited).toBeLessThanOrEqual(FLOOD_STRIKES);
    // Each refusal names the refused message, so a page waiting for its answer hears why.
    expect([...refusedOf]).toEqual(['ping']);

    expect(await calm.next('peer-left', (m) => m.peerId === flood.id)).toBeTruthy();
    calm.send({ type: 'ping' });
    await calm.next('pong');
    calm.ws.terminate();
  });
});
