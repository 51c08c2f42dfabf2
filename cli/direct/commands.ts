/**
 * `ferry send --to DEVICE PATH…` and `ferry receive --nearby`: this machine as a device,
 * as a browser tab is one. It connects to /signal, rejoins the pair rooms of its pairings
 * (device-store.ts), and then either finds DEVICE (a paired device by name or id, else a
 * device on this network by name) and sends to it, or waits, visible as a tile to the app
 * on this network, for one offer and receives it. A paired device is checked by MAC alone;
 * any other by the verification code, which the sending person confirms (here on stdin, or
 * in the app) and the receiving person sees with the offer.
 */
import { rm } from 'node:fs/promises';
import { fromBase64Url } from '../../shared/encoding.ts';
import { FerryError } from '../../shared/errors.ts';
import type { HandshakePlan } from '../../shared/p2p/handshake.ts';
import type { RoomPeer } from '../../shared/signaling.ts';
import { askYesNo } from '../ask.ts';
import { formatBytes } from '../progress.ts';
import { collectFiles } from '../sources.ts';
import { stateDir } from '../state.ts';
import { deviceIdentity, listPairings, pairingNamed, type StoredPairing } from './device-store.ts';
import { openOffer, receiveOffer } from './direct-receive.ts';
import { sendDirect } from './direct-send.ts';
import { HeldSignals } from './held-signals.ts';
import { PeerConnection } from './peer-connection.ts';
import { type DeviceIdentity, SignalClient } from './signal-client.ts';

/** How long `send --to` looks for the device before it gives up. */
const FIND_MS = 15_000;

export interface DirectOptions {
  server: string;
  name?: string | undefined;
  quiet: boolean;
  say: (line: string) => void;
}

/** Connects as this device and rejoins every remembered pair room; answers the pairings. */
async function online(
  options: DirectOptions,
): Promise<{ signal: SignalClient; pairings: StoredPairing[]; device: DeviceIdentity }> {
  const device = await deviceIdentity(options.name);
  const signal = await SignalClient.connect(options.server, device);
  const pairings = await listPairings();
  for (const pairing of pairings)
    signal.send({ type: 'pair-rejoin', room: pairing.room, roomToken: pairing.roomToken });
  return { signal, pairings, device };
}

/** The peer of a pairing in its room (its device, not another tab of ours). */
function pairedPeer(signal: SignalClient, pairing: StoredPairing): RoomPeer | undefined {
  return signal.pairRoomPeers(pairing.room).find((p) => !pairing.deviceId || p.deviceId === pairing.deviceId);
}

/** How a connection with `peerId` is checked: the pairing's MAC, or the code for people. */
function planFor(signal: SignalClient, pairings: readonly StoredPairing[], peerId: string): HandshakePlan {
  const room = signal.pairRoomOf(peerId);
  const pairing = room ? pairings.find((p) => p.room === room) : undefined;
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

/** `ferry send --to DEVICE PATH…`: resolves once DEVICE verified every file. */
export async function sendTo(target: string, paths: readonly string[], options: DirectOptions): Promise<void> {
  const files = await collectFiles(paths, `${stateDir()}/spool`);
  const { signal, pairings } = await online(options);
  try {
    const pairing = pairingNamed(pairings, target);
    const wanted = target.trim().toLowerCase();
    const peer = pairing
      ? await waitFor(signal, () => pairedPeer(signal, pairing), pairing.name)
      : await waitFor(
          signal,
          () =>
            signal.nearby.find(
              (p) => (p.deviceName ?? p.name).toLowerCase() === wanted || p.name.toLowerCase() === wanted,
            ),
          `No paired device is called ${target}, and a device ${target} on this network`,
        );
    const peerName = peer.deviceName ?? peer.name;
    const plan = planFor(signal, pairings, peer.id);
    const connection = new PeerConnection(signal, peer.id, true, plan);
    try {
      if (plan.compare) {
        const code = await Promise.race([connection.code, connection.lost]);
        options.say(`Verification code with ${peerName}: ${code}`);
        const same = await Promise.race([askYesNo(`Does ${peerName} show the same code?`), connection.lost]);
        if (!same) throw new FerryError('ABORTED', 'The codes were not confirmed: nothing was sent.');
        connection.auth.confirm();
      }
      await sendDirect(connection, files, { frames: peer.frames ?? 1, peerName, quiet: options.quiet });
      options.say(`Sent to ${peerName}.`);
    } finally {
      connection.close(new FerryError('ABORTED', 'Done.'));
    }
  } finally {
    signal.close();
    for (const file of files) if (file.spooled) await rm(file.path, { force: true });
  }
}

export interface NearbyReceiveOptions extends DirectOptions {
  out: string;
  /** Accept offers from paired devices without asking (an offer from anyone else is always asked). */
  yes: boolean;
}

/** `ferry receive --nearby`: waits for one offer, receives it, answers the files' paths. */
export async function receiveNearby(options: NearbyReceiveOptions): Promise<string[]> {
  const { signal, pairings, device } = await online(options);
  options.say(`Waiting for files as ${device.name} on this network (Ctrl-C to stop)…`);
  // Every peer's signals are kept until its offer comes (held-signals.ts).
  const held = new HeldSignals(signal);
  try {
    {
      // Only a device nearby or paired may open a connection here (as in the app).
      const from = await held.offer({ accept: (peerId) => !!signal.peer(peerId) });
      const peer = signal.peer(from)!;
      const peerName = peer.deviceName ?? peer.name;
      const plan = planFor(signal, pairings, peer.id);
      const connection = PeerConnection.answer(signal, held, peer.id, plan);
      try {
        const offer = await new Promise<Parameters<typeof openOffer>[0]>((resolve, reject) => {
          connection.onControl = (message) => {
            if (message.type === 'offer') resolve(message);
          };
          connection.lost.catch(reject);
        });
        const opened = await openOffer(offer, options.out).catch((error: unknown) => {
          try {
            connection.link.sendControl({
              type: 'cancel',
              transfer: offer.transfer,
              code: error instanceof FerryError ? error.code : 'MANIFEST_INVALID',
              message: error instanceof Error ? error.message.slice(0, 500) : 'The offer was not valid.',
            });
          } catch {
            // Gone already.
          }
          throw error;
        });
        const list = opened.manifest.files.map((f) => `  ${f.name} (${formatBytes(f.size)})`).join('\n');
        options.say(`${peerName} offers ${opened.manifest.files.length} file(s):\n${list}`);
        if (plan.compare) options.say(`Verification code: ${connection.auth.code}`);
        const accept = (options.yes && !plan.compare) || (await askYesNo('Accept?'));
        if (!accept) {
          connection.link.sendControl({ type: 'answer', transfer: opened.transfer, accept: false });
          await new Promise((resolve) => setTimeout(resolve, 300));
          throw new FerryError('ABORTED', 'Declined.');
        }
        return await receiveOffer(connection, opened, options.quiet);
      } finally {
        await new Promise((resolve) => setTimeout(resolve, 300));
        connection.close(new FerryError('ABORTED', 'Done.'));
      }
    }
  } finally {
    signal.close();
  }
}
