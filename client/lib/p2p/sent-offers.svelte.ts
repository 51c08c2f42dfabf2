/**
 * Offers of files sent through the relay share to a paired device, remembered in IndexedDB
 * (`ferry-p2p` store `sent`) until the device answers or the share expires. The device may
 * be offline for hours and the sender's tab closed meanwhile: its sealed answer then waits
 * in the pair room's mailbox, and the next tab that opens here hears it, says it, and
 * settles the relay share (revoked on a decline, collected once read on an accept) with
 * the owner token kept here. A tab that still holds the transfer settles the share itself.
 *
 * While its box still waits in the mailbox, the sender may withdraw an offer: the server
 * forgets the box (unless the device took it meanwhile), the share is revoked, and the
 * offer is kept as withdrawn until it would have expired, so a later tab says so too. An
 * open tab turns an offer that reached its expiry into the same outcome a later tab reads:
 * a timer set for the next expiry, checked against the clock when it fires (timers stall
 * while a computer sleeps) and whenever the page becomes visible again.
 */
import { FerryError } from '../../../shared/errors.ts';
import { deleteSentOffer, listSentOffers, putSentOffer, type SentOffer } from './p2p-db.ts';
import { collectRelayShare, type RelayOwner, withdrawRelayShare } from './relay-upload.ts';

/** Longest delay setTimeout keeps (2^31 − 1 ms); a later expiry is checked again after it. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What became of an offer this tab no longer held: answered, or never answered in time. */
export interface OfferOutcome {
  offer: SentOffer;
  result: 'accepted' | 'declined' | 'expired';
}

/** Something said on the tile about one offer: why it could not be withdrawn. `failed`: an error. */
export interface OfferNotice {
  sentence: string;
  failed: boolean;
}

/** Takes box `id` back from pair room `room`'s mailbox: true once gone, false when it no longer waited. */
export type TakeBack = (room: string, id: string) => Promise<boolean>;

/** The store and the relay share calls, replaceable in tests. */
export interface SentOfferStore {
  list(): Promise<SentOffer[]>;
  put(offer: SentOffer): Promise<void>;
  delete(transfer: string): Promise<void>;
  withdraw(share: RelayOwner): Promise<void>;
  collect(share: RelayOwner): Promise<unknown>;
}

const browserStore: SentOfferStore = {
  list: listSentOffers,
  put: putSentOffer,
  delete: deleteSentOffer,
  withdraw: withdrawRelayShare,
  collect: (share) => collectRelayShare(share, () => false),
};

export class SentOffers {
  readonly #store: SentOfferStore;
  readonly #now: () => number;
  // Raw (replaced, never mutated): the offers go back to IndexedDB, which cannot clone a proxy.
  #waiting = $state.raw<SentOffer[]>([]);
  #withdrawn = $state.raw<SentOffer[]>([]);
  #outcomes = $state<OfferOutcome[]>([]);
  #notices = $state<Record<string, OfferNotice>>({});
  #withdrawing = $state<ReadonlySet<string>>(new Set());
  #loaded: Promise<void> | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #unwatch: (() => void) | null = null;

  constructor(store: SentOfferStore = browserStore, now: () => number = () => Date.now()) {
    this.#store = store;
    this.#now = now;
  }

  /** Offers still waiting for an answer, oldest first. */
  get waiting(): readonly SentOffer[] {
    return this.#waiting;
  }
  /** Answers (and expiries) of offers this tab did not send itself, to be said once. */
  get outcomes(): readonly OfferOutcome[] {
    return this.#outcomes;
  }

  /**
   * Loads the remembered offers and keeps their expiry in step with the clock until
   * dispose(); `events` hears `visibilitychange` (the page's document).
   */
  start(events: EventTarget | null = globalThis.document ?? null): void {
    const check = () => void this.check();
    events?.addEventListener('visibilitychange', check);
    this.#unwatch = () => events?.removeEventListener('visibilitychange', check);
    void this.load();
  }

