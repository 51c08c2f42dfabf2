/**
 * GET /ready — readiness, for a load balancer or an orchestrator: 200 only while the share
 * database takes a write, the blob storage takes a new file, and free space is above the
 * reserve (FERRY_MIN_FREE_BYTES); else 503 with the failing checks. /health stays liveness
 * (the process answers), so a full disk takes a node out of rotation without restarting it.
 */
import type { ErrorCode } from '../shared/errors.ts';
import type { AppDeps } from './deps.ts';
import { sendJson } from './http/respond.ts';
import type { Handler } from './http/router.ts';
import { isOutOfSpace, reserveFor, spaceOf } from './storage-full.ts';

/** A check that has not answered in this long has failed (an engine that hangs). */
const CHECK_TIMEOUT_MS = 3000;

export interface ReadyFailure {
  check: 'database' | 'storage' | 'space' | 'redis';
  /** The engine that failed, by name: Postgres, SQLite, Redis, or the blob store's. */
  engine?: string;
  code: ErrorCode;
  message: string;
}

function withTimeout<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not answer within ${CHECK_TIMEOUT_MS} ms`)),
      CHECK_TIMEOUT_MS,
    );
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

async function probe(
  check: 'database' | 'storage' | 'redis',
  engine: string | undefined,
  work: () => Promise<void>,
): Promise<ReadyFailure | undefined> {
  try {
    await withTimeout(work(), check);
    return undefined;
  } catch (error) {
    const code: ErrorCode = isOutOfSpace(error) ? 'STORAGE_FULL' : 'ENGINE_UNAVAILABLE';
    const what = engine ? `${engine} (${check})` : `The ${check}`;
    const reason = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    return { check, ...(engine && { engine }), code, message: `${what} cannot be written: ${reason}` };
  }
}

/** The failing checks; empty when the server is ready. */
export async function readinessFailures({ config, shares, blobs, redisCheck }: AppDeps): Promise<ReadyFailure[]> {
  const space = async (): Promise<ReadyFailure | undefined> => {
    // The uploads' storage, and the disk the SQLite files live on (the same one by default).
    const seen = [await blobs.space(), await spaceOf(config.dataDir)];
    for (const s of seen) {
      if (!s) continue;
      const reserve = reserveFor(s.total, config.minFreeBytes);
      if (s.free < reserve) {
        return {
          check: 'space',
          code: 'STORAGE_FULL',
          message: `${s.free} bytes free, below the ${reserve}-byte reserve.`,
        };
      }
    }
    return undefined;
  };
  const results = await Promise.all([
    probe('database', config.databaseUrl ? 'Postgres' : 'SQLite', () => shares.checkWritable()),
    probe('storage', undefined, () => blobs.checkWritable()),
    redisCheck ? probe('redis', 'Redis', redisCheck) : undefined,
    space().catch(
      (error: unknown): ReadyFailure => ({ check: 'space', code: 'ENGINE_UNAVAILABLE', message: String(error) }),
    ),
  ]);
  return results.filter((r): r is ReadyFailure => r !== undefined);
}

/** GET and HEAD /ready. */
export function readyRoute(deps: AppDeps): Handler {
  return async ({ res }) => {
    const failures = await readinessFailures(deps);
    if (failures.length === 0) {
      sendJson(res, 200, { ready: true });
      return;
    }
    const code = failures.some((f) => f.code === 'STORAGE_FULL') ? 'STORAGE_FULL' : 'ENGINE_UNAVAILABLE';
    const message = `Not ready: ${failures.map((f) => f.engine ?? f.check).join(', ')}.`;
    sendJson(res, 503, { error: { code, message }, failures });
  };
}
