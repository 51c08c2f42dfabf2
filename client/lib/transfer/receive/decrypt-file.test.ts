import { createBLAKE3 } from 'hash-wasm';
import { describe, expect, it } from 'vitest';
import { FerryError } from '../../../../shared/errors.ts';
import { type DecryptDeps, decryptFile } from './decrypt-file.ts';
import { REWIND_BYTES, rewindRecord } from './resume.ts';
import { collect, fakeServer, firstDifference, setup } from './test-records.ts';

describe('decryptFile', () => {
  it('decrypts and verifies a whole file', async () => {
    const { plain, sealed, job } = await setup(5000);
    const { deps } = fakeServer(sealed);
    const file = decryptFile(job, deps);
    expect(firstDifference(await collect(file.stream), plain)).toBe(-1);
    await expect(file.result).resolves.toBeUndefined();
  });

  it('resumes a dropped connection record-aligned, re-fetching up to 2 MiB before the gap', async () => {
    const { plain, sealed, job, cipher } = await setup(3 * 1024 * 1024);
    const dropAt = 2_600_000;
    const server = fakeServer(sealed, [dropAt]);
    const file = decryptFile(job, server.deps);
    expect(firstDifference(await collect(file.stream), plain)).toBe(-1);
    await file.result;
    const received = Math.floor(dropAt / 1040);
    expect(server.starts).toEqual([0, rewindRecord(cipher, received) * 1040]);
    expect(server.starts[1]).toBeGreaterThan(0);
    expect(received * 1040 - server.starts[1]!).toBeGreaterThanOrEqual(REWIND_BYTES);
  });

  it('re-fetches a small file from the start after a drop and hands each record on once', async () => {
    const { plain, sealed, job } = await setup(10_000);
    const server = fakeServer(sealed, [2100, 1400]);
    const file = decryptFile(job, server.deps);
    expect(firstDifference(await collect(file.stream), plain)).toBe(-1);
    await file.result;
    expect(server.starts).toEqual([0, 0, 0]);
  });

  it('gives up after a bounded number of attempts', async () => {
    const { sealed, job } = await setup(5000);
    const server = fakeServer(sealed, [10, 10, 10, 10, 10, 10, 10]);
    const file = decryptFile(job, server.deps);
    await expect(collect(file.stream)).rejects.toBeInstanceOf(FerryError);
    await expect(file.result).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
    expect(server.starts.length).toBe(6);
  });

  it('fails fast naming the file and record when ciphertext was tampered with', async () => {
    const { sealed, job } = await setup(5000);
    sealed[3 * 1040 + 5]! ^= 1;
    const file = decryptFile(job, fakeServer(sealed).deps);
    await expect(collect(file.stream)).rejects.toThrow('dir/a.bin: record 3 failed verification');
    await expect(file.result).rejects.toMatchObject({ code: 'RECORD_AUTH_FAILED' });
  });

  it('errors the stream when the whole-file hash does not match', async () => {
    const { sealed, job } = await setup(5000);
    const file = decryptFile({ ...job, blake3: 'f'.repeat(64) }, fakeServer(sealed).deps);
    await expect(collect(file.stream)).rejects.toThrow('dir/a.bin failed verification');
    await expect(file.result).rejects.toMatchObject({ code: 'FILE_HASH_MISMATCH' });
  });

  it('continues a later try from record `from`, rewound like a resume, hashing on from the prefix', async () => {
    const { plain, sealed, job, cipher } = await setup(3 * 1024 * 1024);
    const from = 2000;
    const prefix = plain.subarray(0, from * 1024);
    const server = fakeServer(sealed);
    const createHasher = async () => (await createBLAKE3()).update(prefix);
    const file = decryptFile({ ...job, from }, { ...server.deps, createHasher });
    const rest = await collect(file.stream);
    await expect(file.result).resolves.toBeUndefined();
    expect(firstDifference(rest, plain.subarray(from * 1024)), 'only the records from `from` are handed on').toBe(-1);
    expect(server.starts).toEqual([rewindRecord(cipher, from) * 1040]);
    // A wrong prefix fails the whole-file hash: what an earlier try left is checked too.
    const wrong = async () => (await createBLAKE3()).update(new Uint8Array(prefix.length));
    const bad = decryptFile({ ...job, from }, { ...fakeServer(sealed).deps, createHasher: wrong });
    await expect(collect(bad.stream)).rejects.toThrow('failed verification');
    await expect(bad.result).rejects.toMatchObject({ code: 'FILE_HASH_MISMATCH' });
  });

  it('handles an empty file', async () => {
    const { sealed, job } = await setup(0);
    const file = decryptFile(job, fakeServer(sealed).deps);
    expect(await collect(file.stream)).toEqual(new Uint8Array(0));
    await file.result;
  });
});

