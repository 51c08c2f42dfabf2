/**
 * Which files the recipient can preview, and the Content-Type a preview is served with.
 *
 * The manifest's `type` is whatever the sender's browser reported, so it is only a hint: it
 * picks the kind when it is one of the types below, the name's extension when it is not
 * (empty, `application/octet-stream`, or something unknown). The type served is always
 * the canonical one from these tables, never the sender's string, and never one a browser
 * would run as a document in Ferry's origin (HTML, SVG, XML): text of any kind is served
 * as `text/plain` and shown as text.
 */
import { baseName } from '../../../../shared/names.ts';

export type PreviewKind = 'image' | 'video' | 'audio' | 'text' | 'pdf';

interface Format {
  kind: PreviewKind;
  /** What the service worker answers with. */
  type: string;
}

const TEXT: Format = { kind: 'text', type: 'text/plain; charset=utf-8' };
const PDF: Format = { kind: 'pdf', type: 'application/pdf' };

const image = (type: string): Format => ({ kind: 'image', type });
const video = (type: string): Format => ({ kind: 'video', type });
const audio = (type: string): Format => ({ kind: 'audio', type });

/** By MIME type (lower case, parameters removed). SVG is absent on purpose: it can carry script. */
const BY_TYPE: Readonly<Record<string, Format>> = {
  'image/png': image('image/png'),
  'image/jpeg': image('image/jpeg'),
  'image/gif': image('image/gif'),
  'image/webp': image('image/webp'),
  'image/avif': image('image/avif'),
  'image/bmp': image('image/bmp'),
  'video/mp4': video('video/mp4'),
  'video/webm': video('video/webm'),
  'video/ogg': video('video/ogg'),
  'audio/mpeg': audio('audio/mpeg'),
  'audio/mp4': audio('audio/mp4'),
  'audio/aac': audio('audio/aac'),
  'audio/ogg': audio('audio/ogg'),
  'audio/opus': audio('audio/ogg'),
  'audio/wav': audio('audio/wav'),
  'audio/x-wav': audio('audio/wav'),
  'audio/wave': audio('audio/wav'),
  'audio/webm': audio('audio/webm'),
  'audio/flac': audio('audio/flac'),
  'application/pdf': PDF,
  'application/json': TEXT,
  'application/xml': TEXT,
  'application/x-yaml': TEXT,
};

const BY_EXTENSION: Readonly<Record<string, Format>> = {
  png: image('image/png'),
  jpg: image('image/jpeg'),
  jpeg: image('image/jpeg'),
  gif: image('image/gif'),
  webp: image('image/webp'),
  avif: image('image/avif'),
  bmp: image('image/bmp'),
  mp4: video('video/mp4'),
  m4v: video('video/mp4'),
  webm: video('video/webm'),
  ogv: video('video/ogg'),
  mp3: audio('audio/mpeg'),
  m4a: audio('audio/mp4'),
  aac: audio('audio/aac'),
  ogg: audio('audio/ogg'),
  oga: audio('audio/ogg'),
  opus: audio('audio/ogg'),
  wav: audio('audio/wav'),
  flac: audio('audio/flac'),
  weba: audio('audio/webm'),
  pdf: PDF,
  ...Object.fromEntries(
    [
      'txt',
      'md',
      'csv',
      'tsv',
      'log',
      'json',
      'xml',
      'yaml',
      'yml',
      'toml',
      'ini',
      'html',
      'css',
      'js',
      'ts',
      'py',
      'sh',
    ]
      .concat(['c', 'h', 'rs', 'go', 'java', 'sql', 'srt', 'vtt'])
      .map((ext) => [ext, TEXT]),
  ),
};

/** How file `name` with manifest type `type` is previewed, or null when it is not. */
export function previewFormat(name: string, type: string): Format | null {
  const mime = type.split(';', 1)[0]?.trim().toLowerCase() ?? '';
  const byType = Object.hasOwn(BY_TYPE, mime) ? BY_TYPE[mime] : undefined;
  if (byType) return byType;
  if (mime.startsWith('text/')) return TEXT;
  const base = baseName(name);
  const dot = base.lastIndexOf('.');
  if (dot <= 0) return null;
  const ext = base.slice(dot + 1).toLowerCase();
  return (Object.hasOwn(BY_EXTENSION, ext) ? BY_EXTENSION[ext] : undefined) ?? null;
}

/** The kind of preview for a file, or null when it has none. */
export function previewKind(name: string, type: string): PreviewKind | null {
  return previewFormat(name, type)?.kind ?? null;
}
