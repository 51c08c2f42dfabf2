/**
 * The requester's view of one request: what senders uploaded into it. Each upload's secret
 * is derived here from the requester's private key and the sender's public key, which
 * gives the share link (`/s/<id>#<secret>`) the receive view opens, and the metadata key
 * that shows the file names. Reloads every few seconds while shown.
 */
import type { FerryError } from '../../../shared/errors.ts';
import { deriveShareKeys } from '../../../shared/keys.ts';
import { formatShareLink } from '../../../shared/link.ts';
import { openManifest } from '../../../shared/manifest.ts';
import type { RequestOwnerView, RequestUpload } from '../../../shared/request-api.ts';
import { requesterUploadSecret } from '../../../shared/request-keys.ts';
import { getManifest } from '../api/share-client.ts';
import { toFerryError } from '../transfer/send/errors.ts';
import { closeRequest, deleteUpload, getRequestOwnerView } from './request-client.ts';
import { type OwnedRequest, putRequest } from './request-db.ts';

/** How often the list is reloaded while the page shows it. */
const POLL_MS = 3000;

export interface ReceivedUpload extends RequestUpload {
  /** Opens the upload in the receive view; null when its share is gone. */
  link: string | null;
  /** File names from the decrypted manifest; null until known. */
  names: string[] | null;
  /** Why the upload cannot be opened, for people; null when it can. */
  problem: string | null;
}

export class RequestInbox {
  readonly #record: OwnedRequest;
  #view = $state<RequestOwnerView | null>(null);
  #uploads = $state<ReceivedUpload[]>([]);
  #error = $state<FerryError | null>(null);
  /** Derived links and names by share id: the manifest is opened once per upload state. */
  readonly #known = new Map<string, ReceivedUpload>();

  constructor(record: OwnedRequest) {
    this.#record = record;
  }

  get view(): RequestOwnerView | null {
    return this.#view;
  }
  get uploads(): ReceivedUpload[] {
    return this.#uploads;
  }
  get error(): FerryError | null {
    return this.#error;
  }

  async refresh(): Promise<void> {
    try {
      const view = await getRequestOwnerView(this.#record.id, this.#record.ownerToken);
      const uploads: ReceivedUpload[] = [];
      for (const upload of view.uploads) uploads.push(await this.#describe(upload));
      this.#view = view;
      this.#uploads = uploads;
      this.#error = null;
    } catch (error) {
      this.#error = toFerryError(error);
    }
  }

  /** Closes the request: senders are refused from now on; what was sent stays here. */
  async close(): Promise<void> {
    try {
      await closeRequest(this.#record.id, this.#record.ownerToken);
      await putRequest({ ...this.#record, closed: true });
    } catch (error) {
      this.#error = toFerryError(error);
    }
    await this.refresh();
  }

  /** Deletes one upload (files the requester did not want); the list reloads. */
  async remove(shareId: string): Promise<void> {
    try {
      await deleteUpload(this.#record.id, shareId, this.#record.ownerToken);
      this.#known.delete(shareId);
    } catch (error) {
      this.#error = toFerryError(error);
    }
    await this.refresh();
  }

  /** Loads now and every few seconds until the returned function is called. */
  watch(): () => void {
    void this.refresh();
    const timer = setInterval(() => void this.refresh(), POLL_MS);
    return () => clearInterval(timer);
  }

  async #describe(upload: RequestUpload): Promise<ReceivedUpload> {
    const known = this.#known.get(upload.shareId);
    if (known && known.state === upload.state) return known;
    const described: ReceivedUpload = { ...upload, link: null, names: null, problem: null };
    if (upload.state === 'gone') {
      described.problem = 'These files have expired or were withdrawn.';
    } else {
      try {
        const secret = await requesterUploadSecret(this.#record.privateKey, {
          requestId: this.#record.id,
          requesterKey: this.#record.publicKey,
          senderKey: upload.senderKey,
        });
        described.link = formatShareLink(location.origin, { id: upload.shareId, key: secret });
        const keys = await deriveShareKeys(secret);
        const { manifest } = await getManifest(upload.shareId, keys.readerToken);
        described.names = (await openManifest(manifest, keys.metaKey)).files.map((f) => f.name);
      } catch (error) {
        described.problem = toFerryError(error).message;
      }
    }
    // A failure may be passing (the network): only what worked, or a gone share, is kept.
    if (described.problem === null || upload.state === 'gone') this.#known.set(upload.shareId, described);
    return described;
  }
}
