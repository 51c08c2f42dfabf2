/**
 * One connection to another device as the page sees it: the data channel (PeerLink), how
 * it is authenticated (AuthPlan), and the engine's handshake over it
 * (shared/p2p/handshake.ts: verification code, MACs, what may be read when). This class
 * only mirrors the handshake's `code` and `vouched` into runes for the device tiles.
 */
import type { FerryError } from '../../../shared/errors.ts';
import type { AuthRole } from '../../../shared/p2p/auth.ts';
import type { ControlMessageOf } from '../../../shared/p2p/frames.ts';
import { Handshake } from '../../../shared/p2p/handshake.ts';
import type { AuthPlan } from './pairings.svelte.ts';
import type { PeerLink } from './peer-link.ts';

export class Connection {
  readonly link: PeerLink;
  readonly plan: AuthPlan;
  readonly handshake: Handshake;
  #code = $state<string | null>(null);
  #vouched = $state(false);

  constructor(link: PeerLink, plan: AuthPlan) {
    this.link = link;
    this.plan = plan;
    this.handshake = new Handshake(link, plan, {
      onChange: () => {
        this.#code = this.handshake.code;
        this.#vouched = this.handshake.vouched;
      },
    });
  }

  get role(): AuthRole {
    return this.handshake.role;
  }
  /** The verification code for people to compare; null in MAC mode alone. */
  get code(): string | null {
    return this.#code;
  }
  /** This side's person compared the code on this connection (Handshake.vouched). */
  get vouched(): boolean {
    return this.#vouched;
  }
  get verified(): Promise<void> {
    return this.handshake.verified;
  }
  get confirmed(): Promise<void> {
    return this.handshake.confirmed;
  }
  get opened(): Promise<void> {
    return this.handshake.opened;
  }
  get lost(): Promise<never> {
    return this.handshake.lost;
  }

  onConnect(): Promise<void> {
    return this.handshake.onConnect();
  }
  onCode(message: ControlMessageOf<'code-commit' | 'code-nonce'>): Promise<void> {
    return this.handshake.onCode(message);
  }
  onAuth(mac: string): Promise<void> {
    return this.handshake.onAuth(mac);
  }
  confirm(): void {
    this.handshake.confirm();
  }
  vouch(): void {
    this.handshake.vouch();
  }
  fail(error: FerryError): void {
    this.handshake.fail(error);
  }
}
