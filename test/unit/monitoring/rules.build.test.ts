// contrib/monitoring's alert rules, checked and unit-tested by the real promtool (built from the
// Prometheus Go module by scripts/build-upstream.sh, cached): `promtool check rules` and
// `promtool test rules` pass, a rule changed against its test makes the test fail (so the tests
// can fail), and the PrometheusRule carries exactly the rules file's groups.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBinaries, streamReporter } from '@gc-k8s/local-cluster';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseYamlDocuments } from '../../../src/k8s/yaml.js';

const DIR = new URL('../../../contrib/monitoring/', import.meta.url).pathname;
let promtool = '';
const work = mkdtempSync(join(tmpdir(), 'gck8s-rules-'));

function run(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(promtool, args, { cwd: work }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, out: `${stdout}${stderr}` });
    });
  });
}

beforeAll(async () => {
  const dirs = await ensureBinaries(['prometheus'], process.env, streamReporter(process.stderr, 'promtool'), new AbortController().signal);
  promtool = join(dirs.prometheus, 'promtool');
  for (const f of ['rules.yaml', 'rules.test.yaml']) copyFileSync(join(DIR, f), join(work, f));
}, 1_800_000);
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('contrib/monitoring rules', () => {
  it('promtool check rules: every rule is valid', async () => {
    const r = await run(['check', 'rules', 'rules.yaml']);
    expect(r, r.out).toMatchObject({ code: 0 });
    expect(r.out).toContain('SUCCESS: 10 rules found');
  });

  it('promtool test rules: every alert fires on its series and not on its neighbour', async () => {
    const r = await run(['test', 'rules', 'rules.test.yaml']);
    expect(r, r.out).toMatchObject({ code: 0 });
    expect(r.out).toContain('SUCCESS');
  });

  it('the tests can fail: a CPU threshold of 99 % no longer fires for an agent at 95 %', async () => {
    const rules = readFileSync(join(DIR, 'rules.yaml'), 'utf8');
    const changed = rules.replace(
      'kube_pod_container_resource_limits{container="agent", resource="cpu"})\n            > 0.9',
      'kube_pod_container_resource_limits{container="agent", resource="cpu"})\n            > 0.99',
    );
    expect(changed).not.toBe(rules);
    writeFileSync(join(work, 'rules.yaml'), changed);
    try {
      const r = await run(['test', 'rules', 'rules.test.yaml']);
      expect(r.code).not.toBe(0);
      expect(r.out).toMatch(/FAILED[\s\S]*GcAgentCpuHigh/);
    } finally {
      copyFileSync(join(DIR, 'rules.yaml'), join(work, 'rules.yaml'));
    }
  });

  it('promtool check config: the scrape jobs, with the rules, are a valid Prometheus configuration', async () => {
    const jobs = readFileSync(join(DIR, 'scrape-config.yaml'), 'utf8')
      .split('\n')
      .map((l) => (l.trim() === '' ? l : `  ${l}`))
      .join('\n');
    writeFileSync(join(work, 'prometheus.yml'), `rule_files: [rules.yaml]\nscrape_configs:\n${jobs}\n`);
    // syntax only: the ServiceAccount token file it names exists in a pod, not here
    const r = await run(['check', 'config', '--syntax-only', 'prometheus.yml']);
    expect(r, r.out).toMatchObject({ code: 0 });
    expect(r.out).toContain('valid prometheus config file syntax');
    // and it can fail: an unknown relabel action is refused
    writeFileSync(join(work, 'bad.yml'), `scrape_configs:\n${jobs.replace('action: keep', 'action: kep')}\n`);
    expect((await run(['check', 'config', '--syntax-only', 'bad.yml'])).code).not.toBe(0);
  });

  it('the PodMonitor selects the pods the scrape config keeps', () => {
    const [monitor] = parseYamlDocuments(readFileSync(join(DIR, 'pod-monitor.yaml'), 'utf8')) as [
      { kind: string; spec: { selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: { port: string }[] } },
    ];
    expect(monitor.kind).toBe('PodMonitor');
    expect(monitor.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'gc-k8s' });
    expect(monitor.spec.podMetricsEndpoints.map((e) => e.port)).toEqual(['metrics']);
    expect(readFileSync(join(DIR, 'scrape-config.yaml'), 'utf8')).toContain('regex: gc-k8s;metrics');
  });

  it('the PrometheusRule has exactly the groups of the rules file', () => {
    const [plain] = parseYamlDocuments(readFileSync(join(DIR, 'rules.yaml'), 'utf8')) as [{ groups: unknown[] }];
    const [crd] = parseYamlDocuments(readFileSync(join(DIR, 'prometheus-rule.yaml'), 'utf8')) as [
      { kind: string; spec: { groups: unknown[] } },
    ];
    expect(crd.kind).toBe('PrometheusRule');
    expect(crd.spec.groups).toEqual(plain.groups);
  });
});
