/**
 * The HTTP API between the Ferry client and server: one zod schema per body, parsed where
 * a body enters (the server parses requests, the client parses answers). ARCHITECTURE.md
 * and README.md describe the routes; this file is their types.
 */

import {
  MAX_DOWNLOADS,
  MAX_EXPIRY_SECONDS,
  MAX_FILES,
  MAX_MANIFEST_BYTES,
  MIN_DOWNLOADS,
  MIN_EXPIRY_SECONDS,
  TAG_SIZE,
} from './limits.ts';
import { passwordWrapSchema } from './password.ts';
import { z } from './zod.ts';

export const shareIdSchema = z.string().regex(/^[A-Za-z0-9_-]{16}$/, 'not a share id');
export const tokenSchema = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'not a token');
const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const sealedManifest = z
  .string()
  .min(1)
  .max(Math.ceil((MAX_MANIFEST_BYTES * 4) / 3))
  .regex(/^[A-Za-z0-9_-]+$/);

export const reuseSchema = z.object({ blobId: z.string().min(1).max(100), blobToken: tokenSchema });

/** One file slot of a new share: either ciphertext still to upload, or a sealed upload to reuse. */
export const createFileSchema = z.union([
  z.object({ size: z.number().int().min(TAG_SIZE).max(Number.MAX_SAFE_INTEGER) }).strict(),
  z.object({ reuse: reuseSchema }).strict(),
]);

/** The fields of a new share's body, before the rules between them (createShareRequestSchema). */
export const createShareFieldsSchema = z
  .object({
    /**
     * An id the client proposes (a peer transfer's relay fallback derives it from the
     * transfer's secret, so the recipient knows where to look); taken → 409 SHARE_ID_TAKEN.
     */
    id: shareIdSchema.optional(),
    /** hex SHA-256 of the reader token; the server never sees the token at creation. */
    readerHash: hex64,
    /**
     * hex SHA-256 of an owner and an upload token the client made itself; only with a
     * proposed `id`, both or neither. The answer then carries no tokens, and repeating the
     * same body (after a lost answer) is answered with the same share instead of 409.
     */
    ownerHash: hex64.optional(),
    uploadHash: hex64.optional(),
    expiresInSeconds: z.number().int().min(MIN_EXPIRY_SECONDS).max(MAX_EXPIRY_SECONDS),
    maxDownloads: z.number().int().min(MIN_DOWNLOADS).max(MAX_DOWNLOADS).nullable(),
    password: passwordWrapSchema.nullable(),
    manifest: sealedManifest,
    files: z.array(createFileSchema).min(1).max(MAX_FILES),
  })
  .strict();

/**
 * A new share's body. Client-made token hashes come in pairs, only with a proposed id (a
 * link share's tokens are always the server's), and differ from each other and from the
 * reader hash: a reader token must never also be an owner or upload token.
 */
export const createShareRequestSchema = createShareFieldsSchema.superRefine((body, ctx) => {
  if ((body.ownerHash === undefined) !== (body.uploadHash === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['uploadHash'], message: 'ownerHash and uploadHash come together' });
  } else if (body.ownerHash !== undefined && body.id === undefined) {
    ctx.addIssue({ code: 'custom', path: ['ownerHash'], message: 'token hashes need a proposed id' });
  } else if (body.ownerHash !== undefined && new Set([body.readerHash, body.ownerHash, body.uploadHash]).size !== 3) {
    ctx.addIssue({ code: 'custom', path: ['ownerHash'], message: 'the token hashes must all differ' });
  }
});
export type CreateShareRequest = z.infer<typeof createShareRequestSchema>;

export const shareFileStateSchema = z.object({
  index: z.number().int().min(0),
  /** Ciphertext bytes. */
  size: z.number().int().min(0),
  /** Ciphertext bytes the server holds so far. */
  uploaded: z.number().int().min(0),
  sealed: z.boolean(),
});
export type ShareFileState = z.infer<typeof shareFileStateSchema>;

/** The answer to a new share whose tokens the client made (ownerHash, uploadHash): no tokens. */
export const createdShareSchema = z.object({
  id: shareIdSchema,
  expiresAt: z.number().int(),
  files: z.array(shareFileStateSchema),
});
export type CreatedShare = z.infer<typeof createdShareSchema>;

export const createShareResponseSchema = createdShareSchema.extend({
  ownerToken: tokenSchema,
  /** Sent as `Authorization: Bearer` on every tus request of this share. */
  uploadToken: tokenSchema,
});
export type CreateShareResponse = z.infer<typeof createShareResponseSchema>;

