/**
 * What the nodes must agree on besides records and bytes: who is in which signaling room
 * and how to reach them, pairing codes, the network-room salt, who sweeps, rate limits, connection counts. In this process's memory by default (one node), or in one Redis
 * when FERRY_REDIS_URL is set (any number of nodes). Like records.ts, both give the same
 * interfaces and nothing else in the server knows which it has.
 */
import type { Redis } from 'ioredis';
import { type BucketsFactory, memoryBuckets } from './buckets.ts';
import type { FerryConfig } from './config.ts';
import { type ConnectionCounts, MemoryConnectionCounts, RedisConnectionCounts } from './connection-counts.ts';
import { guard, openRedis } from './redis.ts';
import { redisBuckets } from './redis-buckets.ts';
import { MemorySignalingBus, type SignalingBus } from './signaling/bus.ts';
import { newNetworkSalt } from './signaling/client-address.ts';
import { type PairingCodeStore, PairingCodes } from './signaling/pairing.ts';
import { RedisSignalingBus } from './signaling/redis-bus.ts';
import { RedisPairingCodes } from './signaling/redis-pairing.ts';
import { RedisSweepLease, SOLE_LEASE, type SweepLease } from './sweep-lease.ts';

export interface Coordination {
  bus: SignalingBus;
  /** Pairing codes: made on one node, entered on any. */
  pairing: PairingCodeStore;
  /** Who sweeps: one node at a time. */
  sweepLease: SweepLease;
  /** Rate limits (share creation, tickets, pairing codes): one budget for all nodes. */
  buckets: BucketsFactory;
  /** Signaling connections per network: one cap for all nodes. */
  signalConnections: ConnectionCounts;
  /** HTTP connections per address (FERRY_MAX_CONNECTIONS_PER_IP): one cap for all nodes. */
  httpConnections: ConnectionCounts;
  /** The salt of network room ids: one for all nodes, so one network's devices meet. */
  networkSalt(): Buffer;
  /** The Redis connection, for the tus upload locks; none in memory. */
  redis?: Redis;
  /** The engine, for /ready: undefined when there is none (memory). */
  engine?: { check(): Promise<void> };
  close(): Promise<void>;
}

/**
 * Opens the coordination of `config`. With a Redis URL, an unreachable server rejects with
 * ENGINE_UNAVAILABLE and a sentence naming it (start-up stops there).
 */
const SALT_KEY = 'ferry:network-salt';

/** The salt stored in Redis, storing `offer` first when there is none. */
async function sharedSalt(redis: Redis, offer: Buffer): Promise<Buffer> {
  const [, [, stored]] = (await guard(() =>
    redis.multi().set(SALT_KEY, offer.toString('hex'), 'NX').get(SALT_KEY).exec(),
  )) as [unknown, [unknown, string]];
  return Buffer.from(stored, 'hex');
}

export async function openCoordination(config: Pick<FerryConfig, 'redisUrl' | 'logger'>): Promise<Coordination> {
  if (!config.redisUrl) {
    const bus = new MemorySignalingBus();
    const salt = newNetworkSalt();
    return {
      bus,
      pairing: new PairingCodes(),
      sweepLease: SOLE_LEASE,
      buckets: memoryBuckets,
      signalConnections: new MemoryConnectionCounts(),
      httpConnections: new MemoryConnectionCounts(),
      networkSalt: () => salt,
      close: () => bus.close(),
    };
  }
  const { logger } = config;
  const redis = await openRedis(config.redisUrl, logger);
  let subscriber: Redis | undefined;
  try {
    subscriber = await openRedis(config.redisUrl, logger, 'signaling delivery');
    const bus = await RedisSignalingBus.open(redis, subscriber, { logger });
    let salt = await sharedSalt(redis, newNetworkSalt());
    // Redis came back empty: this node offers the salt it had (all nodes had the same one) and
    // takes whatever is stored first, so all nodes agree again.
    bus.onLost(() => {
      sharedSalt(redis, salt).then(
        (stored) => {
          salt = stored;
        },
        (error: unknown) => logger.warn({ err: error }, 'signaling: network salt not restored'),
      );
    });
    return {
      bus,
      redis,
      pairing: new RedisPairingCodes(redis),
      sweepLease: new RedisSweepLease(redis, bus.node),
      buckets: redisBuckets(redis),
      signalConnections: new RedisConnectionCounts(redis, {
        prefix: 'ferry:conn:signal:',
        node: bus.node,
        presence: bus.presencePrefix,
      }),
      httpConnections: new RedisConnectionCounts(redis, {
        prefix: 'ferry:conn:http:',
        node: bus.node,
        presence: bus.presencePrefix,
        whenAway: 'count-here',
      }),
      networkSalt: () => salt,
      engine: {
        check: async () => {
          await guard(() => redis.set('ferry:ready', '1', 'PX', 10_000));
        },
      },
      async close() {
        await bus.close();
        redis.disconnect();
      },
    };
  } catch (error) {
    subscriber?.disconnect();
    redis.disconnect();
    throw error;
  }
}
