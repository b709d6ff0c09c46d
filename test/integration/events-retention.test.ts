// The shipped retention CronJob (contrib/k8s/event-retention-cronjob.yaml) run for real: our
// gc-k8s image, its least-privilege Role, `gc-k8s events prune` inside the cluster.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GcEvent } from '../../src/events/event-json.js';
import { Harness, ROOT } from './harness.js';

const h = new Harness();
const ev = (argv: string[], stdin = '') => h.script('gc-events-k8s', argv, stdin);

async function gcK8sImage(): Promise<string> {
  const given = process.env['GC_K8S_TEST_GC_K8S_IMAGE'];
  if (given !== undefined && given !== '') return given;
  const { ensureImage } = await import('@gc-k8s/local-cluster');
  return ensureImage('gc-k8s', { cwd: ROOT });
}

/** A running `gc-events-k8s watch <after>`: the lines it printed so far. */
function watch(after: number): { lines: GcEvent[]; stop: () => void } {
  const child = spawn(join(ROOT, 'bin/gc-events-k8s'), ['watch', String(after)], { env: h.env() });
  const lines: GcEvent[] = [];
  let buf = '';
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      lines.push(JSON.parse(buf.slice(0, nl)) as GcEvent);
      buf = buf.slice(nl + 1);
    }
  });
  return { lines, stop: () => child.kill('SIGKILL') };
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 100));
  expect(check(), what).toBe(true);
}

beforeAll(async () => {
  await h.setup();
});
afterAll(async () => {
  await h.teardown();
});

describe('event retention CronJob', () => {
  it('prunes beyond --max-count with our image and its Role, keeping the newest and latest-seq', async () => {
    for (let i = 1; i <= 5; i++)
      expect(await ev(['record'], JSON.stringify({ type: 'retention.test', actor: 'gc', message: `m${i}` }))).toMatchObject({ code: 0 });
    // a watcher that has read everything before the pruning
    const before = watch(0);
    await until(() => before.lines.length === 5, 'the watch replays the 5 events');
    const manifest = readFileSync(join(ROOT, 'contrib/k8s/event-retention-cronjob.yaml'), 'utf8')
      .replace('image: gc-k8s:dev', `image: ${await gcK8sImage()}`)
      .replace('"--max-age", "24h", "--max-count", "10000"', '"--max-count", "2"');
    expect(manifest).toContain('"--max-count", "2"');
    const applied = await h.run(h.kubectl, ['-n', h.namespace, 'apply', '-f', '-'], manifest);
    expect(applied, applied.err).toMatchObject({ code: 0 });
    expect(await h.k(['create', 'job', '--from=cronjob/gc-event-retention', 'prune-now'])).toMatchObject({ code: 0 });
    const done = await h.k(['wait', '--for=condition=complete', 'job/prune-now', '--timeout=180s']);
    const logs = await h.k(['logs', 'job/prune-now']);
    expect(done.code, `job did not complete: ${done.err}\n${logs.out}${logs.err}`).toBe(0);
    let left: GcEvent[] = [];
    for (let i = 0; i < 100; i++) {
      left = JSON.parse((await ev(['list'], JSON.stringify({ Type: 'retention.test' }))).out) as GcEvent[];
      if (left.length === 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(left.map((e) => e.message)).toEqual(['m4', 'm5']);
    expect((await ev(['latest-seq'])).out).toBe('5');
    // a watch from before the oldest retained event replays what is retained, once, in order
    const after = watch(1);
    try {
      await until(() => after.lines.length >= 2, 'the watch replays the retained events');
      // the next record continues the sequence, and each watcher gets it exactly once
      expect(await ev(['record'], JSON.stringify({ type: 'retention.test', actor: 'gc', message: 'm6' }))).toMatchObject({ code: 0 });
      expect((await ev(['latest-seq'])).out).toBe('6');
      await until(() => after.lines.length >= 3 && before.lines.length >= 6, 'both watchers get the new event');
      await new Promise((r) => setTimeout(r, 300));
      expect(after.lines.map((e) => [e.seq, e.message])).toEqual([
        [4, 'm4'],
        [5, 'm5'],
        [6, 'm6'],
      ]);
      expect(before.lines.map((e) => e.message)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6']);
    } finally {
      before.stop();
      after.stop();
    }
  });
});
