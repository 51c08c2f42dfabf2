/**
 * The state of one share link being received: open it (link → info → password → keys →
 * manifest), then download files or a ZIP and report each file as verified or failed.
 * Components render these getters and call the methods; nothing else changes the state.
 *
 * Download while uploading: a share the sender is still uploading opens like a ready one
 * (its manifest exists from creation, without hashes). Downloads follow the upload
 * (decrypt-file.ts) and verify against the final manifest (final-hash.ts); meanwhile the
 * manifest is read every few seconds for the sender's progress and, once the share is
 * ready, replaced by the final one.
 */

import type { ShareInfo, ShareManifestResponse } from '../../../../shared/api.ts';
import { fromBase64Url } from '../../../../shared/encoding.ts';
import { type ErrorCode, FerryError } from '../../../../shared/errors.ts';
import { deriveShareKeys, type ShareKeys } from '../../../../shared/keys.ts';
import { parseShareLink, type ShareLink } from '../../../../shared/link.ts';
import { fileCipher, fileKeyBytes, type Manifest, openManifest } from '../../../../shared/manifest.ts';
import type { RecordSource } from '../../../../shared/p2p/peer-records.ts';
import { unwrapSecret } from '../../../../shared/password.ts';
import { getManifest, getShareInfo, requestTicket } from '../../api/share-client.ts';
import { SharePull } from '../../p2p/share-pull.svelte.ts';
import { attention } from '../../pwa/attention.ts';
import { linkSource, noteReceived, receivedRecord } from '../../store/received.ts';
import { type PreviewKind, previewKind } from '../preview/preview-kind.ts';
import type { PreviewSource } from '../preview/preview-session.ts';
import { type ThumbnailPlan, thumbnailPlan } from '../preview/thumbnail.ts';
import { SpeedMeter, secondsLeft } from '../send/progress.ts';
import { safeDownloadName } from './content-disposition.ts';
import type { DecryptedFile } from './decrypt-file.ts';
import { Decryptor, workerFile } from './decryptor.ts';
import { waitForFinalHash } from './final-hash.ts';
import type { StoredFile, SwFetchFile } from './messages.ts';
import {
  type ErrorPage,
  errorPage,
  fileFailure,
  isShareGone,
  isVerificationFailure,
  manifestReadError,
  nothingSaved,
  partKept,
} from './receive-errors.ts';
import { isRetryable } from './resume.ts';
import { chooseTarget, type SaveTarget, StreamingUnavailable } from './sinks.ts';
import { checkFreeSpace, removeStaleStaged, StagedFile, stagingAvailable } from './staging.ts';
import { activeServiceWorker } from './sw-download.ts';
import { ticketAccepted, VisitTicket } from './visit-ticket.ts';
import { zipLength, zipStream } from './zip.ts';
import { zipArchiveName } from './zip-names.ts';

/** How often a share still being uploaded is checked again. */
export const POLL_MS = 3000;
/** Failures of a poll that only mean "try again": offline, or the server restarting. */
const TRANSIENT: readonly ErrorCode[] = ['NETWORK_ERROR', 'INTERNAL'];
/** Progress is published at most this often per file, not per 64 KiB record. */
const PROGRESS_STEP = 1024 * 1024;

export type Phase = 'opening' | 'password' | 'ready' | 'error';
/** `unsaved`: verified, but inside a ZIP archive that failed later and so was not saved. */
export type FileStatus = 'idle' | 'waiting' | 'downloading' | 'verified' | 'unsaved' | 'failed';

export interface FileState {
  name: string;
  size: number;
  status: FileStatus;
  received: number;
  /** While the sender uploads: the share of the file's ciphertext on the server (0…1); else null. */
  uploaded: number | null;
  /** The sentence shown in role=alert when the file failed. */
  failure: string | null;
  /** Where the file's records come from in this download (the sender's tab or the server); null before. */
  source: RecordSource | null;
  /** While it downloads: plaintext bytes per second over the last seconds, and the time left (null: unknown). */
  bytesPerSecond: number;
  secondsLeft: number | null;
  /**
   * Where the file is staged before the browser's download starts (staging.ts): `staging`
   * while it is fetched and checked into this browser's storage, `staged` once it is (an
   * archive's file waiting for the others), `saving` while the browser saves the verified
   * copy; null on every other path.
   */
  step: 'staging' | 'staged' | 'saving' | null;
}

