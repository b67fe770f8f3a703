import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// The n8n community package inside real n8n (npm run test:n8n): one file, run alone, every version in turn.
export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  test: {
    include: ['test/n8n/**/*.n8n-spec.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 300_000,
    reporters: ['default'],
  },
});
