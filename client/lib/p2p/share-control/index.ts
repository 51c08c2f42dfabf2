/**
 * A share link's control messages, one table per side: the sender's tab
 * (share-host.svelte.ts) reads a recipient's `pull`, `pull-ack` and `pull-stop`; the
 * recipient's page (share-pull.svelte.ts) reads the sender's `pull-refused`. Each table
 * has a slot for every type of shared/p2p/frames.ts, so a type added there does not
 * compile until each side says what it does with it; the rest are refused
 * (not-on-share-links.ts). The dispatcher is dispatch.ts.
 */
import type { ShareHandlers, ShareHostContext, SharePullContext } from './context.ts';
import { notOnShareLinks } from './not-on-share-links.ts';
import { pull } from './pull.ts';
import { pullAck } from './pull-ack.ts';
import { pullRefused } from './pull-refused.ts';
import { pullStop } from './pull-stop.ts';

/** The device messages: neither side of a share link reads them. */
const DEVICE_MESSAGES = {
  'code-commit': notOnShareLinks,
  'code-nonce': notOnShareLinks,
  auth: notOnShareLinks,
  offer: notOnShareLinks,
  answer: notOnShareLinks,
  ack: notOnShareLinks,
  resume: notOnShareLinks,
  'resume-at': notOnShareLinks,
  complete: notOnShareLinks,
  cancel: notOnShareLinks,
  'pair-secret': notOnShareLinks,
  'pair-saved': notOnShareLinks,
  text: notOnShareLinks,
} as const;

/** What the sender's tab reads from a recipient. */
export const SHARE_HOST_HANDLERS: ShareHandlers<ShareHostContext> = {
  ...DEVICE_MESSAGES,
  pull,
  'pull-ack': pullAck,
  'pull-stop': pullStop,
  'pull-refused': notOnShareLinks,
};

/** What the recipient's page reads from the sender's tab. */
export const SHARE_PULL_HANDLERS: ShareHandlers<SharePullContext> = {
  ...DEVICE_MESSAGES,
  pull: notOnShareLinks,
  'pull-ack': notOnShareLinks,
  'pull-stop': notOnShareLinks,
  'pull-refused': pullRefused,
};
