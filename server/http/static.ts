/**
 * Serves the built client from dist/. Only GET and HEAD; a path either names a regular file
 * inside dist/ or, when it looks like an app route (`/s/<id>`, no file extension), gets
 * index.html so the single-page app can route it. Nothing outside dist/ is ever opened.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
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
  res.writeHead(200, headers);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = createReadStream(file);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}
