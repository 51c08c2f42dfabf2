/**
 * Offers and answers sealed for a paired device that no data channel reaches
 * (shared/p2p/offline-seal.ts, under a key from the pairing secret): sent by relay when the
 * device is in the pair room, else left in the room's mailbox; and those that arrive, by
 * relay or from the mailbox at this device's rejoin. An opened offer is shown like one over
 * a channel (its manifest read from the relay share); an opened answer goes to the send it
 * is about and to the offers kept across tabs (sent-offers.svelte.ts). A box that does not
 * open with the pairing is refused, and `refusal` says why.
 */
import { fromBase64Url, toBase64Url } from '../../../shared/encoding.ts';
import { FerryError } from '../../../shared/errors.ts';
import { deriveOfflineKey } from '../../../shared/keys.ts';
import type { ControlMessageOf } from '../../../shared/p2p/frames.ts';
import { type OfflineKind, type OfflinePayload, openOffline, sealOffline } from '../../../shared/p2p/offline-seal.ts';
import { RELAY_EXPIRY_SECONDS } from '../../../shared/p2p/relay.ts';
import { relayManifest } from '../../../shared/p2p/relay-read.ts';
import type { RelayOwner } from '../../../shared/p2p/relay-share.ts';
import type { Pairing } from './p2p-db.ts';
import { asFerryError } from './p2p-error.ts';
import type { SentOffers } from './sent-offers.svelte.ts';
import type { SignalingClient } from './signaling.svelte.ts';

/** What the boxes need of the page's signaling connection. */
export type BoxSignaling = Pick<
  SignalingClient,
  'device' | 'on' | 'peer' | 'pairRoomOf' | 'pairRoomPeers' | 'relay' | 'mailboxPut' | 'mailboxWithdraw'
>;

/** Where opened boxes go. */
export interface BoxHooks {
  /** An answer about `transfer`; true when a send this tab runs heard it (outgoing/mailbox.svelte.ts). */
  answered(transfer: string, accept: boolean): boolean;
  /** Whether the offer of `transfer` is shown already (a box handed over twice). */
  known(transfer: string): boolean;
  /**
   * An offer opened: `from` is the sender's peer id when it came by relay, else the pair
   * room; `reply` seals the person's answer back.
   */
  offered(from: string, peerName: string, offer: ControlMessageOf<'offer'>, reply: (accept: boolean) => void): void;
}

/** A send whose offer is sealed: its id and files. */
export interface SealedSend {
  readonly id: string;
  readonly files: readonly { name: string; size: number }[];
}

export class SealedBoxes {
  readonly #signaling: BoxSignaling;
  readonly #pairings: { readonly remembered: readonly Pairing[] };
  readonly #offers: Pick<SentOffers, 'remember' | 'answered' | 'withdraw'>;
  readonly #hooks: BoxHooks;
  /** The server the relay shares are on ('' in the page: this origin). */
  readonly #base: string;
  #refusal = $state<string | null>(null);
  #unsubscribe: (() => void)[] = [];

  constructor(
    signaling: BoxSignaling,
    pairings: { readonly remembered: readonly Pairing[] },
    offers: Pick<SentOffers, 'remember' | 'answered' | 'withdraw'>,
    hooks: BoxHooks,
    base = '',
  ) {
    this.#signaling = signaling;
    this.#pairings = pairings;
    this.#offers = offers;
    this.#hooks = hooks;
    this.#base = base;
  }

  /** Why the last sealed message from a paired device was refused, or an answer to one failed. */
  get refusal(): string | null {
    return this.#refusal;
  }

