/**
 * Browser-to-browser sending as one object: the signaling connection, one PeerLink per
 * other device, and the transfers and texts over them. Components read its getters and
 * call its methods.
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
import { fromBase64Url, toBase64Url } from '../../../shared/encoding.ts';
import { FerryError } from '../../../shared/errors.ts';
import { deriveOfflineKey } from '../../../shared/keys.ts';
import { type OfflineKind, type OfflinePayload, openOffline, sealOffline } from '../../../shared/p2p/offline-seal.ts';
import { beforeDeadline, RECONNECT_WINDOW_MS, RELAY_EXPIRY_SECONDS } from '../../../shared/p2p/relay.ts';
import { relayManifest } from '../../../shared/p2p/relay-read.ts';
import { Connection } from './connection.svelte.ts';
import type { ControlContext } from './control/context.ts';
import { dispatchControl } from './control/dispatch.ts';
import { IncomingTransfer } from './incoming.svelte.ts';
import { offlineTargets } from './offline-targets.ts';
import { MailboxSend } from './outgoing/mailbox.svelte.ts';
import { PeerSend } from './outgoing/peer.svelte.ts';
import type { OutgoingTransfer } from './outgoing/transfer.svelte.ts';
import type { Pairing } from './p2p-db.ts';
import { type AuthPlan, Pairings } from './pairings.svelte.ts';
import { isIceFailure, PeerLink } from './peer-link.ts';
import type { RelayShare } from './relay-upload.ts';
import { SentOffers } from './sent-offers.svelte.ts';
import { type NearbyPeer, SignalingClient } from './signaling.svelte.ts';

/** First pause before connecting again (the other side notices the drop meanwhile), then doubling. */
const RECONNECT_FIRST_DELAY_MS = 250;
const RECONNECT_MAX_DELAY_MS = 4000;
/** How long a new send waits for the connection to open before it says no direct route was found. */
export const CONNECT_TIMEOUT_MS = 15_000;

export interface ReceivedText {
  id: number;
  from: string;
  text: string;
}

export class Nearby {
  readonly signaling: SignalingClient;
  readonly pairings: Pairings;
  /** Offers sent through the relay awaiting an answer, kept across tabs. */
  readonly sentOffers = new SentOffers();
  #connections = $state<Record<string, Connection>>({});
  #outgoing = $state<Record<string, OutgoingTransfer>>({});
  #incoming = $state<IncomingTransfer[]>([]);
  #texts = $state<ReceivedText[]>([]);
  #textNotice = $state<Record<string, string>>({});
  /** Why the last link to a peer was refused (a MAC that failed), shown on its tile. */
  #refusals = $state<Record<string, string>>({});
  #nextText = 0;
  /** Why the last sealed message from a paired device was refused (shared/p2p/offline-seal.ts), or an answer failed. */
  #offlineRefusal = $state<string | null>(null);
  #unsubscribe: (() => void)[] = [];
  /** Connections made to resume a transfer, keyed by its secret: the transfer each may resume. */
  readonly #resuming = new WeakMap<Connection, string>();

  constructor(signaling = new SignalingClient()) {
    this.signaling = signaling;
    this.pairings = new Pairings(signaling);
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
    return this.#incoming;
  }
  get texts(): readonly ReceivedText[] {
    return this.#texts;
  }
  /** Why the last sealed message from a paired device was refused, or an answer to one failed. */
  get offlineRefusal(): string | null {
    return this.#offlineRefusal;
  }

  /** The latest send to a peer (or to an offline paired device, by its room), including one sent while it was offline. */
  outgoingTo(peerId: string): OutgoingTransfer | undefined {
    const room = this.pairings.pairingWith(peerId)?.room;
    return this.#outgoing[peerId] ?? (room ? this.#outgoing[room] : undefined);
  }
  /** The verification code of the link to a peer, once connected. */
  codeWith(peerId: string): string | null {
    return this.#connections[peerId]?.code ?? null;
  }
  /** The code of the link to a peer while this side's person still has to compare it (once per connection). */
  codeToCompare(peerId: string): string | null {
    const connection = this.#connections[peerId];
    return connection && !connection.vouched ? connection.code : null;
  }
  textNotice(peerId: string): string | undefined {
    return this.#textNotice[peerId];
  }
  /** Why the last link to a peer was refused, if it was. */
  refusal(peerId: string): string | undefined {
    return this.#refusals[peerId];
  }

