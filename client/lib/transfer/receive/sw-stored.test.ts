import { createBLAKE3 } from 'hash-wasm';
import { afterEach, describe, expect, it } from 'vitest';
import { readZip } from '../../../../e2e/support/zip.ts';
import { randomBytes } from '../../../../shared/encoding.ts';
import { parseSwReply, type StoredFile, type SwReply, type SwStored } from './messages.ts';
import { type OpenStored, storedDownload } from './sw-stored.ts';
import { collect, firstDifference } from './test-records.ts';
import { zipLength } from './zip.ts';

const ports: MessagePort[] = [];
afterEach(() => {
  for (const port of ports.splice(0)) port.close();
});

/** The page's end of the download's port: every reply the service worker sent. */
function pagePort() {
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  const replies: SwReply[] = [];
  port1.onmessage = (event) => {
    const reply = parseSwReply(event.data);
    if (reply) replies.push(reply);
  };
  return { worker: port2, replies };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

/** Staged files of these sizes (random bytes, their BLAKE3), and an opener that reads them and counts reads. */
async function staged(sizes: number[]) {
  const plain = sizes.map((size) => randomBytes(size));
  const files: StoredFile[] = [];
  for (const [i, bytes] of plain.entries()) {
    const hasher = await createBLAKE3();
    hasher.update(bytes);
    const path = `${'S'.repeat(22)}-${i}`;
    files.push({ path, name: `dir/file-${i}.bin`, size: bytes.length, blake3: hasher.digest('hex'), modified: null });
  }
  const opened: string[] = [];
  const open: OpenStored = async (folder, path) => {
    opened.push(`${folder}/${path}`);
    const i = files.findIndex((f) => f.path === path);
    if (i < 0) throw new DOMException('not found', 'NotFoundError');
    return new Blob([plain[i] as Uint8Array<ArrayBuffer>]);
  };
  return { plain, files, open, opened };
}

const request = (files: StoredFile[], archive: string | null): SwStored => ({
  type: 'download-stored',
  id: 'A'.repeat(22),
  archive,
  folder: 'staged',
  files,
});

describe('storedDownload (the service worker serves files staged whole in OPFS)', () => {
  it('serves one file as itself, verified, with its exact size', async () => {
    const { plain, files, open } = await staged([70_000]);
    const port = pagePort();
    const download = await storedDownload(request(files, null), port.worker, open);
    expect(download).toMatchObject({ name: 'dir/file-0.bin', size: 70_000 });
    expect(firstDifference(await collect(download.stream), plain[0]!)).toBe(-1);
    await settle();
    expect(port.replies.filter((r) => r.type === 'verified')).toEqual([{ type: 'verified', file: 0 }]);
  });

  it('serves every staged file as one ZIP of identical entries, with its exact length', async () => {
    const { plain, files, open } = await staged([300_000, 5_000, 0]);
    const port = pagePort();
    const download = await storedDownload(request(files, 'ferry-x.zip'), port.worker, open);
    expect(download).toMatchObject({ name: 'ferry-x.zip', size: zipLength(files) });
    const zip = await collect(download.stream);
    expect(zip.length).toBe(download.size);
    const entries = readZip(Buffer.from(zip));
    expect(entries.map((e) => e.name)).toEqual(files.map((f) => f.name));
    for (const [i, entry] of entries.entries()) {
      expect(firstDifference(new Uint8Array(entry.bytes), plain[i]!), entry.name).toBe(-1);
    }
    await settle();
    expect(port.replies.filter((r) => r.type === 'started' || r.type === 'verified')).toEqual([
      { type: 'started', file: 0 },
      { type: 'verified', file: 0 },
      { type: 'started', file: 1 },
      { type: 'verified', file: 1 },
      { type: 'started', file: 2 },
      { type: 'verified', file: 2 },
    ]);
    expect(port.replies.filter((r) => r.type === 'failed')).toEqual([]);
  });

  it('errors the archive, naming the file, when a staged file does not match its BLAKE3', async () => {
    const { files, open } = await staged([20_000, 9_000]);
    const port = pagePort();
    const altered = files.map((f, i) => (i === 1 ? { ...f, blake3: 'b'.repeat(64) } : f));
    const download = await storedDownload(request(altered, 'ferry-x.zip'), port.worker, open);
    await expect(collect(download.stream)).rejects.toMatchObject({ code: 'FILE_HASH_MISMATCH' });
    await settle();
    expect(port.replies.find((r) => r.type === 'failed')).toMatchObject({ file: 1, code: 'FILE_HASH_MISMATCH' });
    expect(port.replies.filter((r) => r.type === 'verified')).toEqual([{ type: 'verified', file: 0 }]);
  });

  it('refuses before the download starts when a staged file is missing or of another size', async () => {
    const { files, open } = await staged([2_000, 3_000]);
    const missing = files.map((f, i) => (i === 1 ? { ...f, path: `${'M'.repeat(22)}-1` } : f));
    await expect(storedDownload(request(missing, 'ferry-x.zip'), null, open)).rejects.toMatchObject({
      code: 'STORAGE_FAILED',
      message: 'dir/file-1.bin is no longer stored in this browser.',
    });
    const short = files.map((f, i) => (i === 0 ? { ...f, size: 2_001 } : f));
    await expect(storedDownload(request(short, 'ferry-x.zip'), null, open)).rejects.toMatchObject({
      code: 'STORAGE_FAILED',
      message: 'dir/file-0.bin is stored with 2000 of 2001 bytes.',
    });
  });
});
