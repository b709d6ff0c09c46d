import { defineConfig } from 'vitest/config';

// Three projects: `unit` needs nothing but Node and is fast; `build` (*.build.test.ts) compiles
// the native client and gc-bd-serve, runs tmux, the build scripts and ESLint itself; `integration`
// needs a real cluster (the local one from `gc-k8s cluster up`, or any KUBECONFIG) and runs its
// files one at a time. Workspace packages (packages/*) are tested from their TypeScript sources,
// as tsconfig.json resolves them.
// (the conditions replace Vite's defaults for Node, which are kept here)
const fromSources = { ssr: { resolve: { conditions: ['gc-k8s-source', 'module', 'node', 'development|production'] } } };

export default defineConfig({
  test: {
    // `npm run test:coverage` (in check): the unit tests' coverage of the code, with a floor a
    // change may not push it under (measured 66/63/69/68 % when set)
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts', 'packages/*/src/**/*.ts'],
      reporter: ['text-summary'],
      thresholds: { statements: 64, branches: 61, functions: 67, lines: 66 },
    },
    projects: [
      {
        ...fromSources,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
          exclude: ['**/*.build.test.ts', '**/node_modules/**'],
          // each file in a fresh module graph costs more than the tests themselves (34 s vs 17 s here);
          // the units share no module state that one file could leave behind for another
          isolate: false,
          // most of a unit's time is spent waiting (child processes, short timers): more workers
          // than cores finish sooner (2 cores: 15 s with 2 workers, 8 s with 4)
          maxWorkers: 4,
          environment: 'node',
          testTimeout: 10_000,
        },
      },
      {
        ...fromSources,
        test: {
          name: 'build',
          include: ['test/unit/**/*.build.test.ts', 'packages/*/test/**/*.build.test.ts'],
          environment: 'node',
          testTimeout: 30_000,
          hookTimeout: 600_000,
        },
      },
      {
        ...fromSources,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          testTimeout: 300_000,
          hookTimeout: 600_000,
          fileParallelism: false,
          globalSetup: ['test/integration/global-setup.ts'],
        },
      },
    ],
  },
});
