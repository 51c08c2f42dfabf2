/**
 * Files the operating system shares with an installed Ferry (Web Share Target level 2): the
 * manifest's `share_target` makes the browser POST multipart/form-data to /share-target.
 * The service worker reads and checks that form, stashes what it keeps in Cache Storage and
 * answers 303 See Other to `/?shared=<id>`; the page then takes the files from the stash
 * into the picker and deletes it (share-inbox.svelte.ts).
 *
 * Window and worker both import this module, so it uses only what both have: Cache Storage,
 * `crypto`, `fetch` types. What the stash holds is checked again when the page reads it.
 */
import { repairRelativePath } from '../../../shared/names.ts';

/** The manifest's `share_target.action`. */
export const SHARE_TARGET_PATH = '/share-target';
/** Query parameters of the 303 answer: the stash id, or why nothing was stashed. */
export const SHARED_PARAM = 'shared';
export const SHARE_ERROR_PARAM = 'share-error';
/** Form fields, as the manifest's `share_target.params` names them. */
export const SHARE_FIELDS = { title: 'title', text: 'text', url: 'url', files: 'files' } as const;

/** At most this many files, bytes and characters of text in one share. */
export const MAX_SHARED_FILES = 100;
export const MAX_SHARED_BYTES = 2 * 1024 ** 3;
export const MAX_SHARED_TEXT = 4096;
/** A stash not picked up within this time is deleted by the next share or pickup. */
export const STASH_TTL_MS = 60 * 60 * 1000;

const CACHE = 'ferry-share-target';
/** `<creation time in ms>-<128 random bits in hex>`: the age of a stash is in its id. */
const STASH_ID = /^(\d{1,15})-[0-9a-f]{32}$/;
const MIME = /^[\w.+-]{1,127}\/[\w.+-]{1,127}$/;

export type ShareRejection = 'too-many-files' | 'too-large' | 'empty' | 'unreadable' | 'no-space';
const REJECTIONS: readonly ShareRejection[] = ['too-many-files', 'too-large', 'empty', 'unreadable', 'no-space'];

/** What a stash holds besides the bytes; written last, so a stash without it is incomplete. */
export interface StashMeta {
  v: 1;
  text: string;
  files: Array<{ name: string; type: string; size: number; lastModified: number }>;
}

export type CheckedShare = { ok: true; files: File[]; text: string } | { ok: false; reason: ShareRejection };

/** A shared file's name as Ferry keeps it: its last path segment, repaired (shared/names.ts). */
export function sharedFileName(name: string): string {
  const last = name.split(/[/\\]/).filter((s) => s !== '' && s !== '.' && s !== '..');
  return repairRelativePath(last.at(-1) ?? '');
}

/** Title, text and URL as one text, without repeats and within MAX_SHARED_TEXT. */
export function sharedText(parts: ReadonlyArray<string | null | undefined>): string {
  const kept: string[] = [];
  for (const part of parts) {
    const trimmed = part?.trim();
    if (trimmed && !kept.includes(trimmed)) kept.push(trimmed);
  }
  return kept.join('\n').slice(0, MAX_SHARED_TEXT);
}

/** Checks a share target's form: the files and text Ferry keeps, or why it keeps nothing. */
export function checkShareForm(form: FormData): CheckedShare {
  // An empty file input still submits one nameless, empty file.
  const files = form
    .getAll(SHARE_FIELDS.files)
    .filter((value): value is File => typeof value !== 'string' && !(value.name === '' && value.size === 0));
  const field = (name: string) => {
    const value = form.get(name);
    return typeof value === 'string' ? value : null;
  };
  const text = sharedText([field(SHARE_FIELDS.title), field(SHARE_FIELDS.text), field(SHARE_FIELDS.url)]);
  if (files.length > MAX_SHARED_FILES) return { ok: false, reason: 'too-many-files' };
  if (files.reduce((sum, file) => sum + file.size, 0) > MAX_SHARED_BYTES) return { ok: false, reason: 'too-large' };
  if (files.length === 0 && text === '') return { ok: false, reason: 'empty' };
  return { ok: true, files, text };
}

/** Parses a stash's metadata; undefined unless every field is within bounds. */
export function parseStashMeta(data: unknown): StashMeta | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const { v, text, files } = data as Record<string, unknown>;
  if (v !== 1 || typeof text !== 'string' || text.length > MAX_SHARED_TEXT) return undefined;
  if (!Array.isArray(files) || files.length > MAX_SHARED_FILES) return undefined;
  const parsed: StashMeta['files'] = [];
  let total = 0;
  for (const file of files as unknown[]) {
    if (typeof file !== 'object' || file === null) return undefined;
    const { name, type, size, lastModified } = file as Record<string, unknown>;
    if (typeof name !== 'string' || name.length > 1024 || typeof type !== 'string') return undefined;
    if (!Number.isSafeInteger(size) || (size as number) < 0 || !Number.isSafeInteger(lastModified)) return undefined;
    total += size as number;
    parsed.push({
      name: sharedFileName(name),
      type: MIME.test(type) ? type : '',
      size: size as number,
      lastModified: lastModified as number,
    });
  }
  return total > MAX_SHARED_BYTES ? undefined : { v: 1, text, files: parsed };
}

