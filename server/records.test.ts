/**
 * Records in Postgres, wired: FERRY_DATABASE_URL is read, a missing or unreachable database
 * stops start-up with a sentence naming it (in createFerryServer and in `npm start`), and
 * two nodes on one database (and one files directory) serve the same shares with one
 * download limit.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createFerryServer } from './app.ts';
import { configFromProcess } from './config.ts';
import { postgresAdminUrl, postgresDatabases } from './test-engines/databases.ts';
import { freePort } from './test-engines/process.ts';
import {
  api,
  createTestShare,
  errorCode,
  failedStart,
  fetchFile,
  startTestServer,
  type TestServer,
  ticketFor,
  uploadAndComplete,
} from './test-support.ts';

const newDatabase = postgresDatabases();
const scratch = mkdtempSync(path.join(tmpdir(), 'ferry-records-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('FERRY_DATABASE_URL', () => {
  it('is read as a postgres:// URL; anything else stops the configuration', () => {
    expect(configFromProcess([], {}).databaseUrl).toBeNull();
    expect(configFromProcess([], { FERRY_DATABASE_URL: ' postgres://u:p@db:5432/ferry ' }).databaseUrl).toBe(
      'postgres://u:p@db:5432/ferry',
    );
    expect(configFromProcess([], { FERRY_DATABASE_URL: 'postgresql://db/ferry' }).databaseUrl).toBe(
      'postgresql://db/ferry',
    );
    for (const bad of ['mysql://db/ferry', 'db:5432', '/var/lib/ferry.db']) {
      expect(() => configFromProcess([], { FERRY_DATABASE_URL: bad })).toThrow(
        /FERRY_DATABASE_URL must be a postgres:\/\/ URL/,
      );
    }
  });

  it('stops start-up when the database cannot be reached, naming it without its password', async () => {
    const port = await freePort(); // nothing listens there
    const url = `postgres://ferry:s3cret@127.0.0.1:${port}/ferry`;
    const start = createFerryServer({ port: 0, host: '127.0.0.1', dataDir: scratch, databaseUrl: url });
    await expect(start).rejects.toMatchObject({ code: 'ENGINE_UNAVAILABLE' });
    const message = await start.catch((error: Error) => error.message);
    expect(message).toContain(`Postgres database postgres://ferry:***@127.0.0.1:${port}/ferry (FERRY_DATABASE_URL)`);
    expect(message).toContain('ECONNREFUSED');
    expect(message).not.toContain('s3cret');
  });

  it('stops start-up when the server has no such database', async () => {
    const url = new URL(postgresAdminUrl());
    url.pathname = '/ferry_no_such_database';
    const start = createFerryServer({ port: 0, host: '127.0.0.1', dataDir: scratch, databaseUrl: url.toString() });
    await expect(start).rejects.toThrow(
      /Postgres database .*ferry_no_such_database.*: database "ferry_no_such_database" does not exist/,
    );
  });

  it('makes `npm start` exit 1 with that sentence, and no stack', async () => {
    const port = await freePort();
    const failure = await failedStart({
      FERRY_DATABASE_URL: `postgres://ferry@127.0.0.1:${port}/ferry`,
      FERRY_DATA_DIR: scratch,
    });
    expect(failure?.code).toBe(1);
    expect(failure?.stderr?.trim()).toMatch(
      new RegExp(
        `^Ferry could not start\\. Ferry cannot use the Postgres database postgres://ferry@127\\.0\\.0\\.1:${port}/ferry \\(FERRY_DATABASE_URL\\) for its shares records: connect ECONNREFUSED`,
      ),
    );
    expect(failure?.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('two nodes on one Postgres database', () => {
  const nodes: TestServer[] = [];
  afterAll(async () => {
    for (const node of nodes) await node.stop();
  });

  it('serve the same share: one download limit across both, a revoke on one answered 410 by the other', async () => {
    const databaseUrl = await newDatabase();
    const files = mkdtempSync(path.join(scratch, 'shared-'));
    const [a, b] = await Promise.all([
      startTestServer({ databaseUrl }, files),
      startTestServer({ databaseUrl }, files),
    ]);
    nodes.push(a, b);
    const bytes = randomBytes(4096);
    const share = await createTestShare(a.url, [{ size: bytes.length }], { maxDownloads: 3 });
    await uploadAndComplete(a.url, share, [bytes]);

    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => ticketFor((i % 2 ? a : b).url, share, [0])));
    const granted = answers.filter((x) => x.status === 201);
    expect(granted).toHaveLength(3);
    expect(answers.filter((x) => x.status === 410).every((x) => errorCode(x) === 'DOWNLOAD_LIMIT_REACHED')).toBe(true);
    // Each ticket works on the other node too; completed downloads count once, wherever they ran.
    for (const [i, answer] of granted.entries()) {
      const ticket = (answer.json as { ticket: string }).ticket;
      const got = await fetchFile((i % 2 ? b : a).url, share, 0, ticket);
      expect(got.status).toBe(200);
      expect(got.bytes.equals(bytes)).toBe(true);
    }
    await new Promise((r) => setTimeout(r, 100)); // coverage is recorded as each response closes
    const owner = await api(b.url, 'GET', `/api/shares/${share.id}/owner`, { token: share.ownerToken });
    expect(owner.json).toMatchObject({ downloads: 3 });

    const other = await createTestShare(b.url, [{ size: 16 }]);
    await uploadAndComplete(b.url, other, [randomBytes(16)]);
    expect((await ticketFor(a.url, other, [0])).status).toBe(201);
    const revoke = await api(a.url, 'DELETE', `/api/shares/${other.id}`, { token: other.ownerToken });
    expect(revoke.status).toBeLessThan(300);
    const after = await ticketFor(b.url, other, [0]);
    expect(after.status).toBe(410);
  });
});
