// Lint rules that keep the architecture honest: only src/k8s talks to the Kubernetes client,
// the thin CLI clients never load the daemon's core, and nothing but the composition roots
// touches process.env or process.exit.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const k8sOnly = {
  group: ['@kubernetes/client-node', '@kubernetes/client-node/*'],
  message: 'Only src/k8s/ may import the Kubernetes client; use the ports in src/core/ports.ts.',
};

export default tseslint.config(
  { ignores: ['dist/**', 'packages/*/dist/**', 'node_modules/**', '.gc-k8s/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/k8s/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [k8sOnly] }] },
  },
  {
    // The exec-provider clients fork per gc call: keep them free of the daemon's dependencies.
    files: ['src/client/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [k8sOnly, { group: ['../core/*', '../k8s/*', '../daemon/*', 'pino', 'undici', 'ws'], message: 'client code may only use src/protocol and node built-ins' }],
      }],
    },
  },
  {
    files: ['bin/**/*.js', 'scripts/**/*.mjs', 'packages/*/scripts/**/*.mjs', 'eslint.config.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      parserOptions: { projectService: false, project: null },
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', Buffer: 'readonly', performance: 'readonly', AbortController: 'readonly' },
    },
    rules: { ...tseslint.configs.disableTypeChecked.rules, 'no-console': 'off' },
  },
  {
    files: ['test/**/*.ts', 'packages/*/test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
);
