/** What a signaling handler is given: the peer it serves and the shared parts, nothing global. */
import type { ClientMessage, ClientMessageType } from '../../shared/signaling.ts';
import type { Buckets } from '../buckets.ts';
import type { ShareStore } from '../shares/store.ts';
import type { SignalingBus } from './bus.ts';
import type { PairMailbox } from './mailbox.ts';
import type { PairingCodeStore, PairRoomStore } from './pairing.ts';
import type { Peer } from './peer.ts';

/** Pairing codes one client network may ask for per window. */
export const PAIR_CREATES_PER_WINDOW = 10;
/** Wrong pairing codes one client network may enter per window. */
export const PAIR_WRONG_GUESSES_PER_WINDOW = 10;
/**
 * Wrong pairing codes all networks together may enter per window. Networks are cheap to
 * come by (an IPv6 /48 holds 65,536 /64s), and each wrong guess hits one of L live codes
 * with chance L / 10^6, so the per-network budget alone does not bound the guessing. Over
 * this budget every `pair-join` is refused for a while: that costs honest people a retry,
 * which is better than a sweep through the codes (a hit still meets the verification code).
 */
export const PAIR_WRONG_GUESSES_GLOBAL_PER_WINDOW = 100;
export const PAIR_LIMIT_WINDOW_MS = 10 * 60 * 1000;

export interface SignalingContext {
  peer: Peer;
  bus: SignalingBus;
  shares: ShareStore;
  pairing: PairingCodeStore;
  pairRooms: PairRoomStore;
  /** Sealed boxes a paired device left for the other while it was away. */
  mailbox: PairMailbox;
  /** Keyed by the peer's network (IPv4 address or IPv6 /64). */
  limits: {
    pairCreate: Buckets;
    pairWrongGuess: Buckets;
    /** All networks' wrong pairing codes together: one key, GLOBAL_KEY. */
    pairWrongGuessGlobal: Buckets;
  };
  /** Milliseconds since the epoch (the server's injectable clock). */
  now: () => number;
}

/** The one key of the all-networks buckets. */
export const GLOBAL_KEY = 'all';

export type MessageHandler<T extends ClientMessageType> = (
  ctx: SignalingContext,
  message: Extract<ClientMessage, { type: T }>,
) => Promise<void>;
