/**
 * How a failed preview reads. Vitest does not compile runes here, so `$state` is stubbed as
 * the identity (as in receive-session.test.ts): this checks logic, not reactivity.
 */
import { describe, expect, it, vi } from 'vitest';
import { FerryError } from '../../../../shared/errors.ts';

vi.hoisted(() => {
  (globalThis as Record<string, unknown>).$state = <T>(value: T): T => value;
});

const { FilePreview, previewFailure } = await import('./file-preview.svelte.ts');

describe('previewFailure', () => {
  it('names the file and the record that failed verification', () => {
    const error = new FerryError('RECORD_AUTH_FAILED', 'clip.webm: record 21 failed verification.');
    expect(previewFailure('clip.webm', error)).toBe(
      'clip.webm failed verification: record 21 was altered or damaged on the way, so the preview stopped. Do not trust this file.',
    );
  });

  it('says what to do after a lapsed ticket, and why a gone share cannot be previewed', () => {
    expect(previewFailure('a.png', new FerryError('UNAUTHORIZED', 'no'))).toBe(
      'The preview of a.png has lapsed after a long pause. Close it and open it again.',
    );
    expect(previewFailure('a.png', new FerryError('SHARE_REVOKED', 'The share was revoked.'))).toBe(
      'a.png can no longer be previewed: The share was revoked.',
    );
    expect(previewFailure('a.png', new Error('boom'))).toBe('a.png could not be previewed.');
  });
});

describe('FilePreview', () => {
  it('an element that cannot show the file fails the preview with one sentence naming it', () => {
    const preview = new FilePreview('a.png', 'image', () => Promise.reject(new Error('not used')));
    expect(preview.phase).toBe('opening');
    preview.elementFailed();
    expect(preview.phase).toBe('failed');
    expect(preview.failure).toBe('a.png cannot be shown in this browser. Download it instead.');
    preview.elementFailed();
    expect(preview.failure).toBe('a.png cannot be shown in this browser. Download it instead.');
  });
});
