/**
 * Watching and cutting WebRTC from a journey, with no hook in the app: an init script
 * wraps RTCPeerConnection (every instance that starts to connect is kept, in order; a flag
 * makes new ones fail to construct, as when the network allows no second connection) and records
 * (connection, file, record) for every record in a binary frame a data channel sends or
 * receives (a frame may carry several, shared/p2p/frames.ts). It can also flip one byte of
 * one record this page sends, as a network or a peer that changed the data would.
 */
import { expect, type Page } from '@playwright/test';

/** One record seen in a frame on a data channel: which connection of this page, which file and record. */
export interface SeenFrame {
  connection: number;
  file: number;
  record: number;
  /** The version of the frame that carried it (shared/p2p/frames.ts). */
  version: number;
}

interface PeerWatch {
  connections: RTCPeerConnection[];
  sent: SeenFrame[];
  received: SeenFrame[];
  refuseNew: boolean;
  /** Close the connection that carries the record this page sends or receives as this many-th (0: never). */
  cutAfter: number;
  /**
   * Only cut once an `ack` crossed this page's channel, heard by a sending page or sent by a
   * receiving one (the first record after it, past cutAfter).
   */
  cutAfterAck: boolean;
  /** `ack` control messages this page has received or sent. */
  acks: number;
  /** The record whose ciphertext this page changes (one byte) the next time it sends it. */
  flip: { file: number; record: number } | null;
  /** The `files` of every `resume-at` this page received: where the recipient asked a resumed transfer to go on. */
  resumeAt: number[][];
}

/** Runs in the page before the app (serialised by Playwright: self-contained). */
function watchPeers(): void {
  const watch: PeerWatch = {
    connections: [],
    sent: [],
    received: [],
    refuseNew: false,
    cutAfter: 0,
    cutAfterAck: false,
    acks: 0,
    flip: null,
    resumeAt: [],
  };
  (window as unknown as { __peerWatch: PeerWatch }).__peerWatch = watch;
  const Native = window.RTCPeerConnection;
  const tags = new WeakMap<RTCDataChannel, number>();
  // The records a binary frame carries (shared/p2p/frames.ts): version 1 one, version 2 `count`
  // from the first record index on.
  const records = (data: unknown, connection: number): SeenFrame[] => {
    let view: DataView;
    if (data instanceof ArrayBuffer) view = new DataView(data);
    else if (ArrayBuffer.isView(data)) view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    else return [];
    if (view.byteLength < 8) return [];
    const version = view.getUint8(0);
    const count = version === 2 ? view.getUint8(1) : 1;
    const file = view.getUint16(2);
    const first = view.getUint32(4);
    return Array.from({ length: count }, (_, i) => ({ connection, file, record: first + i, version }));
  };
  const cut = new Set<SeenFrame[]>();
  /** Adds `frames` to `seen`; whether to cut now: the cutAfter-th record is among them (or, with
   * cutAfterAck, among those seen so far and an ack has arrived), once per list. */
  const note = (seen: SeenFrame[], frames: SeenFrame[]): boolean => {
    seen.push(...frames);
    if (watch.cutAfter === 0 || frames.length === 0 || seen.length < watch.cutAfter || cut.has(seen)) return false;
    if (watch.cutAfterAck && watch.acks === 0) return false;
    cut.add(seen);
    return true;
  };
  const isAck = (data: unknown): boolean => typeof data === 'string' && data.startsWith('{"type":"ack"');
  /** Control messages are JSON text (shared/p2p/frames.ts): counts the acks among them, keeps each resume-at. */
  const countAcks = (channel: RTCDataChannel): void => {
    channel.addEventListener('message', (message) => {
      if (isAck(message.data)) watch.acks++;
      if (typeof message.data === 'string' && message.data.startsWith('{"type":"resume-at"')) {
        const files = (JSON.parse(message.data) as { files?: unknown }).files;
        if (Array.isArray(files)) watch.resumeAt.push(files.map(Number));
      }
    });
  };
  // A connection is listed once it starts to connect (a data channel, or an offer or answer
  // set): a page that only constructs one to see whether WebRTC works (the app's capability
  // probe, client/lib/p2p/capabilities.ts) must not shift the indices journeys cut by.
  const indexOf = (pc: RTCPeerConnection): number => {
    const known = watch.connections.indexOf(pc);
    return known >= 0 ? known : watch.connections.push(pc) - 1;
  };
  class Watched extends Native {
    constructor(config?: RTCConfiguration) {
      if (watch.refuseNew) throw new DOMException('New connections are blocked by the test.', 'OperationError');
      super(config);
      this.addEventListener('signalingstatechange', () => indexOf(this), { once: true });
      this.addEventListener('datachannel', (event) => {
        const index = indexOf(this);
        tags.set(event.channel, index);
        countAcks(event.channel);
        event.channel.addEventListener('message', (message) => {
          if (note(watch.received, records(message.data, index))) setTimeout(() => this.close(), 0);
        });
      });
    }
    override createDataChannel(label: string, init?: RTCDataChannelInit): RTCDataChannel {
      const channel = super.createDataChannel(label, init);
      tags.set(channel, indexOf(this));
      countAcks(channel);
      return channel;
    }
  }
  window.RTCPeerConnection = Watched;
  /** Flips a byte inside record `flip` when the frame `data` carries it (v1: one record; v2: lengths after the header). */
  const tamper = (data: unknown, frames: SeenFrame[]): void => {
    const flip = watch.flip;
    const hit = flip && frames.findIndex((f) => f.file === flip.file && f.record === flip.record);
    if (!flip || hit === null || hit < 0) return;
    const bytes =
      data instanceof ArrayBuffer
        ? new Uint8Array(data)
        : new Uint8Array(
            (data as ArrayBufferView).buffer,
            (data as ArrayBufferView).byteOffset,
            (data as ArrayBufferView).byteLength,
          );
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let at = 8;
    if (frames[0]?.version === 2) {
      at += 4 * frames.length;
      for (let i = 0; i < hit; i++) at += view.getUint32(8 + 4 * i);
    }
    bytes[at + 2]! ^= 0x80;
    watch.flip = null;
  };
  const send = RTCDataChannel.prototype.send as (this: RTCDataChannel, data: unknown) => void;
  RTCDataChannel.prototype.send = function (this: RTCDataChannel, data: unknown) {
    const index = tags.get(this) ?? -1;
    const frames = records(data, index);
    tamper(data, frames);
    if (isAck(data)) watch.acks++;
    send.call(this, data);
    if (note(watch.sent, frames)) {
      const connection = watch.connections[index];
      setTimeout(() => connection?.close(), 0);
    }
  } as RTCDataChannel['send'];
}

