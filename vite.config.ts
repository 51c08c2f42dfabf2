import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

/** Where `npm run dev` sends API, tus and health requests: a Ferry server started with `npm start`. */
const backend = process.env.FERRY_BACKEND ?? 'http://localhost:8080';

export default defineConfig({
  root: 'client',
  publicDir: '../public',
  build: { outDir: '../dist', emptyOutDir: true, target: 'es2022', sourcemap: true },
  // simple-peer and its stream dependencies expect Node's `global`.
  define: { global: 'globalThis' },
  worker: { format: 'es' },
  plugins: [
    svelte(),
    VitePWA({
      strategies: 'injectManifest',
      srcDir: '.',
      filename: 'service-worker.ts',
      registerType: 'prompt',
      injectRegister: false,
      manifest: false,
      injectManifest: { globPatterns: ['**/*.{js,css,html,svg,png,wasm,webmanifest}'] },
      devOptions: { enabled: false },
    }),
  ],
  server: {
    proxy: {
      '/api': backend,
      '/files': backend,
      '/health': backend,
    },
  },
});
