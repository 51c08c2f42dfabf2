/**
 * The page's one signaling connection, shared by nearby devices and by the share link this
 * tab serves (share-host.svelte.ts): a second WebSocket would put the tab in its network
 * room twice, so other devices would see it twice.
 */
import { SignalingClient } from './signaling.svelte.ts';

let client: SignalingClient | null = null;

/** The page's SignalingClient, made on first use. */
export function pageSignaling(): SignalingClient {
  client ??= new SignalingClient();
  return client;
}
