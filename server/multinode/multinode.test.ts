/**
 * Two Ferry nodes behind HAProxy (deploy/haproxy.cfg) and nginx (deploy/nginx.conf), real
 * processes sharing one Postgres database, one Redis and one S3 bucket (Ceph radosgw): what
 * a client sees must not depend on which node answers, and losing a node mid-upload loses
 * nothing.
 */
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { Upload } from 'tus-js-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { CreateShareResponse, ShareInfo } from '../../shared/api.ts';
import { SIGNAL_PATH } from '../../shared/signaling.ts';
import { pairByCode, SignalClient } from '../signaling/test-client.ts';
import { postgresDatabases, redisUrl } from '../test-engines/databases.ts';
import { S3_START_TIMEOUT_MS, s3Buckets } from '../test-engines/s3-buckets.ts';
import {
  api,
  createTestShare,
  errorCode,
  fetchFile,
  newShareBody,
  patchInTwoParts,
  type TestShare,
  ticketFor,
  tusHeaders,
  uploadAndComplete,
} from '../test-support.ts';
import { type Balancer, type Cluster, type FerryNode, startCluster, startNginx } from './cluster.ts';

const MiB = 1024 * 1024;
/** FERRY_MAX_CONNECTIONS_PER_IP of the nodes (the balancer's 127.0.0.1 is trusted, never counted). */
const CONNECTION_CAP = 4;
const newDatabase = postgresDatabases();
const newBucket = s3Buckets();
let cluster: Cluster;
let redis: Redis;

beforeAll(async () => {
  const { bucket, s3 } = await newBucket();
  cluster = await startCluster({
    databaseUrl: await newDatabase(),
    redisUrl: redisUrl(),
    s3: { bucket, engine: s3 },
    env: { FERRY_MAX_CONNECTIONS_PER_IP: String(CONNECTION_CAP) },
  });
  redis = new Redis(redisUrl());
}, S3_START_TIMEOUT_MS + 60_000);

afterAll(async () => {
  redis?.disconnect();
  await cluster?.stop();
}, 30_000);

const node = (i: 0 | 1): FerryNode => cluster.nodes[i]!;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Creates file `index`'s tus upload on `base`; answers its path (/files/<id>). */
async function createUpload(base: string, share: TestShare, size: number, index = 0): Promise<string> {
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const res = await fetch(`${base}/files/`, {
    method: 'POST',
    headers: {
      ...tusHeaders(share),
      'Upload-Length': String(size),
      'Upload-Metadata': `share ${b64(share.id)},index ${b64(String(index))}`,
    },
  });
  expect(res.status).toBe(201);
  return res.headers.get('location') ?? '';
}

async function uploadOffset(base: string, share: TestShare, location: string): Promise<number> {
  const res = await fetch(base + location, { method: 'HEAD', headers: tusHeaders(share) });
  expect(res.status).toBe(200);
  return Number(res.headers.get('upload-offset'));
}

/** A PATCH whose body is written in two halves `pauseMs` apart, so two of them overlap on the nodes. */
function slowPatch(base: string, share: TestShare, location: string, offset: number, body: Buffer, pauseMs: number) {
  return patchInTwoParts(base + location, share, offset, body, Math.floor(body.length / 2), () => sleep(pauseMs));
}

async function completeShare(base: string, share: TestShare): Promise<void> {
  const done = await api(base, 'PATCH', `/api/shares/${share.id}`, {
    token: share.ownerToken,
    body: { complete: true },
  });
  expect(done.status).toBe(200);
}

async function downloadWhole(base: string, share: TestShare, index = 0): Promise<Buffer> {
  const ticket = await ticketFor(base, share, [index]);
  expect(ticket.status).toBe(201);
  const got = await fetchFile(base, share, index, (ticket.json as { ticket: string }).ticket);
  expect(got.status).toBe(200);
  return got.bytes;
}

/**
 * tus-js-client's file reader over `bytes`, each chunk's body streamed at `bytesPerSecond`:
 * a PATCH lasts long enough that a node can be killed while it holds the upload.
 */
