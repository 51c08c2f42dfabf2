/**
 * The page's one WebSocket to /signal, and its lifecycle. Every frame is parsed with
 * shared/signaling.ts where it enters; anything else is dropped. It says `hello` with this
 * device's id and name, keeps the connection alive (an application ping every
 * PING_INTERVAL_MS; no pong within PONG_TIMEOUT_MS means a dead link even if TCP has not
 * noticed) and reconnects with exponential backoff and jitter until stopped. Who is in its
 * rooms is SignalingRooms' (signaling-rooms.svelte.ts); the mailbox requests waiting for
 * an answer are Unanswered queues (unanswered.ts). Relayed messages and pairing answers
 * reach subscribers through typed events (signaling-events.ts).
 */
import { FerryError } from '../../../shared/errors.ts';
import { FRAME_VERSION_READ } from '../../../shared/p2p/frames.ts';
import {
  type ClientMessage,
  type IceConfig,
  parseServerMessage,
  type RelayKind,
  type ServerMessage,
  type ShareRole,
  SIGNAL_PATH,
  UNLISTED_QUERY,
} from '../../../shared/signaling.ts';
import { type DeviceIdentity, deviceIdentity, renameDevice } from './p2p-db.ts';
import { Emitter, type NearbyPeer, type SignalingEvents } from './signaling-events.ts';
import { SignalingRooms } from './signaling-rooms.svelte.ts';
import { Unanswered } from './unanswered.ts';

export type { NearbyPeer, SharePeer, SignalingEvents } from './signaling-events.ts';

export const PING_INTERVAL_MS = 20_000;
export const PONG_TIMEOUT_MS = 10_000;
export const RECONNECT_MIN_MS = 500;
export const RECONNECT_MAX_MS = 30_000;

export type SignalingStatus = 'connecting' | 'open' | 'offline';

/** Where this device's id and name are kept (IndexedDB in the page, p2p-db.ts). */
export interface DeviceStore {
  load(): Promise<DeviceIdentity>;
  rename(name: string): Promise<DeviceIdentity>;
}

const browserDevice: DeviceStore = { load: deviceIdentity, rename: renameDevice };

/** Delay before reconnect attempt `attempt` (0-based): exponential, capped, with full jitter. */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** attempt);
  return Math.round(RECONNECT_MIN_MS / 2 + random() * (ceiling - RECONNECT_MIN_MS / 2));
}

export class SignalingClient {
  #status = $state<SignalingStatus>('offline');
  #self = $state<{ peerId: string; name: string } | null>(null);
  #device = $state<DeviceIdentity | null>(null);
  #greeted = false;
  /** `mailbox-put`s and `mailbox-withdraw`s not answered yet, oldest first (the server answers in order). */
  #mailboxPuts = new Unanswered<string | null>();
  #mailboxWithdraws = new Unanswered<boolean>();
  readonly #events = new Emitter<SignalingEvents>();
  readonly #rooms = new SignalingRooms(this.#events);
  #ice: Pick<IceConfig, 'iceServers' | 'iceTransportPolicy'> = { iceServers: [], iceTransportPolicy: 'all' };
  #socket: WebSocket | null = null;
  #attempt = 0;
  #stopped = true;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #pingTimer: ReturnType<typeof setInterval> | undefined;
  #pongTimer: ReturnType<typeof setTimeout> | undefined;
  /** Where to connect; a promise while the page still decides (page-signaling.ts). */
  #url: string | Promise<string>;
  readonly #devices: DeviceStore;

  constructor(url: string | Promise<string> = signalingUrl(), devices: DeviceStore = browserDevice) {
    this.#url = url;
    this.#devices = devices;
  }

  get status(): SignalingStatus {
    return this.#status;
  }
  /** This connection's peer id and generated name, once welcomed. */
  get self(): { peerId: string; name: string } | null {
    return this.#self;
  }
  get device(): DeviceIdentity | null {
    return this.#device;
  }
  /** Whether this device said `hello` on the current connection (the `hello` event). */
  get greeted(): boolean {
    return this.#greeted;
  }
  /** Others on the same network, in the order they arrived. */
  get peers(): readonly NearbyPeer[] {
    return this.#rooms.peers;
  }
  /**
   * ICE servers (empty without STUN/TURN: host candidates only) and transport policy
   * (`relay`: TURN only) from the last `welcome`.
   */
  get ice(): Pick<IceConfig, 'iceServers' | 'iceTransportPolicy'> {
    return this.#ice;
  }

