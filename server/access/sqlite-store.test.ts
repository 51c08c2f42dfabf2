/** The SQLite AccessStore against the AccessStore conformance suite, on a fresh file each time. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { openSqliteAccessStore } from './sqlite-store.ts';
import { accessStoreConformance } from './store.conformance.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'ferry-access-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

accessStoreConformance('sqlite', () => openSqliteAccessStore(path.join(dir, `access-${n++}.db`)));
