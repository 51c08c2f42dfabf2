/**
 * S3BlobStore: ciphertext in an S3 bucket (FERRY_S3_BUCKET), readable by every node the
 * moment the tus offset counts it. A tus DataStore of our own on the S3 API, because
 * @tus/s3-store cannot serve a growing upload: it writes a multipart upload, and S3 serves
 * no byte of one before it is completed (ARCHITECTURE.md "Blobs on S3").
 *
 * Layout, per upload id (ids are base64url, so never contain "/" or "."):
 *   <id>.json               the tus Upload (size, metadata, creation_date) plus `sealed`
 *   <id>/<offset, 16 digits> a piece: bytes [offset, offset + its size) of the upload
 * Every PATCH body is cut into pieces of at most `pieceBytes`, each staged in a temp file
 * (memory stays bounded, whatever the PATCH's size) and stored with one PutObject, which
 * streams the piece as it arrives when the request declared its length (see `write`); a
 * piece counts only once every piece before it is stored.
 *
 * Invariant: the tus offset is the end of the chain of pieces that starts at 0 and where
 * each piece starts where the one before it ends. Pieces are immutable once stored, so
 * every byte below the offset is readable (ranged GetObject across pieces) by any node at
 * once, while the upload continues. A piece off the chain (left by a write that failed
 * half-way or a PATCH that raced without a lock) is never read and is deleted by the next
 * write. No node keeps state of its own: every answer comes from the bucket.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { type FileHandle, open, unlink } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { DataStore, ERRORS, Upload } from '@tus/server';
import { FerryError } from '../../shared/errors.ts';
import { isOutOfSpace, storageFull } from '../storage-full.ts';
import { type BlobStore, requestBodyBytes } from './blob-store.ts';
import { ownStagingDir } from './staging-dir.ts';

/** A piece's largest size: the web client's tus chunk (8 MiB), so one PATCH is usually one piece. */
export const DEFAULT_PIECE_BYTES = 8 * 1024 * 1024;
const ID = /^[A-Za-z0-9_-]{1,100}$/;
const OFFSET_DIGITS = 16;
/** DeleteObjects takes at most 1000 keys. */
const DELETE_BATCH = 1000;

export interface S3BlobStoreOptions {
  bucket: string;
  /** For S3-compatible stores (FERRY_S3_ENDPOINT); addressing is then path-style. Unset: AWS. */
  endpoint?: string;
  /** Unset: the SDK's own (AWS_REGION, the profile); S3-compatible stores default to us-east-1. */
  region?: string;
  /** Unset: the SDK's credential chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, profiles, roles). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Unfinished uploads older than this are removed (tus expiration, counted from creation). */
  expiryMs: number;
  pieceBytes?: number;
  /** Under which pieces are staged before they are stored (default: the system temp dir; see staging-dir.ts). */
  stagingDir?: string;
}

/** What <id>.json holds. */
interface StoredInfo {
  id: string;
  size?: number;
  metadata?: Record<string, string | null>;
  creation_date?: string;
  /** Complete: neither expiry nor tus HEAD's expiry check applies (see BlobStore.seal). */
  sealed?: boolean;
}

interface Piece {
  key: string;
  start: number;
  size: number;
}

const infoKey = (id: string) => `${id}.json`;
const piecePrefix = (id: string) => `${id}/`;
const pieceKey = (id: string, offset: number) => `${id}/${String(offset).padStart(OFFSET_DIGITS, '0')}`;

function checkId(id: string): string {
  if (!ID.test(id)) throw new RangeError('not a blob id');
  return id;
}

function isMissing(error: unknown): boolean {
  return (
    error instanceof S3ServiceException &&
    (error.name === 'NoSuchKey' || error.name === 'NotFound' || error.$metadata.httpStatusCode === 404)
  );
}

/** An S3 failure as Ferry's 503 (tus clients retry it), naming the store and what it was doing. */
function unavailable(doing: string, error: unknown): FerryError {
  if (error instanceof FerryError) return error;
  const reason = error instanceof Error ? error.message || error.name : String(error);
  return new FerryError('ENGINE_UNAVAILABLE', `S3 failed while ${doing}: ${reason}`, { cause: error });
}