/** A rejection named in the 303's query, or undefined. */
export function parseRejection(value: string | null): ShareRejection | undefined {
  return REJECTIONS.find((r) => r === value);
}

/** True for a string shaped like a stash id. */
export function isStashId(value: string | null): value is string {
  return value !== null && STASH_ID.test(value);
}

function entryUrl(id: string, part: number | 'meta'): string {
  return `${SHARE_TARGET_PATH}/${id}/${part}`;
}

/** Stores checked files and text; returns the stash id. A stash that fails half-way is removed. */
export async function stashShare(files: readonly File[], text: string, now = Date.now()): Promise<string> {
  const random = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0'));
  const id = `${now}-${random.join('')}`;
  const cache = await caches.open(CACHE);
  const meta: StashMeta = {
    v: 1,
    text,
    files: files.map((f) => ({
      name: sharedFileName(f.name),
      type: f.type,
      size: f.size,
      lastModified: f.lastModified,
    })),
  };
  try {
    for (const [index, file] of files.entries()) {
      await cache.put(
        entryUrl(id, index),
        new Response(file, { headers: { 'Content-Type': 'application/octet-stream' } }),
      );
    }
    await cache.put(entryUrl(id, 'meta'), Response.json(meta));
  } catch (error) {
    await deleteStash(cache, id);
    throw error;
  }
  return id;
}

/**
 * The files and text of stash `id`, read and checked; undefined when it is missing,
 * incomplete or malformed. The stash is deleted either way, with any stale ones.
 */
export async function takeStash(id: string, now = Date.now()): Promise<{ files: File[]; text: string } | undefined> {
  if (!isStashId(id) || !('caches' in globalThis)) return undefined;
  const cache = await caches.open(CACHE);
  try {
    const meta = parseStashMeta(await (await cache.match(entryUrl(id, 'meta')))?.json().catch(() => undefined));
    if (!meta) return undefined;
    const files: File[] = [];
    for (const [index, { name, type, size, lastModified }] of meta.files.entries()) {
      const blob = await (await cache.match(entryUrl(id, index)))?.blob();
      if (!blob || blob.size !== size) return undefined;
      files.push(new File([blob], name, { type, lastModified }));
    }
    return { files, text: meta.text };
  } finally {
    await deleteStash(cache, id);
    await purgeStaleStashes(now);
  }
}

/** Deletes stashes older than STASH_TTL_MS (nobody picked them up). */
export async function purgeStaleStashes(now = Date.now()): Promise<void> {
  const cache = await caches.open(CACHE);
  for (const request of await cache.keys()) {
    const id = new URL(request.url).pathname.split('/')[2] ?? '';
    const created = Number(STASH_ID.exec(id)?.[1] ?? 0);
    if (now - created > STASH_TTL_MS) await cache.delete(request);
  }
}

async function deleteStash(cache: Cache, id: string): Promise<void> {
  const prefix = `${SHARE_TARGET_PATH}/${id}/`;
  for (const request of await cache.keys()) {
    if (new URL(request.url).pathname.startsWith(prefix)) await cache.delete(request);
  }
}

/**
 * The service worker's answer to POST /share-target: 303 to `/?shared=<id>`, or to
 * `/?share-error=<reason>` when the form was refused or could not be stored.
 */
export async function receiveShare(request: Request, origin: string): Promise<Response> {
  const answer = (param: string, value: string) => {
    const url = new URL('/', origin);
    url.searchParams.set(param, value);
    return Response.redirect(url.href, 303);
  };
  // Refuse an oversized body before reading it (multipart adds some bytes per part).
  const declared = Number(request.headers.get('Content-Length') ?? 0);
  if (declared > MAX_SHARED_BYTES + MAX_SHARED_FILES * 1024 + 3 * MAX_SHARED_TEXT) {
    return answer(SHARE_ERROR_PARAM, 'too-large');
  }
  let form: FormData;
  try {
    form = await request.formData();
  } catch {
    return answer(SHARE_ERROR_PARAM, 'unreadable');
  }
  const checked = checkShareForm(form);
  if (!checked.ok) return answer(SHARE_ERROR_PARAM, checked.reason);
  try {
    await purgeStaleStashes();
    return answer(SHARED_PARAM, await stashShare(checked.files, checked.text));
  } catch {
    return answer(SHARE_ERROR_PARAM, 'no-space');
  }
}
