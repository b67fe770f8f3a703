import tseslint from 'typescript-eslint';

const ENV_MESSAGE = 'Read the environment in src/config/ only; inject the typed AppConfig (APP_CONFIG) instead.';
const NO_ENV_IMPORTS = ['process', 'node:process'].map((name) => ({ name, importNames: ['env'], message: ENV_MESSAGE }));
const COMMON_MESSAGE = 'src/common/ is shared by every feature and imports none: move what it needs into common/, or the code that needs it out of common/.';

/** For files `depth` folders below src/ in common/: an import climbing to src/ must come back into common/. */
function commonIsALeaf(depth) {
  return {
    files: [`src/common/${'*/'.repeat(depth - 1)}*.ts`],
    ignores: ['src/common/auth/**'],
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
  // common/auth/ is exempt until it stops importing auth/ and users/ (issue 12, part 4).
  ...[1, 2, 3].map(commonIsALeaf),
  {
    // The console (a browser app) has its own tsconfig: DOM types, JSX for Preact.
    files: ['console/src/**/*.ts', 'console/src/**/*.tsx'],
    languageOptions: {
      parserOptions: { project: './console/tsconfig.json', tsconfigRootDir: import.meta.dirname },
    },
  },
);
