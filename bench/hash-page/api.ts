/** What the hash bench page offers the runner through `window.ferryBench`. */
export interface HashRun {
  ms: number;
  digest: string;
}

export interface HashBenchApi {
  /** The app's `Hasher` (worker, incremental BLAKE3, 4 MiB reads) over the picked File. */
  hasher(): Promise<HashRun>;
  /** One hash-wasm `blake3()` call over the File's bytes, read into memory before the clock starts. */
  oneShot(): Promise<HashRun>;
}

export type BenchWindow = Window & { ferryBench: HashBenchApi };
