/**
 * Thumbnails on the recipient's page, from a few records of an image and never the whole
 * file: a JPEG's EXIF thumbnail (exif-thumbnail.ts), found in its first one or two records;
 * an image of at most WHOLE_IMAGE_RECORDS records, read whole and scaled down; nothing (the
 * page shows a type icon) for anything else.
 *
 * Records are read through a preview session of the service worker (sw-preview.ts), the
 * same record opener as the preview dialog: the worker fetches exactly the ciphertext of the
 * records a Range needs and opens each with its tag, index and final flag. Decoding and
 * scaling run in `createImageBitmap`, which decodes off the main thread; only the small
 * result is drawn on the page.
 */
import { toBase64Url } from '../../../../shared/encoding.ts';
import { findExifThumbnail } from './exif-thumbnail.ts';
import { previewFormat } from './preview-kind.ts';
import { closeSession, controllingWorker, openSession, type PreviewSource, readPlain } from './preview-session.ts';

/** An image of at most this many records is read whole for its thumbnail (256 KiB at 64 KiB records). */
export const WHOLE_IMAGE_RECORDS = 4;
/** Longest edge of a thumbnail, in image pixels: twice the 3 rem it is shown at, for dense screens. */
export const THUMBNAIL_EDGE = 96;

/** How a file's thumbnail is made: its EXIF thumbnail, the whole (small) image, or none. */
export type ThumbnailPlan = 'exif' | 'whole' | null;

/** The plan for a file of manifest `type`, `size` bytes, cut in records of `recordSize`. */
export function thumbnailPlan(name: string, type: string, size: number, recordSize: number): ThumbnailPlan {
  const format = previewFormat(name, type);
  if (format?.kind !== 'image' || size === 0) return null;
  if (size <= WHOLE_IMAGE_RECORDS * recordSize) return 'whole';
  return format.type === 'image/jpeg' ? 'exif' : null;
}

/**
 * The thumbnail of one file as a small image Blob, or null when the file has none. `load`
 * gives the file's cipher and the visit's ticket. Throws what the session threw (a share
 * revoked meanwhile, a record that failed its tag).
 */
export async function loadThumbnail(plan: Exclude<ThumbnailPlan, null>, load: () => Promise<PreviewSource>) {
  const worker = await controllingWorker();
  const source = await load();
  const session = toBase64Url(crypto.getRandomValues(new Uint8Array(16)));
  let failure: Error | null = null;
  const { port, ready } = openSession(worker, session, source, (error) => {
    failure = error;
  });
  try {
    const url = await ready;
    const bytes = plan === 'whole' ? await readPlain(url, 0, source.size) : await exifBytes(url, source);
    if (failure) throw failure;
    if (!bytes) return null;
    const type = plan === 'exif' ? 'image/jpeg' : (previewFormat(source.name, source.mime)?.type ?? '');
    return await scaleDown(new Blob([bytes], { type }), THUMBNAIL_EDGE);
  } finally {
    closeSession(session, port);
  }
}

/** The EXIF thumbnail's bytes, from the first record and, when EXIF runs past it, the next. */
async function exifBytes(url: string, { size, recordSize }: PreviewSource): Promise<ArrayBuffer | null> {
  let head = new Uint8Array(await readPlain(url, 0, Math.min(size, recordSize)));
  let found = findExifThumbnail(head);
  if (found.kind === 'more' && found.bytes <= size) {
    const rest = new Uint8Array(await readPlain(url, head.length, found.bytes));
    const joined = new Uint8Array(head.length + rest.length);
    joined.set(head);
    joined.set(rest, head.length);
    head = joined;
    found = findExifThumbnail(head);
  }
  return found.kind === 'found' ? head.slice(found.start, found.end).buffer : null;
}

/**
 * `image` scaled so its longest edge is at most `edge` pixels (smaller images as they are),
 * as PNG. Throws when the browser cannot decode it.
 */
async function scaleDown(image: Blob, edge: number): Promise<Blob> {
  const bitmap = await createImageBitmap(image);
  try {
    const scale = edge / Math.max(bitmap.width, bitmap.height);
    if (scale >= 1) return image;
    const width = Math.max(1, Math.round(bitmap.width * scale));
    const height = Math.max(1, Math.round(bitmap.height * scale));
    const small = await createImageBitmap(bitmap, {
      resizeWidth: width,
      resizeHeight: height,
      resizeQuality: 'medium',
    });
    const canvas = new OffscreenCanvas(width, height);
    canvas.getContext('2d')?.drawImage(small, 0, 0);
    small.close();
    return await canvas.convertToBlob({ type: 'image/png' });
  } finally {
    bitmap.close();
  }
}
