/**
 * `ferry send`: plan and create the share, upload every file's ciphertext with tus (sealed
 * by shared/record-stream.ts, 8 MiB PATCHes sealed 1 MiB at a time while they are on the wire)
 * while each file's BLAKE3 is computed beside it, then complete the share with the manifest
 * that holds the hashes (as the app does) and print the link. The share and its keys are
 * written to the state directory before the first byte goes out, so the same command again
 * (after Ctrl-C, a kill or a dropped network) asks the server how far each upload got (tus
 * HEAD) and continues from there.
 */
import { type FileHandle, open, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { defaultOptions as tusDefaults, Upload } from 'tus-js-client';
import { appConfigSchema, UPLOAD_KEY_HEADER } from '../shared/access-api.ts';
import type { CreateShareResponse, ShareOwnerView } from '../shared/api.ts';
import { call, ShareApi } from '../shared/api-client.ts';
import { fromBase64Url, toBase64Url } from '../shared/encoding.ts';
import { FerryError, parseErrorBody } from '../shared/errors.ts';
import { deriveShareKeys, fileCipherOf } from '../shared/keys.ts';
import { formatShareLink } from '../shared/link.ts';
import { sealManifest } from '../shared/manifest.ts';
import { plainSpan } from '../shared/record-stream.ts';
import { cipherRange, encryptedSize, type FileCipher, recordAtCipherOffset } from '../shared/records.ts';
import { manifestOf, type PlanFile, planFileOf, planShare, type ShareSettings } from '../shared/share-plan.ts';
import { findReuse, forgetBlobs, rememberBlobs } from './dedup.ts';
import { hashFile } from './file-hasher.ts';
import { sealPartsSync } from './node-aead.ts';
import { Progress } from './progress.ts';
import { collectFiles, type LocalFile, readExactly } from './sources.ts';
import { finishedSend, pendingSend, type SendState, sendKey, stateDir } from './state.ts';

/** Ciphertext bytes per PATCH: what a resume may send again at most. */
export const CHUNK_BYTES = 8 * 1024 * 1024;
/** Records handed to WebCrypto at once (1 MiB of the default 64 KiB records). */
const SEAL_RECORDS = 16;
/** tus-js-client's pauses between attempts after a failed request (network, 5xx, 423). */
const RETRY_DELAYS = [0, 1000, 3000, 5000, 10_000];

export interface SendOptions {
  server: string;
  /** Sent as `Ferry-Upload-Key` when the share is created; a resumed send needs none. */
  uploadKey: string | null;
  settings: ShareSettings;
  quiet: boolean;
}

export interface SendResult {
  link: string;
  id: string;
  expiresAt: number;
  files: Array<{ name: string; size: number }>;
  /** The send continued one that was interrupted. */
  resumed: boolean;
}

export async function send(paths: readonly string[], options: SendOptions): Promise<SendResult> {
  const server = new URL(options.server).origin;
  const { uploadKey } = options;
  const api = new ShareApi(server, { creationHeaders: async () => uploadKeyHeaders(uploadKey) });
  const local = await collectFiles(paths, path.join(stateDir(), 'spool'));
  try {
    const key = await sendKey({
      server,
      files: local.map((f) => (f.spooled ? { stdin: true } : { path: f.path, size: f.size, modified: f.lastModified })),
      expires: options.settings.expiresInSeconds,
      downloads: options.settings.maxDownloads,
      password: options.settings.password !== '',
    });
    // A spool of stdin is new data every time: it never resumes an earlier send.
    const stored = local.some((f) => f.spooled) ? null : await pendingSend.load(key);
    let state = stored ? await stillThere(api, stored) : null;
    const resumed = state !== null;
    state ??= await createShare(api, server, local, options);
    await pendingSend.save(key, state);
    const sending = state;
    // Hashing runs beside the upload, on its own thread (it reads the file again, from the
    // page cache); the upload's failure is the one reported, the hashes are awaited only
    // once it is done.
    const hashing = hashAll(sending.files, local);
    hashing.catch(() => undefined);
    await uploadAll(api, sending, local, options.quiet);
    state = { ...sending, files: await hashing };
    const { metaKey, contentKey } = await deriveShareKeys(fromBase64Url(state.secret));
    const manifest = await sealManifest(manifestOf(state.files), metaKey);
    const view = await api.updateShare(state.id, state.ownerToken, { manifest, complete: true });
    await finishedSend.save(state);
    const owner = view.files.length > 0 ? view : await api.getOwnerView(state.id, state.ownerToken);
    await rememberBlobs(state, local, owner, contentKey);
    await pendingSend.drop(key);
    return {
      link: formatShareLink(server, { id: state.id, key: fromBase64Url(state.linkKey) }),
      id: state.id,
      expiresAt: state.expiresAt,
      files: state.files.map((f) => ({ name: f.name, size: f.size })),
      resumed,
    };
  } finally {
    for (const file of local) if (file.spooled) await rm(file.path, { force: true });
  }
}

/** The stored send, unless the server no longer has its share (expired, revoked, reset). */
async function stillThere(api: ShareApi, state: SendState): Promise<SendState | null> {
  try {
    await api.getOwnerView(state.id, state.ownerToken);
    return state;
  } catch (error) {
    if (error instanceof FerryError && ['NETWORK_ERROR', 'OVERLOADED', 'INTERNAL'].includes(error.code)) throw error;
    return null;
  }
}

async function createShare(
  api: ShareApi,
  server: string,
  local: readonly LocalFile[],
  options: SendOptions,
): Promise<SendState> {
  if (!options.uploadKey) await needsNoKey(server);
  // A file whose bytes this machine uploaded before, and the server still holds, is not
  // uploaded again (dedup.ts). Other hashes are not known yet: the manifest sent on
  // completion carries them.
  const found: Array<Awaited<ReturnType<typeof findReuse>>> = [];
  for (const file of local) found.push(await findReuse(server, file, hashFile));
  const reused = found.flatMap((f) => (f.reuse ? [f.reuse.blake3] : []));
  let files = local.map((file, i) => ({ ...planFileOf(file, found[i]?.reuse), blake3: found[i]?.blake3 ?? null }));
  let plan = await planShare(
    files,
    found.map((f) => f.reuse),
    options.settings,
  );
  let created: CreateShareResponse;
  try {
    created = await api.createShare(plan.request);
  } catch (error) {
    if (!(error instanceof FerryError && error.code === 'FORBIDDEN' && reused.length > 0)) throw error;
    // A remembered blob is gone (expired, revoked, a server reset): forget it and upload. Once.
    await forgetBlobs(reused);
    files = local.map((file, i) => ({ ...planFileOf(file), blake3: found[i]?.blake3 ?? null }));
    plan = await planShare(files, [], options.settings);
    created = await api.createShare(plan.request);
  }
  return {
    server,
    id: created.id,
    ownerToken: created.ownerToken,
    uploadToken: created.uploadToken,
    secret: toBase64Url(plan.secret),
    linkKey: toBase64Url(plan.linkKey),
    expiresAt: created.expiresAt,
    files,
  };
}

/** The headers that carry an upload key on creation (none without a key). */
export function uploadKeyHeaders(uploadKey: string | null): Record<string, string> {
  return uploadKey ? { [UPLOAD_KEY_HEADER]: uploadKey } : {};
}

/**
 * Refuses at once, before any file is hashed, when the server takes shares only with an
 * upload key (GET /api/config) and none was given; the server's own refusal says "enter
 * yours", which a command line cannot.
 */
export async function needsNoKey(server: string): Promise<void> {
  const config = await call(appConfigSchema, `${server}/api/config`);
  if (config.uploadAccess === 'key') {
    throw new FerryError(
      'UPLOAD_KEY_REQUIRED',
      `${server} takes files only from people with an upload key: set FERRY_UPLOAD_KEY (or give --upload-key KEY).`,
    );
  }
}

/** The files with their hex BLAKE3 (one already known, from an earlier send's state, is kept). */
async function hashAll(files: readonly PlanFile[], local: readonly LocalFile[]): Promise<PlanFile[]> {
  const hashed: PlanFile[] = [];
  for (const [index, file] of files.entries()) {
    const source = local[index];
    if (!source) throw new FerryError('INTERNAL', `File ${index} is not on the command line any more.`);
    hashed.push({ ...file, blake3: file.blake3 ?? (await hashFile(source)) });
  }
  return hashed;
}

async function uploadAll(api: ShareApi, state: SendState, local: readonly LocalFile[], quiet: boolean): Promise<void> {
  const view = await api.getOwnerView(state.id, state.ownerToken);
  const { contentKey } = await deriveShareKeys(fromBase64Url(state.secret));
  const total = state.files.reduce((n, f) => n + encryptedSize(f), 0);
  const progress = new Progress('sending', total, { quiet });
  let before = 0;
  for (const [index, file] of state.files.entries()) {
    const source = local[index];
    if (!source) throw new FerryError('INTERNAL', `File ${index} is not on the command line any more.`);
    const size = encryptedSize(file);
    if (!slotOf(view, index)?.sealed) {
      const cipher = await fileCipherOf(contentKey, fromBase64Url(file.nonce), file, file.name);
      const offset = before;
      await uploadFile(state, index, cipher, source, slotOf(view, index)?.blobId ?? null, (sent) =>
        progress.update(offset + sent),
      );
    }
    before += size;
    progress.update(before);
  }
  progress.finish();
}

function slotOf(view: ShareOwnerView, index: number) {
  return view.files.find((f) => f.index === index);
}

/** One file's tus upload; `blobId` is its upload in progress, which tus resumes (HEAD, PATCH). */
function uploadFile(
  state: SendState,
  index: number,
  cipher: FileCipher,
  source: LocalFile,
  blobId: string | null,
  onSent: (bytes: number) => void,
): Promise<void> {
  const target = { server: state.server, share: state.id, uploadToken: state.uploadToken };
  return uploadCiphertext(target, index, cipher, source.path, { blobId, onSent }).done;
}

/** Where a file's ciphertext goes: a share's slot on a server, with its upload token. */
export interface UploadTarget {
  server: string;
  share: string;
  uploadToken: string;
}

export interface UploadCiphertextOptions {
  /** An upload in progress, which tus resumes (HEAD, PATCH). */
  blobId?: string | null;
  /** The first record to send (a relay share's file continues where the peer left it); 0: all. */
  from?: number;
  /** Ciphertext bytes sent from the upload's start. */
  onSent: (bytes: number) => void;
}

/**
 * One file's ciphertext from record `from` on as one tus upload into slot `index` of a
 * share; `abort` stops it (`done` rejects with ABORTED).
 */
export function uploadCiphertext(
  target: UploadTarget,
  index: number,
  cipher: FileCipher,
  file: string,
  { blobId = null, from = 0, onSent }: UploadCiphertextOptions,
): { done: Promise<void>; abort: () => void } {
  const total = encryptedSize(cipher);
  const base = from === 0 ? 0 : cipherRange(cipher, from)[0];
  const size = total - base;
  const endpoint = `${target.server}/files/`;
  const sealer = new ChunkSealer(cipher, file);
  const metadata: Record<string, string> = { share: target.share, index: String(index) };
  // The server takes a base only past byte 0 (an upload from record 0 is an ordinary one).
  if (base > 0) Object.assign(metadata, { base: String(base), recordSize: String(cipher.recordSize) });
  let upload: Upload | null = null;
  let stop: (error: FerryError) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    stop = reject;
    upload = new Upload(Buffer.alloc(0), {
      endpoint,
      uploadUrl: blobId ? `${endpoint}${blobId}` : null,
      chunkSize: CHUNK_BYTES,
      retryDelays: RETRY_DELAYS,
      uploadSize: size,
      metadata,
      headers: { Authorization: `Bearer ${target.uploadToken}` },
      fileReader: {
        openFile: async () => {
          return {
            size,
            async slice(start: number, end: number) {
              const stop = Math.min(end, size);
              // The sealed records go out as they are sealed (no copy into one Buffer);
              // tus-js-client reads a body's length from `size` (as on a Blob), for the
              // upload's progress and the PATCH's Content-Length.
              const stream = Readable.from(sealer.slice(base + start, base + stop), { objectMode: false });
              const value = Object.assign(stream, { size: stop - start });
              return { value, done: stop >= size };
            },
            close() {},
          };
        },
      },
      onProgress: (sent) => onSent(sent),
      onSuccess: () => {
        void sealer.close();
        resolve();
      },
      // A file that cannot be read or sealed any more (it changed or went away) breaks the
      // PATCH's body: that is no network failure to retry, and its own error is the answer.
      onShouldRetry: (error, attempt, options) =>
        sealer.failure === undefined && (tusDefaults.onShouldRetry?.(error, attempt, options) ?? false),
      onError: (error) => {
        void sealer.close();
        reject(sealer.failure ?? tusError(error, cipher.name));
      },
    });
    upload.start();
  });
  return {
    done,
    abort: () => {
      // tus-js-client reports no error for an abort it was asked for: settle `done` here.
      stop(new FerryError('ABORTED', 'Cancelled.'));
      void (upload as Upload | null)?.abort(false).catch(() => undefined);
    },
  };
}

