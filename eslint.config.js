import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.dcim/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    // Benchmarks and the dev tools they share with the tests stand on their own: a benchmark that
    // imported from test/ would break whenever a test helper changed for a test's sake.
    files: ['bench/**/*.ts', 'devtools/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ regex: '(^|/)test/', message: 'bench/ and devtools/ never import from test/: shared helpers live in devtools/.' }],
      }],
    },
  },
);
