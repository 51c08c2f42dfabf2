import { describe, expect, it } from 'vitest';
import { FerryError } from '../errors.ts';
import { decryptRecord } from '../record-aead.ts';
import { recordCount } from '../records.ts';
import type { ControlMessage } from './frames.ts';
import { Machine, transitions } from './machine.ts';
import {
  SEND_WINDOW_BYTES,
  SENDER_TRANSITIONS,
  type SenderEvent,
  type SenderOutcome,
  SenderSession,
  type SenderState,
} from './sender-session.ts';
import { flush, MemoryChannel, planOf } from './session-test-kit.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const T = 'T'.repeat(22);

/** A recipient that acknowledges every frame's records as verified (the writer's prefix count). */
function acknowledging(channel: MemoryChannel, session: SenderSession, { ack = true } = {}) {
  const verified = new Map<number, number>();
  channel.deliverFrame = () => {
    if (!ack) return;
    for (const { file, record } of channel.records().slice(-16)) {
      verified.set(file, Math.max(verified.get(file) ?? 0, record + 1));
    }
    for (const [file, count] of verified) session.onControl({ type: 'ack', transfer: T, file, verified: count });
  };
  return verified;
}

function started(session: SenderSession, channel: MemoryChannel, confirmed = Promise.resolve()) {
  const settles: SenderOutcome[] = [];
  const outcome = session.run(channel, confirmed);
  return { outcome, settles };
}

function sessionOf(plan: Awaited<ReturnType<typeof planOf>>['plan'], hooks = {}) {
  const settles: SenderOutcome[] = [];
  const states: SenderState[] = [];
  const session = new SenderSession(plan, {
    onSettle: (outcome) => settles.push(outcome),
    onState: (state) => states.push(state),
    ...hooks,
  });
  return { session, settles, states };
}

const answer = (accept: boolean): ControlMessage => ({ type: 'answer', transfer: T, accept });

describe('sender transitions', () => {
  it('has no way out of a final state, and a way to cancel and fail from every other one', () => {
    for (const [state, events] of Object.entries(SENDER_TRANSITIONS)) {
      const final = ['done', 'declined', 'failed', 'cancelled'].includes(state);
      expect(Object.keys(events).length === 0).toBe(final);
      if (!final) expect(events).toMatchObject({ cancel: 'cancelled', fail: 'failed' });
    }
  });

  it('refuses every state and event pair that is not in the table', () => {
    const states = Object.keys(SENDER_TRANSITIONS) as SenderState[];
    const events: SenderEvent[] = [
      'confirmed',
      'accepted',
      'declined',
      'completed',
      'lost',
      'resumed',
      'relay',
      'relayed',
      'cancel',
      'fail',
    ];
    const allowed = new Set(transitions(SENDER_TRANSITIONS).map((t) => `${t.from} ${t.event}`));
    for (const state of states) {
      for (const event of events) {
        const machine = new Machine(SENDER_TRANSITIONS, state);
        if (allowed.has(`${state} ${event}`)) expect(machine.fire(event)).toBe(SENDER_TRANSITIONS[state][event]);
        else expect(() => machine.fire(event)).toThrow(`no transition for "${event}" in state "${state}"`);
      }
    }
  });
});

