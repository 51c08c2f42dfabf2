import { describe, expect, it } from 'vitest';
import { FerryError } from '../../../shared/errors.ts';
import { sendFailureText } from './request-errors.ts';

describe('what a sender into a request reads when sending fails', () => {
  it('names the request’s end as its page does', () => {
    expect(sendFailureText(new FerryError('REQUEST_CLOSED', 'closed'))).toBe('This file request was closed');
    expect(sendFailureText(new FerryError('REQUEST_EXPIRED', 'expired'))).toBe('This file request has expired');
  });

  it('says the requester removed the upload, not that "the sender" deleted it', () => {
    // The requester's Delete revokes the upload's share; tus then answers SHARE_REVOKED,
    // whose own sentence speaks of the sender, which is the person reading it here.
    const text = sendFailureText(new FerryError('SHARE_REVOKED', 'The sender has deleted this share.'));
    expect(text).toBe('The person who asked for these files removed this upload before it finished.');
  });

  it('keeps any other error’s own sentence', () => {
    expect(sendFailureText(new FerryError('NETWORK_ERROR', 'The connection was lost.'))).toBe(
      'The connection was lost.',
    );
  });
});
