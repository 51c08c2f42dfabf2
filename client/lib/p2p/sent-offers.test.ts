/**
 * SentOffers with its store and relay calls replaced: an answer that reaches a tab which no
 * longer holds the transfer is said once and settles the relay share; an offer whose share
 * expired unanswered is said as such. Vitest does not compile runes here, so `$state` (and
 * `$state.raw`) is stubbed as the identity.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FerryError } from '../../../shared/errors.ts';
import type { SentOffer } from './p2p-db.ts';

vi.hoisted(() => {
  const identity = <T>(value: T): T => value;
  (globalThis as Record<string, unknown>).$state = Object.assign(identity, { raw: identity });
});

const { SentOffers, outcomeSentence, filesInWords } = await import('./sent-offers.svelte.ts');

const DAY = 24 * 60 * 60 * 1000;

function offer(
  transfer: string,
  sentAt: number,
  files = [{ name: 'holiday.mov', size: 3 }],
  more: Partial<SentOffer> = {},
): SentOffer {
  return {
    transfer,
    room: 'pair:r',
    peerName: 'Laptop',
    files,
    sentAt,
    expiresAt: sentAt + DAY,
    shareId: `share-${transfer}`,
    ownerToken: `owner-${transfer}`,
    ...more,
  };
}

/** An offer whose box waits in the mailbox as `box-<transfer>`. */
const boxed = (transfer: string, sentAt: number, more: Partial<SentOffer> = {}): SentOffer =>
  offer(transfer, sentAt, undefined, { mailbox: `box-${transfer}`, ...more });

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
    const offers = new SentOffers(store, () => 5 * DAY + 1);
    await offers.load();
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

describe('SentOffers.withdraw', () => {
  it('takes the box back, revokes the share and keeps the offer as withdrawn, in the store too', async () => {
    const store = fakeStore([boxed('t1', 0)]);
    const offers = new SentOffers(store, () => 50);
    await offers.load();
    const takeBack = vi.fn(async () => true);
    await offers.withdraw('t1', takeBack);
    expect(takeBack).toHaveBeenCalledWith('pair:r', 'box-t1');
    expect(store.withdraw).toHaveBeenCalledWith({ id: 'share-t1', ownerToken: 'owner-t1' });
    expect(store.put).toHaveBeenCalledWith(expect.objectContaining({ transfer: 't1', withdrawnAt: 50, mailbox: null }));
    expect(offers.isWaiting('t1')).toBe(false);
    expect(offers.withdrawnIn('pair:r').map((o) => o.transfer)).toEqual(['t1']);
    expect(offers.noticeFor('t1')).toBeUndefined();
    expect(offers.outcomes).toEqual([]);
  });

  it('says so when the device took the offer first, and leaves it waiting for its answer', async () => {
    const store = fakeStore([boxed('t1', 0)]);
    const offers = new SentOffers(store, () => 50);
    await offers.load();
    const takeBack = vi.fn(async () => false);
    await offers.withdraw('t1', takeBack);
    expect(store.withdraw).not.toHaveBeenCalled();
    expect(offers.isWaiting('t1')).toBe(true);
    expect(offers.noticeFor('t1')).toEqual({
      sentence:
        'Laptop already has this offer (it opened Ferry meanwhile), so it can no longer be withdrawn; it can still accept or decline.',
      failed: false,
    });
    // No box to take back any more: the button goes, and a second withdraw asks nothing.
    expect(offers.waitingIn('pair:r')[0]?.mailbox).toBeNull();
    expect(store.put).toHaveBeenCalledWith(expect.objectContaining({ transfer: 't1', mailbox: null }));
    await offers.withdraw('t1', takeBack);
    expect(takeBack).toHaveBeenCalledOnce();
    // Its answer still settles it as before.
    await offers.answered('t1', false, false);
    expect(store.withdraw).toHaveBeenCalledOnce();
  });

  it('says why when the server cannot be asked, and can be tried again', async () => {
    const store = fakeStore([boxed('t1', 0)]);
    const offers = new SentOffers(store, () => 50);
    await offers.load();
    await offers.withdraw('t1', async () => {
      throw new FerryError('NETWORK_ERROR', 'Not connected to the server.');
    });
    expect(offers.noticeFor('t1')).toEqual({
      sentence: 'The offer could not be withdrawn: Not connected to the server. Try again.',
      failed: true,
    });
    expect(offers.isWaiting('t1')).toBe(true);
    expect(offers.withdrawing('t1')).toBe(false);
    await offers.withdraw('t1', async () => true);
    expect(offers.noticeFor('t1')).toBeUndefined();
    expect(offers.withdrawnIn('pair:r')).toHaveLength(1);
  });

  it('leaves an offer answered or expired while the server was asked as it was settled, not back in the store', async () => {
    // The device took the box and its decline arrived before the server's answer to Withdraw.
    const store = fakeStore([boxed('t1', 0)]);
    const offers = new SentOffers(store, () => 50);
    await offers.load();
    await offers.withdraw('t1', async () => {
      await offers.answered('t1', false, false);
      return false;
    });
    expect(offers.outcomes.map((o) => o.result)).toEqual(['declined']);
    expect(offers.isWaiting('t1')).toBe(false);
    expect(offers.noticeFor('t1')).toBeUndefined();
    expect(store.put).not.toHaveBeenCalled();

    // The offer's day ended while the server was asked: its expiry stands, the share still goes.
    let now = 50;
    const late = fakeStore([boxed('t2', 0)]);
    const expiring = new SentOffers(late, () => now);
    await expiring.load();
    await expiring.withdraw('t2', async () => {
      now = DAY;
      await expiring.check();
      return true;
    });
    expect(expiring.outcomes.map((o) => o.result)).toEqual(['expired']);
    expect(expiring.withdrawnIn('pair:r')).toEqual([]);
    expect(late.put).not.toHaveBeenCalled();
    expect(late.withdraw).toHaveBeenCalledWith({ id: 'share-t2', ownerToken: 'owner-t2' });
  });

  it('takes up what another tab of this device did with the offer instead of overwriting it', async () => {
    const stored = [boxed('t1', 0), boxed('t2', 0)];
    const store = fakeStore(stored);
    const offers = new SentOffers(store, () => 50);
    await offers.load();
    // Meanwhile another tab withdrew t1 and heard t2's answer (so forgot it).
    stored.splice(0, 2, { ...boxed('t1', 0), mailbox: null, withdrawnAt: 40 });
    await offers.withdraw('t1', async () => false);
    expect(offers.isWaiting('t1')).toBe(false);
    expect(offers.withdrawnIn('pair:r').map((o) => [o.transfer, o.withdrawnAt])).toEqual([['t1', 40]]);
    expect(offers.noticeFor('t1')).toBeUndefined();
    await offers.withdraw('t2', async () => false);
    expect(offers.isWaiting('t2')).toBe(true);
    expect(offers.noticeFor('t2')?.failed).toBe(false);
    expect(store.put).not.toHaveBeenCalled();
  });

  it('withdraws nothing whose box went to the device at once, or that it does not know', async () => {
    const store = fakeStore([offer('t1', 0, undefined, { mailbox: null }), offer('t2', 0)]);
    const offers = new SentOffers(store, () => 50);
    await offers.load();
    const takeBack = vi.fn(async () => true);
    for (const transfer of ['t1', 't2', 'unknown']) await offers.withdraw(transfer, takeBack);
    expect(takeBack).not.toHaveBeenCalled();
    expect(offers.waiting).toHaveLength(2);
  });

  it('shows a later tab what was withdrawn until it would have expired, then forgets it without an outcome', async () => {
    const store = fakeStore([boxed('gone', 0, { withdrawnAt: 10 }), boxed('kept', DAY, { withdrawnAt: DAY + 10 })]);
    const offers = new SentOffers(store, () => DAY + 20);
    await offers.load();
    expect(offers.withdrawnIn('pair:r').map((o) => o.transfer)).toEqual(['kept']);
    expect(offers.waiting).toEqual([]);
    expect(offers.outcomes).toEqual([]);
    expect(store.delete).toHaveBeenCalledWith('gone');
  });
});

