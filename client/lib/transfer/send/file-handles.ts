/**
 * File System Access handles (Chromium): a handle kept in IndexedDB lets a pending upload
 * resume after a reload without asking for the file again. They come from a drop
 * (`DataTransferItem.getAsFileSystemHandle()`, which must be called during the event) and
 * from `showOpenFilePicker()`. Other browsers simply have none, and the user re-chooses.
 */

interface PermissionDescriptor {
  mode: 'read' | 'readwrite';
}
interface HandleWithPermissions extends FileSystemFileHandle {
  queryPermission?(d: PermissionDescriptor): Promise<PermissionState>;
  requestPermission?(d: PermissionDescriptor): Promise<PermissionState>;
}
interface ItemWithHandle extends DataTransferItem {
  getAsFileSystemHandle?(): Promise<FileSystemHandle | null>;
}
type OpenFilePicker = (options: { multiple: boolean }) => Promise<FileSystemFileHandle[]>;

/** Identifies a File well enough to pair it with the handle it came from. */
export function fileKey(file: { name: string; size: number; lastModified: number }): string {
  return `${file.name}\u0000${file.size}\u0000${file.lastModified}`;
}

export function canPickHandles(): boolean {
  return typeof (globalThis as { showOpenFilePicker?: unknown }).showOpenFilePicker === 'function';
}

/** Files and their handles from the browser's picker; empty when the user cancels. */
export async function pickWithHandles(): Promise<{ file: File; handle: FileSystemFileHandle }[]> {
  const picker = (globalThis as unknown as { showOpenFilePicker: OpenFilePicker }).showOpenFilePicker;
  let handles: FileSystemFileHandle[];
  try {
    handles = await picker({ multiple: true });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') return [];
    throw error;
  }
  return Promise.all(handles.map(async (handle) => ({ file: await handle.getFile(), handle })));
}

/**
 * Starts collecting handles of the top-level files of a drop. Call it synchronously in
 * the drop handler: the browser empties the DataTransfer once the handler returns.
 */
export function handlesOfDrop(event: DragEvent): Promise<Map<string, FileSystemFileHandle>> {
  const pending: Promise<FileSystemHandle | null>[] = [];
  for (const item of Array.from(event.dataTransfer?.items ?? []) as ItemWithHandle[]) {
    if (item.kind === 'file' && item.getAsFileSystemHandle) pending.push(item.getAsFileSystemHandle());
  }
  return (async () => {
    const out = new Map<string, FileSystemFileHandle>();
    for (const settled of await Promise.allSettled(pending)) {
      const handle = settled.status === 'fulfilled' ? settled.value : null;
      if (handle?.kind !== 'file') continue;
      const fileHandle = handle as FileSystemFileHandle;
      try {
        out.set(fileKey(await fileHandle.getFile()), fileHandle);
      } catch {
        // Unreadable now: the user will be asked for the file on resume instead.
      }
    }
    return out;
  })();
}

/** The file behind a stored handle, asking for read permission (needs a user gesture); null if refused. */
export async function fileFromHandle(handle: FileSystemFileHandle): Promise<File | null> {
  const h = handle as HandleWithPermissions;
  try {
    let state = (await h.queryPermission?.({ mode: 'read' })) ?? 'granted';
    if (state !== 'granted') state = (await h.requestPermission?.({ mode: 'read' })) ?? 'denied';
    return state === 'granted' ? await handle.getFile() : null;
  } catch {
    return null;
  }
}
