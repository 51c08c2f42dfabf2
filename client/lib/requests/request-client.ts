/**
 * The app's side of the request-link API: shared/request-client.ts against the page's own
 * server (relative URLs), with this browser's upload key on creation.
 */
import { RequestApi } from '../../../shared/request-client.ts';
import { uploadKeyHeaders } from '../access/upload-key-db.ts';

const api = new RequestApi('', { creationHeaders: uploadKeyHeaders });

/** Creates a request link, with this browser's upload key when it has one. */
export const createRequest: RequestApi['createRequest'] = (body) => api.createRequest(body);
export const getRequestInfo: RequestApi['getRequestInfo'] = (id) => api.getRequestInfo(id);
export const getRequestOwnerView: RequestApi['getOwnerView'] = (id, ownerToken) => api.getOwnerView(id, ownerToken);
export const closeRequest: RequestApi['closeRequest'] = (id, ownerToken) => api.closeRequest(id, ownerToken);
/** Removes one upload: its share is revoked and its room in the request freed. */
export const deleteUpload: RequestApi['deleteUpload'] = (id, shareId, ownerToken) =>
  api.deleteUpload(id, shareId, ownerToken);
/** Creates a sender's upload (an ordinary share) inside the request. */
export const createUpload: RequestApi['createUpload'] = (id, body) => api.createUpload(id, body);
