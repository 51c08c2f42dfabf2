/**
 * Signaling over WebSocket at /signal on Ferry's http.Server (ws in `noServer` mode on the
 * server's 'upgrade' event; every other upgrade path is answered 404 and closed).
 *
 * Per connection: a peer id and generated name, the network room of its public address,
 * a token bucket against floods (over it: RATE_LIMITED answers, then close 1008), a
 * keep-alive ping every `heartbeatMs` (a peer that has not answered the previous ping is
 * cut), and frames of at most MAX_SIGNAL_MESSAGE_BYTES (ws closes with 1009 beyond that
 * before buffering more). Messages of one connection are handled one at a time, in order.
 */
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { type ErrorCode, FerryError } from '../../shared/errors.ts';
import {
  CLOSE_CODES,
  MAX_SIGNAL_MESSAGE_BYTES,
  namedType,
  type RoomKind,
  type ServerMessage,
  SIGNAL_PATH,
  UNLISTED_QUERY,
} from '../../shared/signaling.ts';
import { type BucketsFactory, memoryBuckets } from '../buckets.ts';
import type { FerryConfig } from '../config.ts';
import { type ConnectionCounts, MemoryConnectionCounts } from '../connection-counts.ts';
import { engineDown } from '../engine-down.ts';
import { logRequest } from '../http/request-log.ts';
import type { ShareStore } from '../shares/store.ts';
import { MemorySignalingBus, roomKind, type SignalingBus } from './bus.ts';
import { clientAddress, networkKey, networkRoomId, newNetworkSalt, trustedProxyList } from './client-address.ts';
import {
  PAIR_CREATES_PER_WINDOW,
  PAIR_LIMIT_WINDOW_MS,
  PAIR_WRONG_GUESSES_GLOBAL_PER_WINDOW,
  PAIR_WRONG_GUESSES_PER_WINDOW,
  type SignalingContext,
} from './context.ts';
import { dispatch, frameText } from './dispatch.ts';
import { iceConfig } from './ice.ts';
import { MemoryPairMailbox, type PairMailbox } from './mailbox.ts';
import { MemoryPairRoomStore, type PairingCodeStore, PairingCodes, type PairRoomStore } from './pairing.ts';
import { Peer } from './peer.ts';
import { announceLeft, enterRoom } from './room-events.ts';
import { closeShareRoomIfDead } from './share-rooms.ts';

/** Over-limit messages in a row answered with RATE_LIMITED before the connection is closed. */
export const FLOOD_STRIKES = 20;
/** How long closing waits for peers to answer the close handshake before cutting them. */
const CLOSE_GRACE_MS = 1000;

export interface Signaling {
  /** Open signaling connections. */
  readonly connections: number;
  /** Rooms with members, by kind. */
  roomCounts(): Promise<Record<RoomKind, number>>;
  /**
   * Empties the share rooms of this process's peers whose share is no longer live (after a
   * revoke; expiry is also caught on every keep-alive tick). See share-rooms.ts.
   */
  closeDeadShareRooms(): Promise<void>;
  /** Says goodbye (1001) to every peer and stops the keep-alive timer. */
  close(): Promise<void>;
}

export interface SignalingDeps {
  config: FerryConfig;
  shares: ShareStore;
  bus?: SignalingBus;
  pairing?: PairingCodeStore;
  /** The salt of network room ids now (coordination.ts); a new one per process by default. */
  networkSalt?: () => Buffer;
  pairRooms?: PairRoomStore;
  mailbox?: PairMailbox;
  /** Where pairing limits count (coordination.ts); this process's memory by default. */
  buckets?: BucketsFactory;
  /** Where connections per network count (coordination.ts); this process's memory by default. */
  connections?: ConnectionCounts;
  observer?: SignalingObserver;
}

/** What signaling reports for /metrics: every refusal by code, and relayed messages. */
export interface SignalingObserver {
  refused(code: ErrorCode): void;
  relayed(): void;
}

