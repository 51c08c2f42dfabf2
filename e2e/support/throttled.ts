/**
 * `throttled(bytesPerSecond)`: the origin of a proxy in front of the server that slows file
 * downloads (CDP network emulation does not reach a worker's fetches); closed after the test.
 */
import { SlowProxy } from '../firefox/support/slow-proxy.ts';
import { test as base } from '../fixtures.ts';

export const test = base.extend<{ throttled: (bytesPerSecond: number) => Promise<string> }>({
  throttled: async ({ ferry }, use) => {
    const proxies: SlowProxy[] = [];
    await use(async (bytesPerSecond) => {
      const proxy = await SlowProxy.start(ferry.url);
      proxy.rate = bytesPerSecond;
      proxies.push(proxy);
      return proxy.url;
    });
    for (const proxy of proxies) await proxy.close();
  },
});
