/**
 * The relay share's life on the sender's side, for the app and the ferry command alike
 * (relay.ts says what the relay is): made at the id derived from the transfer's secret with
 * tokens the sender made, withdrawn when the transfer will not finish, and revoked once
 * the recipient has read it. Only the share API's calls differ between the two (the page's
 * relative URLs and upload key, the command's server), so they come in as `RelayShareApi`.
 */
import type { ShareApi } from '../api-client.ts';
import { randomBytes, toBase64Url } from '../encoding.ts';
import { type ErrorCode, FerryError } from '../errors.ts';
import { deriveShareKeys, relayShareId, tokenHash } from '../keys.ts';
import { TOKEN_BYTES } from '../limits.ts';
import { encryptedSize, type FileCipher } from '../records.ts';
import { RELAY_EXPIRY_SECONDS } from './relay.ts';

/** Pauses before asking again to create the relay share, after a lost answer or a passing failure. */
export const CREATE_RETRY_DELAYS_MS = [1000, 3000, 5000];
/** How often the sender asks the server whether the recipient has read the relay share. */
export const RELAY_COLLECT_POLL_MS = 5000;
/** Failures worth asking again after; any other answer means the server no longer keeps the share. */
const PASSING: ReadonlySet<ErrorCode> = new Set([
  'NETWORK_ERROR',
  'INTERNAL',
  'STORAGE_FAILED',
  'RATE_LIMITED',
  'OVERLOADED',
]);

/** The share API calls the relay share needs. */
export type RelayShareApi = Pick<ShareApi, 'createShareWithOwnTokens' | 'getOwnerView' | 'revokeShare'>;

/** The relay share's id and the tokens this sender made for it. */
export interface RelayShare {
  id: string;
  ownerToken: string;
  uploadToken: string;
}
/** What revoking or collecting a relay share needs: its id and owner token. */
export type RelayOwner = Pick<RelayShare, 'id' | 'ownerToken'>;

/**
 * Creates the transfer's relay share: every file has a slot at its full ciphertext size.
 * The owner and upload tokens are made here and only their hashes sent, so when the answer
 * is lost (the request reached the server, the connection dropped) the same body is simply
 * sent again, after `pauses`, and the server answers it with the share it made. They are
 * random rather than derived from the secret: the recipient holds the secret too, and must
 * not be able to act as the share's owner.
 */
export async function createRelayShare(
  api: RelayShareApi,
  secret: Uint8Array<ArrayBuffer>,
  manifest: string,
  files: readonly FileCipher[],
  pauses: readonly number[] = CREATE_RETRY_DELAYS_MS,
): Promise<RelayShare> {
  const keys = await deriveShareKeys(secret);
  const ownerToken = toBase64Url(randomBytes(TOKEN_BYTES));
  const uploadToken = toBase64Url(randomBytes(TOKEN_BYTES));
  const body = {
    id: await relayShareId(secret),
    readerHash: await tokenHash(keys.readerToken),
    ownerHash: await tokenHash(ownerToken),
    uploadHash: await tokenHash(uploadToken),
    expiresInSeconds: RELAY_EXPIRY_SECONDS,
    maxDownloads: null,
    password: null,
    manifest,
    files: files.map((file) => ({ size: encryptedSize(file) })),
  };
  for (let attempt = 0; ; attempt++) {
    try {
      await api.createShareWithOwnTokens(body);
      return { id: body.id, ownerToken, uploadToken };
    } catch (error) {
      if (error instanceof FerryError && error.code === 'SHARE_ID_TAKEN') {
        throw new FerryError('SHARE_ID_TAKEN', 'This transfer was already handed to the server once.', {
          cause: error,
        });
      }
      if (!(error instanceof FerryError) || !PASSING.has(error.code) || attempt >= pauses.length) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, pauses[attempt]));
  }
}

/**
 * Revokes the relay share of a transfer the sender cancelled or that failed: its bytes are
 * deleted, and the recipient reading it hears SHARE_REVOKED instead of waiting for more.
 */
export async function withdrawRelayShare(api: RelayShareApi, share: RelayOwner): Promise<void> {
  await api.revokeShare(share.id, share.ownerToken).catch(() => undefined);
}

/**
 * Waits until the recipient has read the relay share (the server counts a download once a
 * ticket's files were all sent, each from its base on), then revokes it, so its bytes go at
 * the next sweep instead of lingering until RELAY_EXPIRY_SECONDS. Answers true when
 * revoked; false when `stopped()` (the caller withdraws the share itself) or the server no
 * longer has it. Network errors are waited out; `downloads` reads the count (owner token).
 */
export async function collectRelayShare(
  api: RelayShareApi,
  share: RelayOwner,
  stopped: () => boolean,
  downloads = async () => (await api.getOwnerView(share.id, share.ownerToken)).downloads,
  pollMs = RELAY_COLLECT_POLL_MS,
): Promise<boolean> {
  while (!stopped()) {
    try {
      if ((await downloads()) >= 1) {
        await api.revokeShare(share.id, share.ownerToken);
        return true;
      }
    } catch (error) {
      if (!(error instanceof FerryError) || !PASSING.has(error.code)) return false;
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  return false;
}
