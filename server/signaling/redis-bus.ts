/**
 * The SignalingBus of several server processes (nodes) on one Redis: membership lives in
 * Redis, and a message for a peer attached to another node goes over pub/sub to that node's
 * channel, which hands it to the peer's socket. Peers on different nodes therefore meet in
 * network, pair and share rooms and relay to each other exactly as on one node.
 *
 * Keys (all under `ferry:sig:` unless a test gives another prefix): `peer:<id>` the peer's record and node; `rooms:<id>` the
 * rooms of a peer; `room:<room>` a hash peer → "<join order>|<role>"; `live:<kind>` the
 * rooms of a kind that have members; `nodepeers:<node>` the peers attached to a node;
 * `nodes` the nodes; `node:<node>` a node's presence, which expires NODE_TTL_MS after the
 * node last renewed it. Joins, leaves and detaches are Lua scripts, so each is atomic and
 * the room caps hold across nodes.
 *
 * A node that dies leaves its peers in rooms; every other node, on its keep-alive tick,
 * finds nodes without presence and detaches their peers (`reap`), so the rooms' members see
 * them leave. A node that finds its own presence gone (Redis restarted empty, or it was cut
 * off longer than the expiry and reaped) tells its listeners, which close its connections:
 * the peers reconnect and join again.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RoomKind, ServerMessage, ShareRole } from '../../shared/signaling.ts';
import { parseServerMessage } from '../../shared/signaling.ts';
import type { Logger } from '../log.ts';
import { guard, RedisScript } from '../redis.ts';
import { type Deliver, type PeerRecord, type ReapedPeer, type RoomMember, roomKind, type SignalingBus } from './bus.ts';
import { type JoinResult, MAX_ROOM_MEMBERS, MAX_ROOMS_PER_PEER } from './rooms.ts';

/** A node's presence lasts this long after its last renewal. */
export const NODE_TTL_MS = 15_000;
/** Network rooms have no member cap (one NAT, many devices). */
const UNCAPPED = 1_000_000_000;

/** Shared by the join, leave and detach scripts: takes `peer` out of `room`. */
const LEAVE_FN = `
local function leave(P, room, peer)
  local rk = P .. 'room:' .. room
  if redis.call('HDEL', rk, peer) == 0 then return 0 end
  redis.call('SREM', P .. 'rooms:' .. peer, room)
  if redis.call('EXISTS', rk) == 0 then
    redis.call('SREM', P .. 'live:' .. string.match(room, '^([^:]*)'), room)
  end
  return 1
end
`;

/** ARGV: prefix, room, peer, role ('' for none), max members, max rooms per peer. */
const JOIN = new RedisScript(`
local P, room, peer, role = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if redis.call('EXISTS', P .. 'peer:' .. peer) == 0 then return 'unknown-peer' end
local rk = P .. 'room:' .. room
local current = redis.call('HGET', rk, peer)
if current then
  redis.call('HSET', rk, peer, string.match(current, '^(%d+)') .. '|' .. role)
  return 'already'
end
if redis.call('HLEN', rk) >= tonumber(ARGV[5]) then return 'room-full' end
local mine = P .. 'rooms:' .. peer
if redis.call('SCARD', mine) >= tonumber(ARGV[6]) then return 'too-many-rooms' end
redis.call('HSET', rk, peer, redis.call('INCR', P .. 'seq') .. '|' .. role)
redis.call('SADD', mine, room)
redis.call('SADD', P .. 'live:' .. string.match(room, '^([^:]*)'), room)
return 'joined'
`);

/** ARGV: prefix, room, peer. */
const LEAVE = new RedisScript(`${LEAVE_FN}
return leave(ARGV[1], ARGV[2], ARGV[3])
`);

/** ARGV: prefix, peer, node. Answers the rooms the peer was in. */
const DETACH = new RedisScript(`${LEAVE_FN}
local P, peer = ARGV[1], ARGV[2]
local rooms = redis.call('SMEMBERS', P .. 'rooms:' .. peer)
for _, room in ipairs(rooms) do leave(P, room, peer) end
redis.call('DEL', P .. 'rooms:' .. peer, P .. 'peer:' .. peer)
redis.call('SREM', P .. 'nodepeers:' .. ARGV[3], peer)
return rooms
`);

