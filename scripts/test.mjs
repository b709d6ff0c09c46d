#!/usr/bin/env node
// `npm test`: unit tests, then integration tests against a real Kubernetes cluster — the one in
// KUBECONFIG when given, otherwise this worktree's local cluster (brought up, images imported).
// Ends with one closing line "tests: N passed, M failed" and fails when no test ran.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const results = mkdtempSync(join(tmpdir(), 'gck8s-test-'));
const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');

function vitest(project, extraEnv) {
  const out = join(results, `${project}.json`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--project', project, '--reporter=default', '--reporter=json', `--outputFile.json=${out}`], {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, ...extraEnv },
    });
    child.on('exit', (code) => {
      let counts = { passed: 0, failed: 0, skipped: 0 };
      try {
        const r = JSON.parse(readFileSync(out, 'utf8'));
        counts = { passed: r.numPassedTests, failed: r.numFailedTests, skipped: r.numPendingTests + (r.numTodoTests ?? 0) };
      } catch {
        counts.failed = 1; // no report: the run itself broke
      }
      resolve({ code: code ?? 1, ...counts });
    });
  });
}

async function clusterEnv() {
  if (process.env.GC_K8S_TEST_AGENT_IMAGE && process.env.KUBECONFIG) {
    console.error(`test: using KUBECONFIG=${process.env.KUBECONFIG} and image ${process.env.GC_K8S_TEST_AGENT_IMAGE}`);
    return {};
  }
  const { ensureCluster } = await import('../dist/cluster/api.js');
  const { streamReporter } = await import('../dist/cluster/progress.js');
  const info = await ensureCluster({ cwd: root, env: process.env, images: ['agent'], reporter: streamReporter(process.stderr, 'test') });
  const image = info.images.agent;
  if (!image) throw new Error(`cluster ${info.name} has no agent image`);
  console.error(`test: cluster ${info.name} (${info.backend}), kubeconfig ${info.kubeconfig}, agent image ${image}`);
  return { KUBECONFIG: info.kubeconfig, GC_K8S_TEST_AGENT_IMAGE: image, GC_K8S_TEST_BACKEND: info.backend };
}

let total = { passed: 0, failed: 0, skipped: 0 };
let exit = 0;
const add = (r) => {
  total = { passed: total.passed + r.passed, failed: total.failed + r.failed, skipped: total.skipped + r.skipped };
  if (r.code !== 0) exit = 1;
};

add(await vitest('unit', {}));
if (!unitOnly) {
  try {
    add(await vitest('integration', await clusterEnv()));
  } catch (err) {
    console.error(`test: cannot bring up a cluster for the integration tests: ${err?.message ?? err}`);
    total.failed += 1;
    exit = 1;
  }
}
rmSync(results, { recursive: true, force: true });
if (total.passed + total.failed === 0) {
  console.error('test: no test ran');
  exit = 1;
}
if (total.skipped > 0) {
  console.error(`test: ${total.skipped} tests were skipped; a skipped test is not a passing one`);
  exit = 1;
}
console.log(`tests: ${total.passed} passed, ${total.failed} failed`);
process.exit(exit);
