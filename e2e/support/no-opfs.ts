/**
 * Makes a page's origin private file system refuse, as a Firefox private window does
 * (`getDirectory` rejects with SecurityError); WebKitGTK has no `navigator.storage` at all.
 * With support/no-stream-transfer.ts it gives Safari's path where nothing can be staged:
 * the service worker fetches the download itself while the browser saves it (sw-fetch.ts).
 * Only the page is changed, never the worker.
 */
export function withoutOpfs(): void {
  const refuse = () => Promise.reject(new DOMException('The operation is insecure.', 'SecurityError'));
  Object.defineProperty(StorageManager.prototype, 'getDirectory', { value: refuse, configurable: true });
}
