/**
 * For tests: the run's S3 engine (started on first use by the global setup) and a new,
 * empty bucket per call; every bucket a test file made is emptied and deleted after the
 * file. A test that needs S3 fails with the reason when it could not start; others never
 * start it.
 */
import { randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, inject } from 'vitest';
import type { S3Engine } from './s3.ts';

/** How long a first caller may wait for Ceph to install (fresh machines) and start. */
export const S3_START_TIMEOUT_MS = 240_000;

let engine: Promise<S3Engine> | undefined;

/** The S3 engine of this run, or a thrown reason why there is none. */
export function s3Engine(): Promise<S3Engine> {
  engine ??= (async () => {
    const response = await fetch(inject('s3Broker'), { signal: AbortSignal.timeout(S3_START_TIMEOUT_MS) });
    const answer = (await response.json()) as S3Engine | { error: string };
    if ('error' in answer) throw new Error(answer.error);
    return answer;
  })();
  return engine;
}

/** A client for the engine, as S3BlobStore makes one (path-style, no optional checksums). */
export function testS3Client(s3: S3Engine): S3Client {
  return new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

async function emptyAndDelete(client: S3Client, bucket: string): Promise<void> {
  for (;;) {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
    if (keys.length === 0) break;
    await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
  }
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
}

/** Returns a function that makes a new bucket and answers its name with the engine; all are deleted after the calling file. */
export function s3Buckets(): () => Promise<{ bucket: string; s3: S3Engine }> {
  const made: string[] = [];
  let client: S3Client | undefined;
  afterAll(async () => {
    if (!client) return;
    for (const bucket of made) await emptyAndDelete(client, bucket);
    client.destroy();
  });
  return async () => {
    const s3 = await s3Engine();
    client ??= testS3Client(s3);
    const bucket = `ferry-test-${randomBytes(6).toString('hex')}`;
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    made.push(bucket);
    return { bucket, s3 };
  };
}
