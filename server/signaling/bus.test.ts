/**
 * Both buses against the SignalingBus conformance suite, and what only the Redis bus does:
 * peers attached to different nodes reach each other, and a dead node's peers are reaped.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../shared/signaling.ts';
import { openRedis } from '../redis.ts';
import { redisUrl } from '../test-engines/databases.ts';
import { newPeer, newRoom, signalingBusConformance } from './bus.conformance.ts';
import { MemorySignalingBus } from './bus.ts';
import { type BusOptions, RedisSignalingBus } from './redis-bus.ts';

/** A Redis bus on connections of its own, all closed by its `close`. */
async function openRedisBus(options: BusOptions = {}): Promise<RedisSignalingBus> {
  const redis = await openRedis(redisUrl());
  const subscriber = await openRedis(redisUrl());
  const bus = await RedisSignalingBus.open(redis, subscriber, options);
  const close = bus.close.bind(bus);
  bus.close = async () => {
    await close();
    redis.disconnect();
  };
  return bus;
}

/** Each bus gets its own key prefix, so room counts of one test are not another's. */
const ownPrefix = () => `ferry:test:${randomBytes(6).toString('hex')}:`;

signalingBusConformance('memory', async () => new MemorySignalingBus());
signalingBusConformance('redis', () => openRedisBus({ prefix: ownPrefix() }));

/** Resolves with the first message `inbox` receives that `match` accepts. */
function waitFor(inbox: ServerMessage[], match: (m: ServerMessage) => boolean, timeoutMs = 3000) {
  return expect
    .poll(() => inbox.find(match), { timeout: timeoutMs, interval: 10 })
    .toBeDefined()
    .then(() => inbox.find(match)!);
}

describe('RedisSignalingBus across nodes', () => {
  let open: RedisSignalingBus[] = [];
  afterEach(async () => {
    for (const b of open) await b.close();
    open = [];
  });
  const bus = async (options: BusOptions) => {
    const b = await openRedisBus(options);
    open.push(b);
    return b;
  };

  it('puts peers of two nodes in one room and delivers between them in order', async () => {
    const prefix = ownPrefix();
    const [one, two] = [await bus({ prefix }), await bus({ prefix })];
    const a = newPeer();
    const b = newPeer();
    const inboxA: ServerMessage[] = [];
    const inboxB: ServerMessage[] = [];
    await one.attach(a, (m) => inboxA.push(m));
    await two.attach(b, (m) => inboxB.push(m));
    const room = newRoom('network');
    expect(await one.join(room, a.id)).toBe('joined');
    expect(await two.join(room, b.id)).toBe('joined');
    expect((await one.members(room)).map((m) => m.id)).toEqual([a.id, b.id]);
    expect(await one.together(a.id, b.id)).toBe(true);

    const sent = Array.from({ length: 50 }, () => ({ type: 'peer-left' as const, room, peerId: newPeer().id }));
    for (const message of sent) expect(await one.publish(b.id, message)).toBe(true);
    await expect.poll(() => inboxB.length, { timeout: 3000, interval: 10 }).toBe(sent.length);
    expect(inboxB).toEqual(sent);
    expect(await two.publish(a.id, { type: 'pong' })).toBe(true);
    await waitFor(inboxA, (m) => m.type === 'pong');

    expect(await two.detach(b.id)).toEqual([room]);
    expect(await one.publish(b.id, { type: 'pong' })).toBe(false);
  });

  it('reaps the peers of a node whose presence expired, from every room', async () => {
    const prefix = ownPrefix();
    const alive = await bus({ prefix });
    // A node that loses Redis and never comes back: its presence expires after 300 ms.
    const redis = await openRedis(redisUrl());
    const subscriber = await openRedis(redisUrl());
    const dying = await RedisSignalingBus.open(redis, subscriber, { prefix, ttlMs: 300 });
    const a = newPeer();
    const gone = newPeer();
    await alive.attach(a, () => undefined);
    await dying.attach(gone, () => undefined);
    const [network, pair] = [newRoom('network'), newRoom('pair')];
    for (const room of [network, pair]) {
      await alive.join(room, a.id);
      await dying.join(room, gone.id);
    }
    expect(await alive.reap()).toEqual([]);
    redis.disconnect();
    subscriber.disconnect();
    await dying.close(); // its timer; nothing reaches Redis any more
    await sleep(400);
    const reaped = await alive.reap();
    expect(reaped.map((r) => r.peerId)).toEqual([gone.id]);
    expect(reaped[0]!.rooms.sort()).toEqual([network, pair].sort());
    expect((await alive.members(pair)).map((m) => m.id)).toEqual([a.id]);
    expect(await alive.publish(gone.id, { type: 'pong' })).toBe(false);
    expect(await alive.reap()).toEqual([]);
  });

  it('tells a node whose presence was forgotten, and it announces itself again', async () => {
    const prefix = ownPrefix();
    const node = await bus({ prefix, ttlMs: 300 });
    let lost = 0;
    node.onLost(() => {
      lost++;
    });
    // What a Redis restarted empty looks like to the node: its keys are gone.
    const admin = await openRedis(redisUrl());
    try {
      await admin.del(`${prefix}node:${node.node}`);
      await expect.poll(() => lost, { timeout: 2000, interval: 20 }).toBe(1);
      expect(await admin.exists(`${prefix}node:${node.node}`)).toBe(1);
    } finally {
      admin.disconnect();
    }
  });
});
