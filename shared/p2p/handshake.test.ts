/**
 * The order a Handshake enforces: what has to hold before anything but authentication
 * is read, and how the verification code's exchange treats messages out of turn. Two
 * handshakes talk through in-memory channels that hand control messages over as the app's
 * nearby.svelte.ts does (`auth` → onAuth, `code-*` → onCode).
 */
import { describe, expect, it } from 'vitest';
import { toBase64Url } from '../encoding.ts';
import { deriveMacKey } from '../keys.ts';
import { CODE_NONCE_BYTES, codeCommitment, fingerprintMac } from './auth.ts';
import type { ControlMessage } from './frames.ts';
import { Handshake, type HandshakePlan } from './handshake.ts';

const hex = (byte: string) => Array.from({ length: 32 }, () => byte).join(':');
const sdp = (byte: string) => `v=0\r\na=fingerprint:sha-256 ${hex(byte)}\r\n`;

/** The parts of a PeerChannel a Handshake uses; everything sent is kept. */
class FakeLink {
  readonly sent: ControlMessage[] = [];
  readonly initiator: boolean;
  readonly descriptions: { local: string; remote: string };
  deliver: (message: ControlMessage) => void = () => {};

  constructor(initiator: boolean, local: string, remote: string) {
    this.initiator = initiator;
    this.descriptions = { local, remote };
  }

  sendControl(message: ControlMessage): void {
    this.sent.push(message);
    queueMicrotask(() => this.deliver(message));
  }
}

function route(connection: Handshake, message: ControlMessage): void {
  if (message.type === 'auth') connection.onAuth(message.mac).catch((error) => connection.fail(error));
  else if (message.type === 'code-commit' || message.type === 'code-nonce') {
    connection.onCode(message).catch((error) => connection.fail(error));
  }
}

/** Two connected ends (offerer, answerer) with the same plan, their channel open. */
function connectedPair(plan: () => HandshakePlan, answererSdp = sdp('BB'), options = {}) {
  const offererLink = new FakeLink(true, sdp('AA'), answererSdp);
  const answererLink = new FakeLink(false, answererSdp, sdp('AA'));
  const offerer = new Handshake(offererLink, plan(), options);
  const answerer = new Handshake(answererLink, plan(), options);
  offererLink.deliver = (message) => route(answerer, message);
  answererLink.deliver = (message) => route(offerer, message);
  const connects = [offerer.onConnect(), answerer.onConnect()];
  for (const connect of connects) connect.catch(() => {});
  return { offerer, answerer, offererLink, answererLink, connects };
}

/** Whether `promise` has settled once everything queued so far has run. */
async function settled(promise: Promise<unknown>): Promise<'resolved' | 'rejected' | 'pending'> {
  let state: 'resolved' | 'rejected' | 'pending' = 'pending';
  promise.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  );
  for (let i = 0; i < 50; i++) await new Promise((resolve) => setTimeout(resolve, 0));
  return state;
}

const codeSecret = () => Promise.resolve(new Uint8Array(32).fill(9));

