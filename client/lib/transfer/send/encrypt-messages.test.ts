import { describe, expect, it } from 'vitest';
import { parseEncryptEvent } from './encrypt-messages.ts';

describe('parseEncryptEvent range', () => {
  it('takes the sealed records as byte arrays, views into larger buffers included', () => {
    const whole = new Uint8Array([1, 2, 3, 4, 5]);
    const parts = [whole.subarray(1, 3), new Uint8Array([9])];
    expect(parseEncryptEvent({ type: 'range', job: 4, parts })).toEqual({ type: 'range', job: 4, parts });
    expect(parseEncryptEvent({ type: 'range', job: 0, parts: [] })).toEqual({ type: 'range', job: 0, parts: [] });
  });

  it('refuses a Blob, other views and a missing list', () => {
    const bad: unknown[] = [
      { type: 'range', job: 1, blob: new Blob([new Uint8Array(3)]) },
      { type: 'range', job: 1, parts: new Uint8Array(3) },
      { type: 'range', job: 1, parts: [new Uint8Array(2), new Uint16Array(2)] },
      { type: 'range', job: 1, parts: [new Uint8Array(2), 'x'] },
      { type: 'range', job: -1, parts: [] },
    ];
    for (const data of bad) expect(parseEncryptEvent(data)).toBeUndefined();
  });
});
