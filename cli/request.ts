/**
 * `ferry request` and `ferry inbox`: a request link ("reverse share", shared/request-keys.ts)
 * made from a terminal, and the files senders uploaded into it fetched to a folder.
 *
 * The requester's ECDH private key is the only way to open what is sent: the app keeps it
 * as a non-extractable CryptoKey in IndexedDB, `ferry` as PKCS #8 in the state directory
 * (state.ts `requests/<id>.json`, mode 0600). Each upload is an ordinary share whose secret
 * is derived from that key and the sender's public key, so it is fetched exactly as `ferry
 * receive` fetches a link: every record and each file's BLAKE3 verified, nothing that
 * failed left under its final name.
 */
import { readdir } from 'node:fs/promises';
import { ShareApi } from '../shared/api-client.ts';
import { FerryError } from '../shared/errors.ts';
import { DEFAULT_RECORD_SIZE } from '../shared/limits.ts';
import { encryptedSize } from '../shared/records.ts';
import { type CreateRequestBody, MAX_REQUEST_FILES, type RequestOwnerView } from '../shared/request-api.ts';
import { RequestApi } from '../shared/request-client.ts';
import {
  exportPrivateKey,
  exportPublicKey,
  importPrivateKey,
  newRequesterKeys,
  requesterUploadSecret,
} from '../shared/request-keys.ts';
import { formatRequestLink, noteProblem } from '../shared/request-link.ts';
import { type ReceiveResult, receiveShare } from './receive.ts';
import { needsNoKey, uploadKeyHeaders } from './send.ts';
import { ownedRequest, type RequestState } from './state.ts';

/** What the app's form offers first: 100 MB, 10 files. */
export const DEFAULT_REQUEST_MEGABYTES = 100;
export const DEFAULT_REQUEST_FILES = 10;
const MB = 1_000_000;

export interface RequestOptions {
  server: string;
  uploadKey: string | null;
  expiresInSeconds: number;
  megabytes: number;
  files: number;
  note: string;
}

export interface MadeRequest {
  link: string;
  id: string;
  expiresAt: number;
  maxBytes: number;
  maxFiles: number;
}

/** The request's limits as the server takes them, or BAD_REQUEST naming the option. */
export function requestBody(options: Omit<RequestOptions, 'server' | 'uploadKey'>): CreateRequestBody {
  const { megabytes, files, note } = options;
  if (!Number.isInteger(megabytes) || megabytes < 1) {
    throw new FerryError('BAD_REQUEST', '--megabytes must be a whole number of megabytes, 1 or more.');
  }
  if (!Number.isInteger(files) || files < 1 || files > MAX_REQUEST_FILES) {
    throw new FerryError('BAD_REQUEST', `--files must be a whole number from 1 to ${MAX_REQUEST_FILES}.`);
  }
  const problem = noteProblem(note);
  if (problem) throw new FerryError('BAD_REQUEST', `--note: ${problem}`);
  // The server counts stored bytes: each 64 KiB record carries a 16-byte tag (as the app counts).
  const maxBytes = encryptedSize({ size: megabytes * MB, recordSize: DEFAULT_RECORD_SIZE });
  return { maxBytes, maxFiles: files, expiresInSeconds: options.expiresInSeconds };
}

/** Makes the key pair, creates the request, and keeps both in the state directory before answering. */
export async function makeRequest(options: RequestOptions): Promise<MadeRequest> {
  const server = new URL(options.server).origin;
  const body = requestBody(options);
  if (!options.uploadKey) await needsNoKey(server);
  const api = new RequestApi(server, { creationHeaders: async () => uploadKeyHeaders(options.uploadKey) });
  const keys = await newRequesterKeys(true);
  const publicKey = await exportPublicKey(keys.publicKey);
  const created = await api.createRequest(body);
  const link = formatRequestLink(server, { id: created.id, key: publicKey, note: options.note });
  await ownedRequest.save({
    server,
    id: created.id,
    ownerToken: created.ownerToken,
    privateKey: await exportPrivateKey(keys.privateKey),
    publicKey,
    link,
    expiresAt: created.expiresAt,
    maxBytes: created.maxBytes,
    maxFiles: created.maxFiles,
    fetched: [],
  });
  return { link, id: created.id, expiresAt: created.expiresAt, maxBytes: created.maxBytes, maxFiles: created.maxFiles };
}

