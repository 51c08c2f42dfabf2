/**
 * The file picker: one Uppy instance with the inline Dashboard (drag-drop, picker, folders,
 * paste) and the tus uploader. It knows which files are picked and which handles came
 * with them; the Sender drives the upload.
 */
import Uppy, { type UppyFile } from '@uppy/core';
import Dashboard from '@uppy/dashboard';
import Tus from '@uppy/tus';
import '@uppy/core/css/style.min.css';
import '@uppy/dashboard/css/style.min.css';
import type { UrlStorage } from 'tus-js-client';
import { MAX_FILES } from '../../../../shared/limits.ts';
import { canPickHandles, fileKey, handlesOfDrop, pickWithHandles } from './file-handles.ts';
import { RETRY_DELAYS } from './retry.ts';

export type FerryMeta = { share?: string; index?: string; relativePath?: string | null };
export type FerryUppy = Uppy<FerryMeta, Record<string, never>>;
export type FerryUppyFile = UppyFile<FerryMeta, Record<string, never>>;

/** Where tus creates uploads; a created upload lives at `<endpoint><upload id>`. */
export const TUS_ENDPOINT = '/files/';

/** tus ciphertext chunk: a PATCH of 8 MiB keeps memory flat and a retry cheap. */
export const CHUNK_SIZE = 8 * 1024 * 1024;

/**
 * tus-js-client would otherwise remember upload URLs in localStorage by fingerprint and
 * resume a *different* share's upload for the same file. Upload URLs live in our IndexedDB
 * record instead, one per share and file.
 */
const NO_URL_STORAGE: UrlStorage = {
  findAllUploads: async () => [],
  findUploadsByFingerprint: async () => [],
  removeUpload: async () => {},
  addUpload: async () => '',
};

export class Picker {
  readonly uppy: FerryUppy;
  #count = $state(0);
  #handles = new Map<string, FileSystemFileHandle>();

  constructor() {
    this.uppy = new Uppy<FerryMeta, Record<string, never>>({
      autoProceed: false,
      restrictions: { maxNumberOfFiles: MAX_FILES },
    }).use(Tus, {
      endpoint: TUS_ENDPOINT,
      chunkSize: CHUNK_SIZE,
      retryDelays: RETRY_DELAYS,
      limit: 3,
      // Only the share id and slot index reach the server: never the name or type.
      allowedMetaFields: ['share', 'index'],
      storeFingerprintForResuming: false,
      removeFingerprintOnSuccess: false,
      urlStorage: NO_URL_STORAGE,
    });
    const recount = () => {
      this.#count = this.uppy.getFiles().length;
    };
    this.uppy.on('files-added', recount);
    this.uppy.on('file-removed', recount);
    this.uppy.on('cancel-all', recount);
  }

  /** Files picked now. */
  get count(): number {
    return this.#count;
  }

  get canPickHandles(): boolean {
    return canPickHandles();
  }

  /** Shows the Dashboard inside `target`; returns the undo. */
  mount(target: HTMLElement): () => void {
    this.uppy.use(Dashboard, {
      inline: true,
      target,
      width: '100%',
      height: 300,
      hideUploadButton: true,
      hideRetryButton: true,
      hidePauseResumeButton: true,
      hideCancelButton: true,
      hideProgressDetails: true,
      disableStatusBar: true,
      fileManagerSelectionType: 'both',
      proudlyDisplayPoweredByUppy: false,
      theme: 'auto',
      onDrop: (event) => {
        void handlesOfDrop(event).then((found) => {
          for (const [key, handle] of found) this.#handles.set(key, handle);
        });
      },
    });
    return () => {
      const dashboard = this.uppy.getPlugin('Dashboard');
      if (dashboard) this.uppy.removePlugin(dashboard);
    };
  }

  /** "Choose files" through showOpenFilePicker, so the files come with handles. */
  async pickWithHandles(): Promise<void> {
    for (const { file, handle } of await pickWithHandles()) {
      this.#handles.set(fileKey(file), handle);
      this.add(file, 'ferry-picker');
    }
  }

  add(file: File, source = 'ferry'): string | undefined {
    try {
      return this.uppy.addFile({ source, name: file.name, type: file.type, data: file, meta: { relativePath: null } });
    } catch {
      return undefined; // Uppy already informs about duplicates and restrictions.
    }
  }

  /** The handle a top-level file came with, if the browser gave one. */
  handleOf(file: FerryUppyFile): FileSystemFileHandle | undefined {
    if (file.meta.relativePath || !(file.data instanceof File)) return undefined;
    return this.#handles.get(fileKey(file.data));
  }

  clear(): void {
    this.uppy.cancelAll();
    this.#count = 0;
  }

  destroy(): void {
    this.uppy.destroy();
  }
}
