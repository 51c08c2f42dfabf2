/**
 * `ferry receive --nearby`: this machine waits as a device, visible as a tile to the app on
 * this network and to its paired devices, for an offer, and receives it
 * (direct-receive.ts). An offer comes one of two ways, as in the app:
 *
 * - over a data channel that a nearby or paired device opens (its signals arrive as
 *   `relay` kind `signal`; the first ICE candidates may come before the SDP offer and are
 *   kept until it does). A new SDP offer from a device whose transfer is under way means it
 *   reconnects: the connection is keyed with that transfer's secret and the transfer resumes
 *   on it (or, when the sender switched to the relay share, continues from there).
 * - sealed by a paired device that reached no data channel (mailbox.ts): by `relay` kind
 *   `offline` while both are online, or from the pair room's mailbox, where it waited while
 *   this device was offline. The files are read from the relay share; the answer goes back
 *   sealed. Every offer the mailbox handed over is answered before the command ends, except
 *   with `-o -`: stdout takes one transfer, and the others are named and left unanswered.
 */
import { FerryError } from '../../shared/errors.ts';
import type { Manifest } from '../../shared/manifest.ts';
import type { ControlMessageOf } from '../../shared/p2p/frames.ts';
import { askYesNo } from '../ask.ts';
import { formatBytes } from '../progress.ts';
import { type DirectOptions, online, pairingOf, planFor } from './commands.ts';
import type { StoredPairing } from './device-store.ts';
import { DirectReceive, STDOUT } from './direct-receive.ts';
import { deliverSealed, openSealedAnswer, openSealedOffer, sealedKind } from './mailbox.ts';
import { asFerryError, PeerConnection } from './peer-connection.ts';
import type { SignalClient } from './signal-client.ts';

export interface NearbyReceiveOptions extends DirectOptions {
  /** A directory, or `-`: the one file of one transfer to stdout. */
  out: string;
  /** Accept offers from paired devices without asking (an offer from anyone else is always asked). */
  yes: boolean;
}

/** What arrived: a device opened a connection, or a paired device sealed an offer. */
type Arrival =
  | { kind: 'connection'; connection: PeerConnection }
  | { kind: 'sealed'; pairing: StoredPairing; data: unknown };

/**
 * Everything that arrives for this device, in order: connections opened by other devices
 * (a reconnection of a transfer under way goes to that transfer) and sealed offers.
 */
class Inbox {
  readonly #signal: SignalClient;
  readonly #pairings: readonly StoredPairing[];
  readonly #self: string;
  readonly #say: (line: string) => void;
  readonly #arrivals: Arrival[] = [];
  #wake: (() => void) | null = null;
  /** Signals of a device that has no live connection here, until its SDP offer comes. */
  readonly #early = new Map<string, Record<string, unknown>[]>();
  readonly #connections = new Map<string, PeerConnection>();
  /** Transfers under way, by the device that sends them: reconnections go to them. */
  readonly transfers = new Map<string, DirectReceive>();
  readonly stop: () => void;

  constructor(signal: SignalClient, pairings: readonly StoredPairing[], self: string, say: (line: string) => void) {
    this.#signal = signal;
    this.#pairings = pairings;
    this.#self = self;
    this.#say = say;
    this.stop = signal.on((message) => {
      if (message.type === 'relay' && message.kind === 'signal') this.#onSignal(message.from, message.data);
      const pairing = message.type === 'relay' ? pairingOf(signal, pairings, message.from) : undefined;
      if (message.type === 'relay' && message.kind === 'offline' && pairing) this.#onSealed(pairing, message.data);
      if (message.type === 'mailbox') {
        const boxOf = this.#pairings.find((p) => p.room === message.room);
        for (const item of message.items) {
          if (boxOf && item.from === boxOf.deviceId) this.#onSealed(boxOf, item.data);
        }
      }
    });
  }

