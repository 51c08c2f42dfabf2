/** Limits both sides agree on. The server enforces them; the client checks early. */

/** Plaintext bytes per record. 64 KiB + 16-byte tag fits one WebRTC message everywhere. */
export const DEFAULT_RECORD_SIZE = 64 * 1024;
/** Bounds on a manifest's record size (a sender may choose another power of two). */
export const MIN_RECORD_SIZE = 1024;
export const MAX_RECORD_SIZE = 4 * 1024 * 1024;
/** AES-GCM authentication tag, appended to every record. */
export const TAG_SIZE = 16;
/**
 * A thumbnail ticket reads at most a file's first THUMBNAIL_RECORDS records (at the default
 * record size): an image that small is read whole, a larger JPEG only for its EXIF thumbnail.
 */
export const THUMBNAIL_RECORDS = 4;
export const THUMBNAIL_CIPHER_BYTES = THUMBNAIL_RECORDS * (DEFAULT_RECORD_SIZE + TAG_SIZE);
/** The nonce index is a 32-bit counter. */
export const MAX_RECORDS = 0xffff_ffff;

export const MIN_EXPIRY_SECONDS = 5 * 60;
export const MAX_EXPIRY_SECONDS = 7 * 24 * 60 * 60;
export const DEFAULT_EXPIRY_SECONDS = 24 * 60 * 60;

export const MIN_DOWNLOADS = 1;
export const MAX_DOWNLOADS = 100;

/** Files in one share. */
export const MAX_FILES = 1000;
/** Encrypted manifest bytes (base64url-decoded). */
export const MAX_MANIFEST_BYTES = 1024 * 1024;
/** A path segment (file or folder name) and a whole relative path, in UTF-16 units. */
export const MAX_NAME_LENGTH = 255;
export const MAX_PATH_LENGTH = 1024;

/** Secret sizes in bytes. */
export const SECRET_BYTES = 16;
export const TOKEN_BYTES = 32;
export const NONCE_BYTES = 12;
export const KEY_BYTES = 32;
export const SALT_BYTES = 16;

/** argon2id parameters for password-protected links (OWASP's second recommended set). */
export const ARGON2_PARAMS = { iterations: 2, memorySize: 19 * 1024, parallelism: 1 } as const;
