/**
 * Browser-to-browser sending as the views see it: one object over the page's signaling
 * connection. It lists the devices and picks each send's route; the lives it composes each
 * have their own class:
 *
 * - connections.svelte.ts: the data channel to each device, its authentication and its
 *   reconnection after a drop mid-send (reconnect.ts);
 * - sends.svelte.ts: the latest send per tile, one class per route (outgoing/);
 * - receives.svelte.ts: the transfers received (incoming.svelte.ts);
 * - sealed-boxes.svelte.ts: offers and answers sealed for a paired device no channel
 *   reaches, by relay or through the pair room's mailbox;
 * - texts.svelte.ts: short texts over a confirmed channel;
 * - pairings.svelte.ts and sent-offers.svelte.ts: pairing by code, and offers kept across tabs.
 *
 * Authentication comes before any file byte or text: once a link opens, both sides
 * compute the verification code from the DTLS fingerprints (shared/p2p/auth.ts). The recipient sees
 * it in the offer; the sender sees it on the tile and confirms that both screens show the
 * same code before the offer (which carries the link secret) leaves. A signaling server in
 * the middle would hold two DTLS sessions, so the codes would differ. With a paired device
 * the MAC check over the pairing secret replaces the people (connection.svelte.ts,
 * pairings.svelte.ts): nothing but `auth` is read from a link before the other side's MAC
 * verified, and a MAC that fails closes the link with auth.ts's sentence on both screens.
 */
import { FerryError } from '../../../shared/errors.ts';
import { beforeDeadline } from '../../../shared/p2p/relay.ts';
import { Connections } from './connections.svelte.ts';
import type { IncomingTransfer } from './incoming.svelte.ts';
import { offlineTargets } from './offline-targets.ts';
import type { OutgoingTransfer } from './outgoing/transfer.svelte.ts';
import type { Pairing } from './p2p-db.ts';
import { asFerryError } from './p2p-error.ts';
import { Pairings } from './pairings.svelte.ts';
import { Receives } from './receives.svelte.ts';
import { SealedBoxes } from './sealed-boxes.svelte.ts';
import { Sends } from './sends.svelte.ts';
import { SentOffers } from './sent-offers.svelte.ts';
import { type NearbyPeer, SignalingClient } from './signaling.svelte.ts';
import { type ReceivedText, Texts } from './texts.svelte.ts';

export type { ReceivedText } from './texts.svelte.ts';

/** How long a new send waits for the connection to open before it says no direct route was found. */
export const CONNECT_TIMEOUT_MS = 15_000;

export class Nearby {
  readonly signaling: SignalingClient;
  readonly pairings: Pairings;
  /** Offers sent through the relay awaiting an answer, kept across tabs. */
  readonly sentOffers = new SentOffers();
  readonly #sends = new Sends();
  readonly #receives = new Receives();
  readonly #texts: Texts;
  readonly #connections: Connections;
  readonly #boxes: SealedBoxes;

