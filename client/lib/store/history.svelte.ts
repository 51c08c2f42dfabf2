/**
 * The shares this browser sent, as the UI shows them: pending uploads (resumable) and
 * finished shares with revoke and extend. Expired shares are forgotten, with their secrets
 * and dedup entries, whenever the list loads.
 */

import { FerryError } from '../../../shared/errors.ts';
import { MAX_EXPIRY_SECONDS, MIN_EXPIRY_SECONDS } from '../../../shared/limits.ts';
import { updateShare as patchShare, revokeShare } from '../api/share-client.ts';
import type { ShareRecord } from './db.ts';
import { forgetShareBlobs, purgeExpiredDedup } from './dedup.ts';
import { deleteShare, listShares, updateShare } from './shares.ts';

const DAY_SECONDS = 24 * 60 * 60;

/** New expiry for "Extend by 24 hours": remaining time plus a day, at most 7 days from now. */
export function extendedSeconds(expiresAt: number, now = Date.now()): number {
  const remaining = Math.max(0, Math.ceil((expiresAt - now) / 1000));
  return Math.max(MIN_EXPIRY_SECONDS, Math.min(remaining + DAY_SECONDS, MAX_EXPIRY_SECONDS));
}

/** A stored share with everything secret removed: what a revoked share leaves behind. */
export function withoutSecrets(record: ShareRecord): ShareRecord {
  return {
    ...record,
    state: 'revoked',
    ownerToken: '',
    uploadToken: '',
    secret: '',
    link: '',
    files: record.files.map((f) => ({ ...f, handle: undefined, uploadUrl: null, checkpoint: null, key: undefined })),
  };
}

export class ShareHistory {
  #records = $state<ShareRecord[]>([]);
  #error = $state<FerryError | null>(null);
  #busy = $state<string | null>(null);

  /** Every share this browser sent that is still stored, pending or not. */
  get all(): ShareRecord[] {
    return this.#records;
  }
  get pending(): ShareRecord[] {
    return this.#records.filter((r) => r.state === 'uploading');
  }
  get finished(): ShareRecord[] {
    return this.#records.filter((r) => r.state !== 'uploading');
  }
  get error(): FerryError | null {
    return this.#error;
  }
  /** The id of the share an action is running on. */
  get busy(): string | null {
    return this.#busy;
  }

  async refresh(now = Date.now()): Promise<void> {
    try {
      const all = await listShares();
      const live: ShareRecord[] = [];
      for (const record of all) {
        if (record.expiresAt <= now) {
          await deleteShare(record.id);
          await forgetShareBlobs(record.id);
        } else live.push(record);
      }
      await purgeExpiredDedup(now);
      this.#records = live;
    } catch (error) {
      this.#error = new FerryError('INTERNAL', 'This browser’s storage could not be read.', { cause: error });
    }
  }

  /** Revokes the link on the server, then forgets its secrets here. */
  revoke(record: ShareRecord): Promise<void> {
    return this.#act(record.id, async () => {
      await ignoreGone(revokeShare(record.id, record.ownerToken));
      await forgetShareBlobs(record.id);
      // Rewrite the stored record, not the UI's reactive copy (IndexedDB cannot clone proxies).
      await updateShare(record.id, withoutSecrets);
    });
  }

  extend(record: ShareRecord): Promise<void> {
    return this.#act(record.id, async () => {
      const view = await patchShare(record.id, record.ownerToken, {
        expiresInSeconds: extendedSeconds(record.expiresAt),
      });
      await updateShare(record.id, (stored) => ({ ...stored, expiresAt: view.expiresAt }));
    });
  }

  /** Drops a pending upload: the server deletes what was uploaded, this browser its secrets. */
  discard(record: ShareRecord): Promise<void> {
    return this.#act(record.id, async () => {
      await ignoreGone(revokeShare(record.id, record.ownerToken));
      await forgetShareBlobs(record.id);
      await deleteShare(record.id);
    });
  }

  async #act(id: string, action: () => Promise<void>): Promise<void> {
    this.#busy = id;
    this.#error = null;
    try {
      await action();
    } catch (error) {
      this.#error =
        error instanceof FerryError
          ? error
          : new FerryError('INTERNAL', `That did not work: ${error instanceof Error ? error.message : error}`, {
              cause: error,
            });
    } finally {
      this.#busy = null;
      await this.refresh();
    }
  }
}

/** A share the server already forgot (expired, revoked, swept) is as good as revoked. */
async function ignoreGone(action: Promise<void>): Promise<void> {
  try {
    await action;
  } catch (error) {
    const gone = ['SHARE_NOT_FOUND', 'SHARE_EXPIRED', 'SHARE_REVOKED', 'NOT_FOUND'];
    if (!(error instanceof FerryError && gone.includes(error.code))) throw error;
  }
}
