/**
 * Offers between paired devices that go through the server instead of a data channel
 * (shared/p2p/offline-seal.ts), as the app's nearby.svelte.ts sends and reads them: the
 * transfer's secret sealed under the pairing's offline key, by `relay` (kind `offline`) to
 * the paired device when it is in the pair room, else left in the room's mailbox for when
 * it next comes online; the files wait in the relay share whose id follows from that
 * secret. The answer comes back the same way.
 */
import { fromBase64Url } from '../../shared/encoding.ts';
import { FerryError } from '../../shared/errors.ts';
import { deriveOfflineKey } from '../../shared/keys.ts';
import type { ControlMessageOf } from '../../shared/p2p/frames.ts';
import {
  type OfflineKind,
  type OfflinePayload,
  openOffline,
  sealedOfflineSchema,
  sealOffline,
} from '../../shared/p2p/offline-seal.ts';
import { RELAY_EXPIRY_SECONDS } from '../../shared/p2p/relay.ts';
import { relayManifest } from '../../shared/p2p/relay-read.ts';
import type { StoredPairing } from './device-store.ts';
import type { SignalClient } from './signal-client.ts';

/** How long the server has to answer a `mailbox-put`. */
const MAILBOX_ANSWER_MS = 15_000;

/**
 * Seals `payload` for the paired device and delivers it: by relay when it is in the pair
 * room (answers null), else to the room's mailbox (answers the id the box waits under).
 */
export async function deliverSealed<K extends OfflineKind>(
  signal: SignalClient,
  self: string,
  pairing: StoredPairing,
  kind: K,
  transfer: string,
  payload: OfflinePayload<K>,
): Promise<string | null> {
  if (!pairing.deviceId) {
    throw new FerryError('PEER_NOT_REACHABLE', `${pairing.name} has not been online since the pairing.`);
  }
  const key = await deriveOfflineKey(fromBase64Url(pairing.secret));
  const binding = { room: pairing.room, from: self, to: pairing.deviceId, transfer };
  const sealed = await sealOffline(key, kind, binding, payload);
  const peer = signal.pairRoomPeers(pairing.room).find((p) => p.deviceId === pairing.deviceId);
  if (peer) {
    if (!signal.send({ type: 'relay', to: peer.id, kind: 'offline', data: sealed })) {
      throw new FerryError('NETWORK_ERROR', 'Not connected to the server.');
    }
    return null;
  }
  const stored = signal.next('mailbox-stored', {
    accept: (message) => message.room === pairing.room,
    of: 'mailbox-put',
    timeoutMs: MAILBOX_ANSWER_MS,
    late: new FerryError('NETWORK_ERROR', 'The server did not answer the mailbox request.'),
  });
  const expiresAt = Date.now() + RELAY_EXPIRY_SECONDS * 1000;
  signal.send({ type: 'mailbox-put', room: pairing.room, to: pairing.deviceId, data: sealed, expiresAt });
  return (await stored).id;
}

/** A sealed offer opened: the offer as a data channel would carry it, and who sent it. */
export interface SealedOffer {
  offer: ControlMessageOf<'offer'>;
  senderName: string;
}

/**
 * Opens a sealed offer from the paired device of `pairing` (unknown JSON, by relay or from
 * the mailbox) to this device `self`, and reads its manifest from the relay share. A box
 * that does not open with this pairing is refused (WRONG_KEY); one whose files are gone is
 * refused with a sentence naming the sender.
 */
export async function openSealedOffer(
  server: string,
  self: string,
  pairing: StoredPairing,
  data: unknown,
): Promise<SealedOffer> {
  const key = await deriveOfflineKey(fromBase64Url(pairing.secret));
  const binding = { room: pairing.room, from: pairing.deviceId, to: self };
  const { transfer, payload } = await openOffline(key, 'offer', binding, data);
  const manifest = await relayManifest(fromBase64Url(payload.secret), payload.senderName, server);
  return { offer: { type: 'offer', transfer, secret: payload.secret, manifest }, senderName: payload.senderName };
}

/** What kind of sealed box `data` says it is (checked only once it is opened), or null when it is none. */
export function sealedKind(data: unknown): OfflineKind | null {
  const parsed = sealedOfflineSchema.safeParse(data);
  return parsed.success ? parsed.data.kind : null;
}

/**
 * Opens a sealed answer from the paired device of `pairing` to this device `self`: the
 * transfer it answers and whether it was accepted (WRONG_KEY when it does not open).
 */
export async function openSealedAnswer(
  self: string,
  pairing: StoredPairing,
  data: unknown,
): Promise<{ transfer: string; accept: boolean }> {
  const key = await deriveOfflineKey(fromBase64Url(pairing.secret));
  const binding = { room: pairing.room, from: pairing.deviceId, to: self };
  const opened = await openOffline(key, 'answer', binding, data);
  return { transfer: opened.transfer, accept: opened.payload.accept };
}

/**
 * The paired device's sealed answer to `transfer`, by relay or from the mailbox (when this
 * command rejoined the room); `stop` stops listening. Boxes that do not open are ignored.
 */
export function sealedAnswer(
  signal: SignalClient,
  self: string,
  pairing: StoredPairing,
  transfer: string,
): { answer: Promise<boolean>; stop: () => void } {
  let stop = () => {};
  const answer = new Promise<boolean>((resolve) => {
    const open = async (data: unknown) => {
      const opened = await openSealedAnswer(self, pairing, data);
      if (opened.transfer === transfer) resolve(opened.accept);
    };
    stop = signal.on((message) => {
      const boxes =
        message.type === 'relay' && message.kind === 'offline' && signal.pairRoomOf(message.from) === pairing.room
          ? [message.data]
          : message.type === 'mailbox' && message.room === pairing.room
            ? message.items.map((item) => item.data)
            : [];
      for (const box of boxes) void open(box).catch(() => {});
    });
  });
  return { answer, stop: () => stop() };
}
