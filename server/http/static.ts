/**
 * Serves the built client from dist/. Only GET and HEAD; a path either names a regular file
 * inside dist/ or, when it looks like an app route (`/s/<id>`, no file extension), gets
 * index.html so the single-page app can route it. Nothing outside dist/ is ever opened.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, gzip, constants as zlibConstants } from 'node:zlib';
import { FerryError } from '../../shared/errors.ts';
import { BASE_HEADERS } from './respond.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/**
 * Strict enough for the app: scripts and workers only from this origin (WebAssembly for
 * hash-wasm, blob: workers), no inline script, fetch only to this origin.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  "connect-src 'self'",
  "img-src 'self' blob: data:",
  "media-src 'self' blob: data:",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self' data:",
  "manifest-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Resolves a URL path to a file under `root`, or undefined when it could escape it. */
export function resolveInside(root: string, pathname: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  // Reject rather than normalise: no legitimate asset name has these.
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const segments = decoded.split('/');
  if (segments.some((s) => s === '..' || s === '.')) return undefined;
  const file = path.resolve(root, `.${decoded}`);
  const base = path.resolve(root);
  return file === base || file.startsWith(base + path.sep) ? file : undefined;
}

/** Types worth compressing: text, and WebAssembly (hash-wasm's modules shrink by half). */
const COMPRESSIBLE = /^(text\/|application\/(json|manifest\+json|wasm)|image\/svg)/;
/** Larger files are streamed as they are (the app has none; a stray one costs no memory). */
const MAX_COMPRESSED_SOURCE = 8 * 1024 * 1024;

type Encoding = 'br' | 'gzip';
const compressors: Record<Encoding, (data: Buffer) => Promise<Buffer>> = {
  br: (data) =>
    promisify(brotliCompress)(data, {
      params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 5, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: data.length },
    }),
  gzip: (data) => promisify(gzip)(data, { level: 6 }),
};

/**
 * Compressed copies of dist/'s files, made once per file version (path, size, mtime) and
 * kept in memory (the built app is a few MiB). Brotli at quality 5: the 839 KB entry module
 * takes ~0.1 s and comes out at 240 KB, against 214 KB and ~4 s at quality 11, which a
 * server that compresses on first request cannot afford. A rebuilt file gets a new entry.
 */
const compressed = new Map<string, Promise<Buffer>>();

function compressedCopy(file: string, info: { size: number; mtime: Date }, encoding: Encoding): Promise<Buffer> {
  const key = `${encoding}:${info.size}:${info.mtime.getTime()}:${file}`;
  let copy = compressed.get(key);
  if (!copy) {
    copy = readFile(file).then(compressors[encoding]);
    copy.catch(() => compressed.delete(key));
    compressed.set(key, copy);
  }
  return copy;
}

/** The best encoding the request accepts (RFC 9110 §12.5.3; q=0 refuses one), or none. */
export function chooseEncoding(acceptEncoding: string | undefined): Encoding | undefined {
  if (!acceptEncoding) return undefined;
  const accepted = new Map<string, number>();
  for (const part of acceptEncoding.split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    accepted.set(name.trim(), q === undefined ? 1 : Number(q));
  }
  const weight = (name: Encoding) => accepted.get(name) ?? (accepted.has('*') ? (accepted.get('*') ?? 0) : 0);
  const br = weight('br');
  const gz = weight('gzip');
  if (br > 0 && br >= gz) return 'br';
  return gz > 0 ? 'gzip' : undefined;
}

function cacheControl(relative: string): string {
  // Vite fingerprints everything under assets/; the rest (index.html, sw.js, manifest) must revalidate.
  return relative.startsWith(`assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache';
}

async function regularFile(file: string): Promise<{ size: number; mtime: Date } | undefined> {
  try {
    const info = await stat(file);
    return info.isFile() ? { size: info.size, mtime: info.mtime } : undefined;
  } catch {
    return undefined;
  }
}

export async function serveStatic(root: string, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  let file = url.pathname === '/' ? path.join(root, 'index.html') : resolveInside(root, url.pathname);
  if (!file) throw new FerryError('NOT_FOUND', 'There is nothing at this address.');
  let info = await regularFile(file);
  if (!info) {
    const last = url.pathname.split('/').pop() ?? '';
    if (last.includes('.')) throw new FerryError('NOT_FOUND', 'There is nothing at this address.');
    file = path.join(root, 'index.html');
    info = await regularFile(file);
    if (!info) throw new FerryError('NOT_FOUND', 'The web app has not been built (dist/index.html is missing).');
  }
  const type = TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
  const headers: Record<string, string | number> = {
    ...BASE_HEADERS,
    'Content-Type': type,
    'Content-Length': info.size,
    'Last-Modified': info.mtime.toUTCString(),
    'Cache-Control': cacheControl(path.relative(root, file)),
  };
  if (type.startsWith('text/html')) {
    headers['Content-Security-Policy'] = CONTENT_SECURITY_POLICY;
    headers['X-Frame-Options'] = 'DENY';
    headers['Cross-Origin-Opener-Policy'] = 'same-origin';
  }
  const encoding =
    COMPRESSIBLE.test(type) && info.size <= MAX_COMPRESSED_SOURCE
      ? chooseEncoding(req.headers['accept-encoding'])
      : undefined;
  if (COMPRESSIBLE.test(type)) headers.Vary = 'Accept-Encoding';
  if (encoding) {
    const body = await compressedCopy(file, info, encoding);
    res.writeHead(200, { ...headers, 'Content-Encoding': encoding, 'Content-Length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  res.writeHead(200, headers);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = createReadStream(file);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}
