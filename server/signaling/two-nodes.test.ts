/**
 * Two real Ferry processes on one Redis and one Postgres (FERRY_REDIS_URL,
 * FERRY_DATABASE_URL): signaling clients attached to different nodes meet in their network
 * room and relay to each other, pair by a code made on the other node, and share one cap on
 * connections per network. (A dead node's
 * peers being reaped: bus.test.ts.)
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresDatabases, redisUrl } from '../test-engines/databases.ts';
import { type FerryProcess, spawnFerry } from '../test-support.ts';
import { refusedStatus, SignalClient } from './test-client.ts';

const newDatabase = postgresDatabases();
const dirs: string[] = [];
const children: ChildProcess[] = [];
const clients: SignalClient[] = [];

async function node(env: Record<string, string>): Promise<FerryProcess> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ferry-node-'));
  dirs.push(dir);
  const started = await spawnFerry(dir, env);
  children.push(started.child);
  return started;
}

/** A device on `network` (a forwarded address: both nodes trust the loopback proxy). */
async function device(on: FerryProcess, network: string): Promise<SignalClient> {
  const client = await SignalClient.connect(on.url, { headers: { 'X-Forwarded-For': network } });
  clients.push(client);
  return client;
}

describe('two Ferry processes on one Redis', () => {
  let one: FerryProcess;
  let two: FerryProcess;
  let env: Record<string, string>;
  beforeAll(async () => {
    env = {
      FERRY_REDIS_URL: redisUrl(),
      FERRY_DATABASE_URL: await newDatabase(),
      FERRY_TRUSTED_PROXIES: '127.0.0.1,::1',
      FERRY_LOG_LEVEL: 'warn',
      FERRY_SIGNAL_MAX_PER_IP: '4',
    };
    [one, two] = await Promise.all([node(env), node(env)]);
  }, 60_000);
  afterAll(() => {
    for (const client of clients) client.ws.terminate();
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('puts one network’s devices on different nodes in one room, and relays between them', async () => {
    const a = await device(one, '198.51.100.21');
    const b = await device(two, '198.51.100.21');
    expect(b.welcome.network).toBe(a.welcome.network);
    await a.next('room', (m) => m.room === a.welcome.network);
    const seen = await b.next('room', (m) => m.room === b.welcome.network);
    expect(seen.peers.map((p) => p.id)).toEqual([a.id]);
    expect((await a.next('peer-joined')).peer.id).toBe(b.id);

    a.send({ type: 'relay', to: b.id, kind: 'signal', data: { sdp: 'offer' } });
    expect(await b.next('relay')).toEqual({ type: 'relay', from: a.id, kind: 'signal', data: { sdp: 'offer' } });
    b.send({ type: 'relay', to: a.id, kind: 'signal', data: { sdp: 'answer' } });
    expect(await a.next('relay')).toMatchObject({ from: b.id, data: { sdp: 'answer' } });

    // A device of another network, on the same node, is not in the room and cannot be reached.
    const c = await device(two, '203.0.113.5');
    expect(c.welcome.network).not.toBe(a.welcome.network);
    c.send({ type: 'relay', to: a.id, kind: 'signal', data: {} });
    expect(await c.next('error')).toMatchObject({ of: 'relay' });

    b.close();
    expect((await a.next('peer-left')).peerId).toBe(b.id);
  });

  it('pairs by a code made on one node and entered on the other', async () => {
    const a = await device(one, '198.51.100.31');
    const b = await device(two, '203.0.113.31');
    a.send({ type: 'pair-create' });
    const { code } = await a.next('pair-code');
    b.send({ type: 'pair-join', code });
    const [pairedA, pairedB] = await Promise.all([a.next('paired'), b.next('paired')]);
    expect(pairedB.room).toBe(pairedA.room);
    expect(pairedA.peers.map((p) => p.id)).toEqual([b.id]);
    expect(pairedB.peers.map((p) => p.id)).toEqual([a.id]);
    // Used up on both nodes.
    const c = await device(one, '192.0.2.31');
    c.send({ type: 'pair-join', code });
    expect(await c.next('error')).toMatchObject({ code: 'PAIR_CODE_INVALID' });
    a.send({ type: 'relay', to: b.id, kind: 'pair-auth', data: { mac: 'm' } });
    expect(await b.next('relay')).toMatchObject({ from: a.id, kind: 'pair-auth' });
  });

  it('caps one network’s connections across both nodes, and a close on one frees a place on the other', async () => {
    const network = '198.51.100.40';
    const held = [await device(one, network), await device(two, network), await device(one, network)];
    held.push(await device(two, network));
    const forwarded = { 'X-Forwarded-For': network };
    expect(await refusedStatus(one.url, '/signal', forwarded)).toBe(429);
    expect(await refusedStatus(two.url, '/signal', forwarded)).toBe(429);
    held[0]!.ws.close();
    await expect
      .poll(
        () =>
          SignalClient.connect(two.url, { headers: forwarded }).then(
            (c) => clients.push(c),
            () => 0,
          ),
        {
          timeout: 5000,
          interval: 100,
        },
      )
      .toBeGreaterThan(0);
  });
});
