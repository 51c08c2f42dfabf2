/**
 * The command's two adapters end to end without WebRTC: `ferry send --to`'s DirectSend
 * (the engine's SenderSession) and `ferry receive --nearby`'s DirectReceive over an
 * in-memory channel, with files on disk and a real Ferry server for the relay route. The
 * channel is cut mid-file; either the sender reconnects and the transfer resumes from the
 * first record the recipient lacks, or it does not, and the rest goes through the relay
 * share (tus up, Range down) — the files arrive identical either way.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../server/test-support.ts';
import { ShareApi } from '../../shared/api-client.ts';
import { toBase64Url } from '../../shared/encoding.ts';
import { deriveShareKeys, relayShareId } from '../../shared/keys.ts';
import { openManifest, sealManifest } from '../../shared/manifest.ts';
import { decodeFrame } from '../../shared/p2p/frames.ts';
import { plainRange, recordCount } from '../../shared/records.ts';
import { targetOf } from '../receive.ts';
import { DirectReceive } from './direct-receive.ts';
import { DirectSend, type PlannedTransfer } from './direct-send.ts';
import { connectionPair, filesOn, receiveOn } from './direct-test-kit.ts';
import { RelayRoute } from './relay-route.ts';

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('ferry send --to and receive --nearby, cut mid-file', () => {
  let server: TestServer;
  let base: string;
  let dir: string;

  beforeAll(async () => {
    server = await startTestServer();
    base = `http://127.0.0.1:${server.port}`;
    dir = await mkdtemp(path.join(tmpdir(), 'ferry-direct-'));
  });
  afterAll(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** Two files on disk (8 MiB + 5 bytes and 300 KiB) and the transfer of them, planned. */
  const twoFiles = (name: string) => filesOn(dir, name, [8 * 1024 * 1024 + 5, 300 * 1024]);

  it('resumes on a new connection from the first record the recipient lacks; nothing goes to the server', async () => {
    const { contents, planned, out } = await twoFiles('resume');
    const first = connectionPair();
    const second = connectionPair();
    const said: string[] = [];
    const heard: string[] = [];
    const { transfer, paths } = receiveOn(first.receiver, out, base, heard);
    // Cut after the fifth frame (a few records each), early in file 0.
    first.cutAfterFrames(5);
    let reconnects = 0;
    const sending = new DirectSend(planned, new RelayRoute(base, planned.relay, null), {
      peerName: 'Receiver',
      quiet: true,
      say: (line) => said.push(line),
      reconnect: () => {
        reconnects++;
        void transfer.then((receiving) => receiving.resumeOn(second.receiver));
        return second.sender;
      },
    });
    const outcome = await sending.run(first.sender);
    expect(outcome).toEqual({ state: 'done' });
    const received = await paths;
    expect(reconnects).toBe(1);
    expect(sending.resumes).toBe(1);
    expect(sending.relayed).toBe(false);
    for (const [i, file] of received.entries()) expect(sha(await readFile(file!))).toBe(sha(contents[i]!));
    // The second connection started at the record resume-at named: at most the first
    // connection's unacknowledged frames again, never the whole file.
    const delivered = first.senderLink.records();
    expect(delivered.length).toBeGreaterThanOrEqual(5);
    expect(second.senderLink.records()[0]).toMatchObject({ file: 0, record: delivered.length });
    expect(said).toContain('Route: directly to Receiver again (resumed).');
    expect(heard).toContain('Route: directly from Sender again (resumed).');
    // No relay share was made.
    const api = new ShareApi(base);
    await expect(api.getShareInfo(await relayShareId(planned.plan.secret))).rejects.toMatchObject({
      code: 'SHARE_NOT_FOUND',
    });
  });

  it('continues through the relay share when no connection comes back, and revokes it once read', async () => {
    const { contents, planned, out } = await twoFiles('relay');
    const pair = connectionPair();
    const said: string[] = [];
    const heard: string[] = [];
    const { paths } = receiveOn(pair.receiver, out, base, heard);
    pair.cutAfterFrames(20);
    const route = new RelayRoute(base, planned.relay, null);
    const relayedFrom: number[][] = [];
    const relay = {
      send: (from: readonly number[], onStored: (file: number, bytes: number) => void) => {
        relayedFrom.push([...from]);
        return route.send(from, onStored);
      },
      stop: () => route.stop(),
      withdraw: () => route.withdraw(),
    };
    const sending = new DirectSend(planned, relay, {
      peerName: 'Receiver',
      quiet: true,
      say: (line) => said.push(line),
      reconnect: () => null,
    });
    const outcome = await sending.run(pair.sender);
    expect(outcome).toEqual({ state: 'done' });
    const received = await paths;
    expect(sending.relayed).toBe(true);
    for (const [i, file] of received.entries()) expect(sha(await readFile(file!))).toBe(sha(contents[i]!));
    expect(said.some((line) => line.startsWith("Route: through Ferry's server (relay)"))).toBe(true);
    expect(heard, heard.join('\n')).toContain("Route: through Ferry's server (relay) from Sender.");
    // File 0 went up from the first record the recipient had not acknowledged (acks come
    // every 2 MiB), file 1 whole; the recipient skipped the records it had beyond that.
    const lastAck = pair.acked.at(-1) ?? 0;
    expect(relayedFrom).toEqual([[lastAck, 0]]);
    expect(pair.senderLink.records().length).toBeGreaterThan(lastAck);
    const share = route.share!;
    // The recipient read it all (its ticket's coverage whole), so the sender may revoke it.
    expect(await route.collect(10_000, 100)).toBe(true);
    await expect(new ShareApi(base).getShareInfo(share.id)).rejects.toMatchObject({ code: 'SHARE_REVOKED' });
  });

  it('a sender that goes silent mid-file is taken as gone: the recipient looks for the relay share, then fails, keeping nothing', async () => {
    const { planned, out } = await twoFiles('silent');
    const pair = connectionPair();
    const heard: string[] = [];
    const offer = {
      type: 'offer',
      transfer: planned.plan.transfer,
      secret: toBase64Url(planned.plan.secret),
      manifest: planned.plan.manifest,
    } as const;
    const receiving = new DirectReceive(offer, pair.receiver, {
      server: base,
      out,
      quiet: true,
      say: (line) => heard.push(line),
      peerName: 'Sender',
      recordStallMs: 300,
      relayWaitMs: 1500,
    });
    const manifest = await receiving.open();
    // The sender answers nothing and sends no record: its connection never reports a close.
    const started = Date.now();
    await expect(receiving.receive()).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(heard[0]).toMatch(/^The connection to Sender was lost \(nothing arrived for 0 s\)/);
    await expect(readFile(`${targetOf(out, manifest.files[0]!.name)}.ferry-part`)).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });

  /** Sends `planned` over `pair` with no reconnection (the relay route stays unused unless cut). */
  function sendOver(planned: PlannedTransfer, pair: ReturnType<typeof connectionPair>) {
    const sending = new DirectSend(planned, new RelayRoute(base, planned.relay, null), {
      peerName: 'Receiver',
      quiet: true,
      say: () => {},
      reconnect: () => null,
    });
    return sending.run(pair.sender);
  }

  /** Flips a bit of record `record` of file `file` on its way to the recipient. */
  function tamper(pair: ReturnType<typeof connectionPair>, file: number, record: number): void {
    const deliver = pair.senderLink.deliverFrame;
    pair.senderLink.deliverFrame = (frame) => {
      const decoded = decodeFrame(frame);
      const sealed = decoded.ok && decoded.file === file ? decoded.records[record - decoded.first] : undefined;
      if (sealed) frame[sealed.byteOffset + 7]! ^= 0x01;
      deliver(frame);
    };
  }

  it('a record that fails verification ends it naming the file and record: the sender hears the code, nothing of the file is kept', async () => {
    const { planned, out } = await twoFiles('tamper');
    const pair = connectionPair();
    tamper(pair, 0, 40);
    const { paths } = receiveOn(pair.receiver, out, base, []);
    const [sent, received] = await Promise.allSettled([sendOver(planned, pair), paths]);
    expect(received).toMatchObject({
      status: 'rejected',
      reason: { code: 'RECORD_AUTH_FAILED', message: 'tamper-0.bin: record 40 failed verification.' },
    });
    expect(sent).toMatchObject({
      status: 'fulfilled',
      value: { state: 'failed', error: { code: 'RECORD_AUTH_FAILED' } },
    });
    // The part file is gone by the time the failure is reported (and no file has its name).
    expect(await readdir(out)).toEqual([]);
  });

  it('an offer whose file exists here is refused with CONFLICT, told to the sender; the file is left as it was', async () => {
    const { planned, out } = await filesOn(dir, 'conflict', [1000]);
    await mkdir(out, { recursive: true });
    await writeFile(path.join(out, 'conflict-0.bin'), 'mine');
    const pair = connectionPair();
    const { paths } = receiveOn(pair.receiver, out, base, []);
    const [sent, received] = await Promise.allSettled([sendOver(planned, pair), paths]);
    expect(received).toMatchObject({ status: 'rejected', reason: { code: 'CONFLICT' } });
    expect(sent).toMatchObject({ status: 'fulfilled', value: { state: 'failed', error: { code: 'CONFLICT' } } });
    expect(await readFile(path.join(out, 'conflict-0.bin'), 'utf8')).toBe('mine');
  });

  describe('-o -', () => {
    /** A stream standing in for stdout, keeping what was written (as it is written). */
    function stdout() {
      const chunks: Buffer[] = [];
      const stream = new Writable({
        write(chunk: Buffer, _encoding, done) {
          chunks.push(chunk);
          done();
        },
      });
      return { stream, bytes: () => Buffer.concat(chunks) };
    }

    it('writes the one file to stdout, identical, also when the channel is cut and the rest comes through the relay share', async () => {
      const { contents, planned } = await filesOn(dir, 'stdout', [3 * 1024 * 1024 + 9]);
      const pair = connectionPair();
      pair.cutAfterFrames(12);
      const out = stdout();
      const heard: string[] = [];
      const { paths } = receiveOn(pair.receiver, '-', base, heard, { stdout: out.stream });
      const [sent, received] = await Promise.all([sendOver(planned, pair), paths]);
      expect(sent).toEqual({ state: 'done' });
      expect(received).toEqual(['-']);
      expect(heard).toContain("Route: through Ferry's server (relay) from Sender.");
      expect(sha(out.bytes())).toBe(sha(contents[0]!));
    });

    it('a record that fails verification stops stdout before it: what was written is a prefix of the file', async () => {
      const { contents, planned } = await filesOn(dir, 'stdout-bad', [1024 * 1024 + 3]);
      const pair = connectionPair();
      tamper(pair, 0, 9);
      const out = stdout();
      const { paths } = receiveOn(pair.receiver, '-', base, [], { stdout: out.stream });
      const sent = sendOver(planned, pair);
      await expect(paths).rejects.toMatchObject({
        code: 'RECORD_AUTH_FAILED',
        message: 'stdout-bad-0.bin: record 9 failed verification.',
      });
      expect(await sent).toMatchObject({ state: 'failed', error: { code: 'RECORD_AUTH_FAILED' } });
      // Records come several to a frame, and a frame is opened whole: at most records 0-8.
      expect(out.bytes().length).toBeLessThanOrEqual(9 * 64 * 1024);
      expect(sha(out.bytes())).toBe(sha(contents[0]!.subarray(0, out.bytes().length)));
    });

    it('a file whose BLAKE3 differs never reaches its length on stdout: every record but the last is written', async () => {
      const { planned } = await filesOn(dir, 'stdout-hash', [1024 * 1024 + 3]);
      // Every record opens, but the manifest names another hash: only the whole file can tell.
      const keys = await deriveShareKeys(planned.plan.secret);
      const manifest = await openManifest(planned.plan.manifest, keys.metaKey);
      const wrong = { ...manifest, files: manifest.files.map((f) => ({ ...f, blake3: '0'.repeat(64) })) };
      planned.plan.manifest = await sealManifest(wrong, keys.metaKey);
      const cipher = planned.plan.ciphers[0]!;
      const pair = connectionPair();
      const out = stdout();
      const { paths } = receiveOn(pair.receiver, '-', base, [], { stdout: out.stream });
      const sent = sendOver(planned, pair);
      await expect(paths).rejects.toMatchObject({ code: 'FILE_HASH_MISMATCH' });
      expect(await sent).toMatchObject({ state: 'failed', error: { code: 'FILE_HASH_MISMATCH' } });
      expect(out.bytes().length).toBe(plainRange(cipher, recordCount(cipher) - 1)[0]);
    });

    it('an offer of several files is refused with BAD_REQUEST before anything is written, and the sender is told', async () => {
      const { planned } = await filesOn(dir, 'stdout-two', [10, 20]);
      const pair = connectionPair();
      const out = stdout();
      const { paths } = receiveOn(pair.receiver, '-', base, [], { stdout: out.stream });
      const [sent, received] = await Promise.allSettled([sendOver(planned, pair), paths]);
      expect(received).toMatchObject({
        status: 'rejected',
        reason: { code: 'BAD_REQUEST', message: 'This offer has 2 files: use -o DIR, not -o -.' },
      });
      expect(sent).toMatchObject({ status: 'fulfilled', value: { state: 'failed', error: { code: 'BAD_REQUEST' } } });
      expect(out.bytes().length).toBe(0);
    });
  });
});
