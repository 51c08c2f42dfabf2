import { describe, expect, it } from 'vitest';
import { toBase64Url } from '../encoding.ts';
import { FerryError } from '../errors.ts';
import { deriveMacKey, PAIRING_SECRET_BYTES, pairingCodeSecret } from '../keys.ts';
import {
  CODE_NONCE_BYTES,
  codeCommitment,
  decodeNonce,
  fingerprintMac,
  fingerprintTranscript,
  openCodeCommitment,
  sdpFingerprints,
  verificationCode,
  verifyFingerprintMac,
} from './auth.ts';

const hex = (byte: string) => Array.from({ length: 32 }, () => byte).join(':');
const sdp = (byte: string) =>
  [
    'v=0',
    'o=- 1 2 IN IP4 127.0.0.1',
    's=-',
    `a=fingerprint:sha-256 ${hex(byte)}`,
    'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
    `a=fingerprint:SHA-256 ${hex(byte).toLowerCase()}`,
    'a=setup:actpass',
    '',
  ].join('\r\n');

const alice = sdp('AA');
const bob = sdp('BB');
const mallory = sdp('CC');
const secret = new Uint8Array(16).fill(7);

describe('fingerprints', () => {
  it('reads a=fingerprint lines, normalised and without repeats', () => {
    expect(sdpFingerprints(alice)).toEqual([`sha-256 ${hex('AA')}`]);
  });

  it('refuses an SDP without one', () => {
    expect(() => sdpFingerprints('v=0\r\ns=-\r\n')).toThrow(FerryError);
  });

  it('gives both sides the same transcript', () => {
    expect(fingerprintTranscript(alice, bob)).toBe(fingerprintTranscript(bob, alice));
  });
});

describe('verification code', () => {
  const nonces = {
    offerer: new Uint8Array(CODE_NONCE_BYTES).fill(1),
    answerer: new Uint8Array(CODE_NONCE_BYTES).fill(2),
  };

  it('is 6 digits and the same on both screens', async () => {
    const a = await verificationCode(alice, bob, nonces);
    expect(a).toMatch(/^\d{6}$/);
    expect(await verificationCode(bob, alice, nonces)).toBe(a);
  });

  it('differs when the server swapped a fingerprint', async () => {
    // Alice talks to Mallory (who shows Alice "bob" = mallory's cert); Bob likewise.
    expect(await verificationCode(alice, mallory, nonces)).not.toBe(await verificationCode(bob, mallory, nonces));
  });

  it('depends on both nonces, so neither side alone picks it', async () => {
    const a = await verificationCode(alice, bob, nonces);
    const otherAnswerer = { ...nonces, answerer: new Uint8Array(CODE_NONCE_BYTES).fill(3) };
    const otherOfferer = { ...nonces, offerer: new Uint8Array(CODE_NONCE_BYTES).fill(3) };
    expect(await verificationCode(alice, bob, otherAnswerer)).not.toBe(a);
    expect(await verificationCode(alice, bob, otherOfferer)).not.toBe(a);
  });

  it('opens a commitment with the nonce it was made from, and only that one', async () => {
    const commitment = await codeCommitment(nonces.offerer);
    expect(await openCodeCommitment(commitment, toBase64Url(nonces.offerer))).toEqual(nonces.offerer);
    const swapped = openCodeCommitment(commitment, toBase64Url(nonces.answerer));
    await expect(swapped).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(openCodeCommitment(commitment, 'short')).rejects.toThrow(FerryError);
  });

  it('reads only nonces of the right length', () => {
    expect(decodeNonce(toBase64Url(nonces.offerer))).toEqual(nonces.offerer);
    expect(decodeNonce(toBase64Url(new Uint8Array(16)))).toBeNull();
    expect(decodeNonce('!!')).toBeNull();
  });
});

