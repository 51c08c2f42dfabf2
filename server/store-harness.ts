/** For store conformance suites: stores opened during a test are closed after it. */
import { afterEach } from 'vitest';

/** Returns an opener to call inside tests; every store it opened is closed after each test. */
export function closedAfterEach<S extends { close(): Promise<void> }>(make: () => S | Promise<S>): () => Promise<S> {
  let open: S[] = [];
  afterEach(async () => {
    for (const s of open) await s.close();
    open = [];
  });
  return async () => {
    const s = await make();
    open.push(s);
    return s;
  };
}
