/**
 * What two browsers say to each other over their WebRTC data channel once connected.
 *
 * Two kinds of frame share the one channel:
 *
 * - text frames: one JSON control message, a discriminated union on `type`, parsed with
 *   `parseControlMessage` where it enters (never cast);
 * - binary frames: one encrypted record (shared/records.ts) behind an 8-byte header
 *
 *     [u8 FRAME_VERSION][u8 0][u16 file index][u32 record index][record bytes…]  (big-endian)
 *
 *   so a frame is at most recordSize + 16 + 8 bytes, well under the channel's
 *   maxMessageSize (256 KiB in Chromium and Firefox, RTCSctpTransport.maxMessageSize).
 *
 * The order on the channel (reliable, ordered) is: `code-commit` → `code-nonce` both ways
 * (when people compare the verification code), `auth` both ways (MAC mode only) →
 * `offer` → `answer` → records and `ack`s → `complete`; a pairing's first connection has
 * `pair-secret` → `pair-saved` after `auth`. Secrets (the link secret, names)
 * travel only here, inside DTLS, never through the signaling server.
 *
 * After the channel drops mid-transfer the sender opens a new connection to the same peer,
 * authenticated in MAC mode with the transfer's own secret, and the order there is:
 * `auth` both ways → `resume` → `resume-at` → records from the first each file lacks.
 *
 * A share link's recipient and the sender's open tab (MAC mode keyed by the link secret):
 * `auth` both ways → `pull` → records, `pull-ack`s → (`pull-stop` | `pull-refused`).
 */
import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from './errors.ts';
import { MAX_FILES, MAX_MANIFEST_BYTES, MAX_RECORDS } from './limits.ts';

export const FRAME_VERSION = 1;
/** Bytes before the record in a binary frame. */
export const FRAME_HEADER_BYTES = 8;
/** Longest text message a device may send to another. */
export const MAX_TEXT_LENGTH = 10_000;

const base64Url = (min: number, max: number) =>
  z
    .string()
    .regex(/^[A-Za-z0-9_-]*$/, 'not base64url')
    .min(min)
    .max(max);
/** A transfer's id: 16 random bytes, base64url. */
export const transferIdSchema = base64Url(22, 22);
const fileIndexSchema = z
  .number()
  .int()
  .min(0)
  .max(MAX_FILES - 1);
const errorCodeSchema = z.string().refine((code): code is ErrorCode => Object.hasOwn(ERROR_CODES, code));

export const controlMessageSchema = z.discriminatedUnion('type', [
  /** Verification code: the offerer's commitment to its nonce, sent first (client/lib/p2p/auth.ts). */
  z.strictObject({ type: z.literal('code-commit'), commit: base64Url(43, 43) }),
  /** Verification code: a side's 32-byte nonce (the answerer's answers the commitment; then the offerer's). */
  z.strictObject({ type: z.literal('code-nonce'), nonce: base64Url(43, 43) }),
  /** MAC mode: HMAC-SHA256 over both DTLS fingerprints and the sender's role (client/lib/p2p/auth.ts). */
  z.strictObject({ type: z.literal('auth'), mac: base64Url(43, 43) }),
  /** The sender's files: the link secret and the sealed manifest, exactly as a link share has them. */
  z.strictObject({
    type: z.literal('offer'),
    transfer: transferIdSchema,
    secret: base64Url(22, 22),
    manifest: base64Url(1, Math.ceil((MAX_MANIFEST_BYTES * 4) / 3)),
  }),
  /** The recipient's decision. */
  z.strictObject({ type: z.literal('answer'), transfer: transferIdSchema, accept: z.boolean() }),
  /** Records [0, verified) of `file` are verified and written on the recipient. */
  z.strictObject({
    type: z.literal('ack'),
    transfer: transferIdSchema,
    file: fileIndexSchema,
    verified: z.number().int().min(0).max(MAX_RECORDS),
  }),
  /** The sender, on a new connection after a drop: how far did this transfer get? */
  z.strictObject({ type: z.literal('resume'), transfer: transferIdSchema }),
  /**
   * The recipient's answer once everything it received is written: records [0, files[i])
   * of file i are verified (a prefix: records are verified strictly in order), so the
   * sender continues each file at record files[i].
   */
  z.strictObject({
    type: z.literal('resume-at'),
    transfer: transferIdSchema,
    files: z.array(z.number().int().min(0).max(MAX_RECORDS)).min(1).max(MAX_FILES),
  }),
  /** Every file was verified whole (BLAKE3) and handed to the recipient's disk. */
  z.strictObject({ type: z.literal('complete'), transfer: transferIdSchema }),
  /** Either side stops the transfer; `code` from shared/errors.ts, `message` shown as text. */
  z.strictObject({
    type: z.literal('cancel'),
    transfer: transferIdSchema,
    code: errorCodeSchema,
    message: z.string().max(500),
  }),
  /**
   * Pairing by code: the device that made the code sends a fresh random secret (32 bytes)
   * once both people confirmed the verification code and the code-keyed MACs verified.
   */
  z.strictObject({ type: z.literal('pair-secret'), secret: base64Url(43, 43) }),
  /** The other device stored the pairing secret; the sender stores it too. */
  z.strictObject({ type: z.literal('pair-saved') }),
  /** A short text, shown to the recipient as plain text. */
  z.strictObject({ type: z.literal('text'), text: z.string().min(1).max(MAX_TEXT_LENGTH) }),
  /**
   * Share links (client/lib/p2p/share-pull.svelte.ts): the recipient asks the sender's tab
   * for the records of `file` from record `from` on, the same ciphertext the server holds,
   * under the download ticket the server granted it (the sender reports what it sent
   * against it, so the download counts as one from the server would). A new `pull` of a
   * file replaces the one running.
   */
  z.strictObject({
    type: z.literal('pull'),
    file: fileIndexSchema,
    from: z.number().int().min(0).max(MAX_RECORDS),
    ticket: base64Url(43, 43),
  }),
  /** The recipient consumed records [0, next) of `file`: the sender may run ahead of this by its window only. */
  z.strictObject({
    type: z.literal('pull-ack'),
    file: fileIndexSchema,
    next: z.number().int().min(0).max(MAX_RECORDS),
  }),
  /** The recipient no longer wants `file` (cancelled, or it switched to the server). */
  z.strictObject({ type: z.literal('pull-stop'), file: fileIndexSchema }),
  /** The sender cannot serve `file` (no longer holds it, the share ended): the recipient uses the server. */
  z.strictObject({
    type: z.literal('pull-refused'),
    file: fileIndexSchema,
    code: errorCodeSchema,
    message: z.string().max(500),
  }),
]);
export type ControlMessage = z.infer<typeof controlMessageSchema>;
export type ControlMessageOf<T extends ControlMessage['type']> = Extract<ControlMessage, { type: T }>;