/**
 * Sealed ciphertext of one file, by ranges, as a stream: when tus asks for [start, end)
 * (one PATCH), the range is read and sealed SEAL_RECORDS records at a time while the PATCH
 * is on the wire: the next piece's plaintext is read (on libuv's pool) while this one is
 * sealed (node:crypto, cli/node-aead.ts) and written. What is held stays a few MiB
 * whatever the range or the file: two plaintext buffers, used in turn, and the sealed
 * piece being written. The file stays open from the first PATCH to `close`.
 */
class ChunkSealer {
  readonly #cipher: FileCipher;
  readonly #path: string;
  readonly #plain = [new Uint8Array(0), new Uint8Array(0)];
  #handle: Promise<FileHandle> | null = null;
  /** The last read started: a PATCH tus gave up on may leave one running into a buffer. */
  #reading: Promise<unknown> = Promise.resolve();

  constructor(cipher: FileCipher, path: string) {
    this.#cipher = cipher;
    this.#path = path;
  }

  async *slice(start: number, end: number): AsyncGenerator<Uint8Array> {
    // The pieces of the PATCH before are garbage now; collected at once, not when V8's
    // external memory limit (64 MiB over the last collection) is reached, peak memory stays flat.
    collectYoungGarbage();
    await this.#reading.catch(() => undefined);
    const pieces = this.#pieces(start, end);
    let reading = pieces[0] ? this.#read(pieces[0], 0) : null;
    for (let i = 0; reading; i++) {
      const plain = await reading;
      const next = pieces[i + 1];
      reading = next ? this.#read(next, (i + 1) % 2) : null;
      // A failure ahead is reported when the loop reaches it.
      reading?.catch(() => undefined);
      const [from, to] = pieces[i] as [number, number];
      yield* this.#guard(() => sealPartsSync(this.#cipher, plain, from, to));
    }
  }

