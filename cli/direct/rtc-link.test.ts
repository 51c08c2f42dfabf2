import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { FerryError } from '../../shared/errors.ts';
import type { ControlMessage } from '../../shared/p2p/frames.ts';
import { Handshake, type HandshakePlan } from '../../shared/p2p/handshake.ts';
import { HIGH_WATER_MARK, LOW_WATER_MARK, loadWebRtc, MAX_MESSAGE_SIZE, RtcLink } from './rtc-link.ts';

function resolvers() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Two real libwebrtc peers (@roamhq/wrtc) in this process, their signals passed as the server's relay would (JSON). */
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

describe('RtcLink (@roamhq/wrtc)', () => {
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

  it('sends frames that are views into a larger buffer, and a buffer reused at once, intact', async () => {
    const link = pair();
    links.push(link.a, link.b);
    await link.opened;
    const big = new Uint8Array(300_000).map((_, i) => i % 251);
    await link.a.sendFrame(big.subarray(1000, 1000 + 100_000));
    const reused = new Uint8Array(50_000).fill(7);
    await link.a.sendFrame(reused);
    reused.fill(9); // after send returned: the 7s already left
    await link.a.sendFrame(reused);
    await expect.poll(() => link.binary.length, { timeout: 20_000 }).toBe(3);
    expect(link.binary[0]).toEqual(big.subarray(1000, 1000 + 100_000));
    expect(link.binary[1]).toEqual(new Uint8Array(50_000).fill(7));
    expect(link.binary[2]).toEqual(new Uint8Array(50_000).fill(9));
    await expect(link.a.sendFrame(new Uint8Array(MAX_MESSAGE_SIZE + 1))).rejects.toMatchObject({ code: 'TOO_LARGE' });
  });

  it('what was sent just before destroy() arrives (libwebrtc drops it unless the closing side lingers), then the other side hears the close', async () => {
    const link = pair();
    links.push(link.a, link.b);
    await link.opened;
    for (let n = 0; n < 32; n++) await link.a.sendFrame(new Uint8Array(MAX_MESSAGE_SIZE).fill(n));
    link.a.sendControl({ type: 'text', text: 'last words' });
    link.a.destroy();
    await expect.poll(() => link.closed.length, { timeout: 10_000 }).toBe(2);
    expect(link.binary.length).toBe(32);
    expect(link.got.b).toEqual([{ type: 'text', text: 'last words' }]);
    expect(link.closed[0]).toBeNull();
    expect(link.closed[1]).toMatchObject({ code: 'NETWORK_ERROR' });
  });

  it('a frame sent after the other side dropped its peer connection, before this side heard of it, reports the loss, then rejects with NETWORK_ERROR', async () => {
    // The other side is a bare libwebrtc peer that closes its RTCPeerConnection at once, as
    // a browser's page does when the network drops it (no channel close first).
    const { RTCPeerConnection } = loadWebRtc();
    const remote = new RTCPeerConnection();
    const closed: (FerryError | null)[] = [];
    const opened = resolvers();
    let steps = Promise.resolve();
    const link: RtcLink = new RtcLink(
      true,
      { iceServers: [], iceTransportPolicy: 'all' },
      {
        signal: (data) => {
          steps = steps.then(async () => {
            if (data.type === 'offer') {
              await remote.setRemoteDescription({ type: 'offer', sdp: String(data.sdp) });
              await remote.setLocalDescription(await remote.createAnswer());
              link.signal({ type: 'answer', sdp: remote.localDescription?.sdp });
            } else if (data.candidate) await remote.addIceCandidate(data.candidate as RTCIceCandidateInit);
          });
        },
        connect: () => opened.resolve(),
        control: () => {},
        binary: () => {},
        close: (error) => closed.push(error),
      },
    );
    links.push(link);
    remote.onicecandidate = ({ candidate }) => {
      if (!candidate?.candidate) return;
      const { sdpMLineIndex, sdpMid } = candidate;
      link.signal({ type: 'candidate', candidate: { candidate: candidate.candidate, sdpMLineIndex, sdpMid } });
    };
    remote.ondatachannel = ({ channel }) => {
      channel.onmessage = () => {};
    };
    await opened.promise;
    remote.close();
    // libwebrtc marks this side's channel closed, and its send throws, before onclose fires.
    let refused: unknown;
    let reported = -1;
    for (let n = 0; n < 5000 && refused === undefined; n++) {
      await link.sendFrame(new Uint8Array(1000).fill(n % 256)).catch((error: unknown) => {
        refused = error;
        reported = closed.length;
      });
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(refused).toMatchObject({ code: 'NETWORK_ERROR' });
    // The loss was reported (close) by the time the send rejected: a sender takes it as a drop.
    expect(reported).toBe(1);
    expect(closed[0]).toMatchObject({ code: 'NETWORK_ERROR' });
  });

  it('holds the send queue under its high-water mark (no bufferedamountlow event: polled) and carries 32 MiB in order', async () => {
    const link = pair();
    links.push(link.a, link.b);
    await link.opened;
    expect(link.a.maxMessageSize).toBe(MAX_MESSAGE_SIZE);
    const frame = new Uint8Array(MAX_MESSAGE_SIZE);
    let peak = 0;
    for (let n = 0; n < 128; n++) {
      frame.fill(n);
      await link.a.sendFrame(frame);
      peak = Math.max(peak, link.a.bufferedAmount);
    }
    await expect.poll(() => link.binary.length, { timeout: 60_000 }).toBe(128);
    expect(link.binary.every((f, n) => f.length === MAX_MESSAGE_SIZE && f[0] === n && f[f.length - 1] === n)).toBe(
      true,
    );
    expect(peak).toBeGreaterThan(LOW_WATER_MARK);
    expect(peak).toBeLessThanOrEqual(HIGH_WATER_MARK + MAX_MESSAGE_SIZE);
  });
});

/**
 * A process that made a connection, moved 16 MiB and destroyed both ends, run as a child:
 * libwebrtc's threads must not keep it alive (no hang) nor crash it as they stop.
 */
const CHILD = `
import { RtcLink } from ${JSON.stringify(pathToFileURL(path.join(import.meta.dirname, 'rtc-link.ts')).href)};
const ice = { iceServers: [], iceTransportPolicy: 'all' };
let opened = 0, got = 0, closed = 0;
const events = (other) => ({ signal: (d) => other().signal(JSON.parse(JSON.stringify(d))), connect: () => opened++,
  control: () => {}, binary: (b) => { got += b.length; }, close: () => closed++ });
const a = new RtcLink(true, ice, events(() => b));
const b = new RtcLink(false, ice, events(() => a));
while (opened < 2) await new Promise((r) => setTimeout(r, 10));
const frame = new Uint8Array(256 * 1024);
for (let i = 0; i < 64; i++) await a.sendFrame(frame);
while (got < 64 * frame.length) await new Promise((r) => setTimeout(r, 10));
a.destroy();
while (closed < 2) await new Promise((r) => setTimeout(r, 10));
process.stdout.write('moved ' + got + '\\n');
`;

describe('a process with RtcLinks', () => {
  /** Runs CHILD; resolves with its status, signal, stdout and how long it lived after its last line. */
  async function runChild(): Promise<{ status: number | null; signal: string | null; out: string; lingerMs: number }> {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
      cwd: path.join(import.meta.dirname, '..', '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let said = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      said = performance.now();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const [status, signal] = (await once(child, 'exit')) as [number | null, string | null];
    clearTimeout(killer);
    return { status, signal, out, lingerMs: said ? performance.now() - said : -1 };
  }

  it('exits on its own after a transfer and its close: no hang, no crash; also with both cores kept busy', async () => {
    const quiet = await runChild();
    expect(quiet).toMatchObject({ status: 0, signal: null, out: 'moved 16777216\n' });
    expect(quiet.lingerMs).toBeLessThan(5000);

    const burners = [0, 1].map(() => spawn(process.execPath, ['-e', 'for (;;);'], { stdio: 'ignore' }));
    try {
      const loaded = await runChild();
      expect(loaded).toMatchObject({ status: 0, signal: null, out: 'moved 16777216\n' });
      expect(loaded.lingerMs).toBeLessThan(5000);
    } finally {
      for (const burner of burners) burner.kill('SIGKILL');
    }
  }, 150_000);
});
