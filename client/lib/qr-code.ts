/**
 * A share link as a QR code (ISO/IEC 18004), drawn as one SVG path. Encoding is uqr's;
 * this module fixes the choices that make it scan: error correction M (15% of the code may
 * be damaged or glared), and a quiet zone of 4 modules, the width the standard requires
 * around the symbol. Dark modules on a light ground always, also in dark mode: many
 * readers do not decode inverted codes.
 */
import { encode } from 'uqr';

/** Light modules around the symbol, in modules (ISO/IEC 18004 §6.3.8). */
export const QUIET_ZONE = 4;

export interface QrCode {
  /** Modules per side, quiet zone included. */
  size: number;
  /** SVG path data of the dark modules, one unit per module. */
  path: string;
}

/** Encodes `text` (byte mode, UTF-8) at the smallest version that holds it. */
export function qrCode(text: string): QrCode {
  const { data, size } = encode(text, { ecc: 'M', border: QUIET_ZONE });
  return { size, path: modulesPath(data) };
}

/**
 * Path data with one `M x y h n v1 h-n z` rectangle per run of dark modules in a row:
 * far shorter than a rectangle per module, and no seams between neighbours.
 */
export function modulesPath(modules: readonly (readonly boolean[])[]): string {
  const parts: string[] = [];
  for (const [y, row] of modules.entries()) {
    let x = 0;
    while (x < row.length) {
      if (!row[x]) {
        x++;
        continue;
      }
      const start = x;
      while (row[x]) x++;
      parts.push(`M${start} ${y}h${x - start}v1h-${x - start}z`);
    }
  }
  return parts.join('');
}