  /**
   * A box sealed by a paired device: an offer waits its turn; an answer (to files this
   * machine sent it through the server, while this command was not running) is said. The
   * command keeps no record of what it sent, so the answer names no files.
   */
  #onSealed(pairing: StoredPairing, data: unknown): void {
    const kind = sealedKind(data);
    if (kind === 'offer') this.#add({ kind: 'sealed', pairing, data });
    if (kind !== 'answer') return;
    openSealedAnswer(this.#self, pairing, data).then(
      ({ accept }) =>
        this.#say(`${pairing.name} ${accept ? 'accepted' : 'declined'} the files you sent it through Ferry's server.`),
      (error: unknown) => this.#say(`An answer from ${pairing.name} was refused: ${asFerryError(error).message}`),
    );
  }

  /** How many sealed offers are still waiting to be answered. */
  get sealedWaiting(): number {
    return this.#arrivals.filter((a) => a.kind === 'sealed').length;
  }

  /** The next arrival (a sealed offer once connections are answered: they cannot wait). */
  async next(): Promise<Arrival> {
    for (;;) {
      const arrival = this.#arrivals.shift();
      if (arrival) return arrival;
      await Promise.race([
        new Promise<void>((resolve) => {
          this.#wake = resolve;
        }),
        this.#signal.closed,
      ]);
    }
  }

  #add(arrival: Arrival): void {
    this.#arrivals.push(arrival);
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  #onSignal(from: string, data: Record<string, unknown>): void {
    // Only a device nearby or paired may open a connection here (as in the app).
    if (!this.#signal.peer(from)) return;
    const live = this.#connections.get(from);
    if (live && data.type !== 'offer') return; // the live connection takes its own signals
    const early = [...(this.#early.get(from) ?? []), data];
    if (data.type !== 'offer') {
      this.#early.set(from, early);
      return;
    }
    this.#early.delete(from);
    // A new offer from a device already connected: it started a new connection, so the old
    // one is dead even if its close has not arrived here yet.
    live?.close(new FerryError('NETWORK_ERROR', 'The other device started a new connection.'));
    const transfer = this.transfers.get(from);
    const resuming = transfer?.active ? transfer : null;
    const plan = resuming
      ? { secret: Promise.resolve(resuming.session.secret), compare: false }
      : planFor(this.#signal, this.#pairings, from);
    const connection = new PeerConnection(this.#signal, from, false, plan);
    this.#connections.set(from, connection);
    connection.lost.catch(() => {
      if (this.#connections.get(from) === connection) this.#connections.delete(from);
    });
    for (const signal of early) connection.link.signal(signal);
    if (resuming) resuming.resumeOn(connection);
    else this.#add({ kind: 'connection', connection });
  }
}

/** `ferry receive --nearby`: waits for an offer, receives it, answers the files' paths. */
export async function receiveNearby(options: NearbyReceiveOptions): Promise<string[]> {
  const { signal, pairings, device } = await online(options);
  const inbox = new Inbox(signal, pairings, device.id, options.say);
  options.say(`Waiting for files as ${device.name} on this network (Ctrl-C to stop)…`);
  try {
    const paths: string[] = [];
    do {
      const arrival = await inbox.next();
      if (arrival.kind === 'connection')
        paths.push(...(await overConnection(inbox, signal, arrival.connection, options)));
      else paths.push(...(await throughServer(signal, device.id, arrival.pairing, arrival.data, options)));
    } while (inbox.sealedWaiting > 0 && options.out !== STDOUT);
    const left = inbox.sealedWaiting;
    if (left > 0) {
      options.say(
        `${left} more offer(s) came from the mailbox and were not answered: stdout takes one transfer (use -o DIR for all).`,
      );
    }
    return paths;
  } finally {
    inbox.stop();
    signal.close();
  }
}

/** The list of files and their sizes, as the person sees it before answering. */
function describe(from: string, manifest: Manifest): string {
  const list = manifest.files.map((f) => `  ${f.name} (${formatBytes(f.size)})`).join('\n');
  return `${from} offers ${manifest.files.length} file(s):\n${list}`;
}

/** An offer over a connection a device opened: asked, then received (resumed or relayed as needed). */
async function overConnection(
  inbox: Inbox,
  signal: SignalClient,
  connection: PeerConnection,
  options: NearbyReceiveOptions,
): Promise<string[]> {
  const peer = signal.peer(connection.peerId);
  const peerName = peer?.deviceName ?? peer?.name ?? 'Another device';
  const compare = connection.auth.plan.compare;
  try {
    const offer = await new Promise<ControlMessageOf<'offer'>>((resolve, reject) => {
      connection.onControl = (message) => {
        if (message.type === 'offer') resolve(message);
      };
      connection.lost.catch(reject);
    });
    const transfer = new DirectReceive(offer, connection, { ...receiveOptions(options), peerName });
    const manifest = await transfer.open();
    options.say(describe(peerName, manifest));
    const described = await connection.describeRoute();
    if (described) options.say(described);
    if (compare) options.say(`Verification code: ${connection.auth.code}`);
    const accept = (options.yes && !compare) || (await askYesNo('Accept?'));
    if (!accept) {
      await transfer.decline();
      await new Promise((resolve) => setTimeout(resolve, 300));
      throw new FerryError('ABORTED', 'Declined.');
    }
    options.say(`Route: directly from ${peerName} (WebRTC).`);
    inbox.transfers.set(connection.peerId, transfer);
    try {
      return await transfer.receive();
    } finally {
      inbox.transfers.delete(connection.peerId);
    }
  } finally {
    // The last acknowledgement and `complete` leave before the connection closes.
    await new Promise((resolve) => setTimeout(resolve, 300));
    connection.close(new FerryError('ABORTED', 'Done.'));
  }
}

/** A sealed offer from a paired device: asked, answered sealed, then read from the relay share. */
async function throughServer(
  signal: SignalClient,
  self: string,
  pairing: StoredPairing,
  data: unknown,
  options: NearbyReceiveOptions,
): Promise<string[]> {
  const sealed = await openSealedOffer(options.server, self, pairing, data).catch((error: unknown) => {
    throw asFerryError(error);
  });
  const reply = (yes: boolean) =>
    deliverSealed(signal, self, pairing, 'answer', sealed.offer.transfer, { accept: yes }).catch((error: unknown) => {
      options.say(`Your answer could not be sent to ${sealed.senderName}: ${asFerryError(error).message}`);
      return null;
    });
  const transfer = new DirectReceive(sealed.offer, null, {
    ...receiveOptions(options),
    peerName: sealed.senderName,
    reply,
  });
  const manifest = await transfer.open();
  options.say(
    `${describe(sealed.senderName, manifest)}\n(sent through Ferry's server while no direct connection opened)`,
  );
  const accept = options.yes || (await askYesNo('Accept?'));
  if (!accept) {
    await transfer.decline();
    throw new FerryError('ABORTED', 'Declined.');
  }
  return transfer.receive();
}

/** What every transfer of this command shares. */
function receiveOptions(options: NearbyReceiveOptions) {
  return { server: options.server, out: options.out, quiet: options.quiet, say: options.say };
}
