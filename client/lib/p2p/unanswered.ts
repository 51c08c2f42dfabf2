/**
 * Requests the signaling server answers in the order they were sent, each type on its own
 * queue (signaling.svelte.ts: `mailbox-put` → `mailbox-stored`, `mailbox-withdraw` →
 * `mailbox-withdrawn`, or an `error` naming the type). Invariant: every request is settled
 * once, by its answer, a refusal, or the connection's loss.
 */
import { FerryError } from '../../../shared/errors.ts';

/** Requests of one type, oldest first. */
export class Unanswered<T> {
  #waiting: { resolve: (answer: T) => void; reject: (error: FerryError) => void }[] = [];

  /** The answer to a request; `sent` false (the connection is down) rejects at once. */
  ask(sent: boolean): Promise<T> {
    if (!sent) return Promise.reject(new FerryError('NETWORK_ERROR', 'Not connected to the server.'));
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  /** The server answered the oldest request. */
  answer(answer: T): void {
    this.#waiting.shift()?.resolve(answer);
  }

  /** The server refused the oldest request. */
  refuse(error: FerryError): void {
    this.#waiting.shift()?.reject(error);
  }

  /** The connection is gone: no request on it will be answered. */
  dropAll(error: FerryError): void {
    for (const request of this.#waiting.splice(0)) request.reject(error);
  }
}
