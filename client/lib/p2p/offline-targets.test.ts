import { describe, expect, it } from 'vitest';
import { offlineTargets, waitInWords } from './offline-targets.ts';
import type { Pairing } from './p2p-db.ts';

function pairing(room: string, deviceId: string, createdAt = 1): Pairing {
  return { room, roomToken: 't', deviceId, name: `Device ${deviceId}`, secret: 's', createdAt, lastSeen: createdAt };
}

describe('offlineTargets', () => {
  it('lists remembered devices that are online nowhere', () => {
    const remembered = [pairing('pair:a', 'A'), pairing('pair:b', 'B')];
    expect(offlineTargets(remembered, [{ deviceId: 'B' }, { deviceId: null }]).map((p) => p.room)).toEqual(['pair:a']);
  });

  it('drops a device once it is online, whichever room it is in', () => {
    expect(offlineTargets([pairing('pair:a', 'A')], [{ deviceId: 'A' }])).toEqual([]);
  });

  it('keeps one tile per device: the newest pairing of a device paired twice', () => {
    const old = pairing('pair:old', 'A', 1);
    const fresh = pairing('pair:new', 'A', 5);
    expect(offlineTargets([fresh, old], [])).toEqual([fresh]);
    expect(offlineTargets([old, fresh], [])).toEqual([fresh]);
  });

  it('keeps pairings without a device id apart, by room', () => {
    const found = offlineTargets([pairing('pair:a', ''), pairing('pair:b', '')], [{ deviceId: null }]);
    expect(found.map((p) => p.room)).toEqual(['pair:a', 'pair:b']);
  });
});

describe('waitInWords', () => {
  it('says whole days as days', () => {
    expect(waitInWords(24 * 60 * 60)).toBe('1 day');
    expect(waitInWords(7 * 24 * 60 * 60)).toBe('7 days');
  });

  it('says anything else in whole hours, at least one', () => {
    expect(waitInWords(36 * 60 * 60)).toBe('36 hours');
    expect(waitInWords(3600)).toBe('1 hour');
    expect(waitInWords(60)).toBe('1 hour');
  });
});