function pacedReader(bytes: Buffer, bytesPerSecond: number) {
  const piece = 256 * 1024;
  return {
    openFile: async () => ({
      size: bytes.length,
      close: () => undefined,
      slice: async (start: number, end: number) => {
        const slice = bytes.subarray(start, Math.min(end, bytes.length));
        async function* paced() {
          for (let at = 0; at < slice.length; at += piece) {
            await sleep((piece / bytesPerSecond) * 1000);
            yield slice.subarray(at, at + piece);
          }
        }
        // tus-js-client reads a stream's length from its `size`.
        const value = Object.assign(Readable.from(paced()), { size: slice.length });
        return { value, done: end >= bytes.length };
      },
    }),
  };
}

/** Request log lines of `node` since `from` for `route` and `method`. */
function requests(node: FerryNode, from: number, route: string, method: string) {
  return node
    .logs()
    .slice(from)
    .filter((entry) => entry.msg === 'request' && entry.route === route && entry.method === method);
}

// A node a test killed comes back (same port, same engines) for the tests after it.
afterEach(async () => {
  for (const n of cluster.nodes) if (!n.running) await n.start();
}, 60_000);

describe('two nodes behind HAProxy', () => {
  it('a revoke on one node is answered 410 by the other at once', async () => {
    const bytes = randomBytes(4096);
    const share = await createTestShare(cluster.url, [{ size: bytes.length }]);
    await uploadAndComplete(cluster.url, share, [bytes]);
    expect((await ticketFor(node(1).url, share, [0])).status).toBe(201);

    const revoke = await api(node(0).url, 'DELETE', `/api/shares/${share.id}`, { token: share.ownerToken });
    expect(revoke.status).toBeLessThan(300);
    const [info, ticket] = await Promise.all([
      api(node(1).url, 'GET', `/api/shares/${share.id}`, { token: share.readerToken }),
      ticketFor(node(1).url, share, [0]),
    ]);
    expect([info.status, errorCode(info)]).toEqual([410, 'SHARE_REVOKED']);
    expect([ticket.status, errorCode(ticket)]).toEqual([410, 'SHARE_REVOKED']);
  });

  it('a download limit of 3 holds for 50 concurrent downloads spread over both nodes', async () => {
    const bytes = randomBytes(256 * 1024);
    const share = await createTestShare(cluster.url, [{ size: bytes.length }], { maxDownloads: 3 });
    await uploadAndComplete(cluster.url, share, [bytes]);
    const marks = cluster.nodes.map((n) => n.logs().length);

    // 50 recipients on 50 networks (the balancer's X-Forwarded-For names each).
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const from = { 'X-Forwarded-For': `10.${i}.0.1` };
        const ticket = await api(cluster.url, 'POST', `/api/shares/${share.id}/downloads`, {
          token: share.readerToken,
          body: { files: [0] },
          headers: from,
        });
        if (ticket.status !== 201) return { kind: 'refused', code: errorCode(ticket) } as const;
        const res = await fetch(`${cluster.url}/api/shares/${share.id}/files/0`, {
          headers: {
            ...from,
            Authorization: `Bearer ${share.readerToken}`,
            'Ferry-Ticket': (ticket.json as { ticket: string }).ticket,
          },
        });
        const got = Buffer.from(await res.arrayBuffer());
        return { kind: 'downloaded', whole: res.status === 200 && got.equals(bytes) } as const;
      }),
    );
    const downloaded = outcomes.filter((o) => o.kind === 'downloaded');
    expect(downloaded).toHaveLength(3);
    expect(downloaded.every((o) => o.whole)).toBe(true);
    const refusals = new Set(outcomes.filter((o) => o.kind === 'refused').map((o) => o.code));
    expect([...refusals]).toEqual(['DOWNLOAD_LIMIT_REACHED']);
    // Both nodes answered ticket requests.
    for (const [i, n] of cluster.nodes.entries()) {
      expect(requests(n, marks[i]!, '/api/shares/:id/downloads', 'POST').length).toBeGreaterThan(5);
    }
    await sleep(200); // a download is counted as its response closes
    const owner = await api(node(1).url, 'GET', `/api/shares/${share.id}/owner`, { token: share.ownerToken });
    expect((owner.json as ShareInfo).downloads).toBe(3);
  });

  it('two PATCHes at one offset on different nodes: one wins, the other is refused, the bytes are one of them', async () => {
    const size = 4 * MiB;
    const share = await createTestShare(cluster.url, [{ size }]);
    const location = await createUpload(node(0).url, share, size);
    const first = randomBytes(2 * MiB);
    const second = randomBytes(2 * MiB);
    const answers = await Promise.all([
      slowPatch(node(0).url, share, location, 0, first, 300),
      slowPatch(node(1).url, share, location, 0, second, 300),
    ]);
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([204, 409]);
    expect(answers.find((a) => a.status === 409)?.code).toBe('CONFLICT');
    const winner = answers[0]!.status === 204 ? first : second;
    expect(await uploadOffset(cluster.url, share, location)).toBe(2 * MiB);

    const rest = randomBytes(2 * MiB);
    expect((await slowPatch(node(1).url, share, location, 2 * MiB, rest, 0)).status).toBe(204);
    await completeShare(cluster.url, share);
    const stored = await downloadWhole(cluster.url, share);
    expect(sha256(stored)).toBe(sha256(Buffer.concat([winner, rest])));
  });

  it('a recipient on the other node downloads while the upload runs', async () => {
    const piece = MiB;
    const bytes = randomBytes(8 * piece);
    const share = await createTestShare(cluster.url, [{ size: bytes.length }]);
    const location = await createUpload(node(0).url, share, bytes.length);
    const ticket = await ticketFor(node(1).url, share, [0]);
    expect(ticket.status).toBe(201);
    const ticketId = (ticket.json as { ticket: string }).ticket;

    const received: Buffer[] = [];
    let have = 0;
    let readWhileUploading = 0;
    for (let offset = 0; offset < bytes.length; offset += piece) {
      // The sender stores one more piece through node 1…
      const sent = await slowPatch(node(0).url, share, location, offset, bytes.subarray(offset, offset + piece), 0);
      expect(sent.status).toBe(204);
      // …and the recipient, on node 2, reads what is stored so far.
      const got = await fetchFile(node(1).url, share, 0, ticketId, `bytes=${have}-`);
      expect(got.status).toBe(206);
      if (offset + piece < bytes.length) {
        expect(got.headers.get('content-range')).toBe(`bytes ${have}-${offset + piece - 1}/*`);
        readWhileUploading += got.bytes.length;
      }
      received.push(got.bytes);
      have += got.bytes.length;
    }
    expect(readWhileUploading).toBe(7 * piece);
    expect(sha256(Buffer.concat(received))).toBe(sha256(bytes));
  });

  it('a 64 MiB upload whose chunks alternate nodes completes through the other node when the one holding it is killed', async () => {
    const bytes = randomBytes(64 * MiB);
    const share = await createTestShare(cluster.url, [{ size: bytes.length }]);
    const marks = cluster.nodes.map((n) => n.logs().length);
    let killed: FerryNode | undefined;
    let looking = false;
    let retries = 0;
    let upload!: Upload;

    /** Kills the node whose process holds the upload's lock in Redis (its PATCH is running). */
    const killHolder = async () => {
      const id = new URL(upload.url ?? '', cluster.url).pathname.split('/').pop() ?? '';
      const holder = await redis.get(`ferry:tus-lock:${id}`);
      const pid = Number(holder?.split('/')[1]);
      const target = cluster.nodes.find((n) => n.pid === pid);
      if (!target || killed) return;
      target.kill();
      killed = target;
    };

    await new Promise<void>((resolve, reject) => {
      upload = new Upload(bytes, {
        endpoint: `${cluster.url}/files/`,
        headers: { Authorization: `Bearer ${share.uploadToken}` },
        metadata: { share: share.id, index: '0' },
        chunkSize: 8 * MiB,
        // ~2 s in all: each 8 MiB PATCH runs for ~250 ms.
        fileReader: pacedReader(bytes, 32 * MiB),
        // A dead node's lock is taken over when it expires (FERRY_UPLOAD_LOCK_TTL_MS, 10 s); the resuming HEAD waits for it.
        retryDelays: [0, 500, 1000, 2000, 4000],
        storeFingerprintForResuming: false,
        onShouldRetry: () => {
          retries++;
          return true;
        },
        onProgress: (sent) => {
          if (killed || looking || sent < 24 * MiB) return;
          looking = true;
          killHolder().then(() => {
            looking = false;
          }, reject);
        },
        onError: reject,
        onSuccess: () => resolve(),
      });
      upload.start();
    });
    expect(killed).toBeDefined();
    expect(retries).toBeGreaterThanOrEqual(1);
    // Before the kill both nodes stored chunks; after it the survivor stored the rest.
    for (const [i, n] of cluster.nodes.entries()) {
      const patches = requests(n, marks[i]!, '/files/:id', 'PATCH').filter((entry) => entry.status === 204);
      expect(patches.length, `${n.name} stored chunks`).toBeGreaterThanOrEqual(1);
    }
    await completeShare(cluster.url, share);
    const stored = await downloadWhole(cluster.url, share);
    expect(stored.length).toBe(bytes.length);
    expect(sha256(stored)).toBe(sha256(bytes));
  }, 120_000);
});

