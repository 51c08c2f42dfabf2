/**
 * Makes a Chromium page behave as Safari does where streams meet postMessage: a
 * ReadableStream in a message or its transfer list throws DataCloneError. The app probes
 * for that by trying (decryptor.ts `canTransferStreams`), so with this init script it takes
 * the paths Safari takes: decrypting on the page, and large downloads fetched by the
 * service worker itself (receive/sw-fetch.ts). Only the page is changed, never the worker.
 */
export function withoutStreamTransfer(): void {
  const refuse = (message: unknown, options: unknown): void => {
    const transfer = Array.isArray(options)
      ? options
      : ((options as { transfer?: unknown[] } | undefined)?.transfer ?? []);
    const values = [message, ...transfer];
    if (message !== null && typeof message === 'object') values.push(...Object.values(message));
    if (values.some((value) => value instanceof ReadableStream)) {
      throw new DOMException('ReadableStream cannot be transferred.', 'DataCloneError');
    }
  };
  for (const target of [MessagePort, Worker, ServiceWorker, Window]) {
    const proto = target.prototype as unknown as { postMessage: (...args: unknown[]) => void };
    const original = proto.postMessage;
    proto.postMessage = function (this: unknown, ...args: unknown[]) {
      refuse(args[0], args[1]);
      return original.apply(this, args);
    };
  }
}
