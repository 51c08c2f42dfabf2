/**
 * Sealed offers and answers between two paired devices through a real Ferry server: the
 * page's SignalingClient and SealedBoxes on each side (`ws` for the browser's WebSocket),
 * a real relay share made with the engine's createRelayShare, the sender's SentOffers with
 * its IndexedDB replaced by memory (its share calls go to the server). Vitest does not
 * compile runes here, so `$state` is the identity.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MAILBOX_MAX_ITEMS } from '../../../server/signaling/mailbox.ts';
import { startTestServer, type TestServer } from '../../../server/test-support.ts';
import { ShareApi } from '../../../shared/api-client.ts';
import { toBase64Url } from '../../../shared/encoding.ts';
import type { FerryError } from '../../../shared/errors.ts';
import type { ControlMessageOf } from '../../../shared/p2p/frames.ts';
import { relayManifest } from '../../../shared/p2p/relay-read.ts';
import { createRelayShare, type RelayShare, withdrawRelayShare } from '../../../shared/p2p/relay-share.ts';
import { planOf } from '../../../shared/p2p/session-test-kit.ts';
import type { Pairing, SentOffer } from './p2p-db.ts';
import { memoryDevice, nextEvent, signalUrl, until, useNodeWebSocket } from './signaling-test-kit.ts';

vi.hoisted(() => {
  const identity = <T>(value: T): T => value;
  (globalThis as Record<string, unknown>).$state = Object.assign(identity, { raw: identity });
});

const { SignalingClient } = await import('./signaling.svelte.ts');
const { SealedBoxes } = await import('./sealed-boxes.svelte.ts');
const { SentOffers } = await import('./sent-offers.svelte.ts');
type Client = InstanceType<typeof SignalingClient>;

const DEVICE_A = 'device-aaaaaaaaaaaaaaaa';
const DEVICE_B = 'device-bbbbbbbbbbbbbbbb';
const randomSecret = () => toBase64Url(crypto.getRandomValues(new Uint8Array(32)));

interface Offered {
  from: string;
  name: string;
  offer: ControlMessageOf<'offer'>;
  reply: (accept: boolean) => void;
}

describe('SealedBoxes between two paired devices over a real server', () => {
  let server: TestServer;
  let api: ShareApi;
  const open: Client[] = [];
  const boxes: { dispose(): void }[] = [];
  beforeAll(async () => {
    useNodeWebSocket();
    server = await startTestServer();
    api = new ShareApi(server.url);
  });
  afterAll(async () => {
    vi.unstubAllGlobals();
    await server.stop();
  });
  afterEach(() => {
    for (const box of boxes.splice(0)) box.dispose();
    for (const client of open.splice(0)) client.stop();
  });

  async function device(id: string, name: string): Promise<Client> {
    const client = new SignalingClient(signalUrl(server.url), memoryDevice({ id, name }));
    open.push(client);
    client.start();
    await until(() => client.status === 'open' && client.greeted, `${name} to say hello`);
    return client;
  }

  /** One side's boxes: what it was offered, the answers it heard, its kept offers (in memory). */
  function side(client: Client, pairing: Pairing) {
    const offered: Offered[] = [];
    const answers: [string, boolean][] = [];
    const stored = new Map<string, SentOffer>();
    const sentOffers = new SentOffers({
      list: async () => [...stored.values()],
      put: async (offer) => void stored.set(offer.transfer, offer),
      delete: async (transfer) => void stored.delete(transfer),
      withdraw: (share) => withdrawRelayShare(api, share),
      collect: async () => true,
    });
    const sealed = new SealedBoxes(
      client,
      { remembered: [pairing] },
      sentOffers,
      {
        answered: (transfer, accept) => {
          answers.push([transfer, accept]);
          return false;
        },
        known: (transfer) => offered.some((o) => o.offer.transfer === transfer),
        offered: (from, name, offer, reply) => offered.push({ from, name, offer, reply }),
      },
      server.url,
    );
    sealed.start();
    boxes.push(sealed);
    return { sealed, offered, answers, sentOffers };
  }

  /** Desk (A) and Laptop (B) paired by code, each remembering the other under one secret. */
  async function pair(secret = randomSecret()) {
    const a = await device(DEVICE_A, 'Desk');
    const b = await device(DEVICE_B, 'Laptop');
    const code = nextEvent(a, 'pair-code');
    a.createPairCode();
    const aPaired = nextEvent(a, 'paired');
    const bPaired = nextEvent(b, 'paired');
    b.joinPair((await code).code);
    const { room, roomToken } = await bPaired;
    await aPaired;
    const pairing = (deviceId: string, name: string): Pairing => ({
      room,
      roomToken,
      deviceId,
      name,
      secret,
      createdAt: 0,
      lastSeen: 0,
    });
    return { a, b, room, roomToken, forA: pairing(DEVICE_B, 'Laptop'), forB: pairing(DEVICE_A, 'Desk') };
  }

  /** A relay share on the server for a one-file transfer, and what the sealed offer names. */
  async function relayShare(): Promise<{ secret: Uint8Array<ArrayBuffer>; share: RelayShare; manifest: string }> {
    const { plan } = await planOf([3000], 1024);
    const share = await createRelayShare(api, plan.secret, plan.manifest, plan.ciphers);
    return { secret: plan.secret, share, manifest: plan.manifest };
  }

  const send = (id: string) => ({ id, files: [{ name: 'holiday.mov', size: 3000 }] });

  it('offers by relay to a device in the pair room, and its sealed decline comes back and revokes the share', async () => {
    const { a, b, forA, forB } = await pair();
    const desk = side(a, forA);
    const laptop = side(b, forB);
    const { secret, share, manifest } = await relayShare();

    await desk.sealed.sendOffer(forA, send('T'.repeat(22)), secret, share);
    expect(desk.sentOffers.waiting.map((o) => [o.transfer, o.shareId, o.mailbox])).toEqual([
      ['T'.repeat(22), share.id, null],
    ]);
    await until(() => laptop.offered.length === 1, 'the laptop to be offered the files');
    const [offered] = laptop.offered;
    expect(offered?.offer).toEqual({ type: 'offer', transfer: 'T'.repeat(22), secret: toBase64Url(secret), manifest });
    // By relay: from the desk's connection, named as its tile names it.
    expect(offered?.from).toBe(a.self?.peerId);
    expect(offered?.name).toBe(b.peer(a.self?.peerId ?? '')?.name);
    expect(laptop.sealed.refusal).toBeNull();

    offered?.reply(false);
    await until(() => desk.answers.length === 1, 'the desk to hear the answer');
    expect(desk.answers).toEqual([['T'.repeat(22), false]]);
    await until(() => desk.sentOffers.outcomes.length === 1, 'the answer to be said');
    expect(desk.sentOffers.outcomes[0]?.result).toBe('declined');
    expect(desk.sentOffers.waiting).toEqual([]);
    const gone = await relayManifest(secret, 'Desk', server.url).catch((error: unknown) => error);
    expect((gone as Error).message).toBe(
      'Files Desk sent through the server are no longer there: the offer expired or was withdrawn.',
    );
  });

  it('leaves the offer in the mailbox for a device that is away, hands it over once at its rejoin, and the accept comes back', async () => {
    const { a, b, room, roomToken, forA, forB } = await pair();
    const desk = side(a, forA);
    b.stop();
    await until(() => a.pairRoomPeers(room).length === 0, 'the laptop to leave');
    const { secret, share } = await relayShare();
    await desk.sealed.sendOffer(forA, send('U'.repeat(22)), secret, share);
    const [waiting] = desk.sentOffers.waiting;
    expect(waiting?.mailbox).toMatch(/^[A-Za-z0-9_-]{16}$/);

    const back = await device(DEVICE_B, 'Laptop');
    const laptop = side(back, forB);
    back.rejoinPair(room, roomToken);
    await until(() => laptop.offered.length === 1, 'the laptop to find the offer');
    // From the mailbox: named by the pairing's sender name, its tile the pair room.
    expect(laptop.offered[0]?.from).toBe(room);
    expect(laptop.offered[0]?.name).toBe('Desk');

    laptop.offered[0]?.reply(true);
    await until(() => desk.answers.length === 1, 'the desk to hear the answer');
    expect(desk.answers).toEqual([['U'.repeat(22), true]]);
    await until(() => desk.sentOffers.outcomes.length === 1, 'the answer to be said');
    expect(desk.sentOffers.outcomes[0]?.result).toBe('accepted');

    // The box was handed over once: a second rejoin offers nothing again.
    const again = await device(DEVICE_B, 'Laptop');
    const later = side(again, forB);
    again.rejoinPair(room, roomToken);
    await nextEvent(again, 'pair-room');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(later.offered).toEqual([]);
  });

  it('withdraws an offer still in the mailbox: the box is forgotten and the share revoked', async () => {
    const { a, b, room, roomToken, forA, forB } = await pair();
    const desk = side(a, forA);
    b.stop();
    await until(() => a.pairRoomPeers(room).length === 0, 'the laptop to leave');
    const { secret, share } = await relayShare();
    await desk.sealed.sendOffer(forA, send('V'.repeat(22)), secret, share);

    await desk.sealed.withdraw('V'.repeat(22));
    expect(desk.sentOffers.withdrawnIn(room).map((o) => o.transfer)).toEqual(['V'.repeat(22)]);
    expect(desk.sentOffers.noticeFor('V'.repeat(22))).toBeUndefined();
    await expect(relayManifest(secret, 'Desk', server.url)).rejects.toThrow(/no longer there/);

    const back = await device(DEVICE_B, 'Laptop');
    const laptop = side(back, forB);
    back.rejoinPair(room, roomToken);
    await nextEvent(back, 'pair-room');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(laptop.offered, 'a withdrawn offer is never offered').toEqual([]);
  });

  it('refuses a box sealed under another pairing secret, and says so', async () => {
    const { a, b, forA, forB } = await pair();
    const desk = side(a, { ...forA, secret: randomSecret() });
    const laptop = side(b, forB);
    const { secret, share } = await relayShare();
    await desk.sealed.sendOffer({ ...forA, secret: randomSecret() }, send('W'.repeat(22)), secret, share);
    await until(() => laptop.sealed.refusal !== null, 'the laptop to refuse the box');
    expect(laptop.sealed.refusal).toBe(
      'This message was not sealed by your paired device for this device, so Ferry refused it.',
    );
    expect(laptop.offered).toEqual([]);
  });

  it("says the mailbox is full naming the device, once it holds the server's limit", async () => {
    const { a, b, room, forA } = await pair();
    const desk = side(a, forA);
    b.stop();
    await until(() => a.pairRoomPeers(room).length === 0, 'the laptop to leave');
    const { secret, share } = await relayShare();
    for (let i = 0; i < MAILBOX_MAX_ITEMS; i++) {
      await desk.sealed.sendOffer(forA, send(`${i}`.padStart(22, 'X')), secret, share);
    }
    const full = await desk.sealed
      .sendOffer(forA, send('Y'.repeat(22)), secret, share)
      .catch((error: unknown) => error as FerryError);
    expect((full as FerryError).code).toBe('MAILBOX_FULL');
    expect((full as FerryError).message).toBe(
      'Too much is already waiting for Laptop on the server; send again once it has opened Ferry.',
    );
    expect(desk.sentOffers.waiting).toHaveLength(MAILBOX_MAX_ITEMS);
  });
});
