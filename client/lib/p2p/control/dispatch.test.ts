/**
 * The control table and its dispatcher between two devices: every type of frames.ts has a
 * handler, nothing but authentication is read before the handshake verified (real
 * Handshakes over in-memory links), and each handler reaches what it should: the real
 * SenderSession for the recipient's answers, the receivers for a cancel and a resume, the
 * pairing, the texts, a refusal for a share link's messages on a device link.
 */
import { describe, expect, it } from 'vitest';
import { FerryError } from '../../../../shared/errors.ts';
import {
  type ControlMessage,
  type ControlMessageOf,
  controlMessageSchema,
  parseControlMessage,
} from '../../../../shared/p2p/frames.ts';
import { Handshake, type HandshakePlan } from '../../../../shared/p2p/handshake.ts';
import { SenderSession } from '../../../../shared/p2p/sender-session.ts';
import { flush, MemoryChannel, planOf } from '../../../../shared/p2p/session-test-kit.ts';
import type { ControlConnection, ControlContext, ControlReceiver } from './context.ts';
import { dispatchControl, HANDSHAKE_TYPES } from './dispatch.ts';
import { CONTROL_HANDLERS, type ControlHandlers } from './index.ts';

const hex = (byte: string) => Array.from({ length: 32 }, () => byte).join(':');
const sdp = (byte: string) => `v=0\r\na=fingerprint:sha-256 ${hex(byte)}\r\n`;
const TRANSFER = 'A'.repeat(22);
const OTHER = 'B'.repeat(22);

/** An in-memory link whose control messages go through the other device's dispatcher. */
class TestLink extends MemoryChannel {
  override readonly descriptions: { local: string; remote: string };
  constructor(initiator: boolean, local: string, remote: string) {
    super(initiator);
    this.descriptions = { local, remote };
  }
}

/** The connection as Nearby's Connection shows it: a link and a real Handshake. */
function connectionOf(link: TestLink, handshake: Handshake): ControlConnection<TestLink> {
  return {
    link,
    get code() {
      return handshake.code;
    },
    get vouched() {
      return handshake.vouched;
    },
    verified: handshake.verified,
    onAuth: (mac) => handshake.onAuth(mac),
    onCode: (message) => handshake.onCode(message),
    vouch: () => handshake.vouch(),
  };
}

/** A receiving transfer as the handlers see it; keeps what it was told. */
class Receiver implements ControlReceiver<TestLink> {
  readonly heard: ControlMessage[] = [];
  readonly resumedOn: TestLink[] = [];
  constructor(
    readonly id: string,
    readonly peerId: string,
    readonly active = true,
    readonly resumeFails: FerryError | null = null,
  ) {}
  onControl(message: ControlMessage): void {
    this.heard.push(message);
  }
  async resumeOn(link: TestLink): Promise<void> {
    this.resumedOn.push(link);
    if (this.resumeFails) throw this.resumeFails;
  }
}

/** One device's side of a connection: the context the handlers act on, recording what they did. */
class Device {
  readonly refused: unknown[] = [];
  readonly dropped: unknown[] = [];
  readonly texts: string[] = [];
  readonly offers: { transfer: string; code: string | null }[] = [];
  readonly pairingSteps: string[] = [];
  readonly receivers: Receiver[] = [];
  sender: SenderSession | undefined;
  resumingTransfer: string | undefined;
  readonly context: ControlContext<TestLink>;

  constructor(peerId: string, connection: ControlConnection<TestLink>) {
    this.context = {
      peerId,
      connection,
      refuse: (error) => this.refused.push(error),
      drop: (error) => this.dropped.push(error),
      pairing: (message) => this.pairingSteps.push(message.type),
      outgoing: () => this.sender,
      incoming: () => this.receivers,
      offered: (message, code) => this.offers.push({ transfer: message.transfer, code }),
      resuming: () => this.resumingTransfer,
      text: (text) => this.texts.push(text),
    };
  }
}

/** Two devices connected over in-memory links, each message handed to the other's dispatcher. */
function pair(plan: () => HandshakePlan, answererSdp = sdp('BB')) {
  const offererLink = new TestLink(true, sdp('AA'), answererSdp);
  const answererLink = new TestLink(false, answererSdp, sdp('AA'));
  // A refusal here is only recorded (Nearby would close the link): the waits end sooner.
  const offererShake = new Handshake(offererLink, plan(), { timeoutMs: 1000 });
  const answererShake = new Handshake(answererLink, plan(), { timeoutMs: 1000 });
  const offerer = new Device('answerer-peer', connectionOf(offererLink, offererShake));
  const answerer = new Device('offerer-peer', connectionOf(answererLink, answererShake));
  offererLink.deliverControl = (message) => dispatchControl(answerer.context, message);
  answererLink.deliverControl = (message) => dispatchControl(offerer.context, message);
  const connect = () => {
    const connects = [offererShake.onConnect(), answererShake.onConnect()];
    for (const c of connects) c.catch(() => {});
    return Promise.allSettled(connects);
  };
  return { offerer, answerer, offererLink, answererLink, offererShake, answererShake, connect };
}

