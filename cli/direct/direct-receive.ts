/**
 * Receiving one offer over an authenticated connection (peer-connection.ts), as the app's
 * IncomingTransfer does: the offer's secret gives the keys, the manifest is opened and
 * checked (every file with its BLAKE3) before anything is asked; once accepted each record
 * is opened as it arrives (shared/records.ts: tag, index and final flag), written at its
 * place in `<name>.ferry-part` and hashed, and the sender hears how many records are
 * verified every ACK_EVERY_BYTES and at each file's end (which also paces it). A file whose
 * BLAKE3 matches is renamed to its name; one that fails anything is deleted, part file
 * included, and the sender gets a `cancel` with the code. `complete` once every file is in.
 */
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { createBLAKE3 } from 'hash-wasm';
import { fromBase64Url } from '../../shared/encoding.ts';
import { FerryError } from '../../shared/errors.ts';
import { deriveShareKeys } from '../../shared/keys.ts';
import { fileCipher, type Manifest, openManifest } from '../../shared/manifest.ts';
import { type ControlMessageOf, decodeFrame, frameRefusal } from '../../shared/p2p/frames.ts';
import { decryptRecord, type FileCipher, plainRange, recordCount } from '../../shared/records.ts';
import { Progress } from '../progress.ts';
import { exists, PART_SUFFIX, targetOf } from '../receive.ts';
import { asFerryError, type PeerConnection } from './peer-connection.ts';

/** Acknowledge verified records at least this often (plaintext bytes; the app's ACK_EVERY_BYTES). */
export const ACK_EVERY_BYTES = 2 * 1024 * 1024;

/** An offer opened: what it holds, and where each file would land. */
export interface OpenedOffer {
  transfer: string;
  manifest: Manifest;
  ciphers: FileCipher[];
  targets: string[];
}

/** Opens an offer's manifest with its secret; refuses one that lacks hashes or would overwrite a file. */
export async function openOffer(offer: ControlMessageOf<'offer'>, out: string): Promise<OpenedOffer> {
  const keys = await deriveShareKeys(fromBase64Url(offer.secret));
  const manifest = await openManifest(offer.manifest, keys.metaKey);
  if (manifest.files.some((f) => !f.blake3))
    throw new FerryError('MANIFEST_INVALID', 'The offer lacks the files’ hashes.');
  const ciphers = await Promise.all(manifest.files.map((f) => fileCipher(f, keys.contentKey)));
  const targets = manifest.files.map((f) => targetOf(out, f.name));
  for (const target of targets) {
    if (await exists(target)) throw new FerryError('CONFLICT', `${target} already exists.`);
  }
  return { transfer: offer.transfer, manifest, ciphers, targets };
}

/** One file being written: its part file, hasher and the next record it expects. */
interface Sink {
  handle: Awaited<ReturnType<typeof open>>;
  part: string;
  hasher: Awaited<ReturnType<typeof createBLAKE3>>;
  next: number;
  acked: number;
}

/**
 * Accepts `offer` and receives it to disk; resolves with the paths once every file is
 * verified and renamed, rejects (after telling the sender) with the first failure.
 */