  constructor(signaling = new SignalingClient()) {
    this.signaling = signaling;
    this.pairings = new Pairings(signaling);
    this.#texts = new Texts((peerId) => this.#connections.open(peerId, true));
    this.#connections = new Connections({
      signaling,
      pairings: this.pairings,
      sends: this.#sends,
      receives: this.#receives,
      texts: this.#texts,
    });
    this.#boxes = new SealedBoxes(signaling, this.pairings, this.sentOffers, {
      answered: (transfer, accept) => this.#sends.answer(transfer, accept),
      known: (transfer) => this.#receives.has(transfer),
      offered: (from, name, offer, reply) => this.#receives.offeredSealed(from, name, offer, reply),
    });
  }

  /**
   * Devices on this network, then paired devices on other networks: one entry per
   * connection. A paired device on this network is its pair room's entry, which carries its
   * device id (the network room does not), so it is known as the paired device and never
   * also shown as away. This device's own other tabs in a pair room are left out.
   */
  get peers(): readonly NearbyPeer[] {
    const self = this.signaling.device?.id;
    const paired = this.pairings.remembered
      .flatMap((p) => this.signaling.pairRoomPeers(p.room))
      .filter((peer, i, all) => peer.deviceId !== self && all.findIndex((o) => o.id === peer.id) === i);
    const nearby = this.signaling.peers.map((peer) => paired.find((p) => p.id === peer.id) ?? peer);
    return [...nearby, ...paired.filter((peer) => !nearby.includes(peer))];
  }
  /**
   * Paired devices online in none of this page's rooms: their tiles send through the relay
   * share with the sealed offer left in the pair room's mailbox. Each is keyed by its room.
   */
  get offline(): readonly Pairing[] {
    return offlineTargets(this.pairings.remembered, this.peers);
  }
  get incoming(): readonly IncomingTransfer[] {
    return this.#receives.all;
  }
  get texts(): readonly ReceivedText[] {
    return this.#texts.received;
  }
  /** Why the last sealed message from a paired device was refused, or an answer to one failed. */
  get offlineRefusal(): string | null {
    return this.#boxes.refusal;
  }

  /** The latest send to a peer (or to an offline paired device, by its room), including one sent while it was offline. */
  outgoingTo(peerId: string): OutgoingTransfer | undefined {
    const room = this.pairings.pairingWith(peerId)?.room;
    return this.#sends.latest(peerId) ?? (room ? this.#sends.latest(room) : undefined);
  }
  /** The verification code of the link to a peer, once connected. */
  codeWith(peerId: string): string | null {
    return this.#connections.codeWith(peerId);
  }
  /** The code of the link to a peer while this side's person still has to compare it (once per connection). */
  codeToCompare(peerId: string): string | null {
    return this.#connections.codeToCompare(peerId);
  }
  textNotice(peerId: string): string | undefined {
    return this.#texts.notice(peerId);
  }
  /** Why the last link to a peer was refused, if it was. */
  refusal(peerId: string): string | undefined {
    return this.#connections.refusal(peerId);
  }

  /** Connects and listens; `hash` is the page's fragment (a pairing link's code). */
  start(hash = ''): void {
    this.pairings.start(hash);
    this.sentOffers.start();
    this.#connections.start();
    this.#boxes.start();
    this.signaling.start();
  }

  dispose(): void {
    this.#boxes.dispose();
    this.pairings.dispose();
    this.sentOffers.dispose();
    this.#connections.dispose();
    this.#receives.dispose();
    this.signaling.stop();
  }

  /**
   * Sends `files` to a peer: connect, hash, then wait for the code to be confirmed. A paired
   * device no connection reaches in time gets them through the relay share, the offer sealed
   * for it; to one that is offline (`peerId` is its pair room) they go that way at once.
   */
  sendFiles(peerId: string, files: File[]): void {
    const away = this.offline.find((p) => p.room === peerId);
    if (away) {
      if (files.length > 0 && !this.#sends.running(peerId)) {
        this.#sends.throughMailbox(peerId, away, away.name, files, true, this.#boxes);
      }
      return;
    }
    const peer = this.signaling.peer(peerId);
    if (!peer || files.length === 0 || this.#sends.running(peerId)) return;
    const send = this.#sends.overPeer(peerId, peer.name, files, peer.frames);
    const connection = this.#connections.open(peerId, true);
    if (!connection) {
      send.fail(new FerryError('NETWORK_ERROR', 'Not connected to the server.'));
      return;
    }
    const late = `No direct connection to ${peer.name} opened within ${CONNECT_TIMEOUT_MS / 1000} s.`;
    beforeDeadline(connection.opened, Date.now() + CONNECT_TIMEOUT_MS, late).then(
      () => void send.run(connection.link, connection.confirmed),
      (error: unknown) => {
        send.fail(asFerryError(error));
        this.#connections.dropUnconnected(peerId, connection, asFerryError(error));
        const pairing = this.pairings.pairingWith(peerId);
        if (pairing && this.#sends.latest(peerId) === send) {
          this.#sends.throughMailbox(peerId, pairing, peer.name, files, false, this.#boxes);
        }
      },
    );
  }

  /**
   * Withdraws an offer still waiting in a pair room's mailbox (sent-offers.svelte.ts): the
   * server forgets its box, unless the device took it already, and its share is revoked.
   */
  withdrawOffer(transfer: string): Promise<void> {
    return this.#boxes.withdraw(transfer);
  }

  /** The sender (or, when pairing, either person) saw the same code on both screens. */
  confirmCode(peerId: string): void {
    this.#connections.confirm(peerId);
  }

  /** Stops a pairing whose codes differ (or that the person gave up). */
  cancelPairing(): void {
    const pending = this.pairings.pending;
    if (!pending) return;
    this.pairings.abandon(null);
    this.#connections.drop(pending.peer.id, new FerryError('ABORTED', 'Pairing was cancelled.'));
  }

  cancel(peerId: string): void {
    this.#sends.cancel(peerId);
  }

  /** Sends a short text once the link is verified. */
  sendText(peerId: string, text: string): Promise<void> {
    return this.#texts.send(peerId, text);
  }

  dismissText(id: number): void {
    this.#texts.dismiss(id);
  }

  dismissIncoming(transfer: IncomingTransfer): void {
    this.#receives.dismiss(transfer);
  }
}
