/**
 * The sends this page runs, the latest one per tile (a peer id, or the pair room of a
 * paired device that is offline), one class per route: PeerSend over the data channel
 * (outgoing/peer.svelte.ts), MailboxSend through the relay share with its offer sealed
 * (outgoing/mailbox.svelte.ts). Which route a send takes is Nearby's choice
 * (nearby.svelte.ts); each send owns the rest of its own life.
 */
import { FerryError } from '../../../shared/errors.ts';
import { MailboxSend } from './outgoing/mailbox.svelte.ts';
import { PeerSend } from './outgoing/peer.svelte.ts';
import type { OutgoingTransfer } from './outgoing/transfer.svelte.ts';
import type { Pairing } from './p2p-db.ts';
import type { SealedBoxes } from './sealed-boxes.svelte.ts';

export class Sends {
  #latest = $state<Record<string, OutgoingTransfer>>({});

  /** The latest send on tile `key`. */
  latest(key: string): OutgoingTransfer | undefined {
    return this.#latest[key];
  }

  /** Whether a send on tile `key` is still running (a new one waits for it). */
  running(key: string): boolean {
    return this.#latest[key]?.active ?? false;
  }

  /** The send to a peer over the data channel (the peer route), if its latest send is one. */
  peerSend(peerId: string): PeerSend | undefined {
    const latest = this.#latest[peerId];
    return latest instanceof PeerSend ? latest : undefined;
  }

  /** Starts the peer route to `peerId`; the caller connects and runs it. */
  overPeer(peerId: string, peerName: string, files: File[], frames: number | undefined): PeerSend {
    const send = new PeerSend(peerName, files, frames);
    this.#latest = { ...this.#latest, [peerId]: send };
    return send;
  }

  /**
   * Files for a paired device through the relay share, the offer sealed for it by `boxes`;
   * `key` names the tile. `away`: the device is offline, so the offer leaves once every
   * file is stored.
   */
  throughMailbox(key: string, pairing: Pairing, name: string, files: File[], away: boolean, boxes: SealedBoxes): void {
    const send = new MailboxSend(name, files);
    this.#latest = { ...this.#latest, [key]: send };
    if (!pairing.deviceId) {
      // A pairing stored before device ids were read from the pair room learns it when the
      // device is next online (pairings.svelte.ts); until then no box can be addressed.
      send.fail(
        new FerryError(
          'PEER_NOT_REACHABLE',
          `${name} has not been online since the pairing; send once it opens Ferry.`,
        ),
      );
      return;
    }
    void send.run((secret, share) => boxes.sendOffer(pairing, send, secret, share), away);
  }

  /** A sealed answer about `transfer`: the mailbox sends this tab runs hear it; true when there is one. */
  answer(transfer: string, accept: boolean): boolean {
    const held = Object.values(this.#latest).filter((send) => send.id === transfer);
    for (const send of held) if (send instanceof MailboxSend) send.answer(accept);
    return held.length > 0;
  }

  cancel(key: string): void {
    this.#latest[key]?.cancel();
  }
}
