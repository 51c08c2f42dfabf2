import { describe, expect, it } from 'vitest';
import { previewFormat, previewKind } from './preview-kind.ts';

describe('previewKind', () => {
  it('goes by the manifest type first', () => {
    expect(previewKind('clip.bin', 'video/webm')).toBe('video');
    expect(previewKind('photo', 'image/jpeg')).toBe('image');
    expect(previewKind('song.dat', 'audio/mpeg; codecs=mp3')).toBe('audio');
    expect(previewKind('notes', 'text/markdown')).toBe('text');
    expect(previewKind('paper', 'application/pdf')).toBe('pdf');
  });

  it('falls back to the extension when the type says nothing', () => {
    expect(previewKind('holiday/IMG_1.JPG', '')).toBe('image');
    expect(previewKind('talk.webm', 'application/octet-stream')).toBe('video');
    expect(previewKind('data.csv', '')).toBe('text');
    expect(previewKind('README', '')).toBeNull();
    expect(previewKind('archive.zip', 'application/zip')).toBeNull();
    expect(previewKind('.png', '')).toBeNull();
  });

  it('never serves a type a browser would run as a document', () => {
    expect(previewKind('logo.svg', 'image/svg+xml')).toBeNull();
    expect(previewFormat('page.html', 'text/html')).toEqual({ kind: 'text', type: 'text/plain; charset=utf-8' });
    expect(previewFormat('page.html', '')?.type).toBe('text/plain; charset=utf-8');
    expect(previewFormat('x.png', 'image/png')?.type).toBe('image/png');
    expect(previewKind('x', 'constructor')).toBeNull();
    expect(previewKind('x.constructor', '')).toBeNull();
  });
});
