/**
 * `hello`: the device's name and its client-kept id. The name the device keeps becomes the
 * connection's name (a device is called the same on every visit, and a rename is seen at
 * once); the peer's rooms hear `peer-updated`.
 */
import { peerName } from '../../../shared/display-name.ts';
import type { MessageHandler } from '../context.ts';
import { announceUpdate } from '../room-events.ts';

export const hello: MessageHandler<'hello'> = async ({ peer, bus }, message) => {
  peer.deviceName = message.deviceName ?? null;
  peer.name = peerName(peer.deviceName, peer.generatedName);
  peer.deviceId = message.deviceId ?? null;
  peer.frames = message.frames ?? null;
  await bus.update(peer.record());
  await announceUpdate(bus, peer.id);
};
