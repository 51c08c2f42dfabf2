/** werift as the command loads it asks only the STUN server the Ferry server configured. */
import dgram from 'node:dgram';
import dns from 'node:dns';
import { afterEach, describe, expect, it } from 'vitest';
import { loadWerift } from './werift.ts';

/** Host names werift looked up: it resolves a STUN server's name with dns.promises.lookup. */
const sent: string[] = [];
const lookup = dns.promises.lookup;
dns.promises.lookup = ((host: string, ...rest: unknown[]) => {
  sent.push(host);
  return (lookup as (...a: unknown[]) => unknown)(host, ...rest);
}) as typeof lookup;

const closing: Array<{ close(): Promise<void> | void }> = [];
afterEach(async () => {
  await Promise.all(closing.splice(0).map((c) => c.close()));
  sent.length = 0;
});

/** Gathers an offer's candidates with these ICE servers. */
async function gather(iceServers: { urls: string }[]): Promise<void> {
  const { RTCPeerConnection } = await loadWerift();
  const pc = new RTCPeerConnection({ iceServers });
  closing.push(pc);
  pc.createDataChannel('probe');
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise<void>((resolve) => {
    if (pc.iceGatheringState === 'complete') resolve();
    pc.iceGatheringStateChange.subscribe((state) => state === 'complete' && resolve());
  });
}

describe('werift as loaded by the command', () => {
  it('asks no STUN server when none is configured (werift alone would ask stun.l.google.com)', async () => {
    await gather([]);
    expect(sent).toEqual([]);
  });

  it('still asks a configured STUN server', async () => {
    const stun = dgram.createSocket('udp4');
    closing.push({ close: () => void stun.close() });
    const requests: Buffer[] = [];
    stun.on('message', (message) => requests.push(message));
    await new Promise<void>((resolve) => stun.bind(0, '127.0.0.1', resolve));
    const gathered = gather([{ urls: `stun:127.0.0.1:${stun.address().port}` }]).catch(() => undefined);
    await expect.poll(() => requests.length, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(requests[0]!.readUInt16BE(0)).toBe(0x0001); // a STUN Binding request
    expect(sent.filter((host) => host.includes('google'))).toEqual([]);
    void gathered;
  });
});
