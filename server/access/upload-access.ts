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
        throw new FerryError('UPLOAD_KEY_REQUIRED', 'This server takes new shares only from holders of an upload key.');
      }
      return { key: null, holder: this.#networkHolder(req) };
    }
    const parsed = uploadKeySchema.safeParse(raw.trim());
    const key = parsed.success ? await this.#store.keyByHash(await tokenHash(parsed.data)) : undefined;
    if (!key || key.revokedAt !== null || (key.expiresAt !== null && key.expiresAt <= now)) {
      throw new FerryError('UPLOAD_KEY_INVALID', 'This upload key is unknown, revoked or expired.');
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
    const who = key ? 'this upload key' : 'your network';
    switch (result.outcome) {
      case 'reserved':
        return true;
      case 'exists':
        return false;
      case 'storage-full':
        throw new FerryError(
          'STORAGE_FULL',
          `The server's storage is full: ${share.bytes} more bytes do not fit (${result.used} of ${this.#config.maxStorageBytes} in use).`,
        );
      case 'stored':
        throw new FerryError(
          'QUOTA_EXCEEDED',
          `${capital(who)} may keep ${key?.maxStoredBytes} bytes in live shares; ${result.used} are in use, so ${share.bytes} more do not fit.`,
        );
      case 'daily': {
        const limit = key ? key.maxDailyBytes : this.#config.openDailyBytes;
        const message = `${capital(who)} may send ${limit} bytes per 24 hours; ${result.used} were sent, so ${share.bytes} more do not fit`;
        if (result.retryAt === null) throw new FerryError('QUOTA_EXCEEDED', `${message}.`);
        const seconds = Math.max(1, Math.ceil((result.retryAt - now) / 1000));
        throw new HeaderedError('QUOTA_EXCEEDED', `${message} before ${new Date(result.retryAt).toISOString()}.`, {
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

const capital = (text: string) => text[0]!.toUpperCase() + text.slice(1);
