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
 *
 * With `knowsPairingCode`, it is the server that issued a pairing code: it reads the code
 * and the room from the frames it carries and, instead of passing the devices' `auth` and
 * verification-code messages along, answers each device itself with a valid code-keyed MAC
 * (written here from ARCHITECTURE.md's formula, independently of auth.ts) and its own
 * nonces. The MAC cannot stop that; only the people comparing the codes can.
 */
import type { Browser, BrowserContext, Page, WebSocketRoute } from '@playwright/test';

export type Side = 'a' | 'b';
type Signal = Record<string, unknown>;

/** What crossed the man in the middle's bridge. */
export interface MitmLog {
  /** Text frames (control messages), as sent. */
  text: string[];
  binaryFrames: number;
  binaryBytes: number;
  /** What happened on the bridge, in order (signals, connection states, errors): for a failure's report. */
  events: string[];
}

interface MitmWindow {
  ferryMitm: {
    log: MitmLog;
    signal(side: Side, data: Signal): Promise<void>;
    knowCode(code: string, room: string): void;
  };
  ferryMitmSignal(side: Side, data: Signal): Promise<void>;
}

const other = (side: Side): Side => (side === 'a' ? 'b' : 'a');

export class SignalingMitm {
  /** While false, every frame passes untouched. */
  active = false;
  /** `signal` relays diverted so far. */
  diverted = 0;
  /** Impersonate each device to the other with the pairing code it carried (see above). */
  knowsPairingCode = false;
  #code: string | null = null;
  readonly #page: Page;
  readonly #routes = new Map<Side, WebSocketRoute>();
  readonly #peerIds = new Map<Side, string>();
  #queue: Promise<unknown> = Promise.resolve();
  /** What the routes did (`<epoch ms> route: …`), merged into the log's events. */
  readonly #events: string[] = [];

  private constructor(page: Page) {
    this.#page = page;
  }

  /**
   * Puts a man in the middle between the devices of contexts `a` and `b` (call before
   * their pages open Ferry). Its own page lives in a context of its own, at `url` (any
   * page of the origin: WebRTC needs a secure context).
   */
  static async between(browser: Browser, url: string, a: BrowserContext, b: BrowserContext): Promise<SignalingMitm> {
    const page = await (await browser.newContext()).newPage();
    const mitm = new SignalingMitm(page);
    await page.exposeFunction('ferryMitmSignal', (side: Side, data: Signal) => mitm.#toDevice(side, data));
    await page.goto(url);
    await page.evaluate(installBridge);
    await mitm.#route(a, 'a');
    await mitm.#route(b, 'b');
    return mitm;
  }

  async close(): Promise<void> {
    await this.#page.context().close();
  }

  /** Routes the context's signaling WebSocket through here. */
  async #route(context: BrowserContext, side: Side): Promise<void> {
    await context.routeWebSocket(/\/signal$/, (ws) => {
      this.#routes.set(side, ws);
      const server = ws.connectToServer();
      ws.onMessage((message) => {
        // The code a device enters is the one the server redeems (both devices may have
        // asked for a code: the pairing control makes one when it opens).
        if (typeof message === 'string') {
          const entered = JSON.parse(message) as { type?: string; code?: string };
          if (entered.type === 'pair-join' && entered.code) this.#code = entered.code;
        }
        if (this.active && typeof message === 'string') {
          const frame = JSON.parse(message) as { type?: string; kind?: string; to?: string; data?: Signal };
          if (frame.type === 'relay' && frame.kind === 'signal' && frame.to === this.#peerIds.get(other(side))) {
            this.diverted++;
            const data = frame.data ?? {};
            this.#note(`${side} signal ${String(data.type ?? Object.keys(data).join('+'))} diverted`);
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
          const frame = JSON.parse(message) as { type?: string; peerId?: string; code?: string; room?: string };
          if (frame.type === 'welcome' && frame.peerId) {
            this.#peerIds.set(side, frame.peerId);
            this.#note(`${side} is ${frame.peerId}`);
          }
          const { room } = frame;
          const code = this.#code;
          if (frame.type === 'paired' && room && code && this.knowsPairingCode && this.active) {
            const known: [string, string] = [code, room];
            this.#queue = this.#queue.then(() =>
              this.#page.evaluate(([c, r]) => (window as unknown as MitmWindow).ferryMitm.knowCode(c, r), known),
            );
          }
        }
        ws.send(message);
      });
    });
  }

  /** What crossed the bridge so far. */
  async log(): Promise<MitmLog> {
    await this.#queue;
    const log = await this.#page.evaluate(() => (window as unknown as MitmWindow).ferryMitm.log);
    const events = [...log.events, ...this.#events].sort((x, y) => Number.parseInt(x, 10) - Number.parseInt(y, 10));
    return { ...log, events };
  }

  #note(event: string): void {
    this.#events.push(`${Date.now()} route: ${event}`);
  }

  /** A signal from the man in the middle, delivered as if the other device had sent it. */
  #toDevice(side: Side, data: Signal): void {
    const from = this.#peerIds.get(other(side));
    this.#note(`${side} gets ${String(data.type ?? Object.keys(data).join('+'))} as if from ${String(from)}`);
    this.#routes.get(side)?.send(JSON.stringify({ type: 'relay', from, kind: 'signal', data }));
  }
}

