/**
 * Who is on the other end of a data channel. WebRTC authenticates the channel with DTLS,
 * but the certificates' fingerprints come through the signaling server inside the SDP
 * (RFC 8122 `a=fingerprint`), so a server that rewrote them could sit in the middle. Both
 * sides therefore check the fingerprints they saw, in one of two ways:
 *
 * - verification code (nearby peers, nothing shared): 6 digits from SHA-256 over both
 *   fingerprints, sorted, and a nonce from each side, shown on both screens for the people
 *   to compare. The offerer commits to its nonce (SHA-256) before it sees the answerer's
 *   and reveals it after (commit-then-reveal, as in ZRTP and Bluetooth numeric comparison):
 *   without the nonces the code is a function of the fingerprints alone, and a server that
 *   precomputed about 10^6 DTLS certificates could pick one that makes both screens show
 *   the same code; with them, a man in the middle fixes its part of each code before it
 *   can know the honest side's part, so both codes match by chance only (1 in 10^6);
 * - MAC (a shared secret exists, e.g. a share link's): each side sends
 *   HMAC-SHA256(K, "ferry/v1 p2p" || sorted fingerprints || role), K = HKDF(secret), and
 *   checks the other's. A man in the middle has two DTLS sessions, so the two sides see
 *   different fingerprint pairs and the MACs disagree.
 *
 * Pairing by code (pairings.svelte.ts) uses both: the first connection after `paired`
 * runs MAC mode keyed from the code and the room (keys.ts `pairingCodeSecret`), which stops anyone
 * who does not know the code, and shows the verification code as well, because the server
 * that issued the code knows it too. The pairing secret that follows is random and crosses
 * only that checked channel, so later connections need MAC mode alone.
 *
 * Pure functions over strings and bytes; no transport here.
 */
import { fromBase64Url, toBase64Url } from '../encoding.ts';
import { FerryError } from '../errors.ts';

export const VERIFICATION_CODE_DIGITS = 6;
/** Which end of the connection computed a MAC: the WebRTC offerer or answerer. */
export type AuthRole = 'offerer' | 'answerer';

const MAC_LABEL = 'ferry/v1 p2p';
const CODE_LABEL = 'ferry/v1 p2p code';
const COMMIT_LABEL = 'ferry/v1 p2p code commit';
/** Bytes of each side's nonce in the verification code. */
export const CODE_NONCE_BYTES = 32;
const FINGERPRINT_LINE = /^a=fingerprint:(\S+) ([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2})+)\s*$/gm;

/**
 * The DTLS certificate fingerprints an SDP announces, as "algo HEX:HEX…" (algorithm in
 * lower case, hex in upper case, as RFC 8122 §5 allows either), without repeats.
 * Throws when there is none: a session without one cannot be authenticated.
 */
export function sdpFingerprints(sdp: string): string[] {
  const found = new Set<string>();
  for (const match of sdp.matchAll(FINGERPRINT_LINE)) {
    found.add(`${match[1]!.toLowerCase()} ${match[2]!.toUpperCase()}`);
  }
  if (found.size === 0) throw new FerryError('UNAUTHORIZED', 'The connection offered no DTLS fingerprint.');
  return [...found].sort();
}

/** Both sides' fingerprints in one order that does not depend on which side computes it. */
export function fingerprintTranscript(localSdp: string, remoteSdp: string): string {
  const local = sdpFingerprints(localSdp).join(',');
  const remote = sdpFingerprints(remoteSdp).join(',');
  return [local, remote].sort().join('\n');
}

/** Both sides' nonces for the verification code, named by WebRTC role. */
export interface CodeNonces {
  offerer: Uint8Array<ArrayBuffer>;
  answerer: Uint8Array<ArrayBuffer>;
}

/** The offerer's commitment to its nonce (base64url SHA-256), sent before the answerer's nonce is known. */
export async function codeCommitment(nonce: Uint8Array<ArrayBuffer>): Promise<string> {
  const label = new TextEncoder().encode(`${COMMIT_LABEL}\n`);
  const input = new Uint8Array(label.length + nonce.length);
  input.set(label);
  input.set(nonce, label.length);
  return toBase64Url(new Uint8Array(await crypto.subtle.digest('SHA-256', input)));
}

/** The nonce a side revealed, checked against its commitment; throws UNAUTHORIZED when it was changed. */
export async function openCodeCommitment(commitment: string, revealed: string): Promise<Uint8Array<ArrayBuffer>> {
  const nonce = decodeNonce(revealed);
  if (!nonce || (await codeCommitment(nonce)) !== commitment) {
    throw new FerryError(
      'UNAUTHORIZED',
      'This connection could not be verified: the other device changed its part of the verification code. Nothing was sent.',
    );
  }
  return nonce;
}

/** A nonce received from the other side, or null when it is not CODE_NONCE_BYTES of base64url. */
export function decodeNonce(text: string): Uint8Array<ArrayBuffer> | null {
  try {
    const bytes = fromBase64Url(text);
    return bytes.length === CODE_NONCE_BYTES ? bytes : null;
  } catch {
    return null;
  }
}

/** The 6-digit code both screens show for the same connection (and the same nonces). */
export async function verificationCode(localSdp: string, remoteSdp: string, nonces: CodeNonces): Promise<string> {
  const head = new TextEncoder().encode(`${CODE_LABEL}\n${fingerprintTranscript(localSdp, remoteSdp)}\n`);
  const input = new Uint8Array(head.length + 2 * CODE_NONCE_BYTES);
  input.set(head);
  input.set(nonces.offerer, head.length);
  input.set(nonces.answerer, head.length + CODE_NONCE_BYTES);
  const digest = new DataView(await crypto.subtle.digest('SHA-256', input));
  // 2^32 / 10^6: the modulo bias is under 0.03 %, far below guessing a 6-digit code.
  const n = digest.getUint32(0) % 10 ** VERIFICATION_CODE_DIGITS;
  return n.toString().padStart(VERIFICATION_CODE_DIGITS, '0');
}

function macInput(transcript: string, role: AuthRole): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(`${MAC_LABEL}\n${transcript}\n${role}`);
}

/** This side's proof (base64url), to send as the `auth` control message. */
export async function fingerprintMac(
  key: CryptoKey,
  localSdp: string,
  remoteSdp: string,
  role: AuthRole,
): Promise<string> {
  const mac = await crypto.subtle.sign('HMAC', key, macInput(fingerprintTranscript(localSdp, remoteSdp), role));
  return toBase64Url(new Uint8Array(mac));
}

/**
 * Checks the other side's proof; `theirRole` is the role the other side has. Throws
 * UNAUTHORIZED with a sentence for people when it does not verify (crypto.subtle.verify
 * compares in constant time).
 */
export async function verifyFingerprintMac(
  key: CryptoKey,
  localSdp: string,
  remoteSdp: string,
  theirRole: AuthRole,
  mac: string,
): Promise<void> {
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = fromBase64Url(mac);
  } catch {
    bytes = new Uint8Array(0);
  }
  const ok =
    bytes.length === 32 &&
    (await crypto.subtle.verify('HMAC', key, bytes, macInput(fingerprintTranscript(localSdp, remoteSdp), theirRole)));
  if (!ok) {
    throw new FerryError(
      'UNAUTHORIZED',
      'This connection could not be verified: the other device saw different encryption keys, so someone may be in between. Nothing was sent.',
    );
  }
}