export interface BusOptions {
  /** How long this node's presence outlives its last renewal (NODE_TTL_MS). */
  ttlMs?: number;
  logger?: Logger;
  /** Key and channel prefix: tests give each set of nodes its own. */
  prefix?: string;
}

interface StoredPeer {
  node: string;
  record: PeerRecord;
}

export class RedisSignalingBus implements SignalingBus {
  /** This process's id among the nodes. */
  readonly node = randomUUID();
  readonly #redis: Redis;
  /** A second connection: one in subscriber mode can send nothing else. */
  readonly #subscriber: Redis;
  readonly #local = new Map<string, Deliver>();
  readonly #lost: Array<() => void> = [];
  readonly #logger: Logger | undefined;
  readonly #ttlMs: number;
  /** Key prefix. */
  readonly #p: string;
  #timer: NodeJS.Timeout | undefined;

  private constructor(redis: Redis, subscriber: Redis, options: BusOptions) {
    this.#redis = redis;
    this.#p = options.prefix ?? 'ferry:sig:';
    this.#ttlMs = options.ttlMs ?? NODE_TTL_MS;
    this.#logger = options.logger;
    this.#subscriber = subscriber;
  }

  /**
   * A bus on `redis` (whose connection stays the caller's); `subscriber` is a connection of
   * its own, closed by `close`. `ttlMs`: how long this node's presence outlives it.
   */
  static async open(redis: Redis, subscriber: Redis, options: BusOptions = {}): Promise<RedisSignalingBus> {
    const bus = new RedisSignalingBus(redis, subscriber, options);
    subscriber.on('messageBuffer', (_channel: Buffer, payload: Buffer) => bus.#arrived(payload.toString('utf8')));
    await guard(() => subscriber.subscribe(bus.#channel(bus.node)));
    await bus.#announce();
    bus.#timer = setInterval(() => {
      bus.#renew().catch((error: unknown) => bus.#logger?.warn({ err: error }, 'signaling: presence not renewed'));
    }, bus.#ttlMs / 3);
    bus.#timer.unref();
    return bus;
  }

  /** The prefix of nodes' presence keys (`<prefix>` + node id), for what counts per node. */
  get presencePrefix(): string {
    return `${this.#p}node:`;
  }

  #channel(node: string): string {
    return `${this.#p}to:${node}`;
  }

  /** A message from another node: "<peer id>\n<server message>", checked like any input. */
  #arrived(payload: string): void {
    const cut = payload.indexOf('\n');
    const deliver = this.#local.get(payload.slice(0, cut));
    if (!deliver) return;
    const parsed = parseServerMessage(payload.slice(cut + 1));
    if (parsed.ok) deliver(parsed.message);
    else this.#logger?.warn({ error: parsed.error }, 'signaling: a message from another node did not parse');
  }

  async #announce(): Promise<void> {
    await guard(() =>
      this.#redis
        .multi()
        .sadd(`${this.#p}nodes`, this.node)
        .set(`${this.#p}node:${this.node}`, '1', 'PX', this.#ttlMs)
        .exec(),
    );
  }

