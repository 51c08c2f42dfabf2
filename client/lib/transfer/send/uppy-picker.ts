/**
 * Uppy, its inline Dashboard and the tus uploader: about 290 KB of JavaScript and most of
 * the app's CSS. Picker (picker.svelte.ts) imports this module when a person first picks,
 * drops or is about to (hover, focus), so the start screen does not wait for it.
 */
import Uppy, { type UppyFile } from '@uppy/core';
import Dashboard from '@uppy/dashboard';
import Tus from '@uppy/tus';
import '@uppy/core/css/style.min.css';
import '@uppy/dashboard/css/style.min.css';
import type { UrlStorage } from 'tus-js-client';
import { MAX_FILES } from '../../../../shared/limits.ts';
import { RETRY_DELAYS } from './retry.ts';
import { CHUNK_SIZE, TUS_ENDPOINT } from './tus-endpoint.ts';

export type FerryMeta = { share?: string; index?: string; relativePath?: string | null };
export type FerryUppy = Uppy<FerryMeta, Record<string, never>>;
export type FerryUppyFile = UppyFile<FerryMeta, Record<string, never>>;

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

/** A new Uppy with the tus uploader configured for Ferry's server. */
export function createUppy(): FerryUppy {
  return new Uppy<FerryMeta, Record<string, never>>({
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
}

/**
 * Shows the picked files in an inline Dashboard inside `target` (the list, its
 * thumbnails, "Add more files"); `onDrop` sees each drop on it while its DataTransfer is
 * still readable. Returns the undo.
 */
export function mountDashboard(uppy: FerryUppy, target: HTMLElement, onDrop: (event: DragEvent) => void): () => void {
  uppy.use(Dashboard, {
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
    onDrop,
  });
  return () => {
    const dashboard = uppy.getPlugin('Dashboard');
    if (dashboard) uppy.removePlugin(dashboard);
  };
}
