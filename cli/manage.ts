/**
 * `ferry status` and `ferry revoke`: act on shares this machine sent, with the owner token
 * kept in the state directory (state.ts `sent/<id>.json`). A share is named by its id or
 * by its link.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { ShareOwnerView } from '../shared/api.ts';
import { ShareApi } from '../shared/api-client.ts';
import { FerryError } from '../shared/errors.ts';
import { forgetShareBlobs } from './dedup.ts';
import { finishedSend, type SendState, stateDir } from './state.ts';

/** The id in `ID` or in a link `…/s/ID#key`. */
export function shareIdOf(given: string): string {
  const match = /(?:\/s\/)?([A-Za-z0-9_-]{16})(?:[/#].*)?$/.exec(given.trim());
  if (!match?.[1]) throw new FerryError('BAD_REQUEST', `${given} is neither a share id nor a share link.`);
  return match[1];
}

async function sentShare(given: string): Promise<SendState> {
  const id = shareIdOf(given);
  const state = await finishedSend.load(id);
  if (!state) throw new FerryError('SHARE_NOT_FOUND', `This machine did not send ${id} (or its record was removed).`);
  return state;
}

export interface ShareStatus {
  id: string;
  state: ShareOwnerView['state'] | 'revoked' | 'gone';
  files: number;
  downloads: number | null;
  maxDownloads: number | null;
  expiresAt: number;
}

/** The owner view of one sent share, or of every share this machine sent. */
export async function status(given: string | undefined): Promise<ShareStatus[]> {
  const ids = given
    ? [shareIdOf(given)]
    : (await readdir(path.join(stateDir(), 'sent')).catch(() => [])).map((f) => f.replace(/\.json$/, ''));
  const out: ShareStatus[] = [];
  for (const id of ids) {
    const state = await sentShare(id);
    try {
      const view = await new ShareApi(state.server).getOwnerView(state.id, state.ownerToken);
      out.push({
        id,
        state: view.state,
        files: view.fileCount,
        downloads: view.downloads,
        maxDownloads: view.maxDownloads,
        expiresAt: view.expiresAt,
      });
    } catch (error) {
      if (
        !(error instanceof FerryError) ||
        !['SHARE_REVOKED', 'SHARE_EXPIRED', 'SHARE_NOT_FOUND'].includes(error.code)
      ) {
        throw error;
      }
      const gone = error.code === 'SHARE_REVOKED' ? 'revoked' : 'gone';
      out.push({
        id,
        state: gone,
        files: state.files.length,
        downloads: null,
        maxDownloads: null,
        expiresAt: state.expiresAt,
      });
    }
  }
  return out;
}

/** Revokes a sent share: from now on its link answers SHARE_REVOKED. */
export async function revoke(given: string): Promise<string> {
  const state = await sentShare(given);
  await new ShareApi(state.server).revokeShare(state.id, state.ownerToken);
  await forgetShareBlobs(state.id);
  return state.id;
}
