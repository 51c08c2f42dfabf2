/**
 * The page's one signaling connection, shared by nearby devices and by the share link this
 * tab serves (share-host.svelte.ts): a second WebSocket would put the tab in its network
 * room twice, so other devices would see it twice. A browser that cannot receive directly
 * (capabilities.ts) connects unlisted: other devices do not see it.
 */
import { directTransfersBlocked } from './capabilities.ts';
import { SignalingClient, signalingUrl } from './signaling.svelte.ts';

let client: SignalingClient | null = null;

/** The page's SignalingClient, made on first use. */
export function pageSignaling(): SignalingClient {
  client ??= new SignalingClient(directTransfersBlocked().then((why) => signalingUrl({ listed: why === null })));
  return client;
}
