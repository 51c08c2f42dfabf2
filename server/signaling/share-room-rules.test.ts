/**
 * Issue 9, found 5: in a share room, a relay was still delivered after the share was
 * revoked (membership was checked only at join), and a reader could send the owner's tab a
 * nearby `signal` or an offer of files. Now a share room carries only `share-signal`
 * between owner and reader, and a dead share's room is emptied, with a clear message.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestShare, startTestServer, type TestServer, type TestShare } from '../test-support.ts';
import { SignalClient } from './test-client.ts';

let server: TestServer;
let open: SignalClient[] = [];
beforeAll(async () => {
  // Each client on a network of its own (X-Forwarded-For), so the share room is all they share.
  server = await startTestServer({ trustedProxies: ['127.0.0.1', '::1'] });
});
afterEach(async () => {
  for (const client of open) client.ws.terminate();
  await Promise.all(open.map((client) => client.closed));
  open = [];
});
afterAll(async () => {
  await server.stop();
});

let network = 0;
async function join(share: TestShare, role: 'owner' | 'reader'): Promise<SignalClient> {
  const client = await SignalClient.connect(server.url, { headers: { 'X-Forwarded-For': `198.51.100.${++network}` } });
  open.push(client);
  const token = role === 'owner' ? share.ownerToken : share.readerToken;
  client.send({ type: 'share-join', shareId: share.id, role, token });
  await client.next('room', (m) => m.kind === 'share');
  return client;
}

const SIGNAL = { type: 'offer', sdp: 'v=0\r\n' };

describe('share rooms', () => {
  it('carry only share-signal, and only between the owner and a reader', async () => {
    const share = await createTestShare(server.url, [{ size: 100 }]);
    const owner = await join(share, 'owner');
    const reader = await join(share, 'reader');
    const other = await join(share, 'reader');

    for (const kind of ['signal', 'offer-files', 'answer-files', 'cancel', 'pair-auth', 'offline']) {
      reader.send({ type: 'relay', to: owner.id, kind, data: SIGNAL });
      expect(await reader.next('error')).toMatchObject({ code: 'FORBIDDEN', of: 'relay' });
    }
    reader.send({ type: 'relay', to: other.id, kind: 'share-signal', data: SIGNAL });
    expect(await reader.next('error')).toMatchObject({ code: 'FORBIDDEN', of: 'relay' });

    reader.send({ type: 'relay', to: owner.id, kind: 'share-signal', data: SIGNAL });
    expect(await owner.next('relay')).toMatchObject({ from: reader.id, kind: 'share-signal', data: SIGNAL });
    owner.send({ type: 'relay', to: reader.id, kind: 'share-signal', data: SIGNAL });
    expect(await reader.next('relay')).toMatchObject({ from: owner.id, kind: 'share-signal' });
    // Nothing refused above reached anyone.
    await expect(owner.next('relay', () => true, 300)).rejects.toThrow();
    await expect(other.next('relay', () => true, 300)).rejects.toThrow();
  });

  it('empty at once when the share is revoked: every member is told, and nothing more is relayed', async () => {
    const share = await createTestShare(server.url, [{ size: 100 }]);
    const owner = await join(share, 'owner');
    const reader = await join(share, 'reader');

    expect((await api(server.url, 'DELETE', `/api/shares/${share.id}`, { token: share.ownerToken })).status).toBe(204);
    for (const member of [owner, reader]) {
      expect(await member.next('error')).toMatchObject({ code: 'SHARE_REVOKED', of: 'share-join' });
      expect(await member.next('peer-left')).toMatchObject({ room: `share:${share.id}` });
    }
    reader.send({ type: 'relay', to: owner.id, kind: 'share-signal', data: SIGNAL });
    expect(await reader.next('error')).toMatchObject({ code: 'PEER_NOT_REACHABLE', of: 'relay' });
    await expect(owner.next('relay', () => true, 300)).rejects.toThrow();
  });

  it('empty when the share expires: at the next relay, or at the next check', async () => {
    const first = await createTestShare(server.url, [{ size: 100 }], { expiresInSeconds: 300 });
    const second = await createTestShare(server.url, [{ size: 100 }], { expiresInSeconds: 300 });
    const owner = await join(first, 'owner');
    const reader = await join(first, 'reader');
    const owner2 = await join(second, 'owner');
    const reader2 = await join(second, 'reader');
    server.clock.advance(301_000);

    reader.send({ type: 'relay', to: owner.id, kind: 'share-signal', data: SIGNAL });
    expect(await reader.next('error', (m) => m.of === 'share-join')).toMatchObject({ code: 'SHARE_EXPIRED' });
    expect(await reader.next('error', (m) => m.of === 'relay')).toMatchObject({ code: 'PEER_NOT_REACHABLE' });
    expect(await owner.next('error')).toMatchObject({ code: 'SHARE_EXPIRED', of: 'share-join' });
    await expect(owner.next('relay', () => true, 300)).rejects.toThrow();

    // The keep-alive tick runs this check for rooms nobody relays in.
    await server.signaling.closeDeadShareRooms();
    for (const member of [owner2, reader2]) {
      expect(await member.next('error')).toMatchObject({ code: 'SHARE_EXPIRED', of: 'share-join' });
    }
  });
});
