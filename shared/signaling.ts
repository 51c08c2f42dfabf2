/**
 * The signaling protocol between the browser and the server's WebSocket at /signal: every
 * frame is one JSON text message, a discriminated union on `type`. The server parses each
 * client message with `clientMessageSchema` where it enters; the client parses each server
 * message with `serverMessageSchema`. The server never reads `relay` data: SDP, ICE
 * candidates and app messages pass through it opaque, only between peers sharing a room.
 */

import { shareIdSchema, tokenSchema } from './api.ts';
import { ERROR_CODES, type ErrorCode } from './errors.ts';
import { z } from './zod.ts';

/** The WebSocket path on the Ferry server. */
export const SIGNAL_PATH = '/signal';
/**
 * Query of a connection that is not a device to send to (a page that only pulls a share
 * link's records): the server keeps it out of its network room, so nobody nearby sees a
 * tile for it.
 */
export const UNLISTED_QUERY = 'nearby=0';
/** Largest frame either side sends; the server closes a connection that sends more (1009). */
export const MAX_SIGNAL_MESSAGE_BYTES = 64 * 1024;
export const MAX_DEVICE_NAME_LENGTH = 64;
export const PAIR_CODE_DIGITS = 6;
/** A pairing code is good for this long, and for one use. */
export const PAIR_CODE_TTL_MS = 10 * 60 * 1000;

/** WebSocket close codes the server uses (RFC 6455 §7.4.1). */
export const CLOSE_CODES = {
  /** Server shutting down. */
  GOING_AWAY: 1001,
  /** Not valid UTF-8 text (ws closes on its own). */
  INVALID_DATA: 1007,
  /** Kept flooding after RATE_LIMITED answers. */
  POLICY_VIOLATION: 1008,
  /** A frame larger than MAX_SIGNAL_MESSAGE_BYTES (ws closes on its own). */
  MESSAGE_TOO_BIG: 1009,
  /** An engine the server needs (Redis, Postgres) is away: reconnect later. */
  TRY_AGAIN_LATER: 1013,
} as const;

/**
 * What `relay` may carry. `signal`: SDP offers/answers and ICE candidates (WebRTC);
 * `pair-auth`: the clients' own proof over their DTLS fingerprints, keyed from the pairing
 * code (the server never learns the key); `share-signal`: SDP and ICE between a share's
 * sender and a recipient in `share:<id>` (kept apart from nearby devices' `signal`);
 * `offline`: a paired device's sealed offer, answer or completion of a transfer sent through
 * the relay share because no data channel opened (shared/p2p/offline-seal.ts); the
 * rest: the app's offer/answer of files.
 */
export const RELAY_KINDS = [
  'signal',
  'pair-auth',
  'offer-files',
  'answer-files',
  'cancel',
  'share-signal',
  'offline',
] as const;
export type RelayKind = (typeof RELAY_KINDS)[number];

export const peerIdSchema = z.string().regex(/^[A-Za-z0-9_-]{16}$/, 'not a peer id');
/** Kept by the client (IndexedDB) so paired devices recognise each other after reconnects. */
export const deviceIdSchema = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, 'not a device id');
export const pairCodeSchema = z.string().regex(new RegExp(`^[0-9]{${PAIR_CODE_DIGITS}}$`), 'not a pairing code');
export const roomIdSchema = z.string().regex(/^(network|pair|share):[A-Za-z0-9_-]{16,43}$/, 'not a room id');
/** Names one box the server keeps in a pair room's mailbox (`mailbox-stored`), to withdraw it. */
export const mailboxIdSchema = z.string().regex(/^[A-Za-z0-9_-]{16}$/, 'not a mailbox id');
export const roomKindSchema = z.enum(['network', 'pair', 'share']);
export type RoomKind = z.infer<typeof roomKindSchema>;
export const shareRoleSchema = z.enum(['owner', 'reader']);
export type ShareRole = z.infer<typeof shareRoleSchema>;

// C0/C1 controls and bidi overrides: a device name is shown to other people as plain text.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
export const deviceNameSchema = z
  .string()
  .trim()
  .min(1)
  .max(MAX_DEVICE_NAME_LENGTH)
  .refine((name) => !UNPRINTABLE.test(name), 'control or bidi characters');

/** An opaque JSON object, relayed as it is (its size is bounded by the frame limit). */
const opaqueSchema = z.record(z.string(), z.unknown());

