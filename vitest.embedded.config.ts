import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// The end-to-end smoke of the built app on its embedded PostgreSQL (no DATABASE_URL anywhere).
export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  test: {
    include: ['test/embedded/**/*.e2e-spec.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
