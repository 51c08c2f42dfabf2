/**
 * Texts over a connection whose opening and confirmation the test decides: each step is
 * said on the tile, the text leaves only once the link is confirmed, and a link lost on
 * the way says why instead. Vitest does not compile runes here, so `$state` is the identity.
 */
import { describe, expect, it, vi } from 'vitest';
import { FerryError } from '../../../shared/errors.ts';
import type { ControlMessage } from '../../../shared/p2p/frames.ts';
import { flush } from '../../../shared/p2p/session-test-kit.ts';

vi.hoisted(() => {
  (globalThis as Record<string, unknown>).$state = <T>(value: T): T => value;
});

const { Texts } = await import('./texts.svelte.ts');

function deferred() {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/** A connection that opens and confirms when the test says; keeps what was sent over it. */
function connection(compare: boolean) {
  const opened = deferred();
  const confirmed = deferred();
  const sent: ControlMessage[] = [];
  return {
    opened,
    confirmed,
    sent,
    value: {
      opened: opened.promise,
      confirmed: confirmed.promise,
      plan: { compare },
      link: { sendControl: (message: ControlMessage) => sent.push(message) },
    },
  };
}

describe('Texts', () => {
  it('says each step, and sends the text only once the people confirmed the code', async () => {
    const link = connection(true);
    const texts = new Texts(() => link.value);
    const sending = texts.send('peer-b', 'the door code is 4417');
    expect(texts.notice('peer-b')).toBe('Connecting…');
    link.opened.resolve();
    await flush();
    expect(texts.notice('peer-b')).toBe('Check the code, then confirm.');
    expect(link.sent).toEqual([]);
    link.confirmed.resolve();
    await sending;
    expect(link.sent).toEqual([{ type: 'text', text: 'the door code is 4417' }]);
    expect(texts.notice('peer-b')).toBe('Text sent.');
  });

  it('to a paired device says it is being checked (no code to compare)', async () => {
    const link = connection(false);
    const texts = new Texts(() => link.value);
    const sending = texts.send('peer-b', 'hi');
    link.opened.resolve();
    await flush();
    expect(texts.notice('peer-b')).toBe('Checking the paired device…');
    link.confirmed.resolve();
    await sending;
    expect(link.sent).toHaveLength(1);
  });

  it('says why when the link is lost before it was confirmed, and sends nothing', async () => {
    const link = connection(true);
    const texts = new Texts(() => link.value);
    const sending = texts.send('peer-b', 'hi');
    link.opened.resolve();
    link.confirmed.reject(new FerryError('UNAUTHORIZED', 'The other device could not prove it is the one you paired.'));
    await sending;
    expect(link.sent).toEqual([]);
    expect(texts.notice('peer-b')).toBe('The other device could not prove it is the one you paired.');

    const other = connection(true);
    const again = new Texts(() => other.value);
    const failing = again.send('peer-c', 'hi');
    other.opened.reject(new TypeError('boom'));
    await failing;
    expect(again.notice('peer-c')).toBe('The text could not be sent.');
  });

  it('without a server connection says nothing, and keeps received texts until dismissed', async () => {
    const texts = new Texts(() => null);
    await texts.send('peer-b', 'hi');
    expect(texts.notice('peer-b')).toBeUndefined();
    texts.arrived('Amber Otter', 'first');
    texts.arrived('Amber Otter', 'second');
    const [first] = texts.received;
    texts.dismiss(first?.id ?? -1);
    expect(texts.received.map((t) => [t.from, t.text])).toEqual([['Amber Otter', 'second']]);
  });
});
