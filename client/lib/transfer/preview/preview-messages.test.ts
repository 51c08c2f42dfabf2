import { describe, expect, it } from 'vitest';
import { importAesKey } from '../../../../shared/keys.ts';
import { parseSwPreviewEvent, parseSwPreviewMessage, previewSessionOf, previewUrl } from './preview-messages.ts';

const session = 'S'.repeat(22);

async function goodOpen() {
  return {
    type: 'preview-open',
    session,
    name: 'holiday/clip.webm',
    mime: 'video/webm',
    size: 3_000_000,
    recordSize: 65536,
    nonceBase: new Uint8Array(12),
    key: await importAesKey(new Uint8Array(32)),
    shareId: 'abcdefghijklmnop',
    index: 2,
    readerToken: 'r'.repeat(43),
    ticket: 't'.repeat(43),
  };
}

describe('page → service worker preview messages', () => {
  it('accepts a well-formed open and a close', async () => {
    const open = await goodOpen();
    expect(parseSwPreviewMessage(open)).toMatchObject({ type: 'preview-open', session, index: 2, size: 3_000_000 });
    expect(parseSwPreviewMessage({ type: 'preview-close', session })).toEqual({ type: 'preview-close', session });
  });

  it('rejects opens with a bad field, and files that have no preview', async () => {
    const open = await goodOpen();
    for (const bad of [
      null,
      'preview-open',
      { ...open, session: '../../api/shares/x/' },
      { ...open, name: '' },
      { ...open, mime: 'x'.repeat(256) },
      { ...open, name: 'archive.zip', mime: 'application/zip' },
      { ...open, name: 'logo.svg', mime: 'image/svg+xml' },
      { ...open, size: -1 },
      { ...open, size: 1.5 },
      { ...open, recordSize: 10 },
      { ...open, nonceBase: new Uint8Array(11) },
      { ...open, nonceBase: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] },
      { ...open, key: 'a key' },
      { ...open, shareId: 'short' },
      { ...open, index: -1 },
      { ...open, readerToken: 'r' },
      { ...open, ticket: `${'t'.repeat(42)}/` },
      { ...open, type: 'preview-explode' },
      { type: 'preview-close', session: 'x' },
    ]) {
      expect(parseSwPreviewMessage(bad)).toBeUndefined();
    }
  });

  it('copies the nonce so the caller cannot change it afterwards', async () => {
    const open = await goodOpen();
    const parsed = parseSwPreviewMessage(open);
    open.nonceBase[0] = 9;
    expect(parsed?.type === 'preview-open' && parsed.nonceBase[0]).toBe(0);
  });
});

describe('service worker → page preview events', () => {
  it('parses ready and failed, and only for a URL of the same session', () => {
    const url = previewUrl(session, 'holiday/clip.webm');
    expect(url).toBe(`/__preview/${session}/clip.webm`);
    expect(parseSwPreviewEvent({ type: 'preview-ready', session, url })).toEqual({
      type: 'preview-ready',
      session,
      url,
    });
    expect(parseSwPreviewEvent({ type: 'preview-ready', session, url: 'https://evil.example/' })).toBeUndefined();
    expect(
      parseSwPreviewEvent({ type: 'preview-ready', session, url: `/__preview/${'T'.repeat(22)}/a` }),
    ).toBeUndefined();
    const failed = { type: 'preview-failed', session, code: 'RECORD_AUTH_FAILED', message: 'record 3 failed' };
    expect(parseSwPreviewEvent(failed)).toEqual(failed);
    expect(parseSwPreviewEvent({ ...failed, code: 'NOPE' })).toBeUndefined();
    expect(parseSwPreviewEvent({ ...failed, session: 'x' })).toBeUndefined();
  });

  it('finds the session in a preview path and nothing in others', () => {
    expect(previewSessionOf(previewUrl(session, 'a b#?.txt'))).toBe(session);
    expect(previewUrl(session, 'a b#?.txt')).toBe(`/__preview/${session}/a%20b%23%3F.txt`);
    expect(previewSessionOf(`/__preview/${session}`)).toBeUndefined();
    expect(previewSessionOf(`/__preview/${session}/a/b`)).toBeUndefined();
    expect(previewSessionOf('/__preview/../api/x')).toBeUndefined();
    expect(previewSessionOf(`/__download/${session}/a`)).toBeUndefined();
  });
});
