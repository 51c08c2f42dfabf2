/**
 * simple-peer's stream dependencies (readable-stream) call Node's `process.nextTick`.
 * Vite does not polyfill Node globals, so this module, imported before simple-peer,
 * provides the little they use. `global` itself is defined in vite.config.ts.
 */
type Tick = (callback: (...args: unknown[]) => void, ...args: unknown[]) => void;
const scope = globalThis as { process?: { nextTick?: Tick; env?: Record<string, string>; browser?: boolean } };
scope.process ??= {};
scope.process.env ??= {};
scope.process.browser ??= true;
scope.process.nextTick ??= (callback, ...args) => queueMicrotask(() => callback(...args));

export {};
