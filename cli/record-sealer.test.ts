import { describe, expect, it } from 'vitest';
import { FerryError } from '../shared/errors.ts';
import { importAesKey } from '../shared/keys.ts';
import { plainSpan, sealParts } from '../shared/record-stream.ts';
import { checkRecordVectors } from '../shared/record-vectors.ts';
import { encryptedSize, type FileCipher } from '../shared/records.ts';
import { sealPartsSync } from './record-sealer.ts';

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

async function cipherOf(size: number, recordSize: number): Promise<FileCipher> {
  const key = await importAesKey(crypto.getRandomValues(new Uint8Array(32)));
  return { key, nonceBase: crypto.getRandomValues(new Uint8Array(12)), size, recordSize, name: `f${size}` };
}

describe('sealPartsSync (node:crypto)', () => {
  it('passes the record format known-answer vectors', async () => {
    expect(await checkRecordVectors(sealPartsSync)).toEqual([]);
  });

  it('answers the bytes of sealParts for every kind of range, records cut anywhere', async () => {
    for (const size of [0, 1, 999, 1000, 1001, 3500]) {
      const file = await cipherOf(size, 1000);
      const plain = crypto.getRandomValues(new Uint8Array(size));
      const total = encryptedSize(file);
      const ranges: Array<[number, number]> = [
        [0, total],
        [0, 1],
        [total - 1, total],
        [total - 16, total],
        [Math.floor(total / 2), total],
        [3, Math.max(3, total - 5)],
        [1010, 2020],
        [1016, 1017],
        [total, total],
      ];
      for (let n = 0; n < 20; n++) {
        const a = Math.floor(Math.random() * (total + 1));
        const b = a + Math.floor(Math.random() * (total + 1 - a));
        ranges.push([a, b]);
      }
      for (const [start, end] of ranges) {
        if (start > total || end > total) continue;
        const [ps, pe] = plainSpan(file, start, end);
        const span = plain.slice(ps, pe);
        const want = concat(await sealParts(file, span, start, end));
        const got = sealPartsSync(file, span, start, end);
        expect(concat(got), `size ${size}, range ${start}-${end}`).toEqual(want);
        // No part is empty: each is a write on the socket.
        expect(got.every((part) => part.length > 0)).toBe(true);
      }
    }
  });

  it('refuses plaintext of the wrong length with CONTENT_CHANGED, naming the file', async () => {
    const file = await cipherOf(2500, 1000);
    const error = (() => {
      try {
        sealPartsSync(file, new Uint8Array(999), 0, 1016);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(FerryError);
    expect((error as FerryError).code).toBe('CONTENT_CHANGED');
    expect((error as FerryError).message).toContain('f2500');
  });
});
