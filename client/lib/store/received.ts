/**
 * The `received` store: files this browser received, verified or failed, for the history.
 * An entry names the file and where it came from (a share link's origin and id, or a
 * nearby device's name) and never keeps a key, a link fragment or a token, so it may
 * outlive the share it came from.
 */
import { z } from '../../../shared/zod.ts';
import { db, type ReceivedRecord, type ReceivedSource } from './db.ts';

/** Longest failure sentence kept; the receive view shows the whole one while it is open. */
export const MAX_FAILURE_CHARS = 500;
/** How many entries are kept; older ones are dropped when a new one is recorded. */
export const MAX_RECEIVED = 200;
/** The latest time a Date can hold (ECMA-262 §21.4.1.1); the list formats `at` as a Date. */
const MAX_TIME_MS = 8.64e15;

const sourceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('link'), origin: z.string().min(1), shareId: z.string().min(1) }),
  z.object({ kind: z.literal('nearby'), device: z.string().min(1) }),
]);

/** What a stored entry must look like to be shown (another version or tab may have written it). */
export const receivedRecordSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  size: z.number().int().nonnegative(),
  type: z.string(),
  from: sourceSchema,
  at: z.number().min(0).max(MAX_TIME_MS),
  verified: z.boolean(),
  failure: z.string().nullable(),
});

export interface ReceivedFile {
  name: string;
  size: number;
  type: string;
}

/**
 * The entry for file `index` of `transfer` (a share id, or a nearby transfer's id) received
 * from `from`: verified when `failure` is null.
 */
export function receivedRecord(
  from: ReceivedSource,
  transfer: string,
  index: number,
  file: ReceivedFile,
  failure: string | null,
  at = Date.now(),
): ReceivedRecord {
  return {
    id: `${from.kind}:${transfer}:${index}`,
    name: file.name,
    size: file.size,
    type: file.type,
    from,
    at,
    verified: failure === null,
    failure: failure === null ? null : failure.slice(0, MAX_FAILURE_CHARS),
  };
}

/** A file from share `shareId` of this page's origin (the link's key is never kept). */
export function linkSource(shareId: string): ReceivedSource {
  return { kind: 'link', origin: globalThis.location?.origin ?? '', shareId };
}

type Listener = () => void;
const listeners = new Set<Listener>();

/** Calls `listener` after every change this page makes to the store; returns the unsubscribe. */
export function onReceivedChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function changed(): void {
  for (const listener of listeners) listener();
}

/** Stores (or replaces) one entry, and drops the oldest beyond MAX_RECEIVED. */
export async function putReceived(record: ReceivedRecord): Promise<void> {
  const tx = (await db()).transaction('received', 'readwrite');
  await tx.store.put(record);
  const count = await tx.store.count();
  let cursor = count > MAX_RECEIVED ? await tx.store.index('at').openCursor() : null;
  for (let extra = count - MAX_RECEIVED; cursor && extra > 0; extra--) {
    await cursor.delete();
    cursor = await cursor.continue();
  }
  await tx.done;
  changed();
}

/**
 * Records a received file without ever failing the transfer that reports it: history is a
 * convenience, and a full or blocked storage must not turn a good download into an error.
 */
export function noteReceived(record: ReceivedRecord): void {
  // No IndexedDB (some private modes, unit tests): there is no history to keep.
  if (typeof indexedDB === 'undefined') return;
  putReceived(record).catch((error: unknown) => console.warn('Ferry could not record a received file.', error));
}

/** Entries that parse, newest first. */
export async function listReceived(): Promise<ReceivedRecord[]> {
  const all = await (await db()).getAllFromIndex('received', 'at');
  const valid = all.filter((entry) => receivedRecordSchema.safeParse(entry).success);
  return valid.reverse();
}

export async function clearReceived(): Promise<void> {
  await (await db()).clear('received');
  changed();
}
