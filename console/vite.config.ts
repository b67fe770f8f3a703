import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The console is served by the API server at /console/ from dist/console (npm run build runs this after nest build).
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  // npm run console:dev: live-reloading console on :5173/console/, calling the API of `npm run start:dev` on :8001.
  server: { proxy: { '/api': 'http://127.0.0.1:8001' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: false,
    sourcemap: false,
  },
});
