/**
 * The thin dispatcher: one frame in → parsed with the shared schema → the handler for its
 * type. Every refusal, thrown or not, leaves as `{ type: 'error', code, message }` here.
 */
import type { RawData } from 'ws';
import { parseClientMessage } from '../../shared/signaling.ts';
import { toFerryError } from '../http/respond.ts';
import type { Logger } from '../log.ts';
import type { MessageHandler, SignalingContext } from './context.ts';
import { HANDLERS } from './handlers/index.ts';

/** What the dispatcher reports to: the log, and the count of relayed messages. */
export interface DispatchObserver {
  logger: Logger;
  relayed(): void;
}

export async function dispatch(
  ctx: SignalingContext,
  data: RawData,
  isBinary: boolean,
  observer: DispatchObserver,
): Promise<void> {
  if (isBinary) {
    ctx.peer.fail('INVALID_MESSAGE', 'Binary frames are not part of the protocol; send JSON text frames.');
    return;
  }
  const parsed = parseClientMessage(frameText(data));
  if (!parsed.ok) {
    ctx.peer.fail('INVALID_MESSAGE', `Not a valid signaling message (${parsed.error}).`, parsed.type);
    return;
  }
  const { message } = parsed;
  try {
    await (HANDLERS[message.type] as MessageHandler<typeof message.type>)(ctx, message as never);
    if (message.type === 'relay') observer.relayed();
  } catch (error) {
    const ferry = toFerryError(error);
    if (ferry.code === 'INTERNAL')
      observer.logger.error({ err: ferry.cause, type: message.type }, 'signaling: handler failed');
    ctx.peer.fail(ferry.code, ferry.message, message.type);
  }
}

/** A text frame's text (ws has checked that it is UTF-8; it closes with 1007 otherwise). */
export function frameText(data: RawData): string {
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(toBuffers(data)).toString('utf8');
}

function toBuffers(data: ArrayBuffer | Buffer[]): Buffer[] {
  return Array.isArray(data) ? data : [Buffer.from(data)];
}
