import jsQR from 'jsqr';
import { describe, expect, it } from 'vitest';
import { modulesPath, QUIET_ZONE, qrCode } from './qr-code.ts';

/** Reads the path back into a module grid: the runs `M x y h n v1 h-n z` that qrCode draws. */
function gridOf(path: string, size: number): boolean[][] {
  const grid = Array.from({ length: size }, () => Array<boolean>(size).fill(false));
  const runs = [...path.matchAll(/M(\d+) (\d+)h(\d+)v1h-(\d+)z/g)];
  expect(runs.map((r) => r[0]).join('')).toBe(path);
  for (const [, x, y, n] of runs) {
    for (let i = 0; i < Number(n); i++) grid[Number(y)]![Number(x) + i] = true;
  }
  return grid;
}

/** RGBA pixels of the grid at `scale` pixels per module, black on white, as a screen shows it. */
function pixels(grid: boolean[][], scale: number): { data: Uint8ClampedArray; width: number } {
  const width = grid.length * scale;
  const data = new Uint8ClampedArray(width * width * 4).fill(255);
  for (let py = 0; py < width; py++) {
    for (let px = 0; px < width; px++) {
      if (!grid[Math.floor(py / scale)]![Math.floor(px / scale)]) continue;
      const o = (py * width + px) * 4;
      data[o] = data[o + 1] = data[o + 2] = 0;
    }
  }
  return { data, width };
}

describe('qrCode', () => {
  const links = [
    'http://localhost:8080/s/AbCdEfGhIjKlMnOp#q1w2e3r4t5y6u7i8o9p0aZ',
    'https://ferry.example.org/s/Zz09_-Zz09_-Zz09#Sm9pbiB1cyBub3cgYW5kIHNoYXJlIHRoZSBzb2Z0d2FyZQ',
  ];

  it.each(links)('decodes back to the link: %s', (link) => {
    const { size, path } = qrCode(link);
    const { data, width } = pixels(gridOf(path, size), 4);
    expect(jsQR(data, width, width)?.data).toBe(link);
  });

  it('keeps a quiet zone of 4 light modules on every side', () => {
    const { size, path } = qrCode(links[0]!);
    const grid = gridOf(path, size);
    const dark = grid.flatMap((row, y) => row.flatMap((on, x) => (on ? [[x, y] as const] : [])));
    expect(Math.min(...dark.map(([x]) => x))).toBe(QUIET_ZONE);
    expect(Math.min(...dark.map(([, y]) => y))).toBe(QUIET_ZONE);
    expect(Math.max(...dark.map(([x]) => x))).toBe(size - 1 - QUIET_ZONE);
    expect(Math.max(...dark.map(([, y]) => y))).toBe(size - 1 - QUIET_ZONE);
  });

  it('fails to decode when the code is damaged beyond its error correction', () => {
    const { size, path } = qrCode(links[0]!);
    const grid = gridOf(path, size);
    for (let y = QUIET_ZONE; y < size - QUIET_ZONE; y++) {
      for (let x = QUIET_ZONE + 8; x < size - QUIET_ZONE; x++) grid[y]![x] = false;
    }
    const { data, width } = pixels(grid, 4);
    expect(jsQR(data, width, width)?.data).not.toBe(links[0]);
  });
});

describe('modulesPath', () => {
  it('draws one rectangle per run of dark modules in a row', () => {
    expect(
      modulesPath([
        [true, true, false, true],
        [false, false, false, false],
        [false, true, true, true],
      ]),
    ).toBe('M0 0h2v1h-2zM3 0h1v1h-1zM1 2h3v1h-3z');
  });
});
