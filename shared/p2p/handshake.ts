/**
 * Who is on the other end of one data channel (auth.ts says why it must be checked):
 *
 * - nearby, nothing shared (`compare`, no secret): both ends show the verification code
 *   (fingerprints and a committed nonce from each side); the offerer sends `code-commit`,
 *   the answerer `code-nonce`, the offerer its `code-nonce`; nothing but those messages is
 *   read before the code exists (`verified`), and the sender's person confirms the code
 *   before a secret leaves (`confirmed`);
 * - MAC mode (a secret: a pairing's, a link's, a transfer's on reconnect): each end sends
 *   `auth` (its MAC) at once and reads nothing but the other's MAC until it verified;
 *   no people involved;
 * - a pairing's first connection (both): MAC mode keyed from the code, and the code shown
 *   as well, since the server that issued the code can forge its MAC; `confirmed` and
 *   `verified` then need both, so nothing but authentication is read before this end's
 *   person confirmed the code.
 *
 * Nothing waits forever: a MAC or a code that is not there `timeoutMs` (AUTH_TIMEOUT_MS)
 * after the channel opened fails the handshake. Environment-neutral: a PeerChannel and
 * WebCrypto; the app's Connection (connection.svelte.ts) mirrors `code` and `vouched` into
 * runes through `onChange`.
 *
 * Order on the wire, per end:      offerer                    answerer
 *                                   code-commit ─────────────►
 *                                               ◄───────────── code-nonce
 *                                   code-nonce ──────────────►        (both compute the code)
 *                                   auth ◄───────────────────► auth   (MAC mode, any time after open)
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
import type { PeerChannel } from './channel.ts';
import type { ControlMessageOf } from './frames.ts';

/** How long the other side has to prove itself after the channel opened. */
export const AUTH_TIMEOUT_MS = 20_000;

/** How one connection proves who is on the other end. */
export interface HandshakePlan {
  /** MAC mode's secret; null: no MAC. */
  secret: Promise<Uint8Array<ArrayBuffer>> | null;
  /** Whether people compare the verification code. */
  compare: boolean;
}

export interface HandshakeOptions {
  /** Called when `code` or `vouched` changed (for a UI's display state). */
  onChange?: () => void;
  /** Overrides AUTH_TIMEOUT_MS (tests). */
  timeoutMs?: number;
}

/** What the handshake needs of the channel. */
export type HandshakeChannel = Pick<PeerChannel, 'initiator' | 'descriptions' | 'sendControl'>;

export class Handshake {
  readonly channel: HandshakeChannel;
  readonly plan: HandshakePlan;
  /**
   * Anything but authentication may be read: the other side's MAC verified; without a
   * MAC, the verification code exists; with both (a pairing's first connection), the MAC
   * verified and this side's person confirmed the code.
   */
  readonly verified: Promise<void>;
  /** All this side needs before a secret leaves: the MAC, and the people when they compare. */
  readonly confirmed: Promise<void>;
  /** This side's first messages (commitment, MAC) left. */
  readonly opened: Promise<void>;
  /** Rejects when the handshake failed or the connection closed. */
  readonly lost: Promise<never>;
  /** The other side proved itself (MAC, or the code exists when there is no MAC). */
  readonly #proven: Promise<void>;
  #verify!: () => void;
  #refuse!: (error: FerryError) => void;
  #people!: () => void;
  #peopleRefuse!: (error: FerryError) => void;
  #open!: () => void;
  #failOpen!: (error: FerryError) => void;
  #lose!: (error: FerryError) => void;
  readonly #macKey: Promise<CryptoKey> | null;
  /** This side's part of the verification code. */
  readonly #nonce = crypto.getRandomValues(new Uint8Array(CODE_NONCE_BYTES));
  /** The offerer's commitment, as the answerer received it. */
  #theirCommitment: string | null = null;
  /** The other side's nonce arrived (set before any await, so a second one is out of turn). */
  #theirNonce = false;
  readonly #codeReady: Promise<void>;
  #codeDone!: () => void;
  #codeFail!: (error: FerryError) => void;
  #code: string | null = null;
  #vouched = false;
  readonly #options: HandshakeOptions;

