/**
 * `ferry pair` / `ferry pair CODE`: pairs this machine with another device the way two
 * browsers pair (ARCHITECTURE.md "Pairing"). Without a code it asks the server for one
 * (`pair-create`), prints it and the pairing link, and waits for the other device to enter
 * it; with a code it enters it (`pair-join`). Then the creator opens the pairing's first
 * connection: MAC mode keyed from the code and the room, and the verification code shown on
 * both screens, which the person here confirms on stdin (as the person there confirms in the
 * app). Once both confirmed, the pairing secret crosses that connection
 * (shared/p2p/pairing-exchange.ts) and is kept in the state directory (device-store.ts).
 */

import { groupPairCode, normalizePairCode, pairingLink } from '../../client/lib/p2p/pair-code.ts';
import { FerryError } from '../../shared/errors.ts';
import { pairingCodeSecret } from '../../shared/keys.ts';
import { exchangePairingSecret } from '../../shared/p2p/pairing-exchange.ts';
import { PAIR_CODE_TTL_MS, type RoomPeer } from '../../shared/signaling.ts';
import { askYesNo } from '../ask.ts';
import { deviceIdentity, putPairing } from './device-store.ts';
import { HeldSignals } from './held-signals.ts';
import { PeerConnection } from './peer-connection.ts';
import { SignalClient } from './signal-client.ts';

/** How long the other device has to open (or answer) the pairing's first connection. */
const CONNECT_MS = 60_000;

export interface PairOptions {
  server: string;
  /** The code another device shows; absent: make one. */
  code?: string | undefined;
  /** This device's name as others see it (kept for later runs). */
  name?: string | undefined;
  /** Where the code and questions go (stderr when they are not the command's answer). */
  say: (line: string) => void;
}

export interface PairResult {
  /** The paired device's name and id. */
  name: string;
  deviceId: string;
  room: string;
}

export async function pair(options: PairOptions): Promise<PairResult> {
  const typed = options.code === undefined ? null : normalizePairCode(options.code);
  if (options.code !== undefined && !typed) {
    throw new FerryError('BAD_REQUEST', 'A pairing code is 6 digits, shown on the other device.');
  }
  const device = await deviceIdentity(options.name);
  const signal = await SignalClient.connect(options.server, device, { listed: false });
  // The joiner answers the creator's connection: its signals are kept from now on, since
  // they may arrive in the same read as `paired` or as each other (held-signals.ts).
  const held = typed ? new HeldSignals(signal) : null;
  try {
    let code: string;
    if (typed) {
      code = typed;
      signal.send({ type: 'pair-join', code });
    } else {
      signal.send({ type: 'pair-create' });
      const made = await signal.next('pair-code', { of: 'pair-create', timeoutMs: 15_000, late: noAnswer() });
      code = made.code;
      options.say(`Pairing code: ${groupPairCode(code)}`);
      options.say(`Or open ${pairingLink(new URL(options.server).origin, code)} on the other device.`);
    }
    const paired = await signal.next('paired', {
      of: typed ? 'pair-join' : 'pair-create',
      timeoutMs: PAIR_CODE_TTL_MS,
      late: new FerryError('PAIR_CODE_INVALID', 'Nobody entered the code before it expired.'),
    });
    const peer = paired.peers[0];
    if (!peer) throw new FerryError('INTERNAL', 'The server paired this device with nobody.');
    const role = typed ? 'joiner' : 'creator';
    const plan = { secret: pairingCodeSecret(code, paired.room), compare: true };
    const connection =
      held === null ? new PeerConnection(signal, peer.id, true, plan) : await answered(signal, held, peer, plan);
    try {
      const shown = await Promise.race([connection.code, connection.lost]);
      options.say(`Verification code: ${groupPairCode(shown)}`);
      const same = await Promise.race([askYesNo('Does the other device show the same code?'), connection.lost]);
      if (!same) throw new FerryError('ABORTED', 'The codes differ (or were not confirmed): not paired.');
      connection.auth.confirm();
      const name = peer.deviceName ?? peer.name;
      const secretArrived = new Promise<string>((resolve) => {
        connection.onControl = (message) => {
          if (message.type === 'pair-secret') resolve(message.secret);
          if (message.type === 'pair-saved') saved();
        };
      });
      let saved!: () => void;
      const savedArrived = new Promise<void>((resolve) => {
        saved = resolve;
      });
      await exchangePairingSecret({
        role,
        confirmed: connection.auth.confirmed,
        lost: connection.lost,
        send: (message) => connection.link.sendControl(message),
        secretArrived,
        savedArrived,
        remember: (secret) =>
          putPairing({
            room: paired.room,
            roomToken: paired.roomToken,
            deviceId: peer.deviceId ?? '',
            name,
            secret,
            createdAt: Date.now(),
          }),
      });
      // The last message (`pair-saved`) leaves before the connection closes.
      await new Promise((resolve) => setTimeout(resolve, 500));
      return { name, deviceId: peer.deviceId ?? '', room: paired.room };
    } finally {
      connection.close(new FerryError('ABORTED', 'Pairing ended.'));
    }
  } finally {
    signal.close();
  }
}

/** The joiner waits for the creator's offer and answers it (with the candidates held around it). */
async function answered(
  signal: SignalClient,
  held: HeldSignals,
  peer: RoomPeer,
  plan: { secret: Promise<Uint8Array<ArrayBuffer>>; compare: boolean },
): Promise<PeerConnection> {
  await held.offer({
    accept: (from) => from === peer.id,
    timeoutMs: CONNECT_MS,
    late: new FerryError('NETWORK_ERROR', 'The other device did not connect.'),
  });
  return PeerConnection.answer(signal, held, peer.id, plan);
}

function noAnswer(): FerryError {
  return new FerryError('NETWORK_ERROR', 'The server did not answer the request for a pairing code.');
}
