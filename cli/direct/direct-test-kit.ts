/**
 * For the tests of the command's direct transfers without WebRTC: two ends of one
 * in-memory connection that can be cut as a network would, a DirectReceive that takes the
 * offer when it comes, and files on disk planned for sending.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FerryError } from '../../shared/errors.ts';
import { type ControlMessageOf, FRAME_V2 } from '../../shared/p2p/frames.ts';
import { MemoryChannel } from '../../shared/p2p/session-test-kit.ts';
import { collectFiles } from '../sources.ts';
import { DirectReceive, type DirectReceiveOptions, type ReceiveConnection } from './direct-receive.ts';
import { planTransfer, type SendConnection } from './direct-send.ts';

/** Two ends of one in-memory connection; `cut()` drops it as a network would (both hear NETWORK_ERROR). */
export function connectionPair() {
  let loseSender!: (error: FerryError) => void;
  let loseReceiver!: (error: FerryError) => void;
  const senderLink = new MemoryChannel(true);
  const receiverLink = new MemoryChannel(false);
  const sender: SendConnection = {
    link: senderLink,
    auth: { confirmed: Promise.resolve() },
    lost: new Promise<never>((_, reject) => {
      loseSender = reject;
    }),
    onControl: () => {},
    close: (error) => cut(error),
  };
  const receiver: ReceiveConnection = {
    link: receiverLink,
    lost: new Promise<never>((_, reject) => {
      loseReceiver = reject;
    }),
    onControl: () => {},
    onBinary: () => {},
    close: (error) => cut(error),
  };
  sender.lost.catch(() => {});
  receiver.lost.catch(() => {});
  let frames = 0;
  let cutAfter = Number.POSITIVE_INFINITY;
  senderLink.deliverControl = (message) => {
    if (!senderLink.closed) receiver.onControl(message);
  };
  senderLink.deliverFrame = (frame) => {
    if (senderLink.closed) return;
    receiver.onBinary(frame);
    if (++frames === cutAfter) cut();
  };
  /** The acknowledgements of file 0 that reached the sender. */
  const acked: number[] = [];
  receiverLink.deliverControl = (message) => {
    if (receiverLink.closed) return;
    if (message.type === 'ack' && message.file === 0) acked.push(message.verified);
    sender.onControl(message);
  };
  function cut(error = new FerryError('NETWORK_ERROR', 'The connection was cut.')): void {
    if (senderLink.closed) return;
    senderLink.closed = true;
    receiverLink.closed = true;
    loseSender(error);
    loseReceiver(error);
  }
  return {
    sender,
    receiver,
    senderLink,
    acked,
    cutAfterFrames: (n: number) => {
      cutAfter = n;
    },
  };
}

/** The receiving side: opens the offer when it comes on `connection`, accepts it, receives into `out`. */
export function receiveOn(
  connection: ReceiveConnection,
  out: string,
  server: string,
  lines: string[],
  more: Partial<DirectReceiveOptions> = {},
) {
  let made!: (transfer: DirectReceive) => void;
  const transfer = new Promise<DirectReceive>((resolve) => {
    made = resolve;
  });
  const paths = new Promise<string[]>((resolve, reject) => {
    connection.onControl = (message) => {
      if (message.type !== 'offer') return;
      const receiving = new DirectReceive(message as ControlMessageOf<'offer'>, connection, {
        server,
        out,
        quiet: true,
        say: (line) => lines.push(line),
        peerName: 'Sender',
        ...more,
      });
      made(receiving);
      void receiving.open().then(() => receiving.receive().then(resolve, reject), reject);
    };
  });
  return { transfer, paths };
}

/** Files of `sizes` random bytes under `dir`, and the transfer of them, planned; `out`: where to receive them. */
export async function filesOn(dir: string, name: string, sizes: number[]) {
  const contents = sizes.map((size) => randomBytes(size));
  const paths = contents.map((_, i) => path.join(dir, `${name}-${i}.bin`));
  for (const [i, file] of paths.entries()) await writeFile(file, contents[i]!);
  const files = await collectFiles(paths, path.join(dir, 'spool'));
  return { contents, planned: await planTransfer(files, FRAME_V2), out: path.join(dir, `${name}-out`) };
}
