/**
 * What a data-channel control handler is given (control/index.ts): the device that sent
 * the message, the connection it came over, and the narrow parts of the page it may act
 * on. Nearby (nearby.svelte.ts) makes one per connection; tests make them from in-memory
 * channels and real handshakes. `Link` is the channel type the page's transfers run over
 * (the app's PeerLink).
 */
import type { ControlMessage, ControlMessageOf } from '../../../../shared/p2p/frames.ts';

/** Every control message type of shared/p2p/frames.ts. */
export type ControlType = ControlMessage['type'];

/** The connection a message came over (connection.svelte.ts): its link and its handshake. */
export interface ControlConnection<Link> {
  readonly link: Link;
  /** The verification code; null in MAC mode alone. */
  readonly code: string | null;
  /** This side's person already compared the code on this connection. */
  readonly vouched: boolean;
  /** Resolves once anything but authentication may be read (shared/p2p/handshake.ts). */
  readonly verified: Promise<void>;
  onAuth(mac: string): Promise<void>;
  onCode(message: ControlMessageOf<'code-commit' | 'code-nonce'>): Promise<void>;
  vouch(): void;
}

/** A transfer this page sends to the device over the data channel (outgoing/peer.svelte.ts, over the engine's SenderSession). */
export interface ControlSender {
  onControl(message: ControlMessage): void;
}

/** A transfer this page receives from a device (incoming.svelte.ts). */
export interface ControlReceiver<Link> {
  readonly id: string;
  /** The device it comes from. */
  readonly peerId: string;
  readonly active: boolean;
  onControl(message: ControlMessage): void;
  /** A new link, keyed with this transfer's secret, asks to resume it. */
  resumeOn(link: Link): Promise<void>;
}

export interface ControlContext<Link> {
  /** The signaling id of the device that sent the message. */
  readonly peerId: string;
  readonly connection: ControlConnection<Link>;
  /** Authentication failed: say why on the device's tile and close the link. */
  refuse(error: unknown): void;
  /** Close the link with `error` (the transfers over it hear why). */
  drop(error: unknown): void;
  /** Steps of a pairing made over this connection (pairings.svelte.ts). */
  pairing(message: ControlMessageOf<'pair-secret' | 'pair-saved'>): void;
  /** The transfer this page sends to the device, if any. */
  outgoing(): ControlSender | undefined;
  /** The transfers this page receives, from any device. */
  incoming(): readonly ControlReceiver<Link>[];
  /** Shows the device's offer; `code`: for the person to compare before accepting, null when not needed. */
  offered(message: ControlMessageOf<'offer'>, code: string | null): void;
  /** The transfer whose secret keyed this connection's MAC (a connection made to resume it), if any. */
  resuming(): string | undefined;
  /** A short text from the device. */
  text(text: string): void;
}

/** One control message type's handler; never throws (a refusal closes the link through the context). */
export type ControlHandler<T extends ControlType> = <Link>(
  ctx: ControlContext<Link>,
  message: ControlMessageOf<T>,
) => void;
