// Lint rules that keep the architecture honest (ARCHITECTURE.md has the map):
// - rooms: the thin clients speak only the protocol; the domains (session, exec, events, beads,
//   kube) never reach the daemon, the CLI or the Kubernetes adapters; the adapters (k8s) never
//   reach a domain; the protocol depends on nothing but errors and utilities;
// - no import cycles anywhere in src/;
// - only src/k8s talks to the Kubernetes client library;
// - only the composition roots (src/cli, src/config) touch process.env or process.exit.
// - packages/local-cluster imports nothing of the daemon and talks HTTP(S) only through its client.
// test/unit/lint/boundaries.build.test.ts and packages/local-cluster/test/lint-boundary.build.test.ts prove
// each rule fails on a deliberate violation.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

const k8sOnly = {
  group: ['@kubernetes/client-node', '@kubernetes/client-node/*'],
  message: 'Only src/k8s/ may import the Kubernetes client; use the ports in src/kube/ports.ts.',
};

/** how import-x finds and parses our modules (without the parser it cannot see a cycle) */
export const IMPORT_SETTINGS = {
  'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
  'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
  'import-x/extensions': ['.ts', '.js'],
};

const DOMAINS = ['./src/session', './src/exec', './src/events', './src/beads', './src/kube'];

export const ZONES = [
  {
    target: './src/client',
    from: './src',
    except: ['./client', './protocol', './errors.ts', './util/lines.ts'],
    message: 'client code may only use src/protocol (it starts per gc call: keep it small and dependency-free)',
  },
  {
    target: DOMAINS,
    from: ['./src/daemon', './src/cli', './src/k8s', './src/client'],
    message: 'a domain reaches Kubernetes through the ports in src/kube and is wired by src/daemon, never the other way round',
  },
  {
    target: './src/k8s',
    from: ['./src/session', './src/exec', './src/events', './src/beads', './src/daemon', './src/cli', './src/client', './src/config'],
    message: 'the Kubernetes adapters implement src/kube ports and know no domain',
  },
  {
    target: './src/protocol',
    from: './src',
    except: ['./protocol', './errors.ts', './util'],
    message: 'the protocol is shared with the thin clients: errors and utilities only',
  },
  {
    target: './src/metrics',
    from: './src',
    except: ['./metrics', './errors.ts', './util'],
    message: 'the metrics room knows no domain: the daemon feeds it through MetricSources and Readiness',
  },
];

// packages/local-cluster stands alone: no relative path out of the package into the daemon's
// src/ (nor its dist/, tests or bin/), and not the gc-k8s package by name. Its own files reach
// their src/ with one '../' at most (test/ → ../src/), so two or more leading '../' followed by
// one of those directories always leave the package.
const outOfPackage = '^(?:\\.\\./){2,}(?:src|dist|test|bin)(?:/|$)';
const daemonFree = [
  {
    regex: outOfPackage,
    message: 'packages/local-cluster imports nothing of the daemon (src/, dist/, test/, bin/): give the package its own module.',
  },
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
    plugins: { 'import-x': importX },
    settings: IMPORT_SETTINGS,
    rules: {
      'no-restricted-imports': ['error', { patterns: [k8sOnly] }],
      'import-x/no-restricted-paths': ['error', { zones: ZONES }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'only the composition roots (src/cli, src/config) read the environment; pass it in',
        },
        { object: 'process', property: 'exit', message: 'only src/cli decides the exit code' },
      ],
    },
  },
  {
    // the package's own modules: no cycles either
    files: ['packages/*/src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: IMPORT_SETTINGS,
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  {
    files: ['src/k8s/**/*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['src/cli/**/*.ts', 'src/config/**/*.ts'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    // The exec-provider clients fork per gc call: keep them free of the daemon's dependencies.
    files: ['src/client/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            k8sOnly,
            {
              group: ['pino', 'undici', 'ws', 'mysql2', 'tar-stream', '@iarna/toml'],
              message: 'client code may only use src/protocol and node built-ins',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['bin/**/*.js', 'scripts/**/*.mjs', 'packages/*/scripts/**/*.mjs', 'eslint.config.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      parserOptions: { projectService: false, project: null },
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        Buffer: 'readonly',
        performance: 'readonly',
        AbortController: 'readonly',
      },
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