  /** Opens the connection (and keeps reopening it until stop()). */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    void this.#devices
      .load()
      .then((device) => {
        this.#device = device;
        if (this.#sayHello()) this.#events.emit('hello', { deviceId: device.id });
      })
      .catch(() => {});
    this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#reconnectTimer);
    this.#stopTimers();
    this.#socket?.close(1000);
    this.#socket = null;
    this.#unanswered();
    this.#status = 'offline';
    // No connection now: nothing may act as if welcomed (a link made, a name shown) until the next `welcome`.
    this.#self = null;
    this.#greeted = false;
    this.#rooms.clear();
  }

  /**
   * Renames this device: kept in IndexedDB and said again in `hello`, so the devices that
   * see it (nearby and paired) get the new name at once. Throws BAD_REQUEST for a name the
   * server would refuse.
   */
  async rename(name: string): Promise<void> {
    this.#device = await this.#devices.rename(name);
    this.#sayHello();
  }

  /** Subscribes to one event; returns the unsubscribe function. */
  on<K extends keyof SignalingEvents>(event: K, listener: (payload: SignalingEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** Sends `data` to a peer through the server; false when the connection is down. */
  relay(to: string, kind: RelayKind, data: Record<string, unknown>): boolean {
    return this.#send({ type: 'relay', to, kind, data });
  }

  /**
   * Leaves a sealed box in pair room `room` for device `to` (handed over now or at its next
   * rejoin). Once the server answers `mailbox-stored`, resolves with the id the box waits
   * under, or null when it was handed over at once; rejects with the server's refusal
   * (MAILBOX_FULL…) or NETWORK_ERROR.
   */
  mailboxPut(room: string, to: string, data: Record<string, unknown>, expiresAt: number): Promise<string | null> {
    return this.#mailboxPuts.ask(this.#send({ type: 'mailbox-put', room, to, data, expiresAt }));
  }

  /**
   * Takes back box `id` this device left in pair room `room`: resolves true once the server
   * forgot it, false when it no longer waited (the other device took it, or it expired);
   * rejects with the server's refusal or NETWORK_ERROR.
   */
  mailboxWithdraw(room: string, id: string): Promise<boolean> {
    return this.#mailboxWithdraws.ask(this.#send({ type: 'mailbox-withdraw', room, id }));
  }

  /** Asks the server for a pairing code (answered by `pair-code`, or `error`). */
  createPairCode(): boolean {
    return this.#send({ type: 'pair-create' });
  }

  /** Enters another device's code (answered by `paired`, or `error`). */
  joinPair(code: string): boolean {
    return this.#send({ type: 'pair-join', code });
  }

  /** Back into a remembered pair room (answered by `pair-room`, or `error`). */
  rejoinPair(room: string, roomToken: string): boolean {
    return this.#send({ type: 'pair-rejoin', room, roomToken });
  }

  /** Joins `share:<id>` as its sender (owner token) or a recipient (reader token); answered by `share-room`, or `error`. */
  joinShare(shareId: string, role: ShareRole, token: string): boolean {
    return this.#send({ type: 'share-join', shareId, role, token });
  }

  /** Leaves a share room. */
  leaveShare(shareId: string): void {
    const room = `share:${shareId}`;
    this.#send({ type: 'leave', room });
    this.#rooms.leaveShare(room);
  }

  /** Leaves a pair room (a forgotten pairing). */
  leaveRoom(room: string): void {
    this.#send({ type: 'leave', room });
    this.#rooms.leavePair(room);
  }

  /** The others in a pair room this connection is in. */
  pairRoomPeers(room: string): readonly NearbyPeer[] {
    return this.#rooms.pairRoomPeers(room);
  }

  /** The pair room a peer shares with this connection, if any. */
  pairRoomOf(peerId: string): string | null {
    return this.#rooms.pairRoomOf(peerId);
  }

  /** A peer of the network room or of a pair room. */
  peer(id: string): NearbyPeer | undefined {
    return this.#rooms.peer(id);
  }

  #send(message: ClientMessage): boolean {
    if (this.#socket?.readyState !== WebSocket.OPEN) return false;
    this.#socket.send(JSON.stringify(message));
    return true;
  }

  /** The connection is gone: the mailbox requests it carried will not be answered. */
  #unanswered(): void {
    const lost = new FerryError('NETWORK_ERROR', 'The connection to the server was lost.');
    this.#mailboxPuts.dropAll(lost);
    this.#mailboxWithdraws.dropAll(lost);
  }

  /** Says `hello` once both this device's id and the connection are there; true when sent. */
  #sayHello(): boolean {
    if (!this.#device || !this.#self) return false;
    this.#greeted = this.#send({
      type: 'hello',
      deviceId: this.#device.id,
      deviceName: this.#device.name,
      frames: FRAME_VERSION_READ,
    });
    return this.#greeted;
  }

  #connect(): void {
    this.#status = 'connecting';
    const url = this.#url;
    if (typeof url !== 'string') {
      void url.then((decided) => {
        this.#url = decided;
        if (!this.#stopped && this.#socket === null) this.#connect();
      });
      return;
    }
    const socket = new WebSocket(url);
    this.#socket = socket;
    socket.onmessage = (event) => {
      if (socket !== this.#socket || typeof event.data !== 'string') return;
      const parsed = parseServerMessage(event.data);
      if (parsed.ok) this.#onMessage(parsed.message);
    };
    socket.onclose = () => {
      if (socket !== this.#socket) return;
      this.#socket = null;
      this.#stopTimers();
      this.#status = 'offline';
      this.#self = null;
      this.#greeted = false;
      this.#unanswered();
      this.#rooms.lost();
      if (!this.#stopped) {
        this.#reconnectTimer = setTimeout(() => this.#connect(), reconnectDelay(this.#attempt++));
      }
    };
  }

  #onMessage(message: ServerMessage): void {
    switch (message.type) {
      case 'welcome':
        this.#attempt = 0;
        this.#status = 'open';
        this.#self = { peerId: message.peerId, name: message.name };
        this.#rooms.welcomed(message.network);
        this.#ice = { iceServers: message.ice.iceServers, iceTransportPolicy: message.ice.iceTransportPolicy };
        this.#startTimers();
        this.#sayHello();
        this.#events.emit('welcome', message);
        return;
      case 'pong':
        clearTimeout(this.#pongTimer);
        return;
      case 'room':
      case 'peer-joined':
      case 'peer-updated':
      case 'peer-left':
      case 'paired':
        this.#rooms.apply(message);
        return;
      case 'relay':
        this.#events.emit('relay', message);
        return;
      case 'mailbox':
        this.#events.emit('mailbox', message);
        return;
      case 'error':
        if (message.of === 'mailbox-put') this.#mailboxPuts.refuse(new FerryError(message.code, message.message));
        if (message.of === 'mailbox-withdraw') {
          this.#mailboxWithdraws.refuse(new FerryError(message.code, message.message));
        }
        this.#events.emit('error', message);
        return;
      case 'mailbox-stored':
        this.#mailboxPuts.answer(message.delivered ? null : message.id);
        return;
      case 'mailbox-withdrawn':
        this.#mailboxWithdraws.answer(message.withdrawn);
        return;
      case 'pair-code':
        this.#events.emit('pair-code', message);
        return;
    }
  }

  #startTimers(): void {
    this.#stopTimers();
    this.#pingTimer = setInterval(() => {
      if (!this.#send({ type: 'ping' })) return;
      clearTimeout(this.#pongTimer);
      this.#pongTimer = setTimeout(() => this.#socket?.close(4000, 'no pong'), PONG_TIMEOUT_MS);
    }, PING_INTERVAL_MS);
  }

  #stopTimers(): void {
    clearInterval(this.#pingTimer);
    clearTimeout(this.#pongTimer);
  }
}

/**
 * This origin's signaling address. `listed: false` for a page that is not a device to send
 * to (it only pulls a share link's records): the server keeps it out of the network room.
 */
export function signalingUrl({ listed = true }: { listed?: boolean } = {}): string {
  const { protocol, host } = window.location;
  const url = `${protocol === 'https:' ? 'wss:' : 'ws:'}//${host}${SIGNAL_PATH}`;
  return listed ? url : `${url}?${UNLISTED_QUERY}`;
}