export const shareStateSchema = z.enum(['uploading', 'ready']);

/** What anyone holding the share id may read. */
export const shareInfoSchema = z.object({
  id: shareIdSchema,
  state: shareStateSchema,
  expiresAt: z.number().int(),
  maxDownloads: z.number().int().nullable(),
  downloads: z.number().int().min(0),
  fileCount: z.number().int().min(1),
  password: passwordWrapSchema.nullable(),
});
export type ShareInfo = z.infer<typeof shareInfoSchema>;

/** What a reader-token holder may read. */
export const shareManifestResponseSchema = z.object({
  manifest: sealedManifest,
  state: shareStateSchema,
  files: z.array(shareFileStateSchema),
});
export type ShareManifestResponse = z.infer<typeof shareManifestResponseSchema>;

/** What the owner may read: adds the handles needed to reuse sealed uploads. */
export const shareOwnerViewSchema = shareInfoSchema.extend({
  files: z.array(shareFileStateSchema.extend({ blobId: z.string().nullable(), blobToken: tokenSchema.nullable() })),
});
export type ShareOwnerView = z.infer<typeof shareOwnerViewSchema>;

export const updateShareRequestSchema = z
  .object({
    manifest: sealedManifest.optional(),
    /** Sets expiry to now + this many seconds (extend or shorten). */
    expiresInSeconds: z.number().int().min(MIN_EXPIRY_SECONDS).max(MAX_EXPIRY_SECONDS).optional(),
    /** Marks the share ready; refused until every file is sealed. */
    complete: z.literal(true).optional(),
  })
  .strict();
export type UpdateShareRequest = z.infer<typeof updateShareRequestSchema>;

/**
 * `purpose: 'thumbnail'` asks for a ticket that reads only the first records of files
 * (THUMBNAIL_CIPHER_BYTES), never counts as a download and is refused on a share with a
 * download limit (THUMBNAILS_NOT_OFFERED); absent means 'download'.
 */
export const downloadRequestSchema = z
  .object({
    files: z.array(z.number().int().min(0).max(MAX_FILES)).min(1).max(MAX_FILES),
    purpose: z.enum(['download', 'thumbnail']).optional(),
  })
  .strict();
export type DownloadRequest = z.infer<typeof downloadRequestSchema>;

export const downloadTicketSchema = z.object({ ticket: tokenSchema, expiresAt: z.number().int() });
export type DownloadTicket = z.infer<typeof downloadTicketSchema>;

/**
 * POST /api/shares/:id/peer-coverage (owner token): the sender's open tab sent ciphertext
 * bytes [start, end) of `file` straight to the recipient holding `ticket` (a pull over
 * WebRTC), so the server counts them as if it had sent them; `end == start` only checks
 * the ticket and keeps it alive.
 */
export const peerCoverageRequestSchema = z
  .object({
    ticket: tokenSchema,
    file: z.number().int().min(0).max(MAX_FILES),
    start: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    end: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  })
  .strict()
  .refine((body) => body.start <= body.end, 'start after end');
export type PeerCoverageRequest = z.infer<typeof peerCoverageRequestSchema>;
/** `done`: the ticket's download is complete and counted. */
export const peerCoverageResponseSchema = z.object({ ticket: z.enum(['open', 'done']) });
export type PeerCoverageResponse = z.infer<typeof peerCoverageResponseSchema>;

export { TICKET_HEADER } from './headers.ts';

const decimal = z.string().regex(/^(0|[1-9][0-9]{0,15})$/);

/**
 * tus Upload-Metadata keys (tus 1.0 §Creation): the share and the file's slot in it, and
 * nothing else. Strict: a file name or type in the metadata would be stored in clear.
 * `base` and `recordSize` come together: the upload holds the file's ciphertext from byte
 * `base` on (a whole number of records of `recordSize` plaintext bytes precede it), as a
 * peer transfer that switched to the relay uploads only what the recipient lacks.
 */
export const uploadMetadataSchema = z
  .object({
    share: shareIdSchema,
    index: z.string().regex(/^(0|[1-9][0-9]{0,3})$/),
    base: decimal.optional(),
    recordSize: decimal.optional(),
  })
  .strict()
  .refine((m) => (m.base === undefined) === (m.recordSize === undefined), 'base and recordSize come together');

export const healthSchema = z.object({ ok: z.literal(true), version: z.string() });
