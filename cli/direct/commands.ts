/**
 * `ferry send --to DEVICE PATH…` (and the helpers `ferry receive --nearby`,
 * receive-nearby.ts, shares): this machine as a device, as a browser tab is one. It
 * connects to /signal, rejoins the pair rooms of its pairings (device-store.ts), finds
 * DEVICE (a paired device by name or id, else a device on this network by name) and sends
 * to it (direct-send.ts: the engine's SenderSession, resume, relay). A paired device is
 * checked by MAC alone; any other by the verification code, which the sending person
 * confirms here on stdin. When no data channel opens within CONNECT_MS, a paired device
 * gets the files through the server instead (the relay share, its offer sealed for it:
 * mailbox.ts), as the app sends them; a device that is not online at all finds the offer
 * in its mailbox when it next comes online.
 */
import { rm } from 'node:fs/promises';
import { fromBase64Url, toBase64Url } from '../../shared/encoding.ts';
import { FerryError } from '../../shared/errors.ts';
import type { HandshakePlan } from '../../shared/p2p/handshake.ts';
import { beforeDeadline } from '../../shared/p2p/relay.ts';
import type { RoomPeer } from '../../shared/signaling.ts';
import { askYesNo } from '../ask.ts';
import { Progress } from '../progress.ts';
import { collectFiles } from '../sources.ts';
import { stateDir } from '../state.ts';
import { deviceIdentity, listPairings, pairingNamed, type StoredPairing } from './device-store.ts';
import { DirectSend, type PlannedTransfer, planTransfer } from './direct-send.ts';
import { deliverSealed, sealedAnswer } from './mailbox.ts';
import { PeerConnection } from './peer-connection.ts';
import { RelayRoute } from './relay-route.ts';
import { type DeviceIdentity, SignalClient } from './signal-client.ts';

/** How long `send --to` looks for the device before it gives up. */
const FIND_MS = 15_000;
/** How long the data channel has to open before a paired device gets the files through the server (the app's). */
const CONNECT_MS = 15_000;
/** How long a send through the server waits for the device's answer, and then for it to read the files. */
const ANSWER_MS = 10 * 60_000;
const COLLECT_MS = 60_000;

export interface DirectOptions {
  server: string;
  name?: string | undefined;
  quiet: boolean;
  say: (line: string) => void;
}

/** Connects as this device and rejoins every remembered pair room; answers the pairings. */
export async function online(
  options: DirectOptions,
): Promise<{ signal: SignalClient; pairings: StoredPairing[]; device: DeviceIdentity }> {
  const device = await deviceIdentity(options.name);
  const signal = await SignalClient.connect(options.server, device);
  const pairings = await listPairings();
  for (const pairing of pairings)
    signal.send({ type: 'pair-rejoin', room: pairing.room, roomToken: pairing.roomToken });
  return { signal, pairings, device };
}

/** The pairing whose room `peerId` shares with this connection, if any. */
export function pairingOf(
  signal: SignalClient,
  pairings: readonly StoredPairing[],
  peerId: string,
): StoredPairing | undefined {
  const room = signal.pairRoomOf(peerId);
  return room ? pairings.find((p) => p.room === room) : undefined;
}

/** The peer of a pairing in its room (its device, not another tab of ours). */
function pairedPeer(signal: SignalClient, pairing: StoredPairing): RoomPeer | undefined {
  return signal.pairRoomPeers(pairing.room).find((p) => !pairing.deviceId || p.deviceId === pairing.deviceId);
}

/** How a connection with `peerId` is checked: the pairing's MAC, or the code for people. */
export function planFor(signal: SignalClient, pairings: readonly StoredPairing[], peerId: string): HandshakePlan {
  const pairing = pairingOf(signal, pairings, peerId);
  return pairing
    ? { secret: Promise.resolve(fromBase64Url(pairing.secret)), compare: false }
    : { secret: null, compare: true };
}

/** Waits (bounded) until `find` answers a peer, checking on every server message. */
function waitFor(signal: SignalClient, find: () => RoomPeer | undefined, what: string): Promise<RoomPeer> {
  const found = find();
  if (found) return Promise.resolve(found);
  return new Promise<RoomPeer>((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(
        new FerryError('PEER_NOT_REACHABLE', `${what} is not online (nothing heard of it within ${FIND_MS / 1000} s).`),
      );
    }, FIND_MS);
    const stop = signal.on(() => {
      const peer = find();
      if (!peer) return;
      clearTimeout(timer);
      stop();
      resolve(peer);
    });
    signal.closed.catch((error: unknown) => {
      clearTimeout(timer);
      stop();
      reject(error);
    });
  });
}

export interface SendToOptions extends DirectOptions {
  /** Sent as `Ferry-Upload-Key` when the relay share is made. */
  uploadKey: string | null;
}