  /** Closes the file (the upload is over). */
  async close(): Promise<void> {
    const handle = this.#handle;
    this.#handle = null;
    await (await handle?.catch(() => null))?.close();
  }

  /** [start, end) cut at every SEAL_RECORDS-th record boundary. */
  #pieces(start: number, end: number): Array<[number, number]> {
    const pieces: Array<[number, number]> = [];
    if (start >= end) return pieces;
    const last = recordAtCipherOffset(this.#cipher, end - 1);
    for (let i = recordAtCipherOffset(this.#cipher, start); i <= last; i += SEAL_RECORDS) {
      const from = Math.max(start, cipherRange(this.#cipher, i)[0]);
      const to = Math.min(end, cipherRange(this.#cipher, Math.min(i + SEAL_RECORDS, last + 1) - 1)[1]);
      pieces.push([from, to]);
    }
    return pieces;
  }

  /** Why the file could not be read or sealed, once that happened. */
  failure: unknown;

  /** The plaintext piece [from, to) needs, read into plaintext buffer `slot`. */
  async #read([from, to]: [number, number], slot: number): Promise<Uint8Array<ArrayBuffer>> {
    const [ps, pe] = plainSpan(this.#cipher, from, to);
    let buffer = this.#plain[slot] as Uint8Array<ArrayBuffer>;
    if (buffer.length < pe - ps) {
      buffer = new Uint8Array(pe - ps);
      this.#plain[slot] = buffer;
    }
    const read = this.#guard(async () => {
      this.#handle ??= open(this.#path, 'r');
      return readExactly(await this.#handle, ps, buffer.subarray(0, pe - ps), this.#path);
    });
    this.#reading = read;
    return read;
  }

  /** Runs `work`, keeping its failure as the upload's (it is no network fault). */
  #guard<T>(work: () => T): T {
    try {
      const result = work();
      if (result instanceof Promise) {
        return result.catch((error: unknown) => {
          this.failure ??= error;
          throw error;
        }) as T;
      }
      return result;
    } catch (error) {
      this.failure ??= error;
      throw error;
    }
  }
}

let gc: ((options: { type: 'minor' | 'major' }) => void) | undefined;

/**
 * A minor garbage collection (a scavenge, well under a millisecond): it frees the sealed
 * records of the PATCH before, which all died young. A full collection each PATCH did the
 * same at 12-20 ms each, 2.2 CPU-s per GiB sent (`node --trace-gc`: 170 of them).
 */
function collectYoungGarbage(): void {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as typeof gc;
  }
  gc?.({ type: 'minor' });
}

/** A tus failure as a FerryError: the server's code when it sent one. */
function tusError(error: Error, name: string): FerryError {
  const body = (error as { originalResponse?: { getBody(): string } | null }).originalResponse?.getBody();
  let parsed: ReturnType<typeof parseErrorBody>;
  try {
    parsed = body ? parseErrorBody(JSON.parse(body)) : undefined;
  } catch {
    parsed = undefined;
  }
  if (parsed) return new FerryError(parsed.code, `${name}: ${parsed.message}`, { cause: error });
  return new FerryError('NETWORK_ERROR', `${name}: the upload failed (${error.message}).`, { cause: error });
}
