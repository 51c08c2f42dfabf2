/**
 * Who is on the other end of one data channel, as a pure state machine over auth.ts: the
 * steps of client/lib/p2p/connection.svelte.ts without runes, so that a connection that is
 * not a page (the `ferry` command's, cli/direct/) runs the very same checks. Three plans:
 *
 * - nearby, nothing shared (`compare`, no secret): both sides compute the verification code
 *   (fingerprints and a committed nonce from each side, `code-commit` / `code-nonce`); a
 *   secret may leave once this side's person confirmed it (`confirmed`), and nothing but
 *   those messages is read before the code exists (`verified`);
 * - MAC mode (a secret, no `compare`): each side sends its MAC at once and reads nothing but
 *   the other's MAC until that verifies; no people involved;
 * - a pairing's first connection (a secret and `compare`): the MAC keyed from the code and
 *   the code shown to the people as well; `confirmed` and `verified` need both.
 *
 * Nothing waits forever: a MAC or a code that is not there AUTH_TIMEOUT_MS after the channel
 * opened fails the connection. Extracted for the command line while the app's Connection
 * moves to shared/p2p (issue 13); the app's class can become a thin wrapper over this one.
 */

import { toBase64Url } from '../encoding.ts';
import { FerryError } from '../errors.ts';
import { deriveMacKey } from '../keys.ts';
import {
  type AuthRole,
  CODE_NONCE_BYTES,
  codeCommitment,
  decodeNonce,
  fingerprintMac,
  openCodeCommitment,
  verificationCode,
  verifyFingerprintMac,
} from './auth.ts';
import type { ControlMessage, ControlMessageOf } from './frames.ts';

/** How long the other side has to prove itself after the channel opened. */
export const AUTH_TIMEOUT_MS = 20_000;

/** What the checks need of a link (the app's PeerLink and the command's RtcLink both fit). */
export interface AuthLink {
  readonly initiator: boolean;
  readonly descriptions: { local: string; remote: string } | null;
  sendControl(message: ControlMessage): void;
}

/** How a connection proves who is on the other end. */
export interface LinkAuthPlan {
  /** MAC mode's secret; null: no MAC. */
  secret: Promise<Uint8Array<ArrayBuffer>> | null;
  /** Whether people compare the verification code. */
  compare: boolean;
}