/** `ferry send --to DEVICE PATH…`: resolves once DEVICE verified every file (or, offline, the server holds them). */
export async function sendTo(target: string, paths: readonly string[], options: SendToOptions): Promise<void> {
  const files = await collectFiles(paths, `${stateDir()}/spool`);
  const { signal, pairings, device } = await online(options);
  try {
    const pairing = pairingNamed(pairings, target);
    const wanted = target.trim().toLowerCase();
    const peer = pairing
      ? await waitFor(signal, () => pairedPeer(signal, pairing), pairing.name).catch((error: unknown) => {
          // A paired device that is not online gets the files through its mailbox.
          if (error instanceof FerryError && error.code === 'PEER_NOT_REACHABLE') return null;
          throw error;
        })
      : await waitFor(
          signal,
          () =>
            signal.nearby.find(
              (p) => (p.deviceName ?? p.name).toLowerCase() === wanted || p.name.toLowerCase() === wanted,
            ),
          `No paired device is called ${target}, and a device ${target} on this network`,
        );
    const planned = await planTransfer(files, peer?.frames ?? 1);
    const route = new RelayRoute(options.server, planned.relay, options.uploadKey);
    if (!peer) {
      await throughServer(signal, device, pairing!, planned, route, options);
      return;
    }
    const peerName = peer.deviceName ?? peer.name;
    const plan = planFor(signal, pairings, peer.id);
    const connection = new PeerConnection(signal, peer.id, true, plan);
    try {
      const opened = Promise.race([connection.auth.opened, connection.lost]);
      await beforeDeadline(opened, Date.now() + CONNECT_MS, late(peerName));
    } catch (error) {
      connection.close(error instanceof FerryError ? error : new FerryError('NETWORK_ERROR', late(peerName)));
      const paired = pairingOf(signal, pairings, peer.id);
      if (!paired) {
        throw new FerryError('PEER_NOT_REACHABLE', `${late(peerName)} Send it by link instead: ferry send PATH…`, {
          cause: error,
        });
      }
      options.say(late(peerName));
      await throughServer(signal, device, paired, planned, route, options);
      return;
    }
    const described = await connection.describeRoute();
    if (described) options.say(described);
    if (plan.compare) {
      const code = await Promise.race([connection.code, connection.lost]);
      options.say(`Verification code with ${peerName}: ${code}`);
      const same = await Promise.race([askYesNo(`Does ${peerName} show the same code?`), connection.lost]);
      if (!same) {
        connection.close(new FerryError('ABORTED', 'Not confirmed.'));
        throw new FerryError('ABORTED', 'The codes were not confirmed: nothing was sent.');
      }
      connection.auth.confirm();
    }
    const sender = new DirectSend(planned, route, {
      peerName,
      quiet: options.quiet,
      say: options.say,
      reconnect: (secret) =>
        signal.peer(peer.id)
          ? new PeerConnection(signal, peer.id, true, { secret: Promise.resolve(secret), compare: false })
          : null,
    });
    const outcome = await sender.run(connection);
    if (outcome.state === 'declined') throw new FerryError('ABORTED', `${peerName} declined the files.`);
    if (outcome.state === 'cancelled') throw new FerryError('ABORTED', 'Cancelled.');
    if (outcome.state === 'failed') throw outcome.error;
    if (!sender.relayed) {
      options.say(`Sent to ${peerName}.`);
      return;
    }
    options.say(`Sent to ${peerName} through Ferry's server (the transfer switched to the relay).`);
    // The share is revoked once the device has read it, rather than left to expire.
    if (await route.collect(COLLECT_MS)) options.say('The server copy was deleted once it had been read.');
  } finally {
    signal.close();
    for (const file of files) if (file.spooled) await rm(file.path, { force: true });
  }
}

const late = (name: string) => `No direct connection to ${name} opened within ${CONNECT_MS / 1000} s.`;

/**
 * Every file through the relay share from record 0, and the offer sealed for the paired
 * device: at once by relay when it is online (it may read while the upload runs), else left
 * in its mailbox once every file is stored. Waits for an online device's answer and read.
 */
async function throughServer(
  signal: SignalClient,
  device: DeviceIdentity,
  pairing: StoredPairing,
  planned: PlannedTransfer,
  route: RelayRoute,
  options: SendToOptions,
): Promise<void> {
  const { transfer, ciphers } = planned.plan;
  const online = pairedPeer(signal, pairing) !== undefined;
  options.say(
    `Route: through Ferry's server (relay) to ${pairing.name}${online ? '' : ', which is offline: the offer waits in its mailbox'}.`,
  );
  const answer = sealedAnswer(signal, device.id, pairing, transfer);
  const offer = () =>
    deliverSealed(signal, device.id, pairing, 'offer', transfer, {
      secret: toBase64Url(planned.plan.secret),
      senderName: device.name,
    });
  const total = ciphers.reduce((n, c) => n + c.size, 0);
  const progress = new Progress('uploading', total, { quiet: options.quiet });
  const stored = ciphers.map(() => 0);
  let box: string | null = null;
  try {
    await route.send(
      ciphers.map(() => 0),
      (file, bytes) => {
        stored[file] = bytes;
        progress.update(stored.reduce((a, b) => a + b, 0));
      },
      online
        ? async () => {
            box = await offer();
          }
        : undefined,
    );
    progress.finish();
    // An offer in a mailbox must never point at files a stopped command did not finish.
    if (!online) box = await offer();
    if (box !== null) {
      options.say(`Stored on the server for ${pairing.name}: it can accept the files for a day once it opens Ferry.`);
      return;
    }
    const accepted = await beforeDeadline(answer.answer, Date.now() + ANSWER_MS, `${pairing.name} did not answer.`);
    if (!accepted) {
      await route.withdraw();
      throw new FerryError('ABORTED', `${pairing.name} declined the files.`);
    }
    options.say(`Sent to ${pairing.name} through Ferry's server.`);
    if (await route.collect(COLLECT_MS)) options.say('The server copy was deleted once it had been read.');
  } catch (error) {
    await route.withdraw();
    throw error;
  } finally {
    answer.stop();
  }
}
