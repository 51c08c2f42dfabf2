/** get-file's answer when a ticket is refused: the share's own end wins over "ask for a new ticket". */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FerryError } from '../../shared/errors.ts';
import { ticketRefused } from './get-file.ts';
import { openSqliteShareStore } from './sqlite-store.ts';
import { newShare } from './store.conformance.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'ferry-get-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** store.conformance.ts's T0: its shares are live for an hour from then. */
const T0 = 1_800_000_000_000;

async function storeWithShare(file: string) {
  const shares = openSqliteShareStore(path.join(dir, file));
  const share = newShare([{ size: 100 }]);
  expect(await shares.createShare(share)).toBe('created');
  return { shares, id: share.id };
}

async function codeOf(refusal: Promise<FerryError>): Promise<string> {
  try {
    return (await refusal).code;
  } catch (error) {
    if (error instanceof FerryError) return error.code;
    throw error;
  }
}

describe('ticketRefused', () => {
  it('is UNAUTHORIZED with the given sentence while the share is live', async () => {
    const { shares, id } = await storeWithShare('live.db');
    const refusal = await ticketRefused(shares, id, T0 + 1000, 'This download ticket has lapsed; ask for a new one.');
    expect(refusal.code).toBe('UNAUTHORIZED');
    expect(refusal.message).toBe('This download ticket has lapsed; ask for a new one.');
  });

  it('says the share was deleted when a revoke (which deletes its tickets at once) came in meanwhile', async () => {
    const { shares, id } = await storeWithShare('revoked.db');
    await shares.revokeShare(id, T0 + 1000);
    await shares.purgeDead(T0 + 1000, 7 * 24 * 3_600_000);
    expect(await codeOf(ticketRefused(shares, id, T0 + 1001, 'lapsed'))).toBe('SHARE_REVOKED');
  });

  it('says the share expired when it expired meanwhile', async () => {
    const { shares, id } = await storeWithShare('expired.db');
    expect(await codeOf(ticketRefused(shares, id, T0 + 3_600_000, 'lapsed'))).toBe('SHARE_EXPIRED');
  });
});
