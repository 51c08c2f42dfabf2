/**
 * `pull`, `pull-ack`, `pull-stop`, `pull-refused`: a share link's messages
 * (share-host.svelte.ts, share-pull.svelte.ts), which run on channels of their own. On a
 * link between devices they are refused as a message that does not parse is (PeerLink):
 * the link closes with INVALID_MESSAGE and a sentence naming the type.
 */
import { FerryError } from '../../../../shared/errors.ts';
import type { ControlHandler } from './context.ts';

export const notOnDeviceLinks: ControlHandler<'pull' | 'pull-ack' | 'pull-stop' | 'pull-refused'> = (ctx, message) => {
  ctx.drop(new FerryError('INVALID_MESSAGE', `The other device sent “${message.type}”, which devices do not use.`));
};
