/**
 * Stand-ins for the receiver's tests: an offer with a real sealed manifest (every file's
 * BLAKE3), a FileStore in memory, a channel pair joining a SenderSession and a
 * ReceiverSession, and an in-memory relay share both can use. The records are sealed,
 * opened and hashed for real; only the transport and the server are memory.
 */
import { createBLAKE3 } from 'hash-wasm';
import { toBase64Url } from '../encoding.ts';
import type { FerryError } from '../errors.ts';
import { type Manifest, sealManifest } from '../manifest.ts';
import { encryptRecord } from '../record-aead.ts';
import { type FileCipher, plainRange, recordCount } from '../records.ts';
import type { ControlMessageOf } from './frames.ts';
import type { ReceiverSession, RelayRoute } from './receiver-session.ts';
import type { SenderSession } from './sender-session.ts';
import { MemoryChannel, planOf } from './session-test-kit.ts';
import type { FileStore, StoredFile } from './verifying-sink.ts';

/** A sender's plan whose manifest is really sealed, and the offer it makes. */
export async function offerOf(sizes: number[], recordSize = 64 * 1024, { blake3 = true } = {}) {
  const made = await planOf(sizes, recordSize);
  const { plan, plain, keys } = made;
  const manifest: Manifest = {
    v: 1,
    files: await Promise.all(
      plan.ciphers.map(async (cipher, i) => ({
        name: cipher.name,
        size: cipher.size,
        type: 'application/octet-stream',
        recordSize: cipher.recordSize,
        nonce: toBase64Url(new Uint8Array(cipher.nonceBase)),
        blake3: blake3 ? (await createBLAKE3()).init().update(plain[i]!).digest('hex') : null,
      })),
    ),
  };
  plan.manifest = await sealManifest(manifest, keys.metaKey);
  const offer: ControlMessageOf<'offer'> = {
    type: 'offer',
    transfer: plan.transfer,
    secret: toBase64Url(plan.secret),
    manifest: plan.manifest,
  };
  return { ...made, manifest, offer };
}

/** Files kept in memory: `files` holds those finished, `parts` those being written. */
export class MemoryStore implements FileStore {
  readonly files = new Map<number, Uint8Array>();
  readonly parts = new Map<number, Uint8Array>();
  /** Throws this from every write once set (storage full, a broken disk). */
  failWrites: Error | null = null;

  async create(file: number, cipher: FileCipher): Promise<StoredFile> {
    const bytes = new Uint8Array(cipher.size);
    this.parts.set(file, bytes);
    return {
      write: async (chunk, at) => {
        if (this.failWrites) throw this.failWrites;
        bytes.set(chunk, at);
      },
      finish: async () => {
        this.parts.delete(file);
        this.files.set(file, bytes);
      },
      discard: async () => {
        this.parts.delete(file);
      },
    };
  }
}

/**
 * Joins a sender and a receiver: frames and messages from each end reach the other, in
 * order. `cut()` drops everything sent afterwards (a channel that died).
 */
export function channelPair(sender: () => SenderSession, receiver: () => ReceiverSession) {
  const toReceiver = new MemoryChannel(true);
  const toSender = new MemoryChannel(false);
  let open = true;
  toReceiver.deliverControl = (message) => open && receiver().onControl(message);
  toReceiver.deliverFrame = (frame) => open && receiver().onFrame(frame);
  toSender.deliverControl = (message) => open && sender().onControl(message);
  return {
    toReceiver,
    toSender,
    cut() {
      open = false;
      toReceiver.closed = true;
      toSender.closed = true;
    },
  };
}

/**
 * A relay share in memory: the sender's `relay` hook stores sealed records from the first
 * the recipient lacks, the recipient's RelayRoute finds the share once it exists and reads
 * records as they are stored.
 */
export class MemoryRelay {
  readonly stored = new Map<number, Uint8Array<ArrayBuffer>[]>();
  exists = false;
  /** Set to fail every read (the share was revoked, the server went away). */
  readFailure: FerryError | null = null;
  #wake = new Set<() => void>();

  /** The sender's relay hook over `ciphers` and plaintext `plain`. */
  upload(ciphers: FileCipher[], plain: Uint8Array[]) {
    return async (from: number[], onStored: (file: number, bytes: number) => void) => {
      this.exists = true;
      this.#wakeAll();
      for (const [file, cipher] of ciphers.entries()) {
        const records = this.stored.get(file) ?? [];
        this.stored.set(file, records);
        for (let r = from[file]!; r < recordCount(cipher); r++) {
          const [start, end] = plainRange(cipher, r);
          records[r] = await encryptRecord(cipher, r, plain[file]!.slice(start, end));
          onStored(file, end);
          this.#wakeAll();
        }
      }
    };
  }

  /** The recipient's route over `ciphers` (the record count of each file). */
  route(ciphers: () => readonly FileCipher[]): RelayRoute {
    return {
      find: async (stopped) => {
        while (!this.exists && !stopped()) await this.#next();
        return this.exists;
      },
      read: async (files, onRecord, stopped) => {
        for (const { file, from } of files) {
          for (let r = from; r < recordCount(ciphers()[file]!); r++) {
            for (;;) {
              if (this.readFailure) throw this.readFailure;
              if (stopped()) return;
              const sealed = this.stored.get(file)?.[r];
              if (sealed) {
                await onRecord(file, r, sealed.slice());
                break;
              }
              await this.#next();
            }
          }
        }
      },
    };
  }

  #next(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#wake.add(resolve);
      setTimeout(resolve, 5);
    });
  }

  #wakeAll(): void {
    const wake = [...this.#wake];
    this.#wake.clear();
    for (const resolve of wake) resolve();
  }
}
