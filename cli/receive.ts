/**
 * `ferry receive LINK`: the link's key (unwrapped with the password when it has one), the
 * manifest, one download ticket, then each file streamed to `<name>.ferry-part` beside its
 * final place, every record opened by shared/record-stream.ts (over node:crypto,
 * cli/node-aead.ts) and the whole file's BLAKE3 checked before it is renamed. A dropped connection resumes with Range from the first
 * record not yet written; a part file left by an interrupted run is continued the same
 * way (its records are hashed again, not trusted). Anything that fails verification is
 * deleted: no failed file is ever under its final name. With `-o -` the records go to
 * stdout as they are verified, the last held back until the BLAKE3 matched.
 */
import { once } from 'node:events';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { createBLAKE3 } from 'hash-wasm';
import { ShareApi } from '../shared/api-client.ts';
import { FerryError } from '../shared/errors.ts';
import { checkDigest } from '../shared/file-hash.ts';
import { deriveShareKeys } from '../shared/keys.ts';
import { parseShareLink } from '../shared/link.ts';
import { fileCipher, type Manifest, type ManifestFile, openManifest } from '../shared/manifest.ts';
import { safeRelativePath } from '../shared/names.ts';
import { unwrapSecret } from '../shared/password.ts';
import { RecordOpener } from '../shared/record-stream.ts';
import { cipherRange, type FileCipher, plainRange, recordCount } from '../shared/records.ts';
import { askPassword } from './ask.ts';
import { NODE_CRYPTO_AEAD } from './node-aead.ts';
import { Progress } from './progress.ts';

/** Attempts in a row without a new record before a file's download gives up. */
const MAX_ATTEMPTS = 6;
/** How long to wait for a sender who is still uploading, asking every WAIT_MS. */
const WAIT_MS = 2000;
const MAX_WAIT_MS = 10 * 60 * 1000;
export const PART_SUFFIX = '.ferry-part';

export interface ReceiveOptions {
  /** A directory, or '-' for stdout (a share of one file). */
  out: string;
  quiet: boolean;
}

export interface ReceiveResult {
  files: Array<{ name: string; size: number; path: string | null }>;
}

interface Auth {
  id: string;
  readerToken: string;
  ticket: string;
}

export async function receive(link: string, options: ReceiveOptions): Promise<ReceiveResult> {
  const parsed = parseShareLink(link);
  const api = new ShareApi(new URL(link).origin);
  const info = await api.getShareInfo(parsed.id);
  const secret = info.password
    ? await unwrapSecret(parsed.key, await askPassword('Password: '), info.password)
    : parsed.key;
  return receiveShare(api, parsed.id, secret, options);
}

/** Receives the share `id` whose link secret (password already unwrapped) is `secret`. */
export async function receiveShare(
  api: ShareApi,
  id: string,
  secret: Uint8Array<ArrayBuffer>,
  options: ReceiveOptions,
): Promise<ReceiveResult> {
  const keys = await deriveShareKeys(secret);
  const manifest = await readyManifest(api, id, keys.readerToken, keys.metaKey);
  if (options.out === '-' && manifest.files.length !== 1) {
    throw new FerryError('BAD_REQUEST', `This share has ${manifest.files.length} files: use -o DIR, not -o -.`);
  }
  const targets = manifest.files.map((f) => (options.out === '-' ? null : targetOf(options.out, f.name)));
  for (const target of targets) {
    if (target && (await exists(target))) throw new FerryError('CONFLICT', `${target} already exists.`);
  }
  const { ticket } = await api.requestTicket(
    id,
    keys.readerToken,
    manifest.files.map((_, i) => i),
  );
  const auth: Auth = { id, readerToken: keys.readerToken, ticket };
  const total = manifest.files.reduce((n, f) => n + f.size, 0);
  const progress = new Progress('receiving', total, { quiet: options.quiet });
  let before = 0;
  for (const [index, file] of manifest.files.entries()) {
    const cipher = await fileCipher(file, keys.contentKey);
    const offset = before;
    const onWritten = (bytes: number) => progress.update(offset + bytes);
    await receiveFile(api, auth, index, file, cipher, targets[index] ?? null, onWritten);
    before += file.size;
  }
  progress.finish();
  return { files: manifest.files.map((f, i) => ({ name: f.name, size: f.size, path: targets[i] ?? null })) };
}

/** The manifest once every file has its hash (a share still uploading from the app has none yet). */
async function readyManifest(api: ShareApi, id: string, readerToken: string, metaKey: CryptoKey): Promise<Manifest> {
  const started = Date.now();
  for (;;) {
    const answer = await api.getManifest(id, readerToken);
    const manifest = await openManifest(answer.manifest, metaKey);
    if (manifest.files.every((f) => f.blake3)) return manifest;
    if (Date.now() - started > MAX_WAIT_MS) {
      throw new FerryError('FILE_NOT_READY', 'The sender has not finished uploading; try again later.');
    }
    await new Promise((resolve) => setTimeout(resolve, WAIT_MS));
  }
}

