/**
 * SentOffers with its store and relay calls replaced: an answer that reaches a tab which no
 * longer holds the transfer is said once and settles the relay share; an offer whose share
 * expired unanswered is said as such. Vitest does not compile runes here, so `$state` is
 * stubbed as the identity.
 */
import { describe, expect, it, vi } from 'vitest';
import type { SentOffer } from './p2p-db.ts';

vi.hoisted(() => {
  (globalThis as Record<string, unknown>).$state = <T>(value: T): T => value;
});

const { SentOffers, outcomeSentence, filesInWords } = await import('./sent-offers.svelte.ts');

const DAY = 24 * 60 * 60 * 1000;

function offer(transfer: string, sentAt: number, files = [{ name: 'holiday.mov', size: 3 }]): SentOffer {
  return {
    transfer,
    room: 'pair:r',
    peerName: 'Laptop',
    files,
    sentAt,
    expiresAt: sentAt + DAY,
    shareId: `share-${transfer}`,
    ownerToken: `owner-${transfer}`,
  };
}

function fakeStore(stored: SentOffer[]) {
  return {
    list: vi.fn(async () => stored),
    put: vi.fn(async () => {}),
    delete: vi.fn(async () => {}),
    withdraw: vi.fn(async () => {}),
    collect: vi.fn(async () => true),
  };
}

describe('SentOffers', () => {
  it('says an answer this tab did not wait for, and revokes the share of a declined offer', async () => {
    const store = fakeStore([offer('t1', Date.now())]);
    const offers = new SentOffers(store);
    await offers.answered('t1', false, false);
    expect(offers.outcomes.map((o) => o.result)).toEqual(['declined']);
    expect(offers.waiting).toEqual([]);
    expect(store.delete).toHaveBeenCalledWith('t1');
    expect(store.withdraw).toHaveBeenCalledWith({ id: 'share-t1', ownerToken: 'owner-t1' });
    expect(store.collect).not.toHaveBeenCalled();
  });

  it('collects the share of an accepted offer once it is read, instead of revoking it', async () => {
    const store = fakeStore([offer('t1', Date.now())]);
    const offers = new SentOffers(store);
    await offers.answered('t1', true, false);
    expect(offers.outcomes.map((o) => o.result)).toEqual(['accepted']);
    expect(store.collect).toHaveBeenCalledWith({ id: 'share-t1', ownerToken: 'owner-t1' });
    expect(store.withdraw).not.toHaveBeenCalled();
  });

  it('leaves saying and settling to a transfer this tab holds, and only forgets the offer', async () => {
    const store = fakeStore([offer('t1', Date.now())]);
    const offers = new SentOffers(store);
    await offers.answered('t1', false, true);
    expect(offers.outcomes).toEqual([]);
    expect(store.delete).toHaveBeenCalledWith('t1');
    expect(store.withdraw).not.toHaveBeenCalled();
  });

  it('ignores an answer to an offer it does not know (or answered already)', async () => {
    const store = fakeStore([offer('t1', Date.now())]);
    const offers = new SentOffers(store);
    await offers.answered('t1', true, false);
    await offers.answered('t1', false, false);
    await offers.answered('other', false, false);
    expect(offers.outcomes.map((o) => o.result)).toEqual(['accepted']);
    expect(store.withdraw).not.toHaveBeenCalled();
  });

  it('turns offers whose relay share expired unanswered into outcomes, and keeps the rest waiting by room', async () => {
    const store = fakeStore([offer('new', 5 * DAY), offer('old', 0)]);
    const offers = new SentOffers(store);
    await offers.load(5 * DAY + 1);
    expect(offers.outcomes.map((o) => [o.offer.transfer, o.result])).toEqual([['old', 'expired']]);
    expect(offers.waitingIn('pair:r').map((o) => o.transfer)).toEqual(['new']);
    expect(offers.waitingIn('pair:other')).toEqual([]);
    expect(store.delete).toHaveBeenCalledWith('old');
  });

  it('remembers a new offer in the store and as waiting', async () => {
    const store = fakeStore([]);
    const offers = new SentOffers(store);
    await offers.remember(offer('t2', 10));
    expect(store.put).toHaveBeenCalledOnce();
    expect(offers.waiting.map((o) => o.transfer)).toEqual(['t2']);
  });
});

describe('outcomeSentence', () => {
  const when = () => 'today';
  it('names the device, the files and what became of them', () => {
    expect(outcomeSentence({ offer: offer('t', 0), result: 'accepted' }, when)).toBe(
      'Laptop accepted holiday.mov, sent through the server today.',
    );
    expect(outcomeSentence({ offer: offer('t', 0), result: 'declined' }, when)).toBe(
      'Laptop declined holiday.mov, sent through the server today; the files were deleted from the server.',
    );
    expect(outcomeSentence({ offer: offer('t', 0), result: 'expired' }, when)).toBe(
      'Laptop did not open Ferry in time for holiday.mov, sent through the server today; the files have expired.',
    );
  });

  it('counts several files', () => {
    expect(filesInWords([{ name: 'a' }, { name: 'b' }, { name: 'c' }])).toBe('3 files');
    expect(filesInWords([{ name: 'a' }])).toBe('a');
  });
});
