import { describe, expect, it } from 'vitest';
import { defaultDeviceName, type FileProgress, PROGRESS_EVERY_MS, ProgressLog } from './p2p-db.ts';
import { RECONNECT_MAX_MS, RECONNECT_MIN_MS, reconnectDelay } from './signaling.svelte.ts';
import { parseWriterEvent, parseWriterRequest } from './writer-messages.ts';

describe('reconnectDelay', () => {
  it('grows exponentially up to the cap, with jitter inside the bounds', () => {
    expect(reconnectDelay(0, () => 0)).toBe(RECONNECT_MIN_MS / 2);
    expect(reconnectDelay(3, () => 1)).toBe(RECONNECT_MIN_MS * 8);
    expect(reconnectDelay(30, () => 1)).toBe(RECONNECT_MAX_MS);
  });
});

describe('defaultDeviceName', () => {
  it.each([
    ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/156.0 Safari/537.36', 'Chrome on Linux'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0', 'Firefox on Windows'],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Safari/604.1', 'Safari on iOS'],
  ])('%s → %s', (agent, name) => {
    expect(defaultDeviceName(agent)).toBe(name);
  });
});

describe('writer messages', () => {
  it('refuses what is not a request or an event', () => {
    expect(parseWriterRequest(null)).toBeNull();
    const records = { type: 'records', file: 0, first: 0, bytes: new ArrayBuffer(8), at: 2, lengths: [3, 3] };
    expect(parseWriterRequest(records)).not.toBeNull();
    expect(parseWriterRequest({ ...records, first: -1 })).toBeNull();
    expect(parseWriterRequest({ ...records, at: 1.5 })).toBeNull();
    expect(parseWriterRequest({ ...records, lengths: [3, 4] }), 'past the end of the buffer').toBeNull();
    expect(parseWriterRequest({ ...records, lengths: [] })).toBeNull();
    expect(parseWriterRequest({ ...records, lengths: [3, 0] })).toBeNull();
    expect(parseWriterRequest({ ...records, lengths: '33' })).toBeNull();
    const many = { ...records, bytes: new ArrayBuffer(64) };
    expect(parseWriterRequest({ ...many, lengths: Array.from({ length: 16 }, () => 1) })).not.toBeNull();
    expect(parseWriterRequest({ ...many, lengths: Array.from({ length: 17 }, () => 1) })).toBeNull();
    expect(parseWriterRequest({ ...records, bytes: new Uint8Array(8) })).toBeNull();
    expect(parseWriterRequest({ type: 'open', file: 0, path: 'x', cipher: {}, blake3: 'nope' })).toBeNull();
    expect(parseWriterEvent({ type: 'verified', file: 0, verified: 1.5 })).toBeNull();
    expect(parseWriterEvent({ type: 'failed', file: 0, code: 'X' })).toBeNull();
    expect(parseWriterRequest({ type: 'sync', id: -1 })).toBeNull();
    expect(parseWriterEvent({ type: 'synced' })).toBeNull();
  });

  it('reads valid ones', () => {
    const bytes = new ArrayBuffer(12);
    expect(parseWriterRequest({ type: 'records', file: 1, first: 2, bytes, at: 4, lengths: [5, 3] })).toEqual({
      type: 'records',
      file: 1,
      first: 2,
      bytes,
      at: 4,
      lengths: [5, 3],
    });
    expect(parseWriterRequest({ type: 'abort' })).toBeNull();
    expect(parseWriterRequest({ type: 'close', id: 2, discard: true })).toEqual({
      type: 'close',
      id: 2,
      discard: true,
    });
    expect(parseWriterRequest({ type: 'close', id: 2 })).toBeNull();
    expect(parseWriterEvent({ type: 'failed', code: 'STORAGE_FULL', message: 'a.bin does not fit.' })).toEqual({
      type: 'failed',
      code: 'STORAGE_FULL',
      message: 'a.bin does not fit.',
    });
    expect(parseWriterEvent({ type: 'done', file: 3 })).toEqual({ type: 'done', file: 3 });
    expect(parseWriterRequest({ type: 'sync', id: 7 })).toEqual({ type: 'sync', id: 7 });
    expect(parseWriterEvent({ type: 'synced', id: 7 })).toEqual({ type: 'synced', id: 7 });
  });
});

describe('ProgressLog', () => {
  it('writes a file’s first progress, then at most once per PROGRESS_EVERY_MS, and always its end', () => {
    const writes: FileProgress[] = [];
    let now = 1_000;
    const log = new ProgressLog(
      async (progress) => {
        writes.push(progress);
      },
      () => now,
    );
    const note = (file: number, verified: number) =>
      log.note({ transfer: 'AAAAAAAAAAAAAAAAAAAAAA', file, verified, records: 10, role: 'recipient' });
    note(0, 1);
    now += PROGRESS_EVERY_MS - 1;
    note(0, 2);
    note(1, 1); // another file has its own clock
    now += 1;
    note(0, 3);
    note(0, 10); // complete: written at once
    expect(writes.map((w) => [w.file, w.verified, w.updatedAt])).toEqual([
      [0, 1, 1_000],
      [1, 1, 1_000 + PROGRESS_EVERY_MS - 1],
      [0, 3, 1_000 + PROGRESS_EVERY_MS],
      [0, 10, 1_000 + PROGRESS_EVERY_MS],
    ]);
  });

  it('ignores a failed write', async () => {
    const log = new ProgressLog(() => Promise.reject(new Error('quota')));
    expect(() =>
      log.note({ transfer: 'AAAAAAAAAAAAAAAAAAAAAA', file: 0, verified: 1, records: 2, role: 'sender' }),
    ).not.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 0));
  });
});
