import { describe, expect, it } from 'vitest';
import type { ShareManifestResponse } from '../../../../shared/api.ts';
import { toBase64Url } from '../../../../shared/encoding.ts';
import { FerryError } from '../../../../shared/errors.ts';
import { deriveShareKeys, newSecret } from '../../../../shared/keys.ts';
import { type Manifest, sealManifest } from '../../../../shared/manifest.ts';
import { FINAL_HASH_TIMEOUT_MS, type FinalHashDeps, waitForFinalHash } from './final-hash.ts';

const nonce = toBase64Url(new Uint8Array(12).fill(7));
const file = { name: 'a.bin', size: 10, recordSize: 65536, nonce };

function manifest(blake3: string | null, changes: Partial<typeof file> = {}): Manifest {
  return { v: 1, files: [{ ...file, type: 'application/octet-stream', blake3, ...changes }] };
}

async function setup(answers: Array<Manifest | FerryError>) {
  const { metaKey } = await deriveShareKeys(newSecret());
  let clock = 0;
  let reads = 0;
  const deps: FinalHashDeps = {
    getManifest: async () => {
      const next = answers[Math.min(reads++, answers.length - 1)]!;
      if (next instanceof FerryError) throw next;
      const sealed = await sealManifest(next, metaKey);
      return {
        manifest: sealed,
        state: next.files[0]?.blake3 ? 'ready' : 'uploading',
        files: [],
      } as ShareManifestResponse;
    },
    sleep: async (ms) => {
      clock += ms;
    },
    now: () => clock,
  };
  const job = { shareId: 'x'.repeat(16), index: 0, readerToken: 'r', metaKey, file };
  return { deps, job, reads: () => reads };
}

describe('waitForFinalHash', () => {
  it('reads the manifest again until it carries the hash, through network failures', async () => {
    const hash = 'a'.repeat(64);
    const { deps, job, reads } = await setup([
      manifest(null),
      new FerryError('NETWORK_ERROR', 'offline'),
      manifest(null),
      manifest(hash),
    ]);
    await expect(waitForFinalHash(job, deps)).resolves.toBe(hash);
    expect(reads()).toBe(4);
  });

  it('refuses a final manifest that describes another file', async () => {
    const { deps, job } = await setup([manifest('a'.repeat(64), { nonce: toBase64Url(new Uint8Array(12)) })]);
    await expect(waitForFinalHash(job, deps)).rejects.toMatchObject({ code: 'FILE_HASH_MISMATCH' });
  });

  it('stops when the share is revoked, and after a bounded wait', async () => {
    const gone = await setup([new FerryError('SHARE_REVOKED', 'gone')]);
    await expect(waitForFinalHash(gone.job, gone.deps)).rejects.toMatchObject({ code: 'SHARE_REVOKED' });
    const never = await setup([manifest(null)]);
    await expect(waitForFinalHash(never.job, never.deps)).rejects.toMatchObject({ code: 'FILE_NOT_READY' });
    expect(never.reads()).toBeGreaterThan(FINAL_HASH_TIMEOUT_MS / 2000);
  });
});
