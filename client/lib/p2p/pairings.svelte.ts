/**
 * Pairing by code, and the devices this one remembers.
 *
 * One device asks the server for a 6-digit code (`pair-create`); the other enters it, or
 * opens the pairing link (`#pair=<code>`). The server puts both in a new pair room and
 * gives both its token (`paired`). What follows is the devices' own business
 * (ARCHITECTURE.md, "Pairing"):
 *
 * 1. The creator connects. That first connection runs MAC mode keyed from the code and
 *    the room (shared/keys.ts `pairingCodeSecret`), which stops anyone who does not know the
 *    code, and both screens also show the verification code, because the server issued
 *    the code and so knows it. Both people confirm that the codes match.
 * 2. Then the creator sends a fresh random 256-bit secret over that checked channel
 *    (`pair-secret`); the other device stores it and says so (`pair-saved`); the creator
 *    stores it too. The server never sees it.
 * 3. Every later connection between the two uses MAC mode with that secret alone.
 *
 * On every (re)connect to the server each remembered room is rejoined (`pair-rejoin`); a
 * refused rejoin means the server no longer knows the room, and the pairing is forgotten
 * with a notice.
 */
import { fromBase64Url, toBase64Url } from '../../../shared/encoding.ts';
import { FerryError } from '../../../shared/errors.ts';
import { PAIRING_SECRET_BYTES, pairingCodeSecret } from '../../../shared/keys.ts';
import type { ControlMessage } from '../../../shared/p2p/frames.ts';
import type { HandshakePlan } from '../../../shared/p2p/handshake.ts';
import type { ServerMessageOf } from '../../../shared/signaling.ts';
import { deletePairing, listPairings, type Pairing, putPairing } from './p2p-db.ts';
import { normalizePairCode, pairCodeFromHash, RejoinQueue } from './pair-code.ts';
import type { NearbyPeer, SignalingClient } from './signaling.svelte.ts';

/** A pairing whose first connection is still running (step 1 and 2 above). */
export interface PendingPairing {
  room: string;
  roomToken: string;
  role: 'creator' | 'joiner';
  peer: NearbyPeer;
  /** MAC mode's secret for this first connection (from the code). */
  codeSecret: Promise<Uint8Array<ArrayBuffer>>;
  phase: 'verify' | 'saving';
}

/** How a connection to a peer proves who is on the other end (Connection in nearby; shared/p2p/handshake.ts). */
export interface AuthPlan extends HandshakePlan {
  /** Set on a pairing's first connection. */
  pairing: PendingPairing | null;
}

/** What the pairing exchange needs of a connection. */
export interface PairingChannel {
  /** Both people confirmed and the code-keyed MAC verified. */
  confirmed: Promise<void>;
  /** Rejects when the connection is gone. */
  lost: Promise<never>;
  send(message: ControlMessage): void;
}

/** What a code looks like while it waits to be entered. */
export interface OwnCode {
  code: string;
  expiresAt: number;
}

const PAIR_ERRORS = new Set(['pair-create', 'pair-join']);

export class Pairings {
  readonly #signaling: SignalingClient;
  #remembered = $state<Pairing[]>([]);
  #code = $state<OwnCode | null>(null);
  #pending = $state<PendingPairing | null>(null);
  #joining = $state(false);
  #error = $state<string | null>(null);
  #notice = $state<string | null>(null);
  #loaded = false;
  #linkCode: string | null = null;
  /** The code this device entered last, for the first connection's MAC. */
  #joinedCode: string | null = null;
  readonly #rejoins = new RejoinQueue();
  #secretArrived: ((secret: string) => void) | null = null;
  #savedArrived: (() => void) | null = null;
  #unsubscribe: (() => void)[] = [];

  constructor(signaling: SignalingClient) {
    this.#signaling = signaling;
  }

  /** Remembered pairings, oldest first. */
  get remembered(): readonly Pairing[] {
    return this.#remembered;
  }
  /** The code this device made, while it can be used. */
  get code(): OwnCode | null {
    return this.#code;
  }
  get pending(): PendingPairing | null {
    return this.#pending;
  }
  get joining(): boolean {
    return this.#joining;
  }
  /** Why the last pairing step failed, as a sentence. */
  get error(): string | null {
    return this.#error;
  }
  /** What just happened ("Paired with …", "The pairing with … has ended …"). */
  get notice(): string | null {
    return this.#notice;
  }

