import { describe, expect, it } from 'vitest';
import { deriveShareKeys, newSecret } from '../../../../shared/keys.ts';
import {
  downloadIdOf,
  parseReceiveEvent,
  parseReceiveRequest,
  parseSwDownload,
  parseSwFetch,
  parseSwHash,
  parseSwReply,
  parseSwStored,
} from './messages.ts';

const id = 'abcdefghijklmnop';

async function goodFile() {
  const { contentKey } = await deriveShareKeys(newSecret());
  return {
    shareId: id,
    index: 0,
    readerToken: 'r',
    ticket: 't',
    name: 'a.txt',
    size: 3,
    recordSize: 65536,
    nonceBase: new Uint8Array(12),
    key: contentKey,
    blake3: 'a'.repeat(64),
    metaKey: null,
  };
}

describe('worker messages', () => {
  it('accepts a well-formed open', async () => {
    const file = await goodFile();
    expect(parseReceiveRequest({ type: 'open', job: 1, file })).toMatchObject({ type: 'open', job: 1 });
    // A file of a share still uploading: no hash yet, the metadata key to read the final one.
    const { metaKey } = await deriveShareKeys(newSecret());
    const uploading = parseReceiveRequest({ type: 'open', job: 2, file: { ...file, blake3: null, metaKey } });
    expect(uploading?.file.metaKey).toBe(metaKey);
  });

  it('rejects malformed requests', async () => {
    const file = await goodFile();
    for (const bad of [
      null,
      'open',
      { type: 'open', job: -1, file },
      { type: 'open', job: 1, file: { ...file, key: 'not a key' } },
      { type: 'open', job: 1, file: { ...file, nonceBase: new Uint8Array(11) } },
      { type: 'open', job: 1, file: { ...file, recordSize: 1 } },
      { type: 'open', job: 1, file: { ...file, blake3: 'xyz' } },
      { type: 'open', job: 1, file: { ...file, size: 1.5 } },
      { type: 'open', job: 1, file: { ...file, metaKey: 'not a key' } },
      { type: 'explode', job: 1 },
    ]) {
      expect(parseReceiveRequest(bad)).toBeUndefined();
    }
  });

  it('parses events and refuses unknown error codes', () => {
    expect(parseReceiveEvent({ type: 'verified', job: 3 })).toEqual({ type: 'verified', job: 3 });
    expect(parseReceiveEvent({ type: 'failed', job: 3, code: 'RECORD_AUTH_FAILED', message: 'x' })).toBeDefined();
    expect(parseReceiveEvent({ type: 'failed', job: 3, code: 'NOPE', message: 'x' })).toBeUndefined();
    expect(parseReceiveEvent({ type: 'stream', job: 3, stream: {} })).toBeUndefined();
    expect(parseReceiveEvent({ type: 'stream', job: 3, stream: new ReadableStream() })?.type).toBe('stream');
  });
});

