/**
 * Every WebRTC `signal` relayed to this connection from the moment the hold is made, kept
 * by sender until an answering PeerConnection takes them.
 *
 * Why a hold: the answering side needs all of a peer's signals, and WebRTC stacks may
 * send their first ICE candidates before their offer (they gather while the offer is set).
 * `ws` emits every frame of one socket read synchronously (allowSynchronousEvents), so
 * when a busy process reads the candidates and the offer in one go, a listener added after
 * an `await` (on the first signal, or on `paired`) never sees the frames behind it. That lost
 * a CLI joiner's offer under load: no answer, and the creator gave up after 30 s. A hold
 * listens before anything is sent, and `take` hands over in the same synchronous step in
 * which the connection starts listening, so no frame falls between the two.
 */
import type { FerryError } from '../../shared/errors.ts';
import type { SignalClient } from './signal-client.ts';

type Signal = Record<string, unknown>;

export interface OfferWait {
  /** Whether an offer from this peer id may be answered (checked when it is looked at). */
  accept?: (from: string) => boolean;
  timeoutMs?: number;
  late?: FerryError;
}

export class HeldSignals {
  readonly #signal: SignalClient;
  readonly #kept = new Map<string, Signal[]>();
  /** Senders of the offers kept, in the order they came. */
  readonly #offers: string[] = [];
  readonly #stop: () => void;

  constructor(signal: SignalClient) {
    this.#signal = signal;
    this.#stop = signal.on((message) => {
      if (message.type !== 'relay' || message.kind !== 'signal') return;
      const kept = this.#kept.get(message.from) ?? [];
      kept.push(message.data);
      this.#kept.set(message.from, kept);
      if (message.data.type === 'offer') this.#offers.push(message.from);
    });
  }

  /**
   * The sender of the first offer, kept or still to come, that `accept` takes; rejects with
   * `late` after `timeoutMs`, or when the signaling connection drops.
   */
  async offer({ accept = () => true, timeoutMs, late }: OfferWait = {}): Promise<string> {
    const kept = this.#offers.find(accept);
    if (kept !== undefined) return kept;
    const message = await this.#signal.next('relay', {
      accept: (m) => m.kind === 'signal' && m.data.type === 'offer' && accept(m.from),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
      ...(late === undefined ? {} : { late }),
    });
    return message.from;
  }

  /**
   * Ends the hold and returns `from`'s signals in the order they came. Call it in the same
   * synchronous step as the PeerConnection that feeds on them is made.
   */
  take(from: string): Signal[] {
    this.#stop();
    return this.#kept.get(from) ?? [];
  }
}