  dispose(): void {
    this.#unwatch?.();
    this.#unwatch = null;
    clearTimeout(this.#timer);
  }

  /** Reads the remembered offers; those whose relay share expired unanswered become outcomes. */
  load(): Promise<void> {
    this.#loaded ??= this.#store.list().then(
      async (offers) => {
        const byAge = offers.sort((a, b) => a.sentAt - b.sentAt);
        this.#waiting = byAge.filter((offer) => offer.withdrawnAt === undefined);
        this.#withdrawn = byAge.filter((offer) => offer.withdrawnAt !== undefined);
        await this.check();
      },
      () => {},
    );
    return this.#loaded;
  }

  /**
   * Offers whose relay share expired by now leave: a waiting one becomes an `expired`
   * outcome, a withdrawn one is forgotten. Then the timer is set for the next expiry.
   */
  async check(): Promise<void> {
    clearTimeout(this.#timer);
    const now = this.#now();
    const expired = this.#waiting.filter((offer) => offer.expiresAt <= now);
    const ended = [...expired, ...this.#withdrawn.filter((offer) => offer.expiresAt <= now)];
    if (ended.length > 0) {
      this.#waiting = this.#waiting.filter((offer) => offer.expiresAt > now);
      this.#withdrawn = this.#withdrawn.filter((offer) => offer.expiresAt > now);
      this.#outcomes = [...this.#outcomes, ...expired.map((offer) => ({ offer, result: 'expired' as const }))];
    }
    const next = Math.min(...[...this.#waiting, ...this.#withdrawn].map((offer) => offer.expiresAt));
    if (Number.isFinite(next) && this.#unwatch) {
      this.#timer = setTimeout(() => void this.check(), Math.min(next - now, MAX_TIMER_MS));
    }
    for (const offer of ended) await this.#store.delete(offer.transfer).catch(() => {});
  }

  /** Remembers an offer once its sealed box left. */
  async remember(offer: SentOffer): Promise<void> {
    this.#waiting = [...this.#waiting.filter((o) => o.transfer !== offer.transfer), offer];
    if (this.#unwatch) void this.check();
    await this.#store.put(offer);
  }

  /** Offers to the device of a pair room still waiting for an answer. */
  waitingIn(room: string): readonly SentOffer[] {
    return this.#waiting.filter((offer) => offer.room === room);
  }
  /** Whether `transfer` is still waiting for an answer (neither answered, withdrawn nor expired). */
  isWaiting(transfer: string): boolean {
    return this.#waiting.some((offer) => offer.transfer === transfer);
  }
  /** Offers to the device of a pair room that this device withdrew, until they would have expired. */
  withdrawnIn(room: string): readonly SentOffer[] {
    return this.#withdrawn.filter((offer) => offer.room === room);
  }
  /** Whether the Withdraw of `transfer` is under way. */
  withdrawing(transfer: string): boolean {
    return this.#withdrawing.has(transfer);
  }
  /** Why `transfer` could not be withdrawn, if it could not. */
  noticeFor(transfer: string): OfferNotice | undefined {
    return this.#notices[transfer];
  }

  /**
   * Withdraws a waiting offer whose box is in the mailbox: `takeBack` asks the server for
   * the box; once it is gone the offer is kept as withdrawn and the relay share revoked
   * (its bytes deleted). A box the device took first cannot be withdrawn: the offer keeps
   * waiting for its answer and the tile says why. A failure (no server) is said too. An
   * offer its answer or expiry settled meanwhile stays settled (its share is still revoked
   * if the box was taken back), and one another tab withdrew is shown as withdrawn.
   */
  async withdraw(transfer: string, takeBack: TakeBack): Promise<void> {
    const offer = this.#waiting.find((o) => o.transfer === transfer);
    if (!offer?.mailbox || this.#withdrawing.has(transfer)) return;
    this.#withdrawing = new Set([...this.#withdrawing, transfer]);
    const { [transfer]: _, ...others } = this.#notices;
    this.#notices = others;
    try {
      const taken = await takeBack(offer.room, offer.mailbox);
      // A box that no longer waited may have been withdrawn by another tab of this device,
      // or its answer heard there (the offer then left the store; null); unknown when the
      // store cannot be read.
      const known = taken
        ? undefined
        : await this.#store.list().then(
            (offers) => offers.find((o) => o.transfer === transfer) ?? null,
            () => undefined,
          );
      // The device's answer or the expiry may have settled the offer while the server was
      // asked (and deleted it from the store): it stays settled, not stored again.
      const current = this.#waiting.find((o) => o.transfer === transfer);
      if (!taken) {
        if (!current) return;
        if (known?.withdrawnAt !== undefined) {
          this.#waiting = this.#waiting.filter((o) => o !== current);
          this.#withdrawn = [...this.#withdrawn, known];
          return;
        }
        this.#notices = { ...this.#notices, [transfer]: { sentence: alreadyDelivered(offer), failed: false } };
        const kept = { ...current, mailbox: null };
        this.#waiting = this.#waiting.map((o) => (o === current ? kept : o));
        if (known !== null) await this.#store.put(kept).catch(() => {});
        return;
      }
      if (current) {
        const withdrawn = { ...current, mailbox: null, withdrawnAt: this.#now() };
        this.#waiting = this.#waiting.filter((o) => o !== current);
        this.#withdrawn = [...this.#withdrawn, withdrawn];
        await this.#store.put(withdrawn).catch(() => {});
      }
      await this.#store.withdraw({ id: offer.shareId, ownerToken: offer.ownerToken });
    } catch (error) {
      const reason = error instanceof FerryError ? error.message : 'Something went wrong.';
      const sentence = `The offer could not be withdrawn: ${reason} Try again.`;
      this.#notices = { ...this.#notices, [transfer]: { sentence, failed: true } };
    } finally {
      this.#withdrawing = new Set([...this.#withdrawing].filter((t) => t !== transfer));
    }
  }

  /**
   * The device answered `transfer`. `held`: a transfer in this tab took the answer (it says
   * so on its tile and settles the relay share itself). Otherwise the answer is said here
   * and the share settled with the kept owner token. An unknown transfer is ignored.
   */
  async answered(transfer: string, accept: boolean, held: boolean): Promise<void> {
    await this.load();
    const offer = this.#waiting.find((o) => o.transfer === transfer);
    if (!offer) return;
    this.#waiting = this.#waiting.filter((o) => o !== offer);
    await this.#store.delete(transfer).catch(() => {});
    if (held) return;
    this.#outcomes = [...this.#outcomes, { offer, result: accept ? 'accepted' : 'declined' }];
    const share = { id: offer.shareId, ownerToken: offer.ownerToken };
    if (accept) void this.#store.collect(share);
    else await this.#store.withdraw(share);
  }

  dismiss(outcome: OfferOutcome): void {
    this.#outcomes = this.#outcomes.filter((o) => o !== outcome);
  }
}

/** The tile's sentence when the device took an offer before it could be withdrawn. */
function alreadyDelivered(offer: SentOffer): string {
  return `${offer.peerName} already has this offer (it opened Ferry meanwhile), so it can no longer be withdrawn; it can still accept or decline.`;
}

/** "holiday.mov", or "3 files". */
export function filesInWords(files: readonly { name: string }[]): string {
  return files.length === 1 ? (files[0]?.name ?? '1 file') : `${files.length} files`;
}

/** "on 21 Nov 2026, 15:40": when an offer was sent, in the reader's locale. */
export function sentOn(at: number): string {
  return `on ${new Date(at).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' })}`;
}

/** The sentence a person reads about an offer's outcome; `when` formats its send time. */
export function outcomeSentence(outcome: OfferOutcome, when: (at: number) => string): string {
  const { offer, result } = outcome;
  const what = `${filesInWords(offer.files)}, sent through the server ${when(offer.sentAt)}`;
  if (result === 'accepted') return `${offer.peerName} accepted ${what}.`;
  if (result === 'declined') return `${offer.peerName} declined ${what}; the files were deleted from the server.`;
  return `${offer.peerName} did not open Ferry in time for ${what}; the files have expired.`;
}
