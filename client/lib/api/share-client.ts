/**
 * The app's side of the share API: shared/api-client.ts against the page's own server
 * (relative URLs), with this browser's upload key on creation (a key-only server needs it).
 */
import { ShareApi } from '../../../shared/api-client.ts';
import { uploadKeyHeaders } from '../access/upload-key-db.ts';

export { call } from '../../../shared/api-client.ts';
export { json } from '../../../shared/http-client.ts';
// The schema-free part lives in ciphertext.ts (the service worker bundles it alone).
export { bearer, errorFromResponse, fetchCiphertext, request } from './ciphertext.ts';

const api = new ShareApi('', { creationHeaders: uploadKeyHeaders });

export const createShare: ShareApi['createShare'] = (body) => api.createShare(body);
export const createShareWithOwnTokens: ShareApi['createShareWithOwnTokens'] = (body) =>
  api.createShareWithOwnTokens(body);
export const getShareInfo: ShareApi['getShareInfo'] = (id) => api.getShareInfo(id);
export const getManifest: ShareApi['getManifest'] = (id, readerToken) => api.getManifest(id, readerToken);
export const getOwnerView: ShareApi['getOwnerView'] = (id, ownerToken) => api.getOwnerView(id, ownerToken);
export const updateShare: ShareApi['updateShare'] = (id, ownerToken, body) => api.updateShare(id, ownerToken, body);
export const revokeShare: ShareApi['revokeShare'] = (id, ownerToken) => api.revokeShare(id, ownerToken);
export const requestTicket: ShareApi['requestTicket'] = (id, readerToken, files, purpose) =>
  api.requestTicket(id, readerToken, files, purpose);
export const reportPeerCoverage: ShareApi['reportPeerCoverage'] = (id, ownerToken, body) =>
  api.reportPeerCoverage(id, ownerToken, body);
