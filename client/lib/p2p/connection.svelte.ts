/**
 * One connection to another device and what is known about whom it reaches (auth.ts):
 *
 * - nearby, nothing shared: both screens show the verification code; the sender's person
 *   confirms it before a secret leaves (`confirmed`);
 * - MAC mode (a remembered pairing's secret): each side sends its MAC at once and reads
 *   nothing but the other's MAC until that verifies (`verified`); no people involved;
 * - a pairing's first connection: MAC mode keyed from the code, and the code shown to the
 *   people as well (the server knows the code); `confirmed` needs both.
 *
 * Nothing gates on the people alone in MAC mode, and nothing waits forever: a MAC that
 * has not verified AUTH_TIMEOUT_MS after the channel opened fails the connection.
 */
import { FerryError } from '../../../shared/errors.ts';
import { type AuthRole, deriveMacKey, fingerprintMac, verificationCode, verifyFingerprintMac } from './auth.ts';
import type { AuthPlan } from './pairings.svelte.ts';
import type { PeerLink } from './peer-link.ts';

/** How long the other side has to prove itself after the channel opened (MAC mode). */
export const AUTH_TIMEOUT_MS = 20_000;

export class Connection {
  readonly link: PeerLink;
  readonly plan: AuthPlan;
  /** The verification code for people to compare; null in MAC mode alone. */
  code = $state<string | null>(null);
  /** The other side's MAC verified (at once when there is no MAC to check). */
  readonly verified: Promise<void>;
  /** All this side needs before a secret leaves: the MAC, and the people when they compare. */
  readonly confirmed: Promise<void>;
  readonly opened: Promise<void>;
  /** Rejects when the connection failed or closed. */
  readonly lost: Promise<never>;
  #verify!: () => void;
  #refuse!: (error: FerryError) => void;
  #people!: () => void;
  #peopleRefuse!: (error: FerryError) => void;
  #open!: () => void;
  #failOpen!: (error: FerryError) => void;
  #lose!: (error: FerryError) => void;
  readonly #macKey: Promise<CryptoKey> | null;

  constructor(link: PeerLink, plan: AuthPlan) {
    this.link = link;
    this.plan = plan;
    this.#macKey = plan.secret ? plan.secret.then((secret) => deriveMacKey(secret)) : null;
    this.verified = new Promise<void>((resolve, reject) => {
      this.#verify = resolve;
      this.#refuse = reject;
    });
    const people = new Promise<void>((resolve, reject) => {
      this.#people = resolve;
      this.#peopleRefuse = reject;
    });
    this.confirmed = !plan.compare ? this.verified : Promise.all([this.verified, people]).then(() => undefined);
    this.opened = new Promise<void>((resolve, reject) => {
      this.#open = resolve;
      this.#failOpen = reject;
    });
    this.lost = new Promise<never>((_, reject) => {
      this.#lose = reject;
    });
    for (const promise of [this.verified, people, this.confirmed, this.opened, this.lost]) promise.catch(() => {});
  }

  get role(): AuthRole {
    return this.link.initiator ? 'offerer' : 'answerer';
  }

  /**
   * The channel is open: show the code, send our MAC, then wait (bounded) for the other
   * side's. Rejects when the other side does not prove itself in time.
   */
  async onConnect(): Promise<void> {
    const sdp = this.link.descriptions;
    if (!sdp) throw new FerryError('UNAUTHORIZED', 'The connection could not be verified.');
    if (this.plan.compare) this.code = await verificationCode(sdp.local, sdp.remote);
    if (!this.#macKey) {
      this.#verify();
      this.#open();
      return;
    }
    const mac = await fingerprintMac(await this.#macKey, sdp.local, sdp.remote, this.role);
    this.link.sendControl({ type: 'auth', mac });
    this.#open();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new FerryError(
              'UNAUTHORIZED',
              'The other device did not prove it is the paired device in time, so nothing was sent.',
            ),
          ),
        AUTH_TIMEOUT_MS,
      );
    });
    try {
      await Promise.race([this.verified, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The other side's MAC; throws (auth.ts's sentence) when it does not verify. */
  async onAuth(mac: string): Promise<void> {
    const sdp = this.link.descriptions;
    if (!this.#macKey || !sdp) return;
    const theirs: AuthRole = this.role === 'offerer' ? 'answerer' : 'offerer';
    await verifyFingerprintMac(await this.#macKey, sdp.local, sdp.remote, theirs, mac);
    this.#verify();
  }

  /** This side's person saw the same code on both screens. */
  confirm(): void {
    this.#people();
  }

  fail(error: FerryError): void {
    this.#refuse(error);
    this.#peopleRefuse(error);
    this.#failOpen(error);
    this.#lose(error);
  }
}