export type ParsedControl = { ok: true; message: ControlMessage } | { ok: false; error: string };

/** Parses one text frame of the data channel. */
export function parseControlMessage(text: string): ParsedControl {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, error: 'not JSON' };
  }
  const result = controlMessageSchema.safeParse(json);
  if (result.success) return { ok: true, message: result.data };
  const issue = result.error.issues[0];
  const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
  return { ok: false, error: `${where}${issue?.message ?? 'invalid'}`.slice(0, 200) };
}

/** Serialises a control message (validated, so a bug cannot send what the peer would refuse). */
export function encodeControlMessage(message: ControlMessage): string {
  return JSON.stringify(controlMessageSchema.parse(message));
}

/** One record in a binary frame. */
export interface RecordFrame {
  file: number;
  record: number;
  /** The sealed record (a view into the frame). */
  bytes: Uint8Array<ArrayBuffer>;
}

/**
 * The binary frame carrying record `record` of file `file`. With `into`, the frame is
 * written at its start and a view of it answered: a sender that hands each frame to
 * RTCDataChannel.send (which copies it) before building the next reuses one buffer instead
 * of allocating one per record.
 */
export function encodeRecordFrame(
  file: number,
  record: number,
  sealed: Uint8Array,
  into?: Uint8Array<ArrayBuffer>,
): Uint8Array<ArrayBuffer> {
  if (!Number.isInteger(file) || file < 0 || file >= MAX_FILES) throw new RangeError(`bad file index ${file}`);
  if (!Number.isInteger(record) || record < 0 || record >= MAX_RECORDS) throw new RangeError(`bad record ${record}`);
  const length = FRAME_HEADER_BYTES + sealed.length;
  if (into && into.length < length) throw new RangeError(`a ${length}-byte frame does not fit ${into.length} bytes`);
  const frame = into ? into.subarray(0, length) : new Uint8Array(length);
  const view = new DataView(frame.buffer, frame.byteOffset, length);
  view.setUint8(0, FRAME_VERSION);
  view.setUint8(1, 0);
  view.setUint16(2, file);
  view.setUint32(4, record);
  frame.set(sealed, FRAME_HEADER_BYTES);
  return frame;
}

/** Reads a binary frame's header; null when it is not one of ours (wrong version, too short). */
export function decodeRecordFrame(frame: Uint8Array<ArrayBuffer>): RecordFrame | null {
  if (frame.length <= FRAME_HEADER_BYTES) return null;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (view.getUint8(0) !== FRAME_VERSION || view.getUint8(1) !== 0) return null;
  const file = view.getUint16(2);
  if (file >= MAX_FILES) return null;
  return { file, record: view.getUint32(4), bytes: frame.subarray(FRAME_HEADER_BYTES) };
}
