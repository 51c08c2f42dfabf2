/**
 * The recipient's side of pulling a share's records straight from the sender's open tab.
 * The page joins the signaling room `share:<id>` with its reader token; when the share's
 * owner is there it connects (share-channel.ts: MAC mode keyed from the link secret) and,
 * once the sender proved it holds the link, `fetchCiphertext` serves a file's ciphertext
 * from the data channel (shared/p2p/peer-records.ts) instead of the server. It has the same signature
 * as the server client's, so decrypt-file.ts reads and checks both the same way; a peer that
 * leaves mid-file hands over to the server at the first record the recipient lacks.
 *
 * A pull names the visit's download ticket: the sender reports against it what it sent, so
 * the server counts the download exactly as one it served (server/shares/peer-coverage.ts).
 */
import { FerryError } from '../../../shared/errors.ts';
import { PeerRecords, type RecordSource } from '../../../shared/p2p/peer-records.ts';
import { cipherRange, type RecordLayout, recordAtCipherOffset } from '../../../shared/records.ts';
import { fetchCiphertext as fetchFromServer } from '../api/share-client.ts';
import { rewindRecord } from '../transfer/receive/resume.ts';
import { ShareChannel } from './share-channel.ts';
import type { SharePullContext } from './share-control/context.ts';
import { dispatchShareControl } from './share-control/dispatch.ts';
import { SHARE_PULL_HANDLERS } from './share-control/index.ts';
import { SignalingClient, signalingUrl } from './signaling.svelte.ts';

export interface PullTarget {
  shareId: string;
  readerToken: string;
  secret: Uint8Array<ArrayBuffer>;
  /** File `index`'s record layout, from the manifest (null: no such file). */
  layout: (index: number) => RecordLayout | null;
}

export class SharePull {
  readonly #target: PullTarget;
  readonly #signaling: SignalingClient;
  #channel = $state<ShareChannel | null>(null);
  #direct = $state(false);
  /** The owner peer whose connection failed: not tried again until another owner appears. */
  #failedOwner: string | null = null;
  /** The running pull of each file. */
  #records = new Map<number, PeerRecords>();
  #unsubscribe: (() => void)[] = [];

  /** The page is no device to send to: its connection is unlisted (no tile nearby). */
  constructor(target: PullTarget, signaling = new SignalingClient(signalingUrl({ listed: false }))) {
    this.#target = target;
    this.#signaling = signaling;
  }

  /** True while a verified channel to the sender's tab is open: downloads come from it. */
  get direct(): boolean {
    return this.#direct;
  }

  start(): void {
    const room = `share:${this.#target.shareId}`;
    this.#unsubscribe = [
      this.#signaling.on('welcome', () => this.#join()),
      this.#signaling.on('share-room', ({ room: which, peers }) => {
        if (which !== room) return;
        const owner = peers.find((p) => p.role === 'owner');
        const channel = this.#channel;
        if (channel && channel.peerId !== owner?.id) channel.close(new FerryError('NETWORK_ERROR', 'The sender left.'));
        if (owner && !this.#channel && owner.id !== this.#failedOwner) this.#connect(owner.id);
      }),
      this.#signaling.on('relay', (message) => {
        if (message.kind === 'share-signal' && message.from === this.#channel?.peerId) {
          this.#channel.signal(message.data);
        }
      }),
    ];
    this.#signaling.start();
    this.#join();
  }

  dispose(): void {
    for (const stop of this.#unsubscribe) stop();
    this.#channel?.close(new FerryError('ABORTED', 'Closed.'));
    this.#signaling.stop();
  }

  /**
   * Ciphertext of a file from `start` (a record boundary) to its end: from the sender's
   * tab while a verified channel is open, else from the server; `onSource` hears which.
   * Same arguments as the server client's fetchCiphertext.
   */
  fetchCiphertext(onSource: (index: number, source: RecordSource) => void): typeof fetchFromServer {
    return async (id, index, auth, start = 0, end, signal) => {
      const layout = this.#target.layout(index);
      const channel = this.#channel;
      const from = layout && end === undefined ? recordAtCipherOffset(layout, start) : -1;
      if (!layout || !channel?.open || id !== this.#target.shareId || cipherRange(layout, from)[0] !== start) {
        onSource(index, 'server');
        return fetchFromServer(id, index, auth, start, end, signal);
      }
      const records = new PeerRecords({
        layout,
        from,
        channel: {
          pull: (record) => channel.send({ type: 'pull', file: index, from: record, ticket: auth.ticket }),
          ack: (next) => channel.send({ type: 'pull-ack', file: index, next }),
          stop: () => {
            if (this.#records.get(index) === records) this.#records.delete(index);
            if (channel.open) channel.send({ type: 'pull-stop', file: index });
          },
        },
        fromServer: async (offset) => {
          const response = await fetchFromServer(id, index, auth, offset, undefined, signal);
          if (!response.body) throw new FerryError('NETWORK_ERROR', 'The server sent no data.');
          return response.body;
        },
        onSource: (source) => onSource(index, source),
        // The sender reports what it sent every MiB: start the server's part before any unreported bytes.
        rewind: (next) => rewindRecord(layout, next),
      });
      this.#records.set(index, records);
      return new Response(records.stream, { status: 206 });
    };
  }

  #join(): void {
    this.#signaling.joinShare(this.#target.shareId, 'reader', this.#target.readerToken);
  }

  #connect(ownerId: string): void {
    const channel = new ShareChannel(this.#signaling, ownerId, true, this.#target.secret, {
      control: (message) => dispatchShareControl(SHARE_PULL_HANDLERS, context, message),
      frame: (frame) => this.#records.get(frame.file)?.push(frame.record, frame.bytes),
      close: () => {
        if (this.#channel !== channel) return;
        this.#channel = null;
        this.#direct = false;
        // Not tried again: a sender tab that comes back has a new peer id.
        this.#failedOwner = ownerId;
        for (const records of this.#records.values()) records.lost();
        this.#records.clear();
      },
    });
    const context: SharePullContext = {
      from: 'The sender',
      close: (error) => channel.close(error),
      records: (file) => this.#records.get(file),
    };
    this.#channel = channel;
    channel.verified.then(
      () => {
        if (this.#channel === channel) this.#direct = true;
      },
      () => {
        this.#failedOwner = ownerId;
      },
    );
  }
}
