/**
 * Coordination in Redis, wired: an unreachable Redis stops `npm start` with a sentence naming
 * it (createFerryServer: redis.test.ts), and nodes on one Redis share one network-room salt.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCoordination } from './coordination.ts';
import { createLogger } from './log.ts';
import { redisUrl } from './test-engines/databases.ts';
import { freePort } from './test-engines/process.ts';
import { failedStart } from './test-support.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'ferry-coordination-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const logger = createLogger({ level: 'silent' });

describe('FERRY_REDIS_URL', () => {
  it('makes `npm start` exit 1 with that sentence, and no stack', async () => {
    const port = await freePort();
    const failure = await failedStart({ FERRY_REDIS_URL: `redis://127.0.0.1:${port}`, FERRY_DATA_DIR: scratch });
    expect(failure?.code).toBe(1);
    expect(failure?.stderr?.trim()).toMatch(
      new RegExp(
        `^Ferry could not start\\. Ferry cannot use Redis at redis://127\\.0\\.0\\.1:${port} \\(FERRY_REDIS_URL\\) for its signaling and coordination: connect ECONNREFUSED`,
      ),
    );
    expect(failure?.stderr).not.toMatch(/\n\s+at /);
  });

  it('gives every node on one Redis the same network-room salt', async () => {
    const [one, two] = [
      await openCoordination({ redisUrl: redisUrl(), logger }),
      await openCoordination({ redisUrl: redisUrl(), logger }),
    ];
    try {
      expect(one.networkSalt().equals(two.networkSalt())).toBe(true);
      expect(one.networkSalt()).toHaveLength(16);
    } finally {
      await one.close();
      await two.close();
    }
  });
});
