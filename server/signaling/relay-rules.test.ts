import { describe, expect, it } from 'vitest';
import { RELAY_KINDS } from '../../shared/signaling.ts';
import { relayAllowed } from './relay-rules.ts';

describe('relay rules', () => {
  it('lets only share-signal pass in a share room, and only between owner and reader', () => {
    for (const kind of RELAY_KINDS) {
      expect(relayAllowed('share', kind, 'reader', 'owner')).toBe(kind === 'share-signal');
      expect(relayAllowed('share', kind, 'owner', 'reader')).toBe(kind === 'share-signal');
      expect(relayAllowed('share', kind, 'reader', 'reader')).toBe(false);
      expect(relayAllowed('share', kind, 'owner', 'owner')).toBe(false);
    }
  });

  it('keeps pairing proofs and sealed boxes to pair rooms and share signals out of the others', () => {
    const allowed = (room: 'network' | 'pair') => RELAY_KINDS.filter((kind) => relayAllowed(room, kind));
    expect(allowed('network')).toEqual(['signal', 'offer-files', 'answer-files', 'cancel']);
    expect(allowed('pair')).toEqual(['signal', 'pair-auth', 'offer-files', 'answer-files', 'cancel', 'offline']);
  });
});
