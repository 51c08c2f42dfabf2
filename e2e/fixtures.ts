/**
 * Fixtures for Ferry's journeys: the real server (`ferry`), and a sender and a receiver,
 * each a page in its own browser context (separate storage, like two people on two
 * machines), wrapped in page objects. `files` is a temporary directory for test files.
 */
import { type BrowserContext, test as base, type Page } from '@playwright/test';
import { ReceivePage } from './pages/receive-page.ts';
import { SendPage } from './pages/send-page.ts';
import { Workspace } from './support/files.ts';
import { FerryServer } from './support/server.ts';

export interface FerryFixtures {
  /** Extra environment for the server (e.g. a test clock), set with `test.use`. */
  ferryEnv: Record<string, string>;
  ferry: FerryServer;
  files: Workspace;
  senderContext: BrowserContext;
  receiverContext: BrowserContext;
  sender: SendPage;
  receiver: ReceivePage;
}

/**
 * Removes the File System Access picker so the app saves through a Blob or its service
 * worker stream; both reach Playwright as `download` events.
 */
export function withoutSavePicker(): void {
  const w = window as unknown as Record<string, unknown>;
  delete w.showSaveFilePicker;
  delete (Window.prototype as unknown as Record<string, unknown>).showSaveFilePicker;
}

function attachConsole(page: Page, lines: string[], who: string): void {
  page.on('console', (message) => lines.push(`[${who}] ${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => lines.push(`[${who}] pageerror: ${error.message}`));
}

export const test = base.extend<FerryFixtures>({
  ferryEnv: [{}, { option: true }],

  ferry: async ({ ferryEnv }, use, testInfo) => {
    const server = await FerryServer.start(ferryEnv);
    await use(server);
    if (testInfo.status !== testInfo.expectedStatus) {
      await testInfo.attach('server.log', { body: server.log, contentType: 'text/plain' });
    }
    await server.dispose();
  },

  baseURL: async ({ ferry }, use) => {
    await use(ferry.url);
  },

  // biome-ignore lint/correctness/noEmptyPattern: Playwright reads fixture dependencies from the pattern
  files: async ({}, use) => {
    const workspace = await Workspace.create();
    await use(workspace);
    await workspace.dispose();
  },

  senderContext: async ({ browser, baseURL }, use) => {
    const context = await browser.newContext({ baseURL, acceptDownloads: true });
    await use(context);
    await context.close();
  },

  receiverContext: async ({ browser, baseURL }, use) => {
    const context = await browser.newContext({ baseURL, acceptDownloads: true });
    await context.addInitScript(withoutSavePicker);
    await use(context);
    await context.close();
  },

  sender: async ({ senderContext }, use, testInfo) => {
    const page = await senderContext.newPage();
    const lines: string[] = [];
    attachConsole(page, lines, 'sender');
    await use(new SendPage(page));
    if (testInfo.status !== testInfo.expectedStatus && lines.length) {
      await testInfo.attach('sender-console.txt', { body: lines.join('\n'), contentType: 'text/plain' });
    }
  },

  receiver: async ({ receiverContext }, use, testInfo) => {
    const page = await receiverContext.newPage();
    const lines: string[] = [];
    attachConsole(page, lines, 'receiver');
    await use(new ReceivePage(page));
    if (testInfo.status !== testInfo.expectedStatus && lines.length) {
      await testInfo.attach('receiver-console.txt', { body: lines.join('\n'), contentType: 'text/plain' });
    }
  },
});

export { expect } from '@playwright/test';