export async function receiveOffer(connection: PeerConnection, offer: OpenedOffer, quiet: boolean): Promise<string[]> {
  const { transfer, manifest, ciphers, targets } = offer;
  const total = ciphers.reduce((n, c) => n + c.size, 0);
  const progress = new Progress('receiving', total, { quiet });
  const sinks: (Sink | null)[] = ciphers.map(() => null);
  let done = 0;
  let finished = 0;
  let current = 0;
  let settle!: { resolve: () => void; reject: (error: FerryError) => void };
  const result = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  result.catch(() => {});
  let failed = false;
  // Frames are handled one after another, in the order they came (the channel is ordered).
  let queue = Promise.resolve();

  const fail = (error: FerryError) => {
    if (failed) return;
    failed = true;
    try {
      connection.link.sendControl({ type: 'cancel', transfer, code: error.code, message: error.message.slice(0, 500) });
    } catch {
      // The connection is already gone.
    }
    settle.reject(error);
  };

  const openSink = async (index: number): Promise<Sink> => {
    const part = `${targets[index]!}${PART_SUFFIX}`;
    await mkdir(path.dirname(part), { recursive: true });
    const sink: Sink = { handle: await open(part, 'w'), part, hasher: await createBLAKE3(), next: 0, acked: 0 };
    sinks[index] = sink;
    return sink;
  };

  const finishFile = async (index: number, sink: Sink): Promise<void> => {
    const file = manifest.files[index]!;
    if (sink.hasher.digest('hex') !== file.blake3) {
      throw new FerryError('FILE_HASH_MISMATCH', `${file.name} failed verification: its BLAKE3 hash differs.`);
    }
    await sink.handle.sync();
    await sink.handle.close();
    await rename(sink.part, targets[index]!);
    sinks[index] = null;
    finished++;
  };

  const write = async (fileIndex: number, first: number, records: Uint8Array<ArrayBuffer>[]) => {
    const cipher = ciphers[fileIndex];
    if (!cipher || fileIndex < current) {
      throw new FerryError('INVALID_MESSAGE', 'The sender sent data that does not belong to this transfer.');
    }
    // Files come one after another; one that has no records left to come is empty or done.
    while (current < fileIndex) {
      const skipped = sinks[current] ?? (await openSink(current));
      if (skipped.next < recordCount(ciphers[current]!)) {
        throw new FerryError(
          'RECORD_TRUNCATED',
          `${ciphers[current]!.name}: the sender moved on before its last record.`,
        );
      }
      current++;
    }
    const sink = sinks[fileIndex] ?? (await openSink(fileIndex));
    if (first !== sink.next) {
      throw new FerryError('INVALID_MESSAGE', `${cipher.name}: record ${first} came where ${sink.next} was due.`);
    }
    const plains = await Promise.all(records.map((sealed, n) => decryptRecord(cipher, first + n, sealed)));
    for (const [n, plain] of plains.entries()) {
      const [at] = plainRange(cipher, first + n);
      await sink.handle.write(plain, 0, plain.length, at);
      sink.hasher.update(plain);
      done += plain.length;
    }
    sink.next = first + records.length;
    progress.update(done);
    const count = recordCount(cipher);
    const bytes = sink.next === 0 ? 0 : plainRange(cipher, sink.next - 1)[1];
    const last = sink.next === count;
    if (last) await finishFile(fileIndex, sink);
    if (last || bytes - sink.acked >= ACK_EVERY_BYTES) {
      sink.acked = bytes;
      connection.link.sendControl({ type: 'ack', transfer, file: fileIndex, verified: sink.next });
    }
    if (finished === ciphers.length) {
      connection.link.sendControl({ type: 'complete', transfer });
      settle.resolve();
    }
  };

  connection.onBinary = (bytes) => {
    if (failed) return;
    const frame = decodeFrame(bytes);
    queue = queue.then(async () => {
      if (failed) return;
      if (!frame.ok) throw frameRefusal(frame);
      await write(frame.file, frame.first, frame.records);
    });
    queue = queue.catch((error: unknown) => fail(asFerryError(error)));
  };
  connection.onControl = (message) => {
    if (message.type === 'cancel' && message.transfer === transfer) {
      failed = true;
      settle.reject(new FerryError(message.code, message.message));
    }
  };
  void connection.lost.catch((error: unknown) => fail(asFerryError(error)));

  connection.link.sendControl({ type: 'answer', transfer, accept: true });
  try {
    await result;
    progress.finish();
    return targets;
  } catch (error) {
    failed = true;
    await queue;
    // Nothing that failed is kept, not even as a part file.
    for (const sink of sinks) {
      if (!sink) continue;
      await sink.handle.close().catch(() => undefined);
      await rm(sink.part, { force: true });
    }
    throw error;
  }
}
