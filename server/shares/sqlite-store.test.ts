/** The SQLite ShareStore against the ShareStore conformance suite, on a fresh file each time. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { openSqliteShareStore } from './sqlite-store.ts';
import { shareStoreConformance } from './store.conformance.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'ferry-sqlite-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

shareStoreConformance('sqlite', () => openSqliteShareStore(path.join(dir, `store-${n++}.db`)));
