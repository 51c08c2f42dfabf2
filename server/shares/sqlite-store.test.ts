/** The SQLite ShareStore against the ShareStore conformance suite, on a fresh file each time; its migrations. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../sqlite.ts';
import { openSqliteShareStore, SHARE_MIGRATIONS } from './sqlite-store.ts';
import { shareStoreConformance } from './store.conformance.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'ferry-sqlite-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

shareStoreConformance('sqlite', () => openSqliteShareStore(path.join(dir, `store-${n++}.db`)));

describe('SQLite share store migrations', () => {
  it('opens a file whose tickets had a row per file: coverage, progress and counting carry over', async () => {
    const file = path.join(dir, 'ticket-rows.db');
    // ferry.db as the version before compact tickets left it (migrations only ever append).
    const old = openDatabase(file, SHARE_MIGRATIONS.slice(0, 2));
    old.exec(`INSERT INTO shares (id, owner_hash, upload_hash, reader_hash, manifest, created_at, expires_at, state)
              VALUES ('s1', 'a', 'b', 'c', 'm', 0, 9e15, 'ready')`);
    const slot = old.prepare('INSERT INTO slots (share_id, idx, size) VALUES (?, ?, ?)');
    for (const [idx, size] of [
      [0, 10],
      [1, 20],
      [2, 0],
    ] as const)
      slot.run('s1', idx, size);
    const ticket = old.prepare(`INSERT INTO tickets (hash, share_id, state, last_active_at) VALUES (?, 's1', ?, 100)`);
    const rows = old.prepare('INSERT INTO ticket_files (ticket_hash, idx, size, covered) VALUES (?, ?, ?, ?)');
    ticket.run('half', 'open');
    rows.run('half', 0, 10, '[[0,10]]');
    rows.run('half', 1, 20, '[[0,5]]');
    rows.run('half', 2, 0, '[]');
    ticket.run('fresh', 'open');
    rows.run('fresh', 1, 20, '[]');
    old.close();

    const store = openSqliteShareStore(file);
    expect((await store.getTicket('half'))!.files).toEqual([0, 1, 2]);
    expect(await store.coverage('half', 1)).toEqual([[0, 5]]);
    expect(await store.coverage('half', 2)).toEqual([]);
    expect(await store.recordCoverage('half', 1, 5, 20, 200)).toBe('completed');
    // The fresh ticket, which sent nothing, lapses without counting.
    expect(await store.lapseTickets(150)).toBe(1);
    expect((await store.getShare('s1'))!.downloads).toBe(1);
    await store.close();
  });
});
