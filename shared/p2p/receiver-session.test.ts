import { describe, expect, it } from 'vitest';
import { FerryError } from '../errors.ts';
import { sealManifest } from '../manifest.ts';
import { recordCount } from '../records.ts';
import { type ControlMessage, decodeFrame, encodeRecordFrame } from './frames.ts';
import { Machine, transitions } from './machine.ts';
import {
  ACK_EVERY_BYTES,
  RECEIVER_TRANSITIONS,
  type ReceiverEvent,
  type ReceiverHooks,
  type ReceiverOutcome,
  ReceiverSession,
  type ReceiverState,
} from './receiver-session.ts';
import { channelPair, MemoryRelay, MemoryStore, offerOf } from './receiver-test-kit.ts';
import { SenderSession, type SenderState } from './sender-session.ts';
import { flush, MemoryChannel } from './session-test-kit.ts';
import { VerifyingSink } from './verifying-sink.ts';

const KiB = 1024;
const T = 'T'.repeat(22);
const gone = () => new FerryError('NETWORK_ERROR', 'gone');

type Made = Awaited<ReturnType<typeof offerOf>>;

/** A receiver alone on `channel` (null: an offer through the server), storing into memory. */
function receiverOf(made: Made, channel: MemoryChannel | null, hooks: ReceiverHooks = {}) {
  const store = new MemoryStore();
  const settles: ReceiverOutcome[] = [];
  const states: ReceiverState[] = [];
  const verdicts: string[] = [];
  const receiver = new ReceiverSession(made.offer, channel, (events) => new VerifyingSink(store, events), {
    onSettle: (outcome) => settles.push(outcome),
    onState: (state) => states.push(state),
    onFile: (file, failure) => void verdicts.push(`${file}:${failure?.code ?? 'ok'}`),
    ...hooks,
  });
  return { receiver, store, settles, states, verdicts };
}

/** A SenderSession and a ReceiverSession joined by an in-memory channel pair, with a relay share in memory. */
async function pairOf(sizes: number[], recordSize = 64 * KiB, hooks: ReceiverHooks = {}) {
  const made = await offerOf(sizes, recordSize);
  const relay = new MemoryRelay();
  const senderStates: SenderState[] = [];
  const sender: SenderSession = new SenderSession(made.plan, {
    relay: relay.upload(made.plan.ciphers, made.plain),
    onState: (state) => senderStates.push(state),
  });
  let receiver!: ReceiverSession;
  const link = channelPair(
    () => sender,
    () => receiver,
  );
  const alone = receiverOf(made, link.toSender, { relay: relay.route(() => receiver.ciphers), ...hooks });
  receiver = alone.receiver;
  const sent = sender.run(link.toReceiver, Promise.resolve());
  await receiver.opened;
  return { ...made, ...alone, sender, sent, link, relay, senderStates };
}

/** Every file arrived whole, identical, and nothing partial is left. */
function expectIdentical(store: MemoryStore, plain: Uint8Array[]) {
  expect(store.parts.size).toBe(0);
  expect([...store.files.keys()].sort()).toEqual(plain.map((_, i) => i));
  // Compared byte by byte here: toEqual on large typed arrays takes seconds.
  for (const [i, bytes] of plain.entries()) {
    const stored = store.files.get(i)!;
    expect(stored.length).toBe(bytes.length);
    expect(stored.findIndex((byte, at) => byte !== bytes[at])).toBe(-1);
  }
}

