/** What a browser download delivered, and a few checks on it. */
import { readFile } from 'node:fs/promises';
import type { Download } from '@playwright/test';
import { sha256File } from './files.ts';

/** Waits for the download to finish; throws with the browser's reason when it failed. */
export async function finished(download: Download): Promise<string> {
  const path = await download.path();
  const failure = await download.failure();
  if (failure !== null) throw new Error(`download of ${download.suggestedFilename()} failed: ${failure}`);
  return path;
}

/** The SHA-256 of a finished download. */
export async function downloadHash(download: Download): Promise<string> {
  return await sha256File(await finished(download));
}

/** The bytes of a finished download. */
export async function downloadBytes(download: Download): Promise<Buffer> {
  return await readFile(await finished(download));
}

/**
 * Sizes the way a person reads them: any of "20 MiB", "21 MB", "20.0 MiB", "20,971,520 bytes"…
 * A RegExp matching the ways a UI might print `bytes` (binary or decimal units, 0–2 decimals).
 */
export function sizePattern(bytes: number): RegExp {
  const options = new Set<string>([String(bytes), bytes.toLocaleString('en-US')]);
  for (const [base, units] of [
    [1024, ['B', 'KiB', 'MiB', 'GiB']],
    [1000, ['B', 'KB', 'MB', 'GB']],
    [1024, ['B', 'KB', 'MB', 'GB']],
  ] as const) {
    let value = bytes;
    for (const unit of units) {
      for (const digits of [0, 1, 2]) {
        for (const text of [value.toFixed(digits), String(Number(value.toFixed(digits)))]) {
          options.add(`${text}\\s?${unit}`);
        }
      }
      value /= base;
      if (value < 0.95) break;
    }
  }
  const escaped = [...options].map((o) => o.replace(/[.,]/g, (c) => `\\${c}`));
  return new RegExp(`(^|[^\\d.,])(${escaped.join('|')})(?![\\w])`, 'i');
}
