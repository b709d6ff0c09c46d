#!/usr/bin/env node
// `npm test`: unit tests, build tests (the native client, gc-bd-serve and its `go test`, tmux,
// the build scripts, the lint rules), then integration tests against a real Kubernetes cluster — the one in KUBECONFIG when given,
// otherwise this worktree's local cluster (brought up, images imported).
// Ends with one closing line "tests: N passed, M failed" and fails when no test ran.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const results = mkdtempSync(join(tmpdir(), 'gck8s-test-'));
const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const buildOnly = args.includes('--build');

function vitest(project, extraEnv) {
  const out = join(results, `${project}.json`);
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        join(root, 'node_modules/vitest/vitest.mjs'),
        'run',
        '--project',
        project,
        '--reporter=default',
        '--reporter=json',
        `--outputFile.json=${out}`,
      ],
      {
        cwd: root,
        stdio: 'inherit',
        env: { ...process.env, ...extraEnv },
      },
    );
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

/** `go test -json` of image/agent/bd-serve, with build-upstream.sh's module and build caches. */
function goTests() {
  const cache = process.env.GC_K8S_CACHE ?? join(process.env.HOME ?? '/root', '.cache', 'gc-k8s');
  const env = {
    ...process.env,
    GOWORK: 'off',
    GOFLAGS: '-buildvcs=false',
    GOTOOLCHAIN: 'local',
    CGO_ENABLED: '0',
    GOMODCACHE: join(cache, 'go', 'mod'),
    GOCACHE: join(cache, 'go', 'build'),
  };
  return new Promise((resolve) => {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    let buffered = '';
    const child = spawn('go', ['test', '-json', '-count=1', './...'], {
      cwd: join(root, 'image/agent/bd-serve'),
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.stdout.on('data', (chunk) => {
      const lines = (buffered + chunk.toString('utf8')).split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        let e;
        try {
          e = JSON.parse(line);
        } catch {
          continue;
        }
        if (e.Action === 'output' && e.Test === undefined && /^(FAIL|ok|---)/.test(e.Output ?? '')) process.stdout.write(`go: ${e.Output}`);
        if (e.Test === undefined) continue;
        if (e.Action === 'pass') counts.passed++;
        else if (e.Action === 'fail') {
          counts.failed++;
          console.error(`go: FAIL ${e.Test}`);
        } else if (e.Action === 'skip') counts.skipped++;
      }
    });
    child.on('error', (err) => {
      console.error(`test: cannot run go test for gc-bd-serve: ${err.message}`);
      resolve({ code: 1, passed: 0, failed: 1, skipped: 0 });
    });
    child.on('exit', (code) => {
      if (code !== 0 && counts.failed === 0) counts.failed = 1; // a build failure reports no test
      resolve({ code: code ?? 1, ...counts });
    });
  });
}

async function clusterEnv() {
  if (process.env.GC_K8S_TEST_AGENT_IMAGE && process.env.KUBECONFIG) {
    console.error(`test: using KUBECONFIG=${process.env.KUBECONFIG} and image ${process.env.GC_K8S_TEST_AGENT_IMAGE}`);
    return {};
  }
  const { ensureCluster } = await import('@gc-k8s/local-cluster');
  const { streamReporter } = await import('@gc-k8s/local-cluster');
  // GC_K8S_TEST_NODES=2: the suite on a cluster of 2 nodes (CI runs the 1-node layout)
  const nodesEnv = process.env.GC_K8S_TEST_NODES ?? '';
  if (nodesEnv !== '' && !/^[1-4]$/.test(nodesEnv)) throw new Error(`GC_K8S_TEST_NODES=${nodesEnv.slice(0, 20)}: want 1 to 4`);
  const nodes = nodesEnv === '' ? {} : { nodes: Number(nodesEnv) };
  const info = await ensureCluster({
    cwd: root,
    env: process.env,
    images: ['agent'],
    ...nodes,
    reporter: streamReporter(process.stderr, 'test'),
  });
  const image = info.images.agent;
  if (!image) throw new Error(`cluster ${info.name} has no agent image`);
  console.error(
    `test: cluster ${info.name} (${info.backend}${info.nodeNames === undefined ? '' : `, ${info.nodeNames.length} node(s)`}), kubeconfig ${info.kubeconfig}, agent image ${image}`,
  );
  return { KUBECONFIG: info.kubeconfig, GC_K8S_TEST_AGENT_IMAGE: image, GC_K8S_TEST_BACKEND: info.backend };
}

let total = { passed: 0, failed: 0, skipped: 0 };
let exit = 0;
const add = (r) => {
  total = { passed: total.passed + r.passed, failed: total.failed + r.failed, skipped: total.skipped + r.skipped };
  if (r.code !== 0) exit = 1;
};

if (!buildOnly) add(await vitest('unit', {}));
if (!unitOnly) {
  add(await vitest('build', {}));
  add(await goTests());
}
if (!unitOnly && !buildOnly) {
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