/** Where a manifest name lands under `dir`: a checked relative path, never outside it. */
export function targetOf(dir: string, name: string): string {
  const root = path.resolve(dir);
  const target = path.resolve(root, safeRelativePath(name));
  if (!target.startsWith(root + path.sep)) throw new FerryError('INVALID_NAME', `${name} would land outside ${dir}.`);
  return target;
}

export async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** Codes that mean the data is wrong, not that the connection broke. */
const VERIFICATION = new Set(['RECORD_AUTH_FAILED', 'RECORD_TRUNCATED', 'FILE_HASH_MISMATCH', 'LENGTH_MISMATCH']);

async function receiveFile(
  api: ShareApi,
  auth: Auth,
  index: number,
  file: ManifestFile,
  cipher: FileCipher,
  target: string | null,
  onWritten: (bytes: number) => void,
): Promise<void> {
  const hasher = await createBLAKE3();
  const part = target ? `${target}${PART_SUFFIX}` : null;
  if (part) await mkdir(path.dirname(part), { recursive: true });
  const handle = part ? await open(part, 'a+') : null;
  try {
    // Continue an interrupted run: its whole records are kept (and hashed again); the
    // last record is always fetched, whatever is on disk, so the file's end is verified.
    const kept = handle ? (await handle.stat()).size : 0;
    let next = Math.min(Math.floor(kept / cipher.recordSize), recordCount(cipher) - 1);
    if (handle) {
      await handle.truncate(plainRange(cipher, next)[0]);
      await hashPrefix(handle, plainRange(cipher, next)[0], hasher);
    }
    onWritten(plainRange(cipher, next)[0]);
    // On stdout nothing can be taken back: the last record waits for the whole-file check,
    // so a file that failed it never reaches its full length there.
    let held: Uint8Array | null = null;
    let attempts = 0;
    while (next < recordCount(cipher)) {
      const opener = new RecordOpener(cipher, next, NODE_CRYPTO_AEAD);
      try {
        const start = cipherRange(cipher, next)[0];
        const response = await api.fetchCiphertext(auth.id, index, auth, start);
        if (!response.body) throw new FerryError('NETWORK_ERROR', `${file.name}: the server sent no data.`);
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          for (const { index: record, plain } of await opener.push(chunk)) {
            const [at] = plainRange(cipher, record);
            if (handle) await handle.write(plain, 0, plain.length, at);
            else if (record === recordCount(cipher) - 1) held = plain;
            else await toStdout(plain);
            hasher.update(plain);
            next = record + 1;
            attempts = 0;
            onWritten(at + plain.length);
          }
        }
        opener.end();
      } catch (error) {
        if (error instanceof FerryError && VERIFICATION.has(error.code)) throw error;
        if (!retryable(error) || ++attempts >= MAX_ATTEMPTS) throw asFerryError(error, file.name);
        await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** attempts));
      }
    }
    checkDigest(hasher, file.blake3 ?? '', file.name); // receive() waited until every file had its hash
    if (held) await toStdout(held);
    if (handle && part && target) {
      await handle.sync();
      await handle.close();
      await rename(part, target);
    }
  } catch (error) {
    await handle?.close().catch(() => undefined);
    // Data that failed verification is not kept, not even as a part file.
    if (part && error instanceof FerryError && VERIFICATION.has(error.code)) await rm(part, { force: true });
    throw error;
  }
}

/** Reads back the first `length` bytes of a part file into the hasher. */
async function toStdout(bytes: Uint8Array): Promise<void> {
  if (!process.stdout.write(bytes)) await once(process.stdout, 'drain');
}

async function hashPrefix(
  handle: Awaited<ReturnType<typeof open>>,
  length: number,
  hasher: { update(data: Uint8Array): unknown },
) {
  const buffer = new Uint8Array(4 * 1024 * 1024);
  for (let at = 0; at < length; ) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, length - at), at);
    if (bytesRead === 0) break;
    hasher.update(buffer.subarray(0, bytesRead));
    at += bytesRead;
  }
}

function retryable(error: unknown): boolean {
  if (error instanceof FerryError)
    return ['NETWORK_ERROR', 'INTERNAL', 'OVERLOADED', 'RATE_LIMITED'].includes(error.code);
  // A body that breaks mid-stream rejects with a TypeError (Fetch §4.6) or a socket error.
  return error instanceof Error;
}

function asFerryError(error: unknown, name: string): FerryError {
  if (error instanceof FerryError) return error;
  return new FerryError('NETWORK_ERROR', `${name}: the download failed (${String(error)}).`, { cause: error });
}
