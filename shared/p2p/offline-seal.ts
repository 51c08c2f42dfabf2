/**
 * Messages between two paired devices that never got a data channel (ICE failed, or the
 * recipient was not online): they travel through the signaling server (a `relay` to a peer
 * in the pair room, or the room's mailbox), so they are sealed under a key only the two
 * devices hold.
 *
 *   key = HKDF-SHA256(pairing secret, info "ferry/v1 p2p offline")     AES-256-GCM (keys.ts deriveOfflineKey)
 *   aad = "ferry/v1 p2p offline <kind>\n<room>\n<from device>\n<to device>\n<transfer>"
 *   box = base64url(iv (12 random bytes) || AES-GCM(key, iv, aad, JSON payload))
 *
 * The AAD binds the pair room, the direction and the transfer, so the server (which sees
 * the boxes) cannot replay one into another room, turn it back to its sender, move it to
 * another transfer or pass an answer off as an offer: each fails the tag. Room, device ids
 * and transfer ids are restricted to base64url-like characters (shared/signaling.ts,
 * shared/p2p/frames.ts), so the newline-separated AAD is unambiguous.
 *
 * The offer holds the transfer's link secret, never the manifest: the sender puts the
 * sealed manifest on the relay share (whose id, reader token and metadata key follow from
 * that secret), so the box stays small enough for one signaling frame.
 */

import { fromBase64Url, randomBytes, toBase64Url } from '../encoding.ts';
import { FerryError } from '../errors.ts';
import { deviceIdSchema, deviceNameSchema, roomIdSchema } from '../signaling.ts';
import { z } from '../zod.ts';
import { transferIdSchema } from './frames.ts';

/** The AAD's prefix (the same text as the key's HKDF label, by history). */
const AAD_LABEL = 'ferry/v1 p2p offline';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Longest box accepted (base64url characters): far above any payload below, far under a signaling frame. */
export const MAX_OFFLINE_BOX_CHARS = 4096;

const secretSchema = z.string().regex(/^[A-Za-z0-9_-]{22}$/, 'not a link secret');

/** What each kind of sealed message holds once opened. */
const payloadSchemas = {
  /** The sender's files: the transfer's link secret and who sends them. */
  offer: z.strictObject({ secret: secretSchema, senderName: deviceNameSchema }),
  /** The recipient's decision. */
  answer: z.strictObject({ accept: z.boolean() }),
  /** The recipient verified every file from the relay share; the sender may delete it. */
  complete: z.strictObject({}),
} as const;

export type OfflineKind = keyof typeof payloadSchemas;
export type OfflinePayload<K extends OfflineKind> = z.infer<(typeof payloadSchemas)[K]>;

/** Who sends to whom, where, about what: everything the AAD binds. */
export interface OfflineBinding {
  room: string;
  from: string;
  to: string;
  transfer: string;
}

/** A sealed message as it crosses the server (an opaque `relay` / mailbox object). */
export const sealedOfflineSchema = z.strictObject({
  kind: z.enum(['offer', 'answer', 'complete']),
  transfer: transferIdSchema,
  box: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'not base64url')
    .min(Math.ceil(((IV_BYTES + TAG_BYTES) * 4) / 3))
    .max(MAX_OFFLINE_BOX_CHARS),
});
export type SealedOffline = z.infer<typeof sealedOfflineSchema>;

const bindingSchema = z.strictObject({
  room: roomIdSchema.refine((room) => room.startsWith('pair:'), 'not a pair room'),
  from: deviceIdSchema,
  to: deviceIdSchema,
  transfer: transferIdSchema,
});

function aadOf(kind: OfflineKind, binding: OfflineBinding): Uint8Array<ArrayBuffer> {
  const checked = bindingSchema.parse(binding);
  return new TextEncoder().encode(
    `${AAD_LABEL} ${kind}\n${checked.room}\n${checked.from}\n${checked.to}\n${checked.transfer}`,
  );
}

/** Seals `payload` of `kind` from `binding.from` to `binding.to` in `binding.room`. */
export async function sealOffline<K extends OfflineKind>(
  key: CryptoKey,
  kind: K,
  binding: OfflineBinding,
  payload: OfflinePayload<K>,
): Promise<SealedOffline> {
  const plain = new TextEncoder().encode(JSON.stringify(payloadSchemas[kind].parse(payload)));
  const iv = randomBytes(IV_BYTES);
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: aadOf(kind, binding) }, key, plain),
  );
  const box = new Uint8Array(IV_BYTES + sealed.length);
  box.set(iv);
  box.set(sealed, IV_BYTES);
  return { kind, transfer: binding.transfer, box: toBase64Url(box) };
}

/**
 * Opens a sealed message that arrived from outside (unknown JSON). The caller says which
 * kind it expects and the binding it should carry (this room, the other device to this
 * one); anything else, a wrong pairing secret or a changed byte is refused with WRONG_KEY.
 */
export async function openOffline<K extends OfflineKind>(
  key: CryptoKey,
  kind: K,
  binding: Omit<OfflineBinding, 'transfer'>,
  data: unknown,
): Promise<{ transfer: string; payload: OfflinePayload<K> }> {
  const parsed = sealedOfflineSchema.safeParse(data);
  if (!parsed.success) throw new FerryError('INVALID_MESSAGE', 'The paired device sent a message Ferry cannot read.');
  if (parsed.data.kind !== kind) throw refused();
  const bytes = fromBase64Url(parsed.data.box);
  let plain: ArrayBuffer;
  try {
    plain = await crypto.subtle.decrypt(
      {
        name: 'AES-GCM',
        iv: bytes.slice(0, IV_BYTES),
        additionalData: aadOf(kind, { ...binding, transfer: parsed.data.transfer }),
      },
      key,
      bytes.slice(IV_BYTES),
    );
  } catch (cause) {
    throw refused(cause);
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(plain));
  } catch (cause) {
    throw new FerryError('INVALID_MESSAGE', 'The paired device sent a message Ferry cannot read.', { cause });
  }
  const payload = payloadSchemas[kind].safeParse(json);
  if (!payload.success) throw new FerryError('INVALID_MESSAGE', 'The paired device sent a message Ferry cannot read.');
  return { transfer: parsed.data.transfer, payload: payload.data as OfflinePayload<K> };
}

function refused(cause?: unknown): FerryError {
  return new FerryError(
    'WRONG_KEY',
    'This message was not sealed by your paired device for this device, so Ferry refused it.',
    cause === undefined ? undefined : { cause },
  );
}
