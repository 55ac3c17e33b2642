import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ROOT = dirname(fileURLToPath(import.meta.url));

/**
 * Which top-level folder may import which (docs/design.md §1). The contract is the bottom: it
 * imports nothing of ours. Agent, collector and simulators build on contract, shared and profiles
 * and never on each other; only the command line, the dev tools, the benchmarks and the tests
 * put programs together. A folder may always import itself.
 */
export const FOLDER_IMPORTS = {
  contract: [],
  shared: ['contract'],
  profiles: ['contract', 'shared'],
  seeds: ['contract', 'shared'],
  agent: ['contract', 'shared', 'profiles'],
  collector: ['contract', 'shared', 'profiles'],
  simulators: ['contract', 'shared', 'profiles'],
  dashboards: ['contract', 'shared', 'profiles', 'collector'],
  cli: ['contract', 'shared', 'profiles', 'seeds', 'agent', 'collector', 'simulators', 'dashboards'],
  devtools: ['contract', 'shared', 'profiles', 'seeds', 'agent', 'collector', 'simulators', 'dashboards', 'cli'],
  bench: ['contract', 'shared', 'profiles', 'seeds', 'agent', 'collector', 'simulators', 'dashboards', 'cli', 'devtools'],
  test: ['contract', 'shared', 'profiles', 'seeds', 'agent', 'collector', 'simulators', 'dashboards', 'cli', 'devtools', 'bench'],
};

const topFolder = (file) => relative(ROOT, file).split(sep)[0];

const folderImports = {
  meta: {
    type: 'problem',
    docs: { description: 'a top-level folder imports only the folders it may build on' },
    messages: { forbidden: '{{from}}/ may not import from {{to}}/ (it may import: {{allowed}}).' },
    schema: [],
  },
  create(context) {
    const from = topFolder(context.filename);
    const allowed = FOLDER_IMPORTS[from];
    if (allowed === undefined) return {};
    const check = (node) => {
      if (node?.type !== 'Literal' || typeof node.value !== 'string' || !node.value.startsWith('.')) return;
      const to = topFolder(resolve(dirname(context.filename), node.value));
      if (to === from || allowed.includes(to) || !(to in FOLDER_IMPORTS)) return;
      context.report({ node, messageId: 'forbidden', data: { from, to, allowed: allowed.join(', ') || 'nothing' } });
    };
    return {
      ImportDeclaration: (n) => check(n.source),
      ExportAllDeclaration: (n) => check(n.source),
      ExportNamedDeclaration: (n) => check(n.source),
      ImportExpression: (n) => check(n.source),
      TSImportType: (n) => check(n.source ?? n.argument?.literal),
    };
  },
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.dcim/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { dcim: { rules: { 'folder-imports': folderImports } } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
      'dcim/folder-imports': 'error',
    },
  },
);
