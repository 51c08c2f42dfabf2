/** What the P2P baseline page offers bench/p2p.ts through `window.p2pBench`. */
export interface BaselineRun {
  /** From the first byte handed to the channel to the receiver's "done" arriving back, ms. */
  ms: number;
  /** Bytes the receiver counted. */
  bytes: number;
}

export interface P2pBenchApi {
  /**
   * Sender: a new connection (`config`: what the Ferry server gives its pages, /api/ice) with
   * one data channel; answers the complete offer (ICE gathered).
   */
  offer(config: RTCConfiguration): Promise<string>;
  /** Receiver: takes the offer, answers the complete answer; counts whatever arrives from then on. */
  answer(offer: string, config: RTCConfiguration): Promise<string>;
  /**
   * Sender: takes the answer and resolves once the channel is open, with the selected
   * candidate pair's round trip (ms, from ICE consistency checks; null when not known yet).
   */
  accept(answer: string): Promise<number | null>;
  /**
   * Raw channel: `total` bytes in `messageBytes` messages, pausing while more than `high`
   * bytes are queued and resuming on `bufferedamountlow` below `low` (Ferry's PeerLink marks).
   */
  sendFlow(total: number, messageBytes: number, low: number, high: number): Promise<BaselineRun>;
  /**
   * PairDrop's scheme: `chunkBytes` messages; once a partition of at least `partitionBytes`
   * is sent, stop until the receiver acknowledges it.
   */
  sendStopAndWait(total: number, chunkBytes: number, partitionBytes: number): Promise<BaselineRun>;
  close(): void;
}

/** Ferry's PeerLink flow-control marks, as built into the page. */
export interface Marks {
  low: number;
  high: number;
}

export type P2pBenchWindow = Window & { p2pBench: P2pBenchApi; p2pMarks: Marks };