export class ReceiveSession {
  #phase = $state<Phase>('opening');
  #error = $state<ErrorPage | null>(null);
  #passwordError = $state<string | null>(null);
  #unlocking = $state(false);
  #busy = $state(false);
  #files = $state<FileState[]>([]);
  /** A sentence about the last download action as a whole (role=alert), or null. */
  #notice = $state<string | null>(null);
  /** The sender is still uploading the share. */
  #uploading = $state(false);

  readonly #decryptor = new Decryptor();
  #link: ShareLink | null = null;
  #info: ShareInfo | null = null;
  #keys: ShareKeys | null = null;
  #manifest: Manifest | null = null;
  /** One ticket for the whole visit, naming every file: see visit-ticket.ts for why. */
  #tickets: VisitTicket | null = null;
  /** The visit's thumbnail ticket: reads first records only and never counts (links without a limit). */
  #thumbnailTickets: VisitTicket | null = null;
  /** Files staged in OPFS by position (staging.ts), kept after a failed try so the next continues. */
  readonly #staged = new Map<number, StagedFile>();
  /** The BLAKE3 each staged file matched, until it is saved. */
  readonly #stagedHash = new Map<number, string>();
  /** Records straight from the sender's open tab, under the visit's ticket like the server's. */
  #pull: SharePull | null = null;
  #poll: ReturnType<typeof setTimeout> | undefined;
  #disposed = false;
  /** Back from the background: check the sender's upload now, not at the throttled timer. */
  readonly #offResume = attention.onResume(() => {
    if (!this.#uploading || this.#phase !== 'ready' || this.#disposed) return;
    clearTimeout(this.#poll);
    void this.#refresh();
  });

  get phase(): Phase {
    return this.#phase;
  }
  get error(): ErrorPage | null {
    return this.#error;
  }
  get passwordError(): string | null {
    return this.#passwordError;
  }
  get unlocking(): boolean {
    return this.#unlocking;
  }
  get busy(): boolean {
    return this.#busy;
  }
  get notice(): string | null {
    return this.#notice;
  }
  /** True while the sender is still uploading: downloads follow the upload. */
  get uploading(): boolean {
    return this.#uploading;
  }
  get files(): readonly FileState[] {
    return this.#files;
  }
  /** The heading: the file's name, or "N files". */
  get title(): string {
    const [only] = this.#files;
    return this.#files.length === 1 && only ? only.name : `${this.#files.length} files`;
  }
  get totalSize(): number {
    return this.#files.reduce((sum, f) => sum + f.size, 0);
  }
  /** True while downloads come straight from the sender's open tab. */
  get direct(): boolean {
    return this.#pull?.direct ?? false;
  }
  /** The share's download limit, or null when it has none. */
  get downloadLimit(): number | null {
    return this.#info?.maxDownloads ?? null;
  }
  /** Downloads the link has left when it was opened (this visit's included), or null without a limit. */
  get downloadsLeft(): number | null {
    const info = this.#info;
    return info?.maxDownloads == null ? null : Math.max(0, info.maxDownloads - info.downloads);
  }
  /** When the link expires (ms since the epoch), once known. */
  get expiresAt(): number | null {
    return this.#info?.expiresAt ?? null;
  }
  /** How file `index` can be previewed (by its manifest type, else its extension), or null. */
  previewKind(index: number): PreviewKind | null {
    const file = this.#manifest?.files[index];
    return file ? previewKind(file.name, file.type) : null;
  }

  /**
   * How file `index` gets a thumbnail (thumbnail.ts), or null. None on a link with a download
   * limit: the server grants thumbnail tickets (which never count) only on links without one
   * (ARCHITECTURE.md "Thumbnails"); none while the file is still being uploaded.
   */
  thumbnailPlan(index: number): ThumbnailPlan {
    const file = this.#manifest?.files[index];
    if (!file || this.downloadLimit !== null) return null;
    // While the sender uploads it, not yet: the plan changes once the file is whole on the server.
    const uploaded = this.#files[index]?.uploaded ?? null;
    if (uploaded !== null && uploaded < 1) return null;
    return thumbnailPlan(file.name, file.type, file.size, file.recordSize);
  }