  /** Renews this node's presence; when it was gone, this node's peers were forgotten. */
  async #renew(): Promise<void> {
    const kept = await guard(() => this.#redis.set(`${this.#p}node:${this.node}`, '1', 'PX', this.#ttlMs, 'XX'));
    if (kept === 'OK') return;
    this.#logger?.warn('signaling: this node was forgotten by Redis; its connections are closed so they rejoin');
    await this.#announce();
    for (const listener of this.#lost) listener();
  }

  async attach(peer: PeerRecord, deliver: Deliver): Promise<void> {
    const stored: StoredPeer = { node: this.node, record: peer };
    await guard(() =>
      this.#redis
        .multi()
        .set(`${this.#p}peer:${peer.id}`, JSON.stringify(stored))
        .sadd(`${this.#p}nodepeers:${this.node}`, peer.id)
        .exec(),
    );
    this.#local.set(peer.id, deliver);
  }

  async update(peer: PeerRecord): Promise<void> {
    const stored: StoredPeer = { node: this.node, record: peer };
    await guard(() => this.#redis.set(`${this.#p}peer:${peer.id}`, JSON.stringify(stored), 'XX'));
  }

  async detach(peerId: string): Promise<string[]> {
    this.#local.delete(peerId);
    return (await DETACH.run(this.#redis, [this.#p, peerId, this.node])) as string[];
  }

  async join(room: string, peerId: string, role?: ShareRole): Promise<JoinResult | 'unknown-peer'> {
    const max = roomKind(room) === 'network' ? UNCAPPED : MAX_ROOM_MEMBERS;
    return (await JOIN.run(this.#redis, [this.#p, room, peerId, role ?? '', max, MAX_ROOMS_PER_PEER])) as
      | JoinResult
      | 'unknown-peer';
  }

  async leave(room: string, peerId: string): Promise<boolean> {
    return (await LEAVE.run(this.#redis, [this.#p, room, peerId])) === 1;
  }

  async members(room: string): Promise<RoomMember[]> {
    const entries = Object.entries(await guard(() => this.#redis.hgetall(`${this.#p}room:${room}`)))
      .map(([id, value]) => {
        const bar = value.indexOf('|');
        return { id, order: Number(value.slice(0, bar)), role: value.slice(bar + 1) as ShareRole | '' };
      })
      .sort((a, b) => a.order - b.order);
    if (entries.length === 0) return [];
    const stored = await guard(() => this.#redis.mget(entries.map((e) => `${this.#p}peer:${e.id}`)));
    const members: RoomMember[] = [];
    entries.forEach((entry, i) => {
      const text = stored[i];
      if (!text) return;
      const { record } = JSON.parse(text) as StoredPeer;
      members.push({ ...record, ...(entry.role && { role: entry.role }) });
    });
    return members;
  }

  async roomsOf(peerId: string): Promise<string[]> {
    return guard(() => this.#redis.smembers(`${this.#p}rooms:${peerId}`));
  }

  async together(a: string, b: string): Promise<boolean> {
    return (await guard(() => this.#redis.sinter(`${this.#p}rooms:${a}`, `${this.#p}rooms:${b}`))).length > 0;
  }

  async publish(peerId: string, message: ServerMessage): Promise<boolean> {
    const deliver = this.#local.get(peerId);
    if (deliver) {
      deliver(message);
      return true;
    }
    const text = await guard(() => this.#redis.get(`${this.#p}peer:${peerId}`));
    if (!text) return false;
    const { node } = JSON.parse(text) as StoredPeer;
    const payload = `${peerId}\n${JSON.stringify(message)}`;
    return (await guard(() => this.#redis.publish(this.#channel(node), payload))) > 0;
  }

  async roomCounts(): Promise<Record<RoomKind, number>> {
    const kinds: RoomKind[] = ['network', 'pair', 'share'];
    const counts = await guard(() => Promise.all(kinds.map((kind) => this.#redis.scard(`${this.#p}live:${kind}`))));
    return { network: counts[0]!, pair: counts[1]!, share: counts[2]! };
  }

  async reap(): Promise<ReapedPeer[]> {
    const reaped: ReapedPeer[] = [];
    for (const node of await guard(() => this.#redis.smembers(`${this.#p}nodes`))) {
      if (node === this.node || (await guard(() => this.#redis.exists(`${this.#p}node:${node}`))) === 1) continue;
      for (const peerId of await guard(() => this.#redis.smembers(`${this.#p}nodepeers:${node}`))) {
        // Atomic: when two nodes reap at once, each peer's rooms come back to one of them.
        const rooms = (await DETACH.run(this.#redis, [this.#p, peerId, node])) as string[];
        reaped.push({ peerId, rooms });
      }
      await guard(() => this.#redis.srem(`${this.#p}nodes`, node));
    }
    return reaped;
  }

  onLost(listener: () => void): void {
    this.#lost.push(listener);
  }

  /**
   * Leaves the nodes and ends the subscriber connection. Peers still attached (a farewell
   * that could not run) stay for the other nodes to reap once this presence is gone.
   */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    const leaving = this.#redis.multi().del(`${this.#p}node:${this.node}`);
    if (this.#local.size === 0) leaving.srem(`${this.#p}nodes`, this.node).del(`${this.#p}nodepeers:${this.node}`);
    await guard(() => leaving.exec()).catch(() => undefined);
    this.#subscriber.disconnect();
  }
}
