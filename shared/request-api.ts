/**
 * The request-link API ("reverse share"): a requester asks others to send files to them.
 * One zod schema per body, parsed where it enters (server: requests; client: answers).
 * Routes are described in README.md; the key agreement in request-keys.ts.
 */

import { createShareFieldsSchema, shareIdSchema } from './api.ts';
import { MAX_EXPIRY_SECONDS, MAX_FILES, MIN_EXPIRY_SECONDS, TAG_SIZE } from './limits.ts';
import { z } from './zod.ts';

/** Request ids have the same shape as share ids: 16 base64url characters. */
export const requestIdSchema = z.string().regex(/^[A-Za-z0-9_-]{16}$/, 'not a request id');

/**
 * An uncompressed P-256 point (0x04 || x || y, 65 bytes) as unpadded base64url: 87 characters
 * starting "BA"…"BP", the last with its 2 unused bits zero, so each key has one spelling
 * (the upload secret binds the text).
 */
export const publicKeySchema = z
  .string()
  .regex(/^B[A-P][A-Za-z0-9_-]{84}[AEIMQUYcgkosw048]$/, 'not a P-256 public key');

/** Bounds on what a requester may allow in total (ciphertext bytes, files). */
export const MIN_REQUEST_BYTES = 1024;
export const MAX_REQUEST_FILES = MAX_FILES;

/**
 * How long an upload's share lives: the longest a link may, since the requester downloads
 * later. Uploads start before the request ends, so a week after its end every upload's
 * share is gone and the request can be forgotten.
 */
export const UPLOAD_KEEP_MS = MAX_EXPIRY_SECONDS * 1000;

export const createRequestSchema = z
  .object({
    /** Ciphertext bytes all senders together may upload (records add 16 bytes per 64 KiB). */
    maxBytes: z.number().int().min(MIN_REQUEST_BYTES).max(Number.MAX_SAFE_INTEGER),
    /** Files all senders together may upload. */
    maxFiles: z.number().int().min(1).max(MAX_REQUEST_FILES),
    expiresInSeconds: z.number().int().min(MIN_EXPIRY_SECONDS).max(MAX_EXPIRY_SECONDS),
  })
  .strict();
export type CreateRequestBody = z.infer<typeof createRequestSchema>;

export const requestInfoSchema = z.object({
  id: requestIdSchema,
  expiresAt: z.number().int(),
  maxBytes: z.number().int(),
  maxFiles: z.number().int(),
  usedBytes: z.number().int().min(0),
  usedFiles: z.number().int().min(0),
});
/** What anyone holding the request id may read (410 once it is expired or closed). */
export type RequestInfo = z.infer<typeof requestInfoSchema>;

export const createRequestResponseSchema = requestInfoSchema.extend({ ownerToken: z.string().length(43) });
export type CreateRequestResponse = z.infer<typeof createRequestResponseSchema>;

/**
 * One sender's upload into a request: an ordinary share (its keys derived from the
 * sender's ephemeral key and the requester's key) whose expiry, download limit and
 * password the server sets; only new uploads, no reuse of other shares' blobs.
 */
export const createUploadSchema = createShareFieldsSchema
  .pick({ readerHash: true, manifest: true })
  .extend({
    /** The sender's ephemeral ECDH public key; the requester needs it to derive the secret. */
    senderKey: publicKeySchema,
    files: z
      .array(z.object({ size: z.number().int().min(TAG_SIZE).max(Number.MAX_SAFE_INTEGER) }).strict())
      .min(1)
      .max(MAX_FILES),
  })
  .strict();
export type CreateUploadBody = z.infer<typeof createUploadSchema>;

export const requestUploadStateSchema = z.enum(['uploading', 'ready', 'gone']);

export const requestUploadSchema = z.object({
  shareId: shareIdSchema,
  senderKey: publicKeySchema,
  /** Ciphertext bytes and file count the upload declared. */
  bytes: z.number().int().min(0),
  files: z.number().int().min(1),
  createdAt: z.number().int(),
  /** `gone`: the share expired or was revoked. */
  state: requestUploadStateSchema,
});
export type RequestUpload = z.infer<typeof requestUploadSchema>;

export const requestOwnerViewSchema = requestInfoSchema.extend({
  state: z.enum(['open', 'expired', 'closed']),
  uploads: z.array(requestUploadSchema),
});
/** What the requester (owner token) may read, also after the request expired or was closed. */
export type RequestOwnerView = z.infer<typeof requestOwnerViewSchema>;