  /**
   * What a preview of file `index` reads with: the file's cipher and the visit's ticket. A
   * preview reads ciphertext like a download, so it shares the visit's one ticket: seeking
   * and later downloads in this visit never cost another download (ARCHITECTURE.md "Previews").
   */
  previewSource(index: number): Promise<PreviewSource> {
    return this.#source(index, () => this.#ticket(index));
  }

  /** What a thumbnail of file `index` reads with: the visit's thumbnail ticket, which never counts. */
  thumbnailSource(index: number): Promise<PreviewSource> {
    return this.#source(index, () => this.#thumbnailTicket(index));
  }

  async #source(index: number, ticketFor: () => Promise<string>): Promise<PreviewSource> {
    const file = this.#manifest?.files[index];
    const link = this.#link;
    const keys = this.#keys;
    if (!file || !link || !keys) throw new FerryError('BAD_REQUEST', 'The share is not open.');
    const { key, nonceBase, size, recordSize, name } = await fileCipher(file, keys.contentKey);
    const ticket = await ticketFor();
    const nonce = new Uint8Array(nonceBase);
    return {
      name,
      mime: file.type,
      size,
      recordSize,
      nonceBase: nonce,
      key,
      shareId: link.id,
      index,
      ticket,
      readerToken: keys.readerToken,
    };
  }

  get allVerified(): boolean {
    return this.#files.length > 0 && this.#files.every((f) => f.status === 'verified');
  }

  /** Opens the share of the current location. */
  async start(href: string): Promise<void> {
    // Start the service worker's registration now; a large download waits for it at click time.
    activeServiceWorker().catch(() => {});
    void removeStaleStaged();
    try {
      this.#link = parseShareLink(href);
    } catch (error) {
      this.#fail(error);
      return;
    }
    await this.#open();
  }

  /** Tries a password; a wrong one leaves the form up with an alert. */
  async unlock(password: string): Promise<void> {
    const wrap = this.#info?.password;
    if (!this.#link || !wrap || this.#unlocking) return;
    this.#unlocking = true;
    this.#passwordError = null;
    try {
      await this.#openManifest(await unwrapSecret(this.#link.key, password, wrap));
    } catch (error) {
      if (error instanceof FerryError && error.code === 'WRONG_PASSWORD') {
        this.#passwordError = 'Wrong password. Check it and try again.';
      } else {
        this.#fail(error);
      }
    } finally {
      this.#unlocking = false;
    }
  }

  /** Downloads file `index`. Call straight from the click: the save picker needs the gesture. */
  async download(index: number): Promise<void> {
    const file = this.#files[index];
    if (!file || this.#busy) return;
    this.#busy = true;
    this.#notice = null;
    /** The browser keeps what it received of a failed download there (WebKit: sw-download-cut.test.ts). */
    let kept: string | null = null;
    try {
      const target = await chooseTarget(file.name, file.size, 'file');
      if (!target) return;
      const staging = target.kind === 'service-worker-fetch' && (await stagingAvailable());
      if (target.kind === 'service-worker-fetch' && !staging) kept = safeDownloadName(file.name);
      attention.running(this, true);
      this.#reset([index]);
      const ticket = await this.#ticket(index);
      if (target.kind === 'service-worker-fetch' && staging) {
        file.status = 'downloading';
        this.#setSource(index, 'server');
        await this.#stage(index, ticket);
        // From here on the browser saves: a save cut now leaves what WebKit leaves.
        kept = safeDownloadName(file.name);
        await this.#saveStaged(index, target);
      } else if (target.kind === 'service-worker-fetch') {
        const swFile = await this.#swFetchFile(index, ticket);
        file.status = 'downloading';
        this.#setSource(index, 'server');
        const progress = this.#progress(index);
        await target.fetch(swFile, {
          progress: (_, bytes) => progress(bytes),
          finalHash: () => this.#finalHash(index),
        });
        progress(file.size);
      } else {
        const decrypted = await this.#openFile(index, ticket);
        file.status = 'downloading';
        const saving = target.save(decrypted.stream.pipeThrough(this.#counter(index)));
        throwFirstFailure(await Promise.allSettled([decrypted.result, saving]));
      }
      file.status = 'verified';
      this.#note(index);
      void attention.notify('Download complete', 'Your file was saved and verified.');
    } catch (error) {
      if (error instanceof StreamingUnavailable) this.#notice = error.message;
      else {
        this.#fileFailed(index, error, kept);
        await this.#afterStagingFailure(index, error, kept !== null);
        void attention.notify('Download failed', 'Open Ferry to see what went wrong.');
      }
    } finally {
      if (file.step !== null) file.step = null;
      attention.running(this, false);
      this.#busy = false;
    }
  }

  /**
   * Fetches, decrypts and verifies file `index` into OPFS (staging.ts), continuing from what
   * an earlier try staged; nothing reaches the browser's downloads meanwhile.
   */
  async #stage(index: number, ticket: string): Promise<void> {
    const file = this.#files[index];
    const entry = this.#manifest?.files[index];
    const link = this.#link;
    const keys = this.#keys;
    if (!file || !entry || !link || !keys) throw new FerryError('BAD_REQUEST', 'The share is not open.');
    file.step = 'staging';
    let staged = this.#staged.get(index);
    if (!staged) {
      staged = await StagedFile.create(index);
      this.#staged.set(index, staged);
    }
    await checkFreeSpace(file.name, file.size - staged.bytes);
    const cipher = await fileCipher(entry, keys.contentKey);
    const progress = this.#progress(index);
    progress(staged.bytes);
    const source = { shareId: link.id, index, ticket, file: entry, ...keys };
    const blake3 = await staged.stage(workerFile(source, cipher), progress);
    this.#stagedHash.set(index, blake3);
  }

  /** Has the service worker serve staged file `index` from OPFS as the download, then removes it. */
  async #saveStaged(index: number, target: Extract<SaveTarget, { kind: 'service-worker-fetch' }>): Promise<void> {
    const file = this.#files[index];
    const staged = this.#staged.get(index);
    const blake3 = this.#stagedHash.get(index);
    if (!file || !staged || !blake3) throw new FerryError('BAD_REQUEST', 'The file is not staged.');
    file.step = 'saving';
    await target.stored({ folder: 'staged', path: staged.path, blake3 });
    await this.#unstage(index);
  }

  /**
   * After a failed try of a staged download: a network failure while staging keeps what is
   * staged, and the file's sentence says the next try continues from there; any other
   * failure (verification, storage, the browser's save) removes it.
   */
  async #afterStagingFailure(index: number, error: unknown, saving: boolean): Promise<void> {
    const staged = this.#staged.get(index);
    const file = this.#files[index];
    if (!staged || !file) return;
    const keep = !saving && !isVerificationFailure(error) && staged.bytes > 0 && isRetryable(error);
    if (!keep) await this.#unstage(index);
    // A verification failure already says the file was not saved.
    if (!saving && file.failure !== null && !isVerificationFailure(error)) {
      file.failure = `${file.failure} ${nothingSaved(keep ? staged.bytes : 0)}`;
    }
  }

  async #unstage(index: number): Promise<void> {
    const staged = this.#staged.get(index);
    this.#staged.delete(index);
    this.#stagedHash.delete(index);
    await staged?.remove();
  }

  /**
   * Downloads every file as one streamed ZIP. Where the page cannot hand the service worker
   * a stream (Safari), every file is first staged and verified in OPFS and the service
   * worker then serves the ZIP from those copies; where OPFS does not work either, an
   * archive too large for memory is refused before anything is fetched, since a ZIP the
   * service worker fetched while the browser saved it would, cut off, stay under its name
   * (WebKit: e2e/webkit/sw-download-cut.test.ts).
   */
  async downloadAll(): Promise<void> {
    const manifest = this.#manifest;
    if (!manifest || !this.#link || this.#busy) return;
    this.#busy = true;
    this.#notice = null;
    const indices = manifest.files.map((_, i) => i);
    const verdicts: Promise<void>[] = [];
    /** Staged in OPFS first (Safari); `kept` is set once the browser's download of it starts. */
    let staging = false;
    let kept: string | null = null;
    const track = async (opening: Promise<DecryptedFile>) => {
      const file = await opening;
      verdicts.push(file.result);
      return file;
    };
    try {
      const name = zipArchiveName(
        manifest.files.map((f) => f.name),
        this.#link.id,
      );
      const target = await chooseTarget(name, zipLength(manifest.files), 'archive');
      if (!target) return;
      if (target.kind === 'service-worker-fetch' && !(await stagingAvailable())) {
        throw new StreamingUnavailable('archive');
      }
      attention.running(this, true);
      this.#reset(indices);
      for (const f of this.#files) f.status = 'waiting';
      const ticket = await this.#ticket(0);
      const events = {
        onStart: (i: number) => this.#setStatus(i, 'downloading'),
        onVerified: (i: number) => {
          this.#setStatus(i, 'verified');
          this.#note(i);
        },
        onFailed: (i: number, error: FerryError) => this.#fileFailed(i, error),
      };
      if (target.kind === 'service-worker-fetch') {
        staging = true;
        await this.#stageAll(name, indices, ticket);
        // From here on the browser saves: a save cut now leaves what WebKit leaves.
        kept = safeDownloadName(name);
        await this.#saveStagedArchive(indices, target, events);
      } else {
        const archive = zipStream(manifest.files, (i) => track(this.#openFile(i, ticket, true)), events);
        await target.save(archive);
      }
      void attention.notify('Download complete', 'Your files were saved and verified.');
    } catch (error) {
      if (error instanceof StreamingUnavailable) {
        this.#notice = error.message;
        return;
      }
      void attention.notify('Download failed', 'Open Ferry to see what went wrong.');
      // Let the files' own verdicts arrive first: they say which file failed and why.
      await Promise.allSettled(verdicts);
      if (this.#phase === 'error') return;
      // A failed file already has its sentence; otherwise the file in progress says why.
      const said = this.#files.some((f) => f.status === 'failed');
      if (!said) {
        for (const i of indices) if (this.#files[i]?.status === 'downloading') this.#fileFailed(i, error);
      }
      // The archive was aborted, so files that verified before the failure were not saved
      // either: they must not read "Verified". Files never reached go back to idle (finally).
      const unsaved = this.#files.filter((f) => f.status === 'verified' || f.step === 'staged');
      for (const f of unsaved) f.status = 'unsaved';
      if (staging && kept === null) {
        this.#notice = await this.#afterArchiveStagingFailure(
          indices,
          error,
          this.#files.some((f) => f.status === 'failed'),
        );
        return;
      }
      if (staging) await this.#unstageAll(indices);
      const archive =
        kept === null ? 'The archive was not saved.' : `The archive was not saved. ${partKept(kept, 'archive')}`;
      this.#notice =
        unsaved.length > 0 ? `${archive} Files marked “Not saved” verified and can be downloaded one by one.` : archive;
    } finally {
      for (const f of this.#files) {
        if (f.status === 'waiting') f.status = 'idle';
        if (f.step !== null) f.step = null;
      }
      attention.running(this, false);
      this.#busy = false;
    }
  }

  /**
   * Stages every file of the archive in OPFS, one after another, each fetched, decrypted and
   * verified (records and whole-file BLAKE3) before the next; files an earlier try staged
   * whole are kept, a partly staged one continues. The storage must have room for all that
   * is left before the first ciphertext GET (STORAGE_FULL, naming the archive).
   */
  async #stageAll(archive: string, indices: number[], ticket: string): Promise<void> {
    let left = 0;
    for (const i of indices) {
      const file = this.#files[i];
      const staged = this.#staged.get(i);
      if (file && !this.#stagedHash.has(i)) left += file.size - (staged?.bytes ?? 0);
    }
    await checkFreeSpace(archive, left);
    for (const i of indices) {
      const file = this.#files[i];
      if (!file) continue;
      if (!this.#stagedHash.has(i)) {
        file.status = 'downloading';
        this.#setSource(i, 'server');
        try {
          await this.#stage(i, ticket);
        } catch (error) {
          this.#fileFailed(i, error);
          throw error;
        }
      }
      file.status = 'waiting';
      file.step = 'staged';
      file.received = file.size;
    }
  }

  /** Has the service worker serve every staged file as one ZIP (sw-stored.ts), then removes them. */
  async #saveStagedArchive(
    indices: number[],
    target: Extract<SaveTarget, { kind: 'service-worker-fetch' }>,
    events: { onStart(i: number): void; onVerified(i: number): void; onFailed(i: number, error: FerryError): void },
  ): Promise<void> {
    const files: StoredFile[] = [];
    for (const i of indices) {
      const entry = this.#manifest?.files[i];
      const staged = this.#staged.get(i);
      const blake3 = this.#stagedHash.get(i);
      if (!entry || !staged || !blake3) throw new FerryError('BAD_REQUEST', 'The files are not staged.');
      files.push({ path: staged.path, name: entry.name, size: entry.size, blake3, modified: entry.modified ?? null });
    }
    for (const i of indices) {
      const file = this.#files[i];
      if (file) Object.assign(file, { status: 'waiting', step: 'saving', received: 0 });
    }
    const progress = indices.map((i) => this.#progress(i));
    await target.storedArchive('staged', files, {
      started: (position) => this.#setStatus(indices[position] ?? -1, 'downloading'),
      progress: (position, bytes) => progress[position]?.(bytes),
      verified: (position) => {
        const i = indices[position];
        if (i === undefined) return;
        progress[position]?.(this.#files[i]?.size ?? 0);
        events.onVerified(i);
      },
      failed: (position, error) => events.onFailed(indices[position] ?? -1, error),
      finalHash: () => undefined,
    });
    await this.#unstageAll(indices);
  }

  /**
   * After an archive failed while its files were staged, before any download started: a
   * network failure keeps what is staged for the next "Download all", anything else removes
   * it. Answers the notice: nothing was saved, and what the next try continues from.
   */
  async #afterArchiveStagingFailure(indices: number[], error: unknown, said: boolean): Promise<string> {
    const keep = !isVerificationFailure(error) && isRetryable(error);
    if (!keep) await this.#unstageAll(indices);
    let bytes = 0;
    for (const i of indices) bytes += this.#staged.get(i)?.bytes ?? 0;
    const why = said || !(error instanceof FerryError) ? '' : `${error.message} `;
    return `${why}${nothingSaved(bytes, 'archive')}`;
  }

  async #unstageAll(indices: number[]): Promise<void> {
    await Promise.all(indices.map((i) => this.#unstage(i)));
  }

  dispose(): void {
    this.#disposed = true;
    clearTimeout(this.#poll);
    this.#offResume();
    attention.running(this, false);
    this.#decryptor.dispose();
    for (const index of [...this.#staged.keys()]) void this.#unstage(index);
    this.#pull?.dispose();
  }

  async #open(): Promise<void> {
    const link = this.#link;
    if (!link || this.#disposed) return;
    try {
      const info = await getShareInfo(link.id);
      this.#info = info;
      if (info.maxDownloads !== null && info.downloads >= info.maxDownloads) {
        throw new FerryError('DOWNLOAD_LIMIT_REACHED', 'Download limit reached.');
      }
      this.#uploading = info.state === 'uploading';
      if (info.password) {
        this.#phase = 'password';
        return;
      }
      await this.#openManifest(link.key);
    } catch (error) {
      this.#fail(error);
    }
  }

  async #openManifest(secret: Uint8Array<ArrayBuffer>): Promise<void> {
    const link = this.#link;
    if (!link) return;
    const keys = await deriveShareKeys(secret);
    const answer = await getManifest(link.id, keys.readerToken).catch((error: unknown) => {
      throw manifestReadError(error);
    });
    this.#keys = keys;
    const manifest = await openManifest(answer.manifest, keys.metaKey);
    this.#manifest = manifest;
    this.#files = manifest.files.map((f) => ({
      name: f.name,
      size: f.size,
      status: 'idle',
      received: 0,
      uploaded: null,
      failure: null,
      source: null,
      bytesPerSecond: 0,
      secondsLeft: null,
      step: null,
    }));
    this.#phase = 'ready';
    this.#startPull(link.id, keys, secret, manifest);
    this.#showUpload(answer);
  }

  /** Looks for the sender's open tab in the share room (downloads then pull from it). */
  #startPull(shareId: string, keys: ShareKeys, secret: Uint8Array<ArrayBuffer>, manifest: Manifest): void {
    // Without WebRTC (or a WebSocket) there is nobody to pull from: the server it is.
    if (this.#disposed || this.#pull || typeof RTCPeerConnection === 'undefined' || typeof WebSocket === 'undefined') {
      return;
    }
    this.#pull = new SharePull({
      shareId,
      readerToken: keys.readerToken,
      secret,
      layout: (index) => manifest.files[index] ?? null,
    });
    this.#pull.start();
  }

  /** Takes the sender's progress from a manifest answer; keeps watching while it uploads. */
  #showUpload(answer: ShareManifestResponse): void {
    this.#uploading = answer.state === 'uploading';
    for (const [i, file] of this.#files.entries()) {
      const state = answer.files.find((f) => f.index === i);
      file.uploaded = this.#uploading && state ? (state.size === 0 ? 1 : state.uploaded / state.size) : null;
    }
    clearTimeout(this.#poll);
    if (this.#uploading && !this.#disposed) this.#poll = setTimeout(() => void this.#refresh(), POLL_MS);
  }

  /**
   * Reads the manifest again while the sender uploads. Once the share is ready, the final
   * manifest (with every file's hash) replaces the first one for later downloads. A
   * dropped connection or a server restart just waits for the next check; a share that is
   * gone (revoked, expired) ends the page.
   */
  async #refresh(): Promise<void> {
    const link = this.#link;
    const keys = this.#keys;
    if (!link || !keys || this.#disposed) return;
    try {
      const answer = await getManifest(link.id, keys.readerToken);
      if (answer.state === 'ready') this.#manifest = await openManifest(answer.manifest, keys.metaKey);
      this.#showUpload(answer);
    } catch (error) {
      if (error instanceof FerryError && TRANSIENT.includes(error.code)) {
        this.#poll = setTimeout(() => void this.#refresh(), POLL_MS);
        return;
      }
      this.#fail(error);
    }
  }

  /** The visit's ticket (asked for at the first download action), checked for file `index`. */
  #ticket(index: number): Promise<string> {
    this.#tickets ??= this.#visitTicket('download');
    return this.#tickets.for(index);
  }

  /** The visit's thumbnail ticket (asked for at the first thumbnail), checked for file `index`. */
  #thumbnailTicket(index: number): Promise<string> {
    this.#thumbnailTickets ??= this.#visitTicket('thumbnail');
    return this.#thumbnailTickets.for(index);
  }

  #visitTicket(purpose: 'download' | 'thumbnail'): VisitTicket {
    const link = this.#link;
    const keys = this.#keys;
    const manifest = this.#manifest;
    if (!link || !keys || !manifest) throw new FerryError('BAD_REQUEST', 'The share is not open.');
    return new VisitTicket(manifest.files.length, {
      request: (files) => requestTicket(link.id, keys.readerToken, files, purpose),
      accepts: (ticket, i) => ticketAccepted(link.id, keys.readerToken, ticket, i),
    });
  }

  #openFile(index: number, ticket: string, counted = false) {
    const file = this.#manifest?.files[index];
    if (!file || !this.#link || !this.#keys) throw new FerryError('BAD_REQUEST', 'The share is not open.');
    const source = {
      shareId: this.#link.id,
      index,
      readerToken: this.#keys.readerToken,
      ticket,
      file,
      contentKey: this.#keys.contentKey,
      metaKey: this.#keys.metaKey,
    };
    const opening = this.#pull?.direct
      ? this.#decryptor.open(
          source,
          this.#pull.fetchCiphertext((i, from) => this.#setSource(i, from)),
        )
      : this.#decryptor.open(source);
    if (!this.#pull?.direct) this.#setSource(index, 'server');
    if (!counted) return opening;
    return opening.then((d) => ({ ...d, stream: d.stream.pipeThrough(this.#counter(index)) }));
  }

  /** Counts plaintext bytes for the progress display, with the speed and time left. */
  #counter(index: number): TransformStream<Uint8Array, Uint8Array> {
    let seen = 0;
    const progress = this.#progress(index);
    return new TransformStream({
      transform: (chunk, controller) => {
        seen += chunk.length;
        progress(seen);
        controller.enqueue(chunk);
      },
    });
  }

  /** Shows `seen` plaintext bytes of file `index` (at most every PROGRESS_STEP), with the speed and time left. */
  #progress(index: number): (seen: number) => void {
    let shown = 0;
    const meter = new SpeedMeter();
    meter.sample(performance.now(), 0);
    return (seen) => {
      const file = this.#files[index];
      if (file && (seen - shown >= PROGRESS_STEP || seen === file.size)) {
        meter.sample(performance.now(), seen);
        file.received = seen;
        file.bytesPerSecond = meter.bytesPerSecond();
        file.secondsLeft = secondsLeft(file.size - seen, file.bytesPerSecond);
        shown = seen;
      }
    };
  }

  /**
   * What the service worker needs to fetch file `index` itself (sw-fetch.ts): where it is,
   * its record layout and hash, and its raw key, from the link's fragment, never the server.
   */
  async #swFetchFile(index: number, ticket: string): Promise<SwFetchFile> {
    const file = this.#manifest?.files[index];
    if (!file || !this.#link || !this.#keys) throw new FerryError('BAD_REQUEST', 'The share is not open.');
    const { name, size, recordSize, blake3, modified } = file;
    return {
      shareId: this.#link.id,
      index,
      readerToken: this.#keys.readerToken,
      ticket,
      name,
      size,
      recordSize,
      nonceBase: fromBase64Url(file.nonce),
      blake3,
      keyBytes: await fileKeyBytes(file, this.#keys.contentKey),
      modified: modified ?? null,
    };
  }

  /** For a file without a hash yet (sender still uploading): its hash from the final manifest. */
  #finalHash(index: number): (() => Promise<string>) | undefined {
    const file = this.#manifest?.files[index];
    const link = this.#link;
    const keys = this.#keys;
    if (!file || file.blake3 !== null || !link || !keys) return undefined;
    const { name, size, recordSize, nonce } = file;
    return () =>
      waitForFinalHash({
        shareId: link.id,
        index,
        readerToken: keys.readerToken,
        metaKey: keys.metaKey,
        file: { name, size, recordSize, nonce },
      });
  }

  #reset(indices: number[]): void {
    for (const i of indices) {
      const file = this.#files[i];
      if (file) {
        Object.assign(file, { status: 'idle', received: 0, failure: null, source: null });
        Object.assign(file, { bytesPerSecond: 0, secondsLeft: null, step: null });
      }
    }
  }

  #setSource(index: number, source: RecordSource): void {
    const file = this.#files[index];
    if (file) file.source = source;
  }

  #setStatus(index: number, status: FileStatus): void {
    const file = this.#files[index];
    if (file) file.status = status;
  }

  #fileFailed(index: number, error: unknown, kept: string | null = null): void {
    if (error instanceof FerryError && isShareGone(error.code)) {
      this.#fail(error);
      return;
    }
    const file = this.#files[index];
    if (!file) return;
    file.status = 'failed';
    file.failure = fileFailure(file.name, error, kept);
    this.#note(index);
  }

  /** Adds file `index`'s verdict to this browser's history of received files (no key, no link). */
  #note(index: number): void {
    const file = this.#manifest?.files[index];
    const state = this.#files[index];
    if (!file || !state || !this.#link) return;
    const failure = state.status === 'failed' ? state.failure : null;
    noteReceived(receivedRecord(linkSource(this.#link.id), this.#link.id, index, file, failure));
  }

  #fail(error: unknown): void {
    clearTimeout(this.#poll);
    this.#error = errorPage(error);
    this.#phase = 'error';
  }
}

/**
 * Rethrows the most telling failure of [verdict, save]: a verification or network failure
 * of the file first, then a failure of the sink, then a cancellation.
 */
function throwFirstFailure([verdict, saved]: PromiseSettledResult<unknown>[]): void {
  const aborted = (r: PromiseSettledResult<unknown> | undefined) =>
    r?.status === 'rejected' && r.reason instanceof FerryError && r.reason.code === 'ABORTED';
  if (verdict?.status === 'rejected' && !aborted(verdict)) throw verdict.reason;
  if (saved?.status === 'rejected') throw saved.reason;
  if (verdict?.status === 'rejected') throw verdict.reason;
}
