import { describe, expect, it } from 'vitest';
import { MAX_FAILURE_CHARS, receivedRecord, receivedRecordSchema } from './received.ts';

const file = { name: 'photos/harbour.jpg', size: 1234, type: 'image/jpeg', nonce: 'bm9uY2U', key: 'c2VjcmV0' };

describe('receivedRecord', () => {
  it('records a verified file from a link by share id and index, with no key', () => {
    const record = receivedRecord(
      { kind: 'link', origin: 'https://ferry.example', shareId: 'AbCdEfGhIjKlMnOp' },
      'AbCdEfGhIjKlMnOp',
      2,
      file,
      null,
      1000,
    );
    expect(record).toEqual({
      id: 'link:AbCdEfGhIjKlMnOp:2',
      name: 'photos/harbour.jpg',
      size: 1234,
      type: 'image/jpeg',
      from: { kind: 'link', origin: 'https://ferry.example', shareId: 'AbCdEfGhIjKlMnOp' },
      at: 1000,
      verified: true,
      failure: null,
    });
    // Only the fields of a received entry are kept: a manifest entry's key and nonce are not.
    expect(JSON.stringify(record)).not.toMatch(/c2VjcmV0|bm9uY2U/);
    expect(receivedRecordSchema.safeParse(record).success).toBe(true);
  });

  it('records a failed file from a nearby device with its reason, shortened', () => {
    const reason = `harbour.jpg failed verification: ${'x'.repeat(2 * MAX_FAILURE_CHARS)}`;
    const record = receivedRecord({ kind: 'nearby', device: 'Amber Otter' }, 'transfer-1', 0, file, reason, 5);
    expect(record.id).toBe('nearby:transfer-1:0');
    expect(record.verified).toBe(false);
    expect(record.failure).toBe(reason.slice(0, MAX_FAILURE_CHARS));
    expect(receivedRecordSchema.safeParse(record).success).toBe(true);
  });
});

describe('receivedRecordSchema', () => {
  const good = receivedRecord({ kind: 'nearby', device: 'Amber Otter' }, 't', 0, file, null, 5);

  it.each([
    ['a negative size', { ...good, size: -1 }],
    ['an unknown source', { ...good, from: { kind: 'email', address: 'a@b' } }],
    ['a link source without its share id', { ...good, from: { kind: 'link', origin: 'https://x' } }],
    ['no verdict', { ...good, verified: undefined }],
    ['a time that is not a number', { ...good, at: '2026-11-21' }],
    // The list shows it with Date#toISOString, which throws past ±8.64e15 ms (ECMA-262 §21.4.1.1).
    ['a time no Date can hold', { ...good, at: 1e17 }],
  ])('refuses an entry with %s', (_, entry) => {
    expect(receivedRecordSchema.safeParse(entry).success).toBe(false);
  });
});
