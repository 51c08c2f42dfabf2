/**
 * The sender's relay route for `ferry send --to` (shared/p2p/relay.ts): the transfer's
 * relay share on the server (shared/p2p/relay-share.ts, as the app makes it), then each
 * file the recipient does not have whole as one tus upload from the first record it had not
 * acknowledged (send.ts uploadCiphertext: the same records, key and nonce base as on the
 * data channel). The app, or `ferry receive --nearby`, finds the share by the secret and
 * reads it as it grows. One route per transfer: `stop()` ends its upload at once and
 * `withdraw()` revokes the share of a transfer that will not finish.
 */
import { ShareApi } from '../../shared/api-client.ts';
import { FerryError } from '../../shared/errors.ts';
import {
  collectRelayShare,
  createRelayShare,
  type RelayShare,
  withdrawRelayShare,
} from '../../shared/p2p/relay-share.ts';
import {
  cipherRange,
  encryptedSize,
  type FileCipher,
  plainRange,
  recordAtCipherOffset,
  recordCount,
} from '../../shared/records.ts';
import { uploadCiphertext, uploadKeyHeaders } from '../send.ts';

/** What the relay route sends: the transfer's secret and sealed manifest, each file's cipher and path. */
export interface RelayPlan {
  secret: Uint8Array<ArrayBuffer>;
  manifest: string;
  ciphers: readonly FileCipher[];
  paths: readonly string[];
}

/** Plaintext bytes of `cipher` whose records lie whole in the first `cipherBytes` of its ciphertext. */
export function storedPlain(cipher: FileCipher, cipherBytes: number): number {
  const records =
    cipherBytes >= encryptedSize(cipher) ? recordCount(cipher) : recordAtCipherOffset(cipher, cipherBytes);
  return records === 0 ? 0 : plainRange(cipher, records - 1)[1];
}

export class RelayRoute {
  readonly #server: string;
  readonly #plan: RelayPlan;
  readonly #api: ShareApi;
  #share: RelayShare | null = null;
  #stopUpload: (() => void) | null = null;
  #stopped = false;
  #withdrawn = false;

  constructor(server: string, plan: RelayPlan, uploadKey: string | null) {
    this.#server = server;
    this.#plan = plan;
    this.#api = new ShareApi(server, { creationHeaders: async () => uploadKeyHeaders(uploadKey) });
  }

  /** The share, once made. */
  get share(): RelayShare | null {
    return this.#share;
  }

  /**
   * Sends file i from record from[i] (a file the recipient has whole is skipped); `onStored`
   * hears each file's plaintext bytes stored. `announce` runs once the share exists, before
   * the first upload (the recipient may read while it grows). Resolves once all is stored.
   */
  async send(
    from: readonly number[],
    onStored: (file: number, bytes: number) => void,
    announce?: (share: RelayShare) => Promise<void>,
  ): Promise<void> {
    const { secret, manifest, ciphers, paths } = this.#plan;
    const share = await createRelayShare(this.#api, secret, manifest, ciphers);
    this.#share = share;
    // Stopped while the share was being made (its retries take seconds): revoke it here.
    if (this.#stopped) await this.withdraw();
    this.#check();
    await announce?.(share);
    for (const [i, cipher] of ciphers.entries()) {
      const first = from[i] ?? 0;
      if (first >= recordCount(cipher)) continue; // the recipient has this file whole
      this.#check();
      const base = first === 0 ? 0 : cipherRange(cipher, first)[0];
      const target = { server: this.#server, share: share.id, uploadToken: share.uploadToken };
      const upload = uploadCiphertext(target, i, cipher, paths[i]!, {
        from: first,
        onSent: (sent) => onStored(i, storedPlain(cipher, base + sent)),
      });
      this.#stopUpload = upload.abort;
      try {
        await upload.done;
      } finally {
        this.#stopUpload = null;
      }
      onStored(i, cipher.size);
    }
    this.#check();
  }

  /** Stops the upload running now and any later one (the transfer ended). */
  stop(): void {
    this.#stopped = true;
    this.#stopUpload?.();
  }

  /** Revokes the share of a transfer that will not finish, so nobody waits on it. */
  async withdraw(): Promise<void> {
    this.stop();
    this.#withdrawn = true;
    const share = this.#share;
    this.#share = null;
    if (share) await withdrawRelayShare(this.#api, share);
  }

  /**
   * Waits (at most `waitMs`) until the recipient has read the share, then revokes it.
   * Answers true when revoked; false when the time passed first (the share expires by itself).
   */
  async collect(waitMs: number, pollMs?: number): Promise<boolean> {
    const share = this.#share;
    if (!share) return false;
    const until = Date.now() + waitMs;
    return collectRelayShare(this.#api, share, () => this.#withdrawn || Date.now() > until, undefined, pollMs);
  }

  #check(): void {
    if (this.#stopped) throw new FerryError('ABORTED', 'Stopped.');
  }
}