type PutPiece = (body: Readable, length: number, signal?: AbortSignal) => Promise<void>;

/**
 * One piece on its way into S3. Its bytes are staged in a temp file as they arrive (memory
 * stays bounded, and the bytes of a body cut short are kept); when the piece's size is
 * known before its first byte, its PutObject also streams them as they arrive, started
 * once `ready` resolves (the strays are gone). The staged file is what counts: a streamed
 * PutObject that fails (S3 may drop a request whose body stalls with a slow client) or
 * falls short is replaced by one PutObject of the file.
 */
class PieceWrite {
  bytes = 0;
  readonly #file: string;
  readonly #handle: FileHandle;
  readonly #size: number;
  readonly #put: PutPiece;
  #stream: PassThrough | undefined;
  #streaming: Promise<void> | undefined;
  readonly #abort = new AbortController();

  private constructor(
    file: string,
    handle: FileHandle,
    size: number,
    stream: boolean,
    put: PutPiece,
    ready: Promise<void>,
  ) {
    this.#file = file;
    this.#handle = handle;
    this.#size = size;
    this.#put = put;
    if (stream) {
      const body = new PassThrough();
      this.#stream = body;
      this.#streaming = ready.then(() => put(body, size, this.#abort.signal));
      this.#streaming.catch(() => undefined);
    }
  }

  /** A piece of at most `size` bytes (exactly `size`, streamed, when `stream`). */
  static async open(dir: string, id: string, size: number, stream: boolean, put: PutPiece, ready: Promise<void>) {
    const file = path.join(dir, `ferry-piece-${id}-${randomBytes(6).toString('hex')}`);
    return new PieceWrite(file, await open(file, 'wx'), size, stream, put, ready);
  }

  /** Bytes the piece still takes. */
  get room(): number {
    return this.#size - this.bytes;
  }

