/**
 * Whom the command's WebRTC asks for candidates: with no ICE server configured, no one (no
 * STUN default, as a browser: werift asked stun.l.google.com); a configured STUN server; and
 * with the Ferry server's TURN settings and iceTransportPolicy `relay` (as the app gets them
 * in `welcome`), a real coturn on loopback and nothing else: both ends' candidates are
 * relayed ones, the selected pair is relayed, and frames arrive.
 */
import dgram from 'node:dgram';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Coturn } from '../../e2e/support/coturn.ts';
import { configFromProcess } from '../../server/config.ts';
import { iceConfig } from '../../server/signaling/ice.ts';
import { ensureEngine } from '../../server/test-engines/install.ts';
import type { FerryError } from '../../shared/errors.ts';
import type { IceConfig } from '../../shared/signaling.ts';
import { loadWebRtc, RtcLink } from './rtc-link.ts';

type Ice = Pick<IceConfig, 'iceServers' | 'iceTransportPolicy'>;

const closing: Array<() => void> = [];
afterEach(() => {
  for (const close of closing.splice(0)) close();
});

/** An offer's local candidates (the `candidate` lines) once gathering completes, and how long it took. */
async function gather(iceServers: RTCIceServer[]): Promise<{ candidates: string[]; ms: number }> {
  const { RTCPeerConnection } = loadWebRtc();
  const pc = new RTCPeerConnection({ iceServers });
  closing.push(() => pc.close());
  const candidates: string[] = [];
  const started = performance.now();
  const complete = new Promise<void>((resolve) => {
    pc.onicecandidate = ({ candidate }) => {
      if (candidate?.candidate) candidates.push(candidate.candidate);
      else resolve();
    };
  });
  pc.createDataChannel('probe');
  await pc.setLocalDescription(await pc.createOffer());
  await complete;
  return { candidates, ms: performance.now() - started };
}

describe('ICE servers of the command', () => {
  it('asks no STUN server when none is configured: host candidates only, gathered at once', async () => {
    const { candidates, ms } = await gather([]);
    expect(candidates.length).toBeGreaterThan(0);
    expect(candidates.filter((c) => !/ typ host /.test(c))).toEqual([]);
    // A STUN lookup would wait for its answer (werift, the command's engine before, waited up to 5 s where UDP was dropped).
    expect(ms).toBeLessThan(2000);
  });

  it('asks a configured STUN server', async () => {
    const stun = dgram.createSocket('udp4');
    closing.push(() => stun.close());
    const requests: Buffer[] = [];
    stun.on('message', (message) => requests.push(message));
    await new Promise<void>((resolve) => stun.bind(0, '127.0.0.1', resolve));
    void gather([{ urls: `stun:127.0.0.1:${stun.address().port}` }]).catch(() => undefined);
    await expect.poll(() => requests.length, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(requests[0]!.readUInt16BE(0)).toBe(0x0001); // a STUN Binding request (RFC 8489 §5)
  });
});

describe('TURN only (iceTransportPolicy relay), through a real coturn', () => {
  let coturn: Coturn;
  beforeAll(async () => {
    ensureEngine({ debianPackage: 'coturn', candidates: ['turnserver', '/usr/bin/turnserver'] });
    coturn = await Coturn.start();
  }, 300_000);
  afterAll(async () => {
    await coturn?.stop();
  });

  it('connects through the relay only, says so, and carries frames', async () => {
    // The ICE settings exactly as the Ferry server hands them out (welcome, GET /api/ice).
    const config = configFromProcess([], coturn.ferryEnv);
    const ice: Ice = iceConfig(config.ice, Date.now(), 'rtc-ice-test');
    expect(ice.iceTransportPolicy).toBe('relay');
    const signals = { a: [] as Record<string, unknown>[], b: [] as Record<string, unknown>[] };
    const closed: (FerryError | null)[] = [];
    const received: Uint8Array[] = [];
    let opened = 0;
    const events = (side: 'a' | 'b', other: () => RtcLink) => ({
      signal: (data: Record<string, unknown>) => {
        signals[side].push(data);
        other().signal(JSON.parse(JSON.stringify(data)));
      },
      connect: () => opened++,
      control: () => {},
      binary: (bytes: Uint8Array) => received.push(bytes),
      close: (error: FerryError | null) => closed.push(error),
    });
    const a: RtcLink = new RtcLink(
      true,
      ice,
      events('a', () => b),
    );
    const b: RtcLink = new RtcLink(
      false,
      ice,
      events('b', () => a),
    );
    closing.push(
      () => a.destroy(),
      () => b.destroy(),
    );
    await expect.poll(() => opened, { timeout: 30_000 }).toBe(2);
    for (let n = 0; n < 16; n++) await a.sendFrame(new Uint8Array(200_000).fill(n));
    await expect.poll(() => received.length, { timeout: 30_000 }).toBe(16);
    expect(received.every((f, n) => f.length === 200_000 && f[0] === n && f[199_999] === n)).toBe(true);

    const candidates = [...signals.a, ...signals.b].flatMap((s) =>
      s.type === 'candidate' ? [(s.candidate as { candidate: string }).candidate] : [],
    );
    expect(candidates.length).toBeGreaterThan(0);
    expect(candidates.filter((c) => !/ typ relay /.test(c))).toEqual([]);
    expect(await a.route()).toBe('relayed');
    expect(await b.route()).toBe('relayed');
    // coturn granted the relays, to users with credentials the Ferry server signed ("<expiry>:<id>").
    expect(await coturn.log()).toMatch(/user <\d+:rtc-ice-test>: incoming packet ALLOCATE processed, success/);
    expect(closed).toEqual([]);
  });
});
