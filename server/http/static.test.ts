/** The built app over real HTTP, compressed for browsers that accept it. */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { serverForFile } from '../test-support.ts';
import { chooseEncoding } from './static.ts';

const ferry = serverForFile();
// Text that compresses (an app bundle does, by ~3x) and bytes that do not (a PNG).
const SCRIPT = Buffer.from('export const message = "a line of the app";\n'.repeat(4000));
const IMAGE = randomBytes(20_000);

function get(pathname: string, headers: Record<string, string>, method = 'GET') {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
    const req = http.request(`${ferry().url}${pathname}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(() => {
  const dist = path.join(ferry().dataDir, 'dist');
  mkdirSync(path.join(dist, 'assets'), { recursive: true });
  writeFileSync(path.join(dist, 'index.html'), '<!doctype html><title>Ferry</title>');
  writeFileSync(path.join(dist, 'assets', 'index-abc123.js'), SCRIPT);
  writeFileSync(path.join(dist, 'assets', 'icon-abc123.png'), IMAGE);
});

describe('compressed static files', () => {
  it('answers brotli, then gzip, then identity, as the request accepts, with an exact length', async () => {
    const br = await get('/assets/index-abc123.js', { 'Accept-Encoding': 'gzip, deflate, br, zstd' });
    expect([br.status, br.headers['content-encoding'], br.headers.vary]).toEqual([200, 'br', 'Accept-Encoding']);
    expect(Number(br.headers['content-length'])).toBe(br.body.length);
    expect(br.body.length).toBeLessThan(SCRIPT.length / 10);
    expect(brotliDecompressSync(br.body).equals(SCRIPT)).toBe(true);

    const gz = await get('/assets/index-abc123.js', { 'Accept-Encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(Number(gz.headers['content-length'])).toBe(gz.body.length);
    expect(gunzipSync(gz.body).equals(SCRIPT)).toBe(true);

    const plain = await get('/assets/index-abc123.js', {});
    expect([plain.headers['content-encoding'], Number(plain.headers['content-length'])]).toEqual([
      undefined,
      SCRIPT.length,
    ]);
    expect(plain.body.equals(SCRIPT)).toBe(true);
  });

  it('keeps the headers of the file it compresses, and HEAD says the compressed length', async () => {
    const index = await get('/', { 'Accept-Encoding': 'br' });
    expect(index.headers['content-security-policy']).toContain("default-src 'self'");
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(brotliDecompressSync(index.body).toString()).toBe('<!doctype html><title>Ferry</title>');
    const head = await get('/assets/index-abc123.js', { 'Accept-Encoding': 'br' }, 'HEAD');
    const full = await get('/assets/index-abc123.js', { 'Accept-Encoding': 'br' });
    expect([head.body.length, head.headers['content-length']]).toEqual([0, String(full.body.length)]);
    expect(head.headers['cache-control']).toContain('immutable');
  });

  it('sends images as they are', async () => {
    const png = await get('/assets/icon-abc123.png', { 'Accept-Encoding': 'br, gzip' });
    expect([png.headers['content-encoding'], png.headers.vary]).toEqual([undefined, undefined]);
    expect(png.body.equals(IMAGE)).toBe(true);
  });

  it('reads Accept-Encoding weights: q=0 refuses, a higher q wins, * stands for the rest', () => {
    expect(chooseEncoding(undefined)).toBeUndefined();
    expect(chooseEncoding('identity')).toBeUndefined();
    expect(chooseEncoding('br;q=0, gzip')).toBe('gzip');
    expect(chooseEncoding('br;q=0.5, gzip;q=0.9')).toBe('gzip');
    expect(chooseEncoding('gzip;q=0.5, br')).toBe('br');
    expect(chooseEncoding('*')).toBe('br');
    expect(chooseEncoding('*;q=0')).toBeUndefined();
    expect(chooseEncoding('gzip;q=0, *')).toBe('br');
  });
});