describe('signaling across the two nodes', () => {
  const DEVICE_A = 'device-aaaaaaaaaaaaaaaa';
  const DEVICE_B = 'device-bbbbbbbbbbbbbbbb';
  const open: SignalClient[] = [];
  afterAll(() => {
    for (const client of open) client.ws.terminate();
  });

  /** A device on `node`, from `network` (what the balancer's X-Forwarded-For would say). */
  async function device(on: FerryNode, deviceId: string, network: string): Promise<SignalClient> {
    const client = await SignalClient.connect(on.url, { headers: { 'X-Forwarded-For': network } });
    open.push(client);
    client.send({ type: 'hello', deviceId });
    return client;
  }

  it('devices on one network but different nodes see each other as nearby and relay', async () => {
    const a = await device(node(0), DEVICE_A, '203.0.113.7');
    const b = await device(node(1), DEVICE_B, '203.0.113.7');
    expect(a.welcome.network).toBe(b.welcome.network);
    const joined = await a.next('peer-joined', (m) => m.room === a.welcome.network && m.peer.id === b.id);
    expect(joined.peer.deviceId ?? null).toBeNull();
    b.send({ type: 'relay', to: a.id, kind: 'signal', data: { sdp: 'offer' } });
    expect(await a.next('relay')).toMatchObject({ from: b.id, data: { sdp: 'offer' } });
    a.close();
    b.close();
  });

  it('a pairing code made on one node is joined on the other; mailboxed offers cross nodes', async () => {
    const a = await device(node(0), DEVICE_A, '198.51.100.1');
    const b = await device(node(1), DEVICE_B, '198.51.100.2');
    const { room, roomToken } = await pairByCode(a, b);

    // B is in the room on the other node: the box reaches it at once.
    const box = { kind: 'offer', transfer: 'T'.repeat(22), box: 'sealed' };
    a.send({ type: 'mailbox-put', room, to: DEVICE_B, data: box, expiresAt: Date.now() + 60_000 });
    expect(await b.next('mailbox')).toEqual({ type: 'mailbox', room, items: [{ from: DEVICE_A, data: box }] });
    expect(await a.next('mailbox-stored')).toMatchObject({ delivered: true, id: null });

    // B goes away; A leaves a box on node 1; B comes back on node 2 and gets it.
    b.close();
    await a.next('peer-left', (m) => m.room === room);
    const later = { ...box, box: 'sealed-later' };
    a.send({ type: 'mailbox-put', room, to: DEVICE_B, data: later, expiresAt: Date.now() + 60_000 });
    expect(await a.next('mailbox-stored')).toMatchObject({ delivered: false });
    const back = await device(node(1), DEVICE_B, '198.51.100.2');
    back.send({ type: 'pair-rejoin', room, roomToken });
    await back.next('room', (m) => m.room === room);
    expect(await back.next('mailbox')).toEqual({ type: 'mailbox', room, items: [{ from: DEVICE_A, data: later }] });
  });
});

