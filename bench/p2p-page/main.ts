/**
 * The baselines of bench/p2p.ts: one plain RTCDataChannel between two pages, no app code
 * on the path. The sender sends the same number of bytes as Ferry's transfer from one
 * random block already in memory (no file reads, no crypto), so the figures are what the
 * channel itself does on this machine at this moment; the receiver only counts.
 *
 * Text messages are the protocol: `expect:<n>` starts a count, `partition:<offset>` asks for
 * `partition-received:<offset>` (PairDrop's acknowledgement), and the receiver answers
 * `done:<n>` once n bytes arrived. The channel is reliable and ordered (the default, as
 * simple-peer makes Ferry's), so a `partition` message arrives after the partition's bytes.
 */
import { HIGH_WATER_MARK, LOW_WATER_MARK } from '../../client/lib/p2p/peer-link.ts';
import type { BaselineRun, P2pBenchApi, P2pBenchWindow } from './api.ts';

const OPEN_TIMEOUT_MS = 30_000;

let pc: RTCPeerConnection | null = null;
let channel: RTCDataChannel | null = null;
/** Receiver: bytes counted since `expect`, and how many to expect. */
let counted = 0;
let expected = Number.POSITIVE_INFINITY;
/** Sender: waiting for the receiver's `done` or for a partition's acknowledgement. */
let onDone: ((bytes: number) => void) | null = null;
let onPartitionAck: ((offset: number) => void) | null = null;

function connection(config: RTCConfiguration): RTCPeerConnection {
  pc?.close();
  pc = new RTCPeerConnection(config);
  return pc;
}

/** The selected candidate pair's currentRoundTripTime in ms (WebRTC Stats §8.12), or null. */
async function roundTripMs(peer: RTCPeerConnection): Promise<number | null> {
  let rtt: number | null = null;
  (await peer.getStats()).forEach((s: { type: string; nominated?: boolean; currentRoundTripTime?: number }) => {
    if (s.type === 'candidate-pair' && s.nominated && typeof s.currentRoundTripTime === 'number')
      rtt = s.currentRoundTripTime * 1000;
  });
  return rtt;
}

/** The local description once ICE gathering is complete (no trickle: loopback is quick). */
async function gathered(peer: RTCPeerConnection): Promise<string> {
  if (peer.iceGatheringState !== 'complete') {
    await new Promise<void>((resolve) => {
      peer.addEventListener('icegatheringstatechange', () => {
        if (peer.iceGatheringState === 'complete') resolve();
      });
    });
  }
  return JSON.stringify(peer.localDescription);
}

function opened(dc: RTCDataChannel): Promise<void> {
  if (dc.readyState === 'open') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the data channel did not open')), OPEN_TIMEOUT_MS);
    dc.addEventListener('open', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function onMessage(event: MessageEvent<unknown>): void {
  const dc = event.target as RTCDataChannel;
  if (event.data instanceof ArrayBuffer) {
    counted += event.data.byteLength;
    if (counted === expected) dc.send(`done:${counted}`);
    return;
  }
  if (typeof event.data !== 'string') return;
  const [kind, value] = event.data.split(':');
  const n = Number(value);
  if (kind === 'expect') {
    counted = 0;
    expected = n;
  } else if (kind === 'partition') dc.send(`partition-received:${n}`);
  else if (kind === 'partition-received') onPartitionAck?.(n);
  else if (kind === 'done') onDone?.(n);
}

function attach(dc: RTCDataChannel): RTCDataChannel {
  dc.binaryType = 'arraybuffer';
  dc.addEventListener('message', onMessage);
  channel = dc;
  return dc;
}

function openChannel(): RTCDataChannel {
  if (channel?.readyState !== 'open') throw new Error('no open data channel');
  return channel;
}

function randomBlock(bytes: number): Uint8Array<ArrayBuffer> {
  const block = new Uint8Array(bytes);
  for (let at = 0; at < bytes; at += 65_536) crypto.getRandomValues(block.subarray(at, at + 65_536));
  return block;
}

/** Announces `total`, runs `send`, and times it until the receiver's `done` is back. */
async function timed(dc: RTCDataChannel, total: number, send: () => Promise<void>): Promise<BaselineRun> {
  const done = new Promise<number>((resolve) => {
    onDone = resolve;
  });
  const t0 = performance.now();
  dc.send(`expect:${total}`);
  await send();
  const bytes = await done;
  return { ms: performance.now() - t0, bytes };
}

const api: P2pBenchApi = {
  async offer(config) {
    const peer = connection(config);
    attach(peer.createDataChannel('bench'));
    await peer.setLocalDescription(await peer.createOffer());
    return gathered(peer);
  },

  async answer(offer, config) {
    const peer = connection(config);
    peer.addEventListener('datachannel', (event) => attach(event.channel));
    await peer.setRemoteDescription(JSON.parse(offer) as RTCSessionDescriptionInit);
    await peer.setLocalDescription(await peer.createAnswer());
    return gathered(peer);
  },

  async accept(answer) {
    if (!pc || !channel) throw new Error('offer() first');
    await pc.setRemoteDescription(JSON.parse(answer) as RTCSessionDescriptionInit);
    await opened(channel);
    return roundTripMs(pc);
  },

  sendFlow(total, messageBytes, low, high) {
    const dc = openChannel();
    const block = randomBlock(messageBytes);
    dc.bufferedAmountLowThreshold = low;
    return timed(dc, total, async () => {
      for (let sent = 0; sent < total; ) {
        while (dc.bufferedAmount > high) {
          await new Promise((resolve) => dc.addEventListener('bufferedamountlow', resolve, { once: true }));
        }
        const n = Math.min(messageBytes, total - sent);
        dc.send(n === messageBytes ? block : block.slice(0, n));
        sent += n;
      }
    });
  },

  sendStopAndWait(total, chunkBytes, partitionBytes) {
    const dc = openChannel();
    const block = randomBlock(chunkBytes);
    return timed(dc, total, async () => {
      let partition = 0;
      for (let sent = 0; sent < total; ) {
        const n = Math.min(chunkBytes, total - sent);
        dc.send(n === chunkBytes ? block : block.slice(0, n));
        sent += n;
        partition += n;
        if (partition >= partitionBytes && sent < total) {
          const offset = sent;
          await new Promise<void>((resolve) => {
            onPartitionAck = (acked) => {
              if (acked === offset) resolve();
            };
            dc.send(`partition:${offset}`);
          });
          partition = 0;
        }
      }
    });
  },

  close() {
    channel?.close();
    pc?.close();
    channel = null;
    pc = null;
  },
};

const w = window as unknown as P2pBenchWindow;
w.p2pBench = api;
w.p2pMarks = { low: LOW_WATER_MARK, high: HIGH_WATER_MARK };
document.getElementById('status')!.textContent = 'ready';
document.title = 'ready';