/**
 * A share still uploading: `stored` bytes are on the server and grow by `step` each time the
 * receiver pauses. Answers 206 `…/*` up to `stored`, 425 when nothing new, `/size` at the end.
 */
function uploadingServer(sealed: Uint8Array, first: number, step: number) {
  let stored = first;
  let clock = 0;
  const starts: number[] = [];
  const fetchCiphertext: DecryptDeps['fetchCiphertext'] = async (_id, _i, _auth, start = 0) => {
    starts.push(start);
    if (start >= stored) throw new FerryError('FILE_NOT_READY', 'File 0 is still being uploaded.');
    const end = stored;
    const total = end === sealed.length ? String(sealed.length) : '*';
    return new Response(sealed.slice(start, end), {
      status: 206,
      headers: { 'Content-Range': `bytes ${start}-${end - 1}/${total}` },
    });
  };
  const deps = {
    fetchCiphertext,
    sleep: async (ms: number) => {
      clock += ms;
      stored = Math.min(sealed.length, stored + step);
    },
    createHasher: createBLAKE3,
    now: () => clock,
  } satisfies DecryptDeps;
  return { starts, deps, stored: () => stored };
}

describe('decryptFile while the sender uploads', () => {
  it('follows the stored prefix and releases the last bytes only after the final hash', async () => {
    const { plain, sealed, job } = await setup(10_000);
    const server = uploadingServer(sealed, 1500, 2500);
    let delivered = 0;
    let deliveredAtHash = -1;
    const file = decryptFile(
      {
        ...job,
        blake3: null,
        finalHash: async () => {
          deliveredAtHash = delivered;
          return job.blake3 ?? '';
        },
      },
      server.deps,
    );
    const parts: Uint8Array[] = [];
    for await (const part of file.stream) {
      delivered += part.length;
      parts.push(part);
    }
    await expect(file.result).resolves.toBeUndefined();
    expect(Buffer.concat(parts).equals(Buffer.from(plain))).toBe(true);
    // The hash was asked for once every record had arrived, with the last one held back.
    expect(deliveredAtHash).toBeGreaterThan(0);
    expect(deliveredAtHash).toBeLessThan(plain.length);
    // Every request started on a record boundary (1040 bytes) and never went backwards.
    expect(server.starts.every((s) => s % 1040 === 0)).toBe(true);
    expect([...server.starts].sort((a, b) => a - b)).toEqual(server.starts);
  });

  it('fails when the final manifest hash differs, and when the sender never finishes', async () => {
    const { sealed, job } = await setup(5000);
    const wrong = decryptFile(
      { ...job, blake3: null, finalHash: async () => 'f'.repeat(64) },
      uploadingServer(sealed, 0, 3000).deps,
    );
    await expect(collect(wrong.stream)).rejects.toThrow('dir/a.bin failed verification');
    await expect(wrong.result).rejects.toMatchObject({ code: 'FILE_HASH_MISMATCH' });

    const stalled = uploadingServer(sealed, 2500, 0);
    const file = decryptFile({ ...job, blake3: null, finalHash: async () => job.blake3 ?? '' }, stalled.deps);
    await expect(collect(file.stream)).rejects.toThrow('the sender has stopped uploading');
    await expect(file.result).rejects.toMatchObject({ code: 'FILE_NOT_READY' });
  });
});
