import { describe, expect, it } from 'vitest';
import { importAesKey } from '../shared/keys.ts';
import { rangeSealerConformance } from '../shared/record-sealer.conformance.ts';
import { plainSpan, sealParts } from '../shared/record-stream.ts';
import { encryptedSize } from '../shared/records.ts';
import { sealPartsSync } from './record-sealer.ts';

rangeSealerConformance('node:crypto, synchronous', sealPartsSync);

describe('sealPartsSync', () => {
  it('seals synchronously: the parts are there when it returns, not a promise', async () => {
    const key = await importAesKey(new Uint8Array(32).fill(7));
    const file = { key, nonceBase: new Uint8Array(12), size: 3000, recordSize: 1000, name: 'f' };
    const plain = new Uint8Array(3000).fill(1);
    const [ps, pe] = plainSpan(file, 500, encryptedSize(file));
    const parts = sealPartsSync(file, plain.subarray(ps, pe), 500, encryptedSize(file));
    expect(Array.isArray(parts)).toBe(true);
    const web = await sealParts(file, plain.slice(ps, pe), 500, encryptedSize(file));
    expect(Buffer.concat(parts)).toEqual(Buffer.concat(web));
  });
});
