// Lint rules that keep the architecture honest: only src/k8s talks to the Kubernetes client,
// the thin CLI clients never load the daemon's core, nothing but the composition roots
// touches process.env or process.exit, and packages/local-cluster imports nothing of the daemon.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const k8sOnly = {
  group: ['@kubernetes/client-node', '@kubernetes/client-node/*'],
  message: 'Only src/k8s/ may import the Kubernetes client; use the ports in src/core/ports.ts.',
};

// packages/local-cluster stands alone: no relative path out of the package into the daemon's
// src/ (nor its dist/, tests or bin/), and not the gc-k8s package by name. Its own files reach
// their src/ with one '../' at most (test/ → ../src/), so two or more leading '../' followed by
// one of those directories always leave the package.
const outOfPackage = '^(?:\\.\\./){2,}(?:src|dist|test|bin)(?:/|$)';
const daemonFree = [
  { regex: outOfPackage, message: 'packages/local-cluster imports nothing of the daemon (src/, dist/, test/, bin/): give the package its own module.' },
  { group: ['gc-k8s', 'gc-k8s/*'], message: 'packages/local-cluster imports nothing of the daemon.' },
];
// and its Kubernetes and health calls go through its one verified-TLS client
const clientOnly = {
  group: ['node:http', 'node:https', 'node:tls', 'http', 'https', 'tls', 'undici', '@kubernetes/client-node', '@kubernetes/client-node/*'],
  message: 'packages/local-cluster talks HTTP(S) only through its verified-TLS client, src/kube/client.ts.',
};
const daemonFreeDynamic = {
  // (esquery's regex literal cannot hold a '/')
  selector: `ImportExpression[source.value=/${outOfPackage.replaceAll('/', '\\x2F')}/]`,
  message: 'packages/local-cluster imports nothing of the daemon (src/, dist/, test/, bin/), dynamically neither.',
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
    files: ['packages/local-cluster/**/*.{ts,mjs,js}'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [...daemonFree, clientOnly] }],
      'no-restricted-syntax': ['error', daemonFreeDynamic],
    },
  },
  {
    // the client itself, and tests that stand up servers for it
    files: ['packages/local-cluster/src/kube/**/*.ts', 'packages/local-cluster/test/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: daemonFree }] },
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
