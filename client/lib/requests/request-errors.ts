/** How a request link that cannot take files reads: one error page per reason. */
import type { FerryError } from '../../../shared/errors.ts';

export interface RequestErrorPage {
  title: string;
  message: string;
}

const PAGES: Partial<Record<FerryError['code'], RequestErrorPage>> = {
  REQUEST_NOT_FOUND: {
    title: 'File request not found',
    message: 'There is no file request at this address. It may have been deleted after it ended.',
  },
  REQUEST_EXPIRED: {
    title: 'This file request has expired',
    message: 'The person who asked for files chose how long this link would take them, and that time is over.',
  },
  REQUEST_CLOSED: {
    title: 'This file request was closed',
    message: 'The person who asked for files is not taking any more through this link.',
  },
  WRONG_KEY: {
    title: 'This request link is incomplete',
    message: 'Part of the link is missing. Ask for the whole link to be sent again.',
  },
};

export function requestErrorPage(error: FerryError): RequestErrorPage {
  return PAGES[error.code] ?? { title: 'Ferry could not open this request', message: error.message };
}

/**
 * The sentence a sender into a request reads when a send failed: the request's end reads
 * like its page; a revoked upload was the requester's Delete (the share's own sentence
 * speaks of "the sender", the very person reading it); anything else keeps its sentence.
 */
export function sendFailureText(error: FerryError): string {
  if (error.code === 'REQUEST_EXPIRED' || error.code === 'REQUEST_CLOSED' || error.code === 'REQUEST_NOT_FOUND') {
    return requestErrorPage(error).title;
  }
  if (error.code === 'SHARE_REVOKED') {
    return 'The person who asked for these files removed this upload before it finished.';
  }
  return error.message;
}