/** The id in `ID` or in a request link `…/r/ID#key`. */
export function requestIdOf(given: string): string {
  const match = /^(?:.*\/r\/)?([A-Za-z0-9_-]{16})(?:[/#].*)?$/.exec(given.trim());
  if (!match?.[1]) throw new FerryError('BAD_REQUEST', `${given} is neither a request id nor a request link.`);
  return match[1];
}

/** A request this machine made, or REQUEST_NOT_FOUND (its private key is nowhere else). */
async function ownRequest(given: string): Promise<RequestState> {
  const id = requestIdOf(given);
  const state = await ownedRequest.load(id);
  if (!state) {
    throw new FerryError(
      'REQUEST_NOT_FOUND',
      `This machine did not make request ${id}: only the one that made it holds its key.`,
    );
  }
  return state;
}

export interface InboxUpload {
  shareId: string;
  state: 'uploading' | 'ready' | 'gone';
  createdAt: number;
  /** Whole files fetched by this run or an earlier one. */
  fetched: boolean;
  /** What this run wrote; empty when it fetched nothing of this upload. */
  files: ReceiveResult['files'];
}

export interface InboxResult {
  id: string;
  state: RequestOwnerView['state'];
  expiresAt: number;
  usedFiles: number;
  maxFiles: number;
  uploads: InboxUpload[];
}

/**
 * Fetches every upload that is ready and not fetched before into `out`, one after another
 * (each one saved as fetched once its files are verified and in place). When the request
 * takes no more files and this run found nothing new, it fails with REQUEST_EXPIRED or
 * REQUEST_CLOSED, so a script that polls `ferry inbox` knows when to stop.
 */
export async function inbox(given: string, options: { out: string; quiet: boolean }): Promise<InboxResult> {
  if (options.out === '-') throw new FerryError('BAD_REQUEST', 'ferry inbox writes to a folder: -o DIR, not -o -.');
  let state = await ownRequest(given);
  const view = await new RequestApi(state.server).getOwnerView(state.id, state.ownerToken);
  const shares = new ShareApi(state.server);
  const privateKey = await importPrivateKey(state.privateKey);
  const uploads: InboxUpload[] = [];
  let fetchedNow = 0;
  for (const upload of view.uploads) {
    const item: InboxUpload = {
      shareId: upload.shareId,
      state: upload.state,
      createdAt: upload.createdAt,
      fetched: state.fetched.includes(upload.shareId),
      files: [],
    };
    uploads.push(item);
    if (upload.state !== 'ready' || item.fetched) continue;
    const secret = await requesterUploadSecret(privateKey, {
      requestId: state.id,
      requesterKey: state.publicKey,
      senderKey: upload.senderKey,
    });
    const received = await receiveShare(shares, upload.shareId, secret, { out: options.out, quiet: options.quiet });
    state = { ...state, fetched: [...state.fetched, upload.shareId] };
    await ownedRequest.save(state);
    item.fetched = true;
    item.files = received.files;
    fetchedNow++;
  }
  const waiting = view.uploads.some((u) => u.state === 'uploading');
  if (view.state !== 'open' && fetchedNow === 0 && !waiting) {
    throw new FerryError(
      view.state === 'expired' ? 'REQUEST_EXPIRED' : 'REQUEST_CLOSED',
      `Request ${state.id} ${view.state === 'expired' ? 'has expired' : 'was closed'}: it takes no more files and there is nothing new to fetch.`,
    );
  }
  return {
    id: state.id,
    state: view.state,
    expiresAt: view.expiresAt,
    usedFiles: view.usedFiles,
    maxFiles: view.maxFiles,
    uploads,
  };
}

export interface RequestSummary {
  id: string;
  link: string;
  state: RequestOwnerView['state'];
  expiresAt: number;
  uploads: number;
  /** Uploads ready and not fetched yet. */
  waiting: number;
}

/** Every request this machine made, as its server sees it now (newest last, by id order of the files). */
export async function listRequests(): Promise<RequestSummary[]> {
  const names = await readdir(ownedRequest.dir()).catch(() => [] as string[]);
  const out: RequestSummary[] = [];
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    const state = await ownRequest(name.slice(0, -'.json'.length));
    const view = await new RequestApi(state.server).getOwnerView(state.id, state.ownerToken);
    out.push({
      id: state.id,
      link: state.link,
      state: view.state,
      expiresAt: view.expiresAt,
      uploads: view.uploads.length,
      waiting: view.uploads.filter((u) => u.state === 'ready' && !state.fetched.includes(u.shareId)).length,
    });
  }
  return out;
}