describe('SenderSession', () => {
  it('offers once confirmed, sends every record after the answer, and is done on complete', async () => {
    const { plan, plain } = await planOf([200 * KiB, 0, 64 * KiB]);
    const { session, settles, states } = sessionOf(plan);
    const channel = new MemoryChannel();
    acknowledging(channel, session);
    let confirm!: () => void;
    const { outcome } = started(session, channel, new Promise<void>((resolve) => (confirm = resolve)));
    await flush();
    expect(session.state).toBe('confirm');
    expect(channel.controls).toEqual([]);
    confirm();
    await flush();
    expect(channel.controls).toMatchObject([{ type: 'offer', transfer: T, manifest: 'sealed-manifest' }]);
    session.onControl(answer(true));
    await flush();
    const records = channel.records();
    expect(records.map((r) => `${r.file}:${r.record}`)).toEqual(['0:0', '0:1', '0:2', '0:3', '1:0', '2:0']);
    for (const { file, record, sealed } of records) {
      const cipher = plan.ciphers[file]!;
      const opened = await decryptRecord(cipher, record, sealed);
      expect(opened).toEqual(plain[file]!.subarray(record * 64 * KiB, Math.min(cipher.size, (record + 1) * 64 * KiB)));
    }
    expect(session.verified).toBe(264 * KiB);
    expect(session.state).toBe('sending');
    session.onControl({ type: 'complete', transfer: T });
    expect(await outcome).toEqual({ state: 'done' });
    expect(settles).toEqual([{ state: 'done' }]);
    expect(states).toEqual(['offered', 'sending', 'done']);
  });

  it('declined: no record leaves', async () => {
    const { plan } = await planOf([100 * KiB]);
    const { session, settles } = sessionOf(plan);
    const channel = new MemoryChannel();
    const { outcome } = started(session, channel);
    await flush();
    session.onControl(answer(false));
    expect(await outcome).toEqual({ state: 'declined' });
    expect(channel.frames).toHaveLength(0);
    expect(settles).toHaveLength(1);
  });

  it('ignores messages about another transfer', async () => {
    const { plan } = await planOf([10]);
    const { session } = sessionOf(plan);
    void started(session, new MemoryChannel());
    await flush();
    session.onControl({ type: 'answer', transfer: 'U'.repeat(22), accept: false });
    session.onControl({ type: 'cancel', transfer: 'U'.repeat(22), code: 'ABORTED', message: 'x' });
    await flush();
    expect(session.state).toBe('offered');
    session.cancel();
  });

  for (const at of ['confirm', 'offered', 'sending', 'reconnecting', 'relaying'] as const) {
    it(`cancel while ${at}: cancelled once, the recipient told while a channel is up, every wait ends`, async () => {
      const { plan } = await planOf([600 * KiB], 64 * KiB);
      let relayStarted = false;
      const { session, settles } = sessionOf(plan, {
        relay: () => {
          relayStarted = true;
          return new Promise<void>(() => {});
        },
      });
      const channel = new MemoryChannel();
      acknowledging(channel, session, { ack: false });
      const confirmed = at === 'confirm' ? new Promise<void>(() => {}) : Promise.resolve();
      const { outcome } = started(session, channel, confirmed);
      await flush();
      if (at !== 'confirm') session.onControl(answer(true));
      await flush();
      if (at === 'reconnecting' || at === 'relaying') {
        expect(session.channelLost(new FerryError('NETWORK_ERROR', 'gone'), channel)).toBe(true);
        channel.closed = true;
      }
      if (at === 'relaying') {
        session.relay();
        await flush();
        expect(relayStarted).toBe(true);
      }
      if (at === 'offered') {
        // Still waiting for the answer.
        session.onControl({ type: 'ack', transfer: T, file: 0, verified: 0 });
      }
      expect(session.state).toBe(at === 'offered' ? 'sending' : at);
      session.cancel();
      session.cancel();
      expect(await outcome).toEqual({ state: 'cancelled' });
      expect(settles).toEqual([{ state: 'cancelled' }]);
      const told = channel.controls.some((m) => m.type === 'cancel');
      expect(told).toBe(at !== 'reconnecting' && at !== 'relaying');
    });
  }

  it('cancel before the answer leaves no record, and a late answer changes nothing', async () => {
    const { plan } = await planOf([100 * KiB]);
    const { session } = sessionOf(plan);
    const channel = new MemoryChannel();
    const { outcome } = started(session, channel);
    await flush();
    expect(session.state).toBe('offered');
    session.cancel();
    session.onControl(answer(true));
    expect(await outcome).toEqual({ state: 'cancelled' });
    await flush();
    expect(channel.frames).toHaveLength(0);
    expect(channel.controls.map((m) => m.type)).toEqual(['offer', 'cancel']);
  });

  it("the recipient's cancel fails the transfer with its code and sentence", async () => {
    const { plan } = await planOf([300 * KiB]);
    const { session } = sessionOf(plan);
    const channel = new MemoryChannel();
    const { outcome } = started(session, channel);
    await flush();
    session.onControl(answer(true));
    session.onControl({ type: 'cancel', transfer: T, code: 'STORAGE_FULL', message: 'The disk is full.' });
    const ended = await outcome;
    expect(ended.state).toBe('failed');
    expect(ended.state === 'failed' && ended.error).toMatchObject({
      code: 'STORAGE_FULL',
      message: 'The disk is full.',
    });
  });

  it('a handshake that fails before the offer fails the transfer and sends nothing', async () => {
    const { plan } = await planOf([10]);
    const { session } = sessionOf(plan);
    const channel = new MemoryChannel();
    const { outcome } = started(session, channel, Promise.reject(new FerryError('UNAUTHORIZED', 'No.')));
    const ended = await outcome;
    expect(ended.state === 'failed' && ended.error.code).toBe('UNAUTHORIZED');
    expect(channel.controls).toHaveLength(0);
  });

  it('a channel lost before the records fails the transfer; one lost while sending waits to resume', async () => {
    const { plan } = await planOf([10]);
    const early = sessionOf(plan);
    const channel = new MemoryChannel();
    const run = started(early.session, channel);
    await flush();
    expect(early.session.channelLost(new FerryError('NETWORK_ERROR', 'gone'), channel)).toBe(false);
    expect((await run.outcome).state).toBe('failed');
  });

  it('a channel that takes no whole record fails after the answer with TOO_LARGE', async () => {
    const { plan } = await planOf([10]);
    const { session } = sessionOf(plan);
    const channel = new MemoryChannel(true, 1024);
    const { outcome } = started(session, channel);
    await flush();
    session.onControl(answer(true));
    const ended = await outcome;
    expect(ended.state === 'failed' && ended.error.code).toBe('TOO_LARGE');
    expect(channel.controls.at(-1)).toMatchObject({ type: 'cancel', transfer: T, code: 'TOO_LARGE' });
  });

  it('a file that changed while being sent fails with CONTENT_CHANGED', async () => {
    const { plan } = await planOf([100 * KiB]);
    plan.sources[0] = async (start, end) => new Uint8Array(Math.max(0, end - start - 1));
    const { session } = sessionOf(plan);
    const channel = new MemoryChannel();
    const { outcome } = started(session, channel);
    await flush();
    session.onControl(answer(true));
    const ended = await outcome;
    expect(ended.state === 'failed' && ended.error.code).toBe('CONTENT_CHANGED');
    // The recipient is told why, not left to find the link closed.
    expect(channel.controls.at(-1)).toMatchObject({ type: 'cancel', transfer: T, code: 'CONTENT_CHANGED' });
  });

  it('runs at most SEND_WINDOW_BYTES beyond the acknowledgements', async () => {
    const size = SEND_WINDOW_BYTES + 8 * MiB;
    const { plan } = await planOf([size]);
    const { session } = sessionOf(plan);
    const channel = new MemoryChannel();
    const { outcome } = started(session, channel);
    await flush();
    session.onControl(answer(true));
    await flush(50);
    const sentBytes = () => channel.records().length * 64 * KiB;
    // The window is checked before each frame: at most one frame (3 records) past it.
    expect(sentBytes()).toBeGreaterThan(SEND_WINDOW_BYTES);
    expect(sentBytes()).toBeLessThanOrEqual(SEND_WINDOW_BYTES + 4 * 64 * KiB);
    const before = channel.frames.length;
    await flush(20);
    expect(channel.frames.length).toBe(before);
    session.onControl({ type: 'ack', transfer: T, file: 0, verified: recordCount(plan.ciphers[0]!) });
    await flush(50);
    expect(channel.records().at(-1)?.record).toBe(recordCount(plan.ciphers[0]!) - 1);
    session.onControl({ type: 'complete', transfer: T });
    expect(await outcome).toEqual({ state: 'done' });
  });

  it('resumes on a new channel from the record resume-at names, and only those records are sent again', async () => {
    const { plan } = await planOf([640 * KiB, 128 * KiB]);
    const { session, states } = sessionOf(plan);
    const first = new MemoryChannel();
    const { outcome } = started(session, first);
    await flush();
    session.onControl(answer(true));
    await flush();
    expect(first.records()).toHaveLength(12);
    expect(session.channelLost(new FerryError('NETWORK_ERROR', 'gone'), first)).toBe(true);
    expect(session.state).toBe('reconnecting');
    expect(session.resumeSecret).toBe(plan.secret);
    // A second report of the same loss changes nothing.
    expect(session.channelLost(new FerryError('NETWORK_ERROR', 'gone'), first)).toBe(false);
    const second = new MemoryChannel();
    second.deliverControl = (message) => {
      if (message.type === 'resume') session.onControl({ type: 'resume-at', transfer: T, files: [7, 0] });
    };
    await session.resume(second);
    await flush();
    expect(session.state).toBe('sending');
    expect(session.verified).toBe(7 * 64 * KiB);
    expect(second.controls[0]).toEqual({ type: 'resume', transfer: T });
    expect(second.records().map((r) => `${r.file}:${r.record}`)).toEqual(['0:7', '0:8', '0:9', '1:0', '1:1']);
    session.onControl({ type: 'complete', transfer: T });
    expect(await outcome).toEqual({ state: 'done' });
    expect(states).toEqual(['offered', 'sending', 'reconnecting', 'sending', 'done']);
  });

  it('a resume the recipient does not answer in time throws and keeps waiting; a wrong file count is refused', async () => {
    const { plan } = await planOf([128 * KiB]);
    const { session } = sessionOf(plan, { resumeAnswerMs: 30 });
    const first = new MemoryChannel();
    void started(session, first);
    await flush();
    session.onControl(answer(true));
    await flush();
    session.channelLost(new FerryError('NETWORK_ERROR', 'gone'), first);
    await expect(session.resume(new MemoryChannel())).rejects.toThrow('did not say how far it got');
    expect(session.state).toBe('reconnecting');
    const liar = new MemoryChannel();
    liar.deliverControl = () => session.onControl({ type: 'resume-at', transfer: T, files: [0, 0] });
    await expect(session.resume(liar)).rejects.toMatchObject({ code: 'INVALID_MESSAGE' });
    expect(session.state).toBe('reconnecting');
    session.cancel();
  });

  it('a resume answered on a channel that closed meanwhile throws and keeps waiting', async () => {
    const { plan } = await planOf([128 * KiB]);
    const { session } = sessionOf(plan);
    const first = new MemoryChannel();
    void started(session, first);
    await flush();
    session.onControl(answer(true));
    await flush();
    session.channelLost(new FerryError('NETWORK_ERROR', 'gone'), first);
    const dying = Object.assign(new MemoryChannel(), { connected: true });
    dying.deliverControl = () => {
      dying.connected = false;
      session.onControl({ type: 'resume-at', transfer: T, files: [1] });
    };
    await expect(session.resume(dying)).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
    expect(session.state).toBe('reconnecting');
    session.cancel();
  });

  it('falls back to the relay from the first record the recipient did not acknowledge, and is done when stored', async () => {
    const { plan } = await planOf([640 * KiB, 64 * KiB]);
    const calls: number[][] = [];
    let finish!: () => void;
    const { session, states } = sessionOf(plan, {
      relay: (from: number[], onStored: (file: number, bytes: number) => void) => {
        calls.push(from);
        onStored(0, 640 * KiB);
        return new Promise<void>((resolve) => (finish = resolve));
      },
    });
    const channel = new MemoryChannel();
    const { outcome } = started(session, channel);
    await flush();
    session.onControl(answer(true));
    session.onControl({ type: 'ack', transfer: T, file: 0, verified: 4 });
    await flush();
    session.channelLost(new FerryError('NETWORK_ERROR', 'gone'), channel);
    session.relay();
    await flush();
    expect(calls).toEqual([[4, 0]]);
    expect(session.state).toBe('relaying');
    expect(session.verified).toBe(640 * KiB);
    finish();
    expect(await outcome).toEqual({ state: 'done' });
    expect(states).toEqual(['offered', 'sending', 'reconnecting', 'relaying', 'done']);
  });

  it('a relay that fails, or no relay route at all, fails the transfer', async () => {
    for (const relay of [() => Promise.reject(new FerryError('STORAGE_FULL', 'Full.')), undefined]) {
      const { plan } = await planOf([128 * KiB]);
      const { session } = sessionOf(plan, relay ? { relay } : {});
      const channel = new MemoryChannel();
      const { outcome } = started(session, channel);
      await flush();
      session.onControl(answer(true));
      await flush();
      session.channelLost(new FerryError('NETWORK_ERROR', 'gone'), channel);
      session.relay();
      const ended = await outcome;
      expect(ended.state === 'failed' && ended.error.code).toBe(relay ? 'STORAGE_FULL' : 'NETWORK_ERROR');
    }
  });

  it('relay() and resume() outside reconnecting do nothing', async () => {
    const { plan } = await planOf([10]);
    const { session } = sessionOf(plan);
    session.relay();
    await session.resume(new MemoryChannel());
    expect(session.state).toBe('confirm');
  });
});