  /**
   * Listens to the signaling client and loads remembered pairings. `hash` is the page's
   * fragment: a pairing link's code is entered once the server answers.
   */
  start(hash = ''): void {
    this.#unsubscribe = [
      this.#signaling.on('welcome', () => this.#onWelcome()),
      this.#signaling.on('hello', () => this.#rejoinAll()),
      this.#signaling.on('pair-code', ({ code, expiresAt }) => {
        this.#code = { code, expiresAt };
      }),
      this.#signaling.on('paired', (message) => this.#onPaired(message)),
      this.#signaling.on('pair-room', ({ room, peers }) => {
        this.#rejoins.joined(room);
        for (const peer of peers) void this.#seen(room, peer);
      }),
      this.#signaling.on('pair-peer', ({ room, peer }) => void this.#seen(room, peer)),
      this.#signaling.on('error', (message) => this.#onError(message)),
    ];
    void listPairings()
      .then((pairings) => {
        this.#remembered = pairings;
        this.#loaded = true;
        if (this.#signaling.status === 'open') this.#onWelcome();
      })
      .catch(() => {
        this.#error = 'Remembered devices could not be read from this browser’s storage.';
      });
    this.openLink(hash);
  }

  /** A pairing link's fragment (`#pair=<code>`): enters its code, now or once connected. */
  openLink(hash: string): void {
    const code = pairCodeFromHash(hash);
    if (!code) return;
    if (this.#signaling.status === 'open') this.join(code);
    else this.#linkCode = code;
  }

  dispose(): void {
    for (const stop of this.#unsubscribe) stop();
  }

  /** Asks for a code for another device to enter. */
  create(): void {
    this.#error = null;
    this.#notice = null;
    if (!this.#signaling.createPairCode()) this.#error = 'Not connected to the server; try again in a moment.';
  }

  /** Enters another device's code. */
  join(typed: string): void {
    this.#error = null;
    this.#notice = null;
    const code = normalizePairCode(typed);
    if (!code) {
      this.#error = 'A pairing code is 6 digits, shown on the other device.';
      return;
    }
    this.#joinedCode = code;
    if (this.#signaling.joinPair(code)) this.#joining = true;
    else this.#error = 'Not connected to the server; try again in a moment.';
  }

  /** The person closed the pairing controls: the last error is read. */
  dismiss(): void {
    this.#error = null;
  }

  /** Forgets a remembered device: its secret is deleted and its room left. */
  async forget(room: string): Promise<void> {
    const pairing = this.#remembered.find((p) => p.room === room);
    this.#remembered = this.#remembered.filter((p) => p.room !== room);
    this.#signaling.leaveRoom(room);
    await deletePairing(room);
    if (pairing) this.#notice = `${pairing.name} was forgotten.`;
  }

  /** Stops a pairing whose codes did not match (or that the person gave up). */
  abandon(reason: string | null): void {
    const pending = this.#pending;
    if (!pending) return;
    this.#pending = null;
    this.#signaling.leaveRoom(pending.room);
    if (reason) this.#error = reason;
  }

  /** The remembered pairing a peer belongs to (through the pair room both are in). */
  pairingWith(peerId: string): Pairing | null {
    const room = this.#signaling.pairRoomOf(peerId);
    return (room && this.#remembered.find((p) => p.room === room)) || null;
  }

  /**
   * How a connection with `peerId` authenticates. The pairing running with it comes first:
   * a device paired before and paired again is in both rooms, and its old secret must not
   * stand in for the new pairing's checks (nor leave that pairing waiting for ever).
   */
  authFor(peerId: string): AuthPlan {
    if (this.#pending?.peer.id === peerId) {
      return { secret: this.#pending.codeSecret, compare: true, pairing: this.#pending };
    }
    const room = this.#signaling.pairRoomOf(peerId);
    const stored = room ? this.#remembered.find((p) => p.room === room) : undefined;
    if (stored) return { secret: Promise.resolve(fromBase64Url(stored.secret)), compare: false, pairing: null };
    return { secret: null, compare: true, pairing: null };
  }

  /** A control message of the pairing exchange from `peerId`. */
  onControl(peerId: string, message: ControlMessage): void {
    if (this.#pending?.peer.id !== peerId) return;
    if (message.type === 'pair-secret') this.#secretArrived?.(message.secret);
    else if (message.type === 'pair-saved') this.#savedArrived?.();
  }

  /** Steps 1–2 of the module comment over the pairing's first connection. */
  async exchange(pending: PendingPairing, channel: PairingChannel): Promise<void> {
    const secretArrived = new Promise<string>((resolve) => {
      this.#secretArrived = resolve;
    });
    const savedArrived = new Promise<void>((resolve) => {
      this.#savedArrived = resolve;
    });
    const unlessLost = <T>(step: Promise<T>) => Promise.race([step, channel.lost]);
    try {
      await unlessLost(channel.confirmed);
      if (this.#pending !== pending) return;
      this.#pending = { ...pending, phase: 'saving' };
      let secret: string;
      if (pending.role === 'creator') {
        secret = toBase64Url(crypto.getRandomValues(new Uint8Array(PAIRING_SECRET_BYTES)));
        channel.send({ type: 'pair-secret', secret });
        await unlessLost(savedArrived);
        await this.#remember(pending, secret);
      } else {
        secret = await unlessLost(secretArrived);
        await this.#remember(pending, secret);
        channel.send({ type: 'pair-saved' });
      }
      this.#pending = null;
      this.#notice = `Paired with ${pending.peer.name}. Files and texts to it need no code from now on.`;
    } catch (error) {
      if (this.#pending?.room !== pending.room) return;
      this.abandon(error instanceof FerryError ? error.message : 'Pairing failed.');
    } finally {
      this.#secretArrived = null;
      this.#savedArrived = null;
    }
  }

  async #remember(pending: PendingPairing, secret: string): Promise<void> {
    const now = Date.now();
    const pairing: Pairing = {
      room: pending.room,
      roomToken: pending.roomToken,
      deviceId: pending.peer.deviceId ?? '',
      name: pending.peer.name,
      secret,
      createdAt: now,
      lastSeen: now,
    };
    await putPairing(pairing);
    this.#remembered = [...this.#remembered.filter((p) => p.room !== pairing.room), pairing];
  }

  #onWelcome(): void {
    this.#joining = false;
    this.#code = null;
    this.#rejoins.clear();
    if (this.#pending) this.abandon('The connection to the server dropped during pairing; pair again.');
    if (!this.#loaded) return;
    if (this.#signaling.greeted) this.#rejoinAll();
    if (this.#linkCode) {
      const code = this.#linkCode;
      this.#linkCode = null;
      this.join(code);
    }
  }

  /**
   * Back into every remembered pair room, once the server knows this device's id (`hello`
   * came first on this connection), so what the other device left in a room's mailbox is
   * handed over with it.
   */
  #rejoinAll(): void {
    if (!this.#loaded) return;
    for (const pairing of this.#remembered) {
      if (this.#signaling.rejoinPair(pairing.room, pairing.roomToken)) this.#rejoins.sent(pairing.room);
    }
  }

  #onPaired(message: ServerMessageOf<'paired'>): void {
    const peer = message.peers[0];
    if (!peer) return;
    // As the pair room sees it: only there does it carry its device id (a device on this
    // network is also in the network room, where it has none), which the pairing must keep
    // to know the device again (one tile for it, its mailbox when it is away).
    const other = this.#signaling.pairRoomPeers(message.room).find((p) => p.id === peer.id);
    if (!other) return;
    // Answers come in order: while a `pair-join` of ours is unanswered, this is its answer.
    const role = this.#joining ? 'joiner' : 'creator';
    const code = role === 'creator' ? this.#code?.code : this.#joinedCode;
    this.#code = null;
    this.#joining = false;
    if (!code) return;
    this.#pending = {
      room: message.room,
      roomToken: message.roomToken,
      role,
      peer: other,
      codeSecret: pairingCodeSecret(code, message.room),
      phase: 'verify',
    };
  }

  #onError(message: ServerMessageOf<'error'>): void {
    if (message.of === 'pair-rejoin') {
      const room = this.#rejoins.refused();
      if (room && message.code === 'UNAUTHORIZED') void this.#expired(room);
      return;
    }
    if (!message.of || !PAIR_ERRORS.has(message.of)) return;
    this.#joining = false;
    this.#error = message.message;
  }

  async #expired(room: string): Promise<void> {
    const pairing = this.#remembered.find((p) => p.room === room);
    this.#remembered = this.#remembered.filter((p) => p.room !== room);
    await deletePairing(room).catch(() => {});
    if (pairing) {
      this.#notice = `The pairing with ${pairing.name} has ended: the server no longer knows it. Pair the devices again to send to it.`;
    }
  }

  /**
   * Keeps the name and last-seen time of a remembered device current, and its device id when
   * the pairing lacks it (pairings made before it was read from the pair room stored none).
   * This device's own other tabs rejoin the room too: they are not the paired device.
   */
  async #seen(room: string, peer: NearbyPeer): Promise<void> {
    const pairing = this.#remembered.find((p) => p.room === room);
    // Before its `hello` a connection has only the server's generated name and no device id.
    if (!pairing || !peer.deviceId || peer.deviceId === this.#signaling.device?.id) return;
    if (pairing.deviceId && peer.deviceId !== pairing.deviceId) return;
    const updated = { ...pairing, name: peer.name, deviceId: peer.deviceId, lastSeen: Date.now() };
    this.#remembered = this.#remembered.map((p) => (p.room === room ? updated : p));
    await putPairing(updated).catch(() => {});
  }
}