describe('MAC over the fingerprints', () => {
  it('verifies when both sides saw the same fingerprints', async () => {
    const key = await deriveMacKey(secret);
    const fromAlice = await fingerprintMac(key, alice, bob, 'offerer');
    const fromBob = await fingerprintMac(key, bob, alice, 'answerer');
    await expect(verifyFingerprintMac(key, bob, alice, 'offerer', fromAlice)).resolves.toBeUndefined();
    await expect(verifyFingerprintMac(key, alice, bob, 'answerer', fromBob)).resolves.toBeUndefined();
  });

  it('refuses when the signaling server swapped the SDP fingerprints', async () => {
    const key = await deriveMacKey(secret);
    // Alice's remote SDP carries Mallory's fingerprint instead of Bob's, and Bob's carries
    // Mallory's instead of Alice's: each side's transcript differs from the other's.
    const fromAlice = await fingerprintMac(key, alice, mallory, 'offerer');
    const refusal = verifyFingerprintMac(key, bob, mallory, 'offerer', fromAlice);
    await expect(refusal).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(refusal).rejects.toThrow(/could not be verified/);
  });

  it('refuses a MAC made with another secret, another role, or garbage', async () => {
    const key = await deriveMacKey(secret);
    const other = await deriveMacKey(new Uint8Array(16).fill(8));
    const wrongKey = await fingerprintMac(other, alice, bob, 'offerer');
    await expect(verifyFingerprintMac(key, bob, alice, 'offerer', wrongKey)).rejects.toThrow(FerryError);
    // A reflected MAC (Bob's own, sent back to him) names the wrong role.
    const reflected = await fingerprintMac(key, bob, alice, 'answerer');
    await expect(verifyFingerprintMac(key, bob, alice, 'offerer', reflected)).rejects.toThrow(FerryError);
    await expect(verifyFingerprintMac(key, bob, alice, 'offerer', '!!')).rejects.toThrow(FerryError);
  });
});

describe('pairing code key', () => {
  it('is the same on both devices for one code and room', async () => {
    const a = await pairingCodeSecret('123456', 'pair:AAAAAAAAAAAAAAAA');
    expect(a).toHaveLength(PAIRING_SECRET_BYTES);
    expect(await pairingCodeSecret('123456', 'pair:AAAAAAAAAAAAAAAA')).toEqual(a);
  });

  it('differs for another code, and for the same code in another room', async () => {
    const a = await pairingCodeSecret('123456', 'pair:AAAAAAAAAAAAAAAA');
    expect(await pairingCodeSecret('123457', 'pair:AAAAAAAAAAAAAAAA')).not.toEqual(a);
    expect(await pairingCodeSecret('123456', 'pair:BBBBBBBBBBBBBBBB')).not.toEqual(a);
  });

  it('keys a MAC that a device with a wrong code refuses', async () => {
    const room = 'pair:AAAAAAAAAAAAAAAA';
    const right = await deriveMacKey(await pairingCodeSecret('123456', room));
    const wrong = await deriveMacKey(await pairingCodeSecret('654321', room));
    const fromAlice = await fingerprintMac(right, alice, bob, 'offerer');
    await expect(verifyFingerprintMac(right, bob, alice, 'offerer', fromAlice)).resolves.toBeUndefined();
    await expect(verifyFingerprintMac(wrong, bob, alice, 'offerer', fromAlice)).rejects.toThrow(FerryError);
  });
});

describe('verification code known answers', () => {
  it('commits and computes the code exactly as before the move (the other device may run an older Ferry)', async () => {
    const sdpA = 'a=fingerprint:sha-256 AA:BB:CC\r\n';
    const sdpB = 'a=fingerprint:sha-256 11:22:33\r\n';
    const offerer = new Uint8Array(CODE_NONCE_BYTES).fill(1);
    const answerer = new Uint8Array(CODE_NONCE_BYTES).fill(2);
    expect(await codeCommitment(offerer)).toBe('fnf9Oa4aaaOyUqnzsbFErJFDt8j4au7yFtsZwVHBqxA');
    expect(await verificationCode(sdpA, sdpB, { offerer, answerer })).toBe('145821');
    expect(await verificationCode(sdpB, sdpA, { offerer, answerer })).toBe('145821');
  });
});
