import { describe, expect, it } from 'vitest';
import type { CreateShareRequest } from '../../../shared/api.ts';
import { createUploadSchema } from '../../../shared/request-api.ts';
import { exportPublicKey, newRequesterKeys } from '../../../shared/request-keys.ts';
import { uploadBody } from './upload-target.ts';

const share: CreateShareRequest = {
  readerHash: 'a'.repeat(64),
  expiresInSeconds: 86400,
  maxDownloads: 3,
  password: null,
  manifest: 'c2VhbGVk',
  files: [{ size: 100 }, { size: 16 }],
};

describe('request upload body', () => {
  it('keeps only what the request route takes, in a shape its schema accepts', async () => {
    const senderKey = await exportPublicKey((await newRequesterKeys()).publicKey);
    const body = uploadBody(share, senderKey);
    expect(body).toEqual({
      senderKey,
      readerHash: share.readerHash,
      manifest: share.manifest,
      files: [{ size: 100 }, { size: 16 }],
    });
    expect(createUploadSchema.safeParse(body).success).toBe(true);
  });

  it('refuses a planned share that reuses an earlier upload', () => {
    const reusing: CreateShareRequest = { ...share, files: [{ reuse: { blobId: 'b', blobToken: 'x'.repeat(43) } }] };
    expect(() => uploadBody(reusing, 'key')).toThrow('cannot reuse');
  });
});
