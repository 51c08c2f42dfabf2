/**
 * What every range sealer must do, whatever AEAD it was built over (record-stream.ts
 * `rangeSealer`), as one suite each runs: `rangeSealerConformance('WebCrypto', sealParts)`
 * in record-stream.test.ts, the node:crypto one in cli/record-sealer.test.ts. The bytes are
 * pinned twice: by the known-answer vectors of the shipped format, and against records.ts
 * `encryptRange` (one record at a time, no range sealer involved) over every kind of range.
 */
import { describe, expect, it } from 'vitest';
import { FerryError } from './errors.ts';
import { importAesKey } from './keys.ts';
import { plainSpan, type RangeSealer } from './record-stream.ts';
import { checkRecordVectors, concatParts } from './record-vectors.ts';
import { encryptedSize, encryptRange, type FileCipher } from './records.ts';

type AnySealer = RangeSealer<Promise<Uint8Array[]> | Uint8Array[]>;

async function cipherOf(size: number, recordSize: number): Promise<FileCipher> {
  const key = await importAesKey(crypto.getRandomValues(new Uint8Array(32)));
  return { key, nonceBase: crypto.getRandomValues(new Uint8Array(12)), size, recordSize, name: `f${size}` };
}

/** What `seal` threw or rejected with. */
async function failure(seal: () => Promise<unknown> | unknown): Promise<unknown> {
  try {
    await seal();
  } catch (error) {
    return error;
  }
  throw new Error('expected the sealer to fail');
}

export function rangeSealerConformance(name: string, seal: AnySealer): void {
  describe(`range sealer conformance: ${name}`, () => {
    it('passes the record format known-answer vectors', async () => {
      expect(await checkRecordVectors(seal)).toEqual([]);
    });

    it('answers the bytes of encryptRange for every kind of range, records cut anywhere, no part empty', async () => {
      for (const size of [0, 1, 999, 1000, 1001, 3500]) {
        const file = await cipherOf(size, 1000);
        const plain = crypto.getRandomValues(new Uint8Array(size));
        const read = async (s: number, e: number) => plain.slice(s, e);
        const total = encryptedSize(file);
        const ranges: Array<[number, number]> = [
          [0, total],
          [0, 1],
          [total - 1, total],
          [total - 16, total],
          [Math.floor(total / 2), total],
          [3, Math.max(3, total - 5)],
          // Ends on a record's ciphertext, before its tag; starts inside a tag.
          [1010, 2020],
          [1000, 1016],
          [1016, 1017],
          [total, total],
          // Past the end: cut at the file's end.
          [5, total + 1e9],
        ];
        for (let n = 0; n < 20; n++) {
          const a = Math.floor(Math.random() * (total + 1));
          ranges.push([a, a + Math.floor(Math.random() * (total + 1 - a))]);
        }
        for (const [start, end] of ranges) {
          if (start > total || start < 0) continue;
          const [ps, pe] = plainSpan(file, start, end);
          const parts = await seal(file, plain.slice(ps, pe), start, end);
          expect(concatParts(parts), `size ${size}, range ${start}-${end}`).toEqual(
            await encryptRange(file, read, start, end),
          );
          // Each part is a write on a socket or a piece of a Blob: none is empty.
          expect(parts.every((part) => part.length > 0)).toBe(true);
        }
      }
    });

    it('answers new memory: the plaintext buffer may be reused once the parts are answered', async () => {
      const file = await cipherOf(2500, 1000);
      const plain = crypto.getRandomValues(new Uint8Array(2500));
      const parts = await seal(file, plain, 0, encryptedSize(file));
      const before = concatParts(parts);
      plain.fill(0);
      expect(concatParts(parts)).toEqual(before);
    });

    it('refuses plaintext of the wrong length with CONTENT_CHANGED, naming the file', async () => {
      const file = await cipherOf(2500, 1000);
      const error = await failure(() => seal(file, new Uint8Array(999), 0, 1016));
      expect(error).toBeInstanceOf(FerryError);
      expect((error as FerryError).code).toBe('CONTENT_CHANGED');
      expect((error as FerryError).message).toContain('f2500');
    });
  });
}
