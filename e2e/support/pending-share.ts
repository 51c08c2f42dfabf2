/**
 * The link of a share the sender is still uploading. The send view shows a link only once
 * the upload is done, but the sender's IndexedDB (`ferry`, store `shares`, see
 * client/lib/store/db.ts) holds it from the moment the share is created.
 */
import { expect, type Page } from '@playwright/test';

export async function pendingShareLink(page: Page, timeout = 30_000): Promise<string> {
  let link = '';
  await expect
    .poll(
      async () => {
        link = await page.evaluate(
          () =>
            new Promise<string>((resolve) => {
              const open = indexedDB.open('ferry');
              open.onerror = () => resolve('');
              open.onsuccess = () => {
                const db = open.result;
                if (!db.objectStoreNames.contains('shares')) {
                  db.close();
                  resolve('');
                  return;
                }
                const all = db.transaction('shares').objectStore('shares').getAll();
                all.onerror = () => resolve('');
                all.onsuccess = () => {
                  db.close();
                  const records = all.result as Array<{ state: string; link: string }>;
                  resolve(records.find((r) => r.state === 'uploading')?.link ?? '');
                };
              };
            }),
        );
        return link;
      },
      { timeout, message: 'the sender has created the share' },
    )
    .not.toBe('');
  return link;
}
