/**
 * What direct transfers keep in the state directory (cli/state.ts), readable by the user
 * only:
 *
 *   device.json     this machine as a device: its random id (told to paired devices, as a
 *                   browser's IndexedDB keeps one) and the name others see
 *   pairings.json   the devices paired with `ferry pair`: pair room, room token, the other
 *                   device's id and name, and the pairing secret that keys every later
 *                   connection's MAC (shared/p2p/handshake.ts); the server never sees it
 */
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { toBase64Url } from '../../shared/encoding.ts';
import { FerryError } from '../../shared/errors.ts';
import { deviceIdSchema, deviceNameSchema, roomIdSchema } from '../../shared/signaling.ts';
import { z } from '../../shared/zod.ts';
import { stateDir, writePrivate } from '../state.ts';
import type { DeviceIdentity } from './signal-client.ts';

const deviceSchema = z.object({ id: deviceIdSchema, name: deviceNameSchema });

const pairingSchema = z.object({
  room: roomIdSchema,
  roomToken: z.string(),
  /** The other device's id ('' when it had not said one). */
  deviceId: z.string(),
  name: z.string(),
  /** base64url pairing secret. */
  secret: z.string(),
  createdAt: z.number(),
});
export type StoredPairing = z.infer<typeof pairingSchema>;

const deviceFile = () => path.join(stateDir(), 'device.json');
const pairingsFile = () => path.join(stateDir(), 'pairings.json');

async function readJson(file: string): Promise<unknown> {
  const text = await readFile(file, 'utf8').catch(() => null);
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** This machine as a device, made on first use; `name` (from --name) renames it. */
export async function deviceIdentity(name?: string): Promise<DeviceIdentity> {
  const stored = deviceSchema.safeParse(await readJson(deviceFile()));
  let device: DeviceIdentity = stored.success
    ? stored.data
    : { id: toBase64Url(crypto.getRandomValues(new Uint8Array(16))), name: defaultName() };
  if (name !== undefined) {
    const checked = deviceNameSchema.safeParse(name);
    if (!checked.success) throw new FerryError('BAD_REQUEST', `--name ${JSON.stringify(name)} is not a device name.`);
    device = { ...device, name: checked.data };
  }
  if (!stored.success || stored.data.name !== device.name) await writePrivate(deviceFile(), device);
  return device;
}

/** The host's name as a device name (a valid one, whatever the host is called). */
function defaultName(): string {
  const parsed = deviceNameSchema.safeParse(`ferry on ${hostname()}`.slice(0, 64));
  return parsed.success ? parsed.data : 'ferry';
}

/** Remembered pairings, oldest first. */
export async function listPairings(): Promise<StoredPairing[]> {
  const parsed = z.array(pairingSchema).safeParse(await readJson(pairingsFile()));
  return parsed.success ? parsed.data : [];
}

/** Remembers a pairing (replacing one of the same room). */
export async function putPairing(pairing: StoredPairing): Promise<void> {
  const others = (await listPairings()).filter((p) => p.room !== pairing.room);
  await writePrivate(pairingsFile(), [...others, pairing]);
}

/** Forgets the pairing of `room`. */
export async function deletePairing(room: string): Promise<void> {
  await writePrivate(
    pairingsFile(),
    (await listPairings()).filter((p) => p.room !== room),
  );
}

/**
 * The paired device `name` names: its device name (case-insensitive), or the start of its
 * device id. Throws BAD_REQUEST naming the choices when none or several match.
 */
export function pairingNamed(pairings: readonly StoredPairing[], name: string): StoredPairing | null {
  const wanted = name.trim().toLowerCase();
  const matches = pairings.filter(
    (p) => p.name.toLowerCase() === wanted || (wanted.length >= 4 && p.deviceId.toLowerCase().startsWith(wanted)),
  );
  if (matches.length > 1) {
    throw new FerryError('BAD_REQUEST', `${matches.length} paired devices are called ${name}: name one by its id.`);
  }
  return matches[0] ?? null;
}
