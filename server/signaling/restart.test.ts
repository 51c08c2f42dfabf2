/**
 * A server restart on the same data directory: two devices paired before it can rejoin
 * their pair room after it (the room token still opens it), and a sealed box left for the
 * device that was away is handed over after the restart too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test-support.ts';
import { pairByCode, SignalClient } from './test-client.ts';

const DEVICE_A = 'device-aaaaaaaaaaaaaaaa';
const DEVICE_B = 'device-bbbbbbbbbbbbbbbb';
const BOX = { kind: 'offer', transfer: 'T'.repeat(22), box: 'sealed' };

describe('a server restart', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'ferry-restart-'));
  let server: TestServer | null = null;
  const clients: SignalClient[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.ws.terminate();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function device(deviceId: string, network: string): Promise<SignalClient> {
    const client = await SignalClient.connect(server!.url, { headers: { 'X-Forwarded-For': network } });
    clients.push(client);
    client.send({ type: 'hello', deviceId });
    return client;
  }

  it('keeps pairings and the boxes waiting in their mailboxes', async () => {
    server = await startTestServer({ trustedProxies: ['127.0.0.1', '::1'] }, dataDir);
    const a = await device(DEVICE_A, '198.51.100.1');
    const b = await device(DEVICE_B, '198.51.100.2');
    const { room, roomToken } = await pairByCode(a, b);
    b.close();
    await a.next('peer-left', (m) => m.room === room);
    a.send({ type: 'mailbox-put', room, to: DEVICE_B, data: BOX, expiresAt: server.clock.now + 60_000 });
    expect(await a.next('mailbox-stored')).toMatchObject({ type: 'mailbox-stored', room, delivered: false });
    for (const client of clients.splice(0)) client.ws.terminate();
    const now = server.clock.now;
    await server.close();

    server = await startTestServer({ trustedProxies: ['127.0.0.1', '::1'], now: () => now + 1000 }, dataDir);
    const back = await device(DEVICE_B, '198.51.100.2');
    back.send({ type: 'pair-rejoin', room, roomToken });
    await back.next('room', (m) => m.room === room);
    expect(await back.next('mailbox')).toEqual({ type: 'mailbox', room, items: [{ from: DEVICE_A, data: BOX }] });
    const stranger = await device(DEVICE_A, '198.51.100.1');
    stranger.send({ type: 'pair-rejoin', room, roomToken: `${roomToken.slice(1)}x` });
    expect(await stranger.next('error')).toMatchObject({ code: 'UNAUTHORIZED', of: 'pair-rejoin' });
  });
});
