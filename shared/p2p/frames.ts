/**
 * What two browsers say to each other over their WebRTC data channel once connected.
 *
 * Two kinds of frame share the one channel:
 *
 * - text frames: one JSON control message, a discriminated union on `type`, parsed with
 *   `parseControlMessage` where it enters (never cast);
 * - binary frames: encrypted records (shared/records.ts, unchanged) behind a header, all
 *   big-endian. Version 1 carries one record:
 *
 *     [u8 1][u8 0][u16 file index][u32 record index][record bytes…]
 *
 *   version 2 carries `count` consecutive records of one file, each with its length:
 *
 *     [u8 2][u8 count][u16 file index][u32 first record index][u32 length × count][records…]
 *
 *   Every message on the channel costs a `message` event and a hand-off to the writer
 *   worker on the recipient, so a nearby sender packs as many records as fit in
 *   min(maxMessageSize, MAX_FRAME_BYTES) (`recordsPerFrame`: three of 64 KiB under
 *   Chromium's 256 KiB, RTCSctpTransport.maxMessageSize). A recipient reads both versions;
 *   a share link's host still sends version 1, one record per frame (so recipients from
 *   before version 2 can still pull). Each page tells the signaling server the highest
 *   version it reads (`hello.frames`, FRAME_VERSION_READ), which nearby and paired devices
 *   see; a sender sends version 2 only to a peer that said so, and version 1 to a page from
 *   before version 2 (which says nothing, and would refuse version 2). A frame of a version
 *   this code does not know is refused with a sentence saying so (`frameRefusal`).
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

import { ERROR_CODES, type ErrorCode, FerryError } from '../errors.ts';
import { MAX_FILES, MAX_MANIFEST_BYTES, MAX_RECORDS } from '../limits.ts';
import { z } from '../zod.ts';

/** The binary frame versions this code reads (see above). */
export const FRAME_V1 = 1;
export const FRAME_V2 = 2;
/** The highest of them: what a page tells the signaling server it reads (`hello.frames`). */
export const FRAME_VERSION_READ = FRAME_V2;
/** Bytes of a binary frame's fixed header (both versions); v2 adds FRAME_LENGTH_BYTES per record. */
export const FRAME_HEADER_BYTES = 8;
/** Bytes of each record's length in a v2 frame. */
export const FRAME_LENGTH_BYTES = 4;
/** Records in one v2 frame, at most. */
export const MAX_FRAME_RECORDS = 16;
/** A sender's frames stay within this even when the channel takes larger messages. */
export const MAX_FRAME_BYTES = 256 * 1024;
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
  /** Verification code: the offerer's commitment to its nonce, sent first (shared/p2p/auth.ts). */
  z.strictObject({ type: z.literal('code-commit'), commit: base64Url(43, 43) }),
  /** Verification code: a side's 32-byte nonce (the answerer's answers the commitment; then the offerer's). */
  z.strictObject({ type: z.literal('code-nonce'), nonce: base64Url(43, 43) }),
  /** MAC mode: HMAC-SHA256 over both DTLS fingerprints and the sender's role (shared/p2p/auth.ts). */
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

/** The error that ends a connection on a text frame that is not a control message. */
export function unreadableControl(failure: Extract<ParsedControl, { ok: false }>): FerryError {
  return new FerryError(
    'INVALID_MESSAGE',
    `The other device sent a message Ferry does not understand (${failure.error}).`,
  );
}

/** Serialises a control message (validated, so a bug cannot send what the peer would refuse). */
export function encodeControlMessage(message: ControlMessage): string {
  return JSON.stringify(controlMessageSchema.parse(message));
}

/** One record of a binary frame. */
export interface RecordFrame {
  file: number;
  record: number;
  /** The sealed record (a view into the frame). */
  bytes: Uint8Array<ArrayBuffer>;
}

/** A binary frame read: `records` are views into it, records first, first + 1, … of `file`. */
export type DecodedFrame =
  | { ok: true; file: number; first: number; records: Uint8Array<ArrayBuffer>[] }
  /** `version`: set when the frame is of a version this code does not read. */
  | { ok: false; error: string; version: number | null };

function checkIndices(file: number, first: number, count: number): void {
  if (!Number.isInteger(file) || file < 0 || file >= MAX_FILES) throw new RangeError(`bad file index ${file}`);
  if (!Number.isInteger(first) || first < 0 || first + count > MAX_RECORDS) throw new RangeError(`bad record ${first}`);
}

/** Where a frame is written: at the start of `into` when given (it must be large enough), else fresh. */
function frameBuffer(length: number, into?: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  if (into && into.length < length) throw new RangeError(`a ${length}-byte frame does not fit ${into.length} bytes`);
  return into ? into.subarray(0, length) : new Uint8Array(length);
}

/**
 * A sealed record as a sender holds it: one array, or its parts in order (an AEAD's
 * ciphertext and tag, record-aead.ts), copied into the frame one after the other.
 */
export type SealedRecord = Uint8Array | readonly Uint8Array[];

function sealedLength(record: SealedRecord): number {
  return record instanceof Uint8Array ? record.length : record.reduce((sum, part) => sum + part.length, 0);
}

/** Copies `record` into `frame` at `at`; answers the offset after it. */
function writeSealed(frame: Uint8Array, record: SealedRecord, at: number): number {
  for (const part of record instanceof Uint8Array ? [record] : record) {
    frame.set(part, at);
    at += part.length;
  }
  return at;
}