/** Attaches /signal to `server`. */
export function attachSignaling(server: http.Server, deps: SignalingDeps): Signaling {
  const { config, shares } = deps;
  const { logger } = config;
  const observer = {
    logger,
    refused: deps.observer?.refused ?? (() => undefined),
    relayed: deps.observer?.relayed ?? (() => undefined),
  };
  const limits = config.signaling;
  const bus = deps.bus ?? new MemorySignalingBus();
  const ownSalt = newNetworkSalt();
  const networkSalt = deps.networkSalt ?? (() => ownSalt);
  const pairRooms = deps.pairRooms ?? new MemoryPairRoomStore();
  const mailbox = deps.mailbox ?? new MemoryPairMailbox();
  const pairing = deps.pairing ?? new PairingCodes();
  const buckets = deps.buckets ?? memoryBuckets;
  /** `count` per PAIR_LIMIT_WINDOW_MS, all of them available at once. */
  const perWindow = (name: string, count: number) => buckets(name, count, count / PAIR_LIMIT_WINDOW_MS);
  const pairLimits = {
    pairCreate: perWindow('pair-create', PAIR_CREATES_PER_WINDOW),
    pairWrongGuess: perWindow('pair-wrong-guess', PAIR_WRONG_GUESSES_PER_WINDOW),
    pairWrongGuessGlobal: perWindow('pair-wrong-guess-global', PAIR_WRONG_GUESSES_GLOBAL_PER_WINDOW),
  };
  const trusted = trustedProxyList(config.trustedProxies);
  const connections = deps.connections ?? new MemoryConnectionCounts();
  const sockets = new Map<WebSocket, Peer>();
  const farewells = new Set<Promise<void>>();
  /** Peers whose farewell failed (their engine was away). */
  const unfinished = new Set<Peer>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_SIGNAL_MESSAGE_BYTES, perMessageDeflate: false });
  if (config.ice.turnUrls.length > 0 && !config.ice.turnSecret) {
    logger.warn('signaling: FERRY_TURN_URLS is set without FERRY_TURN_SECRET, so TURN is left out.');
  }
  if (config.ice.transportPolicy === 'relay' && (config.ice.turnUrls.length === 0 || !config.ice.turnSecret)) {
    logger.warn(
      'signaling: FERRY_ICE_TRANSPORT_POLICY is relay but no TURN is configured, so browsers cannot connect.',
    );
  }

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    // One request-log line per upgrade, written when the connection ends (its whole life).
    const line = { id: randomUUID(), route: null as string | null, status: 101, started: performance.now() };
    socket.once('close', () => {
      const counted = socket as Partial<Socket>;
      logRequest(config, req, {
        ...line,
        aborted: false,
        bytesIn: counted.bytesRead ?? 0,
        bytesOut: counted.bytesWritten ?? 0,
      });
    });
    const refuse = (status: number, code: ErrorCode, message: string) => {
      line.status = status;
      observer.refused(code);
      refuseUpgrade(socket, status, code, message);
    };
    if (pathOf(req.url) !== SIGNAL_PATH) return refuse(404, 'NOT_FOUND', 'There is nothing at this address.');
    line.route = SIGNAL_PATH;
    if (!sameOrigin(req)) return refuse(403, 'FORBIDDEN', 'Signaling is only for pages of this server.');
    const address = clientAddress(req, trusted);
    const network = networkKey(address);
    const listed = queryOf(req.url) !== UNLISTED_QUERY;
    connections.open(network, limits.maxConnectionsPerIp).then(
      (counted) => {
        if (!counted) return refuse(429, 'RATE_LIMITED', 'Too many signaling connections from this network.');
        // Counted for the socket's whole life, whether or not the upgrade completes.
        socket.once('close', () => connections.close(network));
        if (socket.destroyed) return;
        wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, address, network, listed));
      },
      (error: unknown) => {
        // As when the bus is away (fatal): the socket hears why over the WebSocket and
        // closes with 1013, so the page retries later.
        const down = engineDown(error);
        observer.refused(down.code);
        if (socket.destroyed) return;
        wss.handleUpgrade(req, socket, head, (ws) => {
          const refusal: ServerMessage = { type: 'error', code: down.code, message: down.message };
          ws.send(JSON.stringify(refusal));
          ws.close(CLOSE_CODES.TRY_AGAIN_LATER, 'Try again later');
        });
      },
    );
  });

  /** `listed`: the peer goes into its network room (see UNLISTED_QUERY). */
  function onConnection(ws: WebSocket, address: string, network: string, listed: boolean): void {
    const peer = new Peer(
      ws,
      { address, network, networkRoom: networkRoomId(network, networkSalt()) },
      { burst: limits.messageBurst, perSecond: limits.messagesPerSecond },
      performance.now(),
      observer.refused,
    );
    sockets.set(ws, peer);
    const ctx: SignalingContext = {
      peer,
      bus,
      shares,
      pairing,
      pairRooms,
      mailbox,
      limits: pairLimits,
      now: config.now,
    };
    // Handling is serialised per connection; `queue` is the tail of that chain.
    let queue = greet(peer, listed).catch((error) => fatal(ws, error));

    ws.on('pong', () => {
      peer.alive = true;
    });
    ws.on('message', (data, isBinary) => {
      if (peer.cut) return;
      peer.alive = true;
      // The flood limit runs on arrival, on a monotonic clock, so at most a burst plus
      // FLOOD_STRIKES answers are ever queued; the answers and the close keep their order
      // behind the messages already accepted.
      if (!peer.bucket.take(performance.now())) {
        peer.strikes += 1;
        peer.cut = peer.strikes > FLOOD_STRIKES;
        // The refusal names the refused message's type (at most FLOOD_STRIKES parses before
        // the close), so a page waiting for that message's answer hears why it never comes.
        const of = peer.cut || isBinary ? undefined : namedType(frameText(data));
        const answer = peer.cut
          ? () => peer.close(CLOSE_CODES.POLICY_VIOLATION, 'Too many messages')
          : () => peer.fail('RATE_LIMITED', 'Too many messages; slow down or the connection will be closed.', of);
        queue = queue.then(answer);
        return;
      }
      peer.strikes = 0;
      queue = queue.then(() => dispatch(ctx, data, isBinary, observer)).catch((error) => fatal(ws, error));
    });
    ws.on('error', () => undefined); // 1007/1009 and socket errors: ws closes the connection itself
    ws.on('close', () => {
      sockets.delete(ws);
      queue = queue
        .then(() => pairing.drop(peer.id))
        .then(() => farewell(peer))
        .catch((error) => {
          // Tried again on each keep-alive tick: an engine that was away must not keep the peer in rooms.
          unfinished.add(peer);
          logger.error({ err: error }, 'signaling: farewell failed');
        });
      // Closing waits for it: on a shared bus, the other nodes' peers must see this one leave.
      const done = queue.finally(() => farewells.delete(done));
      farewells.add(done);
    });
  }

  async function greet(peer: Peer, listed: boolean): Promise<void> {
    await bus.attach(peer.record(), (message) => peer.send(message));
    peer.send({
      type: 'welcome',
      peerId: peer.id,
      name: peer.name,
      network: peer.networkRoom,
      ice: iceConfig(config.ice, config.now(), peer.id),
    });
    if (listed) await enterRoom(bus, peer.networkRoom, peer.id);
  }

  async function farewell(peer: Peer): Promise<void> {
    for (const room of await bus.detach(peer.id)) await announceLeft(bus, room, peer.id);
  }

  /** A connection that cannot go on: told why when an engine is away (it may come back), cut otherwise. */
  function fatal(ws: WebSocket, error: unknown): void {
    const peer = sockets.get(ws);
    if (peer && error instanceof FerryError && error.code === 'ENGINE_UNAVAILABLE') {
      peer.fail(error.code, error.message);
      peer.close(CLOSE_CODES.TRY_AGAIN_LATER, 'Try again later');
      return;
    }
    logger.error({ err: error }, 'signaling: connection failed');
    ws.terminate();
  }

  // The shared state forgot this node's peers (Redis came back empty): they reconnect and rejoin.
  bus.onLost(() => {
    for (const ws of sockets.keys()) ws.close(CLOSE_CODES.GOING_AWAY, 'Signaling state was lost; reconnect');
  });

  /** Peers of nodes that died without saying goodbye leave their rooms (redis-bus.ts); so do this node's own whose farewell failed. */
  async function reapDeadNodes(): Promise<void> {
    for (const peer of unfinished) {
      await farewell(peer);
      unfinished.delete(peer);
    }
    for (const { peerId, rooms } of await bus.reap()) {
      for (const room of rooms) await announceLeft(bus, room, peerId);
    }
  }

  const heartbeat = setInterval(() => {
    for (const [ws, peer] of sockets) {
      if (!peer.alive) {
        ws.terminate();
        continue;
      }
      peer.alive = false;
      ws.ping();
    }
    mailbox.sweep(config.now()).catch((error) => logger.error({ err: error }, 'signaling: mailbox sweep failed'));
    pairRooms.sweep(config.now()).catch((error) => logger.error({ err: error }, 'signaling: pair room sweep failed'));
    closeDeadShareRooms().catch((error) => logger.error({ err: error }, 'signaling: share room check failed'));
    reapDeadNodes().catch((error) => logger.error({ err: error }, 'signaling: reaping dead nodes failed'));
    connections.flush().catch((error) => logger.warn({ err: error }, 'signaling: connection counts not written'));
  }, limits.heartbeatMs);
  heartbeat.unref();

  async function closeDeadShareRooms(): Promise<void> {
    const rooms = new Set<string>();
    for (const peer of sockets.values()) {
      for (const room of await bus.roomsOf(peer.id)) if (roomKind(room) === 'share') rooms.add(room);
    }
    for (const room of rooms) await closeShareRoomIfDead(bus, shares, room, config.now());
  }

  return {
    get connections() {
      return sockets.size;
    },
    roomCounts: () => bus.roomCounts(),
    closeDeadShareRooms,
    async close() {
      clearInterval(heartbeat);
      const closed = [...sockets.keys()].map((ws) => new Promise<void>((resolve) => ws.once('close', () => resolve())));
      for (const ws of sockets.keys()) ws.close(CLOSE_CODES.GOING_AWAY, 'Server shutting down');
      await Promise.race([Promise.all(closed), new Promise((resolve) => setTimeout(resolve, CLOSE_GRACE_MS))]);
      for (const ws of sockets.keys()) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await Promise.all(farewells);
    },
  };
}

/** The query of a request target, without its `?`; '' when there is none or it is malformed. */
function queryOf(url: string | undefined): string {
  try {
    return new URL(`http://localhost${url ?? '/'}`).search.slice(1);
  } catch {
    return '';
  }
}

function pathOf(url: string | undefined): string | undefined {
  if (!url?.startsWith('/')) return undefined;
  try {
    return new URL(`http://localhost${url}`).pathname;
  } catch {
    return undefined;
  }
}

/**
 * Browsers send Origin with every WebSocket handshake and apply no same-origin rule to
 * WebSockets, so without this check any web page could join its visitor's network room.
 * A handshake without Origin is not from a browser page and is let through.
 */
function sameOrigin(req: http.IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/** Answers an upgrade request with an HTTP error in the API's error shape, then closes. */
function refuseUpgrade(socket: Duplex, status: number, code: ErrorCode, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : status === 403 ? 'Forbidden' : 'Too Many Requests'}\r\n` +
      'Connection: close\r\nContent-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
