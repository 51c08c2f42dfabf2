/**
 * `share-join`: into room `share:<id>` of a live share, as its sender (owner token) or a
 * recipient (reader token). Same checks and order as the HTTP API: share id → state → token.
 */
import { timingSafeEqual } from '../../../shared/encoding.ts';
import { FerryError } from '../../../shared/errors.ts';
import { tokenHash } from '../../../shared/keys.ts';
import { assertDownloadsLeft, loadLiveShare } from '../../shares/access.ts';
import type { MessageHandler } from '../context.ts';
import { enterRoom } from '../room-events.ts';

export const shareJoin: MessageHandler<'share-join'> = async ({ peer, bus, shares, now }, message) => {
  const share = await loadLiveShare(shares, message.shareId, now());
  if (message.role === 'reader') assertDownloadsLeft(share);
  const expected = message.role === 'owner' ? share.ownerHash : share.readerHash;
  if (!timingSafeEqual(await tokenHash(message.token), expected)) {
    throw new FerryError('UNAUTHORIZED', `This needs the share's ${message.role} token.`);
  }
  await enterRoom(bus, `share:${share.id}`, peer.id, { role: message.role });
};
