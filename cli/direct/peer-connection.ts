/**
 * One authenticated connection to another device for the `ferry` command: an RtcLink whose
 * signals go through the signaling relay (kind `signal`), and the app's own checks
 * (shared/p2p/handshake.ts: verification code, MAC mode, both for a pairing's first
 * connection). Authentication messages go to the checks; every other control
 * message and every binary frame is held back until `verified` (the order is kept), then
 * handed to `onControl` / `onBinary`. One exit: `close(error)` (idempotent) settles `lost`.
 */
import { FerryError } from '../../shared/errors.ts';
import type { ControlMessage } from '../../shared/p2p/frames.ts';
import { Handshake, type HandshakePlan } from '../../shared/p2p/handshake.ts';
import { routeLabel } from '../../shared/p2p/route.ts';
import type { HeldSignals } from './held-signals.ts';
import { RtcLink } from './rtc-link.ts';
import type { SignalClient } from './signal-client.ts';

export class PeerConnection {
  readonly peerId: string;
  readonly link: RtcLink;
  readonly auth: Handshake;
  /** The verification code, once both sides' nonces are known (never in MAC mode alone). */
  readonly code: Promise<string>;
  /** Rejects once the connection is gone (null error: closed on purpose → ABORTED). */
  readonly lost: Promise<never>;
  onControl: (message: ControlMessage) => void = () => {};
  onBinary: (bytes: Uint8Array<ArrayBuffer>) => void = () => {};
  #lose!: (error: FerryError) => void;
  #closed = false;
  readonly #unsubscribe: () => void;

  constructor(signal: SignalClient, peerId: string, initiator: boolean, plan: HandshakePlan) {
    this.peerId = peerId;
    this.lost = new Promise<never>((_, reject) => {
      this.#lose = reject;
    });
    this.lost.catch(() => {});
    this.link = new RtcLink(initiator, signal.ice, {
      signal: (data) => void signal.send({ type: 'relay', to: peerId, kind: 'signal', data }),
      connect: () => this.auth.onConnect().catch((error: unknown) => this.close(asFerryError(error))),
      control: (message) => this.#onControl(message),
      binary: (bytes) => {
        void this.auth.verified.then(
          () => this.onBinary(bytes),
          () => {},
        );
      },
      close: (error) => this.close(error ?? new FerryError('NETWORK_ERROR', 'The other device closed the connection.')),
    });
    let shown!: (code: string) => void;
    this.code = new Promise<string>((resolve) => {
      shown = resolve;
    });
    this.auth = new Handshake(this.link, plan, {
      onChange: () => {
        if (this.auth.code) shown(this.auth.code);
      },
    });
    this.#unsubscribe = signal.on((message) => {
      if (message.type === 'relay' && message.from === peerId && message.kind === 'signal')
        this.link.signal(message.data);
      if (message.type === 'peer-left' && message.peerId === peerId && !signal.peer(peerId)) {
        this.close(new FerryError('NETWORK_ERROR', 'The other device left.'));
      }
    });
    void signal.closed.catch((error: unknown) => this.close(asFerryError(error)));
  }

  /**
   * Answers `peerId`'s connection: the signals `held` kept (its offer and the candidates
   * around it, in order), then those still to come. Taken in the step the connection starts
   * listening, so none is lost between the two.
   */
  static answer(signal: SignalClient, held: HeldSignals, peerId: string, plan: HandshakePlan): PeerConnection {
    const connection = new PeerConnection(signal, peerId, false, plan);
    for (const data of held.take(peerId)) connection.link.signal(data);
    return connection;
  }

  #onControl(message: ControlMessage): void {
    if (message.type === 'auth') {
      this.auth.onAuth(message.mac).catch((error: unknown) => this.close(asFerryError(error)));
      return;
    }
    if (message.type === 'code-commit' || message.type === 'code-nonce') {
      this.auth.onCode(message).catch((error: unknown) => this.close(asFerryError(error)));
      return;
    }
    // Promise callbacks run in the order they were added, so messages keep their order.
    void this.auth.verified.then(
      () => this.onControl(message),
      () => {},
    );
  }

  /** `Connection: direct` or `Connection: relayed (TURN)`, the app's words; null when not known. */
  async describeRoute(): Promise<string | null> {
    const route = await this.link.route().catch(() => null);
    return route && `Connection: ${routeLabel(route)}`;
  }

  /** Ends the connection (once); `lost` rejects with `error`. */
  close(error: FerryError): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    this.auth.fail(error);
    this.#lose(error);
    this.link.destroy();
  }
}

export function asFerryError(error: unknown): FerryError {
  return error instanceof FerryError
    ? error
    : new FerryError('INTERNAL', error instanceof Error ? error.message : String(error), { cause: error });
}
