/**
 * What a share link's control handlers are given (share-control/index.ts): one context per
 * channel, made by the sender's tab (share-host.svelte.ts) or by the recipient's page
 * (share-pull.svelte.ts); tests make them over in-memory links. ShareChannel reads `auth`
 * itself and hands on nothing before the other side's MAC verified, so these handlers
 * only ever see messages from a side that holds the link secret.
 */
import type { FerryError } from '../../../../shared/errors.ts';
import type { ControlMessage, ControlMessageOf } from '../../../../shared/p2p/frames.ts';

/** Every control message type of shared/p2p/frames.ts. */
export type ShareControlType = ControlMessage['type'];

/** What either side of a share link may do with a message. */
export interface ShareLinkContext {
  /** Who sent the message, as a refusal names them ("A recipient", "The sender"). */
  readonly from: string;
  /** Closes the channel with `error`. */
  close(error: FerryError): void;
}

/** The pacing of one running pull (shared/p2p/pull-window.ts) as the handlers drive it. */
export interface HostedPull {
  ack(next: number): void;
  stop(): void;
}

/** The sender's tab, for one recipient's channel. */
export interface ShareHostContext extends ShareLinkContext {
  /** Starts sending the records asked for (ShareHost.serve); a running pull of that file is replaced. */
  serve(message: ControlMessageOf<'pull'>): void;
  /** The running pull of file `file` on this channel, if any. */
  pull(file: number): HostedPull | undefined;
  /** Forgets the pull of file `file` on this channel. */
  forget(file: number): void;
}

/** The recipient's page, for its channel to the sender's tab. */
export interface SharePullContext extends ShareLinkContext {
  /** The running pull of file `file` (shared/p2p/peer-records.ts), if any. */
  records(file: number): { lost(): void } | undefined;
}

/**
 * One handler per control message type for contexts of type `Ctx`. Spelled out rather
 * than through a handler alias, as control/index.ts explains: a handler of several types
 * must fit each of their slots.
 */
export type ShareHandlers<Ctx extends ShareLinkContext> = {
  [T in ShareControlType]: (ctx: Ctx, message: ControlMessageOf<T>) => void;
};
