/**
 * Where a ReceiverSession (receiver-session.ts) puts the records it receives: a sink that
 * opens each sealed record (shared/record-aead.ts openSealedRecords: tag, index and final
 * flag), stores the plaintext and checks each file's BLAKE3 once its last record is stored.
 * verifying-sink.ts is that sink over any FileStore: memory in the tests, a file for the
 * ferry command, OPFS in the app's writer worker (client/lib/p2p/opfs-sink.ts is the page's
 * side of it).
 *
 * Invariants every sink keeps: records of a file are taken strictly in order, so what it
 * reports as verified is a prefix count of what is stored; after its first failure it takes
 * nothing more; `close(true)` leaves nothing of a file that was not verified whole.
 */
import type { FerryError } from '../errors.ts';
import type { FileCipher } from '../records.ts';

/** What a sink tells its session. */
export interface SinkEvents {
  /** Records [0, records) of `file` are verified and stored. */
  verified(file: number, records: number): void;
  /** The first failure (a record or a file that failed verification, storage full or broken); nothing follows. */
  failed(error: FerryError): void;
}

export interface RecordSink {
  /**
   * Starts file `file`; settles once all its records are verified and stored and its
   * BLAKE3 (hex) matched, or rejects with the sink's failure.
   */
  open(file: number, cipher: FileCipher, blake3: string): Promise<void>;
  /**
   * Sealed records first, first + 1, … of an open file, in order. Ownership of their
   * buffer passes to the sink (a decoded frame's records are views back to back in one).
   */
  write(file: number, first: number, records: readonly Uint8Array<ArrayBuffer>[]): void;
  /** Settles once every record written so far is handled (verified and stored, or refused); rejects after a failure. */
  sync(): Promise<void>;
  /** Releases the sink; with `discard`, every file it opened that was not verified whole is deleted. */
  close(discard: boolean): Promise<void>;
}

/** Makes the sink of one transfer (when the person accepts), wired to the session's events. */
export type SinkFactory = (events: SinkEvents) => RecordSink;
