import { afterEach, describe, expect, it, vi } from 'vitest';
import { FerryError } from '../../../shared/errors.ts';
import { collectRelayShare, type RelayShare } from './relay-upload.ts';

const share: RelayShare = { id: 'S'.repeat(16), uploadToken: 'u'.repeat(43), ownerToken: 'o'.repeat(43) };

/** Records the requests revokeShare makes; answers 204. */
function serverThatRevokes(): string[] {
  const seen: string[] = [];
  vi.stubGlobal('fetch', async (url: string, init: RequestInit = {}) => {
    seen.push(`${init.method ?? 'GET'} ${url}`);
    return new Response(null, { status: 204 });
  });
  return seen;
}

describe('collectRelayShare', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('revokes the relay share once the recipient has read it, asking again through passing failures', async () => {
    const seen = serverThatRevokes();
    const answers: (number | FerryError)[] = [0, new FerryError('NETWORK_ERROR', 'offline'), 0, 1];
    const downloads = async () => {
      const next = answers.shift();
      if (next instanceof FerryError) throw next;
      return next ?? 1;
    };
    expect(await collectRelayShare(share, () => false, downloads, 1)).toBe(true);
    expect(answers).toEqual([]);
    expect(seen).toEqual([`DELETE /api/shares/${share.id}`]);
  });

  it('stops without revoking when the transfer stopped, or the server no longer keeps the share', async () => {
    const seen = serverThatRevokes();
    let asked = 0;
    let stop = false;
    const unread = async () => {
      asked++;
      if (asked === 3) stop = true;
      return 0;
    };
    expect(await collectRelayShare(share, () => stop, unread, 1)).toBe(false);
    expect(asked).toBe(3);
    const gone = async (): Promise<number> => {
      throw new FerryError('SHARE_EXPIRED', 'expired');
    };
    expect(await collectRelayShare(share, () => false, gone, 1)).toBe(false);
    expect(seen).toEqual([]);
  });
});