  /** Stages `chunk` (and streams it, waiting while the PutObject is behind). */
  async write(chunk: Buffer): Promise<void> {
    const staged = this.#handle.write(chunk);
    const stream = this.#stream;
    if (stream && !stream.write(chunk)) {
      // The file has the bytes: a failed stream only means the piece is put from the file.
      await Promise.race([once(stream, 'drain'), this.#streaming]).catch(() => this.#stopStreaming());
    }
    await staged;
    this.bytes += chunk.length;
  }

  /**
   * Stores the piece: the streamed PutObject when it got every byte it declared, else one
   * PutObject of the staged bytes (a body cut short, a failed stream; nothing when empty).
   */
  async store(): Promise<void> {
    try {
      await this.#handle.close();
      if (this.#stream && this.bytes === this.#size) {
        this.#stream.end();
        const streamed = await this.#streaming!.then(
          () => true,
          () => false,
        );
        if (streamed) return;
      }
      await this.#stopStreaming();
      if (this.bytes > 0) await this.#put(createReadStream(this.#file, { end: this.bytes - 1 }), this.bytes);
    } finally {
      await unlink(this.#file).catch(() => undefined);
    }
  }

  /** Drops the piece unstored. */
  async discard(): Promise<void> {
    await this.#stopStreaming();
    await this.#handle.close().catch(() => undefined);
    await unlink(this.#file).catch(() => undefined);
  }

  /** Aborts a streamed PutObject short of its declared length (S3 stores nothing of it). */
  async #stopStreaming(): Promise<void> {
    const stream = this.#stream;
    const streaming = this.#streaming;
    this.#stream = undefined;
    this.#streaming = undefined;
    if (!stream) return;
    this.#abort.abort();
    stream.destroy();
    await streaming?.catch(() => undefined);
  }
}

/** The tus DataStore half: what @tus/server calls. */
class S3PieceStore extends DataStore {
  readonly #s3: S3Client;
  readonly #bucket: string;
  readonly #expiryMs: number;
  readonly #pieceBytes: number;
  readonly #stagingDir: string;
  /** Removes this process's staging directory (the store is closing). */
  readonly removeStaging: () => void;

  constructor(s3: S3Client, options: S3BlobStoreOptions) {
    super();
    this.#s3 = s3;
    this.#bucket = options.bucket;
    this.#expiryMs = options.expiryMs;
    this.#pieceBytes = options.pieceBytes ?? DEFAULT_PIECE_BYTES;
    const staging = ownStagingDir(options.stagingDir ?? tmpdir());
    this.#stagingDir = staging.dir;
    this.removeStaging = staging.remove;
    this.extensions = ['creation', 'creation-with-upload', 'creation-defer-length', 'termination', 'expiration'];
  }

  /** The stored info, or undefined when the upload does not exist. */
  async info(id: string): Promise<StoredInfo | undefined> {
    try {
      const answer = await this.#s3.send(new GetObjectCommand({ Bucket: this.#bucket, Key: infoKey(checkId(id)) }));
      return JSON.parse(await answer.Body!.transformToString()) as StoredInfo;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw unavailable(`reading upload ${id}`, error);
    }
  }

  async putInfo(info: StoredInfo): Promise<void> {
    try {
      await this.#s3.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key: infoKey(checkId(info.id)),
          Body: JSON.stringify(info),
          ContentType: 'application/json',
        }),
      );
    } catch (error) {
      throw unavailable(`saving upload ${info.id}`, error);
    }
  }

  /** The listing of `prefix`, page by page (after the key `startAfter`, grouped at `delimiter`). */
  async *objects(
    prefix: string,
    { delimiter, startAfter }: { delimiter?: string; startAfter?: string } = {},
  ): AsyncGenerator<ListObjectsV2CommandOutput> {
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.#s3.send(
          new ListObjectsV2Command({
            Bucket: this.#bucket,
            Prefix: prefix,
            Delimiter: delimiter,
            StartAfter: startAfter,
            ContinuationToken: token,
          }),
        );
      } catch (error) {
        throw unavailable(`listing ${prefix || 'the bucket'}`, error);
      }
      yield page;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** The chain of pieces from byte 0 (see the invariant above), its end, and pieces off it. */
  async chain(id: string): Promise<{ pieces: Piece[]; offset: number; strays: string[] }> {
    const sizes = new Map<number, Piece>();
    for await (const page of this.objects(piecePrefix(checkId(id)))) {
      for (const object of page.Contents ?? []) {
        const start = Number(object.Key?.slice(piecePrefix(id).length));
        if (object.Key && Number.isSafeInteger(start) && (object.Size ?? 0) > 0) {
          sizes.set(start, { key: object.Key, start, size: object.Size ?? 0 });
        }
      }
    }
    const pieces: Piece[] = [];
    let offset = 0;
    for (let piece = sizes.get(0); piece; piece = sizes.get(offset)) {
      pieces.push(piece);
      sizes.delete(piece.start);
      offset += piece.size;
    }
    return { pieces, offset, strays: [...sizes.values()].map((p) => p.key) };
  }

  async deleteKeys(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      try {
        await this.#s3.send(
          new DeleteObjectsCommand({
            Bucket: this.#bucket,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
        );
      } catch (error) {
        throw unavailable('deleting pieces', error);
      }
    }
  }

  override async create(upload: Upload): Promise<Upload> {
    const { id, size, metadata, creation_date } = upload;
    await this.putInfo({ id, size, metadata, creation_date });
    upload.storage = { type: 's3', path: infoKey(id), bucket: this.#bucket };
    return upload;
  }

  override async getUpload(id: string): Promise<Upload> {
    if (!ID.test(id)) throw ERRORS.FILE_NOT_FOUND;
    // Both at once: this runs before every PATCH and HEAD.
    const [info, chain] = await Promise.all([this.info(id), this.chain(id)]);
    if (!info) throw ERRORS.FILE_NOT_FOUND;
    const offset = info.sealed && info.size !== undefined ? info.size : chain.offset;
    return new Upload({
      id,
      size: info.size,
      offset,
      metadata: info.metadata,
      creation_date: info.creation_date,
      storage: { type: 's3', path: infoKey(id), bucket: this.#bucket },
    });
  }

  override async declareUploadLength(id: string, length: number): Promise<void> {
    const info = await this.info(id);
    if (!info) throw ERRORS.FILE_NOT_FOUND;
    await this.putInfo({ ...info, size: length });
  }

  /** Deletes the info first (the upload is gone for every reader at once), then its pieces. */
  override async remove(id: string): Promise<void> {
    const info = await this.info(id);
    if (info) {
      try {
        await this.#s3.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: infoKey(id) }));
      } catch (error) {
        throw unavailable(`removing upload ${id}`, error);
      }
    }
    const keys: string[] = [];
    for await (const page of this.objects(piecePrefix(id))) {
      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
    }
    await this.deleteKeys(keys);
    if (!info) throw ERRORS.FILE_NOT_FOUND;
  }

  /**
   * Stores `readable` from `offset` on as pieces; resolves with the new offset. Bytes that
   * arrived before the source failed or ended early are stored too (as @tus/file-store
   * keeps them), so a client resumes from where its body was cut.
   *
   * When the request declared its length (`requestBodyBytes`), each piece's size is known
   * before its first byte, and its PutObject streams the bytes as they arrive; otherwise a
   * piece is stored once it is staged whole. Either way the next piece arrives while the
   * one before it is being stored, at most two are in hand, and a piece counts only once
   * every piece before it is stored, so the offset is always the end of the chain.
   */
  override async write(readable: Readable, id: string, offset: number): Promise<number> {
    // tus checked the offset against getUpload under the upload's lock. Pieces at or past
    // it are strays (see above): listed while the body arrives, deleted before the first
    // piece is stored, so none can pass for part of the chain after this write.
    const strays = this.#piecesFrom(checkId(id), offset).then((keys) => this.deleteKeys(keys));
    strays.catch(() => undefined);
    /** Body bytes still to come, when the request said. */
    let left = requestBodyBytes.getStore();
    /** The end of the chain: bytes stored. */
    let end = offset;
    /** Where the arriving piece starts: bytes received. */
    let received = offset;
    /** Resolves once every piece before the arriving one is stored. */
    let stored: Promise<void> = strays;
    let piece: PieceWrite | undefined;
    const commit = (done: PieceWrite) => {
      stored = stored.then(
        async () => {
          await done.store();
          end += done.bytes;
        },
        async (error: unknown) => {
          await done.discard();
          throw error;
        },
      );
      stored.catch(() => undefined);
    };
    try {
      for await (const data of readable) {
        let chunk = data as Buffer;
        while (chunk.length > 0) {
          if (!piece) {
            const size = left !== undefined && left > 0 ? Math.min(left, this.#pieceBytes) : undefined;
            const key = pieceKey(id, received);
            const put = (body: Readable, length: number, signal?: AbortSignal) =>
              this.#putPiece(id, key, body, length, signal);
            piece = await PieceWrite.open(
              this.#stagingDir,
              id,
              size ?? this.#pieceBytes,
              size !== undefined,
              put,
              strays,
            );
          }
          const take = Math.min(chunk.length, piece.room);
          await piece.write(chunk.subarray(0, take));
          chunk = chunk.subarray(take);
          received += take;
          if (left !== undefined) left -= take;
          if (piece.room === 0) {
            // The piece before it is stored before this one is: one being stored, one arriving.
            await stored;
            commit(piece);
            piece = undefined;
          }
        }
      }
    } catch (error) {
      // The source failed (or staging, or S3 did): keep what arrived whole, then report it.
      if (isOutOfSpace(error)) {
        await piece?.discard();
        await stored.catch(() => undefined);
        throw storageFull(error);
      }
      if (piece) commit(piece);
      await stored.catch(() => undefined);
      throw error;
    }
    if (piece) commit(piece);
    await stored;
    return end;
  }

  /** One PutObject of a piece; S3's refusal as ENGINE_UNAVAILABLE. */
  async #putPiece(id: string, Key: string, Body: Readable, ContentLength: number, abortSignal?: AbortSignal) {
    try {
      await this.#s3.send(new PutObjectCommand({ Bucket: this.#bucket, Key, Body, ContentLength }), { abortSignal });
    } catch (error) {
      throw unavailable(`storing bytes of upload ${id}`, error);
    }
  }

  /** Keys of `id`'s pieces that start at `offset` or later (keys sort by offset: fixed width). */
  async #piecesFrom(id: string, offset: number): Promise<string[]> {
    const keys: string[] = [];
    const startAfter = offset > 0 ? pieceKey(id, offset - 1) : undefined;
    for await (const page of this.objects(piecePrefix(id), { startAfter })) {
      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
    }
    return keys;
  }

  override async deleteExpired(): Promise<number> {
    if (this.#expiryMs <= 0) return 0;
    const cutoff = Date.now() - this.#expiryMs;
    let removed = 0;
    for await (const page of this.objects('', { delimiter: '/' })) {
      for (const object of page.Contents ?? []) {
        const id = object.Key?.endsWith('.json') ? object.Key.slice(0, -'.json'.length) : undefined;
        // The info is written at creation (and at a seal, which exempts it): an info object
        // newer than the cutoff is an upload created after it.
        if (!id || !ID.test(id) || (object.LastModified?.getTime() ?? 0) > cutoff) continue;
        const info = await this.info(id);
        if (!info || info.sealed) continue;
        const created = info.creation_date ? Date.parse(info.creation_date) : 0;
        if (created > cutoff) continue;
        await this.remove(id).catch(() => undefined);
        removed++;
      }
    }
    return removed;
  }

  override getExpiration(): number {
    return this.#expiryMs;
  }
}

const QUIET = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/** An S3 client for `options`: path-style with an endpoint, no checksums beyond what S3 requires. */
function s3Client(options: S3BlobStoreOptions): S3Client {
  // Downloads stream from S3 for as long as the recipient reads: far more sockets than the
  // SDK's default 50, or the 51st concurrent download would wait for a free one.
  const agent = { keepAlive: true, maxSockets: 1024 };
  return new S3Client({
    endpoint: options.endpoint,
    forcePathStyle: options.endpoint !== undefined,
    // The SDK finds AWS_REGION (or a profile's); an S3-compatible store rarely cares.
    region: options.region ?? (options.endpoint && !process.env.AWS_REGION ? 'us-east-1' : undefined),
    credentials: options.credentials,
    // S3-compatible stores (Ceph radosgw here) do not all take the SDK's newer default
    // CRC32 trailers on streamed bodies.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // Else the SDK prints to the console whenever a streamed PutObject fails or is aborted
    // (a body cut short); such failures reach Ferry's log as ENGINE_UNAVAILABLE instead.
    logger: QUIET,
    requestHandler: {
      connectionTimeout: 5000,
      httpAgent: new http.Agent(agent),
      httpsAgent: new https.Agent(agent),
    },
  });
}

export class S3BlobStore implements BlobStore {
  readonly datastore: S3PieceStore;
  readonly #s3: S3Client;
  readonly #bucket: string;
  readonly #where: string;

  constructor(options: S3BlobStoreOptions) {
    this.#s3 = s3Client(options);
    this.#bucket = options.bucket;
    this.#where = `S3 bucket "${options.bucket}"${options.endpoint ? ` at ${options.endpoint}` : ''}`;
    this.datastore = new S3PieceStore(this.#s3, options);
  }

  /**
   * A store on a bucket that answers: a missing bucket, refused credentials or an endpoint
   * that does not answer reject with ENGINE_UNAVAILABLE and a sentence naming S3.
   */
  static async open(options: S3BlobStoreOptions): Promise<S3BlobStore> {
    const store = new S3BlobStore(options);
    await store.#checkBucket();
    return store;
  }

  async #checkBucket(): Promise<void> {
    try {
      await this.#s3.send(new HeadBucketCommand({ Bucket: this.#bucket }));
    } catch (error) {
      const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
      const reason =
        status === 404
          ? 'the bucket does not exist (create it first)'
          : status === 403 || status === 401
            ? 'access is denied (check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)'
            : `it does not answer (${error instanceof Error ? error.message || error.name : String(error)})`;
      this.#s3.destroy();
      throw new FerryError(
        'ENGINE_UNAVAILABLE',
        `Ferry cannot use the ${this.#where} (FERRY_S3_BUCKET, FERRY_S3_ENDPOINT) for its files: ${reason}.`,
        { cause: error },
      );
    }
  }

  /**
   * Bytes [start, end] across the pieces that hold them, one ranged GetObject per piece; the
   * next piece's request is sent while the current one streams, so a piece boundary costs
   * no round trip. A reader that stops early releases both.
   */
  read(id: string, start: number, end: number): Readable {
    const pieces = this.datastore;
    const s3 = this.#s3;
    const bucket = this.#bucket;
    const get = async (piece: Piece, from: number, to: number): Promise<Readable> => {
      try {
        const answer = await s3.send(
          new GetObjectCommand({
            Bucket: bucket,
            Key: piece.key,
            Range: `bytes=${from - piece.start}-${to - piece.start}`,
          }),
        );
        return answer.Body as Readable;
      } catch (error) {
        throw unavailable(`reading upload ${id}`, error);
      }
    };
    return Readable.from(
      (async function* () {
        const { pieces: chain, offset } = await pieces.chain(id);
        if (start >= offset && end >= start) throw new RangeError(`upload ${id} has ${offset} bytes, not ${start}`);
        const wanted = chain.flatMap((piece) => {
          const from = Math.max(start, piece.start);
          const to = Math.min(end, piece.start + piece.size - 1);
          return from <= to ? [{ piece, from, to }] : [];
        });
        let next: Promise<Readable> | undefined;
        try {
          for (const [i, { piece, from, to }] of wanted.entries()) {
            const body = await (next ?? get(piece, from, to));
            const after = wanted[i + 1];
            next = after ? get(after.piece, after.from, after.to) : undefined;
            next?.catch(() => undefined);
            yield* body;
          }
        } finally {
          void next?.then(
            (body) => body.destroy(),
            () => undefined,
          );
        }
      })(),
      { objectMode: false },
    );
  }

  async size(id: string): Promise<number | undefined> {
    if (!ID.test(id)) return undefined;
    const [info, chain] = await Promise.all([this.datastore.info(id), this.datastore.chain(id)]);
    if (!info) return undefined;
    return chain.offset;
  }

  /** Marks the info sealed and drops creation_date (exempt from expiry and tus HEAD's check). Idempotent. */
  async seal(id: string): Promise<void> {
    const info = await this.datastore.info(id);
    if (!info || info.size === undefined || info.sealed) return;
    const { creation_date: _, ...rest } = info;
    await this.datastore.putInfo({ ...rest, sealed: true });
  }

  async remove(id: string): Promise<void> {
    if (!ID.test(id)) return;
    try {
      await this.datastore.remove(id);
    } catch (error) {
      if (error !== ERRORS.FILE_NOT_FOUND) throw error;
    }
  }

  /** Ids with an info object or pieces (pieces whose info is gone are listed, so they get removed). */
  async list(): Promise<string[]> {
    const ids = new Set<string>();
    for await (const page of this.datastore.objects('', { delimiter: '/' })) {
      for (const object of page.Contents ?? []) {
        const id = object.Key?.endsWith('.json') ? object.Key.slice(0, -'.json'.length) : '';
        if (ID.test(id)) ids.add(id);
      }
      for (const prefix of page.CommonPrefixes ?? []) {
        const id = prefix.Prefix?.slice(0, -1) ?? '';
        if (ID.test(id)) ids.add(id);
      }
    }
    return [...ids];
  }

  removeExpired(): Promise<number> {
    return this.datastore.deleteExpired();
  }

  /** S3 has no free space to tell. */
  async space(): Promise<undefined> {
    return undefined;
  }

  /** Writes and deletes a probe object (a key no upload id can take). */
  async checkWritable(): Promise<void> {
    const Key = `.write-probe-${randomBytes(6).toString('hex')}`;
    await this.#s3.send(new PutObjectCommand({ Bucket: this.#bucket, Key, Body: 'x' }));
    await this.#s3.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key }));
  }

  close(): void {
    this.#s3.destroy();
    this.datastore.removeStaging();
  }
}
