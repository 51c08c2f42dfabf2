import { describe, expect, it } from 'vitest';
import { peerView } from './bus.ts';
import { MAX_ROOMS_PER_PEER, Rooms } from './rooms.ts';

describe('Rooms', () => {
  it('tracks members both ways and forgets empty rooms', () => {
    const rooms = new Rooms();
    expect(rooms.join('pair:r', { peerId: 'a' })).toBe('joined');
    expect(rooms.join('pair:r', { peerId: 'b' })).toBe('joined');
    expect(rooms.join('pair:r', { peerId: 'a' })).toBe('already');
    expect(rooms.members('pair:r').map((m) => m.peerId)).toEqual(['a', 'b']);
    expect(rooms.together('a', 'b')).toBe(true);
    expect(rooms.leave('pair:r', 'a')).toBe(true);
    expect(rooms.leave('pair:r', 'a')).toBe(false);
    expect(rooms.together('a', 'b')).toBe(false);
    expect(rooms.leaveAll('b')).toEqual(['pair:r']);
    expect(rooms.size).toBe(0);
    expect(rooms.roomsOf('b')).toEqual([]);
  });

  it('relays only between peers that share a room', () => {
    const rooms = new Rooms();
    rooms.join('network:1', { peerId: 'a' });
    rooms.join('network:2', { peerId: 'c' });
    rooms.join('network:1', { peerId: 'b' });
    expect(rooms.together('a', 'b')).toBe(true);
    expect(rooms.together('a', 'c')).toBe(false);
    expect(rooms.together('a', 'nobody')).toBe(false);
  });

  it('caps members per room and rooms per peer', () => {
    const rooms = new Rooms();
    expect(rooms.join('share:x', { peerId: 'a' }, 2)).toBe('joined');
    expect(rooms.join('share:x', { peerId: 'b' }, 2)).toBe('joined');
    expect(rooms.join('share:x', { peerId: 'c' }, 2)).toBe('room-full');
    for (let i = 1; i < MAX_ROOMS_PER_PEER; i++) expect(rooms.join(`pair:${i}`, { peerId: 'a' })).toBe('joined');
    expect(rooms.join('pair:last', { peerId: 'a' })).toBe('too-many-rooms');
  });

  it('keeps the latest role of a member', () => {
    const rooms = new Rooms();
    rooms.join('share:x', { peerId: 'a', role: 'reader' });
    rooms.join('share:x', { peerId: 'a', role: 'owner' });
    expect(rooms.members('share:x')).toEqual([{ peerId: 'a', role: 'owner' }]);
  });
});

describe('peerView', () => {
  const member = {
    id: 'p',
    name: 'Amber Otter',
    deviceName: 'Desk',
    deviceId: 'dev',
    frames: null,
    role: 'owner' as const,
  };
  it('shows device ids only in pair rooms and roles only in share rooms', () => {
    expect(peerView('network:n', member)).toEqual({ id: 'p', name: 'Amber Otter', deviceName: 'Desk' });
    expect(peerView('pair:n', member)).toMatchObject({ deviceId: 'dev' });
    expect(peerView('pair:n', member)).not.toHaveProperty('role');
    expect(peerView('share:n', member)).toMatchObject({ role: 'owner' });
    expect(peerView('share:n', member)).not.toHaveProperty('deviceId');
  });
  it('shows the frame version a device reads to nearby and paired devices, absent when it did not say', () => {
    const reads2 = { ...member, frames: 2 };
    expect(peerView('network:n', reads2)).toMatchObject({ frames: 2 });
    expect(peerView('pair:n', reads2)).toMatchObject({ frames: 2 });
    expect(peerView('share:n', reads2)).not.toHaveProperty('frames');
    expect(peerView('pair:n', member)).not.toHaveProperty('frames');
  });
});
