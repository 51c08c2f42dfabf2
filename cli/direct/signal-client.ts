/**
 * The `ferry` command's WebSocket to the server's /signal (README "Signaling"), with `ws`
 * (Node 20 has no WebSocket of its own). Every frame is parsed with shared/signaling.ts
 * where it enters; anything else is dropped. It says `hello` with this device's id, name
 * and frame version at once, keeps the connection alive (an application ping every
 * PING_INTERVAL_MS; no pong within PONG_TIMEOUT_MS ends it), and keeps who is in this
 * device's network room and in its pair rooms. A command lives for one connection: when it
 * drops, `closed` rejects with NETWORK_ERROR and the command ends (no reconnection).
 */
import WebSocket from 'ws';
import { FerryError } from '../../shared/errors.ts';
import { FRAME_VERSION_READ } from '../../shared/p2p/frames.ts';
import {
  type ClientMessage,
  type IceConfig,
  parseServerMessage,
  type RoomPeer,
  type ServerMessage,
  type ServerMessageOf,
  SIGNAL_PATH,
  UNLISTED_QUERY,
} from '../../shared/signaling.ts';
import { debug } from './debug.ts';

export const PING_INTERVAL_MS = 20_000;
export const PONG_TIMEOUT_MS = 10_000;
/** How long the server has to answer the connection with `welcome`. */
const WELCOME_TIMEOUT_MS = 15_000;

export interface DeviceIdentity {
  id: string;
  name: string;
}

type Listener = (message: ServerMessage) => void;

export class SignalClient {
  readonly #socket: WebSocket;
  readonly #welcome: ServerMessageOf<'welcome'>;
  readonly #listeners = new Set<Listener>();
  /** Others in this device's network room, by peer id. */
  readonly #network = new Map<string, RoomPeer>();
  /** Others in each pair room this connection is in. */
  readonly #pairRooms = new Map<string, Map<string, RoomPeer>>();
  readonly closed: Promise<never>;
  #pingTimer: ReturnType<typeof setInterval>;
  #pongTimer: ReturnType<typeof setTimeout> | undefined;
  #ended = false;

  private constructor(socket: WebSocket, welcome: ServerMessageOf<'welcome'>, closed: Promise<never>) {
    this.#socket = socket;
    this.#welcome = welcome;
    this.closed = closed;
    closed.catch(() => {});
    socket.on('message', (data, binary) => {
      if (binary) return;
      const parsed = parseServerMessage(data.toString());
      if (parsed.ok) this.#onMessage(parsed.message);
    });
    this.#pingTimer = setInterval(() => {
      if (!this.send({ type: 'ping' })) return;
      clearTimeout(this.#pongTimer);
      this.#pongTimer = setTimeout(() => socket.terminate(), PONG_TIMEOUT_MS);
    }, PING_INTERVAL_MS);
    void closed.catch(() => this.#stopTimers());
  }

