/**
 * Browser-to-browser sending as one object: the signaling connection, one PeerLink per
 * other device, and the transfers and texts over them. Components read its getters and
 * call its methods.
 *
 * Authentication comes before any file byte or text: once a link opens, both sides
 * compute the verification code from the DTLS fingerprints (auth.ts). The recipient sees
 * it in the offer; the sender sees it on the tile and confirms that both screens show the
 * same code before the offer (which carries the link secret) leaves. A signaling server in
 * the middle would hold two DTLS sessions, so the codes would differ. With a shared secret
 * (`connect(peer, { secret })`, used by later phases) the MAC check replaces the people.
 */
import { FerryError } from '../../../shared/errors.ts';
import type { ControlMessage } from '../../../shared/p2p.ts';
import { type AuthRole, deriveMacKey, fingerprintMac, verificationCode, verifyFingerprintMac } from './auth.ts';
import { IncomingTransfer } from './incoming.svelte.ts';
import { OutgoingTransfer } from './outgoing.svelte.ts';
import { PeerLink } from './peer-link.ts';
import { type NearbyPeer, SignalingClient } from './signaling.svelte.ts';

export interface ReceivedText {
  id: number;
  from: string;
  text: string;
}

/** One connection to another device and what is known about whom it reaches. */
class Connection {
  readonly link: PeerLink;
  code = $state<string | null>(null);
  /** Resolves when the people confirmed the code (sender) or the MAC verified. */
  readonly confirmed: Promise<void>;
  readonly opened: Promise<void>;
  #confirm!: () => void;
  #reject!: (error: FerryError) => void;
  #open!: () => void;
  #failOpen!: (error: FerryError) => void;
  #macKey: Promise<CryptoKey> | null;

  constructor(link: PeerLink, secret: Uint8Array<ArrayBuffer> | null) {
    this.link = link;
    this.#macKey = secret ? deriveMacKey(secret) : null;
    this.confirmed = new Promise<void>((resolve, reject) => {
      this.#confirm = resolve;
      this.#reject = reject;
    });
    this.opened = new Promise<void>((resolve, reject) => {
      this.#open = resolve;
      this.#failOpen = reject;
    });
    this.confirmed.catch(() => {});
    this.opened.catch(() => {});
  }

  get role(): AuthRole {
    return this.link.initiator ? 'offerer' : 'answerer';
  }

