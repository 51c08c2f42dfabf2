/**
 * The data channels to other devices, one Connection per device (connection.svelte.ts),
 * and their lives: made on demand or when the other side's signal arrives, authenticated
 * (nothing but `auth` is read before the other side's MAC verified; a MAC that fails
 * closes the link and its sentence stays on the tile), dropped when the device leaves, and
 * remade after a drop mid-send to resume (reconnect.ts). The control messages of each go
 * through the exhaustive table in control/; record frames go to the transfers received
 * (receives.svelte.ts).
 */
import { FerryError } from '../../../shared/errors.ts';
import { Connection } from './connection.svelte.ts';
import type { ControlContext } from './control/context.ts';
import { dispatchControl } from './control/dispatch.ts';
import type { PeerSend } from './outgoing/peer.svelte.ts';
import { asFerryError } from './p2p-error.ts';
import type { AuthPlan, Pairings } from './pairings.svelte.ts';
import { isIceFailure, PeerLink } from './peer-link.ts';
import type { Receives } from './receives.svelte.ts';
import { reconnect } from './reconnect.ts';
import type { Sends } from './sends.svelte.ts';
import type { SignalingClient } from './signaling.svelte.ts';
import type { Texts } from './texts.svelte.ts';

/** What the connections work with: the page's signaling, pairings, and the transfers and texts over them. */
export interface ConnectionParts {
  signaling: SignalingClient;
  pairings: Pairings;
  sends: Sends;
  receives: Receives;
  texts: Texts;
}

export class Connections {
  readonly #parts: ConnectionParts;
  #open = $state<Record<string, Connection>>({});
  /** Why the last link to a peer was refused (a MAC that failed), shown on its tile. */
  #refusals = $state<Record<string, string>>({});
  /** Connections made to resume a transfer, keyed by its secret: the transfer each may resume. */
  readonly #resuming = new WeakMap<Connection, string>();
  #unsubscribe: (() => void)[] = [];

  constructor(parts: ConnectionParts) {
    this.#parts = parts;
  }

  /** The verification code of the link to a peer, once connected. */
  codeWith(peerId: string): string | null {
    return this.#open[peerId]?.code ?? null;
  }
  /** The code of the link to a peer while this side's person still has to compare it (once per connection). */
  codeToCompare(peerId: string): string | null {
    const connection = this.#open[peerId];
    return connection && !connection.vouched ? connection.code : null;
  }
  /** Why the last link to a peer was refused, if it was. */
  refusal(peerId: string): string | undefined {
    return this.#refusals[peerId];
  }

