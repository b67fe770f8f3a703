import tseslint from 'typescript-eslint';

const ENV_MESSAGE = 'Read the environment in src/config/ only; inject the typed AppConfig (APP_CONFIG) instead.';
const NO_ENV_IMPORTS = ['process', 'node:process'].map((name) => ({ name, importNames: ['env'], message: ENV_MESSAGE }));
const COMMON_MESSAGE = 'src/common/ is shared by every feature and imports none: move what it needs into common/, or the code that needs it out of common/.';

/**
 * Feature boundaries (docs/architecture.md, "Boundaries"). An import that climbs out of its folder (`../`) and
 * descends into another one may reach only that folder's public files: its module, services, repositories,
 * entities and dto/ (the types others build on). Everything else in a feature folder is its own. The shared
 * layers are open to all: common/, config/, database/ and events/ (the catalog and the outbox; not events/feed/).
 * The rule reads only the import's path, so it holds for any folder, however deep (webhooks/subscriptions/,
 * delivery/, inbound/ included). Importing one's own folder through `../<own folder>/` counts as crossing: write `./`.
 */
const PUBLIC_FILE = String.raw`[\w-][\w.-]*\.(?:module|service|repository|entity)\.js`;
const SHARED_LAYERS = String.raw`(?:common|config|database)/|events/(?!feed/)`;
const SEGMENT = String.raw`[\w-][\w.-]*/`;
const FEATURE_INTERNALS = {
  regex: `^(?:\\.\\./)+(?!${SHARED_LAYERS})(?!(?:${SEGMENT})*dto/)(?:${SEGMENT})+(?!${PUBLIC_FILE}$)[^/]+$`,
  message:
    "That is another feature's own file. Import its module, a service, a repository, an entity or a dto/ file, or move what is shared into common/ (see docs/architecture.md, Boundaries).",
};

/** For files `depth` folders below src/ in common/: an import climbing to src/ must come back into common/. */
function commonIsALeaf(depth) {
  return {
    files: [`src/common/${'*/'.repeat(depth - 1)}*.ts`],
    rules: {
      'no-restricted-imports': ['error', { paths: NO_ENV_IMPORTS, patterns: [{ regex: `^(\\.\\./){${depth}}(?!common/)`, message: COMMON_MESSAGE }] }],
    },
  };
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'coverage/**', 'bench/**/*.mjs', 'integrations/**', 'console/vite.config.ts'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { project: './tsconfig.check.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      '@typescript-eslint/no-unsafe-function-type': 'off',
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  {
    // One config: only src/config/ reads the environment; everything else injects the typed AppConfig.
    files: ['src/**/*.ts'],
    ignores: ['src/config/**'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: ENV_MESSAGE }],
      'no-restricted-imports': ['error', { paths: NO_ENV_IMPORTS }],
    },
  },
  // common/ is a leaf: nothing in it imports from src/ outside common/ (no feature, config or database code).
  ...[1, 2, 3].map(commonIsALeaf),
  {
    // No feature imports another feature's internals (a separate rule name, so it adds to the ones above).
    files: ['src/**/*.ts'],
    ignores: ['src/common/**'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: [FEATURE_INTERNALS] }] },
  },
  {
    // The console (a browser app) has its own tsconfig: DOM types, JSX for Preact.
    files: ['console/src/**/*.ts', 'console/src/**/*.tsx'],
    languageOptions: {
      parserOptions: { project: './console/tsconfig.json', tsconfigRootDir: import.meta.dirname },
    },
  },
);
