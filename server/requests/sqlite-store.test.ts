/** The SQLite RequestStore against the RequestStore conformance suite, on a fresh file each time. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { openSqliteRequestStore } from './sqlite-store.ts';
import { requestStoreConformance } from './store.conformance.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'ferry-requests-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

requestStoreConformance('sqlite', () => openSqliteRequestStore(path.join(dir, `requests-${n++}.db`)));
