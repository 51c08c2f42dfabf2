/**
 * Offers of files sent through the relay share to a paired device, remembered in IndexedDB
 * (`ferry-p2p` store `sent`) until the device answers or the share expires. The device may
 * be offline for hours and the sender's tab closed meanwhile: its sealed answer then waits
 * in the pair room's mailbox, and the next tab that opens here hears it, says it, and
 * settles the relay share (revoked on a decline, collected once read on an accept) with
 * the owner token kept here. A tab that still holds the transfer settles the share itself.
 */
import { deleteSentOffer, listSentOffers, putSentOffer, type SentOffer } from './p2p-db.ts';
import { collectRelayShare, type RelayOwner, withdrawRelayShare } from './relay-upload.ts';

/** What became of an offer this tab no longer held: answered, or never answered in time. */
export interface OfferOutcome {
  offer: SentOffer;
  result: 'accepted' | 'declined' | 'expired';
}

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
  #waiting = $state<SentOffer[]>([]);
  #outcomes = $state<OfferOutcome[]>([]);
  #loaded: Promise<void> | null = null;

  constructor(store: SentOfferStore = browserStore) {
    this.#store = store;
  }

  /** Offers still waiting for an answer, oldest first. */
  get waiting(): readonly SentOffer[] {
    return this.#waiting;
  }
  /** Answers (and expiries) of offers this tab did not send itself, to be said once. */
  get outcomes(): readonly OfferOutcome[] {
    return this.#outcomes;
  }

  /** Reads the remembered offers; those whose relay share expired unanswered become outcomes. */
  load(now = Date.now()): Promise<void> {
    this.#loaded ??= this.#store.list().then(
      async (offers) => {
        const expired = offers.filter((offer) => offer.expiresAt <= now);
        this.#waiting = offers.filter((offer) => offer.expiresAt > now).sort((a, b) => a.sentAt - b.sentAt);
        this.#outcomes = [...this.#outcomes, ...expired.map((offer) => ({ offer, result: 'expired' as const }))];
        for (const offer of expired) await this.#store.delete(offer.transfer).catch(() => {});
      },
      () => {},
    );
    return this.#loaded;
  }

  /** Remembers an offer once its sealed box left. */
  async remember(offer: SentOffer): Promise<void> {
    this.#waiting = [...this.#waiting.filter((o) => o.transfer !== offer.transfer), offer];
    await this.#store.put(offer);
  }

  /** Offers to the device of a pair room still waiting for an answer. */
  waitingIn(room: string): readonly SentOffer[] {
    return this.#waiting.filter((offer) => offer.room === room);
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
