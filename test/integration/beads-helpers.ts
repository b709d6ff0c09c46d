// Beads integration helpers: Dolt deployed from contrib/k8s into the test namespace (with the
// locally built Dolt image), a city directory, and the real contrib/beads-scripts/gc-beads-k8s
// run like gc runs it.

import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Harness, ROOT, type Run } from './harness.js';

/** The Dolt pseudo-version the Go module proxy serves (the one beads v1.0.0 requires). */
const DOLT_VERSION = 'v0.40.5-0.20260326074512-005921bdd8ca';

export async function doltImage(): Promise<string> {
  const given = process.env['GC_K8S_TEST_DOLT_IMAGE'];
  if (given !== undefined && given !== '') return given;
  const { ensureImage } = await import('@gc-k8s/local-cluster');
  return ensureImage('dolt', { cwd: ROOT, env: { ...process.env, DOLT_VERSION: process.env['DOLT_VERSION'] ?? DOLT_VERSION } });
}

export class BeadsHarness extends Harness {
  readonly city = join(this.dir, 'city');
  readonly beadsScript = join(ROOT, 'contrib/beads-scripts/gc-beads-k8s');

  constructor() {
    super();
    mkdirSync(this.city, { recursive: true });
  }

  storeEnv(extra: Record<string, string> = {}): Record<string, string> {
    return {
      GC_CITY_PATH: this.city,
      GC_STORE_ROOT: this.city,
      GC_STORE_SCOPE: 'city',
      GC_BEADS_PREFIX: 'gc',
      GC_K8S_DOLT_HOST: `dolt.${this.namespace}.svc.cluster.local`,
      GC_K8S_IMAGE_PULL_POLICY: 'IfNotPresent',
      ...extra,
    };
  }

  /** Runs gc-beads-k8s with the store env of the city (overridable). */
  beads(argv: readonly string[], stdin = '', extra: Record<string, string> = {}): Promise<Run> {
    return this.run(this.beadsScript, argv, stdin, this.env(this.storeEnv(extra)));
  }

  /** Secret, Service and StatefulSet from contrib/k8s, then waits until Dolt is ready. */
  async deployDolt(): Promise<void> {
    const image = await doltImage();
    const secret = await this.k([
      'create',
      'secret',
      'generic',
      'gc-dolt-credentials',
      `--from-literal=password=pw-${this.namespace}'"\\x`,
    ]);
    if (secret.code !== 0) throw new Error(`dolt secret: ${secret.err}`);
    const manifest = readFileSync(join(ROOT, 'contrib/k8s/dolt.yaml'), 'utf8')
      .replaceAll('docker.io/dolthub/dolt:1.84.0', image)
      .replaceAll('storage: 20Gi', 'storage: 1Gi')
      .replace(/requests: \{ cpu: 250m, memory: 512Mi \}/, 'requests: { cpu: 50m, memory: 128Mi }');
    const applied = await this.kIn(['apply', '-f', '-'], manifest);
    if (applied.code !== 0) throw new Error(`dolt manifest: ${applied.err}`);
    await this.doltReady();
  }

  async doltReady(): Promise<void> {
    const r = await this.k(['rollout', 'status', 'statefulset/dolt', '--timeout=180s']);
    if (r.code !== 0) throw new Error(`dolt not ready: ${r.err}`);
    const w = await this.k(['wait', '--for=condition=Ready', 'pod/dolt-0', '--timeout=180s']);
    if (w.code !== 0) throw new Error(`dolt-0 not ready: ${w.err}`);
  }

  kIn(args: readonly string[], input: string): Promise<Run> {
    return this.run(this.kubectl, ['-n', this.namespace, ...args], input);
  }
}

export async function until(check: () => Promise<boolean>, what: string, tries = 300): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`gave up waiting for ${what}`);
}
