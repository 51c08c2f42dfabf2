/**
 * A real man in the middle on the signaling path, for the MAC check's journey. Both
 * devices' WebSockets go through `routeWebSocket`; once `active`, the WebRTC `signal`
 * relays between them are diverted to a third page that speaks simple-peer's signal format
 * (`{type:'offer'|'answer', sdp}`, `{type:'candidate', candidate:{candidate, sdpMLineIndex,
 * sdpMid}}`) with two RTCPeerConnections of its own: it answers the first device, offers
 * to the second as if it were the first, terminates both DTLS sessions and bridges every
 * data-channel message both ways, recording what it saw. This is exactly what a signaling
 * server that rewrote the SDP could do; only the devices' MAC over the DTLS fingerprints
 * can tell.
 */
import type { BrowserContext, Page, WebSocketRoute } from '@playwright/test';

export type Side = 'a' | 'b';
type Signal = Record<string, unknown>;

/** What crossed the man in the middle's bridge. */
export interface MitmLog {
  /** Text frames (control messages), as sent. */
  text: string[];
  binaryFrames: number;
  binaryBytes: number;
}

interface MitmWindow {
  ferryMitm: { log: MitmLog; signal(side: Side, data: Signal): Promise<void> };
  ferryMitmSignal(side: Side, data: Signal): Promise<void>;
}

const other = (side: Side): Side => (side === 'a' ? 'b' : 'a');

export class SignalingMitm {
  /** While false, every frame passes untouched. */
  active = false;
  /** `signal` relays diverted so far. */
  diverted = 0;
  readonly #page: Page;
  readonly #routes = new Map<Side, WebSocketRoute>();
  readonly #peerIds = new Map<Side, string>();
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(page: Page) {
    this.#page = page;
  }

  /** Opens the man in the middle's page (any page of the origin: WebRTC needs a secure context). */
  static async start(context: BrowserContext, url: string): Promise<SignalingMitm> {
    const page = await context.newPage();
    const mitm = new SignalingMitm(page);
    await page.exposeFunction('ferryMitmSignal', (side: Side, data: Signal) => mitm.#toDevice(side, data));
    await page.goto(url);
    await page.evaluate(installBridge);
    return mitm;
  }

  /** Routes the context's signaling WebSocket through here; call before its page opens Ferry. */
  async route(context: BrowserContext, side: Side): Promise<void> {
    await context.routeWebSocket(/\/signal$/, (ws) => {
      this.#routes.set(side, ws);
      const server = ws.connectToServer();
      ws.onMessage((message) => {
        if (this.active && typeof message === 'string') {
          const frame = JSON.parse(message) as { type?: string; kind?: string; to?: string; data?: Signal };
          if (frame.type === 'relay' && frame.kind === 'signal' && frame.to === this.#peerIds.get(other(side))) {
            this.diverted++;
            const data = frame.data ?? {};
            this.#queue = this.#queue.then(() =>
              this.#page.evaluate(
                ([from, signal]) => (window as unknown as MitmWindow).ferryMitm.signal(from, signal),
                [side, data] as const,
              ),
            );
            return;
          }
        }
        server.send(message);
      });
      server.onMessage((message) => {
        if (typeof message === 'string') {
          const frame = JSON.parse(message) as { type?: string; peerId?: string };
          if (frame.type === 'welcome' && frame.peerId) this.#peerIds.set(side, frame.peerId);
        }
        ws.send(message);
      });
    });
  }

  /** What crossed the bridge so far. */
  async log(): Promise<MitmLog> {
    await this.#queue;
    return await this.#page.evaluate(() => (window as unknown as MitmWindow).ferryMitm.log);
  }

  /** A signal from the man in the middle, delivered as if the other device had sent it. */
  #toDevice(side: Side, data: Signal): void {
    const from = this.#peerIds.get(other(side));
    this.#routes.get(side)?.send(JSON.stringify({ type: 'relay', from, kind: 'signal', data }));
  }
}

/** Runs in the man in the middle's page. */
function installBridge(): void {
  type Ends = Record<Side, RTCPeerConnection | undefined>;
  const w = window as unknown as MitmWindow;
  const log: MitmLog = { text: [], binaryFrames: 0, binaryBytes: 0 };
  const pcs: Ends = { a: undefined, b: undefined };
  const channels: Record<Side, RTCDataChannel | undefined> = { a: undefined, b: undefined };
  const waiting: Record<Side, (string | ArrayBuffer)[]> = { a: [], b: [] };
  const otherSide = (side: Side): Side => (side === 'a' ? 'b' : 'a');

  const flush = (side: Side) => {
    const channel = channels[side];
    if (channel?.readyState === 'open')
      for (const data of waiting[side].splice(0)) {
        if (typeof data === 'string') channel.send(data);
        else channel.send(data);
      }
  };
  const wire = (side: Side, channel: RTCDataChannel) => {
    channel.binaryType = 'arraybuffer';
    channels[side] = channel;
    channel.onopen = () => flush(side);
    channel.onmessage = (event: MessageEvent<string | ArrayBuffer>) => {
      if (typeof event.data === 'string') log.text.push(event.data);
      else {
        log.binaryFrames++;
        log.binaryBytes += event.data.byteLength;
      }
      waiting[otherSide(side)].push(event.data);
      flush(otherSide(side));
    };
    flush(side);
  };
  const connection = (side: Side): RTCPeerConnection => {
    const existing = pcs[side];
    if (existing) return existing;
    const pc = new RTCPeerConnection({ iceServers: [] });
    pcs[side] = pc;
    pc.onicecandidate = ({ candidate }) => {
      if (!candidate) return;
      void w.ferryMitmSignal(side, {
        type: 'candidate',
        candidate: { candidate: candidate.candidate, sdpMLineIndex: candidate.sdpMLineIndex, sdpMid: candidate.sdpMid },
      });
    };
    pc.ondatachannel = ({ channel }) => wire(side, channel);
    return pc;
  };
  const offerTo = async (side: Side) => {
    const pc = connection(side);
    wire(side, pc.createDataChannel('mitm'));
    await pc.setLocalDescription(await pc.createOffer());
    await w.ferryMitmSignal(side, { type: 'offer', sdp: pc.localDescription?.sdp });
  };

  w.ferryMitm = {
    log,
    async signal(side, data) {
      const pc = connection(side);
      if (data.type === 'offer' && typeof data.sdp === 'string') {
        await pc.setRemoteDescription({ type: 'offer', sdp: data.sdp });
        await pc.setLocalDescription(await pc.createAnswer());
        await w.ferryMitmSignal(side, { type: 'answer', sdp: pc.localDescription?.sdp });
        if (!pcs[otherSide(side)]) await offerTo(otherSide(side));
      } else if (data.type === 'answer' && typeof data.sdp === 'string') {
        await pc.setRemoteDescription({ type: 'answer', sdp: data.sdp });
      } else if (typeof data.candidate === 'object' && data.candidate) {
        await pc.addIceCandidate(data.candidate as RTCIceCandidateInit);
      }
    },
  };
}