describe('receiver transitions', () => {
  it('has no way out of a final state, and a way to cancel and fail from every other one', () => {
    for (const [state, events] of Object.entries(RECEIVER_TRANSITIONS)) {
      const final = ['done', 'declined', 'failed', 'cancelled'].includes(state);
      expect(Object.keys(events).length === 0).toBe(final);
      if (!final) expect(events).toMatchObject({ cancel: 'cancelled', fail: 'failed' });
    }
  });

  it('refuses every state and event pair that is not in the table', () => {
    const states = Object.keys(RECEIVER_TRANSITIONS) as ReceiverState[];
    const events: ReceiverEvent[] = [
      'opened',
      'accept',
      'decline',
      'lost',
      'resume',
      'relay',
      'complete',
      'cancel',
      'fail',
    ];
    const allowed = new Set(transitions(RECEIVER_TRANSITIONS).map((t) => `${t.from} ${t.event}`));
    expect(allowed.size).toBe(20);
    for (const state of states) {
      for (const event of events) {
        const machine = new Machine(RECEIVER_TRANSITIONS, state);
        if (allowed.has(`${state} ${event}`)) expect(machine.fire(event)).toBe(RECEIVER_TRANSITIONS[state][event]);
        else expect(() => machine.fire(event)).toThrow(`no transition for "${event}" in state "${state}"`);
      }
    }
  });
});

