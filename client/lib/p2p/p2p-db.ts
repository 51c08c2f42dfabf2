/**
 * The browser-to-browser side's own small IndexedDB (`ferry-p2p`), apart from the send
 * side's `ferry` database so neither schema waits on the other:
 *
 * - `device`: this device's random id and the name others see (sent in `hello`);
 * - `progress`: per transfer and file, how many records the recipient has verified, on
 *   both sides, so a later version can resume an interrupted transfer where it stopped;
 * - `pairings` (version 2): devices paired by code, one per pair room, with the room token
 *   that rejoins the room and the 256-bit secret that keys the MAC check (auth.ts) of every
 *   later connection between the two.
 */
import { type DBSchema, type IDBPDatabase, openDB } from 'idb';
import { toBase64Url } from '../../../shared/encoding.ts';
import { deviceNameSchema } from '../../../shared/signaling.ts';

export const P2P_DB_NAME = 'ferry-p2p';
const P2P_DB_VERSION = 2;

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

interface P2pSchema extends DBSchema {
  device: { key: 'self'; value: DeviceIdentity };
  progress: { key: [string, number]; value: FileProgress };
  pairings: { key: string; value: Pairing };
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
    },
  });
  return db;
}

/** "Chrome on Linux": a first name for this device until the user picks one. */
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

/** This device's id and name, created on first use. */
export async function deviceIdentity(): Promise<DeviceIdentity> {
  const database = await open();
  const stored = await database.get('device', 'self');
  if (stored) return stored;
  const identity = {
    id: toBase64Url(crypto.getRandomValues(new Uint8Array(16))),
    name: deviceNameSchema.parse(defaultDeviceName(navigator.userAgent)),
  };
  await database.put('device', identity, 'self');
  return identity;
}

/** Renames this device; throws when the name would be refused by the server. */
export async function renameDevice(name: string): Promise<DeviceIdentity> {
  const database = await open();
  const identity = { ...(await deviceIdentity()), name: deviceNameSchema.parse(name) };
  await database.put('device', identity, 'self');
  return identity;
}

/** Remembers how far a file got (called at each acknowledgement). */
export async function putProgress(progress: FileProgress): Promise<void> {
  await (await open()).put('progress', progress);
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
