/** One handler per client message type; the dispatcher looks them up here and nowhere else. */
import type { ClientMessageType } from '../../../shared/signaling.ts';
import type { MessageHandler } from '../context.ts';
import { hello } from './hello.ts';
import { leave } from './leave.ts';
import { mailboxPut } from './mailbox-put.ts';
import { mailboxWithdraw } from './mailbox-withdraw.ts';
import { pairCreate } from './pair-create.ts';
import { pairJoin } from './pair-join.ts';
import { pairRejoin } from './pair-rejoin.ts';
import { ping } from './ping.ts';
import { relay } from './relay.ts';
import { shareJoin } from './share-join.ts';

export const HANDLERS: { [T in ClientMessageType]: MessageHandler<T> } = {
  hello,
  ping,
  'pair-create': pairCreate,
  'pair-join': pairJoin,
  'pair-rejoin': pairRejoin,
  'share-join': shareJoin,
  leave,
  relay,
  'mailbox-put': mailboxPut,
  'mailbox-withdraw': mailboxWithdraw,
};