describe('service worker messages', () => {
  const stream = new ReadableStream<Uint8Array>();

  it('accepts a download with a stream', () => {
    expect(parseSwDownload({ type: 'download', id: 'A'.repeat(22), name: 'a.txt', size: 3, stream })).toMatchObject({
      id: 'A'.repeat(22),
      size: 3,
    });
    expect(parseSwDownload({ type: 'download', id: 'A'.repeat(22), name: 'a.zip', size: null, stream })).toBeDefined();
    // A ZIP64 archive past 4 GiB keeps its exact length (the service worker's Content-Length).
    expect(
      parseSwDownload({ type: 'download', id: 'A'.repeat(22), name: 'a.zip', size: 4_299_713_889, stream })?.size,
    ).toBe(4_299_713_889);
  });

  it('rejects ids that are not path-safe, missing streams and bad sizes', () => {
    for (const bad of [
      { type: 'download', id: '../../api', name: 'a', size: 1, stream },
      { type: 'download', id: 'A'.repeat(22), name: '', size: 1, stream },
      { type: 'download', id: 'A'.repeat(22), name: 'a', size: -1, stream },
      { type: 'download', id: 'A'.repeat(22), name: 'a', size: 1, stream: 'data' },
      { type: 'other', id: 'A'.repeat(22), name: 'a', size: 1, stream },
    ]) {
      expect(parseSwDownload(bad)).toBeUndefined();
    }
  });

  it('accepts a download the service worker fetches itself, with a 32-byte key', async () => {
    const { key: _key, metaKey: _metaKey, ...fields } = await goodFile();
    const file = { ...fields, keyBytes: new Uint8Array(32).fill(7), modified: 1_700_000_000_000 };
    const id = 'A'.repeat(22);
    const parsed = parseSwFetch({ type: 'download-fetch', id, file });
    expect(parsed?.file.keyBytes).toEqual(file.keyBytes);
    // Its own copy: zeroing it after the key's import leaves the message's bytes alone.
    expect(parsed?.file.keyBytes).not.toBe(file.keyBytes);
    const hashless = { ...file, blake3: null, modified: null };
    expect(parseSwFetch({ type: 'download-fetch', id, file: hashless })).toBeDefined();
    for (const bad of [
      { ...file, keyBytes: new Uint8Array(16) },
      { ...file, keyBytes: 'secret' },
      { ...file, nonceBase: new Uint8Array(11) },
      { ...file, ticket: '' },
      { ...file, modified: -1 },
      { ...file, modified: undefined },
    ]) {
      expect(parseSwFetch({ type: 'download-fetch', id, file: bad })).toBeUndefined();
    }
    expect(parseSwFetch({ type: 'download-fetch', id: '../x', file })).toBeUndefined();
    expect(parseSwFetch({ type: 'download', id, file })).toBeUndefined();
    // The archive form is gone: "Download all" is staged (download-stored) or refused.
    expect(parseSwFetch({ type: 'download-fetch', id, archive: 'a.zip', files: [file, file] })).toBeUndefined();
  });

  it('accepts a stored file to serve by its OPFS name, and nothing else as a path', () => {
    const file = { path: `${'T'.repeat(22)}-3`, name: 'chart.bin', size: 12, blake3: 'a'.repeat(64), modified: null };
    const stored = { type: 'download-stored', id: 'A'.repeat(22), archive: null, folder: 'staged', files: [file] };
    expect(parseSwStored(stored)).toEqual(stored);
    for (const path of ['../ferry-p2p/x', `${'T'.repeat(22)}-`, 'x-1', `${'T'.repeat(22)}-1/..`, '']) {
      expect(parseSwStored({ ...stored, files: [{ ...file, path }] }), path).toBeUndefined();
    }
    expect(parseSwStored({ ...stored, folder: 'received' })?.folder).toBe('received');
    expect(parseSwStored({ ...stored, folder: '../ferry-p2p' })).toBeUndefined();
    expect(parseSwStored({ ...stored, folder: undefined })).toBeUndefined();
    for (const bad of [{ blake3: null }, { size: -1 }, { name: '' }, { modified: -1 }, { modified: undefined }]) {
      expect(parseSwStored({ ...stored, files: [{ ...file, ...bad }] }), JSON.stringify(bad)).toBeUndefined();
    }
  });

  it('accepts several stored files only as an archive', () => {
    const file = { path: `${'T'.repeat(22)}-0`, name: 'a.bin', size: 12, blake3: 'a'.repeat(64), modified: 5 };
    const two = [file, { ...file, path: `${'T'.repeat(22)}-1`, name: 'b.bin' }];
    const stored = {
      type: 'download-stored',
      id: 'A'.repeat(22),
      archive: 'ferry-x.zip',
      folder: 'staged',
      files: two,
    };
    expect(parseSwStored(stored)?.files.map((f) => f.name)).toEqual(['a.bin', 'b.bin']);
    expect(parseSwStored({ ...stored, archive: null })).toBeUndefined();
    expect(parseSwStored({ ...stored, archive: '' })).toBeUndefined();
    expect(parseSwStored({ ...stored, files: [] })).toBeUndefined();
    expect(parseSwStored({ ...stored, files: [file, { ...file, path: 'x' }] })).toBeUndefined();
  });

  it('parses progress, failures and the final-hash exchange, each naming its file', () => {
    expect(parseSwReply({ type: 'progress', file: 1, bytes: 5 })).toEqual({ type: 'progress', file: 1, bytes: 5 });
    expect(parseSwReply({ type: 'progress', file: 1, bytes: -5 })).toBeUndefined();
    expect(parseSwReply({ type: 'progress', bytes: 5 })).toBeUndefined();
    expect(parseSwReply({ type: 'started', file: 2 })).toEqual({ type: 'started', file: 2 });
    expect(parseSwReply({ type: 'verified', file: 2 })).toEqual({ type: 'verified', file: 2 });
    expect(parseSwReply({ type: 'need-hash', file: 0 })).toEqual({ type: 'need-hash', file: 0 });
    expect(parseSwReply({ type: 'need-hash' })).toBeUndefined();
    expect(parseSwReply({ type: 'failed', file: 0, code: 'RECORD_AUTH_FAILED', message: 'x' })?.type).toBe('failed');
    expect(parseSwReply({ type: 'failed', file: 0, code: 'NOPE', message: 'x' })).toBeUndefined();
    const hash = { type: 'hash', file: 3, blake3: 'a'.repeat(64) };
    expect(parseSwHash(hash)).toEqual(hash);
    expect(parseSwHash({ ...hash, file: undefined })).toBeUndefined();
    expect(parseSwHash({ ...hash, blake3: 'A'.repeat(64) })).toBeUndefined();
    expect(parseSwHash({ type: 'hash-failed', file: 0, code: 'FILE_NOT_READY', message: 'x' })?.type).toBe(
      'hash-failed',
    );
    expect(parseSwHash({ type: 'hash-failed', file: 0, code: 'NOPE', message: 'x' })).toBeUndefined();
  });

  it('parses replies and download paths', () => {
    expect(parseSwReply({ type: 'ready', url: `/__download/${'A'.repeat(22)}` })?.type).toBe('ready');
    expect(parseSwReply({ type: 'ready', url: 'https://evil.example/' })).toBeUndefined();
    expect(downloadIdOf(`/__download/${'A'.repeat(22)}`)).toBe('A'.repeat(22));
    expect(downloadIdOf('/__download/../x')).toBeUndefined();
    expect(downloadIdOf('/api/shares')).toBeUndefined();
  });
});
