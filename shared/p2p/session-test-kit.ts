/**
 * In-memory stand-ins for the sessions' tests: a PeerChannel that keeps what was sent and
 * hands it to a listener, and a transfer plan over random plaintext. No transport, no
 * mocks of the engine: the records are sealed and opened with the real keys.
 */
import { randomBytes } from '../encoding.ts';
import { deriveShareKeys, fileCipherOf, newSecret } from '../keys.ts';
import { WEB_CRYPTO_AEAD } from '../record-aead.ts';
import type { FileCipher, PlainReader } from '../records.ts';
import type { PeerChannel } from './channel.ts';
import { type ControlMessage, decodeFrame, FRAME_V2 } from './frames.ts';
import type { SenderPlan } from './sender-session.ts';

/** One end of an in-memory channel; `deliver*` say where its messages go. */
export class MemoryChannel implements PeerChannel {
  readonly initiator: boolean;
  readonly descriptions = { local: 'v=0', remote: 'v=0' };
  maxMessageSize: number;
  readonly controls: ControlMessage[] = [];
  readonly frames: Uint8Array<ArrayBuffer>[] = [];
  closed = false;
  deliverControl: (message: ControlMessage) => void = () => {};
  deliverFrame: (frame: Uint8Array<ArrayBuffer>) => void = () => {};

  constructor(initiator = true, maxMessageSize = 256 * 1024) {
    this.initiator = initiator;
    this.maxMessageSize = maxMessageSize;
  }

  sendControl(message: ControlMessage): void {
    if (this.closed) throw new Error('closed');
    this.controls.push(message);
    queueMicrotask(() => this.deliverControl(message));
  }

  async sendFrame(frame: Uint8Array<ArrayBuffer>): Promise<void> {
    if (this.closed) throw new Error('closed');
    // The frame buffer is reused by the sender (a real channel copies it too).
    const copy = new Uint8Array(frame);
    this.frames.push(copy);
    await Promise.resolve();
    this.deliverFrame(copy);
  }

  /** The records of every frame sent, as (file, record) pairs in order. */
  records(): { file: number; record: number; sealed: Uint8Array<ArrayBuffer> }[] {
    return this.frames.flatMap((frame) => {
      const decoded = decodeFrame(frame);
      if (!decoded.ok) throw new Error(decoded.error);
      return decoded.records.map((sealed, i) => ({ file: decoded.file, record: decoded.first + i, sealed }));
    });
  }
}

/** A plan for files of the given sizes (random plaintext), records of `recordSize`. */
export async function planOf(sizes: number[], recordSize = 64 * 1024) {
  const secret = newSecret();
  const keys = await deriveShareKeys(secret);
  const plain = sizes.map((size) => randomBytes(size));
  const ciphers: FileCipher[] = await Promise.all(
    sizes.map((size, i) => fileCipherOf(keys.contentKey, randomBytes(12), { size, recordSize }, `file-${i}`)),
  );
  const sources: PlainReader[] = plain.map((bytes) => async (start, end) => bytes.slice(start, end));
  const plan: SenderPlan = {
    transfer: 'T'.repeat(22),
    secret,
    manifest: 'sealed-manifest',
    ciphers,
    sources,
    frames: FRAME_V2,
    aead: WEB_CRYPTO_AEAD,
  };
  return { plan, plain, keys };
}

/** Lets every queued microtask and zero-delay timer run. */
export async function flush(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}