  async onConnect(): Promise<void> {
    const sdp = this.link.descriptions;
    if (!sdp) throw new FerryError('UNAUTHORIZED', 'The connection could not be verified.');
    this.code = await verificationCode(sdp.local, sdp.remote);
    if (this.#macKey) {
      const mac = await fingerprintMac(await this.#macKey, sdp.local, sdp.remote, this.role);
      this.link.sendControl({ type: 'auth', mac });
    }
    this.#open();
  }

  async onAuth(mac: string): Promise<void> {
    const sdp = this.link.descriptions;
    if (!this.#macKey || !sdp) return;
    const theirs: AuthRole = this.role === 'offerer' ? 'answerer' : 'offerer';
    await verifyFingerprintMac(await this.#macKey, sdp.local, sdp.remote, theirs, mac);
    this.#confirm();
  }

  confirm(): void {
    this.#confirm();
  }

  fail(error: FerryError): void {
    this.#reject(error);
    this.#failOpen(error);
  }
}

export class Nearby {
  readonly signaling: SignalingClient;
  #connections = $state<Record<string, Connection>>({});
  #outgoing = $state<Record<string, OutgoingTransfer>>({});
  #incoming = $state<IncomingTransfer[]>([]);
  #texts = $state<ReceivedText[]>([]);
  #textNotice = $state<Record<string, string>>({});
  #nextText = 0;
  #unsubscribe: (() => void)[] = [];

  constructor(signaling = new SignalingClient()) {
    this.signaling = signaling;
  }

  get peers(): readonly NearbyPeer[] {
    return this.signaling.peers;
  }
  get incoming(): readonly IncomingTransfer[] {
    return this.#incoming;
  }
  get texts(): readonly ReceivedText[] {
    return this.#texts;
  }

  outgoingTo(peerId: string): OutgoingTransfer | undefined {
    return this.#outgoing[peerId];
  }
  /** The verification code of the link to a peer, once connected. */
  codeWith(peerId: string): string | null {
    return this.#connections[peerId]?.code ?? null;
  }
  textNotice(peerId: string): string | undefined {
    return this.#textNotice[peerId];
  }

  start(): void {
    this.#unsubscribe = [
      this.signaling.on('relay', (message) => {
        if (message.kind === 'signal') this.#connection(message.from, false)?.link.signal(message.data);
      }),
      this.signaling.on('peer-left', ({ peerId }) =>
        this.#drop(peerId, new FerryError('NETWORK_ERROR', 'The other device left.')),
      ),
    ];
    this.signaling.start();
  }

  dispose(): void {
    for (const stop of this.#unsubscribe) stop();
    for (const id of Object.keys(this.#connections)) this.#drop(id, null);
    for (const transfer of this.#incoming) transfer.dispose();
    this.signaling.stop();
  }

  /** Sends `files` to a peer: connect, hash, then wait for the code to be confirmed. */
  sendFiles(peerId: string, files: File[]): void {
    const peer = this.signaling.peer(peerId);
    if (!peer || files.length === 0 || this.#outgoing[peerId]?.active) return;
    const transfer = new OutgoingTransfer(peer.name, files);
    this.#outgoing = { ...this.#outgoing, [peerId]: transfer };
    const connection = this.#connection(peerId, true);
    if (!connection) {
      transfer.fail(new FerryError('NETWORK_ERROR', 'Not connected to the server.'));
      return;
    }
    connection.opened.then(
      () => void transfer.run(connection.link, connection.confirmed),
      (error: FerryError) => transfer.fail(error),
    );
  }

  /** The sender saw the same code on both screens. */
  confirmCode(peerId: string): void {
    this.#connections[peerId]?.confirm();
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
      this.#textNotice = { ...this.#textNotice, [peerId]: 'Check the code, then confirm.' };
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
  #connection(peerId: string, initiator: boolean, secret: Uint8Array<ArrayBuffer> | null = null): Connection | null {
    const existing = this.#connections[peerId];
    if (existing) return existing;
    if (!this.signaling.self) return null;
    const link = new PeerLink(initiator, this.signaling.ice, {
      signal: (data) => void this.signaling.relay(peerId, 'signal', data),
      connect: () => {
        connection.onConnect().catch((error: unknown) => this.#drop(peerId, asFerryError(error)));
      },
      control: (message) => this.#onControl(peerId, connection, message),
      binary: (bytes) => {
        for (const transfer of this.#incoming)
          if (transfer.active && transfer.peerId === peerId) transfer.onBinary(bytes);
      },
      close: (error) => this.#drop(peerId, error ?? new FerryError('NETWORK_ERROR', 'The connection was closed.')),
    });
    const connection = new Connection(link, secret);
    this.#connections = { ...this.#connections, [peerId]: connection };
    return connection;
  }

  #onControl(peerId: string, connection: Connection, message: ControlMessage): void {
    switch (message.type) {
      case 'auth':
        connection.onAuth(message.mac).catch((error: unknown) => this.#drop(peerId, asFerryError(error)));
        return;
      case 'offer': {
        if (this.#incoming.some((t) => t.active && t.id === message.transfer)) return;
        const peer = this.signaling.peer(peerId);
        const transfer = new IncomingTransfer(
          connection.link,
          peerId,
          peer?.name ?? 'Another device',
          connection.code,
          message,
        );
        this.#incoming = [...this.#incoming, transfer];
        return;
      }
      case 'text': {
        const from = this.signaling.peer(peerId)?.name ?? 'Another device';
        this.#texts = [...this.#texts, { id: this.#nextText++, from, text: message.text }];
        return;
      }
      default:
        this.#outgoing[peerId]?.onControl(message);
        for (const transfer of this.#incoming) if (transfer.peerId === peerId) transfer.onControl(message);
    }
  }

  #drop(peerId: string, error: FerryError | null): void {
    const connection = this.#connections[peerId];
    if (!connection) return;
    const { [peerId]: _, ...rest } = this.#connections;
    this.#connections = rest;
    const reason = error ?? new FerryError('ABORTED', 'Closed.');
    connection.fail(reason);
    connection.link.destroy();
    this.#outgoing[peerId]?.fail(reason);
    for (const transfer of this.#incoming) {
      if (transfer.peerId === peerId) transfer.fail(reason);
    }
  }
}

function asFerryError(error: unknown): FerryError {
  return error instanceof FerryError ? error : new FerryError('INTERNAL', 'Something went wrong with the connection.');
}
