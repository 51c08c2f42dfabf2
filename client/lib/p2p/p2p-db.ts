/**
 * The browser-to-browser side's own small IndexedDB (`ferry-p2p`), apart from the send
 * side's `ferry` database so neither schema waits on the other:
 *
 * - `device`: this device's random id and the name others see (sent in `hello`), picked
 *   once ("Azure Crane") and kept until the person renames it;
 * - `progress`: per transfer and file, how many records the recipient has verified, on
 *   both sides, so a later version can resume an interrupted transfer where it stopped;
 * - `pairings` (version 2): devices paired by code, one per pair room, with the room token
 *   that rejoins the room and the 256-bit secret that keys the MAC check (shared/p2p/auth.ts) of every
 *   later connection between the two;
 * - `sent` (version 3): offers of files sent through the relay to a paired device, until it
 *   answers or the relay share expires, so a tab opened later still hears the answer
 *   (sent-offers.svelte.ts).
 */
import { type DBSchema, type IDBPDatabase, openDB } from 'idb';
import { randomDisplayName } from '../../../shared/display-name.ts';
import { toBase64Url } from '../../../shared/encoding.ts';
import { FerryError } from '../../../shared/errors.ts';
import { deviceNameSchema, MAX_DEVICE_NAME_LENGTH } from '../../../shared/signaling.ts';

export const P2P_DB_NAME = 'ferry-p2p';
const P2P_DB_VERSION = 3;

export interface DeviceIdentity {
  id: string;
  name: string;
}

export interface FileProgress {
  transfer: string;
  file: number;
  /** Records [0, verified) are verified on the recipient. */
  verified: number;
  records: number;
  role: 'sender' | 'recipient';
  updatedAt: number;
}

/** A remembered pairing with another device (pairings.svelte.ts). */
export interface Pairing {
  /** The pair room (`pair:…`), also the key. */
  room: string;
  /** The token that rejoins it (`pair-rejoin`). */
  roomToken: string;
  /** The other device's id and the name to show for it. */
  deviceId: string;
  name: string;
  /** 32 random bytes, base64url: the MAC key's input for every later connection. */
  secret: string;
  createdAt: number;
  lastSeen: number;
}

/** An offer sent through the relay share to a paired device, not answered yet (sent-offers.svelte.ts). */
export interface SentOffer {
  /** The transfer id the sealed answer names; also the key. */
  transfer: string;
  /** The pair room of the device it went to, and the name shown for that device. */
  room: string;
  peerName: string;
  files: { name: string; size: number }[];
  sentAt: number;
  /** When the relay share (and the mailbox box) expires, ms since the epoch. */
  expiresAt: number;
  /** The relay share and its owner token, to revoke it once answered. */
  shareId: string;
  ownerToken: string;
  /**
   * The id its sealed box waits under in the pair room's mailbox, which withdraws it; null
   * (or absent, from before) when the box went to the device at once, or it took it since.
   */
  mailbox?: string | null;
  /** When the sender withdrew it (box taken back, share revoked); kept till `expiresAt` to say so. */
  withdrawnAt?: number;
}

interface P2pSchema extends DBSchema {
  device: { key: 'self'; value: DeviceIdentity };
  progress: { key: [string, number]; value: FileProgress };
  pairings: { key: string; value: Pairing };
  sent: { key: string; value: SentOffer };
}

let db: Promise<IDBPDatabase<P2pSchema>> | undefined;

function open(): Promise<IDBPDatabase<P2pSchema>> {
  db ??= openDB<P2pSchema>(P2P_DB_NAME, P2P_DB_VERSION, {
    upgrade(database, oldVersion) {
      if (oldVersion < 1) {
        database.createObjectStore('device');
        database.createObjectStore('progress', { keyPath: ['transfer', 'file'] });
      }
      // Version 2 only adds a store: `device` and `progress` keep what they hold.
      if (oldVersion < 2) database.createObjectStore('pairings', { keyPath: 'room' });
      if (oldVersion < 3) database.createObjectStore('sent', { keyPath: 'transfer' });
    },
  });
  return db;
}

/**
 * "Chrome on Linux": the name pages before kept names gave every device until the user
 * picked one; two Chromes on Linux were indistinguishable, so a device still called that
 * gets a name of its own once (`deviceIdentity`).
 */
