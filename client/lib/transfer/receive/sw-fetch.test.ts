import { createBLAKE3 } from 'hash-wasm';
import { afterEach, describe, expect, it } from 'vitest';
import { FerryError } from '../../../../shared/errors.ts';
import { cipherRange } from '../../../../shared/records.ts';
import type { DecryptDeps } from './decrypt-file.ts';
import { parseSwReply, type SwFetch, type SwFetchFile, type SwReply } from './messages.ts';
import { fetchedDownload } from './sw-fetch.ts';
import { collect, fakeServer, firstDifference, setup } from './test-records.ts';

/** The page's end of the download's port: every reply the service worker sent. */
function pagePort() {
  const { port1, port2 } = new MessageChannel();
  const replies: SwReply[] = [];
  port1.onmessage = (event) => {
    const reply = parseSwReply(event.data);
    if (reply) replies.push(reply);
  };
  return { page: port1, worker: port2, replies };
}

const ports: MessagePort[] = [];
afterEach(() => {
  for (const port of ports.splice(0)) port.close();
});

/** A sealed random file and what the page would hand over for it as file `index` of its share. */
async function sealedFile(size: number, index: number, name: string, blake3?: string | null) {
  const made = await setup(size);
  const { cipher, job } = made;
  const keyBytes = new Uint8Array(made.keyBytes);
  const file: SwFetchFile = {
    shareId: job.shareId,
    index,
    readerToken: job.readerToken,
    ticket: job.ticket,
    name,
    size,
    recordSize: cipher.recordSize,
    nonceBase: new Uint8Array(cipher.nonceBase),
    blake3: blake3 === undefined ? job.blake3 : blake3,
    keyBytes,
    modified: null,
  };
  return { ...made, file, keyBytes };
}

async function request(size: number, blake3?: string | null) {
  const made = await sealedFile(size, 0, 'dir/a.bin', blake3);
  const message: SwFetch = { type: 'download-fetch', id: 'A'.repeat(22), file: made.file };
  const port = pagePort();
  ports.push(port.page, port.worker);
  return { ...made, message, port };
}

/** Lets the port deliver what was posted. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('fetchedDownload (the service worker fetches and decrypts itself)', () => {
  it('serves the verified file with its exact size and zeroes the key bytes it was given', async () => {
    const { plain, sealed, message, keyBytes, port } = await request(20_000);
    const { deps } = fakeServer(sealed);
    const download = await fetchedDownload(message, port.worker, deps);
    expect(keyBytes.every((b) => b === 0)).toBe(true);
    expect(download).toMatchObject({ type: 'download', id: message.id, name: 'dir/a.bin', size: 20_000 });
    expect(firstDifference(await collect(download.stream), plain)).toBe(-1);
    await settle();
    expect(port.replies.filter((r) => r.type === 'failed')).toEqual([]);
    expect(port.replies.some((r) => r.type === 'progress')).toBe(true);
  });

  it('resumes dropped connections (decrypt-file.ts resume: a new GET each time)', async () => {
    const { plain, sealed, message, port } = await request(20_000);
    const server = fakeServer(sealed, [5_000, 9_000]);
    const download = await fetchedDownload(message, port.worker, server.deps);
    expect(firstDifference(await collect(download.stream), plain)).toBe(-1);
    expect(server.starts.length).toBe(3);
  });

  it('errors instead of ending on a tampered record, and tells the page which failure', async () => {
    const { sealed, message, cipher, port } = await request(20_000);
    const [start] = cipherRange(cipher, 9);
    sealed[start + 3] = (sealed[start + 3] ?? 0) ^ 1;
    const download = await fetchedDownload(message, port.worker, fakeServer(sealed).deps);
    await expect(collect(download.stream)).rejects.toMatchObject({ code: 'RECORD_AUTH_FAILED' });
    await settle();
    expect(port.replies.find((r) => r.type === 'failed')).toMatchObject({ code: 'RECORD_AUTH_FAILED' });
  });

  it('fails with the server’s code when the ticket is refused', async () => {
    const { message, port } = await request(5_000);
    const deps: DecryptDeps = {
      fetchCiphertext: async () => {
        throw new FerryError('UNAUTHORIZED', 'This download ticket is no longer valid.');
      },
      sleep: async () => {},
      createHasher: createBLAKE3,
    };
    const download = await fetchedDownload(message, port.worker, deps);
    await expect(collect(download.stream)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await settle();
    expect(port.replies.find((r) => r.type === 'failed')).toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('errors when the network is gone for good', async () => {
    const { sealed, message, port } = await request(5_000);
    const server = fakeServer(sealed, Array(20).fill(1_000));
    const download = await fetchedDownload(message, port.worker, server.deps);
    await expect(collect(download.stream)).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
  });

  it('asks the page for the final hash of a file received while it uploads, and checks it', async () => {
    const good = await request(5_000, null);
    good.port.page.onmessage = (event) => {
      if (parseSwReply(event.data)?.type === 'need-hash')
        good.port.page.postMessage({ type: 'hash', file: 0, blake3: good.job.blake3 });
    };
    const ok = await fetchedDownload(good.message, good.port.worker, fakeServer(good.sealed).deps);
    expect(firstDifference(await collect(ok.stream), good.plain)).toBe(-1);

    const bad = await request(5_000, null);
    bad.port.page.onmessage = (event) => {
      if (parseSwReply(event.data)?.type === 'need-hash')
        bad.port.page.postMessage({ type: 'hash', file: 0, blake3: 'b'.repeat(64) });
    };
    const wrong = await fetchedDownload(bad.message, bad.port.worker, fakeServer(bad.sealed).deps);
    await expect(collect(wrong.stream)).rejects.toMatchObject({ code: 'FILE_HASH_MISMATCH' });
  });
});
