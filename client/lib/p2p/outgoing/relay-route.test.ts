/**
 * RelayRoute's share lifecycle against a real Ferry server (share API, SQLite): the share
 * is made at the id derived from the secret and announced once, files the recipient has
 * whole are not uploaded, and a stop (before the share exists, or while it is being
 * announced) rejects `send` with its reason and revokes the share. The app's API client
 * uses the page's relative URLs: here they are resolved against the test server. The tus
 * uploads themselves are not run here (tus-js-client's Node HTTP stack cannot send the
 * Blob slices a browser sends); the p2p-fallback, p2p-offline and p2p-mailbox journeys
 * run them in Chromium.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, type TestServer } from '../../../../server/test-support.ts';
import { FerryError } from '../../../../shared/errors.ts';
import { deriveShareKeys, fileCipherOf, newSecret, relayShareId } from '../../../../shared/keys.ts';
import { recordCount } from '../../../../shared/records.ts';
import { getManifest } from '../../api/share-client.ts';
import type { PreparedSend } from './prepare.ts';
import { RelayRoute } from './relay-route.ts';

let server: TestServer;
const realFetch = globalThis.fetch;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.stop();
});
afterEach(() => vi.unstubAllGlobals());

/** The page's origin is the test server's. */
function asThePage(): void {
  vi.stubGlobal('location', new URL(`${server.url}/`));
  vi.stubGlobal('fetch', (input: RequestInfo | URL, init?: RequestInit) =>
    realFetch(typeof input === 'string' && input.startsWith('/') ? `${server.url}${input}` : input, init),
  );
}

const RECORD = 1024;

/** The share is revoked (stop does not await the revoke; a loaded machine may take a while). */
function revoked(id: string, readerToken: string): Promise<void> {
  return vi.waitFor(() => expect(getManifest(id, readerToken)).rejects.toMatchObject({ code: 'SHARE_REVOKED' }), {
    timeout: 10_000,
  });
}

/** A transfer of files of `sizes` bytes, planned as prepare.ts does. */
async function transferOf(sizes: number[]) {
  const secret = newSecret();
  const keys = await deriveShareKeys(secret);
  const ciphers = await Promise.all(
    sizes.map((size, i) =>
      fileCipherOf(keys.contentKey, crypto.getRandomValues(new Uint8Array(12)), { size, recordSize: RECORD }, `f${i}`),
    ),
  );
  const prepared: PreparedSend = { secret, manifest: 'sealed-manifest', ciphers };
  const files = sizes.map((size, i) => new File([new Uint8Array(size)], `f${i}`));
  return { prepared, files, readerToken: keys.readerToken };
}

describe('RelayRoute', () => {
  it('makes the share at the id derived from the secret, announces it once, and uploads nothing the recipient has whole', async () => {
    asThePage();
    const { prepared, files, readerToken } = await transferOf([10 * RECORD + 7, 3 * RECORD]);
    const route = new RelayRoute(prepared, files);
    const announced: string[] = [];
    let stored = 0;
    await route.send(
      prepared.ciphers.map((cipher) => recordCount(cipher)),
      () => stored++,
      { announce: async (share) => void announced.push(share.id) },
    );
    const id = await relayShareId(prepared.secret);
    expect(announced).toEqual([id]);
    expect(stored).toBe(0);
    expect(await getManifest(id, readerToken)).toMatchObject({ manifest: 'sealed-manifest' });
    route.stop();
    await revoked(id, readerToken);
  });

  it('a stop before the share exists revokes it once made, and send rejects with the reason', async () => {
    asThePage();
    const { prepared, files, readerToken } = await transferOf([4 * RECORD]);
    const route = new RelayRoute(prepared, files);
    let announced = false;
    const sending = route.send([0], () => {}, {
      announce: async () => {
        announced = true;
      },
    });
    const reason = new FerryError('ABORTED', 'Cancelled.');
    route.stop(reason);
    await expect(sending).rejects.toBe(reason);
    expect(announced).toBe(false);
    const id = await relayShareId(prepared.secret);
    await revoked(id, readerToken);
  });

  it('a stop while the offer is being announced ends it before any upload and revokes the share', async () => {
    asThePage();
    const { prepared, files, readerToken } = await transferOf([4 * RECORD]);
    const route = new RelayRoute(prepared, files);
    let stored = 0;
    const reason = new FerryError('ABORTED', 'Declined.');
    const sending = route.send([0], () => stored++, { announce: async () => route.stop(reason) });
    await expect(sending).rejects.toBe(reason);
    expect(stored).toBe(0);
    const id = await relayShareId(prepared.secret);
    await revoked(id, readerToken);
    // Idempotent: a second stop changes nothing.
    route.stop();
  });
});