const macMode = () => ({ secret: Promise.resolve(new Uint8Array(32).fill(7)), compare: false });
const offerOf = (transfer: string): ControlMessageOf<'offer'> => ({
  type: 'offer',
  transfer,
  secret: 'S'.repeat(22),
  manifest: 'sealed',
});

describe('CONTROL_HANDLERS', () => {
  it('has one handler for every control message type of frames.ts, and no other', () => {
    const types = controlMessageSchema.options.map((option) => option.shape.type.value).sort();
    expect(Object.keys(CONTROL_HANDLERS).sort()).toEqual(types);
    expect(types).toHaveLength(17);
    for (const type of types) expect(typeof CONTROL_HANDLERS[type]).toBe('function');
  });

  it('a table missing a type does not compile', () => {
    const { text: _, ...rest } = CONTROL_HANDLERS;
    // @ts-expect-error `text` has no handler: the check (tsc) fails if this compiles.
    const partial: ControlHandlers = rest;
    expect(Object.keys(partial)).not.toContain('text');
  });

  it('only the handshake messages are read before the other side proved itself', () => {
    expect([...HANDSHAKE_TYPES].sort()).toEqual(['auth', 'code-commit', 'code-nonce']);
  });
});

describe('dispatchControl', () => {
  it('MAC mode: messages that arrive before the MAC verified are read after it, in order', async () => {
    const { offerer, answerer, offererLink, connect } = pair(macMode);
    // Sent before either side's MAC: the recipient holds them until the offerer's MAC verified.
    offererLink.sendControl({ type: 'text', text: 'one' });
    offererLink.sendControl({ type: 'text', text: 'two' });
    await flush();
    expect(answerer.texts).toEqual([]);
    await connect();
    await flush();
    expect(answerer.texts).toEqual(['one', 'two']);
    expect(offerer.refused).toEqual([]);
    expect(answerer.refused).toEqual([]);
  });

  it('a MAC keyed with another secret is refused and nothing sent before it is ever read', async () => {
    let n = 0;
    const { answerer, offererLink, connect } = pair(() => ({
      secret: Promise.resolve(new Uint8Array(32).fill(n++)),
      compare: false,
    }));
    offererLink.sendControl({ type: 'text', text: 'forged' });
    offererLink.sendControl(offerOf(TRANSFER));
    await connect();
    await flush();
    expect(answerer.refused).toHaveLength(1);
    expect(answerer.refused[0]).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(answerer.texts).toEqual([]);
    expect(answerer.offers).toEqual([]);
  });

  it('code mode: an offer shows the code until this person vouched for it on the connection; a repeat is ignored', async () => {
    const { answerer, answererShake, offererLink, offererShake, connect } = pair(() => ({
      secret: null,
      compare: true,
    }));
    await connect();
    await flush();
    expect(answererShake.code).toMatch(/^\d{6}$/);
    expect(offererShake.code).toBe(answererShake.code);
    offererLink.sendControl(offerOf(TRANSFER));
    await flush();
    expect(answerer.offers).toEqual([{ transfer: TRANSFER, code: answererShake.code }]);
    // The person accepted it (the code was shown): later offers over this connection do not ask again.
    answererShake.vouch();
    answerer.receivers.push(new Receiver(TRANSFER, 'offerer-peer'));
    offererLink.sendControl(offerOf(TRANSFER));
    offererLink.sendControl(offerOf(OTHER));
    await flush();
    expect(answerer.offers).toEqual([
      { transfer: TRANSFER, code: answererShake.code },
      { transfer: OTHER, code: null },
    ]);
  });

  it('a code step out of turn is refused with the handshake’s sentence', async () => {
    const { offerer, connect, answererLink } = pair(() => ({ secret: null, compare: true }));
    await connect();
    await flush();
    // The answerer never sends a commitment: the offerer made it.
    answererLink.sendControl({ type: 'code-commit', commit: 'C'.repeat(43) });
    await flush();
    expect(offerer.refused).toHaveLength(1);
    expect(offerer.refused[0]).toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('the recipient’s answers reach the real SenderSession: a decline settles it, no record leaves', async () => {
    const { offerer, offererLink, answererLink, connect } = pair(macMode);
    await connect();
    const { plan } = await planOf([200_000]);
    const session = new SenderSession({ ...plan, transfer: TRANSFER });
    offerer.sender = session;
    const outcome = session.run(offererLink, Promise.resolve());
    await flush();
    expect(offererLink.controls.filter((m) => m.type === 'offer')).toHaveLength(1);
    // An answer about another transfer changes nothing; this one's decline ends it.
    answererLink.sendControl({ type: 'answer', transfer: OTHER, accept: true });
    await flush();
    expect(session.state).toBe('offered');
    answererLink.sendControl({ type: 'answer', transfer: TRANSFER, accept: false });
    expect(await outcome).toEqual({ state: 'declined' });
    expect(offererLink.frames).toHaveLength(0);
  });

  it('answer, ack and complete drive a whole transfer through the table', async () => {
    const { offerer, offererLink, answererLink, connect } = pair(macMode);
    await connect();
    const { plan } = await planOf([200_000, 70_000]);
    const session = new SenderSession({ ...plan, transfer: TRANSFER });
    offerer.sender = session;
    const outcome = session.run(offererLink, Promise.resolve());
    await flush();
    answererLink.sendControl({ type: 'answer', transfer: TRANSFER, accept: true });
    await flush(50);
    const records = offererLink.records();
    expect(records.map((r) => `${r.file}:${r.record}`)).toEqual(['0:0', '0:1', '0:2', '0:3', '1:0', '1:1']);
    answererLink.sendControl({ type: 'ack', transfer: TRANSFER, file: 0, verified: 4 });
    answererLink.sendControl({ type: 'ack', transfer: TRANSFER, file: 1, verified: 2 });
    answererLink.sendControl({ type: 'complete', transfer: TRANSFER });
    expect(await outcome).toEqual({ state: 'done' });
    expect(session.verified).toBe(270_000);
  });

  it('a cancel reaches the sending transfer and every transfer received from that device, not another’s', async () => {
    const { offerer, answererLink, offererLink, connect } = pair(macMode);
    await connect();
    const { plan } = await planOf([1000]);
    const session = new SenderSession({ ...plan, transfer: TRANSFER });
    offerer.sender = session;
    const outcome = session.run(offererLink, Promise.resolve());
    const fromThem = new Receiver(OTHER, 'answerer-peer');
    const fromElsewhere = new Receiver(OTHER, 'someone-else');
    offerer.receivers.push(fromThem, fromElsewhere);
    const cancel = { type: 'cancel', transfer: TRANSFER, code: 'ABORTED', message: 'Stopped there.' } as const;
    answererLink.sendControl(cancel);
    const ended = await outcome;
    expect(ended.state).toBe('failed');
    expect(ended.state === 'failed' && ended.error).toMatchObject({ code: 'ABORTED', message: 'Stopped there.' });
    expect(fromThem.heard).toEqual([cancel]);
    expect(fromElsewhere.heard).toEqual([]);
  });

  it('resume: read only on a connection keyed for that transfer, and a resume that fails closes the link', async () => {
    const { answerer, answererLink, offererLink, connect } = pair(macMode);
    await connect();
    const waiting = new Receiver(TRANSFER, 'offerer-peer');
    const broken = new FerryError('NETWORK_ERROR', 'gone');
    const failing = new Receiver(OTHER, 'offerer-peer', true, broken);
    answerer.receivers.push(waiting, failing);
    // A connection made for nothing in particular: a resume is ignored.
    offererLink.sendControl({ type: 'resume', transfer: TRANSFER });
    await flush();
    expect(waiting.resumedOn).toEqual([]);
    answerer.resumingTransfer = TRANSFER;
    offererLink.sendControl({ type: 'resume', transfer: TRANSFER });
    await flush();
    expect(waiting.resumedOn).toEqual([answererLink]);
    answerer.resumingTransfer = OTHER;
    offererLink.sendControl({ type: 'resume', transfer: OTHER });
    await flush();
    expect(answerer.dropped).toEqual([broken]);
  });

  it('pairing steps go to the pairing; a text is kept as sent', async () => {
    const { answerer, offererLink, connect } = pair(macMode);
    await connect();
    offererLink.sendControl({ type: 'pair-secret', secret: 'P'.repeat(43) });
    offererLink.sendControl({ type: 'pair-saved' });
    offererLink.sendControl({ type: 'text', text: '<b>not markup</b>' });
    await flush();
    expect(answerer.pairingSteps).toEqual(['pair-secret', 'pair-saved']);
    expect(answerer.texts).toEqual(['<b>not markup</b>']);
  });

  it.each<ControlMessage>([
    { type: 'pull', file: 0, from: 0, ticket: 'T'.repeat(43) },
    { type: 'pull-ack', file: 0, next: 1 },
    { type: 'pull-stop', file: 0 },
    { type: 'pull-refused', file: 0, code: 'FILE_NOT_FOUND', message: 'no' },
  ])('a share link’s $type on a device link closes it with INVALID_MESSAGE naming the type', async (message) => {
    const { answerer, offererLink, connect } = pair(macMode);
    await connect();
    offererLink.sendControl(message);
    await flush();
    expect(answerer.dropped).toHaveLength(1);
    const error = answerer.dropped[0] as FerryError;
    expect(error).toBeInstanceOf(FerryError);
    expect(error.code).toBe('INVALID_MESSAGE');
    expect(error.message).toContain(`“${message.type}”`);
  });

  it('what does not parse never reaches the table: frames.ts says why (PeerLink closes the link with it)', () => {
    expect(parseControlMessage('{"type":"telepathy"}')).toMatchObject({ ok: false });
    expect(parseControlMessage('not json')).toEqual({ ok: false, error: 'not JSON' });
  });
});