  constructor(channel: HandshakeChannel, plan: HandshakePlan, options: HandshakeOptions = {}) {
    this.channel = channel;
    this.plan = plan;
    this.#options = options;
    this.#macKey = plan.secret ? plan.secret.then((secret) => deriveMacKey(secret)) : null;
    this.#proven = new Promise<void>((resolve, reject) => {
      this.#verify = resolve;
      this.#refuse = reject;
    });
    const people = new Promise<void>((resolve, reject) => {
      this.#people = resolve;
      this.#peopleRefuse = reject;
    });
    this.#codeReady = new Promise<void>((resolve, reject) => {
      this.#codeDone = resolve;
      this.#codeFail = reject;
    });
    // Without a MAC, the code is all there is to wait for before reading anything else.
    if (!plan.secret) this.#codeReady.then(this.#verify, this.#refuse);
    this.confirmed = !plan.compare
      ? this.#proven
      : Promise.all([this.#proven, this.#codeReady, people]).then(() => undefined);
    this.verified = plan.secret && plan.compare ? this.confirmed : this.#proven;
    this.opened = new Promise<void>((resolve, reject) => {
      this.#open = resolve;
      this.#failOpen = reject;
    });
    this.lost = new Promise<never>((_, reject) => {
      this.#lose = reject;
    });
    for (const promise of [this.#proven, people, this.confirmed, this.opened, this.lost, this.#codeReady])
      promise.catch(() => {});
  }

  get role(): AuthRole {
    return this.channel.initiator ? 'offerer' : 'answerer';
  }

  /** The verification code for people to compare; null until both nonces are in, and in MAC mode alone. */
  get code(): string | null {
    return this.#code;
  }

  /**
   * This side's person has compared the code on this connection: confirmed it, or accepted
   * an offer that showed it (`vouch`). A code is compared once per connection, so later
   * offers over it do not ask again.
   */
  get vouched(): boolean {
    return this.#vouched;
  }

  /**
   * The channel is open: start the code exchange (the offerer commits first), send our
   * MAC, then wait (bounded) for the code and the other side's MAC. Rejects when the other
   * side does not prove itself in time.
   */
  async onConnect(): Promise<void> {
    const sdp = this.channel.descriptions;
    if (!sdp) throw new FerryError('UNAUTHORIZED', 'The connection could not be verified.');
    if (!this.plan.compare) this.#codeDone();
    else if (this.role === 'offerer') {
      this.channel.sendControl({ type: 'code-commit', commit: await codeCommitment(this.#nonce) });
    }
    if (this.#macKey) {
      const mac = await fingerprintMac(await this.#macKey, sdp.local, sdp.remote, this.role);
      this.channel.sendControl({ type: 'auth', mac });
    }
    this.#open();
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
        this.#options.timeoutMs ?? AUTH_TIMEOUT_MS,
      );
    });
    try {
      await Promise.race([Promise.all([this.#proven, this.#codeReady]), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A step of the verification code's exchange: the answerer answers the offerer's
   * commitment with its nonce; the offerer answers that with its own; both then compute
   * the code. Anything out of turn, or a nonce that does not open the commitment, throws.
   */
  async onCode(message: ControlMessageOf<'code-commit' | 'code-nonce'>): Promise<void> {
    try {
      await this.opened;
      const sdp = this.channel.descriptions;
      if (!this.plan.compare || !sdp || this.#code) throw outOfTurn();
      if (message.type === 'code-commit') {
        if (this.role !== 'answerer' || this.#theirCommitment) throw outOfTurn();
        this.#theirCommitment = message.commit;
        this.channel.sendControl({ type: 'code-nonce', nonce: toBase64Url(this.#nonce) });
        return;
      }
      if (this.#theirNonce) throw outOfTurn();
      this.#theirNonce = true;
      let nonces: { offerer: Uint8Array<ArrayBuffer>; answerer: Uint8Array<ArrayBuffer> };
      if (this.role === 'offerer') {
        const theirs = decodeNonce(message.nonce);
        if (!theirs) throw outOfTurn();
        this.channel.sendControl({ type: 'code-nonce', nonce: toBase64Url(this.#nonce) });
        nonces = { offerer: this.#nonce, answerer: theirs };
      } else {
        if (!this.#theirCommitment) throw outOfTurn();
        nonces = { offerer: await openCodeCommitment(this.#theirCommitment, message.nonce), answerer: this.#nonce };
      }
      this.#code = await verificationCode(sdp.local, sdp.remote, nonces);
      this.#options.onChange?.();
      this.#codeDone();
    } catch (error) {
      const reason = error instanceof FerryError ? error : outOfTurn();
      this.#codeFail(reason);
      throw reason;
    }
  }

  /**
   * The other side's MAC; throws (auth.ts's sentence) when it does not verify. Checked
   * only once this side's own MAC is sent (`opened`): a MAC that arrives first (simple-peer
   * passes data on before its `connect`) would otherwise close the link before ours left,
   * and the other side would learn only from its timeout that the keys differed.
   */
  async onAuth(mac: string): Promise<void> {
    await this.opened;
    const sdp = this.channel.descriptions;
    if (!this.#macKey || !sdp) return;
    const theirs: AuthRole = this.role === 'offerer' ? 'answerer' : 'offerer';
    await verifyFingerprintMac(await this.#macKey, sdp.local, sdp.remote, theirs, mac);
    this.#verify();
  }

  /**
   * This side's person saw the same code on both screens. Ignored while there is no code
   * yet: a confirmation of nothing (a button pressed early, or while the other side holds
   * back its nonce) must not let a secret leave once some code appears.
   */
  confirm(): void {
    if (!this.#code) return;
    this.#vouched = true;
    this.#options.onChange?.();
    this.#people();
  }

  /** This side's person accepted an offer that showed the code. */
  vouch(): void {
    if (!this.#code || this.#vouched) return;
    this.#vouched = true;
    this.#options.onChange?.();
  }

  /** The connection failed or closed: every promise above that is still waiting rejects with `error`. */
  fail(error: FerryError): void {
    this.#refuse(error);
    this.#peopleRefuse(error);
    this.#failOpen(error);
    this.#lose(error);
    this.#codeFail(error);
  }
}

function outOfTurn(): FerryError {
  return new FerryError('UNAUTHORIZED', 'The other device did not follow the verification steps, so nothing was sent.');
}
