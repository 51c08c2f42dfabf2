import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SignalClient as TestPeer } from '../../server/signaling/test-client.ts';
import { startTestServer, type TestServer } from '../../server/test-support.ts';
import { FerryError } from '../../shared/errors.ts';
import type { ServerMessage } from '../../shared/signaling.ts';
import { HeldSignals } from './held-signals.ts';
import { SignalClient } from './signal-client.ts';

/** What a WebRTC stack (werift, measured) sends as a pairing's creator: two candidates, then its offer, within ~15 ms. */
const BURST = [
  {
    type: 'candidate',
    candidate: { candidate: 'candidate:1 1 udp 2116026367 192.0.2.2 33753 typ host', sdpMLineIndex: 0, sdpMid: '0' },
  },
  {
    type: 'candidate',
    candidate: { candidate: 'candidate:2 1 udp 2116026367 fd00::2 54411 typ host', sdpMLineIndex: 0, sdpMid: '0' },
  },
  { type: 'offer', sdp: 'v=0\r\n' },
];

describe('HeldSignals against the real signaling server', () => {
  let server: TestServer;
  const open: { close(): void }[] = [];
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterEach(() => {
    for (const client of open.splice(0)) client.close();
  });
  afterAll(() => server.stop());

  /** A creator (a raw test peer) and a joiner (the command's client, holding from the start), paired. */
  async function paired() {
    const creator = await TestPeer.connect(server.url);
    open.push({ close: () => creator.ws.terminate() });
    const joiner = await SignalClient.connect(
      server.url,
      { id: 'device-joiner-00000000', name: 'Joiner' },
      { listed: false },
    );
    open.push(joiner);
    const held = new HeldSignals(joiner);
    const joined = joiner.next('paired', { timeoutMs: 3000 });
    creator.send({ type: 'pair-create' });
    joiner.send({ type: 'pair-join', code: (await creator.next('pair-code')).code });
    await creator.next('paired');
    await joined;
    return { creator, joiner, held, creatorId: creator.welcome.peerId, joinerId: joiner.self.peerId };
  }

  it('keeps a burst of candidates and an offer read in one go, which a listener added after the first one misses', async () => {
    const { creator, joiner, held, creatorId, joinerId } = await paired();
    for (const data of BURST) creator.send({ type: 'relay', to: joinerId, kind: 'signal', data });

    // The way `ferry pair` answered before: wait for the first signal, then listen.
    await joiner.next('relay', { accept: (m) => m.kind === 'signal' });
    const afterwards: ServerMessage[] = [];
    joiner.on((message) => afterwards.push(message));

    const from = await held.offer({ accept: (peerId) => peerId === creatorId, timeoutMs: 3000 });
    expect(from).toBe(creatorId);
    expect(held.take(from)).toEqual(BURST);
    // The two frames behind the first came in the same read: a late listener never saw them.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(afterwards).toEqual([]);
  });

  it('answers an offer kept before it was asked for, and only from an accepted peer', async () => {
    const { creator, held, creatorId, joinerId } = await paired();
    for (const data of BURST) creator.send({ type: 'relay', to: joinerId, kind: 'signal', data });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const late = new FerryError('NETWORK_ERROR', 'No offer from an accepted peer.');
    await expect(held.offer({ accept: () => false, timeoutMs: 100, late })).rejects.toBe(late);
    expect(await held.offer({ accept: (peerId) => peerId === creatorId })).toBe(creatorId);
    expect(held.take(creatorId)).toEqual(BURST);
    expect(held.take('somebody-else')).toEqual([]);
  });
});
