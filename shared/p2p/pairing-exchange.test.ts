import { describe, expect, it } from 'vitest';
import { FerryError } from '../errors.ts';
import type { ControlMessage } from './frames.ts';
import { exchangePairingSecret, type PairingExchange } from './pairing-exchange.ts';

/** Both sides of one pairing's first connection, their messages passed to each other. */
function connected() {
  let lose!: (error: FerryError) => void;
  const lost = new Promise<never>((_, reject) => {
    lose = reject;
  });
  lost.catch(() => {});
  const stored: Record<'creator' | 'joiner', string[]> = { creator: [], joiner: [] };
  const sent: ControlMessage[] = [];
  const inbox = { secret: (_: string) => {}, saved: () => {} };
  const side = (role: 'creator' | 'joiner'): PairingExchange => ({
    role,
    confirmed: Promise.resolve(),
    lost,
    send: (message) => {
      sent.push(message);
      if (message.type === 'pair-secret') inbox.secret(message.secret);
      if (message.type === 'pair-saved') inbox.saved();
    },
    secretArrived: new Promise<string>((resolve) => {
      if (role === 'joiner') inbox.secret = resolve;
    }),
    savedArrived: new Promise<void>((resolve) => {
      if (role === 'creator') inbox.saved = resolve;
    }),
    remember: async (secret) => {
      stored[role].push(secret);
    },
  });
  return { creator: side('creator'), joiner: side('joiner'), stored, sent, lose };
}

describe('exchangePairingSecret', () => {
  it('gives both sides the same fresh 32-byte secret, the creator storing it only once the joiner did', async () => {
    const { creator, joiner, stored, sent } = connected();
    await Promise.all([exchangePairingSecret(joiner), exchangePairingSecret(creator)]);
    expect(stored.joiner).toHaveLength(1);
    expect(stored.creator).toEqual(stored.joiner);
    expect(stored.creator[0]).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(sent.map((m) => m.type)).toEqual(['pair-secret', 'pair-saved']);
  });

  it('stores nothing and sends no secret before the connection is confirmed, and fails when it is lost', async () => {
    const { creator, stored, sent, lose } = connected();
    let confirm!: () => void;
    const waiting = exchangePairingSecret({
      ...creator,
      confirmed: new Promise<void>((resolve) => {
        confirm = resolve;
      }),
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(sent).toEqual([]);
    lose(new FerryError('NETWORK_ERROR', 'gone'));
    await expect(waiting).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
    confirm();
    expect(stored.creator).toEqual([]);
  });
});
