/**
 * The relay route of one transfer, from its relay share's creation to its revocation: the
 * share at the id derived from the transfer's secret, one tus upload per file the
 * recipient lacks from the first record it lacks (relay-upload.ts), the announcement of
 * the share to the recipient, and its end: revoked once the recipient read it
 * (collectRelayShare), or at once when the transfer stops (`stop`), so nobody waits on a
 * share that will not be finished. A peer transfer takes this route after a drop it could
 * not resume from (peer.svelte.ts); a paired device's mailbox transfer takes it from the
 * start (mailbox.svelte.ts).
 */
import { FerryError } from '../../../../shared/errors.ts';
import { recordCount } from '../../../../shared/records.ts';
import {
  collectRelayShare,
  createRelayShare,
  type RelayShare,
  uploadRest,
  withdrawRelayShare,
} from '../relay-upload.ts';
import type { PreparedSend } from './prepare.ts';

export interface RelayOptions {
  /** Hands the share to the recipient: once it exists, or once every file is stored (`whenStored`). */
  announce?: (share: RelayShare) => Promise<void>;
  /** Announce only once every file is stored (a recipient that reads later must never find a part). */
  whenStored?: boolean;
  /** The recipient read the share (or its ticket lapsed, which counts too), and it was revoked. */
  onCollected?: () => void;
}

export class RelayRoute {
  readonly #plan: PreparedSend;
  readonly #sources: readonly File[];
  #share: RelayShare | null = null;
  #stopUpload: (() => void) | null = null;
  #stopped: FerryError | null = null;

  constructor(plan: PreparedSend, sources: readonly File[]) {
    this.#plan = plan;
    this.#sources = sources;
  }

  /**
   * Sends each file i the recipient does not have whole from record from[i]; `onStored`
   * hears the plaintext bytes of each file the server has stored so far. Resolves once
   * every file is stored (and announced); rejects when the route stopped or failed.
   */
  async send(
    from: readonly number[],
    onStored: (file: number, bytes: number) => void,
    options: RelayOptions = {},
  ): Promise<void> {
    this.#check();
    const share = await createRelayShare(this.#plan.secret, this.#plan.manifest, this.#plan.ciphers);
    this.#share = share;
    // Stopped while the share was being made (its retries take seconds): nothing else
    // would revoke it.
    if (this.#stopped) this.#withdraw();
    this.#check();
    if (!options.whenStored) {
      await options.announce?.(share);
      this.#check();
    }
    for (const [i, cipher] of this.#plan.ciphers.entries()) {
      if (from[i]! >= recordCount(cipher)) continue; // the recipient has this file whole
      const upload = uploadRest(share, i, this.#sources[i]!, cipher, from[i]!, (bytes) => onStored(i, bytes));
      this.#stopUpload = upload.abort;
      await upload.done;
      this.#stopUpload = null;
      this.#check();
    }
    if (options.whenStored) {
      await options.announce?.(share);
      this.#check();
    }
    // Revoked once the recipient has read it rather than left to expire; meanwhile a stop
    // still withdraws it.
    void collectRelayShare(share, () => this.#share !== share).then((revoked) => {
      if (!revoked || this.#share !== share) return;
      this.#share = null;
      options.onCollected?.();
    });
  }

  /** The transfer will not finish: the upload stops and the share is revoked. Idempotent. */
  stop(reason: FerryError = new FerryError('ABORTED', 'Stopped.')): void {
    this.#stopped ??= reason;
    this.#stopUpload?.();
    this.#stopUpload = null;
    this.#withdraw();
  }

  #withdraw(): void {
    const share = this.#share;
    this.#share = null;
    if (share) void withdrawRelayShare(share);
  }

  #check(): void {
    if (this.#stopped) throw this.#stopped;
  }
}
