import { describe, expect, it } from 'vitest';
import { groupPairCode, normalizePairCode, pairCodeFromHash, pairingLink, RejoinQueue } from './pair-code.ts';

describe('pairing codes as people type them', () => {
  it.each([
    ['123456', '123456'],
    [' 123 456 ', '123456'],
    ['123-456', '123456'],
    ['12.34.56', '123456'],
  ])('%j → %s', (typed, code) => {
    expect(normalizePairCode(typed)).toBe(code);
  });

  it.each(['12345', '1234567', '12345a', '', '１２３４５６'])('refuses %j', (typed) => {
    expect(normalizePairCode(typed)).toBeNull();
  });

  it('groups a code in two halves for reading', () => {
    expect(groupPairCode('042917')).toBe('042 917');
  });
});

describe('pairing links', () => {
  it('carries the code in the fragment, which browsers never send to the server', () => {
    const link = pairingLink('https://ferry.example', '042917');
    expect(link).toBe('https://ferry.example/#pair=042917');
    expect(pairCodeFromHash(new URL(link).hash)).toBe('042917');
  });

  it('ignores other fragments and bad codes', () => {
    expect(pairCodeFromHash('')).toBeNull();
    expect(pairCodeFromHash('#abc')).toBeNull();
    expect(pairCodeFromHash('#pair=12')).toBeNull();
    expect(pairCodeFromHash('#pair=%E0%A4%A')).toBeNull();
  });
});

describe('RejoinQueue', () => {
  it('gives a refusal to the oldest rejoin still unanswered', () => {
    const queue = new RejoinQueue();
    queue.sent('pair:a');
    queue.sent('pair:b');
    queue.sent('pair:c');
    queue.joined('pair:a');
    expect(queue.refused()).toBe('pair:b');
    queue.joined('pair:c');
    expect(queue.refused()).toBeNull();
  });

  it('forgets what was waiting when the connection closes', () => {
    const queue = new RejoinQueue();
    queue.sent('pair:a');
    queue.clear();
    expect(queue.refused()).toBeNull();
  });
});
