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
import { DEFAULT_RECORD_SIZE, THUMBNAIL_RECORDS } from '../../../../shared/limits.ts';
import { findExifThumbnail } from './exif-thumbnail.ts';
import { previewFormat } from './preview-kind.ts';
import { closeSession, controllingWorker, openSession, type PreviewSource, readPlain } from './preview-session.ts';

/**
 * An image of at most this many records is read whole for its thumbnail (256 KiB at 64 KiB
 * records): the most a thumbnail ticket may read (shared/limits.ts).
 */
export const WHOLE_IMAGE_RECORDS = THUMBNAIL_RECORDS;
/** Longest edge of a thumbnail, in image pixels: twice the 3 rem it is shown at, for dense screens. */
export const THUMBNAIL_EDGE = 96;

/** How a file's thumbnail is made: its EXIF thumbnail, the whole (small) image, or none. */
export type ThumbnailPlan = 'exif' | 'whole' | null;

/** The plan for a file of manifest `type`, `size` bytes, cut in records of `recordSize`. */
export function thumbnailPlan(name: string, type: string, size: number, recordSize: number): ThumbnailPlan {
  const format = previewFormat(name, type);
  // A thumbnail ticket reads the first THUMBNAIL_RECORDS records at the default size at most.
  if (format?.kind !== 'image' || size === 0 || recordSize > DEFAULT_RECORD_SIZE) return null;
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
    if (plan === 'whole') {
      const bytes = await readPlain(url, 0, source.size);
      if (failure) throw failure;
      const type = previewFormat(source.name, source.mime)?.type ?? '';
      return await scaleDown(new Blob([bytes], { type }), THUMBNAIL_EDGE, 1);
    }
    const exif = await exifThumbnail(url, source);
    if (failure) throw failure;
    if (!exif) return null;
    return await scaleDown(new Blob([exif.bytes], { type: 'image/jpeg' }), THUMBNAIL_EDGE, exif.orientation);
  } finally {
    closeSession(session, port);
  }
}

/** The EXIF thumbnail, from the first record and, when EXIF runs past it, the next. */
async function exifThumbnail(
  url: string,
  { size, recordSize }: PreviewSource,
): Promise<{ bytes: ArrayBuffer; orientation: number } | null> {
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
  if (found.kind !== 'found') return null;
  return { bytes: head.slice(found.start, found.end).buffer, orientation: found.orientation };
}

/**
 * Canvas transforms that show a picture stored with EXIF orientation 2–8 the right way up
 * (TIFF 6.0 Orientation; 5–8 swap width and height), for a source of `w`×`h` drawn at 0,0.
 */
const ORIENT: Readonly<Record<number, (w: number, h: number) => [number, number, number, number, number, number]>> = {
  2: (w) => [-1, 0, 0, 1, w, 0],
  3: (w, h) => [-1, 0, 0, -1, w, h],
  4: (_, h) => [1, 0, 0, -1, 0, h],
  5: () => [0, 1, 1, 0, 0, 0],
  6: (_, h) => [0, 1, -1, 0, h, 0],
  7: (w, h) => [0, -1, -1, 0, h, w],
  8: (w) => [0, -1, 1, 0, 0, w],
};

/**
 * `image` scaled so its longest edge is at most `edge` pixels and turned by EXIF
 * `orientation` (a whole image's own orientation is applied by the decoder), as PNG; a small
 * image the right way up is returned as it is. Throws when the browser cannot decode it.
 */
async function scaleDown(image: Blob, edge: number, orientation: number): Promise<Blob> {
  const bitmap = await createImageBitmap(image);
  try {
    const scale = Math.min(1, edge / Math.max(bitmap.width, bitmap.height));
    const turn = ORIENT[orientation];
    if (scale === 1 && !turn) return image;
    const width = Math.max(1, Math.round(bitmap.width * scale));
    const height = Math.max(1, Math.round(bitmap.height * scale));
    const small = await createImageBitmap(bitmap, {
      resizeWidth: width,
      resizeHeight: height,
      resizeQuality: 'medium',
    });
    const swap = orientation >= 5;
    const canvas = new OffscreenCanvas(swap ? height : width, swap ? width : height);
    const context = canvas.getContext('2d');
    if (turn) context?.setTransform(...turn(width, height));
    // Sized again on drawing: a browser that ignores the resize options still gets a small image.
    context?.drawImage(small, 0, 0, width, height);
    small.close();
    return await canvas.convertToBlob({ type: 'image/png' });
  } finally {
    bitmap.close();
  }
}
