/**
 * The transfers this page receives from other devices, until dismissed: offers over a data
 * channel and offers sealed through the server (sealed-boxes.svelte.ts). The connections
 * (connections.svelte.ts) hand them the channel's record frames and say when a link is
 * gone; each IncomingTransfer owns the rest of its own life.
 */
import type { FerryError } from '../../../shared/errors.ts';
import type { ControlMessageOf } from '../../../shared/p2p/frames.ts';
import { IncomingTransfer } from './incoming.svelte.ts';
import type { PeerLink } from './peer-link.ts';

export class Receives {
  #transfers = $state<IncomingTransfer[]>([]);

  get all(): readonly IncomingTransfer[] {
    return this.#transfers;
  }

  /** Whether transfer `id` was offered here already (a sealed offer handed over twice). */
  has(id: string): boolean {
    return this.#transfers.some((t) => t.id === id);
  }

  /**
   * An offer over `link` from `peerId`; `code`: for the person to compare before accepting
   * (null when not needed), `vouch` marks the code compared on this connection.
   */
  offered(
    link: PeerLink,
    peerId: string,
    peerName: string,
    code: string | null,
    offer: ControlMessageOf<'offer'>,
    vouch: () => void,
  ): void {
    this.#add(new IncomingTransfer(link, peerId, peerName, code, offer, null, vouch));
  }

  /** An offer sealed through the server (no channel): `reply` carries the sealed answer back. */
  offeredSealed(
    from: string,
    peerName: string,
    offer: ControlMessageOf<'offer'>,
    reply: (accept: boolean) => void,
  ): void {
    this.#add(new IncomingTransfer(null, from, peerName, null, offer, reply));
  }

  /** Record frames from `peerId`'s link, for the transfers it runs. */
  onBinary(peerId: string, bytes: Uint8Array<ArrayBuffer>): void {
    for (const transfer of this.#transfers) if (transfer.active && transfer.peerId === peerId) transfer.onBinary(bytes);
  }

  /** `link` to `peerId` is gone: lost (an error), its transfers wait to resume; closed on purpose, they fail. */
  linkGone(peerId: string, link: PeerLink, error: FerryError | null, reason: FerryError): void {
    for (const transfer of this.#transfers) {
      if (transfer.peerId !== peerId) continue;
      if (error) transfer.linkLost(reason, link);
      else transfer.fail(reason);
    }
  }

  /** A transfer from `peerId` that waits to resume, and the secret that keys its new link. */
  waitingToResume(peerId: string): { transfer: string; secret: Uint8Array<ArrayBuffer> } | null {
    const waiting = this.#transfers.find((t) => t.peerId === peerId && t.resumeSecret);
    return waiting?.resumeSecret ? { transfer: waiting.id, secret: waiting.resumeSecret } : null;
  }

  dismiss(transfer: IncomingTransfer): void {
    transfer.dispose();
    this.#transfers = this.#transfers.filter((t) => t !== transfer);
  }

  dispose(): void {
    for (const transfer of this.#transfers) transfer.dispose();
  }

  #add(transfer: IncomingTransfer): void {
    this.#transfers = [...this.#transfers, transfer];
  }
}
