/** Sending one file by link for a recipient's journey. */
import type { SendPage } from '../pages/send-page.ts';
import type { Workspace } from './files.ts';

/** Sends a file of `size` bytes by link and closes the sender's tab: the server's copy is the one downloaded. */
export async function sentByLink(sender: SendPage, files: Workspace, name: string, size: number) {
  const file = await files.file(name, size);
  await sender.open();
  const link = await sender.sendFiles(file.path);
  await sender.page.close();
  return { file, link };
}
