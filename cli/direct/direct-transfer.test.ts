/**
 * The command's two adapters end to end without WebRTC: `ferry send --to`'s DirectSend
 * (the engine's SenderSession) and `ferry receive --nearby`'s DirectReceive over an
 * in-memory channel, with files on disk and a real Ferry server for the relay route. The
 * channel is cut mid-file; either the sender reconnects and the transfer resumes from the
 * first record the recipient lacks, or it does not, and the rest goes through the relay
 * share (tus up, Range down) — the files arrive identical either way.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../server/test-support.ts';
import { ShareApi } from '../../shared/api-client.ts';
import { toBase64Url } from '../../shared/encoding.ts';
import { FerryError } from '../../shared/errors.ts';
import { relayShareId } from '../../shared/keys.ts';
import { type ControlMessageOf, FRAME_V2 } from '../../shared/p2p/frames.ts';
import { MemoryChannel } from '../../shared/p2p/session-test-kit.ts';
import { targetOf } from '../receive.ts';
import { collectFiles } from '../sources.ts';
import { DirectReceive, type ReceiveConnection } from './direct-receive.ts';
import { DirectSend, planTransfer, type SendConnection } from './direct-send.ts';
import { RelayRoute } from './relay-route.ts';

/** Two ends of one in-memory connection; `cut()` drops it as a network would (both hear NETWORK_ERROR). */
function connectionPair() {
  let loseSender!: (error: FerryError) => void;
  let loseReceiver!: (error: FerryError) => void;
  const senderLink = new MemoryChannel(true);
  const receiverLink = new MemoryChannel(false);
  const sender: SendConnection = {
    link: senderLink,
    auth: { confirmed: Promise.resolve() },
    lost: new Promise<never>((_, reject) => {
      loseSender = reject;
    }),
    onControl: () => {},
    close: (error) => cut(error),
  };
  const receiver: ReceiveConnection = {
    link: receiverLink,
    lost: new Promise<never>((_, reject) => {
      loseReceiver = reject;
    }),
    onControl: () => {},
    onBinary: () => {},
    close: (error) => cut(error),
  };
  sender.lost.catch(() => {});
  receiver.lost.catch(() => {});
  let frames = 0;
  let cutAfter = Number.POSITIVE_INFINITY;
  senderLink.deliverControl = (message) => {
    if (!senderLink.closed) receiver.onControl(message);
  };
  senderLink.deliverFrame = (frame) => {
    if (senderLink.closed) return;
    receiver.onBinary(frame);
    if (++frames === cutAfter) cut();
  };
  /** The acknowledgements of file 0 that reached the sender. */
  const acked: number[] = [];
  receiverLink.deliverControl = (message) => {
    if (receiverLink.closed) return;
    if (message.type === 'ack' && message.file === 0) acked.push(message.verified);
    sender.onControl(message);
  };
  function cut(error = new FerryError('NETWORK_ERROR', 'The connection was cut.')): void {
    if (senderLink.closed) return;
    senderLink.closed = true;
    receiverLink.closed = true;
    loseSender(error);
    loseReceiver(error);
  }
  return {
    sender,
    receiver,
    senderLink,
    acked,
    cutAfterFrames: (n: number) => {
      cutAfter = n;
    },
  };
}

/** The receiving side: opens the offer when it comes on `connection`, accepts it, receives into `out`. */
function receiveOn(connection: ReceiveConnection, out: string, server: string, lines: string[]) {
  let made!: (transfer: DirectReceive) => void;
  const transfer = new Promise<DirectReceive>((resolve) => {
    made = resolve;
  });
  const paths = new Promise<string[]>((resolve, reject) => {
    connection.onControl = (message) => {
      if (message.type !== 'offer') return;
      const receiving = new DirectReceive(message as ControlMessageOf<'offer'>, connection, {
        server,
        out,
        quiet: true,
        say: (line) => lines.push(line),
        peerName: 'Sender',
      });
      made(receiving);
      void receiving.open().then(() => receiving.receive().then(resolve, reject), reject);
    };
  });
  return { transfer, paths };
}

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
  async function twoFiles(name: string) {
    const contents = [randomBytes(8 * 1024 * 1024 + 5), randomBytes(300 * 1024)];
    const paths = contents.map((_, i) => path.join(dir, `${name}-${i}.bin`));
    for (const [i, file] of paths.entries()) await writeFile(file, contents[i]!);
    const files = await collectFiles(paths, path.join(dir, 'spool'));
    return { contents, planned: await planTransfer(files, FRAME_V2), out: path.join(dir, `${name}-out`) };
  }

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
});
