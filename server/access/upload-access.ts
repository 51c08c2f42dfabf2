/**
 * Who may create a share or a request link, and whether its bytes fit: the one place that
 * reads the upload key header and turns a refused reservation into an answer.
 *
 * In `key` mode a creation needs `Ferry-Upload-Key` (401 UPLOAD_KEY_REQUIRED without it, 403
 * UPLOAD_KEY_INVALID for an unknown, revoked or expired key). In `open` mode a key is
 * optional; one that is given is checked the same way and its quotas apply instead of the
 * client network's. Quotas: the key's bytes stored and bytes per 24 hours, or in `open`
 * mode FERRY_OPEN_DAILY_BYTES per client network (an IPv4 address, or an IPv6 /64:
 * signaling/client-address.ts), and FERRY_MAX_STORAGE_BYTES over all live shares.
 */
import type { IncomingMessage } from 'node:http';
import { UPLOAD_KEY_HEADER, uploadKeySchema } from '../../shared/access-api.ts';
import { FerryError } from '../../shared/errors.ts';
import { tokenHash } from '../../shared/keys.ts';
import type { FerryConfig } from '../config.ts';
import { HeaderedError } from '../http/respond.ts';
import { clientAddress, networkKey, trustedProxyList } from '../signaling/client-address.ts';
import type { AccessStore, Holder, ReservationKind, UploadKeyRecord } from './store.ts';

/** The window of "bytes per day" quotas. */
export const QUOTA_WINDOW_MS = 24 * 60 * 60 * 1000;

/** Who is creating: the upload key they hold (if any) and whose quotas count. */
export interface Creator {
  key: UploadKeyRecord | null;
  holder: Holder | null;
}

export class UploadAccessControl {
  readonly #config: FerryConfig;
  readonly #store: AccessStore;
  readonly #trusted;

  constructor(config: FerryConfig, store: AccessStore) {
    this.#config = config;
    this.#store = store;
    this.#trusted = trustedProxyList(config.trustedProxies);
  }

  /** Throws UPLOAD_KEY_REQUIRED / UPLOAD_KEY_INVALID, else says who is creating. */
  async admit(req: IncomingMessage, now: number): Promise<Creator> {
    const header = req.headers[UPLOAD_KEY_HEADER.toLowerCase()];
    const raw = Array.isArray(header) ? header[0] : header;
    if (raw === undefined || raw.trim() === '') {
      if (this.#config.uploadAccess === 'key') {
        throw new FerryError(
          'UPLOAD_KEY_REQUIRED',
          'This server takes files only from people with an upload key: enter yours to send.',
        );
      }
      return { key: null, holder: this.#networkHolder(req) };
    }
    const parsed = uploadKeySchema.safeParse(raw.trim());
    const key = parsed.success ? await this.#store.keyByHash(await tokenHash(parsed.data)) : undefined;
    if (!key || key.revokedAt !== null || (key.expiresAt !== null && key.expiresAt <= now)) {
      throw new FerryError(
        'UPLOAD_KEY_INVALID',
        "The server did not accept this upload key: it is unknown, revoked or expired. Ask the server's admin for a new one.",
      );
    }
    return { key, holder: { keyId: key.id } };
  }

  /**
   * Whose quotas an upload into request link `requestId` counts against: the key that made
   * the request (the sender needs none), else, in `open` mode, the sender's network.
   */
  async requestUploader(req: IncomingMessage, requestId: string): Promise<Creator> {
    const keyId = (await this.#store.getRequestLink(requestId))?.keyId;
    const key = keyId ? await this.#store.getKey(keyId) : undefined;
    if (key) return { key, holder: { keyId: key.id } };
    return { key: null, holder: this.#networkHolder(req) };
  }

  /** In `open` mode with a daily limit, the client's network; else nobody (no network is stored). */
  #networkHolder(req: IncomingMessage): Holder | null {
    if (this.#config.openDailyBytes === null) return null;
    return { network: networkKey(clientAddress(req, this.#trusted)) };
  }

  /**
   * Reserves a share's declared ciphertext under every quota, or throws QUOTA_EXCEEDED (429,
   * with Retry-After when waiting helps) or STORAGE_FULL (507). Returns whether this call
   * made the reservation (false: the share had one already, e.g. a repeated create), so a
   * caller whose share is then not created can take back only what it reserved.
   */
  async reserve(
    creator: Creator,
    share: {
      shareId: string;
      kind: ReservationKind;
      requestId?: string;
      bytes: number;
      files: number;
      expiresAt: number;
    },
    now: number,
  ): Promise<boolean> {
    const { key } = creator;
    const result = await this.#store.reserve(
      { ...share, requestId: share.requestId ?? null, holder: creator.holder, createdAt: now },
      {
        storageCap: this.#config.maxStorageBytes,
        stored: key ? key.maxStoredBytes : null,
        daily: key ? key.maxDailyBytes : this.#config.openDailyBytes,
        windowMs: QUOTA_WINDOW_MS,
      },
      now,
    );
    const who = key ? 'Your upload key' : 'Your network';
    const size = bytesText(share.bytes);
    switch (result.outcome) {
      case 'reserved':
        return true;
      case 'exists':
        return false;
      case 'storage-full':
        throw new FerryError(
          'STORAGE_FULL',
          `The server is full: it has no room for ${size} more right now. Try again later, or send less.`,
        );
      case 'stored':
        throw new FerryError(
          'QUOTA_EXCEEDED',
          `${who} may keep ${bytesText(key?.maxStoredBytes ?? 0)} in live links at once and ${bytesText(result.used)} are in use, so these ${size} do not fit. Revoke a link you sent, or ask the server's admin for more.`,
        );
      case 'daily': {
        const limit = (key ? key.maxDailyBytes : this.#config.openDailyBytes) ?? 0;
        const message = `${who} may send ${bytesText(limit)} a day and ${bytesText(result.used)} were sent in the last 24 hours, so these ${size} do not fit.`;
        if (result.retryAt === null) {
          throw new FerryError('QUOTA_EXCEEDED', `${message} They are more than a day's allowance.`);
        }
        const seconds = Math.max(1, Math.ceil((result.retryAt - now) / 1000));
        throw new HeaderedError('QUOTA_EXCEEDED', `${message} Try again in ${durationText(seconds)}.`, {
          'Retry-After': String(seconds),
        });
      }
    }
  }

  /** Takes back a reservation this request made for a share that was then not created. */
  unreserve(shareId: string): Promise<void> {
    return this.#store.unreserve(shareId);
  }
}

const UNITS = ['bytes', 'KB', 'MB', 'GB', 'TB'];

/** Decimal units, as the app shows sizes ("4.1 MB"). */
export function bytesText(bytes: number): string {
  let value = bytes;
  let unit = 0;
  for (; value >= 1000 && unit < UNITS.length - 1; unit++) value /= 1000;
  return `${unit === 0 || value >= 100 ? Math.round(value) : value.toFixed(1)} ${UNITS[unit]}`;
}

/** "23 hours", "5 minutes": rounded up, so trying again then succeeds. */
function durationText(seconds: number): string {
  const [n, unit] = seconds > 3600 ? [Math.ceil(seconds / 3600), 'hour'] : [Math.ceil(seconds / 60), 'minute'];
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}
