import { describe, expect, it } from 'vitest';
import { randomBytes } from '../../../../shared/encoding.ts';
import { deriveFileKey, deriveShareKeys, newSecret } from '../../../../shared/keys.ts';
import { decryptRecord, encryptRange } from '../../../../shared/record-aead.ts';
import { encryptedSize, type FileCipher } from '../../../../shared/records.ts';
import { cipherSourceOf, plainEndOf } from './cipher-file-reader.ts';

const R = 1024;

async function setup(size: number, readAhead = false) {
  const { contentKey } = await deriveShareKeys(newSecret());
  const plain = randomBytes(size);
  const nonceBase = randomBytes(12);
  const cipher: FileCipher = {
    key: await deriveFileKey(contentKey, nonceBase),
    nonceBase,
    size,
    recordSize: R,
    name: 'x',
  };
  const read = async (s: number, e: number) => plain.slice(s, e);
  const asked: number[] = [];
  /** Every event in order: `cover <plainEnd>` and `encrypt <start>-<end>`. */
  const events: string[] = [];
  let covered = 0;
  const source = cipherSourceOf({
    layout: cipher,
    encrypt: (s, e) => {
      events.push(`encrypt ${s}-${e}`);
      if (plainEndOf(cipher, e) > covered) throw new Error(`encrypted ${s}-${e} beyond the coverage ${covered}`);
      return encryptRange(cipher, read, s, e);
    },
    beforeEncrypt: async (p) => {
      asked.push(p);
      events.push(`cover ${p}`);
      covered = Math.max(covered, p);
    },
    readAhead,
  });
  return { cipher, plain, source, asked, events };
}

async function bytesOf(value: Blob): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await value.arrayBuffer());
}

describe('cipher file reader', () => {
  it('reports the ciphertext length as the upload size', async () => {
    const { source } = await setup(5000);
    expect(source.size).toBe(encryptedSize({ size: 5000, recordSize: R }));
  });

  it('chunks in any size join to the same ciphertext, and done only at the end', async () => {
    const { source, cipher } = await setup(5000);
    const whole = await bytesOf((await source.slice(0, Number.POSITIVE_INFINITY)).value);
    for (const chunk of [1, 7, 1040, 3000]) {
      const parts: Uint8Array[] = [];
      for (let o = 0; o < source.size; o += chunk) {
        const { value, done } = await source.slice(o, o + chunk);
        expect(done).toBe(o + chunk >= source.size);
        parts.push(await bytesOf(value));
      }
      expect(Buffer.concat(parts).equals(Buffer.from(whole))).toBe(true);
    }
    // The last record opens with the final flag.
    const last = whole.slice(4 * (R + 16));
    expect((await decryptRecord(cipher, 4, last)).length).toBe(5000 - 4 * R);
  });

  it('asks for hash coverage of exactly the records a slice touches', async () => {
    const { source, asked } = await setup(5000);
    await source.slice(0, 10);
    await source.slice(R + 16 - 1, R + 17);
    await source.slice(4 * (R + 16), 99999);
    expect(asked).toEqual([R, 2 * R, 5000]);
  });

  it('empty file: one 16-byte record', async () => {
    const { source } = await setup(0);
    expect(source.size).toBe(16);
    const { value, done } = await source.slice(0, 8 * 1024 * 1024);
    expect(value.size).toBe(16);
    expect(done).toBe(true);
    expect(plainEndOf({ size: 0, recordSize: R }, 16)).toBe(0);
  });

  it('reads ahead: the next slice is encrypted, after its coverage, while the last one is out', async () => {
    const { source, events } = await setup(5000, true);
    const chunk = 1040;
    await source.slice(0, chunk);
    await Promise.resolve();
    expect(events).toEqual([`cover ${R}`, `encrypt 0-${chunk}`, `cover ${2 * R}`, `encrypt ${chunk}-${2 * chunk}`]);
    // Asked for next, it is not encrypted again.
    await source.slice(chunk, 2 * chunk);
    expect(events.filter((e) => e === `encrypt ${chunk}-${2 * chunk}`)).toHaveLength(1);
  });

  it('reads ahead: joins to the same ciphertext, and never encrypts past the coverage', async () => {
    const { source, events } = await setup(5000, true);
    const whole = await bytesOf((await source.slice(0, Number.POSITIVE_INFINITY)).value);
    const parts: Uint8Array[] = [];
    for (let o = 0; o < source.size; o += 1000) parts.push(await bytesOf((await source.slice(o, o + 1000)).value));
    expect(Buffer.concat(parts).equals(Buffer.from(whole))).toBe(true);
    // The setup throws on an encrypt beyond coverage; none was read ahead past the end.
    expect(events.filter((e) => e.startsWith('encrypt')).every((e) => Number(e.split('-')[1]) <= source.size)).toBe(
      true,
    );
  });

  it('reads ahead: a slice asked elsewhere (a retry) is encrypted afresh, the one ahead dropped', async () => {
    const { source, events } = await setup(5000, true);
    await source.slice(0, 1000);
    const again = await source.slice(0, 1000);
    expect(again.value.size).toBe(1000);
    expect(events.filter((e) => e === 'encrypt 0-1000')).toHaveLength(2);
    source.close();
    await source.slice(1000, 2000);
    await Promise.resolve();
    // Closed: nothing more is read ahead.
    expect(events.at(-1)).toBe('encrypt 1000-2000');
  });

  it('reads ahead: a failure ahead is reported to the slice that asks for it', async () => {
    let calls = 0;
    const source = cipherSourceOf({
      layout: { size: 5000, recordSize: R },
      encrypt: async (s, e) => {
        if (calls++ === 1) throw new Error('gone');
        return new Uint8Array(e - s);
      },
      readAhead: true,
    });
    await source.slice(0, 1000);
    await expect(source.slice(1000, 2000)).rejects.toThrow('gone');
  });
});
