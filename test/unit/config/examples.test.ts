import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import TOML from '@iarna/toml';
import { readyCountQuery } from '../../../src/beads/reads.js';
import { loadConfig } from '../../../src/config/load.js';

const EXAMPLES = new URL('../../../examples', import.meta.url).pathname;
const cities = readdirSync(EXAMPLES).filter((d) => existsSync(join(EXAMPLES, d, 'city.toml')));

describe('example cities', () => {
  it('there are example cities to check', () => {
    expect(cities).toEqual(
      expect.arrayContaining(['local-controller', 'standin-city', 'workspace-city', 'warm-pool-city', 'job-city', 'pool-city']),
    );
  });

  it.each(cities)('%s: its [session.k8s] loads without a warning', (city) => {
    const config = loadConfig({ env: {}, cityToml: join(EXAMPLES, city, 'city.toml') });
    expect(config.warnings).toEqual([]);
  });

  it('workspace-city asks for a kept claim per session, with its template', () => {
    const { pod } = loadConfig({ env: {}, cityToml: join(EXAMPLES, 'workspace-city', 'city.toml') });
    expect(pod).toMatchObject({
      workspace: 'claim',
      workspaceSize: '20Gi',
      workspaceReclaim: 'keep',
      workspaceLabels: { 'backup.example.com/policy': 'daily' },
    });
  });

  it('warm-pool-city keeps three warm pods', () => {
    const config = loadConfig({ env: {}, cityToml: join(EXAMPLES, 'warm-pool-city', 'city.toml') });
    expect(config.pod.warmPool).toBe(3);
    expect(config.session.warmSettleMs).toBe(20);
  });

  it('job-city runs every session as a Job, kept 2 h after it ended, ended after 8 h', () => {
    const { pod } = loadConfig({ env: {}, cityToml: join(EXAMPLES, 'job-city', 'city.toml') });
    expect(pod).toMatchObject({ workload: 'job', jobTtlSeconds: 7200, jobDeadlineSeconds: 28_800 });
  });

  it("pool-city's worker pool is sized by gc-k8s beads ready-count, within the agent's own bounds", () => {
    const city = TOML.parse(readFileSync(join(EXAMPLES, 'pool-city', 'city.toml'), 'utf8')) as {
      agent: { name: string; scale_check?: string; min_active_sessions?: number; max_active_sessions?: number }[];
    };
    const worker = city.agent.find((a) => a.name === 'worker');
    const [cmd, sub, op, ...args] = (worker?.scale_check ?? '').split(' ');
    expect([cmd, sub, op]).toEqual(['gc-k8s', 'beads', 'ready-count']);
    expect(readyCountQuery(args)).toEqual({ type: 'task', min: worker?.min_active_sessions, max: worker?.max_active_sessions });
  });

  it('job settings: none keeps or unbounds; a bad value is an error naming the key', () => {
    const env = (e: Record<string, string>) => loadConfig({ env: e, cityToml: '' });
    expect(env({ GC_K8S_JOB_TTL: 'none', GC_K8S_JOB_DEADLINE: 'none' }).pod).toMatchObject({
      jobTtlSeconds: undefined,
      jobDeadlineSeconds: undefined,
    });
    expect(env({ GC_K8S_JOB_TTL: '0s' }).pod.jobTtlSeconds).toBe(0);
    expect(() => env({ GC_K8S_WORKLOAD: 'cronjob' })).toThrow(/GC_K8S_WORKLOAD/);
    expect(() => env({ GC_K8S_JOB_TTL: 'soon' })).toThrow(/GC_K8S_JOB_TTL/);
    expect(() => env({ GC_K8S_JOB_DEADLINE: '0s' })).toThrow(/GC_K8S_JOB_DEADLINE.*at least 1s/);
  });
});