describe('Handshake', () => {
  it('nearby (code only): both ends show the same code and read on once it exists', async () => {
    const { offerer, answerer, connects } = connectedPair(() => ({ secret: null, compare: true }));
    await Promise.all(connects);
    await Promise.all([offerer.verified, answerer.verified]);
    expect(offerer.code).toMatch(/^\d{6}$/);
    expect(answerer.code).toBe(offerer.code);
    expect(await settled(offerer.confirmed)).toBe('pending');
    offerer.confirm();
    await offerer.confirmed;
  });

  it("a pairing's first connection reads nothing else before this side's person confirmed the code", async () => {
    // The server issued the code, so a man in the middle can send valid code-keyed MACs:
    // an offer or a text read before the people compared would come from anyone.
    const { offerer, answerer, connects } = connectedPair(() => ({
      secret: codeSecret(),
      compare: true,
    }));
    await Promise.all(connects);
    expect(answerer.code).toMatch(/^\d{6}$/);
    expect(await settled(answerer.verified)).toBe('pending');
    expect(await settled(offerer.verified)).toBe('pending');
    answerer.confirm();
    await answerer.verified;
    await answerer.confirmed;
    expect(await settled(offerer.verified)).toBe('pending');
  });

  it('a confirmation given before the code exists is not taken as the people having compared it', async () => {
    const { offerer, connects } = connectedPair(() => ({ secret: null, compare: true }));
    offerer.confirm();
    await Promise.all(connects);
    expect(offerer.code).toMatch(/^\d{6}$/);
    expect(await settled(offerer.confirmed)).toBe('pending');
    offerer.confirm();
    await offerer.confirmed;
  });

  it('the offerer reveals its nonce once and refuses a second nonce sent before its code exists', async () => {
    const link = new FakeLink(true, sdp('AA'), sdp('CC'));
    const offerer = new Handshake(link, { secret: null, compare: true });
    void offerer.onConnect().catch(() => {});
    await offerer.opened;
    const nonce = (fill: number) => toBase64Url(new Uint8Array(CODE_NONCE_BYTES).fill(fill));
    const first = offerer.onCode({ type: 'code-nonce', nonce: nonce(1) });
    const second = offerer.onCode({ type: 'code-nonce', nonce: nonce(2) });
    await expect(second).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await first.catch(() => {});
    expect(link.sent.filter((m) => m.type === 'code-nonce')).toHaveLength(1);
  });

  it('the answerer refuses a second commitment and a nonce that does not open the first', async () => {
    const link = new FakeLink(false, sdp('BB'), sdp('CC'));
    const answerer = new Handshake(link, { secret: null, compare: true });
    void answerer.onConnect().catch(() => {});
    const committed = new Uint8Array(CODE_NONCE_BYTES).fill(3);
    await answerer.onCode({ type: 'code-commit', commit: await codeCommitment(committed) });
    await expect(
      answerer.onCode({ type: 'code-nonce', nonce: toBase64Url(new Uint8Array(CODE_NONCE_BYTES).fill(4)) }),
    ).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect(await settled(answerer.verified)).toBe('rejected');
    expect(answerer.code).toBeNull();
  });

  it("a wrong MAC that arrives before this side's connect is refused only after this side's own MAC left", async () => {
    // simple-peer hands data on before its `connect`: a man in the middle's relayed MAC can be
    // there first. Refusing at once would close the link before our MAC went out, and the
    // other device would only time out instead of seeing that the keys differed.
    const link = new FakeLink(false, sdp('BB'), sdp('EE'));
    const answerer = new Handshake(link, {
      secret: codeSecret(),
      compare: false,
    });
    const forged = await fingerprintMac(await deriveMacKey(await codeSecret()), sdp('AA'), sdp('DD'), 'offerer');
    const refused = answerer.onAuth(forged);
    refused.catch(() => {});
    expect(await settled(refused)).toBe('pending');
    expect(link.sent).toHaveLength(0);
    void answerer.onConnect().catch(() => {});
    await expect(refused).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect(link.sent.map((m) => m.type)).toEqual(['auth']);
  });

  it('MAC mode: both ends verify at once with no code, and read on', async () => {
    const { offerer, answerer, offererLink, answererLink, connects } = connectedPair(() => ({
      secret: codeSecret(),
      compare: false,
    }));
    await Promise.all(connects);
    await Promise.all([offerer.verified, answerer.verified, offerer.confirmed, answerer.confirmed]);
    expect(offerer.code).toBeNull();
    expect(offererLink.sent.map((m) => m.type)).toEqual(['auth']);
    expect(answererLink.sent.map((m) => m.type)).toEqual(['auth']);
  });

  it('MAC mode: a different secret on the other end is refused on both ends', async () => {
    let n = 0;
    const { offerer, answerer, connects } = connectedPair(() => ({
      secret: Promise.resolve(new Uint8Array(32).fill(n++ === 0 ? 1 : 2)),
      compare: false,
    }));
    await Promise.all(connects.map((connect) => expect(connect).rejects.toMatchObject({ code: 'UNAUTHORIZED' })));
    expect(await settled(offerer.verified)).toBe('rejected');
    expect(await settled(answerer.verified)).toBe('rejected');
  });

  it('MAC mode: ends that saw different fingerprints (a man in the middle) refuse each other', async () => {
    // Each end's remote SDP is what the server handed it: the offerer sees BB, the answerer
    // sees a certificate of the server's own, so the transcripts differ.
    const offererLink = new FakeLink(true, sdp('AA'), sdp('BB'));
    const answererLink = new FakeLink(false, sdp('BB'), sdp('EE'));
    const offerer = new Handshake(offererLink, { secret: codeSecret(), compare: false });
    const answerer = new Handshake(answererLink, { secret: codeSecret(), compare: false });
    offererLink.deliver = (message) => route(answerer, message);
    answererLink.deliver = (message) => route(offerer, message);
    // Both assertions attach at once: the second end may refuse while the first is awaited,
    // and a rejection with no handler yet is an unhandled rejection (vitest fails the run).
    await Promise.all([
      expect(offerer.onConnect()).rejects.toThrow('someone may be in between'),
      expect(answerer.onConnect()).rejects.toThrow('someone may be in between'),
    ]);
  });

  it('times out when the other side never proves itself, and says so', async () => {
    const link = new FakeLink(true, sdp('AA'), sdp('BB'));
    const lonely = new Handshake(link, { secret: codeSecret(), compare: false }, { timeoutMs: 30 });
    await expect(lonely.onConnect()).rejects.toThrow('did not complete the verification in time');
    expect(link.sent.map((m) => m.type)).toEqual(['auth']);
  });

  it('fail() rejects every promise still waiting, with its error, once', async () => {
    const link = new FakeLink(true, sdp('AA'), sdp('BB'));
    const handshake = new Handshake(link, { secret: null, compare: true });
    const error = Object.assign(new Error('gone'), { code: 'NETWORK_ERROR' });
    handshake.fail(error as never);
    handshake.fail(new Error('second') as never);
    for (const promise of [handshake.verified, handshake.confirmed, handshake.opened, handshake.lost]) {
      await expect(promise).rejects.toBe(error);
    }
  });

  it('refuses code messages in MAC mode alone and a commitment sent to the offerer', async () => {
    const macOnly = new Handshake(new FakeLink(false, sdp('BB'), sdp('AA')), { secret: codeSecret(), compare: false });
    void macOnly.onConnect().catch(() => {});
    await expect(macOnly.onCode({ type: 'code-commit', commit: 'x' })).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    const offerer = new Handshake(new FakeLink(true, sdp('AA'), sdp('BB')), { secret: null, compare: true });
    void offerer.onConnect().catch(() => {});
    await expect(offerer.onCode({ type: 'code-commit', commit: 'x' })).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect(await settled(offerer.verified)).toBe('rejected');
  });

  it('tells onChange when the code appears and when the person vouched, and vouches only with a code', async () => {
    let changes = 0;
    const { offerer, answerer, connects } = connectedPair(() => ({ secret: null, compare: true }), sdp('BB'), {
      onChange: () => changes++,
    });
    answerer.vouch();
    expect(answerer.vouched).toBe(false);
    await Promise.all(connects);
    expect(changes).toBe(2);
    answerer.vouch();
    answerer.vouch();
    expect(answerer.vouched).toBe(true);
    expect(changes).toBe(3);
    offerer.confirm();
    expect(offerer.vouched).toBe(true);
    expect(changes).toBe(4);
  });
});
