/** `hello`: the device's name and its client-kept id; the peer's rooms hear `peer-updated`. */
import type { MessageHandler } from '../context.ts';
import { announceUpdate } from '../room-events.ts';

export const hello: MessageHandler<'hello'> = async ({ peer, bus }, message) => {
  peer.deviceName = message.deviceName ?? null;
  peer.deviceId = message.deviceId ?? null;
  peer.frames = message.frames ?? null;
  await bus.update(peer.record());
  await announceUpdate(bus, peer.id);
};
