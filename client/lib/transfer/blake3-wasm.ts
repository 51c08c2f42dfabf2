/**
 * hash-wasm's BLAKE3 and nothing else: the one module blake3.ts loads lazily. A dynamic
 * `import('hash-wasm')` is the whole package's namespace, which a bundle that inlines its
 * dynamic imports (the service worker's) cannot tree-shake: every algorithm came along.
 */
export { createBLAKE3 } from 'hash-wasm';