/**
 * The version 1 frame carrying record `record` of file `file` (a share link's host sends
 * these). With `into`, the frame is written at its start and a view of it answered: a
 * sender that hands each frame to RTCDataChannel.send (which copies it) before building
 * the next reuses one buffer instead of allocating one per frame.
 */
export function encodeRecordFrame(
  file: number,
  record: number,
  sealed: SealedRecord,
  into?: Uint8Array<ArrayBuffer>,
): Uint8Array<ArrayBuffer> {
  checkIndices(file, record, 1);
  const frame = frameBuffer(FRAME_HEADER_BYTES + sealedLength(sealed), into);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  view.setUint8(0, FRAME_V1);
  view.setUint8(1, 0);
  view.setUint16(2, file);
  view.setUint32(4, record);
  writeSealed(frame, sealed, FRAME_HEADER_BYTES);
  return frame;
}

/** The version 2 frame carrying records first, first + 1, … of file `file`; `into` as for encodeRecordFrame. */
export function encodeRecordsFrame(
  file: number,
  first: number,
  sealed: readonly SealedRecord[],
  into?: Uint8Array<ArrayBuffer>,
): Uint8Array<ArrayBuffer> {
  const count = sealed.length;
  if (count < 1 || count > MAX_FRAME_RECORDS) throw new RangeError(`${count} records do not make a frame`);
  checkIndices(file, first, count);
  const lengths = sealed.map(sealedLength);
  if (lengths.includes(0)) throw new RangeError('an empty record');
  const head = FRAME_HEADER_BYTES + FRAME_LENGTH_BYTES * count;
  const frame = frameBuffer(head + lengths.reduce((sum, length) => sum + length, 0), into);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  view.setUint8(0, FRAME_V2);
  view.setUint8(1, count);
  view.setUint16(2, file);
  view.setUint32(4, first);
  let at = head;
  for (const [i, record] of sealed.entries()) {
    view.setUint32(FRAME_HEADER_BYTES + FRAME_LENGTH_BYTES * i, lengths[i]!);
    at = writeSealed(frame, record, at);
  }
  return frame;
}

/**
 * How many sealed records of up to `sealedRecordBytes` a v2 frame holds within
 * min(maxMessageSize, MAX_FRAME_BYTES); 0 when not even one fits.
 */
export function recordsPerFrame(sealedRecordBytes: number, maxMessageSize: number): number {
  const room = Math.min(maxMessageSize, MAX_FRAME_BYTES) - FRAME_HEADER_BYTES;
  const fit = Math.floor(room / (sealedRecordBytes + FRAME_LENGTH_BYTES));
  return Math.max(0, Math.min(MAX_FRAME_RECORDS, fit));
}

/**
 * Reads a binary frame of either version. Refused: a frame too short for its header, an
 * unknown version, a nonzero reserved byte (v1), a count outside 1..MAX_FRAME_RECORDS, a
 * file index of MAX_FILES or more, record indices past MAX_RECORDS, an empty record, and
 * lengths that do not add up to exactly the bytes after the header (v2).
 */
export function decodeFrame(frame: Uint8Array<ArrayBuffer>): DecodedFrame {
  const bad = (error: string): DecodedFrame => ({ ok: false, error, version: null });
  if (frame.length < FRAME_HEADER_BYTES) return bad(`a ${frame.length}-byte frame`);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const version = view.getUint8(0);
  if (version !== FRAME_V1 && version !== FRAME_V2) return { ok: false, error: `frame version ${version}`, version };
  const file = view.getUint16(2);
  const first = view.getUint32(4);
  if (file >= MAX_FILES) return bad(`file index ${file}`);
  if (version === FRAME_V1) {
    if (view.getUint8(1) !== 0) return bad('a reserved byte is set');
    if (frame.length === FRAME_HEADER_BYTES) return bad('an empty record');
    if (first >= MAX_RECORDS) return bad(`record ${first}`);
    return { ok: true, file, first, records: [frame.subarray(FRAME_HEADER_BYTES)] };
  }
  const count = view.getUint8(1);
  if (count < 1 || count > MAX_FRAME_RECORDS) return bad(`${count} records in a frame`);
  if (first + count > MAX_RECORDS) return bad(`records ${first} to ${first + count - 1}`);
  const head = FRAME_HEADER_BYTES + FRAME_LENGTH_BYTES * count;
  if (frame.length < head) return bad(`a ${frame.length}-byte frame of ${count} records`);
  const records: Uint8Array<ArrayBuffer>[] = [];
  let at = head;
  for (let i = 0; i < count; i++) {
    const length = view.getUint32(FRAME_HEADER_BYTES + FRAME_LENGTH_BYTES * i);
    if (length === 0) return bad('an empty record');
    if (length > frame.length - at) return bad('record lengths past the end of the frame');
    records.push(frame.subarray(at, at + length));
    at += length;
  }
  if (at !== frame.length) return bad(`${frame.length - at} bytes after the last record`);
  return { ok: true, file, first, records };
}

/** What a recipient says when it refuses a frame decodeFrame could not read. */
export function frameRefusal(failure: Extract<DecodedFrame, { ok: false }>): FerryError {
  return failure.version === null
    ? new FerryError('INVALID_MESSAGE', `The other device sent data that is not valid (${failure.error}).`)
    : new FerryError(
        'INVALID_MESSAGE',
        `The other device sends data in a format this version of Ferry does not read (${failure.error}). Reload Ferry on both devices.`,
      );
}
