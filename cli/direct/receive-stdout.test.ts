/**
 * `ferry receive --nearby -o -` as a person or a script runs it: the real command (node
 * cli/ferry.mjs) against a real Ferry server, beside another real command that pairs with
 * it (`ferry pair`, the verification code confirmed on both sides) and sends to it. The one
 * file arrives on stdout byte for byte, nothing else is written there, an offer of several
 * files is refused with BAD_REQUEST (exit 2) before a byte is written, and a file that fails
 * verification on its way through the server exits 3 naming the file and record, with only
 * a prefix of the file on stdout.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FerryCli } from '../../e2e/support/ferry-cli.ts';
import { startTestServer, type TestServer } from '../../server/test-support.ts';

/** Pairing two commands and sending is slow on a loaded 2-core machine. */
const SLOW_MS = 180_000;

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Waits until the command's stderr matches `pattern`, and answers the match. */
async function heard(stderr: () => string, pattern: RegExp, timeoutMs = 60_000): Promise<RegExpExecArray> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(stderr());
    if (match) return match;
    if (Date.now() > until) throw new Error(`not heard ${pattern} in:\n${stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Every file under `dir` (the server's data directory), with its size. */
async function filesUnder(dir: string): Promise<{ file: string; size: number }[]> {
  const found: { file: string; size: number }[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    found.push({ file, size: (await stat(file)).size });
  }
  return found;
}

describe('ferry receive --nearby -o -', () => {
  let server: TestServer;
  let url: string;
  let dir: string;
  let alpha: FerryCli;
  let beta: FerryCli;

  beforeAll(async () => {
    server = await startTestServer();
    url = `http://127.0.0.1:${server.port}`;
    dir = await mkdtemp(path.join(tmpdir(), 'ferry-stdout-'));
    alpha = new FerryCli(path.join(dir, 'alpha'));
    beta = new FerryCli(path.join(dir, 'beta'));
    // The two commands pair as two people would: a code, then the same verification code on both.
    const making = alpha.start(['pair', '--server', url, '--name', 'Alpha'], {}, { input: true });
    const code = (await heard(making.stderr, /Pairing code: (\d{3}) (\d{3})/)).slice(1).join('');
    const joining = beta.start(['pair', code, '--server', url, '--name', 'Beta'], {}, { input: true });
    const shown = await Promise.all([
      heard(making.stderr, /Verification code: (\d{3} \d{3})/),
      heard(joining.stderr, /Verification code: (\d{3} \d{3})/),
    ]);
    expect(shown[0][1]).toBe(shown[1][1]);
    making.child.stdin?.write('y\n');
    joining.child.stdin?.write('y\n');
    const [made, joined] = await Promise.all([making.exited, joining.exited]);
    expect(made.status, made.stderr).toBe(0);
    expect(joined.status, joined.stderr).toBe(0);
  }, SLOW_MS);

  afterAll(async () => {
    alpha?.stop();
    beta?.stop();
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** `ferry receive --nearby --yes -o -` as Beta; `stdout()`: the bytes it wrote there so far. */
  function receive() {
    const run = beta.start(['receive', '--nearby', '--yes', '-o', '-', '--server', url, '--name', 'Beta']);
    const chunks: Buffer[] = [];
    run.child.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk));
    return { ...run, stdout: () => Buffer.concat(chunks) };
  }

  /** The same, once it waits for files. */
  async function receiving() {
    const run = receive();
    await heard(run.stderr, /Waiting for files/);
    return run;
  }

  it(
    'the one file of a direct transfer goes to stdout byte for byte, and nothing else does',
    async () => {
      const data = randomBytes(1024 * 1024 + 17);
      const file = path.join(dir, 'one.bin');
      await writeFile(file, data);
      const run = await receiving();
      const sent = await alpha.run(['send', '--to', 'Beta', file, '--server', url, '--name', 'Alpha']);
      expect(sent.status, sent.stderr).toBe(0);
      const got = await run.exited;
      expect(got.status, got.stderr).toBe(0);
      expect(got.stderr).toContain('Route: directly from Alpha (WebRTC).');
      // stdout is the file; the lines for the person stay on stderr.
      expect(sha(run.stdout())).toBe(sha(data));
      expect(got.stderr).not.toContain('received');
    },
    SLOW_MS,
  );

  it(
    'an offer of two files is refused with BAD_REQUEST before a byte is written; the sender hears why',
    async () => {
      const files = [path.join(dir, 'a.bin'), path.join(dir, 'b.bin')];
      for (const file of files) await writeFile(file, randomBytes(1000));
      const run = await receiving();
      const sent = await alpha.run(['send', '--to', 'Beta', ...files, '--server', url, '--name', 'Alpha']);
      const got = await run.exited;
      expect(got.status, got.stderr).toBe(2);
      expect(got.stderr).toMatch(/^ferry: BAD_REQUEST: This offer has 2 files: use -o DIR, not -o -\.$/m);
      expect(run.stdout().length).toBe(0);
      expect(sent.status, sent.stderr).toBe(2);
      expect(sent.stderr).toMatch(/^ferry: BAD_REQUEST: This offer has 2 files/m);
    },
    SLOW_MS,
  );

  it(
    'a file left in the mailbox whose stored ciphertext was altered exits 3 naming file and record; stdout holds only a prefix',
    async () => {
      const data = randomBytes(1024 * 1024 + 5);
      const file = path.join(dir, 'boxed.bin');
      await writeFile(file, data);
      // Beta is not online: after 15 s the files go through the server and the offer waits in its mailbox.
      const before = new Set((await filesUnder(server.dataDir)).map((f) => f.file));
      const sent = await alpha.run(['send', '--to', 'Beta', file, '--server', url, '--name', 'Alpha']);
      expect(sent.status, sent.stderr).toBe(0);
      expect(sent.stderr).toContain('Stored on the server for Beta');
      // The relay upload is the new file of the ciphertext's size (64 KiB records, 16 bytes of tag each).
      const records = Math.ceil(data.length / 65536);
      const stored = (await filesUnder(server.dataDir)).filter(
        (f) => !before.has(f.file) && f.size === data.length + 16 * records,
      );
      expect(stored).toHaveLength(1);
      // One bit of record 5 flipped on the server's disk.
      const handle = await open(stored[0]!.file, 'r+');
      const at = 5 * (65536 + 16) + 100;
      const byte = Buffer.alloc(1);
      await handle.read(byte, 0, 1, at);
      byte[0]! ^= 0x01;
      await handle.write(byte, 0, 1, at);
      await handle.close();
      const run = receive();
      const got = await run.exited;
      expect(got.status, got.stderr).toBe(3);
      expect(got.stderr).toMatch(/^ferry: RECORD_AUTH_FAILED: boxed\.bin: record 5 failed verification\.$/m);
      const out = run.stdout();
      expect(out.length).toBeLessThanOrEqual(5 * 65536);
      expect(sha(out)).toBe(sha(data.subarray(0, out.length)));
    },
    SLOW_MS,
  );
});
