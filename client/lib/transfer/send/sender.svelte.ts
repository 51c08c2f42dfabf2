/**
 * The send journey as one object: check for reusable blobs, create the share, upload the
 * rest while hashing, then publish the final manifest and mark the share ready in one
 * PATCH (so a share is never `ready` without its hashes). Also resumes pending shares.
 * Components read its getters and call its methods; it owns the Hasher and the Encryptor.
 */
import type { CreateShareRequest, CreateShareResponse } from '../../../../shared/api.ts';
import { fromBase64Url, toBase64Url } from '../../../../shared/encoding.ts';
import { FerryError } from '../../../../shared/errors.ts';
import { deriveFileKey, deriveFileKeyBytes, deriveShareKeys } from '../../../../shared/keys.ts';
import { formatShareLink } from '../../../../shared/link.ts';
import { sealManifest } from '../../../../shared/manifest.ts';
import { createShare, getOwnerView, updateShare } from '../../api/share-client.ts';
import { attention } from '../../pwa/attention.ts';
import type { ShareRecord } from '../../store/db.ts';
import { candidatesFor, deleteDedup, fingerprintOf, putDedup } from '../../store/dedup.ts';
import { getShare, putShare, updateFile, updateShare as updateRecord } from '../../store/shares.ts';
import { Hasher } from '../hash/hasher.ts';
import { checkContent } from './content-check.ts';
import { matchReuse } from './dedup-match.ts';
import { Encryptor } from './encryptor.ts';
import { toFerryError } from './errors.ts';
import { fileFromHandle } from './file-handles.ts';
import { isLostCreation, uploadUrlOfSlot } from './lost-creation.ts';
import { shareNames } from './names.ts';
import { type FerryUppy, type Picker, TUS_ENDPOINT } from './picker.svelte.ts';
import { SpeedMeter, secondsLeft } from './progress.ts';
import { shouldNudgeOnOnline, shouldRetryStatus } from './retry.ts';
import { type SettingsErrors, type SettingsInput, validateSettings } from './settings.ts';
import { withShareLock } from './share-lock.ts';
import {
  isStaleReuse,
  manifestOf,
  nonceOf,
  type PlannedFile,
  planShare,
  requireHashes,
  withFullHashes,
  withoutReuse,
} from './share-plan.ts';
import { markDone, prepareRun, type RunItem } from './upload-run.ts';

export type SendPhase = 'idle' | 'checking' | 'creating' | 'uploading' | 'finishing' | 'done' | 'failed';

/**
 * Where a send goes instead of a new link: an upload into a request link
 * (client/lib/requests). Its secret is derived, not random, and the share is created
 * through the request, which checks the requester's limits.
 */
export interface ShareTarget {
  secret: Uint8Array<ArrayBuffer>;
  create(request: CreateShareRequest): Promise<CreateShareResponse>;
}

export interface FileNote {
  name: string;
  reused: boolean;
}

export class Sender {
  #phase = $state<SendPhase>('idle');
  #error = $state<FerryError | null>(null);
  #settingsErrors = $state<SettingsErrors>({});
  #notes = $state<FileNote[]>([]);
  #sent = $state(0);
  #total = $state(0);
  #speed = $state(0);
  #reconnecting = $state(false);
  /** A retry was decided while offline, so Uppy's queue waits for `online` (retry.ts). */
  #queuePaused = false;
  #shareId = $state<string | null>(null);

  readonly #picker: Picker;
  readonly #onChange: () => void;
  readonly #hasher = new Hasher();
  readonly #encryptor = new Encryptor();
  readonly #meter = new SpeedMeter();
  /** Files of this page's sends, so a resume without a reload does not ask for them. */
  readonly #live = new Map<string, Map<number, File>>();
  /** The files of the last share this tab finished sending. */
  #held: { shareId: string; files: ReadonlyMap<number, File> } | null = null;
  #perFile = new Map<string, number>();
  #sizes = new Map<string, number>();
  #uploadErrors = new Map<string, unknown>();
  /** Stops the nudge when the page returns from the background. */
  readonly #offResume: () => void;