describe('connections per address across the two nodes', () => {
  /** A client address of its own (loopback is 127/8), neither trusted nor used by other tests. */
  const CLIENT = '127.0.0.2';
  const held: WebSocket[] = [];
  afterAll(() => {
    for (const ws of held) ws.terminate();
  });

  type Attempt = { ws: WebSocket } | { status: number; code: string | undefined };

  /** A signaling WebSocket to `on` from `from`, held open; or the answer that refused it. */
  function connectFrom(on: FerryNode, from = CLIENT): Promise<Attempt> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${on.url.replace(/^http/, 'ws')}${SIGNAL_PATH}`, { localAddress: from });
      ws.once('open', () => {
        held.push(ws);
        resolve({ ws });
      });
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => {
          body += chunk.toString();
        });
        res.on('end', () => {
          ws.terminate();
          resolve({
            status: res.statusCode ?? 0,
            code: (JSON.parse(body) as { error?: { code?: string } }).error?.code,
          });
        });
      });
      ws.once('error', reject);
    });
  }

  /** GET /health from `from`: its status and error code. */
  function healthFrom(on: FerryNode, from = CLIENT): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(`${on.url}/health`, { localAddress: from, agent: false }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => {
          body += chunk.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  const refused = { status: 429, code: 'RATE_LIMITED' };

  it("one address is capped over both nodes together; a killed node's connections stop counting once its presence expires", async () => {
    const opened: Array<{ ws: WebSocket; on: FerryNode }> = [];
    for (let i = 0; i < CONNECTION_CAP; i++) {
      const on = node((i % 2) as 0 | 1);
      const attempt = await connectFrom(on);
      expect('ws' in attempt, `connection ${i + 1} to ${on.name}`).toBe(true);
      if ('ws' in attempt) opened.push({ ws: attempt.ws, on });
    }
    // Two on each node: the next one is refused on either, WebSocket or plain request.
    expect(await connectFrom(node(0))).toEqual(refused);
    expect(await connectFrom(node(1))).toEqual(refused);
    const plain = await healthFrom(node(1));
    expect(plain.status).toBe(429);
    expect(plain.body).toContain('"code":"RATE_LIMITED"');
    // Another address is not affected.
    expect((await healthFrom(node(0), '127.0.0.3')).status).toBe(200);

    // A close on node 1 frees a place on node 2.
    opened.shift()!.ws.close();
    await expect.poll(async () => 'ws' in (await connectFrom(node(1))), { timeout: 5_000 }).toBe(true);
    expect(await connectFrom(node(0))).toEqual(refused);

    // Node 2 (three of the four) dies without a word: its connections count until its
    // presence in Redis expires (15 s), then no longer.
    node(1).kill();
    const killed = Date.now();
    expect(await connectFrom(node(0))).toEqual(refused);
    await expect
      .poll(async () => 'ws' in (await connectFrom(node(0))), { timeout: 30_000, interval: 1_000 })
      .toBe(true);
    expect(Date.now() - killed).toBeGreaterThan(3_000);
    // Node 1 now holds two (one from before, one just taken): two more, then the cap.
    expect('ws' in (await connectFrom(node(0)))).toBe(true);
    expect('ws' in (await connectFrom(node(0)))).toBe(true);
    expect(await connectFrom(node(0))).toEqual(refused);
  }, 60_000);
});

describe('two nodes behind nginx (deploy/nginx.conf)', () => {
  let nginx: Balancer;
  beforeAll(async () => {
    nginx = await startNginx(cluster.nodes);
  }, 120_000);
  afterAll(async () => {
    await nginx?.stop();
  });

  it("a 32 MiB link upload in 8 MiB chunks alternates nodes and comes back identical; a browser's Origin with the port passes", async () => {
    const bytes = randomBytes(32 * MiB);
    // As a browser without Sec-Fetch-Site sends it: Origin names nginx's host and port, so
    // the node must see the Host the client sent (nginx's $host drops the port: 403).
    const { body, readerToken } = await newShareBody([{ size: bytes.length }]);
    const created = await api(nginx.url, 'POST', '/api/shares', { body, headers: { Origin: nginx.url } });
    expect(created.status, created.text).toBe(201);
    const share: TestShare = { ...(created.json as CreateShareResponse), readerToken };
    const marks = cluster.nodes.map((n) => n.logs().length);
    await new Promise<void>((resolve, reject) => {
      new Upload(bytes, {
        endpoint: `${nginx.url}/files/`,
        headers: { Authorization: `Bearer ${share.uploadToken}` },
        metadata: { share: share.id, index: '0' },
        chunkSize: 8 * MiB,
        retryDelays: [],
        storeFingerprintForResuming: false,
        onError: reject,
        onSuccess: () => resolve(),
      }).start();
    });
    // Round robin, no stickiness: both nodes stored chunks of the one upload.
    for (const [i, n] of cluster.nodes.entries()) {
      const patches = requests(n, marks[i]!, '/files/:id', 'PATCH').filter((entry) => entry.status === 204);
      expect(patches.length, `${n.name} stored chunks`).toBeGreaterThanOrEqual(1);
    }
    await completeShare(nginx.url, share);
    expect(sha256(await downloadWhole(nginx.url, share))).toBe(sha256(bytes));
  }, 120_000);

  it('a PATCH reaches a node while its body is still arriving, and a recipient reads the stored bytes meanwhile', async () => {
    const piece = MiB;
    const bytes = randomBytes(2 * piece);
    const share = await createTestShare(nginx.url, [{ size: bytes.length }]);
    const location = await createUpload(nginx.url, share, bytes.length);
    const ticket = await ticketFor(nginx.url, share, [0]);
    expect(ticket.status).toBe(201);
    const ticketId = (ticket.json as { ticket: string }).ticket;
    const lockKey = `ferry:tus-lock:${location.split('/').pop()}`;

    // First half of the first piece, then a pause: nginx must pass the request on before
    // its body ends (proxy_request_buffering off), so a node holds the upload's lock.
    let lockedMidBody = false;
    const first = await patchInTwoParts(
      nginx.url + location,
      share,
      0,
      bytes.subarray(0, piece),
      piece / 2,
      async () => {
        const deadline = Date.now() + 5_000;
        while (!lockedMidBody && Date.now() < deadline) {
          lockedMidBody = (await redis.exists(lockKey)) === 1;
          await sleep(50);
        }
      },
    );
    expect(lockedMidBody).toBe(true);
    expect(first.status).toBe(204);
    // The recipient reads through nginx what is stored while the upload is unfinished.
    const partial = await fetchFile(nginx.url, share, 0, ticketId, 'bytes=0-');
    expect(partial.status).toBe(206);
    expect(partial.headers.get('content-range')).toBe(`bytes 0-${piece - 1}/*`);
    const second = await slowPatch(nginx.url, share, location, piece, bytes.subarray(piece), 0);
    expect(second.status).toBe(204);
    const rest = await fetchFile(nginx.url, share, 0, ticketId, `bytes=${piece}-`);
    expect(rest.status).toBe(206);
    expect(sha256(Buffer.concat([partial.bytes, rest.bytes]))).toBe(sha256(bytes));
  });

  it('devices connecting through nginx upgrade to WebSockets, meet in their network room and relay', async () => {
    const from = { 'X-Forwarded-For': '192.0.2.44' };
    const a = await SignalClient.connect(nginx.url, { headers: from });
    const b = await SignalClient.connect(nginx.url, { headers: from });
    try {
      a.send({ type: 'hello', deviceId: 'device-cccccccccccccccc' });
      b.send({ type: 'hello', deviceId: 'device-dddddddddddddddd' });
      expect(a.welcome.network).toBe(b.welcome.network);
      await a.next('peer-joined', (m) => m.room === a.welcome.network && m.peer.id === b.id);
      b.send({ type: 'relay', to: a.id, kind: 'signal', data: { sdp: 'offer' } });
      expect(await a.next('relay')).toMatchObject({ from: b.id, data: { sdp: 'offer' } });
    } finally {
      a.ws.terminate();
      b.ws.terminate();
    }
  });
});
