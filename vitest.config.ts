import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// SWC compiles the tests with decorator metadata, which Nest's dependency injection and class-validator need.
export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  test: {
    include: ['test/**/*.e2e-spec.ts', 'src/**/*.spec.ts'],
    exclude: ['test/embedded/**', 'node_modules/**', 'dist/**'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