export function defaultDeviceName(userAgent: string): string {
  const browser = /Edg\//.test(userAgent)
    ? 'Edge'
    : /Firefox\//.test(userAgent)
      ? 'Firefox'
      : /Chrome\/|Chromium\//.test(userAgent)
        ? 'Chrome'
        : /Safari\//.test(userAgent)
          ? 'Safari'
          : 'Browser';
  const os = /Android/.test(userAgent)
    ? 'Android'
    : /iPhone|iPad/.test(userAgent)
      ? 'iOS'
      : /Mac OS X/.test(userAgent)
        ? 'macOS'
        : /Windows/.test(userAgent)
          ? 'Windows'
          : /Linux|X11/.test(userAgent)
            ? 'Linux'
            : 'this device';
  return `${browser} on ${os}`;
}

/**
 * This device's id and name, created on first use: a random name ("Azure Crane") it keeps
 * on every visit, so the tiles other devices show for it (and their pairings) keep it too.
 */
export async function deviceIdentity(): Promise<DeviceIdentity> {
  const database = await open();
  const stored = await database.get('device', 'self');
  if (stored && stored.name !== defaultDeviceName(navigator.userAgent)) return stored;
  const identity = {
    id: stored?.id ?? toBase64Url(crypto.getRandomValues(new Uint8Array(16))),
    name: randomDisplayName(),
  };
  await database.put('device', identity, 'self');
  return identity;
}

/** Renames this device; a name the server would refuse throws BAD_REQUEST with a sentence. */
export async function renameDevice(name: string): Promise<DeviceIdentity> {
  const parsed = deviceNameSchema.safeParse(name);
  if (!parsed.success) {
    throw new FerryError(
      'BAD_REQUEST',
      `A device name is 1 to ${MAX_DEVICE_NAME_LENGTH} characters, without control characters.`,
    );
  }
  const database = await open();
  const identity = { ...(await deviceIdentity()), name: parsed.data };
  await database.put('device', identity, 'self');
  return identity;
}

/** Remembers how far a file got (called at each acknowledgement). */
export async function putProgress(progress: FileProgress): Promise<void> {
  await (await open()).put('progress', progress);
}

/** A file's progress is written at most this often, and always once the file is complete. */
export const PROGRESS_EVERY_MS = 1000;

/**
 * Remembers how far each file of one transfer got without an IndexedDB write at every
 * acknowledgement (one per 2 MiB on each side): a file's progress is written when
 * PROGRESS_EVERY_MS passed since its last write, when it is the file's first, or when the
 * file is complete. Failed writes are ignored (the progress is a hint for a later resume).
 */
export class ProgressLog {
  readonly #written = new Map<number, number>();
  readonly #put: (progress: FileProgress) => Promise<void>;
  readonly #now: () => number;

  constructor(put: (progress: FileProgress) => Promise<void> = putProgress, now: () => number = Date.now) {
    this.#put = put;
    this.#now = now;
  }

  note(progress: Omit<FileProgress, 'updatedAt'>): void {
    const now = this.#now();
    const last = this.#written.get(progress.file);
    if (progress.verified < progress.records && last !== undefined && now - last < PROGRESS_EVERY_MS) return;
    this.#written.set(progress.file, now);
    this.#put({ ...progress, updatedAt: now }).catch(() => {});
  }
}

/** How far a file of a transfer got, if anything was recorded. */
export async function getProgress(transfer: string, file: number): Promise<FileProgress | undefined> {
  return (await open()).get('progress', [transfer, file]);
}

/** Forgets a finished or abandoned transfer. */
export async function deleteProgress(transfer: string): Promise<void> {
  const database = await open();
  const range = IDBKeyRange.bound([transfer, 0], [transfer, Number.MAX_SAFE_INTEGER]);
  await database.delete('progress', range);
}

/** Every remembered pairing, oldest first. */
export async function listPairings(): Promise<Pairing[]> {
  const all = await (await open()).getAll('pairings');
  return all.sort((a, b) => a.createdAt - b.createdAt);
}

/** Remembers a pairing, or updates it (name, lastSeen). */
export async function putPairing(pairing: Pairing): Promise<void> {
  await (await open()).put('pairings', pairing);
}

/** Forgets a pairing. */
export async function deletePairing(room: string): Promise<void> {
  await (await open()).delete('pairings', room);
}

/** Every offer sent through the relay that is still waiting for its answer. */
export async function listSentOffers(): Promise<SentOffer[]> {
  return (await open()).getAll('sent');
}

/** Remembers an offer sent through the relay until it is answered or expires. */
export async function putSentOffer(offer: SentOffer): Promise<void> {
  await (await open()).put('sent', offer);
}

/** Forgets an answered, expired or withdrawn offer. */
export async function deleteSentOffer(transfer: string): Promise<void> {
  await (await open()).delete('sent', transfer);
}
