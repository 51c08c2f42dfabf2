/**
 * What every record AEAD must do (record-aead.ts `RecordAead`), as one suite each runs:
 * `recordAeadConformance('WebCrypto', WEB_CRYPTO_AEAD)` in record-stream.test.ts, the
 * node:crypto one in cli/node-aead.test.ts. The bytes are pinned twice: by the known-answer
 * vectors of the shipped format, and against record-aead.ts `encryptRange` (WebCrypto, one
 * record at a time, no range sealer involved) over every kind of range; and what this AEAD
 * seals, WebCrypto opens, and the other way round.
 */
import { describe, expect, it } from 'vitest';
import { FerryError } from './errors.ts';
import { importAesKey } from './keys.ts';
import {
  encryptRange,
  joinParts,
  openSealedRecords,
  type RecordAead,
  sealRecords,
  WEB_CRYPTO_AEAD,
} from './record-aead.ts';
import { plainSpan, RecordOpener, rangeSealer } from './record-stream.ts';
import { checkRecordVectors } from './record-vectors.ts';
import { encryptedSize, type FileCipher, plainRange, recordCount } from './records.ts';

async function cipherOf(size: number, recordSize: number): Promise<FileCipher> {
  const key = await importAesKey(crypto.getRandomValues(new Uint8Array(32)));
  return { key, nonceBase: crypto.getRandomValues(new Uint8Array(12)), size, recordSize, name: `f${size}` };
}

/** What `run` threw or rejected with. */
async function failure(run: () => Promise<unknown> | unknown): Promise<FerryError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof FerryError) return error;
    throw error;
  }
  throw new Error('expected a FerryError');
}

export function recordAeadConformance(name: string, aead: RecordAead): void {
  const seal = rangeSealer(aead);

  /** A file of `size` random bytes, sealed whole by `aead`, one array per record. */
  async function sealedFile(size: number, recordSize: number) {
    const file = await cipherOf(size, recordSize);
    const plain = crypto.getRandomValues(new Uint8Array(size));
    const records = (await sealRecords(aead, file, 0, recordCount(file), plain)).map((parts) => joinParts(parts));
    return { file, plain, records: records as Uint8Array<ArrayBuffer>[] };
  }

  describe(`record AEAD conformance: ${name}`, () => {
    it('passes the record format known-answer vectors, sealing and opening', async () => {
      expect(await checkRecordVectors(aead)).toEqual([]);
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
          expect(joinParts(parts), `size ${size}, range ${start}-${end}`).toEqual(
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
      const before = joinParts(parts);
      plain.fill(0);
      expect(joinParts(parts)).toEqual(before);
    });

    it('refuses plaintext of the wrong length with CONTENT_CHANGED, naming the file', async () => {
      const file = await cipherOf(2500, 1000);
      for (const run of [
        () => seal(file, new Uint8Array(999), 0, 1016),
        () => sealRecords(aead, file, 1, 2, new Uint8Array(1000)),
      ]) {
        const error = await failure(run);
        expect(error.code).toBe('CONTENT_CHANGED');
        expect(error.message).toContain('f2500');
      }
    });

    it('opens what it sealed, and what WebCrypto sealed; WebCrypto opens what it sealed', async () => {
      for (const size of [0, 1, 1000, 3500]) {
        const { file, plain, records } = await sealedFile(size, 1000);
        for (const opener of [aead, WEB_CRYPTO_AEAD]) {
          expect(joinParts(await openSealedRecords(opener, file, 0, records))).toEqual(plain);
        }
        const web = (await sealRecords(WEB_CRYPTO_AEAD, file, 0, recordCount(file), plain)).map((p) => joinParts(p));
        expect(web).toEqual(records);
        // From any record on, in chunks of any size, through the opener.
        const from = recordCount(file) - 1;
        const opener = new RecordOpener(file, from, aead);
        const tail = joinParts(records.slice(from));
        const opened = [...(await opener.push(tail.subarray(0, 7))), ...(await opener.push(tail.subarray(7)))];
        opener.end();
        expect(joinParts(opened.map((r) => r.plain))).toEqual(plain.subarray(plainRange(file, from)[0]));
      }
    });

    it('refuses every tampered record, naming the file and the record', async () => {
      const { file, records } = await sealedFile(3500, 1000);
      /** The records with one bit of record `index` flipped at byte `at` (from its end when negative). */
      const flip = (index: number, at: number) =>
        records.map((record, n) => {
          const copy = record.slice();
          const byte = (at + copy.length) % copy.length;
          if (n === index) copy[byte] = (copy[byte] ?? 0) ^ 1;
          return copy;
        });
      const flipped = flip(2, 5);
      const tagFlipped = flip(1, -1);
      const other = await sealedFile(3500, 1000);
      const cases: Array<[string, () => Promise<unknown>, string, string]> = [
        ['a flipped bit', () => openSealedRecords(aead, file, 0, flipped), 'RECORD_AUTH_FAILED', 'record 2'],
        ['a flipped tag bit', () => openSealedRecords(aead, file, 0, tagFlipped), 'RECORD_AUTH_FAILED', 'record 1'],
        ['a moved record', () => openSealedRecords(aead, file, 1, [records[2]!]), 'RECORD_AUTH_FAILED', 'record 1'],
        [
          'another file’s record',
          () => openSealedRecords(aead, file, 0, [other.records[0]!]),
          'RECORD_AUTH_FAILED',
          'record 0',
        ],
        // Cut after a full record: the one now taken as last was sealed without the final flag.
        [
          'a stream cut after a full record',
          () => openSealedRecords(aead, { ...file, size: 3000 }, 2, [records[2]!]),
          'RECORD_AUTH_FAILED',
          'record 2',
        ],
        [
          'a short record',
          () => openSealedRecords(aead, file, 3, [records[3]!.subarray(0, 100)]),
          'RECORD_TRUNCATED',
          'record 3',
        ],
        [
          'a record past the last',
          () => openSealedRecords(aead, file, 4, [records[3]!]),
          'RECORD_TRUNCATED',
          'record 4',
        ],
      ];
      for (const [what, run, code, record] of cases) {
        const error = await failure(run);
        expect(error.code, what).toBe(code);
        expect(error.message, what).toContain(`f3500: ${record}`);
      }
    });
  });
}
