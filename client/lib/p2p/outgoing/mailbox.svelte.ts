/**
 * The mailbox route: files for a paired device that no data channel reached. Every file
 * goes through the relay route (relay-route.ts) from record 0, and `sendOffer` hands the
 * device the secret, sealed for it (nearby.svelte.ts): at once when the device is online,
 * so it reads while the upload runs, or, for a device that is offline (`whenStored`), only
 * once every file is stored, since its offer waits in the pair room's mailbox and must
 * never point at files a closed tab did not finish. The device's sealed answer comes back
 * through `answer`, possibly long after the upload finished.
 */
import { FerryError } from '../../../../shared/errors.ts';
import { attention } from '../../pwa/attention.ts';
import type { RelayShare } from '../relay-upload.ts';
import { RelayRoute } from './relay-route.ts';
import { type OfflineReply, OutgoingTransfer } from './transfer.svelte.ts';

export class MailboxSend extends OutgoingTransfer {
  #reply = $state<OfflineReply | null>(null);
  /** Why it stopped (cancelled, declined, failed), once it did. */
  #abort: FerryError | null = null;
  #relay: RelayRoute | null = null;

  override get offline(): boolean {
    return true;
  }
  override get offlineReply(): OfflineReply | null {
    return this.#reply;
  }

  /** Runs the whole transfer; `sendOffer` seals and delivers the offer once `share` exists (or is stored). */
  async run(
    sendOffer: (secret: Uint8Array<ArrayBuffer>, share: RelayShare) => Promise<void>,
    whenStored = false,
  ): Promise<void> {
    try {
      const prepared = await this.prepare(() => this.#check());
      this.#check();
      this.enter('relaying');
      this.markRelayed();
      attention.running(this, true);
      const relay = new RelayRoute(prepared, this.sourceFiles);
      this.#relay = relay;
      const stored = this.files.map(() => 0);
      await relay.send(
        this.files.map(() => 0),
        (file, bytes) => {
          stored[file] = bytes;
          this.progressTo(stored.reduce((a, b) => a + b, 0));
        },
        {
          announce: (share) => sendOffer(prepared.secret, share),
          whenStored,
          onCollected: () => {
            this.#reply = 'received';
          },
        },
      );
      this.#check();
      this.enter('done');
    } catch (error) {
      this.#relay?.stop();
      this.failed(error);
    } finally {
      attention.running(this, false);
    }
  }

  /**
   * The paired device's sealed answer. It may come long after the upload finished (the
   * device was offline and found the offer in its mailbox): a decline then still revokes
   * the relay share.
   */
  answer(accept: boolean): void {
    if (!(this.active || this.phase === 'done')) return;
    if (accept) {
      this.#reply ??= 'accepted';
      return;
    }
    this.#stop(new FerryError('ABORTED', `${this.peerName} declined.`), 'declined');
  }

  fail(error: FerryError): void {
    if (!this.active) return;
    this.failed(error);
    this.#stop(error, 'failed');
  }

  cancel(): void {
    if (!this.active) return;
    this.#stop(new FerryError('ABORTED', 'Cancelled.'), 'cancelled');
  }

  #stop(reason: FerryError, phase: 'declined' | 'failed' | 'cancelled'): void {
    this.#abort = reason;
    this.enter(phase);
    this.#relay?.stop(reason);
  }

  #check(): void {
    if (this.#abort) throw this.#abort;
  }
}
