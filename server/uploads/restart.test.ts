/**
 * Crash safety: the server is SIGKILLed in the middle of an upload; a new process on the
 * same data dir reports the stored offset and tus-js-client resumes to identical bytes.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  api,
  createTestShare,
  fetchFile,
  spawnFerry,
  startTestServer,
  ticketFor,
  tusUpload,
  uploadAndComplete,
} from '../test-support.ts';

const dataDir = mkdtempSync(path.join(tmpdir(), 'ferry-restart-'));
const children: ChildProcess[] = [];

/** Runs `npm start`'s entry point as a real process and waits for its URL. */
async function startProcess(): Promise<{ child: ChildProcess; url: string }> {
  const started = await spawnFerry(dataDir);
  children.push(started.child);
  return started;
}

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('restart', () => {
  it('resumes an upload after the server was killed mid-upload', async () => {
    const bytes = randomBytes(24 * 1024 * 1024);
    const first = await startProcess();
    const share = await createTestShare(first.url, [{ size: bytes.length }]);

    let killed = false;
    const { promise, upload } = tusUpload(first.url, share, 0, bytes, {
      chunkSize: 1024 * 1024,
      onProgress: (sent) => {
        if (!killed && sent >= 6 * 1024 * 1024) {
          killed = true;
          first.child.kill('SIGKILL');
        }
      },
    });
    await expect(promise).rejects.toThrow();
    expect(killed).toBe(true);
    const uploadPath = new URL(upload.url!).pathname;

    const second = await startProcess();
    const head = await fetch(second.url + uploadPath, {
      method: 'HEAD',
      headers: { 'Tus-Resumable': '1.0.0', Authorization: `Bearer ${share.uploadToken}` },
    });
    expect(head.status).toBe(200);
    const offset = Number(head.headers.get('upload-offset'));
    expect(offset).toBeGreaterThan(0);
    expect(offset).toBeLessThan(bytes.length);

    let resumedFrom = -1;
    await tusUpload(second.url, share, 0, bytes, {
      uploadUrl: second.url + uploadPath,
      onProgress: (sent) => {
        if (resumedFrom < 0) resumedFrom = sent;
      },
    }).promise;
    expect(resumedFrom).toBeGreaterThanOrEqual(offset);

    await uploadAndComplete(second.url, share, []);
    const { ticket } = (await ticketFor(second.url, share, [0])).json as { ticket: string };
    const got = await fetchFile(second.url, share, 0, ticket);
    expect(got.bytes.equals(bytes)).toBe(true);

    // SIGTERM shuts down gracefully.
    const exited = new Promise<number | null>((resolve) => second.child.on('exit', resolve));
    second.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect((await api(second.url, 'GET', '/health').catch(() => ({ status: 0 }))).status).toBe(0);
  });
});

describe('a crash between the last byte and the seal', () => {
  it('seals a complete but unsealed upload on the next HEAD', async () => {
    const ferry = await startTestServer();
    try {
      const bytes = randomBytes(4096);
      const share = await createTestShare(ferry.url, [{ size: bytes.length }]);
      const b64 = (t: string) => Buffer.from(t).toString('base64');
      const auth = { 'Tus-Resumable': '1.0.0', Authorization: `Bearer ${share.uploadToken}` };
      const created = await fetch(`${ferry.url}/files/`, {
        method: 'POST',
        headers: { ...auth, 'Upload-Length': '4096', 'Upload-Metadata': `share ${b64(share.id)},index ${b64('0')}` },
      });
      const location = created.headers.get('location')!;
      // What a PATCH leaves on disk when the process dies before onUploadFinish runs.
      appendFileSync(path.join(ferry.dataDir, 'files', location.split('/').pop()!), bytes);
      const head = await fetch(ferry.url + location, { method: 'HEAD', headers: auth });
      expect(head.headers.get('upload-offset')).toBe('4096');
      await uploadAndComplete(ferry.url, share, []);
      const { ticket } = (await ticketFor(ferry.url, share, [0])).json as { ticket: string };
      expect((await fetchFile(ferry.url, share, 0, ticket)).bytes.equals(bytes)).toBe(true);
    } finally {
      await ferry.stop();
    }
  });
});
