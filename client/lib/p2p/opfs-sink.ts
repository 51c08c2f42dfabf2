/**
 * The app's RecordSink (shared/p2p/record-sink.ts): the OPFS writer worker of one transfer
 * (opfs-files.ts OpfsWriter), each file at receivedPath(transfer, index). The worker is the
 * engine's VerifyingSink over OPFS, so records are opened, written and hashed off the page's
 * thread by the same code as the ferry command's; a file verified whole stays in OPFS until
 * the page has saved it (incoming.svelte.ts), any other is deleted when the sink is closed
 * with `discard` (by the worker, and again here in case the worker could not).
 */

import type { RecordSink, SinkEvents } from '../../../shared/p2p/record-sink.ts';
import type { FileCipher } from '../../../shared/records.ts';
import { receivedPath } from './opfs-dir.ts';
import { OpfsWriter, removeReceived } from './opfs-files.ts';

export class OpfsSink implements RecordSink {
  readonly #transfer: string;
  readonly #writer: OpfsWriter;
  /** Files opened, and whether each is verified whole. */
  readonly #whole = new Map<number, boolean>();

  constructor(transfer: string, events: SinkEvents) {
    this.#transfer = transfer;
    this.#writer = new OpfsWriter(
      (file, verified) => events.verified(file, verified),
      (error) => events.failed(error),
    );
  }

  open(file: number, cipher: FileCipher, blake3: string): Promise<void> {
    this.#whole.set(file, false);
    const done = this.#writer.open(file, receivedPath(this.#transfer, file), cipher, blake3);
    return done.then(() => {
      this.#whole.set(file, true);
    });
  }

  write(file: number, first: number, records: readonly Uint8Array<ArrayBuffer>[]): void {
    // Their buffer is transferred to the worker, not copied (the sink owns it).
    this.#writer.writeFrame(file, first, records);
  }

  sync(): Promise<void> {
    return this.#writer.sync();
  }

  async close(discard: boolean): Promise<void> {
    await this.#writer.close(discard);
    if (!discard) return;
    for (const [file, whole] of this.#whole) if (!whole) await removeReceived(receivedPath(this.#transfer, file));
  }
}
