import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';
import { SHARE_FIELDS, SHARE_TARGET_PATH } from './client/lib/pwa/share-target.ts';

/** Where `npm run dev` sends API, tus and health requests: a Ferry server started with `npm start`. */
const backend = process.env.FERRY_BACKEND ?? 'http://localhost:8080';

export default defineConfig({
  root: 'client',
  publicDir: '../public',
  build: { outDir: '../dist', emptyOutDir: true, target: 'es2022', sourcemap: true },
  // simple-peer and its stream dependencies expect Node's `global`.
  define: { global: 'globalThis' },
  worker: { format: 'es' },
  resolve: {
    // Uppy prints sizes with prettier-bytes (1024s called "MB"); Ferry's views use decimal
    // units. One convention everywhere: Uppy gets Ferry's formatter (uppy-bytes.ts).
    alias: [
      {
        find: /^@transloadit\/prettier-bytes$/,
        replacement: fileURLToPath(new URL('./client/lib/transfer/send/uppy-bytes.ts', import.meta.url)),
      },
    ],
  },
  plugins: [
    svelte(),
    VitePWA({
      strategies: 'injectManifest',
      srcDir: '.',
      filename: 'service-worker.ts',
      // A new version waits until the user chooses "Reload" (client/lib/pwa/app-update.svelte.ts).
      registerType: 'prompt',
      // sw-download.ts registers the worker itself.
      injectRegister: false,
      manifest: {
        id: '/',
        name: 'Ferry',
        short_name: 'Ferry',
        description: 'Send files from one browser to another: end-to-end encrypted, resumable, verified.',
        lang: 'en',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        theme_color: '#f7f7f5',
        background_color: '#f7f7f5',
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
          { src: '/icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
          { src: '/favicon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' },
        ],
        // Web Share Target level 2: the service worker answers this POST (client/lib/pwa/share-target.ts).
        share_target: {
          action: SHARE_TARGET_PATH,
          method: 'POST',
          enctype: 'multipart/form-data',
          params: { ...SHARE_FIELDS, files: [{ name: SHARE_FIELDS.files, accept: ['*/*'] }] },
        },
      },
      // The icons are in public/ and matched by globPatterns already.
      includeManifestIcons: false,
      injectManifest: { globPatterns: ['**/*.{js,css,html,svg,png,wasm}'] },
      devOptions: { enabled: false },
    }),
  ],
  server: {
    proxy: {
      '/api': backend,
      '/files': backend,
      '/health': backend,
      '/signal': { target: backend, ws: true },
    },
  },
});
