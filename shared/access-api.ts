/**
 * Who may create shares, and the admin API: one zod schema per body (the server parses
 * requests, the client parses answers). README.md "Upload access, quotas, admin" describes
 * the routes; this file is their types. Never a name: the server has none.
 */
import { z } from './zod.ts';

/** `open`: anyone creates shares and request links; `key`: only holders of an upload key. */
export const UPLOAD_ACCESS = ['open', 'key'] as const;
export type UploadAccess = (typeof UPLOAD_ACCESS)[number];

/** The header that carries an upload key on POST /api/shares and POST /api/requests. */
export const UPLOAD_KEY_HEADER = 'Ferry-Upload-Key';

/** An upload key: `fk_` and 43 base64url characters (32 random bytes). */
export const uploadKeySchema = z.string().regex(/^fk_[A-Za-z0-9_-]{43}$/, 'not an upload key');

/** GET /api/config: what the app must know before it sends. */
export const appConfigSchema = z.object({ uploadAccess: z.enum(UPLOAD_ACCESS) });
export type AppConfig = z.infer<typeof appConfigSchema>;

const bytes = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

/** POST /api/admin/keys. */
export const createKeySchema = z
  .object({
    label: z.string().trim().min(1).max(100),
    /** Ciphertext bytes the key's live shares may hold together; null: no limit. */
    maxStoredBytes: bytes.nullable(),
    /** Ciphertext bytes the key may reserve in any 24 hours; null: no limit. */
    maxDailyBytes: bytes.nullable(),
    /** Seconds from now until the key stops working; null: never. */
    expiresInSeconds: z
      .number()
      .int()
      .min(60)
      .max(10 * 365 * 24 * 3600)
      .nullable(),
  })
  .strict();
export type CreateKeyRequest = z.infer<typeof createKeySchema>;

export const uploadKeyViewSchema = z.object({
  id: z.string(),
  label: z.string(),
  maxStoredBytes: z.number().nullable(),
  maxDailyBytes: z.number().nullable(),
  expiresAt: z.number().nullable(),
  createdAt: z.number(),
  revokedAt: z.number().nullable(),
  state: z.enum(['active', 'expired', 'revoked']),
  usage: z.object({ storedBytes: z.number(), dailyBytes: z.number(), liveShares: z.number() }),
});
export type UploadKeyView = z.infer<typeof uploadKeyViewSchema>;

/** The answer to POST /api/admin/keys: the only time the key itself is shown. */
export const createdKeySchema = z.object({ key: uploadKeySchema, view: uploadKeyViewSchema });
export type CreatedKey = z.infer<typeof createdKeySchema>;

export const adminShareSchema = z.object({
  id: z.string(),
  kind: z.enum(['share', 'request-upload']),
  createdAt: z.number(),
  expiresAt: z.number(),
  /** Declared ciphertext bytes of its new uploads. */
  bytes: z.number(),
  files: z.number(),
  downloads: z.number(),
  maxDownloads: z.number().nullable(),
  state: z.enum(['uploading', 'ready', 'downloads-used', 'expired', 'revoked']),
  keyId: z.string().nullable(),
});
export type AdminShare = z.infer<typeof adminShareSchema>;

export const adminRequestSchema = z.object({
  id: z.string(),
  createdAt: z.number(),
  expiresAt: z.number(),
  maxBytes: z.number(),
  usedBytes: z.number(),
  maxFiles: z.number(),
  uploads: z.number(),
  state: z.enum(['open', 'closed', 'expired']),
  keyId: z.string().nullable(),
});
export type AdminRequest = z.infer<typeof adminRequestSchema>;

/** GET /api/admin/overview. */
export const adminOverviewSchema = z.object({
  uploadAccess: z.enum(UPLOAD_ACCESS),
  storage: z.object({
    /** Ciphertext bytes reserved by live shares. */
    usedBytes: z.number(),
    /** FERRY_MAX_STORAGE_BYTES, or null. */
    capBytes: z.number().nullable(),
    /** Free bytes on the data directory's file system. */
    diskFreeBytes: z.number().nullable(),
  }),
  shares: z.array(adminShareSchema),
  requests: z.array(adminRequestSchema),
  keys: z.array(uploadKeyViewSchema),
});
export type AdminOverview = z.infer<typeof adminOverviewSchema>;
