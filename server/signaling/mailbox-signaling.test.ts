import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test-support.ts';
import { MAILBOX_MAX_ITEMS } from './mailbox.ts';
import { pairByCode, SignalClient } from './test-client.ts';

const DEVICE_A = 'device-aaaaaaaaaaaaaaaa';
const DEVICE_B = 'device-bbbbbbbbbbbbbbbb';
const BOX = { kind: 'offer', transfer: 'T'.repeat(22), box: 'sealed' };

describe('the pair room mailbox over /signal', () => {
  let server: TestServer;
  let open: SignalClient[] = [];
  beforeAll(async () => {
    server = await startTestServer({ trustedProxies: ['127.0.0.1', '::1'] });
  });
  afterAll(() => server.stop());
  afterEach(async () => {
    for (const client of open) client.ws.terminate();
    await Promise.all(open.map((client) => client.closed));
    open = [];
  });

  /** A connection named by `deviceId`, from its own network. */
  async function device(deviceId: string, network: string): Promise<SignalClient> {
    const client = await SignalClient.connect(server.url, { headers: { 'X-Forwarded-For': network } });
    open.push(client);
    client.send({ type: 'hello', deviceId });
    return client;
  }

  /** Two devices on two networks paired by code; returns the room and its token. */
  async function paired(): Promise<{ a: SignalClient; b: SignalClient; room: string; roomToken: string }> {
    const a = await device(DEVICE_A, '198.51.100.1');
    const b = await device(DEVICE_B, '198.51.100.2');
    return { a, b, ...(await pairByCode(a, b)) };
  }

  it('keeps a box for a device that is away and hands it over once when it rejoins', async () => {
    const { a, b, room, roomToken } = await paired();
    b.close();
    await a.next('peer-left', (m) => m.room === room);
    a.send({ type: 'mailbox-put', room, to: DEVICE_B, data: BOX, expiresAt: server.clock.now + 60_000 });
    expect(await a.next('mailbox-stored')).toEqual({
      type: 'mailbox-stored',
      room,
      delivered: false,
      id: expect.stringMatching(/^[A-Za-z0-9_-]{16}$/),
    });

    const back = await device(DEVICE_B, '198.51.100.2');
    back.send({ type: 'pair-rejoin', room, roomToken });
    await back.next('room', (m) => m.room === room);
    expect(await back.next('mailbox')).toEqual({ type: 'mailbox', room, items: [{ from: DEVICE_A, data: BOX }] });

    const again = await device(DEVICE_B, '198.51.100.2');
    again.send({ type: 'pair-rejoin', room, roomToken });
    await again.next('room', (m) => m.room === room);
    await expect(again.next('mailbox', () => true, 300)).rejects.toThrow();
  });

  it('hands a box at once to the device when it is in the room', async () => {
    const { a, b, room } = await paired();
    a.send({ type: 'mailbox-put', room, to: DEVICE_B, data: BOX, expiresAt: server.clock.now + 60_000 });
    expect(await b.next('mailbox')).toEqual({ type: 'mailbox', room, items: [{ from: DEVICE_A, data: BOX }] });
    expect(await a.next('mailbox-stored')).toMatchObject({ delivered: true, id: null });
  });

  /** A box A left for B while B was away: its id, and the pairing for B to come back with. */
  async function waitingBox(): Promise<{ a: SignalClient; room: string; roomToken: string; id: string }> {
    const { a, b, room, roomToken } = await paired();
    b.close();
    await a.next('peer-left', (m) => m.room === room);
    a.send({ type: 'mailbox-put', room, to: DEVICE_B, data: BOX, expiresAt: server.clock.now + 60_000 });
    const { id } = await a.next('mailbox-stored');
    if (id === null) throw new Error('the box was handed over at once');
    return { a, room, roomToken, id };
  }

  /** B comes back to the room; answers the boxes it is handed (none within 300 ms: []). */
  async function rejoinB(room: string, roomToken: string): Promise<unknown[]> {
    const back = await device(DEVICE_B, '198.51.100.2');
    back.send({ type: 'pair-rejoin', room, roomToken });
    await back.next('room', (m) => m.room === room);
    return await back
      .next('mailbox', () => true, 300)
      .then(
        (m) => m.items,
        () => [],
      );
  }

  it('lets the device that left a box withdraw it, so the other device never gets it', async () => {
    const { a, room, roomToken, id } = await waitingBox();
    a.send({ type: 'mailbox-withdraw', room, id });
    expect(await a.next('mailbox-withdrawn')).toEqual({ type: 'mailbox-withdrawn', room, id, withdrawn: true });
    a.send({ type: 'mailbox-withdraw', room, id });
    expect(await a.next('mailbox-withdrawn')).toMatchObject({ withdrawn: false });
    expect(await rejoinB(room, roomToken)).toEqual([]);
  });

  it('says a box already handed over cannot be withdrawn', async () => {
    const { a, room, roomToken, id } = await waitingBox();
    expect(await rejoinB(room, roomToken)).toEqual([{ from: DEVICE_A, data: BOX }]);
    a.send({ type: 'mailbox-withdraw', room, id });
    expect(await a.next('mailbox-withdrawn')).toMatchObject({ id, withdrawn: false });
  });

  it('lets no other member of the room, and no stranger, withdraw a box', async () => {
    const { room, roomToken, id } = await waitingBox();
    // A member that holds the room token but did not leave the box (B itself would be
    // handed the box on rejoining, so this one rejoins under another device id).
    const member = await device('device-dddddddddddddddd', '198.51.100.4');
    member.send({ type: 'pair-rejoin', room, roomToken });
    await member.next('room', (m) => m.room === room);
    member.send({ type: 'mailbox-withdraw', room, id });
    expect(await member.next('mailbox-withdrawn')).toMatchObject({ id, withdrawn: false });
    const stranger = await device('device-cccccccccccccccc', '198.51.100.3');
    stranger.send({ type: 'mailbox-withdraw', room, id });
    expect(await stranger.next('error')).toMatchObject({ code: 'FORBIDDEN', of: 'mailbox-withdraw' });
    expect(await rejoinB(room, roomToken)).toEqual([{ from: DEVICE_A, data: BOX }]);
  });

  it('lets only a device of the room leave a box, and only for the other device', async () => {
    const { a, room } = await paired();
    const stranger = await device('device-cccccccccccccccc', '198.51.100.3');
    stranger.send({ type: 'mailbox-put', room, to: DEVICE_B, data: BOX, expiresAt: server.clock.now + 60_000 });
    expect(await stranger.next('error')).toMatchObject({ code: 'FORBIDDEN', of: 'mailbox-put' });
    a.send({ type: 'mailbox-put', room, to: DEVICE_A, data: BOX, expiresAt: server.clock.now + 60_000 });
    expect(await a.next('error')).toMatchObject({ code: 'BAD_REQUEST', of: 'mailbox-put' });
    a.send({ type: 'mailbox-put', room: a.welcome.network, to: DEVICE_B, data: BOX, expiresAt: 1 });
    expect(await a.next('error')).toMatchObject({ code: 'BAD_REQUEST', of: 'mailbox-put' });
  });

  it('refuses more boxes than a room may hold, and forgets expired ones', async () => {
    const { a, b, room, roomToken } = await paired();
    b.close();
    await a.next('peer-left', (m) => m.room === room);
    const expiresAt = server.clock.now + 1000;
    for (let n = 0; n < MAILBOX_MAX_ITEMS; n++) {
      a.send({ type: 'mailbox-put', room, to: DEVICE_B, data: BOX, expiresAt });
      await a.next('mailbox-stored');
    }
    a.send({ type: 'mailbox-put', room, to: DEVICE_B, data: BOX, expiresAt });
    expect(await a.next('error')).toMatchObject({ code: 'MAILBOX_FULL', of: 'mailbox-put' });

    server.clock.advance(1000);
    const back = await device(DEVICE_B, '198.51.100.2');
    back.send({ type: 'pair-rejoin', room, roomToken });
    await back.next('room', (m) => m.room === room);
    await expect(back.next('mailbox', () => true, 300)).rejects.toThrow();
  });
});