describe('SenderSession ↔ ReceiverSession', () => {
  // Records of 1 KiB: 0 bytes (one empty record), one record, exactly 5 records, 5 records and 1 byte.
  const R = 1024;
  for (const [label, sizes] of [
    ['0 bytes', [0]],
    ['1 record', [R]],
    ['exactly 5 records', [5 * R]],
    ['5 records and 1 byte', [5 * R + 1]],
    ['all four in one transfer', [0, R, 5 * R, 5 * R + 1]],
  ] as const) {
    it(`${label}: every file arrives identical and verified, both sides done`, async () => {
      const pair = await pairOf([...sizes], R);
      pair.receiver.accept();
      expect(await pair.sent).toEqual({ state: 'done' });
      await flush();
      expect(pair.settles).toEqual([{ state: 'done' }]);
      expect(pair.states).toEqual(['offered', 'receiving', 'done']);
      expectIdentical(pair.store, pair.plain);
      expect(pair.verdicts).toEqual(sizes.map((_, i) => `${i}:ok`));
      expect(pair.receiver.verified).toBe(sizes.reduce((a, b) => a + b, 0));
      // The sender heard every file verified whole, then `complete`.
      const told = pair.link.toSender.controls.map((m) => m.type);
      expect(told[0]).toBe('answer');
      expect(told.at(-1)).toBe('complete');
      expect(pair.sender.ackedRecords).toEqual(pair.plan.ciphers.map((c) => recordCount(c)));
    });
  }

  it('acknowledges every ACK_EVERY_BYTES of verified plaintext and at the end of the file', async () => {
    const pair = await pairOf([5 * 1024 * KiB + 3]);
    pair.receiver.accept();
    expect(await pair.sent).toEqual({ state: 'done' });
    const acks = pair.link.toSender.controls.flatMap((m) => (m.type === 'ack' ? [m.verified] : []));
    const count = recordCount(pair.plan.ciphers[0]!);
    expect(acks.at(-1)).toBe(count);
    for (const [i, records] of acks.slice(0, -1).entries()) {
      const previous = i === 0 ? 0 : acks[i - 1]!;
      expect((records - previous) * 64 * KiB).toBeGreaterThanOrEqual(ACK_EVERY_BYTES);
    }
    expect(acks.length).toBeGreaterThanOrEqual(2);
  });

  it('a flipped ciphertext byte fails both sides naming the file and the record, and nothing is kept', async () => {
    const pair = await pairOf([3 * KiB, 20 * KiB], 1024);
    const deliver = pair.link.toReceiver.deliverFrame;
    pair.link.toReceiver.deliverFrame = (frame) => {
      const decoded = decodeFrame(frame);
      if (decoded.ok && decoded.file === 1) {
        const record = decoded.records[2 - decoded.first];
        if (record) frame[record.byteOffset + 5]! ^= 1;
      }
      deliver(frame);
    };
    pair.receiver.accept();
    const sent = await pair.sent;
    await flush();
    expect(pair.settles).toHaveLength(1);
    const failure = pair.settles[0]!;
    expect(failure.state === 'failed' && failure.error).toMatchObject({
      code: 'RECORD_AUTH_FAILED',
      message: 'file-1: record 2 failed verification.',
    });
    expect(sent.state === 'failed' && sent.error).toMatchObject({ code: 'RECORD_AUTH_FAILED' });
    // File 0 was verified whole before; nothing of file 1 is left.
    expect(pair.store.parts.size).toBe(0);
    expect([...pair.store.files.keys()]).toEqual([0]);
    expect(pair.verdicts).toEqual(['0:ok', '1:RECORD_AUTH_FAILED']);
  });

  it('a file whose BLAKE3 differs from the manifest fails with FILE_HASH_MISMATCH, and nothing is kept', async () => {
    const made = await offerOf([10 * KiB], 1024);
    made.manifest.files[0]!.blake3 = '0'.repeat(64);
    made.plan.manifest = await sealManifest(made.manifest, made.keys.metaKey);
    made.offer.manifest = made.plan.manifest;
    const sender = new SenderSession(made.plan);
    let receiver!: ReceiverSession;
    const link = channelPair(
      () => sender,
      () => receiver,
    );
    const alone = receiverOf(made, link.toSender);
    receiver = alone.receiver;
    const sent = sender.run(link.toReceiver, Promise.resolve());
    await receiver.opened;
    receiver.accept();
    const ended = await sent;
    await flush();
    expect(alone.settles[0]).toMatchObject({
      state: 'failed',
      error: {
        code: 'FILE_HASH_MISMATCH',
        message: 'file-0 failed verification: its BLAKE3 hash does not match the sender’s.',
      },
    });
    expect(ended.state === 'failed' && ended.error.code).toBe('FILE_HASH_MISMATCH');
    expect(alone.store.files.size + alone.store.parts.size).toBe(0);
  });

  it('storage that fails (full) fails both sides with its code, and nothing is kept', async () => {
    const pair = await pairOf([300 * KiB]);
    pair.store.failWrites = new FerryError('STORAGE_FULL', 'This device has no room left for the file.');
    pair.receiver.accept();
    const sent = await pair.sent;
    await flush();
    expect(pair.settles[0]).toMatchObject({ state: 'failed', error: { code: 'STORAGE_FULL' } });
    expect(sent).toMatchObject({
      state: 'failed',
      error: { code: 'STORAGE_FULL', message: 'This device has no room left for the file.' },
    });
    expect(pair.store.files.size + pair.store.parts.size).toBe(0);
  });

  it('storage that throws something else fails with STORAGE_FAILED', async () => {
    const pair = await pairOf([100 * KiB]);
    pair.store.failWrites = new Error('QuotaExceededError');
    pair.receiver.accept();
    const sent = await pair.sent;
    expect(sent.state === 'failed' && sent.error.code).toBe('STORAGE_FAILED');
    await flush();
    expect(pair.settles[0]).toMatchObject({ state: 'failed', error: { code: 'STORAGE_FAILED' } });
  });

  /** Cuts the channel pair after `frames` frames reached the receiver; both sides hear it at once. */
  function cutAfter(pair: Awaited<ReturnType<typeof pairOf>>, frames: number) {
    let delivered = 0;
    const deliver = pair.link.toReceiver.deliverFrame;
    pair.link.toReceiver.deliverFrame = (frame) => {
      if (++delivered <= frames) {
        deliver(frame);
        return;
      }
      if (delivered !== frames + 1) return;
      pair.sender.channelLost(gone(), pair.link.toReceiver);
      pair.receiver.channelLost(gone(), pair.link.toSender);
      pair.link.cut();
    };
  }

  it('a dropped channel resumes on a new one from the first record the receiver lacks', async () => {
    const pair = await pairOf([640 * KiB, 128 * KiB]);
    cutAfter(pair, 2);
    pair.receiver.accept();
    await flush();
    expect(pair.receiver.state).toBe('reconnecting');
    expect(pair.sender.state).toBe('reconnecting');
    expect(pair.receiver.resumeSecret).toEqual(pair.plan.secret);
    const again = channelPair(
      () => pair.sender,
      () => pair.receiver,
    );
    again.toReceiver.deliverControl = (message: ControlMessage) => {
      if (message.type === 'resume') void pair.receiver.resumeOn(again.toSender);
      else pair.receiver.onControl(message);
    };
    await pair.sender.resume(again.toReceiver);
    expect(await pair.sent).toEqual({ state: 'done' });
    await flush();
    // Two frames of three records arrived before the drop: the rest starts at record 6.
    expect(again.toSender.controls[0]).toEqual({ type: 'resume-at', transfer: T, files: [6, 0] });
    expect(
      again.toReceiver
        .records()
        .slice(0, 2)
        .map((r) => `${r.file}:${r.record}`),
    ).toEqual(['0:6', '0:7']);
    expect(pair.states).toEqual(['offered', 'receiving', 'reconnecting', 'receiving', 'done']);
    expectIdentical(pair.store, pair.plain);
  });

  it('the sender switching to the relay mid-file: the rest comes from the relay share, identical', async () => {
    const pair = await pairOf([640 * KiB, 64 * KiB]);
    cutAfter(pair, 2);
    pair.receiver.accept();
    await flush();
    expect(pair.receiver.state).toBe('reconnecting');
    pair.sender.relay();
    expect(await pair.sent).toEqual({ state: 'done' });
    await flush(40);
    expect(pair.settles).toEqual([{ state: 'done' }]);
    expect(pair.states).toEqual(['offered', 'receiving', 'reconnecting', 'relaying', 'done']);
    expect(pair.senderStates).toEqual(['offered', 'sending', 'reconnecting', 'relaying', 'done']);
    expectIdentical(pair.store, pair.plain);
  });

  it('neither a resume nor the relay within the wait: fails with NETWORK_ERROR, nothing partial kept', async () => {
    const waitMs = 200;
    let lostAt = 0;
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    const pair = await pairOf([640 * KiB], 64 * KiB, {
      relayWaitMs: waitMs,
      onState: (state) => {
        if (state === 'reconnecting') lostAt = Date.now();
      },
      onSettle: () => settle(),
    });
    cutAfter(pair, 1);
    pair.receiver.accept();
    await settled;
    // Timed from the drop (a loaded machine may take longer, never less).
    expect(lostAt).toBeGreaterThan(0);
    expect(Date.now() - lostAt).toBeGreaterThanOrEqual(waitMs - 5);
    expect(pair.receiver.outcome).toEqual({
      state: 'failed',
      error: expect.objectContaining({
        code: 'NETWORK_ERROR',
        message: 'The other device did not come back, and nothing arrived through the server.',
      }),
    });
    await flush();
    expect(pair.store.parts.size + pair.store.files.size).toBe(0);
    pair.sender.cancel();
  });

  it('declined: the sender hears it, no record leaves, nothing is stored', async () => {
    const pair = await pairOf([100 * KiB]);
    pair.receiver.decline();
    expect(await pair.sent).toEqual({ state: 'declined' });
    expect(pair.settles).toEqual([{ state: 'declined' }]);
    expect(pair.link.toReceiver.frames).toHaveLength(0);
    expect(pair.link.toSender.controls).toEqual([{ type: 'answer', transfer: T, accept: false }]);
  });
});

