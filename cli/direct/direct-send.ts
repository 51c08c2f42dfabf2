/**
 * Sending files over one authenticated connection (peer-connection.ts), as the app's
 * OutgoingTransfer does (shared/p2p.ts has the order): a fresh secret and a nonce base per
 * file, each file's BLAKE3 computed first, the sealed manifest and the secret in the
 * `offer`, then, once accepted, the records of each file packed into version 2 frames (as
 * many as the other side's max-message-size allows; one per version 1 frame for a page that
 * reads no more), with two layers of flow control: the channel's buffer (RtcLink.sendFrame)
 * and SEND_WINDOW_BYTES of records not yet acknowledged as verified. Done when the other
 * side says `complete` (every file verified whole); a `cancel` ends it with its code.
 */
import { fromBase64Url, toBase64Url } from '../../shared/encoding.ts';
import { FerryError } from '../../shared/errors.ts';
import { deriveShareKeys, fileCipherOf, newSecret } from '../../shared/keys.ts';
import { TAG_SIZE } from '../../shared/limits.ts';
import { sealManifest } from '../../shared/manifest.ts';
import {
  type ControlMessage,
  encodeRecordFrame,
  encodeRecordsFrame,
  FRAME_HEADER_BYTES,
  FRAME_LENGTH_BYTES,
  FRAME_V2,
  recordsPerFrame,
} from '../../shared/p2p/frames.ts';
import { encryptRecord, type FileCipher, plainRange, recordCount } from '../../shared/records.ts';
import { manifestOf, planFileOf } from '../../shared/share-plan.ts';
import { hashFile } from '../file-hasher.ts';
import { Progress } from '../progress.ts';
import { type LocalFile, readRange } from '../sources.ts';
import type { PeerConnection } from './peer-connection.ts';

/** Records sent but not yet verified by the recipient, at most (the app's SEND_WINDOW_BYTES). */
export const SEND_WINDOW_BYTES = 16 * 1024 * 1024;
/** Plaintext read from a file at once. */
const READ_BYTES = 4 * 1024 * 1024;

export interface DirectSendOptions {
  /** The highest frame version the other side reads (its `hello`); absent: 1. */
  frames: number;
  peerName: string;
  quiet: boolean;
}

/** Sends `files`; resolves once the other side verified every file, rejects with why not. */
export async function sendDirect(
  connection: PeerConnection,
  files: readonly LocalFile[],
  options: DirectSendOptions,
): Promise<void> {
  const link = connection.link;
  const secret = newSecret();
  const keys = await deriveShareKeys(secret);
  const plan = [];
  for (const file of files) plan.push({ ...planFileOf(file), blake3: await hashFile(file) });
  const manifest = await sealManifest(manifestOf(plan), keys.metaKey);
  const ciphers: FileCipher[] = [];
  for (const file of plan) {
    ciphers.push(await fileCipherOf(keys.contentKey, fromBase64Url(file.nonce), file, file.name));
  }
  const transfer = toBase64Url(crypto.getRandomValues(new Uint8Array(16)));

  // Every answer of the other side about this transfer, as promises and a counter.
  const verified = ciphers.map(() => 0);
  let wake: (() => void) | null = null;
  let answer!: (accept: boolean) => void;
  const answered = new Promise<boolean>((resolve) => {
    answer = resolve;
  });
  let complete!: () => void;
  let refuse!: (error: FerryError) => void;
  const completed = new Promise<void>((resolve, reject) => {
    complete = resolve;
    refuse = reject;
  });
  completed.catch(() => {});
  const ended = Promise.race([completed, connection.lost]);
  ended.catch(() => {});
  connection.onControl = (message: ControlMessage) => {
    if (!('transfer' in message) || message.transfer !== transfer) return;
    if (message.type === 'answer') answer(message.accept);
    else if (message.type === 'ack') {
      const cipher = ciphers[message.file];
      if (!cipher) return;
      verified[message.file] = Math.min(message.verified, recordCount(cipher));
      const waiting = wake;
      wake = null;
      waiting?.();
    } else if (message.type === 'complete') complete();
    else if (message.type === 'cancel') refuse(new FerryError(message.code, message.message));
  };
  const verifiedBytes = () =>
    verified.reduce((sum, records, i) => sum + (records === 0 ? 0 : plainRange(ciphers[i]!, records - 1)[1]), 0);

  await Promise.race([connection.auth.confirmed, connection.lost]);
  link.sendControl({ type: 'offer', transfer, secret: toBase64Url(secret), manifest });
  if (!(await Promise.race([answered, ended.then(() => true)]))) {
    throw new FerryError('ABORTED', `${options.peerName} declined the files.`);
  }

  const total = ciphers.reduce((n, c) => n + c.size, 0);
  const progress = new Progress('sending', total, { quiet: options.quiet });
  let sent = 0;
  const v2 = options.frames >= FRAME_V2;
  for (const [index, cipher] of ciphers.entries()) {
    const sealedBytes = cipher.recordSize + TAG_SIZE;
    const perFrame = v2 ? recordsPerFrame(sealedBytes, link.maxMessageSize) : 1;
    if (perFrame === 0) throw new FerryError('TOO_LARGE', 'The other device takes messages too small for records.');
    const frame = new Uint8Array(FRAME_HEADER_BYTES + perFrame * (FRAME_LENGTH_BYTES + sealedBytes));
    const records = recordCount(cipher);
    const source = files[index]!;
    let plain = new Uint8Array(0);
    for (let record = 0; record < records; ) {
      const [start] = plainRange(cipher, record);
      const end = Math.min(cipher.size, start + Math.max(READ_BYTES, cipher.recordSize));
      if (plain.length !== end - start) plain = new Uint8Array(end - start);
      await readRange(source.path, start, end, plain);
      const first = record;
      const sealing: Promise<Uint8Array<ArrayBuffer>>[] = [];
      for (let r = first; r < records; r++) {
        const [ps, pe] = plainRange(cipher, r);
        if (pe > end) break;
        const sealed = encryptRecord(cipher, r, plain.subarray(ps - start, pe - start));
        sealed.catch(() => {});
        sealing.push(sealed);
      }
      for (let i = 0; i < sealing.length; i += perFrame) {
        while (sent - verifiedBytes() > SEND_WINDOW_BYTES) {
          await Promise.race([
            new Promise<void>((resolve) => {
              wake = resolve;
            }),
            ended,
          ]);
        }
        const sealed = await Promise.all(sealing.slice(i, i + perFrame));
        await Promise.race([
          link.sendFrame(
            v2
              ? encodeRecordsFrame(index, first + i, sealed, frame)
              : encodeRecordFrame(index, first + i, sealed[0]!, frame),
          ),
          ended,
        ]);
        const [ps] = plainRange(cipher, first + i);
        const [, pe] = plainRange(cipher, first + i + sealed.length - 1);
        sent += pe - ps;
        progress.update(verifiedBytes());
      }
      record = first + sealing.length;
    }
  }
  const ticker = setInterval(() => progress.update(verifiedBytes()), 250);
  try {
    await ended;
  } finally {
    clearInterval(ticker);
  }
  progress.update(total);
  progress.finish();
}