  /** `onChange` runs whenever stored shares change (the history list reloads). */
  constructor(picker: Picker, onChange: () => void) {
    this.#picker = picker;
    this.#onChange = onChange;
    // Uppy loads on the first pick (picker.svelte.ts); its events are wired once it runs.
    picker.onLoad((uppy) => this.#listen(uppy));
    window.addEventListener('online', this.#onOnline);
    // Back from the background: a stalled upload retries at once, as when back online.
    this.#offResume = attention.onResume(this.#onOnline);
  }

  #listen(uppy: FerryUppy): void {
    uppy.on('upload-progress', (file, progress) => {
      if (!file || !this.#sizes.has(file.id)) return;
      this.#perFile.set(file.id, progress.bytesUploaded);
      this.#reconnecting = false;
      this.#queuePaused = false;
      this.#tick();
    });
    uppy.on('upload-success', (file) => {
      if (!file || !this.#sizes.has(file.id)) return;
      this.#perFile.set(file.id, this.#sizes.get(file.id) ?? 0);
      this.#tick();
    });
    uppy.on('upload-error', (file, error) => {
      if (file) this.#uploadErrors.set(file.id, error);
    });
    uppy.getPlugin('Tus')?.setOptions({
      // Our policy first (retry.ts), then Uppy's own rule, which also pauses its queue on 429.
      onShouldRetry: (error, attempt, _options, next) => {
        const status = error.originalResponse?.getStatus();
        if (!shouldRetryStatus(status, error.originalRequest?.getMethod(), attempt) || !next(error)) return false;
        // "Reconnecting…" until bytes flow again (upload-progress).
        this.#reconnecting = true;
        // Offline now: Uppy has paused its queue and resumes it on `online` by itself.
        if (navigator.onLine === false) this.#queuePaused = true;
        return true;
      },
    });
  }

  /** Stops listening to the window. */
  dispose(): void {
    window.removeEventListener('online', this.#onOnline);
    this.#offResume();
    attention.running(this, false);
  }

  /** Back online: retry now instead of when the retry delay (up to a minute) runs out. */
  #onOnline = (): void => {
    const uploading = this.#phase === 'uploading';
    if (!shouldNudgeOnOnline({ uploading, reconnecting: this.#reconnecting, queuePaused: this.#queuePaused })) return;
    // Pausing aborts each upload and its pending retry; resuming starts it again (HEAD, then PATCH).
    this.#picker.uppy.pauseAll();
    this.#picker.uppy.resumeAll();
  };

  get phase(): SendPhase {
    return this.#phase;
  }
  get busy(): boolean {
    return ['checking', 'creating', 'uploading', 'finishing'].includes(this.#phase);
  }
  get error(): FerryError | null {
    return this.#error;
  }
  get settingsErrors(): SettingsErrors {
    return this.#settingsErrors;
  }
  get notes(): FileNote[] {
    return this.#notes;
  }
  /** 0–100 of the ciphertext to upload in this pass. */
  get percent(): number {
    return this.#total === 0 ? (this.#phase === 'done' ? 100 : 0) : Math.floor((this.#sent * 100) / this.#total);
  }
  get bytesPerSecond(): number {
    return this.#speed;
  }
  get secondsLeft(): number | null {
    return secondsLeft(this.#total - this.#sent, this.#speed);
  }
  get reconnecting(): boolean {
    return this.#reconnecting;
  }
  /**
   * The share of the current send from the moment the server created it (its link works
   * at once: recipients download while the upload runs), then of the last finished send.
   */
  get shareId(): string | null {
    return this.#shareId;
  }
  /** The share this page is uploading now, or null. */
  get activeShareId(): string | null {
    return this.busy ? this.#shareId : null;
  }
  /** True when this page still holds file `index` of pending share `shareId` (no need to choose it again). */
  holds(shareId: string, index: number): boolean {
    return this.#live.get(shareId)?.has(index) ?? false;
  }
  /** The files this tab still holds for a share it sent, by index (share-host.svelte.ts serves them). */
  heldFiles(shareId: string): ReadonlyMap<number, File> | undefined {
    return this.#held?.shareId === shareId ? this.#held.files : undefined;
  }

  /**
   * Sends the picked files; settings errors are shown inline and nothing starts.
   * `onCreated` runs once the server has created the share (the form then forgets the
   * password: it is in the wrapped secret now and must not linger in the page).
   */
  async send(input: SettingsInput, onCreated?: () => void, target?: ShareTarget): Promise<void> {
    if (this.busy) return;
    const checked = validateSettings(input);
    this.#settingsErrors = checked.ok ? {} : checked.errors;
    if (!checked.ok) return;
    const picked = this.#picker.picked();
    if (picked.length === 0) return;
    this.#begin('checking');
    try {
      const names = shareNames(picked.map((f) => ({ name: f.name ?? 'file', relativePath: f.meta.relativePath })));
      let planned: PlannedFile[] = [];
      for (const [i, f] of picked.entries()) {
        if (!(f.data instanceof File)) throw new FerryError('BAD_REQUEST', `${f.name} is not a local file.`);
        planned.push({
          file: f.data,
          name: names[i]!,
          // A request upload never reuses another share's blob: the request counts new bytes.
          reuse: target ? undefined : await this.#findReuse(f.data),
          handle: this.#picker.handleOf(f),
        });
      }
      this.#notes = planned.map((p) => ({ name: p.name, reused: p.reuse !== undefined }));
      this.#phase = 'creating';
      const create = target?.create ?? createShare;
      let plan = await planShare(planned, checked.settings, target?.secret);
      let created: CreateShareResponse;
      try {
        created = await create(plan.request);
      } catch (error) {
        if (!isStaleReuse(error, planned)) throw error;
        // A reused blob is gone (server reset, clock skew): forget those entries, which
        // would otherwise refuse every send until they expire, and upload the files. Once.
        await Promise.all(planned.flatMap((p) => (p.reuse ? [deleteDedup(p.reuse.blake3)] : [])));
        planned = withoutReuse(planned);
        this.#notes = planned.map((p) => ({ name: p.name, reused: false }));
        plan = await planShare(planned, checked.settings);
        created = await createShare(plan.request);
      }
      onCreated?.();
      const record: ShareRecord = {
        id: created.id,
        ownerToken: created.ownerToken,
        uploadToken: created.uploadToken,
        secret: toBase64Url(plan.secret),
        link: formatShareLink(location.origin, { id: created.id, key: plan.linkKey }),
        createdAt: Date.now(),
        expiresAt: created.expiresAt,
        maxDownloads: checked.settings.maxDownloads,
        hasPassword: checked.settings.password !== '',
        state: 'uploading',
        files: plan.files,
      };
      // Held from before the share is listed, so no other tab can resume it meanwhile.
      await withShareLock(record.id, async () => {
        await putShare(record);
        this.#live.set(record.id, new Map(planned.map((p, i) => [i, p.file])));
        this.#shareId = record.id;
        this.#onChange();
        const items = picked.map((f, index) => ({ index, file: planned[index]!.file, uppyId: f.id }));
        await this.#run(record, items, plan.keys.contentKey, plan.keys.metaKey);
      });
    } catch (error) {
      this.#fail(error);
    }
  }

  /**
   * Continues a pending share. Files come from this page, from `chosen` (picked again by
   * the user) or from stored handles; each must pass the content check first.
   */
  async resume(shareId: string, chosen: ReadonlyMap<number, File> = new Map()): Promise<void> {
    if (this.busy) return;
    this.#begin('checking');
    try {
      // The whole resume, content check included, holds the share's lock: another tab
      // running the same share gets CONFLICT instead of encrypting alongside it.
      await withShareLock(shareId, () => this.#resume(shareId, chosen));
    } catch (error) {
      this.#fail(error);
    }
  }

  async #resume(shareId: string, chosen: ReadonlyMap<number, File>): Promise<void> {
    const record = await getShare(shareId);
    if (!record) throw new FerryError('SHARE_NOT_FOUND', 'That upload is no longer stored in this browser.');
    this.#shareId = shareId;
    const live = this.#live.get(shareId) ?? new Map<number, File>();
    const files = new Map<number, File>();
    for (const [index, sent] of record.files.entries()) {
      if (sent.uploaded) continue;
      const file = live.get(index) ?? chosen.get(index) ?? (sent.handle ? await fileFromHandle(sent.handle) : null);
      if (!file) throw new FerryError('FILE_NOT_FOUND', `Choose ${sent.name} again to continue.`);
      const blake3 = await checkContent(file, sent, this.#hasher);
      if (blake3 && !sent.blake3) {
        sent.blake3 = blake3;
        await updateFile(shareId, index, { blake3 });
      }
      files.set(index, file);
    }
    this.#live.set(shareId, files);
    this.#notes = record.files.map((f) => ({ name: f.name, reused: f.reused }));
    await this.#picker.load();
    this.#picker.clear();
    const items: RunItem[] = [];
    for (const [index, file] of files) {
      const uppyId = this.#picker.add(file, 'ferry-resume');
      if (!uppyId) throw new FerryError('INTERNAL', `${record.files[index]?.name} could not be queued.`);
      items.push({ index, file, uppyId });
    }
    const keys = await deriveShareKeys(fromBase64Url(record.secret));
    await this.#run(record, items, keys.contentKey, keys.metaKey);
  }

  async #findReuse(file: File) {
    const candidates = await candidatesFor(fingerprintOf(file));
    if (candidates.length === 0) return undefined;
    return matchReuse(candidates, await this.#hasher.hash(file), file.size);
  }

  async #run(record: ShareRecord, items: RunItem[], contentKey: CryptoKey, metaKey: CryptoKey): Promise<void> {
    const uppy = this.#picker.uppy;
    const uploads = items.filter((item) => !record.files[item.index]?.uploaded);
    for (const item of items) if (record.files[item.index]?.uploaded) markDone(uppy, item.uppyId);
    // Each file has its own key, derived from the content key and its nonce base, so that
    // reusing one file later hands on that file's key and no other (ARCHITECTURE.md).
    const fileKeys = new Map<number, CryptoKey>();
    for (const item of uploads) {
      const sent = record.files[item.index];
      if (sent) fileKeys.set(item.index, await deriveFileKey(contentKey, nonceOf(sent)));
    }
    const run = prepareRun(uppy, record, uploads, { hasher: this.#hasher, encryptor: this.#encryptor, fileKeys });
    // The encrypt worker holds the Files until the run is closed, whatever way it ends.
    try {
      // Hashing may fail while the upload fails too; the upload's error is the one to show.
      run.hashes.catch(() => undefined);
      this.#sizes = run.sizes;
      this.#perFile = new Map();
      this.#uploadErrors = new Map();
      this.#total = [...run.sizes.values()].reduce((a, b) => a + b, 0);
      this.#phase = 'uploading';
      let result = uploads.length > 0 ? await uppy.upload() : undefined;
      const reattached = new Set<string>();
      while (result?.failed?.length) {
        const failed = result.failed;
        if (!(await this.#reattach(record, uploads, failed, reattached))) {
          // The files that did finish stay marked, so a resume sends only the rest.
          await run.marked().catch(() => undefined);
          const first = failed[0]!;
          throw toFerryError(this.#uploadErrors.get(first.id) ?? new Error(first.error ?? 'the upload failed'));
        }
        // Uppy announced "Failed to upload …" (role=alert); the files are not failed after all.
        uppy.setState({ info: uppy.getState().info.filter((info) => info.type !== 'error') });
        result = await uppy.retryAll();
      }
      await run.marked();
      await run.hashes;
      this.#phase = 'finishing';
      const current = await this.#withHashes((await getShare(record.id)) ?? record, uploads);
      requireHashes(current.files);
      const manifest = await sealManifest(manifestOf(current.files), metaKey);
      const view = await updateShare(record.id, record.ownerToken, { manifest, complete: true });
      const owner = view.files.length ? view : await getOwnerView(record.id, record.ownerToken);
      for (const item of uploads) {
        const sent = current.files[item.index];
        const slot = owner.files.find((f) => f.index === item.index);
        if (!sent?.blake3 || !slot?.blobId || !slot.blobToken) continue;
        const key = toBase64Url(await deriveFileKeyBytes(contentKey, nonceOf(sent)));
        await putDedup({
          blake3: sent.blake3,
          fingerprint: fingerprintOf(item.file),
          blobId: slot.blobId,
          blobToken: slot.blobToken,
          key,
          nonce: sent.nonce,
          recordSize: sent.recordSize,
          size: sent.size,
          expiresAt: owner.expiresAt,
          shareId: record.id,
        });
      }
      await updateRecord(record.id, (r) => ({ ...r, state: 'ready', expiresAt: owner.expiresAt }));
      // The latest finished share's files stay held: this tab may serve them directly.
      this.#held = { shareId: record.id, files: this.#live.get(record.id) ?? new Map() };
      this.#live.delete(record.id);
    } finally {
      run.close();
    }
    this.#shareId = record.id;
    this.#phase = 'done';
    attention.running(this, false);
    void attention.notify('Your Ferry link is ready', 'The upload finished; the link can be shared now.');
    this.#reconnecting = false;
    this.#queuePaused = false;
    this.#picker.clear();
    this.#onChange();
  }

  /**
   * The share with every file's BLAKE3: from the store, from a checkpoint that covers the
   * whole file, or (last resort) hashed again from this run's File. Found hashes are stored.
   */
  async #withHashes(record: ShareRecord, items: readonly RunItem[]): Promise<ShareRecord> {
    const { files, missing } = withFullHashes(record.files);
    for (const index of missing) {
      const item = items.find((i) => i.index === index);
      if (item) files[index] = { ...files[index]!, blake3: await this.#hasher.hash(item.file) };
    }
    for (const [index, file] of files.entries()) {
      if (!file.blake3 || record.files[index]?.blake3) continue;
      try {
        await updateFile(record.id, index, { blake3: file.blake3 });
      } catch (error) {
        // Not fatal: the manifest below carries the hash; a retry would find it again.
        console.warn('Ferry could not store a file hash', error);
      }
    }
    return { ...record, files };
  }

  /**
   * When every failed file is a lost creation (lost-creation.ts), points each at the upload
   * the server already holds for its slot and answers true: the caller retries them. Once
   * per file and run; anything else answers false and the run fails.
   */
  async #reattach(
    record: ShareRecord,
    items: readonly RunItem[],
    failed: readonly { id: string }[],
    reattached: Set<string>,
  ): Promise<boolean> {
    const indexOf = new Map(items.map((item) => [item.uppyId, item.index]));
    const lost = failed.every(
      (f) => !reattached.has(f.id) && indexOf.has(f.id) && isLostCreation(this.#uploadErrors.get(f.id)),
    );
    if (!lost) return false;
    const view = await getOwnerView(record.id, record.ownerToken);
    const endpoint = new URL(TUS_ENDPOINT, location.href);
    const urls = new Map<string, { index: number; url: string }>();
    for (const f of failed) {
      const index = indexOf.get(f.id)!;
      const url = uploadUrlOfSlot(view, index, endpoint);
      if (!url) return false;
      urls.set(f.id, { index, url });
    }
    for (const [uppyId, { index, url }] of urls) {
      reattached.add(uppyId);
      const tus = this.#picker.uppy.getFile(uppyId).tus;
      this.#picker.uppy.setFileState(uppyId, { tus: { ...tus, uploadUrl: url } });
      await updateFile(record.id, index, { uploadUrl: url });
    }
    return true;
  }

  #begin(phase: SendPhase): void {
    this.#phase = phase;
    attention.running(this, true);
    this.#error = null;
    this.#shareId = null;
    this.#sent = 0;
    this.#total = 0;
    this.#speed = 0;
    this.#meter.reset();
  }

  #tick(): void {
    let sent = 0;
    for (const bytes of this.#perFile.values()) sent += bytes;
    this.#sent = Math.min(sent, this.#total);
    this.#meter.sample(performance.now(), this.#sent);
    this.#speed = this.#meter.bytesPerSecond();
  }

  #fail(error: unknown): void {
    this.#error = toFerryError(error);
    this.#phase = 'failed';
    attention.running(this, false);
    void attention.notify('Your Ferry upload stopped', 'Open Ferry to resume it.');
    this.#reconnecting = false;
    this.#queuePaused = false;
    this.#onChange();
  }
}
