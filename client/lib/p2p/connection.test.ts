/**
 * The order a Connection enforces: what has to hold before anything but authentication
 * is read, and how the verification code's exchange treats messages out of turn. Two
 * Connections talk through fake links that hand control messages over as nearby.svelte.ts
 * does (`auth` → onAuth, `code-*` → onCode). Vitest does not compile runes here, so
 * `$state` is stubbed as the identity.
 */
import { describe, expect, it, vi } from 'vitest';
import { toBase64Url } from '../../../shared/encoding.ts';
import { CODE_NONCE_BYTES } from '../../../shared/p2p/auth.ts';
import type { ControlMessage } from '../../../shared/p2p/frames.ts';
import type { Connection as ConnectionClass } from './connection.svelte.ts';
import type { AuthPlan } from './pairings.svelte.ts';
import type { PeerLink } from './peer-link.ts';

vi.hoisted(() => {
  (globalThis as Record<string, unknown>).$state = <T>(value: T): T => value;
});

const { Connection } = await import('./connection.svelte.ts');

const hex = (byte: string) => Array.from({ length: 32 }, () => byte).join(':');
const sdp = (byte: string) => `v=0\r\na=fingerprint:sha-256 ${hex(byte)}\r\n`;

/** The parts of a PeerLink a Connection uses; everything sent is kept. */
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

function route(connection: ConnectionClass, message: ControlMessage): void {
  if (message.type === 'auth') connection.onAuth(message.mac).catch((error) => connection.fail(error));
  else if (message.type === 'code-commit' || message.type === 'code-nonce') {
    connection.onCode(message).catch((error) => connection.fail(error));
  }
}

/** Two connected ends (offerer, answerer) with the same plan, their channel open. */
function connectedPair(plan: () => AuthPlan) {
  const offererLink = new FakeLink(true, sdp('AA'), sdp('BB'));
  const answererLink = new FakeLink(false, sdp('BB'), sdp('AA'));
  const offerer = new Connection(offererLink as unknown as PeerLink, plan());
  const answerer = new Connection(answererLink as unknown as PeerLink, plan());
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

describe('Connection', () => {
  it('nearby (code only): both ends show the same code and read on once it exists', async () => {
    const { offerer, answerer, connects } = connectedPair(() => ({ secret: null, compare: true, pairing: null }));
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
      pairing: null,
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
    const { offerer, connects } = connectedPair(() => ({ secret: null, compare: true, pairing: null }));
    offerer.confirm();
    await Promise.all(connects);
    expect(offerer.code).toMatch(/^\d{6}$/);
    expect(await settled(offerer.confirmed)).toBe('pending');
    offerer.confirm();
    await offerer.confirmed;
  });

  it('the offerer reveals its nonce once and refuses a second nonce sent before its code exists', async () => {
    const link = new FakeLink(true, sdp('AA'), sdp('CC'));
    const offerer = new Connection(link as unknown as PeerLink, { secret: null, compare: true, pairing: null });
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
    const answerer = new Connection(link as unknown as PeerLink, { secret: null, compare: true, pairing: null });
    void answerer.onConnect().catch(() => {});
    const { codeCommitment } = await import('../../../shared/p2p/auth.ts');
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
    const answerer = new Connection(link as unknown as PeerLink, {
      secret: codeSecret(),
      compare: false,
      pairing: null,
    });
    const { fingerprintMac } = await import('../../../shared/p2p/auth.ts');
    const { deriveMacKey } = await import('../../../shared/keys.ts');
    const forged = await fingerprintMac(await deriveMacKey(await codeSecret()), sdp('AA'), sdp('DD'), 'offerer');
    const refused = answerer.onAuth(forged);
    refused.catch(() => {});
    expect(await settled(refused)).toBe('pending');
    expect(link.sent).toHaveLength(0);
    void answerer.onConnect().catch(() => {});
    await expect(refused).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect(link.sent.map((m) => m.type)).toEqual(['auth']);
  });
});