// ── client → server ────────────────────────────────────────────────────────────────────────

/**
 * The highest binary frame version of the data channel (shared/p2p/frames.ts) a page reads. Pages
 * from before version 2 do not say it, so a sender treats its absence as 1 and sends them
 * version 1 frames, which every version reads.
 */
const frameVersionSchema = z.number().int().min(1).max(255);

export const clientMessageSchema = z.discriminatedUnion('type', [
  /** Names this device; may be sent again to rename. Peers in shared rooms get `peer-updated`. */
  z.strictObject({
    type: z.literal('hello'),
    deviceName: deviceNameSchema.optional(),
    deviceId: deviceIdSchema.optional(),
    frames: frameVersionSchema.optional(),
  }),
  /** Application-level keep-alive; answered with `pong`. */
  z.strictObject({ type: z.literal('ping') }),
  /** Asks for a pairing code; answered with `pair-code`. */
  z.strictObject({ type: z.literal('pair-create') }),
  /** Enters another device's code; both get `paired`. */
  z.strictObject({ type: z.literal('pair-join'), code: pairCodeSchema }),
  /** Rejoins a remembered pair room with the token from `paired`; answered with `room`. */
  z.strictObject({ type: z.literal('pair-rejoin'), room: roomIdSchema, roomToken: tokenSchema }),
  /** Joins `share:<id>` with the reader token, or the owner token as its sender; answered with `room`. */
  z.strictObject({ type: z.literal('share-join'), shareId: shareIdSchema, role: shareRoleSchema, token: tokenSchema }),
  /** Leaves a pair or share room (the network room is left only by disconnecting). */
  z.strictObject({ type: z.literal('leave'), room: roomIdSchema }),
  /** Sends `data` to a peer that shares a room with this one. */
  z.strictObject({ type: z.literal('relay'), to: peerIdSchema, kind: z.enum(RELAY_KINDS), data: opaqueSchema }),
  /**
   * Leaves a sealed box in pair room `room` (this peer must be in it) for the device `to`,
   * handed to it at once if it is there, otherwise when it rejoins; kept until `expiresAt`
   * (ms since the epoch, at most a day). Answered with `mailbox-stored`.
   */
  z.strictObject({
    type: z.literal('mailbox-put'),
    room: roomIdSchema,
    to: deviceIdSchema,
    data: opaqueSchema,
    expiresAt: z.number().int().positive(),
  }),
  /**
   * Takes back box `id` (from `mailbox-stored`) that this device left in pair room `room`
   * (this peer must be in it), unless the other device already took it. Answered with
   * `mailbox-withdrawn`.
   */
  z.strictObject({ type: z.literal('mailbox-withdraw'), room: roomIdSchema, id: mailboxIdSchema }),
]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;
export type ClientMessageType = ClientMessage['type'];

// ── server → client ────────────────────────────────────────────────────────────────────────

export const iceServerSchema = z.object({
  urls: z.array(z.string()).min(1),
  username: z.string().optional(),
  credential: z.string().optional(),
});
export type IceServer = z.infer<typeof iceServerSchema>;

/** RTCConfiguration.iceTransportPolicy: `relay` uses TURN candidates only. */
export const ICE_TRANSPORT_POLICIES = ['all', 'relay'] as const;
export type IceTransportPolicy = (typeof ICE_TRANSPORT_POLICIES)[number];

/** `GET /api/ice`, and part of `welcome`: RTCConfiguration.iceServers and iceTransportPolicy. */
export const iceConfigSchema = z.object({
  iceServers: z.array(iceServerSchema),
  /** Absent from older servers: `all`. */
  iceTransportPolicy: z.enum(ICE_TRANSPORT_POLICIES).default('all'),
  /** When TURN credentials stop working (ms since the epoch); null without TURN. */
  expiresAt: z.number().int().nullable(),
});
export type IceConfig = z.infer<typeof iceConfigSchema>;

/** Another peer as seen from a room. `deviceId` only in pair rooms, `role` only in share rooms. */
export const roomPeerSchema = z.object({
  id: peerIdSchema,
  /** Generated by the server ("Amber Otter"); stable for the connection. */
  name: z.string(),
  deviceName: z.string().nullable(),
  deviceId: deviceIdSchema.nullable().optional(),
  role: shareRoleSchema.optional(),
  /** The highest data-channel frame version it reads, as its `hello` said; absent: 1. */
  frames: frameVersionSchema.optional(),
});
export type RoomPeer = z.infer<typeof roomPeerSchema>;

const errorCodeSchema = z.string().refine((code): code is ErrorCode => Object.hasOwn(ERROR_CODES, code));

export const serverMessageSchema = z.discriminatedUnion('type', [
  /** First message of every connection. The peer is already in `network` (same public address). */
  z.object({
    type: z.literal('welcome'),
    peerId: peerIdSchema,
    name: z.string(),
    network: roomIdSchema,
    ice: iceConfigSchema,
  }),
  z.object({ type: z.literal('pong') }),
  /** This peer joined `room`; `peers` are the others already in it. */
  z.object({ type: z.literal('room'), room: roomIdSchema, kind: roomKindSchema, peers: z.array(roomPeerSchema) }),
  z.object({ type: z.literal('peer-joined'), room: roomIdSchema, peer: roomPeerSchema }),
  z.object({ type: z.literal('peer-updated'), room: roomIdSchema, peer: roomPeerSchema }),
  z.object({ type: z.literal('peer-left'), room: roomIdSchema, peerId: peerIdSchema }),
  z.object({ type: z.literal('pair-code'), code: pairCodeSchema, expiresAt: z.number().int() }),
  /**
   * Both devices are in `room`. Keep `room` and `roomToken` with the other's device id to
   * rejoin later with `pair-rejoin`. The server keeps only the token's hash.
   */
  z.object({
    type: z.literal('paired'),
    room: roomIdSchema,
    roomToken: tokenSchema,
    peers: z.array(roomPeerSchema),
  }),
  z.object({ type: z.literal('relay'), from: peerIdSchema, kind: z.enum(RELAY_KINDS), data: opaqueSchema }),
  /** Boxes the other device of pair room `room` left for this one (`mailbox-put`), oldest first. */
  z.object({
    type: z.literal('mailbox'),
    room: roomIdSchema,
    items: z.array(z.object({ from: deviceIdSchema, data: opaqueSchema })),
  }),
  /**
   * The box of the last `mailbox-put` was kept: `delivered`, the device was there and got it
   * at once (`id` null); otherwise it waits as `id`, which `mailbox-withdraw` names.
   */
  z.object({
    type: z.literal('mailbox-stored'),
    room: roomIdSchema,
    delivered: z.boolean(),
    id: mailboxIdSchema.nullable(),
  }),
  /**
   * Answer to `mailbox-withdraw`: `withdrawn` false when box `id` was no longer waiting (the
   * other device took it, it expired, or this device did not leave it).
   */
  z.object({ type: z.literal('mailbox-withdrawn'), room: roomIdSchema, id: mailboxIdSchema, withdrawn: z.boolean() }),
  /** `of`: the type of the message refused, when it was readable. */
  z.object({ type: z.literal('error'), code: errorCodeSchema, message: z.string(), of: z.string().optional() }),
]);
export type ServerMessage = z.infer<typeof serverMessageSchema>;
export type ServerMessageOf<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

/** A parse result: the message, or why it is not one (never a cast of untrusted JSON). */
export type Parsed<T> = { ok: true; message: T } | { ok: false; error: string; type?: string };

/** Parses one text frame into a client message. */
export function parseClientMessage(text: string): Parsed<ClientMessage> {
  return parseWith(clientMessageSchema, text);
}

/** Parses one text frame into a server message. */
export function parseServerMessage(text: string): Parsed<ServerMessage> {
  return parseWith(serverMessageSchema, text);
}

/** The `type` a frame names (at most 32 characters), or undefined when it is not JSON or names none. */
export function namedType(text: string): string | undefined {
  try {
    return typeOf(JSON.parse(text));
  } catch {
    return undefined;
  }
}

function typeOf(json: unknown): string | undefined {
  return typeof json === 'object' && json !== null && typeof (json as { type?: unknown }).type === 'string'
    ? (json as { type: string }).type.slice(0, 32)
    : undefined;
}

function parseWith<T>(schema: z.ZodType<T>, text: string): Parsed<T> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, error: 'not JSON' };
  }
  const type = typeOf(json);
  const result = schema.safeParse(json);
  if (result.success) return { ok: true, message: result.data };
  const issue = result.error.issues[0];
  const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
  return { ok: false, error: `${where}${issue?.message ?? 'invalid'}`.slice(0, 200), ...(type && { type }) };
}