  /** Listens for boxes by relay and from the mailbox. */
  start(): void {
    this.#unsubscribe = [
      this.#signaling.on('relay', (message) => {
        const room = this.#signaling.pairRoomOf(message.from);
        if (message.kind === 'offline' && room) void this.#onSealed(room, message.from, message.data);
      }),
      this.#signaling.on('mailbox', ({ room, items }) => {
        for (const item of items) void this.#onSealed(room, null, item.data, item.from);
      }),
    ];
  }

  dispose(): void {
    for (const stop of this.#unsubscribe) stop();
    this.#unsubscribe = [];
  }

  /**
   * Seals the offer of `send` (its link secret and this device's name) for the paired
   * device, and remembers it until answered: a later tab hears an answer this one is not
   * there for.
   */
  async sendOffer(
    pairing: Pairing,
    send: SealedSend,
    secret: Uint8Array<ArrayBuffer>,
    share: RelayOwner,
  ): Promise<void> {
    const senderName = this.#signaling.device?.name ?? 'Another device';
    const mailbox = await this.#deliver(pairing, 'offer', send.id, { secret: toBase64Url(secret), senderName });
    const sentAt = Date.now();
    await this.#offers
      .remember({
        transfer: send.id,
        room: pairing.room,
        peerName: pairing.name,
        files: send.files.map(({ name, size }) => ({ name, size })),
        sentAt,
        expiresAt: sentAt + RELAY_EXPIRY_SECONDS * 1000,
        shareId: share.id,
        ownerToken: share.ownerToken,
        mailbox,
      })
      .catch(() => {});
  }

  /**
   * Withdraws an offer still waiting in a pair room's mailbox (sent-offers.svelte.ts): the
   * server forgets its box, unless the device took it already, and its share is revoked.
   */
  withdraw(transfer: string): Promise<void> {
    return this.#offers.withdraw(transfer, (room, id) => this.#signaling.mailboxWithdraw(room, id));
  }

  /**
   * Sends a sealed message to a paired device: by relay when it is in the pair room, else to
   * its mailbox. Answers the id the box waits under there, null when the device got it at once.
   */
  async #deliver<K extends OfflineKind>(
    pairing: Pairing,
    kind: K,
    transfer: string,
    payload: OfflinePayload<K>,
  ): Promise<string | null> {
    const self = this.#signaling.device?.id;
    if (!self) throw new FerryError('NETWORK_ERROR', 'Not connected to the server.');
    const key = await deriveOfflineKey(fromBase64Url(pairing.secret));
    const binding = { room: pairing.room, from: self, to: pairing.deviceId, transfer };
    const sealed = await sealOffline(key, kind, binding, payload);
    const peer = this.#signaling.pairRoomPeers(pairing.room).find((p) => p.deviceId === pairing.deviceId);
    if (peer) {
      if (!this.#signaling.relay(peer.id, 'offline', sealed)) {
        throw new FerryError('NETWORK_ERROR', 'Not connected to the server.');
      }
      return null;
    }
    const expiresAt = Date.now() + RELAY_EXPIRY_SECONDS * 1000;
    return await this.#signaling
      .mailboxPut(pairing.room, pairing.deviceId, sealed, expiresAt)
      .catch((error: unknown) => {
        if (!(error instanceof FerryError) || error.code !== 'MAILBOX_FULL') throw error;
        throw new FerryError(
          'MAILBOX_FULL',
          `Too much is already waiting for ${pairing.name} on the server; send again once it has opened Ferry.`,
          { cause: error },
        );
      });
  }

  /**
   * A sealed message from the paired device of `room` (by relay from `peerId`, or from the
   * mailbox, left by device `fromDevice`): an offer is shown with its manifest from the
   * relay share, an answer goes to the transfer it is about.
   */
  async #onSealed(room: string, peerId: string | null, data: unknown, fromDevice?: string): Promise<void> {
    const pairing = this.#pairings.remembered.find((p) => p.room === room);
    const self = this.#signaling.device?.id;
    if (!pairing || !self || (fromDevice !== undefined && fromDevice !== pairing.deviceId)) return;
    const binding = { room, from: pairing.deviceId, to: self };
    const kind = (data as { kind?: unknown } | null)?.kind;
    try {
      const key = await deriveOfflineKey(fromBase64Url(pairing.secret));
      if (kind === 'answer') {
        const { transfer, payload } = await openOffline(key, 'answer', binding, data);
        const held = this.#hooks.answered(transfer, payload.accept);
        await this.#offers.answered(transfer, payload.accept, held);
        return;
      }
      if (kind !== 'offer') return;
      const { transfer, payload } = await openOffline(key, 'offer', binding, data);
      if (this.#hooks.known(transfer)) return;
      const secret = fromBase64Url(payload.secret);
      const manifest = await relayManifest(secret, payload.senderName, this.#base);
      // An answer that cannot be left (no server, a full mailbox) is said: the sender would never hear it.
      const reply = (accept: boolean) =>
        void this.#deliver(pairing, 'answer', transfer, { accept }).catch((error: unknown) => {
          this.#refusal = `Your answer could not be sent to ${payload.senderName}: ${asFerryError(error).message}`;
        });
      const offer = { type: 'offer', transfer, secret: payload.secret, manifest } as const;
      // Named as its tile names it when it is here (like an offer over a channel).
      const name = (peerId && this.#signaling.peer(peerId)?.name) || payload.senderName;
      this.#hooks.offered(peerId ?? pairing.room, name, offer, reply);
      this.#refusal = null;
    } catch (error) {
      this.#refusal = asFerryError(error).message;
    }
  }
}
