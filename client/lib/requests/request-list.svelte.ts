/**
 * The request links this browser created, as the send view lists them: create one (a new
 * key pair, kept in IndexedDB), close one. State lives here; components render it.
 */
import { FerryError } from '../../../shared/errors.ts';
import type { CreateRequestBody } from '../../../shared/request-api.ts';
import { exportPublicKey, newRequesterKeys } from '../../../shared/request-keys.ts';
import { formatRequestLink } from '../../../shared/request-link.ts';
import { toFerryError } from '../transfer/send/errors.ts';
import { closeRequest, createRequest } from './request-client.ts';
import { listOwnedRequests, type OwnedRequest, putRequest } from './request-db.ts';

export class RequestList {
  #records = $state<OwnedRequest[]>([]);
  #error = $state<FerryError | null>(null);
  #busy = $state(false);
  #latest = $state<string | null>(null);

  get records(): OwnedRequest[] {
    return this.#records;
  }
  get error(): FerryError | null {
    return this.#error;
  }
  get busy(): boolean {
    return this.#busy;
  }
  /** The id of the request created last on this page. */
  get latest(): string | null {
    return this.#latest;
  }

  async refresh(): Promise<void> {
    try {
      this.#records = await listOwnedRequests();
    } catch (error) {
      this.#error = toFerryError(error);
    }
  }

  /** Makes the key pair, creates the request on the server, and keeps both here. */
  async create(body: CreateRequestBody, note: string): Promise<void> {
    await this.#run(async () => {
      const keys = await newRequesterKeys();
      if (keys.privateKey.extractable) throw new FerryError('INTERNAL', 'The private key must not be extractable.');
      const publicKey = await exportPublicKey(keys.publicKey);
      const created = await createRequest(body);
      await putRequest({
        id: created.id,
        ownerToken: created.ownerToken,
        privateKey: keys.privateKey,
        publicKey,
        link: formatRequestLink(location.origin, { id: created.id, key: publicKey, note }),
        note,
        createdAt: Date.now(),
        expiresAt: created.expiresAt,
        maxBytes: created.maxBytes,
        maxFiles: created.maxFiles,
        closed: false,
      });
      this.#latest = created.id;
    });
  }

  /** Closes a request: senders are refused from now on; what was sent stays readable. */
  async close(record: OwnedRequest): Promise<void> {
    await this.#run(async () => {
      try {
        await closeRequest(record.id, record.ownerToken);
      } catch (error) {
        // Already gone on the server: closing it here is all that is left to do.
        if (!(error instanceof FerryError && error.code === 'REQUEST_NOT_FOUND')) throw error;
      }
      await putRequest({ ...record, closed: true });
    });
  }

  async #run(action: () => Promise<void>): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    this.#error = null;
    try {
      await action();
      await this.refresh();
    } catch (error) {
      this.#error = toFerryError(error);
    } finally {
      this.#busy = false;
    }
  }
}
