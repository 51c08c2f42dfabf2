import { describe, expect, it } from 'vitest';
import { importAesKey } from '../shared/keys.ts';
import { ReceiverSession } from '../shared/p2p/receiver-session.ts';
import { channelPair, MemoryStore, offerOf } from '../shared/p2p/receiver-test-kit.ts';
import { SenderSession } from '../shared/p2p/sender-session.ts';
import { VerifyingSink } from '../shared/p2p/verifying-sink.ts';
import { recordAeadConformance } from '../shared/record-aead.conformance.ts';
import { type RecordAead, WEB_CRYPTO_AEAD } from '../shared/record-aead.ts';
import { plainSpan, sealParts } from '../shared/record-stream.ts';
import { encryptedSize } from '../shared/records.ts';
import { NODE_CRYPTO_AEAD, sealPartsSync } from './node-aead.ts';

recordAeadConformance('node:crypto, synchronous', NODE_CRYPTO_AEAD);

describe('sealPartsSync', () => {
  it('seals synchronously: the parts are there when it returns, not a promise', async () => {
    const key = await importAesKey(new Uint8Array(32).fill(7));
    const file = { key, nonceBase: new Uint8Array(12), size: 3000, recordSize: 1000, name: 'f' };
    const plain = new Uint8Array(3000).fill(1);
    const [ps, pe] = plainSpan(file, 500, encryptedSize(file));
    const parts = sealPartsSync(file, plain.subarray(ps, pe), 500, encryptedSize(file));
    expect(Array.isArray(parts)).toBe(true);
    const web = await sealParts(file, plain.slice(ps, pe), 500, encryptedSize(file));
    expect(Buffer.concat(parts)).toEqual(Buffer.concat(web));
  });
});

/**
 * `ferry send --to` and `ferry receive --nearby` run the engine's sessions over node:crypto
 * (cli/direct/direct-send.ts, the receiver's VerifyingSink): one transfer of the same plan
 * from a WebCrypto sender and a node:crypto one, each to a receiver opening with the other.
 */
async function transfer(made: Awaited<ReturnType<typeof offerOf>>, seal: RecordAead, open: RecordAead) {
  const store = new MemoryStore();
  const sender = new SenderSession({ ...made.plan, aead: seal });
  let receiver!: ReceiverSession;
  const link = channelPair(
    () => sender,
    () => receiver,
  );
  receiver = new ReceiverSession(made.offer, link.toSender, (events) => new VerifyingSink(store, events, open));
  const sent = sender.run(link.toReceiver, Promise.resolve());
  await receiver.opened;
  receiver.accept();
  const outcome = await sent;
  await expect.poll(() => receiver.outcome).toEqual({ state: 'done' });
  return { outcome, store, frames: link.toReceiver.frames };
}

describe('the P2P sessions over node:crypto', () => {
  it('send the very frames WebCrypto sends, and each side opens the other’s records', async () => {
    const sizes = [0, 1024, 5 * 1024 + 7, 40 * 1024];
    const made = await offerOf(sizes, 1024);
    const web = await transfer(made, WEB_CRYPTO_AEAD, NODE_CRYPTO_AEAD);
    const node = await transfer(made, NODE_CRYPTO_AEAD, WEB_CRYPTO_AEAD);
    for (const run of [web, node]) {
      expect(run.outcome).toEqual({ state: 'done' });
      for (const [i, bytes] of made.plain.entries()) expect(run.store.files.get(i)).toEqual(bytes);
    }
    expect(node.frames.length).toBe(web.frames.length);
    expect(node.frames).toEqual(web.frames);
  });
});
