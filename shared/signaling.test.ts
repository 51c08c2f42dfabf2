import { describe, expect, it } from 'vitest';
import { parseClientMessage, parseServerMessage } from './signaling.ts';

const PEER = 'AAAAAAAAAAAAAAAA';

describe('parseClientMessage', () => {
  it('accepts each message type', () => {
    const good = [
      { type: 'hello', deviceName: '  Anna’s laptop ', deviceId: 'dev_0123456789abcdef' },
      { type: 'hello' },
      { type: 'ping' },
      { type: 'pair-create' },
      { type: 'pair-join', code: '012345' },
      { type: 'pair-rejoin', room: 'pair:AAAAAAAAAAAAAAAA', roomToken: 'a'.repeat(43) },
      { type: 'share-join', shareId: 'B'.repeat(16), role: 'reader', token: 'a'.repeat(43) },
      { type: 'leave', room: 'share:BBBBBBBBBBBBBBBB' },
      { type: 'relay', to: PEER, kind: 'signal', data: { sdp: 'v=0', type: 'offer' } },
      { type: 'mailbox-withdraw', room: 'pair:AAAAAAAAAAAAAAAA', id: 'b0x_id-AAAAAAAAA' },
    ];
    for (const message of good) expect(parseClientMessage(JSON.stringify(message)).ok, message.type).toBe(true);
  });

  it('trims device names and refuses control and bidi characters', () => {
    const parsed = parseClientMessage(JSON.stringify({ type: 'hello', deviceName: '  Desk  ' }));
    expect(parsed.ok && parsed.message.type === 'hello' && parsed.message.deviceName).toBe('Desk');
    for (const name of ['a\u0000b', 'evil\u202eexe', '', '   ', 'x'.repeat(65)]) {
      expect(parseClientMessage(JSON.stringify({ type: 'hello', deviceName: name })).ok, name).toBe(false);
    }
  });

  it('refuses malformed frames with a reason and, when readable, the type', () => {
    expect(parseClientMessage('{')).toEqual({ ok: false, error: 'not JSON' });
    expect(parseClientMessage('[]').ok).toBe(false);
    expect(parseClientMessage('null').ok).toBe(false);
    const unknown = parseClientMessage('{"type":"launch"}');
    expect(unknown).toMatchObject({ ok: false, type: 'launch' });
    expect(parseClientMessage(JSON.stringify({ type: 'ping', extra: 1 })).ok).toBe(false);
    expect(parseClientMessage(JSON.stringify({ type: 'pair-join', code: '12345' })).ok).toBe(false);
    expect(parseClientMessage(JSON.stringify({ type: 'relay', to: PEER, kind: 'shell', data: {} })).ok).toBe(false);
    expect(parseClientMessage(JSON.stringify({ type: 'relay', to: PEER, kind: 'signal', data: 'x' })).ok).toBe(false);
    expect(parseClientMessage(JSON.stringify({ type: 'relay', to: PEER, kind: 'signal', data: [1] })).ok).toBe(false);
    expect(parseClientMessage(JSON.stringify({ type: 'leave', room: 'other:AAAAAAAAAAAAAAAA' })).ok).toBe(false);
    const room = 'pair:AAAAAAAAAAAAAAAA';
    for (const id of ['short', 'x'.repeat(17), 'AAAAAAAAAAAAAAA/', 1]) {
      expect(parseClientMessage(JSON.stringify({ type: 'mailbox-withdraw', room, id })).ok, String(id)).toBe(false);
    }
  });
});

describe('parseServerMessage', () => {
  it('accepts an error with a catalogue code and refuses an unknown code', () => {
    expect(parseServerMessage(JSON.stringify({ type: 'error', code: 'RATE_LIMITED', message: 'slow down' })).ok).toBe(
      true,
    );
    expect(parseServerMessage(JSON.stringify({ type: 'error', code: 'NOPE', message: 'x' })).ok).toBe(false);
  });

  it('accepts a welcome', () => {
    const welcome = {
      type: 'welcome',
      peerId: PEER,
      name: 'Amber Otter',
      network: 'network:AAAAAAAAAAAAAAAAAAAAAA',
      ice: { iceServers: [{ urls: ['stun:stun.example.org'] }], expiresAt: null },
    };
    expect(parseServerMessage(JSON.stringify(welcome)).ok).toBe(true);
  });

  it('reads the ICE transport policy of a welcome: `all` when absent, `relay`, nothing else', () => {
    const welcome = (ice: Record<string, unknown>) =>
      JSON.stringify({
        type: 'welcome',
        peerId: PEER,
        name: 'Amber Otter',
        network: 'network:AAAAAAAAAAAAAAAAAAAAAA',
        ice,
      });
    const policy = (ice: Record<string, unknown>) => {
      const parsed = parseServerMessage(welcome(ice));
      return parsed.ok && parsed.message.type === 'welcome' ? parsed.message.ice.iceTransportPolicy : 'refused';
    };
    expect(policy({ iceServers: [], expiresAt: null })).toBe('all');
    expect(policy({ iceServers: [], expiresAt: null, iceTransportPolicy: 'relay' })).toBe('relay');
    expect(policy({ iceServers: [], expiresAt: null, iceTransportPolicy: 'all' })).toBe('all');
    expect(policy({ iceServers: [], expiresAt: null, iceTransportPolicy: 'host' })).toBe('refused');
  });
});
