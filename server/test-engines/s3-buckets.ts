/**
 * For tests: the run's S3 engine (started on first use by the global setup) and a new,
 * empty bucket per call; every bucket a test file made is emptied and deleted after the
 * file. A test that needs S3 fails with the reason when it could not start; others never
 * start it.
 */
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, DeleteBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, inject } from 'vitest';
import { emptyBucket, type S3Engine, testS3Client } from './s3.ts';

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

/** Returns a function that makes a new bucket and answers its name with the engine; all are deleted after the calling file. */
export function s3Buckets(): () => Promise<{ bucket: string; s3: S3Engine }> {
  const made: string[] = [];
  let client: S3Client | undefined;
  afterAll(async () => {
    if (!client) return;
    for (const bucket of made) {
      await emptyBucket(client, bucket);
      await client.send(new DeleteBucketCommand({ Bucket: bucket }));
    }
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
