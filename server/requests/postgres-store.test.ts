/**
 * The Postgres RequestStore against the RequestStore conformance suite (a new database each
 * time), and its limits under senders racing on several pools, as on several nodes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { postgresDatabases } from '../test-engines/databases.ts';
import { openPostgresRequestStore } from './postgres-store.ts';
import { requestStoreConformance } from './store.conformance.ts';
import type { RequestStore } from './store.ts';

const newDatabase = postgresDatabases();

requestStoreConformance('postgres', async () => openPostgresRequestStore(await newDatabase()));

describe('Postgres RequestStore on several nodes', () => {
  const nodes: RequestStore[] = [];
  afterAll(async () => {
    await Promise.all(nodes.map((s) => s.close()));
  });

  it('lets exactly as many racing uploads in as the limits allow, whichever node each reaches', async () => {
    const url = await newDatabase();
    for (let i = 0; i < 4; i++) nodes.push(await openPostgresRequestStore(url));
    const T0 = 1_800_000_000_000;
    const request = { id: 'requestRACE00001', ownerHash: 'a'.repeat(64), createdAt: T0, expiresAt: T0 + 3_600_000 };
    await nodes[0]!.createRequest({ ...request, maxBytes: 1000, maxFiles: 7 });
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        nodes[i % nodes.length]!.addUpload(
          request.id,
          {
            shareId: `share${String(i).padStart(11, '0')}`,
            senderKey: 'B'.repeat(87),
            bytes: 100,
            files: 1,
            createdAt: T0,
          },
          T0,
        ),
      ),
    );
    expect(results.filter((r) => r === 'added')).toHaveLength(7);
    expect(results.filter((r) => r === 'too-many-files')).toHaveLength(33);
    expect(await nodes[3]!.getRequest(request.id)).toMatchObject({ usedBytes: 700, usedFiles: 7 });
  });
});