  /** Answers the other side's connections, and closes a device's link when it leaves. */
  start(): void {
    const { signaling, pairings } = this.#parts;
    this.#unsubscribe = [
      // The device that made the code opens the pairing's first connection.
      signaling.on('paired', () => {
        const pending = pairings.pending;
        if (pending?.role === 'creator') this.open(pending.peer.id, true);
      }),
      signaling.on('relay', (message) => {
        // Only a device nearby or paired (not, say, a share's reader) may open a link here.
        if (message.kind !== 'signal' || !signaling.peer(message.from)) return;
        this.#dropStale(message.from, message.data);
        this.open(message.from, false)?.link.signal(message.data);
      }),
      signaling.on('peer-left', ({ peerId }) =>
        this.drop(peerId, new FerryError('NETWORK_ERROR', 'The other device left.')),
      ),
    ];
  }

  /** Stops listening and closes every link (their transfers fail: closed on purpose). */
  dispose(): void {
    for (const stop of this.#unsubscribe) stop();
    this.#unsubscribe = [];
    for (const id of Object.keys(this.#open)) this.drop(id, null);
  }

  /** The sender (or, when pairing, either person) saw the same code on both screens. */
  confirm(peerId: string): void {
    this.#open[peerId]?.confirm();
  }

  /**
   * The link to a peer, made when missing (`initiator`: this side starts it); null without
   * a server connection.
   */
  open(peerId: string, initiator: boolean): Connection | null {
    const existing = this.#open[peerId];
    if (existing) return existing;
    const { signaling, pairings, receives } = this.#parts;
    if (!signaling.self) return null;
    const link = new PeerLink(initiator, signaling.ice, {
      signal: (data) => void signaling.relay(peerId, 'signal', data),
      connect: () => {
        connection.onConnect().catch((error: unknown) => this.#refuse(peerId, connection, error));
      },
      control: (message) => dispatchControl(context, message),
      binary: (bytes) => receives.onBinary(peerId, bytes),
      close: (error) => {
        const reason = error ?? new FerryError('NETWORK_ERROR', 'The connection was closed.');
        // A link replaced by a newer one (a reconnection) must not drop its successor.
        if (this.#open[peerId] === connection) this.drop(peerId, reason);
        else this.#linkGone(peerId, link, reason);
      },
    });
    const resume = this.#waitingToResume(peerId);
    const plan: AuthPlan = resume
      ? { secret: Promise.resolve(resume.secret), compare: false, pairing: null }
      : pairings.authFor(peerId);
    const connection = new Connection(link, plan);
    const context = this.#controlContext(peerId, connection);
    if (resume) this.#resuming.set(connection, resume.transfer);
    this.#open = { ...this.#open, [peerId]: connection };
    const { [peerId]: _, ...others } = this.#refusals;
    this.#refusals = others;
    const pairing = connection.plan.pairing;
    if (pairing) {
      void pairings.exchange(pairing, {
        confirmed: connection.confirmed,
        lost: connection.lost,
        send: (message) => link.sendControl(message),
      });
    }
    return connection;
  }

  /** Closes the link to a peer when it is still `connection` and never connected (a send that gave up waiting). */
  dropUnconnected(peerId: string, connection: Connection, error: FerryError): void {
    if (this.#open[peerId] === connection && !connection.link.connected) this.drop(peerId, error);
  }

  /** Closes the link to a peer; `error` null: on purpose (its transfers fail), else lost (they wait to resume). */
  drop(peerId: string, error: FerryError | null): void {
    const connection = this.#open[peerId];
    if (!connection) return;
    const { [peerId]: _, ...rest } = this.#open;
    this.#open = rest;
    const reason = error ?? new FerryError('ABORTED', 'Closed.');
    connection.fail(reason);
    connection.link.destroy();
    this.#linkGone(peerId, connection.link, error);
  }

  /** A link whose authentication failed: say why on its tile, and close it. */
  #refuse(peerId: string, connection: Connection, error: unknown): void {
    if (this.#open[peerId] !== connection) return;
    const reason = asFerryError(error);
    if (reason.code === 'UNAUTHORIZED') this.#refusals = { ...this.#refusals, [peerId]: reason.message };
    this.drop(peerId, reason);
  }

  /**
   * What the control handlers (control/index.ts) may do with a message from `peerId` over
   * `connection`: the dispatcher reads nothing but authentication before it verified.
   */
  #controlContext(peerId: string, connection: Connection): ControlContext<PeerLink> {
    const { pairings, sends, receives, texts } = this.#parts;
    return {
      peerId,
      connection,
      refuse: (error) => this.#refuse(peerId, connection, error),
      drop: (error) => this.drop(peerId, asFerryError(error)),
      pairing: (message) => pairings.onControl(peerId, message),
      outgoing: () => sends.peerSend(peerId),
      incoming: () => receives.all,
      offered: (message, code) =>
        receives.offered(connection.link, peerId, this.#peerName(peerId), code, message, () => connection.vouch()),
      resuming: () => this.#resuming.get(connection),
      text: (text) => texts.arrived(this.#peerName(peerId), text),
    };
  }

  #peerName(peerId: string): string {
    return this.#parts.signaling.peer(peerId)?.name ?? 'Another device';
  }

  /**
   * The transfers with a peer hear that `link` is gone: when it was lost (an error) those
   * running over it wait to resume (the sender reconnects); when closed on purpose they fail.
   */
  #linkGone(peerId: string, link: PeerLink, error: FerryError | null): void {
    const { sends, receives } = this.#parts;
    const reason = error ?? new FerryError('ABORTED', 'Closed.');
    const peerSend = sends.peerSend(peerId);
    if (error && peerSend?.linkLost(reason, link)) void this.#reconnect(peerId, peerSend);
    else if (!error) sends.latest(peerId)?.fail(reason);
    receives.linkGone(peerId, link, error, reason);
  }

  /** The secret of a transfer with this peer that waits to resume, which keys a new link's MAC. */
  #waitingToResume(peerId: string): { transfer: string; secret: Uint8Array<ArrayBuffer> } | null {
    const outgoing = this.#parts.sends.peerSend(peerId);
    if (outgoing?.resumeSecret) return { transfer: outgoing.id, secret: outgoing.resumeSecret };
    return this.#parts.receives.waitingToResume(peerId);
  }

  /**
   * A new offer from a peer whose offer this side already answered: that peer started a
   * new connection (it is reconnecting), so the old one is dead even if its close has not
   * arrived here yet. Dropping it first lets the new link be keyed for the resume.
   */
  #dropStale(peerId: string, data: Record<string, unknown>): void {
    const existing = this.#open[peerId];
    if (data.type !== 'offer' || !existing || existing.link.initiator || !existing.link.descriptions) return;
    this.drop(peerId, new FerryError('NETWORK_ERROR', 'The other device started a new connection.'));
  }

  /**
   * The link to a peer dropped while sending: connect again (each new link authenticated
   * with the transfer's own secret: MAC mode, no code to compare) and resume, else relay.
   */
  async #reconnect(peerId: string, send: PeerSend): Promise<void> {
    await reconnect<Connection>({
      waiting: () => send.phase === 'reconnecting',
      present: () => this.#parts.signaling.peer(peerId) !== undefined,
      connect: () => this.open(peerId, true),
      resume: (connection) => send.resume(connection.link),
      failed: (connection, error) => {
        if (this.#open[peerId] === connection) this.drop(peerId, asFerryError(error));
      },
      hopeless: isIceFailure,
      relay: () => send.relay(),
    });
  }
}
