import { defineConfig } from 'vitest/config';

// Two projects: `unit` needs nothing but Node; `integration` needs a real cluster (the local one
// from `gc-k8s cluster up`, or any KUBECONFIG) and runs its files one at a time. Workspace
// packages (packages/*) are tested from their TypeScript sources, as tsconfig.json resolves them.
// (the conditions replace Vite's defaults for Node, which are kept here)
const fromSources = { ssr: { resolve: { conditions: ['gc-k8s-source', 'module', 'node', 'development|production'] } } };

export default defineConfig({
  test: {
    projects: [
      {
        ...fromSources,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
          environment: 'node',
          testTimeout: 10_000,
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
