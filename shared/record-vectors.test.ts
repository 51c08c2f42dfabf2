import { describe, expect, it } from 'vitest';
import { checkRecordVectors } from './record-vectors.ts';

describe('record format known answers', () => {
  it('seals and opens every vector to the exact bytes of the shipped format', async () => {
    expect(await checkRecordVectors()).toEqual([]);
  });
});
