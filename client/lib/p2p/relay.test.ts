import { describe, expect, it } from 'vitest';
import { shareIdSchema } from '../../../shared/api.ts';
import { deriveShareKeys, newSecret, relayShareId } from '../../../shared/keys.ts';
import { MIN_RECORD_SIZE } from '../../../shared/limits.ts';
import { encryptRecord } from '../../../shared/record-aead.ts';
import { cipherRange, encryptedSize, type FileCipher, recordCount } from '../../../shared/records.ts';
import { restOfFile } from './relay-upload.ts';

describe('relayShareId', () => {
  it('is a share id both sides derive alike from the secret, and differs per secret', async () => {
    const secret = newSecret();
    const id = await relayShareId(secret);
    expect(shareIdSchema.safeParse(id).success).toBe(true);
    expect(await relayShareId(new Uint8Array(secret))).toBe(id);
    expect(await relayShareId(newSecret())).not.toBe(id);
    expect((await deriveShareKeys(secret)).readerToken.startsWith(id)).toBe(false);
  });
});

async function cipherOf(
  size: number,
  recordSize: number,
): Promise<{ file: File; cipher: FileCipher; whole: Uint8Array }> {
  const plain = crypto.getRandomValues(new Uint8Array(size));
  const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
  const cipher: FileCipher = {
    name: 'a.bin',
    size,
    recordSize,
    key,
    nonceBase: crypto.getRandomValues(new Uint8Array(12)),
  };
  const records = [];
  for (let r = 0; r < recordCount(cipher); r++) {
    records.push(await encryptRecord(cipher, r, plain.slice(r * recordSize, Math.min(size, (r + 1) * recordSize))));
  }
  const whole = new Uint8Array(await new Blob(records).arrayBuffer());
  return { file: new File([plain], 'a.bin'), cipher, whole };
}

describe('restOfFile', () => {
  it('serves exactly the ciphertext from the record on, whatever slices tus asks for', async () => {
    const { file, cipher, whole } = await cipherOf(10 * MIN_RECORD_SIZE + 123, MIN_RECORD_SIZE);
    const from = 4;
    const base = cipherRange(cipher, from)[0];
    const source = restOfFile(file, cipher, from);
    expect(source.size).toBe(encryptedSize(cipher) - base);
    const parts: Uint8Array<ArrayBuffer>[] = [];
    let done = false;
    // Uneven slices, as after a retry whose HEAD answered an offset mid-record.
    for (let start = 0; !done; start += 1500) {
      const slice = await source.slice(start, start + 1500);
      parts.push(new Uint8Array(await (slice.value as Blob).arrayBuffer()));
      done = slice.done;
    }
    const joined = new Uint8Array(await new Blob(parts).arrayBuffer());
    expect(joined).toEqual(whole.subarray(base));
  });

  it('refuses a file that changed under it', async () => {
    const { cipher } = await cipherOf(3 * MIN_RECORD_SIZE, MIN_RECORD_SIZE);
    const shorter = new File([new Uint8Array(MIN_RECORD_SIZE)], 'a.bin');
    await expect(restOfFile(shorter, cipher, 1).slice(0, 1000)).rejects.toMatchObject({ code: 'CONTENT_CHANGED' });
  });
});
