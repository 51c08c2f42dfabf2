/** The files this browser received, as the history view shows them; follows the store's changes. */

import { FerryError } from '../../../shared/errors.ts';
import type { ReceivedRecord } from './db.ts';
import { clearReceived, listReceived, onReceivedChange } from './received.ts';

export class ReceivedHistory {
  #records = $state<ReceivedRecord[]>([]);
  #error = $state<FerryError | null>(null);
  #clearing = $state(false);
  readonly #off: () => void;

  constructor() {
    this.#off = onReceivedChange(() => void this.refresh());
  }

  get records(): readonly ReceivedRecord[] {
    return this.#records;
  }
  get error(): FerryError | null {
    return this.#error;
  }
  get clearing(): boolean {
    return this.#clearing;
  }

  async refresh(): Promise<void> {
    try {
      this.#records = await listReceived();
      this.#error = null;
    } catch (error) {
      this.#error = new FerryError('INTERNAL', 'The list of received files could not be read.', { cause: error });
    }
  }

  /** Forgets every entry (the files themselves stay where they were saved). */
  async clear(): Promise<void> {
    if (this.#clearing) return;
    this.#clearing = true;
    let failure: FerryError | null = null;
    try {
      await clearReceived();
    } catch (error) {
      failure = new FerryError('INTERNAL', 'The list of received files could not be cleared.', { cause: error });
    } finally {
      this.#clearing = false;
    }
    await this.refresh();
    if (failure) this.#error = failure;
  }

  dispose(): void {
    this.#off();
  }
}
