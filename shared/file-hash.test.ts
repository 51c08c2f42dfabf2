import { createBLAKE3 } from 'hash-wasm';
import { describe, expect, it } from 'vitest';
import { FerryError } from './errors.ts';
import { checkDigest, hashMismatch, verifyingStream } from './file-hash.ts';

const chunks = [Uint8Array.of(1, 2, 3), Uint8Array.of(4, 5), Uint8Array.of(6)];

async function blake3Hex(data: Uint8Array[]): Promise<string> {
  const h = await createBLAKE3();
  for (const c of data) h.update(c);
  return h.digest('hex');
}

/** Writes chunks one by one and records what the readable side has produced after each. */
async function drive(stream: TransformStream<Uint8Array, Uint8Array>, input: Uint8Array[]) {
  const seen: Uint8Array[] = [];
  const reading = (async () => {
    const reader = stream.readable.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      seen.push(value);
    }
  })();
  const writer = stream.writable.getWriter();
  const seenAfterWrites: number[] = [];
  for (const c of input) {
    await writer.write(c);
    await new Promise((r) => setTimeout(r, 0));
    seenAfterWrites.push(seen.length);
  }
  const closing = writer.close();
  const [closed, read] = await Promise.allSettled([closing, reading]);
  return { seen, seenAfterWrites, closed, read };
}

describe('verifyingStream', () => {
  it('holds the last chunk back and releases it only once the hash matches', async () => {
    let verified = false;
    const stream = verifyingStream(await createBLAKE3(), await blake3Hex(chunks), 'a.bin', (failure) => {
      verified = !failure;
    });
    const { seen, seenAfterWrites, read } = await drive(stream, chunks);
    expect(seenAfterWrites).toEqual([0, 1, 2]);
    expect(read.status).toBe('fulfilled');
    expect(seen).toEqual(chunks);
    expect(verified).toBe(true);
  });

  it('errors the stream and never releases the last chunk on a mismatch', async () => {
    let verified = false;
    const stream = verifyingStream(await createBLAKE3(), '0'.repeat(64), 'photos/a.jpg', (failure) => {
      verified = !failure;
    });
    const { seen, read } = await drive(stream, chunks);
    expect(seen).toEqual(chunks.slice(0, -1));
    expect(read.status).toBe('rejected');
    const reason = (read as PromiseRejectedResult).reason;
    expect(reason).toBeInstanceOf(FerryError);
    expect(reason.code).toBe('FILE_HASH_MISMATCH');
    expect(reason.message).toContain('photos/a.jpg failed verification');
    expect(verified).toBe(false);
  });

  it('errors the readable side when the upstream fails', async () => {
    const stream = verifyingStream(await createBLAKE3(), await blake3Hex(chunks), 'a.bin');
    const source = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(chunks[0]!);
        c.enqueue(chunks[1]!);
        c.error(new FerryError('RECORD_AUTH_FAILED', 'a.bin: record 2 failed verification.'));
      },
    });
    const seen: Uint8Array[] = [];
    const reader = source.pipeThrough(stream).getReader();
    await expect(
      (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          seen.push(value);
        }
      })(),
    ).rejects.toThrow('record 2');
    // Whatever got through before the error, the held chunk never does.
    expect(seen).not.toContainEqual(chunks[1]);
  });
});

describe('checkDigest', () => {
  it('passes on the hash of every byte and names the file on any other', async () => {
    const expected = await blake3Hex(chunks);
    const hasher = await createBLAKE3();
    for (const c of chunks) hasher.update(c);
    expect(() => checkDigest(hasher, expected, 'a.bin')).not.toThrow();
    const short = await createBLAKE3();
    for (const c of chunks.slice(0, -1)) short.update(c);
    const thrown = (() => {
      try {
        checkDigest(short, expected, 'dir/a.bin');
      } catch (error) {
        return error;
      }
    })();
    expect(thrown).toEqual(hashMismatch('dir/a.bin'));
    expect((thrown as FerryError).code).toBe('FILE_HASH_MISMATCH');
    expect((thrown as FerryError).message).toBe(
      'dir/a.bin failed verification: its BLAKE3 hash does not match the sender’s.',
    );
  });
});
