import { describe, expect, it } from 'vitest';
import { randomBytes } from './encoding.ts';
import { FerryError } from './errors.ts';
import { deriveShareKeys, fileCipherOf, newSecret } from './keys.ts';
import { recordAeadConformance } from './record-aead.conformance.ts';
import { WEB_CRYPTO_AEAD } from './record-aead.ts';
import { openingStream, openRecords, sealParts } from './record-stream.ts';
import { cipherRange, encryptedSize, type FileCipher } from './records.ts';

/** A fresh random file cipher. */
async function testCipher(size: number, recordSize: number, name: string): Promise<FileCipher> {
  const { contentKey } = await deriveShareKeys(newSecret());
  return fileCipherOf(contentKey, randomBytes(12), { size, recordSize }, name);
}

recordAeadConformance('WebCrypto', WEB_CRYPTO_AEAD);

describe('sealParts', () => {
  it('fails by rejecting, never by throwing: a caller awaiting it catches every failure', async () => {
    const cipher = await testCipher(5000, 1024, 'x');
    let sealing: Promise<unknown> | undefined;
    expect(() => {
      sealing = sealParts(cipher, randomBytes(10), 0, encryptedSize(cipher));
    }).not.toThrow();
    await expect(sealing).rejects.toThrow(/x changed size/);
  });
});

describe('the opener', () => {
  const R = 64;

  async function sealedFile(size: number, name = 'dir/a.bin') {
    const cipher = await testCipher(size, R, name);
    const plain = randomBytes(size);
    const parts = await sealParts(cipher, plain, 0, encryptedSize(cipher));
    return { cipher, plain, sealed: new Uint8Array(await new Blob(parts).arrayBuffer()) };
  }

  /** Pipes `sealed` through the opening stream in uneven chunks, as a network would. */
  async function open(cipher: FileCipher, sealed: Uint8Array, first = 0): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    for (let at = 0, n = 1; at < sealed.length; at += n, n = (n * 7 + 3) % 97) chunks.push(sealed.slice(at, at + n));
    const source = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(chunk);
        controller.close();
      },
    });
    return new Uint8Array(await new Response(source.pipeThrough(openingStream(cipher, first))).arrayBuffer());
  }

  async function failure(promise: Promise<unknown>): Promise<FerryError> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(error instanceof FerryError)) throw new Error(`expected a FerryError, got ${String(error)}`);
    return error;
  }

  it.each([0, 1, R - 1, R, R + 1, 5 * R + 7])('opens %i bytes streamed in uneven chunks', async (size) => {
    const { cipher, plain, sealed } = await sealedFile(size);
    expect(await open(cipher, sealed)).toEqual(plain);
  });

  it('opens from any record: a resumed or ranged read', async () => {
    const { cipher, plain, sealed } = await sealedFile(5 * R + 7);
    const from = cipherRange(cipher, 3)[0];
    expect(await open(cipher, sealed.slice(from), 3)).toEqual(plain.slice(3 * R));
    const [s] = cipherRange(cipher, 1);
    const [, e] = cipherRange(cipher, 2);
    const records = await openRecords(cipher, 1, sealed.slice(s, e));
    expect(records.map((r) => r.index)).toEqual([1, 2]);
    expect(records[1]?.plain).toEqual(plain.slice(2 * R, 3 * R));
  });

  it('names the file and record of a flipped byte', async () => {
    const { cipher, sealed } = await sealedFile(4 * R);
    sealed[2 * (R + 16) + 9]! ^= 0x80;
    const error = await failure(open(cipher, sealed));
    expect(error.code).toBe('RECORD_AUTH_FAILED');
    expect(error.message).toBe('dir/a.bin: record 2 failed verification.');
  });

  it('refuses swapped records', async () => {
    const { cipher, sealed } = await sealedFile(4 * R);
    const swapped = new Uint8Array(sealed);
    const [a0, a1] = cipherRange(cipher, 1);
    const [b0, b1] = cipherRange(cipher, 2);
    swapped.set(sealed.slice(b0, b1), a0);
    swapped.set(sealed.slice(a0, a1), b0);
    const error = await failure(open(cipher, swapped));
    expect(error.code).toBe('RECORD_AUTH_FAILED');
    expect(error.message).toContain('record 1');
  });

  it('refuses a truncated last record, and a stream cut after a whole record', async () => {
    const { cipher, sealed } = await sealedFile(3 * R + 5);
    const cut = await failure(open(cipher, sealed.slice(0, sealed.length - 1)));
    expect(cut.code).toBe('RECORD_TRUNCATED');
    expect(cut.message).toContain('dir/a.bin: record 3');
    const dropped = await failure(open(cipher, sealed.slice(0, cipherRange(cipher, 3)[0])));
    expect(dropped.code).toBe('RECORD_TRUNCATED');
    expect(dropped.message).toContain('record 3');
    // Claiming the file ends one record early: the record read as last has no final flag.
    const shorter = { ...cipher, size: 3 * R };
    const early = await failure(open(shorter, sealed.slice(0, cipherRange(cipher, 3)[0])));
    expect(early.code).toBe('RECORD_AUTH_FAILED');
    expect(early.message).toContain('record 2');
  });

  it('refuses an extra record after the last', async () => {
    const { cipher, sealed } = await sealedFile(2 * R);
    const longer = new Uint8Array(sealed.length + R + 16);
    longer.set(sealed);
    longer.set(sealed.slice(0, R + 16), sealed.length);
    const error = await failure(open(cipher, longer));
    expect(error.code).toBe('LENGTH_MISMATCH');
    expect(error.message).toContain('dir/a.bin');
  });

  it('fails with a wrong key', async () => {
    const { cipher, sealed } = await sealedFile(R + 1);
    const other = await sealedFile(R + 1);
    const error = await failure(open({ ...cipher, key: other.cipher.key }, sealed));
    expect(error.code).toBe('RECORD_AUTH_FAILED');
    expect(error.message).toContain('record 0');
  });
});
