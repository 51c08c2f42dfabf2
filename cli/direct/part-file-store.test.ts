import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeFrame } from '../../shared/p2p/frames.ts';
import { ReceiverSession } from '../../shared/p2p/receiver-session.ts';
import { channelPair, offerOf } from '../../shared/p2p/receiver-test-kit.ts';
import { SenderSession } from '../../shared/p2p/sender-session.ts';
import { VerifyingSink } from '../../shared/p2p/verifying-sink.ts';
import { PartFileStore } from './part-file-store.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A SenderSession sends to a ReceiverSession writing files under a fresh directory. */
async function receiveTo(sizes: number[], tamper?: { file: number; record: number }) {
  const dir = await mkdtemp(path.join(tmpdir(), 'ferry-part-store-'));
  dirs.push(dir);
  const made = await offerOf(sizes, 1024);
  const targets = sizes.map((_, i) => path.join(dir, 'sub', `file-${i}.bin`));
  const sender = new SenderSession(made.plan);
  let receiver!: ReceiverSession;
  const link = channelPair(
    () => sender,
    () => receiver,
  );
  if (tamper) {
    const deliver = link.toReceiver.deliverFrame;
    link.toReceiver.deliverFrame = (frame) => {
      const decoded = decodeFrame(frame);
      const sealed = decoded.ok && decoded.file === tamper.file ? decoded.records[tamper.record - decoded.first] : null;
      if (sealed) frame[sealed.byteOffset]! ^= 0x80;
      deliver(frame);
    };
  }
  const store = new PartFileStore(targets);
  receiver = new ReceiverSession(made.offer, link.toSender, (events) => new VerifyingSink(store, events));
  const sent = sender.run(link.toReceiver, Promise.resolve());
  await receiver.opened;
  const settled = new Promise<void>((resolve) => {
    const check = () => (receiver.outcome ? resolve() : setTimeout(check, 5));
    check();
  });
  receiver.accept();
  await Promise.all([sent, settled]);
  return { dir, made, targets, receiver, sent: await sent };
}

describe('PartFileStore under the engine', () => {
  it('files arrive under their names, identical, with no part file left', async () => {
    const { dir, made, targets, receiver } = await receiveTo([0, 1024, 5 * 1024 + 1]);
    expect(receiver.outcome).toEqual({ state: 'done' });
    for (const [i, target] of targets.entries()) expect(new Uint8Array(await readFile(target))).toEqual(made.plain[i]);
    expect((await readdir(path.join(dir, 'sub'))).sort()).toEqual(['file-0.bin', 'file-1.bin', 'file-2.bin']);
  });

  it('a tampered record fails naming the file and record; the failed file is not kept, not even as a part', async () => {
    const { dir, receiver, sent } = await receiveTo([2048, 8 * 1024], { file: 1, record: 3 });
    expect(receiver.outcome).toMatchObject({
      state: 'failed',
      error: { code: 'RECORD_AUTH_FAILED', message: 'file-1: record 3 failed verification.' },
    });
    expect(sent.state === 'failed' && sent.error.code).toBe('RECORD_AUTH_FAILED');
    // File 0 was verified whole before the failure and stays; nothing of file 1 does (the
    // sink deletes it as the session settles, without being awaited).
    await expect.poll(() => readdir(path.join(dir, 'sub')), { timeout: 10_000 }).toEqual(['file-0.bin']);
  });
});
