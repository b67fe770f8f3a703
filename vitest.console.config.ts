import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// The console's browser tests (npm run test:console): the built app + Debian's Chromium through playwright-core.
// Not part of npm test's globs.
export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  test: {
    include: ['test/console/**/*.browser-spec.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
