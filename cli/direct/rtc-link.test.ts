import { afterEach, describe, expect, it } from 'vitest';
import type { FerryError } from '../../shared/errors.ts';
import type { ControlMessage } from '../../shared/p2p/frames.ts';
import { Handshake, type HandshakePlan } from '../../shared/p2p/handshake.ts';
import { RtcLink } from './rtc-link.ts';
import { loadWerift } from './werift.ts';

function resolvers() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Two real werift peers on this machine, their signals passed as the server's relay would (JSON). */
function pair() {
  const got = { a: [] as ControlMessage[], b: [] as ControlMessage[] };
  const binary: Uint8Array[] = [];
  const closed: (FerryError | null)[] = [];
  let onControl: (side: 'a' | 'b', message: ControlMessage) => void = () => {};
  const opened = { a: resolvers(), b: resolvers() };
  const a: RtcLink = new RtcLink(
    true,
    { iceServers: [], iceTransportPolicy: 'all' },
    {
      signal: (data) => b.signal(JSON.parse(JSON.stringify(data))),
      connect: () => opened.a.resolve(),
      control: (message) => {
        got.a.push(message);
        onControl('a', message);
      },
      binary: () => {},
      close: (error) => closed.push(error),
    },
  );
  const b: RtcLink = new RtcLink(
    false,
    { iceServers: [], iceTransportPolicy: 'all' },
    {
      signal: (data) => a.signal(JSON.parse(JSON.stringify(data))),
      connect: () => opened.b.resolve(),
      control: (message) => {
        got.b.push(message);
        onControl('b', message);
      },
      binary: (bytes) => binary.push(bytes),
      close: (error) => closed.push(error),
    },
  );
  return {
    a,
    b,
    got,
    binary,
    closed,
    opened: Promise.all([opened.a.promise, opened.b.promise]),
    route: (fn: typeof onControl) => {
      onControl = fn;
    },
  };
}

/** Runs the app's Handshake on both ends, wiring the authentication messages to it. */
function authenticate(link: ReturnType<typeof pair>, plans: { a: HandshakePlan; b: HandshakePlan }) {
  const auth = { a: new Handshake(link.a, plans.a), b: new Handshake(link.b, plans.b) };
  link.route((side, message) => {
    if (message.type === 'auth') void auth[side].onAuth(message.mac).catch(() => {});
    if (message.type === 'code-commit' || message.type === 'code-nonce')
      void auth[side].onCode(message).catch(() => {});
  });
  return { auth, done: Promise.all([auth.a.onConnect(), auth.b.onConnect()]) };
}

describe('RtcLink (werift)', () => {
  const links: RtcLink[] = [];
  afterEach(() => {
    for (const link of links.splice(0)) link.destroy();
  });

  it('connects two peers, carries control and record frames in order, and closes', async () => {
    const link = pair();
    links.push(link.a, link.b);
    await link.opened;
    expect(link.a.descriptions?.local).toContain('a=fingerprint:');
    link.a.sendControl({ type: 'text', text: 'hello' });
    const frames = [1, 2, 3].map((n) => new Uint8Array(200_000).fill(n));
    for (const frame of frames) await link.a.sendFrame(frame);
    await expect.poll(() => link.binary.length, { timeout: 20_000 }).toBe(3);
    expect(link.got.b).toEqual([{ type: 'text', text: 'hello' }]);
    expect(link.binary.map((f) => [f.length, f[0], f[f.length - 1]])).toEqual([
      [200_000, 1, 1],
      [200_000, 2, 2],
      [200_000, 3, 3],
    ]);
    link.a.destroy();
    await expect.poll(() => link.closed.length, { timeout: 10_000 }).toBe(2);
    expect(link.closed[0]).toBeNull();
  });

  it('shows the same verification code on both ends, and MACs over the same secret verify', async () => {
    const coded = pair();
    links.push(coded.a, coded.b);
    await coded.opened;
    const byCode = authenticate(coded, { a: { secret: null, compare: true }, b: { secret: null, compare: true } });
    await byCode.done;
    expect(byCode.auth.a.code).toMatch(/^\d{6}$/);
    expect(byCode.auth.b.code).toBe(byCode.auth.a.code);

    const secret = crypto.getRandomValues(new Uint8Array(32));
    const macs = pair();
    links.push(macs.a, macs.b);
    await macs.opened;
    const plan = { secret: Promise.resolve(secret), compare: false };
    const byMac = authenticate(macs, { a: plan, b: plan });
    await byMac.done;
    await Promise.all([byMac.auth.a.verified, byMac.auth.b.verified]);
  });

  it('refuses a MAC keyed with another secret', async () => {
    const link = pair();
    links.push(link.a, link.b);
    await link.opened;
    const a = new Handshake(link.a, { secret: Promise.resolve(new Uint8Array(32).fill(1)), compare: false });
    const b = new Handshake(link.b, { secret: Promise.resolve(new Uint8Array(32).fill(2)), compare: false });
    void a.onConnect().catch(() => {});
    void b.onConnect().catch(() => {});
    await expect.poll(() => link.got.b.find((m) => m.type === 'auth'), { timeout: 10_000 }).toBeDefined();
    const mac = link.got.b.find((m) => m.type === 'auth') as { mac: string };
    await expect(b.onAuth(mac.mac)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('opens when a stall makes the DTLS client send its ClientHello twice and the server answer both', async () => {
    // What a loaded machine does: the DTLS server's process does not run for 800 ms while
    // it reads the first ClientHello, so the client's 500 ms retransmission leaves before
    // the HelloVerifyRequest is read, and the server answers both ClientHellos.
    const { DtlsClient, DtlsServer } = await loadWerift();
    const serverRead = DtlsServer.prototype.handleFragmentHandshake;
    const clientRead = DtlsClient.prototype.handleFragmentHandshake;
    let stalled = false;
    let helloVerifies = 0;
    DtlsServer.prototype.handleFragmentHandshake = function (this: InstanceType<typeof DtlsServer>, messages) {
      if (!stalled) {
        stalled = true;
        const until = Date.now() + 800;
        while (Date.now() < until) {
          // Busy, as a starved process is.
        }
      }
      return serverRead.call(this, messages);
    };
    DtlsClient.prototype.handleFragmentHandshake = function (this: InstanceType<typeof DtlsClient>, messages) {
      helloVerifies += messages.filter((m) => m.msg_type === 3).length;
      return clientRead.call(this, messages);
    };
    try {
      const link = pair();
      links.push(link.a, link.b);
      await link.opened;
      expect(helloVerifies).toBe(2);
      link.a.sendControl({ type: 'text', text: 'after a slow handshake' });
      await expect
        .poll(() => link.got.b, { timeout: 10_000 })
        .toEqual([{ type: 'text', text: 'after a slow handshake' }]);
    } finally {
      DtlsServer.prototype.handleFragmentHandshake = serverRead;
      DtlsClient.prototype.handleFragmentHandshake = clientRead;
    }
  });
});
