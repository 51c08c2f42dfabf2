/**
 * One handler per data-channel control message type (shared/p2p/frames.ts) between two
 * devices; the dispatcher (dispatch.ts) looks them up here and nowhere else. A type
 * without a handler does not compile.
 */
import type { ControlMessageOf } from '../../../../shared/p2p/frames.ts';
import { auth } from './auth.ts';
import { cancel } from './cancel.ts';
import { codeStep } from './code.ts';
import type { ControlContext, ControlType } from './context.ts';
import { notOnDeviceLinks } from './not-on-device-links.ts';
import { offer } from './offer.ts';
import { pairingStep } from './pairing.ts';
import { resume } from './resume.ts';
import { text } from './text.ts';
import { toSender } from './to-sender.ts';

/**
 * Spelled out rather than `ControlHandler<T>`: TypeScript measures that alias's variance
 * through `Extract` as covariant, which would refuse a handler of several types.
 */
export type ControlHandlers = {
  [T in ControlType]: <Link>(ctx: ControlContext<Link>, message: ControlMessageOf<T>) => void;
};

export const CONTROL_HANDLERS: ControlHandlers = {
  'code-commit': codeStep,
  'code-nonce': codeStep,
  auth,
  offer,
  answer: toSender,
  ack: toSender,
  resume,
  'resume-at': toSender,
  complete: toSender,
  cancel,
  'pair-secret': pairingStep,
  'pair-saved': pairingStep,
  text,
  pull: notOnDeviceLinks,
  'pull-ack': notOnDeviceLinks,
  'pull-stop': notOnDeviceLinks,
  'pull-refused': notOnDeviceLinks,
};