describe('ReceiverSession', () => {
  it('an offer without hashes is refused while opening, and the sender told', async () => {
    const made = await offerOf([10], 1024, { blake3: false });
    const channel = new MemoryChannel(false);
    const { receiver, settles } = receiverOf(made, channel);
    await receiver.opened;
    expect(settles[0]).toMatchObject({ state: 'failed', error: { code: 'MANIFEST_INVALID' } });
    expect(channel.controls).toMatchObject([{ type: 'cancel', transfer: T, code: 'MANIFEST_INVALID' }]);
  });

  it('an offer that does not open (another secret sealed it) is refused with WRONG_KEY', async () => {
    const made = await offerOf([10], 1024);
    const other = await offerOf([10], 1024);
    made.offer.manifest = other.offer.manifest;
    const { receiver, settles } = receiverOf(made, new MemoryChannel(false));
    await receiver.opened;
    expect(settles[0]?.state === 'failed' && settles[0].error.code).toBe('WRONG_KEY');
  });

  /** A receiver held in `state` on a bare channel (nothing answers it). */
  async function heldIn(state: ReceiverState) {
    const made = await offerOf([300 * KiB]);
    const channel = new MemoryChannel(false);
    const relay = new MemoryRelay();
    relay.exists = state === 'relaying';
    const held = receiverOf(made, channel, { relay: relay.route(() => held.receiver.ciphers) });
    if (state !== 'opening') await held.receiver.opened;
    if (['receiving', 'reconnecting', 'relaying'].includes(state)) held.receiver.accept();
    if (state === 'reconnecting' || state === 'relaying') held.receiver.channelLost(gone(), channel);
    if (state !== 'opening') await flush();
    expect(held.receiver.state).toBe(state);
    return { ...held, channel, made };
  }

  for (const state of ['opening', 'offered', 'receiving', 'reconnecting', 'relaying'] as const) {
    it(`cancel while ${state}: cancelled once, the sender told while a channel is up`, async () => {
      const { receiver, channel, settles } = await heldIn(state);
      receiver.cancel();
      receiver.cancel();
      receiver.fail(gone());
      await flush();
      expect(settles).toEqual([{ state: 'cancelled' }]);
      expect(receiver.state).toBe('cancelled');
      const told = channel.controls.filter((m) => m.type === 'cancel');
      expect(told).toEqual(
        state === 'reconnecting' || state === 'relaying'
          ? []
          : [{ type: 'cancel', transfer: T, code: 'ABORTED', message: 'The recipient cancelled.' }],
      );
    });

    for (const code of ['ABORTED', 'TOO_LARGE', 'CONTENT_CHANGED'] as const) {
      it(`the sender's cancel (${code}) while ${state} fails it with that code and sentence, nothing kept`, async () => {
        const { receiver, store, settles, channel } = await heldIn(state);
        const sent = channel.controls.length;
        receiver.onControl({ type: 'cancel', transfer: 'U'.repeat(22), code, message: 'Not this one.' });
        expect(receiver.state).toBe(state);
        receiver.onControl({ type: 'cancel', transfer: T, code, message: `The sender stopped (${code}).` });
        await flush();
        expect(settles).toEqual([
          { state: 'failed', error: expect.objectContaining({ code, message: `The sender stopped (${code}).` }) },
        ]);
        expect(channel.controls.length).toBe(sent); // nothing sent back
        expect(store.parts.size + store.files.size).toBe(0);
      });
    }
  }

  it('a channel lost before the records fails it; one lost after every record changes nothing', async () => {
    const { receiver, settles, channel } = await heldIn('offered');
    receiver.channelLost(gone(), new MemoryChannel());
    expect(receiver.state).toBe('offered'); // another channel
    receiver.channelLost(gone(), channel);
    expect(settles).toEqual([{ state: 'failed', error: expect.objectContaining({ code: 'NETWORK_ERROR' }) }]);
    const pair = await pairOf([10 * KiB]);
    pair.receiver.accept();
    expect(await pair.sent).toEqual({ state: 'done' });
    pair.receiver.channelLost(gone(), pair.link.toSender);
    expect(pair.receiver.state).toBe('done');
    expect(pair.settles).toEqual([{ state: 'done' }]);
  });

  it('a frame while offered is ignored; one for another file, out of order, or not a frame is refused', async () => {
    const made = await offerOf([10 * KiB, 10 * KiB], 1024);
    // Well-formed frames (random bytes as the sealed record) that break the order of the transfer.
    const frameOf = (file: number, first: number) => encodeRecordFrame(file, first, new Uint8Array(1024 + 16));
    for (const [label, frame, code] of [
      ['not a frame', new Uint8Array([9, 9, 9]), 'INVALID_MESSAGE'],
      ['file 7', frameOf(7, 0), 'INVALID_MESSAGE'],
      ['record 3 first', frameOf(0, 3), 'RECORD_TRUNCATED'],
      ['file 1 before file 0 ended', frameOf(1, 0), 'RECORD_TRUNCATED'],
    ] as const) {
      const channel = new MemoryChannel(false);
      const { receiver, settles } = receiverOf(made, channel);
      await receiver.opened;
      receiver.onFrame(new Uint8Array(frame));
      expect(receiver.state, label).toBe('offered');
      receiver.accept();
      receiver.onFrame(new Uint8Array(frame));
      await flush();
      expect(settles[0], label).toMatchObject({ state: 'failed', error: { code } });
      expect(channel.controls.at(-1), label).toMatchObject({ type: 'cancel', code });
    }
  });

  it('an offer through the server (no channel): accepted, answered by reply, read from the relay from record 0', async () => {
    const made = await offerOf([200 * KiB, 0]);
    const relay = new MemoryRelay();
    const replies: boolean[] = [];
    const { receiver, store, settles, states } = receiverOf(made, null, {
      relay: relay.route(() => receiver.ciphers),
      reply: (accept) => replies.push(accept),
    });
    await receiver.opened;
    receiver.accept();
    await relay.upload(made.plan.ciphers, made.plain)([0, 0], () => {});
    await flush(40);
    expect(replies).toEqual([true]);
    expect(states).toEqual(['offered', 'relaying', 'done']);
    expect(settles).toEqual([{ state: 'done' }]);
    expectIdentical(store, made.plain);
  });

  it('an offer through the server, declined: the reply says so', async () => {
    const made = await offerOf([10]);
    const replies: boolean[] = [];
    const { receiver, settles } = receiverOf(made, null, {
      relay: new MemoryRelay().route(() => []),
      reply: (a) => replies.push(a),
    });
    await receiver.opened;
    receiver.decline();
    expect(replies).toEqual([false]);
    expect(settles).toEqual([{ state: 'declined' }]);
  });

  it('a relay that fails to read (the share was revoked) fails it with that error', async () => {
    const made = await offerOf([100 * KiB]);
    const relay = new MemoryRelay();
    relay.readFailure = new FerryError('ABORTED', 'The sender stopped the transfer.');
    const held = receiverOf(made, null, { relay: relay.route(() => held.receiver.ciphers), reply: () => {} });
    await held.receiver.opened;
    held.receiver.accept();
    await flush();
    expect(held.settles).toEqual([
      {
        state: 'failed',
        error: expect.objectContaining({ code: 'ABORTED', message: 'The sender stopped the transfer.' }),
      },
    ]);
  });

  it('a resume after everything arrived repeats resume-at and complete', async () => {
    const pair = await pairOf([100 * KiB]);
    pair.receiver.accept();
    expect(await pair.sent).toEqual({ state: 'done' });
    const late = new MemoryChannel(false);
    await pair.receiver.resumeOn(late);
    expect(late.controls).toEqual([
      { type: 'resume-at', transfer: T, files: [2] },
      { type: 'complete', transfer: T },
    ]);
  });

  it('an offer without a channel needs the relay and a reply', async () => {
    const made = await offerOf([10]);
    expect(() => new ReceiverSession(made.offer, null, () => ({}) as never)).toThrow(RangeError);
  });
});
