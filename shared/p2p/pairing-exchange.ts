/**
 * Steps 2–3 of pairing by code (ARCHITECTURE.md "Pairing"), over the pairing's first
 * connection once it is confirmed (the code-keyed MAC verified and both people compared the
 * verification code): the device that made the code sends a fresh random secret
 * (`pair-secret`), the other stores it and says so (`pair-saved`), then the first stores it
 * too. The server never sees the secret. Pure: the connection and the storage are passed in.
 * The same steps as the app's Pairings.exchange (client/lib/p2p/pairings.svelte.ts), here for
 * the `ferry` command (issue 13); the app's can call this one.
 */
import { toBase64Url } from '../encoding.ts';
import { PAIRING_SECRET_BYTES } from '../keys.ts';
import type { ControlMessage } from './frames.ts';

export interface PairingExchange {
  /** 'creator': made the code (and opened the connection); 'joiner': entered it. */
  role: 'creator' | 'joiner';
  /** Both people confirmed and the code-keyed MAC verified. */
  confirmed: Promise<void>;
  /** Rejects when the connection is gone. */
  lost: Promise<never>;
  send(message: ControlMessage): void;
  /** The other side's `pair-secret` (joiner) and `pair-saved` (creator). */
  secretArrived: Promise<string>;
  savedArrived: Promise<void>;
  /** Stores the pairing with this secret (base64url); a failure fails the exchange. */
  remember(secret: string): Promise<void>;
}

/** Runs the exchange; resolves once this side stored the secret and the other side knows it is stored. */
export async function exchangePairingSecret(exchange: PairingExchange): Promise<void> {
  const unlessLost = <T>(step: Promise<T>) => Promise.race([step, exchange.lost]);
  await unlessLost(exchange.confirmed);
  if (exchange.role === 'creator') {
    const secret = toBase64Url(crypto.getRandomValues(new Uint8Array(PAIRING_SECRET_BYTES)));
    exchange.send({ type: 'pair-secret', secret });
    await unlessLost(exchange.savedArrived);
    await exchange.remember(secret);
    return;
  }
  const secret = await unlessLost(exchange.secretArrived);
  await exchange.remember(secret);
  exchange.send({ type: 'pair-saved' });
}