/** Runs in the man in the middle's page. */
function installBridge(): void {
  type Ends = Record<Side, RTCPeerConnection | undefined>;
  const w = window as unknown as MitmWindow;
  const log: MitmLog = { text: [], binaryFrames: 0, binaryBytes: 0, events: [] };
  const note = (event: string) => log.events.push(`${Date.now()} page: ${event}`);
  const pcs: Ends = { a: undefined, b: undefined };
  const channels: Record<Side, RTCDataChannel | undefined> = { a: undefined, b: undefined };
  const waiting: Record<Side, (string | ArrayBuffer)[]> = { a: [], b: [] };
  const otherSide = (side: Side): Side => (side === 'a' ? 'b' : 'a');
  /** The WebRTC role the man in the middle has towards each device. */
  const roles: Record<Side, 'offerer' | 'answerer' | undefined> = { a: undefined, b: undefined };
  const started: Record<Side, boolean> = { a: false, b: false };
  let macKey: Promise<CryptoKey> | null = null;
  const nonce = crypto.getRandomValues(new Uint8Array(32));
  const enc = new TextEncoder();
  const b64 = (bytes: Uint8Array) =>
    btoa(String.fromCharCode(...bytes))
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
      .replace(/=+$/, '');
  const hkdf = async (ikm: Uint8Array<ArrayBuffer>, info: string) => {
    const base = await crypto.subtle.importKey('raw', ikm, 'HKDF', false, ['deriveBits']);
    const params = { name: 'HKDF', hash: 'SHA-256', salt: enc.encode('ferry/v1'), info: enc.encode(info) };
    return new Uint8Array(await crypto.subtle.deriveBits(params, base, 256));
  };
  const fingerprints = (sdp: string) =>
    [
      ...new Set(
        [...sdp.matchAll(/^a=fingerprint:(\S+) ([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2})+)\s*$/gm)].map(
          (m) => `${m[1]?.toLowerCase()} ${m[2]?.toUpperCase()}`,
        ),
      ),
    ]
      .sort()
      .join(',');
  const send = (side: Side, message: Record<string, unknown>) => channels[side]?.send(JSON.stringify(message));
  /** Towards one device: the verification code's first step and a valid code-keyed MAC. */
  const impersonate = async (side: Side) => {
    const pc = pcs[side];
    if (!macKey || !pc || started[side]) {
      note(`${side} impersonation skipped: ${!macKey ? 'no code yet' : !pc ? 'no connection' : 'already started'}`);
      return;
    }
    started[side] = true;
    note(`${side} impersonated as ${String(roles[side])}`);
    const role = roles[side];
    if (role === 'offerer') {
      const commit = new Uint8Array(
        await crypto.subtle.digest('SHA-256', new Uint8Array([...enc.encode('ferry/v1 p2p code commit\n'), ...nonce])),
      );
      send(side, { type: 'code-commit', commit: b64(commit) });
    }
    const transcript = [fingerprints(pc.localDescription?.sdp ?? ''), fingerprints(pc.remoteDescription?.sdp ?? '')]
      .sort()
      .join('\n');
    const mac = await crypto.subtle.sign('HMAC', await macKey, enc.encode(`ferry/v1 p2p\n${transcript}\n${role}`));
    send(side, { type: 'auth', mac: b64(new Uint8Array(mac)) });
  };
  /** A device's own handshake message, answered here and never passed on; false for anything else. */
  const answered = (side: Side, data: string): boolean => {
    if (!macKey) return false;
    const type = (JSON.parse(data) as { type?: string }).type;
    if (type === 'code-commit' || (type === 'code-nonce' && roles[side] === 'offerer')) {
      send(side, { type: 'code-nonce', nonce: b64(nonce) });
    }
    return type === 'auth' || type === 'code-commit' || type === 'code-nonce';
  };

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
    const opened = () => {
      flush(side);
      void impersonate(side);
    };
    channel.onopen = () => {
      note(`${side} channel open`);
      opened();
    };
    channel.onmessage = (event: MessageEvent<string | ArrayBuffer>) => {
      if (typeof event.data === 'string') {
        log.text.push(event.data);
        if (answered(side, event.data)) {
          note(`${side} ${(JSON.parse(event.data) as { type?: string }).type} answered`);
          return;
        }
        note(`${side} ${(JSON.parse(event.data) as { type?: string }).type} passed on`);
      } else {
        log.binaryFrames++;
        log.binaryBytes += event.data.byteLength;
      }
      waiting[otherSide(side)].push(event.data);
      flush(otherSide(side));
    };
    if (channel.readyState === 'open') opened();
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
    pc.onconnectionstatechange = () => note(`${side} connection ${pc.connectionState}`);
    pc.oniceconnectionstatechange = () => note(`${side} ice ${pc.iceConnectionState}`);
    return pc;
  };
  const offerTo = async (side: Side) => {
    roles[side] = 'offerer';
    const pc = connection(side);
    wire(side, pc.createDataChannel('mitm'));
    await pc.setLocalDescription(await pc.createOffer());
    await w.ferryMitmSignal(side, { type: 'offer', sdp: pc.localDescription?.sdp });
  };

  w.ferryMitm = {
    log,
    knowCode(code, room) {
      note(`knows the code of room ${room.slice(0, 6)}`);
      macKey = (async () => {
        const secret = await hkdf(enc.encode(code), `ferry/v1 p2p pairing code\n${room}`);
        const raw = await hkdf(secret, 'ferry/v1 p2p mac');
        return crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
      })();
    },
    async signal(side, data) {
      note(`${side} sent ${String(data.type ?? Object.keys(data).join('+'))}`);
      try {
        await handle(side, data);
      } catch (error) {
        note(`${side} signal failed: ${String(error)}`);
      }
    },
  };
  async function handle(side: Side, data: Signal): Promise<void> {
    const pc = connection(side);
    if (data.type === 'offer' && typeof data.sdp === 'string') {
      roles[side] = 'answerer';
      await pc.setRemoteDescription({ type: 'offer', sdp: data.sdp });
      await pc.setLocalDescription(await pc.createAnswer());
      await w.ferryMitmSignal(side, { type: 'answer', sdp: pc.localDescription?.sdp });
      if (!pcs[otherSide(side)]) await offerTo(otherSide(side));
    } else if (data.type === 'answer' && typeof data.sdp === 'string') {
      await pc.setRemoteDescription({ type: 'answer', sdp: data.sdp });
    } else if (typeof data.candidate === 'object' && data.candidate) {
      await pc.addIceCandidate(data.candidate as RTCIceCandidateInit);
    }
  }
}