describe('SentOffers expiry in an open tab', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('turns a waiting offer into the expired outcome when its expiry passes', async () => {
    vi.useFakeTimers({ now: 1000 });
    const store = fakeStore([offer('t1', 1000)]);
    const offers = new SentOffers(store);
    offers.start(new EventTarget());
    await offers.load();
    await vi.advanceTimersByTimeAsync(DAY - 1);
    expect(offers.isWaiting('t1')).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(offers.isWaiting('t1')).toBe(false);
    expect(offers.outcomes.map((o) => [o.offer.transfer, o.result])).toEqual([['t1', 'expired']]);
    expect(store.delete).toHaveBeenCalledWith('t1');
    offers.dispose();
  });

  it('notices the expiry when the page is shown again after the computer slept through it', async () => {
    vi.useFakeTimers({ now: 0 });
    const events = new EventTarget();
    const store = fakeStore([offer('t1', 0), offer('t2', DAY)]);
    const offers = new SentOffers(store);
    offers.start(events);
    await offers.load();
    // Asleep: the clock moves on but no timer runs.
    vi.setSystemTime(DAY + 5);
    expect(offers.isWaiting('t1')).toBe(true);
    events.dispatchEvent(new Event('visibilitychange'));
    await vi.waitFor(() => expect(offers.isWaiting('t1')).toBe(false));
    expect(offers.outcomes.map((o) => o.offer.transfer)).toEqual(['t1']);
    // The next expiry is timed from the clock as it is now.
    await vi.advanceTimersByTimeAsync(DAY - 5);
    expect(offers.outcomes.map((o) => o.offer.transfer)).toEqual(['t1', 't2']);
    offers.dispose();
  });

  it('times an offer remembered after it started, and stops watching once disposed', async () => {
    vi.useFakeTimers({ now: 0 });
    const events = new EventTarget();
    const store = fakeStore([]);
    const offers = new SentOffers(store);
    offers.start(events);
    await offers.load();
    await offers.remember(offer('t1', 0));
    await vi.advanceTimersByTimeAsync(DAY + 60_000);
    expect(offers.outcomes.map((o) => o.result)).toEqual(['expired']);
    await offers.remember(offer('t2', DAY + 60_000));
    offers.dispose();
    vi.setSystemTime(3 * DAY);
    events.dispatchEvent(new Event('visibilitychange'));
    await vi.advanceTimersByTimeAsync(DAY);
    expect(offers.isWaiting('t2')).toBe(true);
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