  /**
   * Connects to `server`'s /signal as `device` and says `hello`. `listed` false keeps this
   * connection out of its network room (nobody nearby sees a tile for it). Resolves once the
   * server's `welcome` arrived; rejects with NETWORK_ERROR (or the server's refusal).
   */
  static connect(server: string, device: DeviceIdentity, { listed = true } = {}): Promise<SignalClient> {
    const url = new URL(SIGNAL_PATH, server);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    if (!listed) url.search = UNLISTED_QUERY;
    const socket = new WebSocket(url);
    let lose!: (error: FerryError) => void;
    const closed = new Promise<never>((_, reject) => {
      lose = reject;
    });
    closed.catch(() => {});
    return new Promise<SignalClient>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.terminate();
        reject(new FerryError('NETWORK_ERROR', `${server} did not answer on ${SIGNAL_PATH}.`));
      }, WELCOME_TIMEOUT_MS);
      const first = (data: WebSocket.RawData) => {
        const parsed = parseServerMessage(data.toString());
        if (!parsed.ok) return;
        socket.off('message', first);
        clearTimeout(timer);
        if (parsed.message.type !== 'welcome') {
          socket.close();
          reject(
            parsed.message.type === 'error'
              ? new FerryError(parsed.message.code, parsed.message.message)
              : new FerryError('INVALID_MESSAGE', 'The server did not welcome this connection.'),
          );
          return;
        }
        const client = new SignalClient(socket, parsed.message, closed);
        client.send({ type: 'hello', deviceId: device.id, deviceName: device.name, frames: FRAME_VERSION_READ });
        resolve(client);
      };
      socket.on('message', first);
      socket.on('unexpected-response', (_request, response) => {
        clearTimeout(timer);
        const code = response.statusCode === 429 ? 'RATE_LIMITED' : 'NETWORK_ERROR';
        reject(new FerryError(code, `${server} refused the signaling connection (HTTP ${response.statusCode}).`));
      });
      socket.on('error', (error) => {
        clearTimeout(timer);
        const failure = new FerryError('NETWORK_ERROR', `${server} could not be reached (${error.message}).`, {
          cause: error,
        });
        reject(failure);
        lose(failure);
      });
      socket.on('close', (code) => {
        clearTimeout(timer);
        const failure = new FerryError('NETWORK_ERROR', `The connection to the server closed (${code}).`);
        reject(failure);
        lose(failure);
      });
    });
  }

  /** This connection's peer id and the server's generated name. */
  get self(): { peerId: string; name: string } {
    return { peerId: this.#welcome.peerId, name: this.#welcome.name };
  }
  get ice(): Pick<IceConfig, 'iceServers' | 'iceTransportPolicy'> {
    return { iceServers: this.#welcome.ice.iceServers, iceTransportPolicy: this.#welcome.ice.iceTransportPolicy };
  }
  /** Others on this network, in the order they came. */
  get nearby(): RoomPeer[] {
    return [...this.#network.values()];
  }
  /** Others in pair room `room`. */
  pairRoomPeers(room: string): RoomPeer[] {
    return [...(this.#pairRooms.get(room)?.values() ?? [])];
  }
  /** The pair room a peer shares with this connection, if any. */
  pairRoomOf(peerId: string): string | null {
    for (const [room, peers] of this.#pairRooms) if (peers.has(peerId)) return room;
    return null;
  }
  /** A peer in any room of this connection. */
  peer(peerId: string): RoomPeer | undefined {
    return this.#network.get(peerId) ?? [...this.#pairRooms.values()].find((p) => p.has(peerId))?.get(peerId);
  }

  /** Sends one message; false when the connection is gone. */
  send(message: ClientMessage): boolean {
    if (this.#socket.readyState !== WebSocket.OPEN) return false;
    if (message.type !== 'ping') debug(`signaling sent ${describe(message)}`);
    this.#socket.send(JSON.stringify(message));
    return true;
  }

  /** Subscribes to every server message (after the rooms are updated); returns the unsubscribe. */
  on(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * The next message of `type` that `accept` takes, within `timeoutMs`; rejects with the
   * server's `error` about `of` (when given), NETWORK_ERROR when the connection drops, or
   * `late` when the time passes.
   */
  next<T extends ServerMessage['type']>(
    type: T,
    { accept = () => true, of, timeoutMs, late }: NextOptions<T>,
  ): Promise<ServerMessageOf<T>> {
    return new Promise<ServerMessageOf<T>>((resolve, reject) => {
      const timer = timeoutMs === undefined ? undefined : setTimeout(() => finish(() => reject(late)), timeoutMs);
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        stop();
        settle();
      };
      const stop = this.on((message) => {
        if (message.type === type && accept(message as ServerMessageOf<T>)) {
          finish(() => resolve(message as ServerMessageOf<T>));
        } else if (message.type === 'error' && of && message.of === of) {
          finish(() => reject(new FerryError(message.code, message.message)));
        }
      });
      this.closed.catch((error: unknown) => finish(() => reject(error)));
    });
  }

  close(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#stopTimers();
    this.#socket.close(1000);
  }

  #stopTimers(): void {
    clearInterval(this.#pingTimer);
    clearTimeout(this.#pongTimer);
  }

  #onMessage(message: ServerMessage): void {
    if (message.type !== 'pong') debug(`signaling got ${describe(message)}`);
    switch (message.type) {
      case 'pong':
        clearTimeout(this.#pongTimer);
        break;
      case 'room':
        if (message.room === this.#welcome.network) this.#set(this.#network, message.peers);
        else if (message.kind === 'pair') this.#set(this.#room(message.room), message.peers);
        break;
      case 'paired':
        this.#set(this.#room(message.room), message.peers);
        break;
      case 'peer-joined':
      case 'peer-updated':
        this.#roomOf(message.room)?.set(message.peer.id, message.peer);
        break;
      case 'peer-left':
        this.#roomOf(message.room)?.delete(message.peerId);
        break;
      default:
        break;
    }
    for (const listener of [...this.#listeners]) listener(message);
  }

  #room(room: string): Map<string, RoomPeer> {
    const peers = this.#pairRooms.get(room) ?? new Map<string, RoomPeer>();
    this.#pairRooms.set(room, peers);
    return peers;
  }

  #roomOf(room: string): Map<string, RoomPeer> | undefined {
    return room === this.#welcome.network ? this.#network : this.#pairRooms.get(room);
  }

  #set(into: Map<string, RoomPeer>, peers: RoomPeer[]): void {
    into.clear();
    for (const peer of peers) into.set(peer.id, peer);
  }
}

export interface NextOptions<T extends ServerMessage['type']> {
  accept?: (message: ServerMessageOf<T>) => boolean;
  /** Also end on the server's `error` about a message of this type. */
  of?: ClientMessage['type'];
  timeoutMs?: number;
  late?: FerryError;
}

/** One message for FERRY_DEBUG: its type, and for a relay its ends, kind and signal type. */
function describe(message: ClientMessage | ServerMessage): string {
  if (message.type === 'relay') {
    const data = message.data as { type?: unknown };
    const ends = 'from' in message ? `from ${message.from}` : `to ${message.to}`;
    return `relay ${ends} ${message.kind} ${String(data.type)}`;
  }
  if (message.type === 'error') return `error ${message.code} of ${String(message.of)}: ${message.message}`;
  return message.type;
}
