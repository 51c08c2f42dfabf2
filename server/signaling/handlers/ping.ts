/** `ping`: an application-level keep-alive for clients that cannot see WebSocket pings. */
import type { MessageHandler } from '../context.ts';

export const ping: MessageHandler<'ping'> = async ({ peer }) => {
  peer.send({ type: 'pong' });
};
