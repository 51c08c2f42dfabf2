/**
 * The files picked for a link send. The start screen has its own light pick control and
 * drop area (FilePicker.svelte); Uppy (uppy-picker.ts: the Dashboard's file list and the
 * tus uploader, most of the app's JavaScript) is imported on the first pick or drop, or
 * earlier when a person is about to pick (`preload`). Files picked before it is loaded
 * wait here and are added once it is. The Sender drives the upload through `uppy`.
 */
import { getDroppedFiles } from '@uppy/core/utils';
import { canPickHandles, fileKey, handlesOfDrop, pickWithHandles } from './file-handles.ts';
import type { FerryUppy, FerryUppyFile } from './uppy-picker.ts';

export { CHUNK_SIZE, TUS_ENDPOINT } from './tus-endpoint.ts';
export type { FerryMeta, FerryUppy, FerryUppyFile } from './uppy-picker.ts';

/** A file as a person picked it: `relativePath` inside a picked or dropped folder. */
export interface PickedFile {
  file: File;
  relativePath?: string | null;
}

type UppyModule = typeof import('./uppy-picker.ts');

export class Picker {
  #uppy: FerryUppy | null = null;
  #loading: Promise<FerryUppy> | null = null;
  #count = $state(0);
  #loaded = $state(false);
  #failed = $state(false);
  #handles = new Map<string, FileSystemFileHandle>();
  #target: HTMLElement | null = null;
  #unmount: (() => void) | null = null;
  #module: UppyModule | null = null;
  #onLoad: ((uppy: FerryUppy) => void)[] = [];
  #destroyed = false;

  /** Files picked now (those still waiting for Uppy included). */
  get count(): number {
    return this.#count;
  }

  /** True once Uppy runs: its Dashboard lists the picked files. */
  get loaded(): boolean {
    return this.#loaded;
  }

  /** True when Uppy could not be loaded (offline before the service worker cached it). */
  get failed(): boolean {
    return this.#failed;
  }

  get canPickHandles(): boolean {
    return canPickHandles();
  }

  /** The loaded Uppy; only for code that runs after `load()` resolved. */
  get uppy(): FerryUppy {
    if (!this.#uppy) throw new Error('Picker: Uppy is used before load() resolved.');
    return this.#uppy;
  }

  /** `callback` runs with Uppy once it is loaded (at once if it is). */
  onLoad(callback: (uppy: FerryUppy) => void): void {
    if (this.#uppy) callback(this.#uppy);
    else this.#onLoad.push(callback);
  }

  /** Starts loading Uppy without waiting: a person is about to pick or drop. */
  preload(): void {
    void this.load().catch(() => undefined);
  }

  /** Loads Uppy once; every caller gets the same instance. */
  load(): Promise<FerryUppy> {
    this.#loading ??= import('./uppy-picker.ts').then(
      (module) => this.#start(module),
      (error: unknown) => {
        this.#loading = null;
        this.#failed = true;
        throw error;
      },
    );
    return this.#loading;
  }

  #start(module: UppyModule): FerryUppy {
    if (this.#uppy) return this.#uppy;
    const uppy = module.createUppy();
    this.#module = module;
    this.#uppy = uppy;
    this.#failed = false;
    const recount = () => {
      this.#count = uppy.getFiles().length;
    };
    uppy.on('files-added', recount);
    uppy.on('file-removed', recount);
    uppy.on('cancel-all', recount);
    for (const callback of this.#onLoad.splice(0)) callback(uppy);
    this.#mountDashboard();
    this.#loaded = true;
    if (this.#destroyed) uppy.destroy();
    return uppy;
  }

  #mountDashboard(): void {
    if (!this.#uppy || !this.#module || !this.#target || this.#unmount) return;
    this.#unmount = this.#module.mountDashboard(this.#uppy, this.#target, (event) => {
      void this.#keepHandles(handlesOfDrop(event));
    });
  }

  /** Where the Dashboard shows once Uppy is loaded; returns the undo. */
  mount(target: HTMLElement): () => void {
    this.#target = target;
    this.#mountDashboard();
    return () => {
      this.#unmount?.();
      this.#unmount = null;
      this.#target = null;
    };
  }

  /** "Choose files" through showOpenFilePicker, so the files come with handles. */
  async pickWithHandles(): Promise<void> {
    this.preload();
    const picked = await pickWithHandles();
    for (const { file, handle } of picked) this.#handles.set(fileKey(file), handle);
    await this.addAll(
      picked.map(({ file }) => ({ file })),
      'ferry-picker',
    );
  }

  /**
   * A drop on the page or the pick area: call it synchronously in the drop handler (the
   * browser empties the DataTransfer once the handler returns). Folders keep their paths.
   */
  async drop(event: DragEvent): Promise<void> {
    const transfer = event.dataTransfer;
    if (!transfer) return;
    this.preload();
    const handles = handlesOfDrop(event);
    const files = getDroppedFiles(transfer);
    void this.#keepHandles(handles);
    await this.addAll(
      (await files).map((file) => ({ file, relativePath: (file as File & { relativePath?: string }).relativePath })),
      'ferry-drop',
    );
  }

  async #keepHandles(found: Promise<Map<string, FileSystemFileHandle>>): Promise<void> {
    for (const [key, handle] of await found) this.#handles.set(key, handle);
  }

  /** Adds files from a pick or drop, loading Uppy first when needed. */
  async addAll(files: readonly PickedFile[], source: string): Promise<void> {
    if (files.length === 0) return;
    await this.load();
    for (const { file, relativePath } of files) this.add(file, source, relativePath ?? null);
  }

  /** Adds one file to the loaded Uppy; its id, or undefined when Uppy refused it. */
  add(file: File, source = 'ferry', relativePath: string | null = null): string | undefined {
    try {
      return this.uppy.addFile({ source, name: file.name, type: file.type, data: file, meta: { relativePath } });
    } catch {
      return undefined; // Uppy already informs about duplicates and restrictions.
    }
  }

  /** The files Uppy holds now (none before it is loaded). */
  picked(): FerryUppyFile[] {
    return this.#uppy?.getFiles() ?? [];
  }

  /** The handle a top-level file came with, if the browser gave one. */
  handleOf(file: FerryUppyFile): FileSystemFileHandle | undefined {
    if (file.meta.relativePath || !(file.data instanceof File)) return undefined;
    return this.#handles.get(fileKey(file.data));
  }

  clear(): void {
    this.#uppy?.cancelAll();
    this.#count = 0;
  }

  destroy(): void {
    this.#destroyed = true;
    this.#uppy?.destroy();
  }
}