/** A promise with its settlers, never an unhandled rejection. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: FerryError) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: FerryError) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

export class LinkAuth {
  readonly link: AuthLink;
  readonly plan: LinkAuthPlan;
  /** Anything but authentication may be read (see the module comment). */
  readonly verified: Promise<void>;
  /** All this side needs before a secret leaves. */
  readonly confirmed: Promise<void>;
  /** This side's first authentication messages are sent. */
  readonly opened: Promise<void>;
  /** The verification code, once both nonces are known (never settles in MAC mode alone). */
  readonly codeReady: Promise<string>;
  #code: string | null = null;
  readonly #proven = deferred<void>();
  readonly #people = deferred<void>();
  readonly #open = deferred<void>();
  readonly #codeDone = deferred<string>();
  readonly #macKey: Promise<CryptoKey> | null;
  readonly #nonce = crypto.getRandomValues(new Uint8Array(CODE_NONCE_BYTES));
  #theirCommitment: string | null = null;
  #theirNonce = false;

  constructor(link: AuthLink, plan: LinkAuthPlan) {
    this.link = link;
    this.plan = plan;
    this.#macKey = plan.secret ? plan.secret.then((secret) => deriveMacKey(secret)) : null;
    this.#macKey?.catch(() => {});
    this.codeReady = this.#codeDone.promise;
    // Without a MAC, the code is all there is to wait for before reading anything else.
    if (!plan.secret) this.#codeDone.promise.then(() => this.#proven.resolve(), this.#proven.reject);
    this.confirmed = !plan.compare
      ? this.#proven.promise
      : Promise.all([this.#proven.promise, this.#codeDone.promise, this.#people.promise]).then(() => undefined);
    this.confirmed.catch(() => {});
    this.verified = plan.secret && plan.compare ? this.confirmed : this.#proven.promise;
    this.opened = this.#open.promise;
  }

  /** The verification code for people to compare; null until known, and in MAC mode alone. */
  get code(): string | null {
    return this.#code;
  }

  get role(): AuthRole {
    return this.link.initiator ? 'offerer' : 'answerer';
  }

  /**
   * The channel is open: start the code exchange (the offerer commits first), send our MAC,
   * then wait (bounded) for the code and the other side's MAC.
   */
  async onConnect(): Promise<void> {
    const sdp = this.link.descriptions;
    if (!sdp) throw new FerryError('UNAUTHORIZED', 'The connection could not be verified.');
    if (this.plan.compare && this.role === 'offerer') {
      this.link.sendControl({ type: 'code-commit', commit: await codeCommitment(this.#nonce) });
    }
    if (this.#macKey) {
      const mac = await fingerprintMac(await this.#macKey, sdp.local, sdp.remote, this.role);
      this.link.sendControl({ type: 'auth', mac });
    }
    this.#open.resolve();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new FerryError(
              'UNAUTHORIZED',
              'The other device did not complete the verification in time, so nothing was sent.',
            ),
          ),
        AUTH_TIMEOUT_MS,
      );
    });
    const code = this.plan.compare ? this.#codeDone.promise : Promise.resolve();
    try {
      await Promise.race([Promise.all([this.#proven.promise, code]), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** A step of the verification code's exchange; anything out of turn throws UNAUTHORIZED. */
  async onCode(message: ControlMessageOf<'code-commit' | 'code-nonce'>): Promise<void> {
    try {
      await this.#open.promise;
      const sdp = this.link.descriptions;
      if (!this.plan.compare || !sdp || this.#code) throw outOfTurn();
      if (message.type === 'code-commit') {
        if (this.role !== 'answerer' || this.#theirCommitment) throw outOfTurn();
        this.#theirCommitment = message.commit;
        this.link.sendControl({ type: 'code-nonce', nonce: toBase64Url(this.#nonce) });
        return;
      }
      if (this.#theirNonce) throw outOfTurn();
      this.#theirNonce = true;
      let nonces: { offerer: Uint8Array<ArrayBuffer>; answerer: Uint8Array<ArrayBuffer> };
      if (this.role === 'offerer') {
        const theirs = decodeNonce(message.nonce);
        if (!theirs) throw outOfTurn();
        this.link.sendControl({ type: 'code-nonce', nonce: toBase64Url(this.#nonce) });
        nonces = { offerer: this.#nonce, answerer: theirs };
      } else {
        if (!this.#theirCommitment) throw outOfTurn();
        nonces = { offerer: await openCodeCommitment(this.#theirCommitment, message.nonce), answerer: this.#nonce };
      }
      this.#code = await verificationCode(sdp.local, sdp.remote, nonces);
      this.#codeDone.resolve(this.#code);
    } catch (error) {
      const reason = error instanceof FerryError ? error : outOfTurn();
      this.#codeDone.reject(reason);
      throw reason;
    }
  }

  /** The other side's MAC, checked once ours is sent; throws auth.ts's sentence when it does not verify. */
  async onAuth(mac: string): Promise<void> {
    await this.#open.promise;
    const sdp = this.link.descriptions;
    if (!this.#macKey || !sdp) return;
    const theirs: AuthRole = this.role === 'offerer' ? 'answerer' : 'offerer';
    await verifyFingerprintMac(await this.#macKey, sdp.local, sdp.remote, theirs, mac);
    this.#proven.resolve();
  }

  /** This side's person saw the same code on both screens; ignored while there is no code yet. */
  confirm(): void {
    if (this.#code) this.#people.resolve();
  }

  fail(error: FerryError): void {
    this.#proven.reject(error);
    this.#people.reject(error);
    this.#open.reject(error);
    this.#codeDone.reject(error);
  }
}

function outOfTurn(): FerryError {
  return new FerryError('UNAUTHORIZED', 'The other device did not follow the verification steps, so nothing was sent.');
}