  /** Connects and listens; `hash` is the page's fragment (a pairing link's code). */
  start(hash = ''): void {
    this.pairings.start(hash);
    this.sentOffers.start();
    this.#unsubscribe = [
      // The device that made the code opens the pairing's first connection.
      this.signaling.on('paired', () => {
        const pending = this.pairings.pending;
        if (pending?.role === 'creator') this.#connection(pending.peer.id, true);
      }),
      this.signaling.on('relay', (message) => {
        const room = this.signaling.pairRoomOf(message.from);
        if (message.kind === 'offline' && room) void this.#onSealed(room, message.from, message.data);
        // Only a device nearby or paired (not, say, a share's reader) may open a link here.
        if (message.kind !== 'signal' || !this.signaling.peer(message.from)) return;
        this.#dropStale(message.from, message.data);
        this.#connection(message.from, false)?.link.signal(message.data);
      }),
      this.signaling.on('mailbox', ({ room, items }) => {
        for (const item of items) void this.#onSealed(room, null, item.data, item.from);
      }),
      this.signaling.on('peer-left', ({ peerId }) =>
        this.#drop(peerId, new FerryError('NETWORK_ERROR', 'The other device left.')),
      ),
    ];
    this.signaling.start();
  }

  dispose(): void {
    for (const stop of this.#unsubscribe) stop();
    this.pairings.dispose();
    this.sentOffers.dispose();
    for (const id of Object.keys(this.#connections)) this.#drop(id, null);
    for (const transfer of this.#incoming) transfer.dispose();
    this.signaling.stop();
  }

  /**
   * Sends `files` to a peer: connect, hash, then wait for the code to be confirmed. To a
   * paired device that is offline (`peerId` is its pair room, `offline`), straight through
   * the relay share: no connection could open, so none is waited for.
   */
  sendFiles(peerId: string, files: File[]): void {
    const away = this.offline.find((p) => p.room === peerId);
    if (away) {
      if (files.length > 0 && !this.#outgoing[peerId]?.active) this.#sendOffline(peerId, away, away.name, files, true);
      return;
    }
    const peer = this.signaling.peer(peerId);
    if (!peer || files.length === 0 || this.#outgoing[peerId]?.active) return;
    const transfer = new PeerSend(peer.name, files, peer.frames);
    this.#outgoing = { ...this.#outgoing, [peerId]: transfer };
    const connection = this.#connection(peerId, true);
    if (!connection) {
      transfer.fail(new FerryError('NETWORK_ERROR', 'Not connected to the server.'));
      return;
    }
    const late = `No direct connection to ${peer.name} opened within ${CONNECT_TIMEOUT_MS / 1000} s.`;
    beforeDeadline(connection.opened, Date.now() + CONNECT_TIMEOUT_MS, late).then(
      () => void transfer.run(connection.link, connection.confirmed),
      (error: unknown) => {
        transfer.fail(asFerryError(error));
        if (this.#connections[peerId] === connection && !connection.link.connected) {
          this.#drop(peerId, asFerryError(error));
        }
        // A paired device gets the same files through the relay share, the offer sealed for it.
        const pairing = this.pairings.pairingWith(peerId);
        if (pairing && this.#outgoing[peerId] === transfer) this.#sendOffline(peerId, pairing, peer.name, files, false);
      },
    );
  }

  /**
   * Files for a paired device through the relay share, the offer sealed for it; `key` names
   * the tile. `away`: the device is offline, so the offer leaves once every file is stored.
   */
  #sendOffline(key: string, pairing: Pairing, name: string, files: File[], away: boolean): void {
    const offline = new MailboxSend(name, files);
    this.#outgoing = { ...this.#outgoing, [key]: offline };
    if (!pairing.deviceId) {
      // A pairing stored before device ids were read from the pair room learns it when the
      // device is next online (pairings.svelte.ts); until then no box can be addressed.
      offline.fail(
        new FerryError(
          'PEER_NOT_REACHABLE',
          `${name} has not been online since the pairing; send once it opens Ferry.`,
        ),
      );
      return;
    }
    void offline.run((secret, share) => this.#sendOffer(pairing, offline, secret, share), away);
  }

  /**
   * Seals the offer of a transfer going through the relay share for a paired device, and
   * remembers it until answered: a later tab hears an answer this one is not there for.
   */
  async #sendOffer(
    pairing: Pairing,
    transfer: OutgoingTransfer,
    secret: Uint8Array<ArrayBuffer>,
    share: RelayShare,
  ): Promise<void> {
    const senderName = this.signaling.device?.name ?? 'Another device';
    const mailbox = await this.#deliverSealed(pairing, 'offer', transfer.id, {
      secret: toBase64Url(secret),
      senderName,
    });
    const sentAt = Date.now();
    await this.sentOffers
      .remember({
        transfer: transfer.id,
        room: pairing.room,
        peerName: pairing.name,
        files: transfer.files.map(({ name, size }) => ({ name, size })),
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
  withdrawOffer(transfer: string): Promise<void> {
    return this.sentOffers.withdraw(transfer, (room, id) => this.signaling.mailboxWithdraw(room, id));
  }

  /**
   * Sends a sealed message to a paired device: by relay when it is in the pair room, else to
   * its mailbox. Answers the id the box waits under there, null when the device got it at once.
   */
  async #deliverSealed<K extends OfflineKind>(
    pairing: Pairing,
    kind: K,
    transfer: string,
    payload: OfflinePayload<K>,
  ): Promise<string | null> {
    const self = this.signaling.device?.id;
    if (!self) throw new FerryError('NETWORK_ERROR', 'Not connected to the server.');
    const key = await deriveOfflineKey(fromBase64Url(pairing.secret));
    const sealed = await sealOffline(
      key,
      kind,
      { room: pairing.room, from: self, to: pairing.deviceId, transfer },
      payload,
    );
    const peer = this.signaling.pairRoomPeers(pairing.room).find((p) => p.deviceId === pairing.deviceId);
    if (peer) {
      if (!this.signaling.relay(peer.id, 'offline', sealed)) {
        throw new FerryError('NETWORK_ERROR', 'Not connected to the server.');
      }
      return null;
    }
    const expiresAt = Date.now() + RELAY_EXPIRY_SECONDS * 1000;
    return await this.signaling
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
   * mailbox, left by device `fromDevice`): an offer becomes an incoming transfer read from
   * the relay share, an answer goes to the transfer it is about. A box that does not open
   * with this pairing is refused and said so.
   */
  async #onSealed(room: string, peerId: string | null, data: unknown, fromDevice?: string): Promise<void> {
    const pairing = this.pairings.remembered.find((p) => p.room === room);
    const self = this.signaling.device?.id;
    if (!pairing || !self || (fromDevice !== undefined && fromDevice !== pairing.deviceId)) return;
    const binding = { room, from: pairing.deviceId, to: self };
    const kind = (data as { kind?: unknown } | null)?.kind;
    try {
      const key = await deriveOfflineKey(fromBase64Url(pairing.secret));
      if (kind === 'answer') {
        const { transfer, payload } = await openOffline(key, 'answer', binding, data);
        const held = Object.values(this.#outgoing).filter((outgoing) => outgoing.id === transfer);
        for (const outgoing of held) if (outgoing instanceof MailboxSend) outgoing.answer(payload.accept);
        await this.sentOffers.answered(transfer, payload.accept, held.length > 0);
        return;
      }
      if (kind !== 'offer') return;
      const { transfer, payload } = await openOffline(key, 'offer', binding, data);
      if (this.#incoming.some((t) => t.id === transfer)) return;
      const secret = fromBase64Url(payload.secret);
      const manifest = await relayManifest(secret, payload.senderName);
      // An answer that cannot be left (no server, a full mailbox) is said: the sender would never hear it.
      const reply = (accept: boolean) =>
        void this.#deliverSealed(pairing, 'answer', transfer, { accept }).catch((error: unknown) => {
          this.#offlineRefusal = `Your answer could not be sent to ${payload.senderName}: ${asFerryError(error).message}`;
        });
      const offer = { type: 'offer', transfer, secret: payload.secret, manifest } as const;
      // Named as its tile names it when it is here (like an offer over a channel).
      const name = (peerId && this.signaling.peer(peerId)?.name) || payload.senderName;
      const from = peerId ?? pairing.room;
      this.#incoming = [...this.#incoming, new IncomingTransfer(null, from, name, null, offer, reply)];
      this.#offlineRefusal = null;
    } catch (error) {
      this.#offlineRefusal = asFerryError(error).message;
    }
  }

  /** The sender (or, when pairing, either person) saw the same code on both screens. */
  confirmCode(peerId: string): void {
    this.#connections[peerId]?.confirm();
  }

  /** Stops a pairing whose codes differ (or that the person gave up). */
  cancelPairing(): void {
    const pending = this.pairings.pending;
    if (!pending) return;
    this.pairings.abandon(null);
    this.#drop(pending.peer.id, new FerryError('ABORTED', 'Pairing was cancelled.'));
  }

  cancel(peerId: string): void {
    this.#outgoing[peerId]?.cancel();
  }

  /** Sends a short text once the link is verified. */
  async sendText(peerId: string, text: string): Promise<void> {
    const connection = this.#connection(peerId, true);
    if (!connection) return;
    this.#textNotice = { ...this.#textNotice, [peerId]: 'Connecting…' };
    try {
      await connection.opened;
      // A paired device proves itself by MAC: there is no code for the people to check.
      const step = connection.plan.compare ? 'Check the code, then confirm.' : 'Checking the paired device…';
      this.#textNotice = { ...this.#textNotice, [peerId]: step };
      await connection.confirmed;
      connection.link.sendControl({ type: 'text', text });
      this.#textNotice = { ...this.#textNotice, [peerId]: 'Text sent.' };
    } catch (error) {
      this.#textNotice = {
        ...this.#textNotice,
        [peerId]: error instanceof FerryError ? error.message : 'The text could not be sent.',
      };
    }
  }

  dismissText(id: number): void {
    this.#texts = this.#texts.filter((t) => t.id !== id);
  }

  dismissIncoming(transfer: IncomingTransfer): void {
    transfer.dispose();
    this.#incoming = this.#incoming.filter((t) => t !== transfer);
  }

  /** The link to a peer, made when missing (`initiator`: we start it). */
  #connection(peerId: string, initiator: boolean): Connection | null {
    const existing = this.#connections[peerId];
    if (existing) return existing;
    if (!this.signaling.self) return null;
    const link = new PeerLink(initiator, this.signaling.ice, {
      signal: (data) => void this.signaling.relay(peerId, 'signal', data),
      connect: () => {
        connection.onConnect().catch((error: unknown) => this.#refuse(peerId, connection, error));
      },
      control: (message) => dispatchControl(context, message),
      binary: (bytes) => {
        for (const transfer of this.#incoming)
          if (transfer.active && transfer.peerId === peerId) transfer.onBinary(bytes);
      },
      close: (error) => {
        const reason = error ?? new FerryError('NETWORK_ERROR', 'The connection was closed.');
        // A link replaced by a newer one (a reconnection) must not drop its successor.
        if (this.#connections[peerId] === connection) this.#drop(peerId, reason);
        else this.#linkGone(peerId, link, reason);
      },
    });
    const resume = this.#waitingToResume(peerId);
    const plan: AuthPlan = resume
      ? { secret: Promise.resolve(resume.secret), compare: false, pairing: null }
      : this.pairings.authFor(peerId);
    const connection = new Connection(link, plan);
    const context = this.#controlContext(peerId, connection);
    if (resume) this.#resuming.set(connection, resume.transfer);
    this.#connections = { ...this.#connections, [peerId]: connection };
    const { [peerId]: _, ...others } = this.#refusals;
    this.#refusals = others;
    const pairing = connection.plan.pairing;
    if (pairing) {
      void this.pairings.exchange(pairing, {
        confirmed: connection.confirmed,
        lost: connection.lost,
        send: (message) => link.sendControl(message),
      });
    }
    return connection;
  }

  /** A link whose authentication failed: say why on its tile, and close it. */
  #refuse(peerId: string, connection: Connection, error: unknown): void {
    if (this.#connections[peerId] !== connection) return;
    const reason = asFerryError(error);
    if (reason.code === 'UNAUTHORIZED') this.#refusals = { ...this.#refusals, [peerId]: reason.message };
    this.#drop(peerId, reason);
  }

  /**
   * What the control handlers (control/index.ts) may do with a message from `peerId` over
   * `connection`: the dispatcher reads nothing but authentication before it verified.
   */
  #controlContext(peerId: string, connection: Connection): ControlContext<PeerLink> {
    return {
      peerId,
      connection,
      refuse: (error) => this.#refuse(peerId, connection, error),
      drop: (error) => this.#drop(peerId, asFerryError(error)),
      pairing: (message) => this.pairings.onControl(peerId, message),
      outgoing: () => this.#peerSend(peerId),
      incoming: () => this.#incoming,
      offered: (message, code) => {
        const transfer = new IncomingTransfer(
          connection.link,
          peerId,
          this.#peerName(peerId),
          code,
          message,
          null,
          () => connection.vouch(),
        );
        this.#incoming = [...this.#incoming, transfer];
      },
      resuming: () => this.#resuming.get(connection),
      text: (text) => {
        this.#texts = [...this.#texts, { id: this.#nextText++, from: this.#peerName(peerId), text }];
      },
    };
  }

  #peerName(peerId: string): string {
    return this.signaling.peer(peerId)?.name ?? 'Another device';
  }

  /** The transfer to a peer over the data channel (the peer route), if its latest send is one. */
  #peerSend(peerId: string): PeerSend | undefined {
    const outgoing = this.#outgoing[peerId];
    return outgoing instanceof PeerSend ? outgoing : undefined;
  }

  #drop(peerId: string, error: FerryError | null): void {
    const connection = this.#connections[peerId];
    if (!connection) return;
    const { [peerId]: _, ...rest } = this.#connections;
    this.#connections = rest;
    const reason = error ?? new FerryError('ABORTED', 'Closed.');
    connection.fail(reason);
    connection.link.destroy();
    this.#linkGone(peerId, connection.link, error);
  }

  /**
   * The transfers with a peer hear that `link` is gone: when it was lost (an error) those
   * running over it wait to resume (the sender reconnects); when closed on purpose they fail.
   */
  #linkGone(peerId: string, link: PeerLink, error: FerryError | null): void {
    const reason = error ?? new FerryError('ABORTED', 'Closed.');
    const outgoing = this.#outgoing[peerId];
    const peerSend = this.#peerSend(peerId);
    if (error && peerSend?.linkLost(reason, link)) void this.#reconnect(peerId, peerSend);
    else if (!error) outgoing?.fail(reason);
    for (const transfer of this.#incoming) {
      if (transfer.peerId !== peerId) continue;
      if (error) transfer.linkLost(reason, link);
      else transfer.fail(reason);
    }
  }

  /** The secret of a transfer with this peer that waits to resume, which keys a new link's MAC. */
  #waitingToResume(peerId: string): { transfer: string; secret: Uint8Array<ArrayBuffer> } | null {
    const outgoing = this.#peerSend(peerId);
    if (outgoing?.resumeSecret) return { transfer: outgoing.id, secret: outgoing.resumeSecret };
    const incoming = this.#incoming.find((t) => t.peerId === peerId && t.resumeSecret);
    return incoming?.resumeSecret ? { transfer: incoming.id, secret: incoming.resumeSecret } : null;
  }

  /**
   * A new offer from a peer whose offer this side already answered: that peer started a
   * new connection (it is reconnecting), so the old one is dead even if its close has not
   * arrived here yet. Dropping it first lets the new link be keyed for the resume.
   */
  #dropStale(peerId: string, data: Record<string, unknown>): void {
    const existing = this.#connections[peerId];
    if (data.type !== 'offer' || !existing || existing.link.initiator || !existing.link.descriptions) return;
    this.#drop(peerId, new FerryError('NETWORK_ERROR', 'The other device started a new connection.'));
  }

  /**
   * The link to a peer dropped while sending: connect again, with backoff, for at most
   * RECONNECT_WINDOW_MS, each new link authenticated with the transfer's own secret (MAC
   * mode, no code to compare), and resume. When the peer has left, the window passes or
   * ICE finds no route, the transfer continues through the relay instead.
   */
  async #reconnect(peerId: string, transfer: PeerSend): Promise<void> {
    const deadline = Date.now() + RECONNECT_WINDOW_MS;
    let delay = RECONNECT_FIRST_DELAY_MS;
    while (transfer.phase === 'reconnecting' && Date.now() < deadline && this.signaling.peer(peerId)) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, RECONNECT_MAX_DELAY_MS);
      const connection = transfer.phase === 'reconnecting' ? this.#connection(peerId, true) : null;
      if (!connection) continue;
      try {
        await beforeDeadline(connection.confirmed, deadline);
        await transfer.resume(connection.link);
        return;
      } catch (error) {
        if (this.#connections[peerId] === connection) this.#drop(peerId, asFerryError(error));
        if (isIceFailure(error)) break;
      }
    }
    transfer.relay();
  }
}

function asFerryError(error: unknown): FerryError {
  return error instanceof FerryError ? error : new FerryError('INTERNAL', 'Something went wrong with the connection.');
}
