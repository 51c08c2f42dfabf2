/**
 * Sizes as people read them, one convention everywhere (send view, Uppy's Dashboard through
 * uppy-bytes.ts, receive view, nearby, requests): decimal SI units, 1 kB = 1000 B, as file
 * managers on macOS, GNOME and phones show them. One decimal below 100 of a unit.
 */

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB'];

/** `31457280` → `31.5 MB`. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}