export class PeerWatcher {
  readonly page: Page;

  private constructor(page: Page) {
    this.page = page;
  }

  /** Installs the watch; call before the page opens Ferry. */
  static async on(page: Page): Promise<PeerWatcher> {
    await page.context().addInitScript(watchPeers);
    return new PeerWatcher(page);
  }

  /** Closes this page's connection `index` (as a network drop would end it). */
  async cut(index: number): Promise<void> {
    await this.page.evaluate((i) => {
      (window as unknown as { __peerWatch: PeerWatch }).__peerWatch.connections[i]?.close();
    }, index);
  }

  /**
   * Closes the connection that carries the `count`-th record this page sends (or receives)
   * right after its frame, the moment a network drop would strike at that point; `afterAck`:
   * not before an acknowledgement crossed this page's channel (then at the next record).
   */
  async cutAfterRecords(count: number, { afterAck = false } = {}): Promise<void> {
    await this.page.evaluate(
      ([n, ack]) => {
        const watch = (window as unknown as { __peerWatch: PeerWatch }).__peerWatch;
        watch.cutAfter = n;
        watch.cutAfterAck = ack;
      },
      [count, afterAck] as const,
    );
  }

  /** Flips one byte of record `record` of file `file` the next time this page sends it. */
  async flipRecord(file: number, record: number): Promise<void> {
    await this.page.evaluate(
      ([f, r]) => {
        (window as unknown as { __peerWatch: PeerWatch }).__peerWatch.flip = { file: f, record: r };
      },
      [file, record] as const,
    );
  }

  /** From now on, every new RTCPeerConnection fails to construct. */
  async refuseNewConnections(): Promise<void> {
    await this.page.evaluate(() => {
      (window as unknown as { __peerWatch: PeerWatch }).__peerWatch.refuseNew = true;
    });
  }

  async connectionCount(): Promise<number> {
    return this.page.evaluate(() => (window as unknown as { __peerWatch: PeerWatch }).__peerWatch.connections.length);
  }

  async sent(): Promise<SeenFrame[]> {
    return this.page.evaluate(() => (window as unknown as { __peerWatch: PeerWatch }).__peerWatch.sent);
  }

  /** The `files` of every `resume-at` this page received, in order. */
  async resumedAt(): Promise<number[][]> {
    return this.page.evaluate(() => (window as unknown as { __peerWatch: PeerWatch }).__peerWatch.resumeAt);
  }

  async received(): Promise<SeenFrame[]> {
    return this.page.evaluate(() => (window as unknown as { __peerWatch: PeerWatch }).__peerWatch.received);
  }

  /** Waits until this page has received at least `count` records. */
  async receivedAtLeast(count: number): Promise<void> {
    await expect
      .poll(
        () => this.page.evaluate(() => (window as unknown as { __peerWatch: PeerWatch }).__peerWatch.received.length),
        { timeout: 120_000, intervals: [25] },
      )
      .toBeGreaterThanOrEqual(count);
  }
}

/** "file:record" keys, for comparing sets of frames. */
export const frameKey = (frame: SeenFrame): string => `${frame.file}:${frame.record}`;
