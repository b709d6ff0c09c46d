// The kind backend against fake `kind` and `docker` programs that record their argv: backend
// auto-selection, create with the worktree's own kubeconfig, image loading and delete.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterDown, clusterStatus, ensureCluster, ensureImage } from '../src/api.js';
import { clusterName } from '../src/names.js';

const tmp = mkdtempSync(join(tmpdir(), 'gck-kind-'));
const bin = join(tmp, 'bin');
const log = join(tmp, 'calls.log');
const wt = join(tmp, 'wt');
mkdirSync(bin);
mkdirSync(join(wt, '.git'), { recursive: true });
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

// kind: remembers created clusters in a file, writes the kubeconfig it is asked for
writeFileSync(
  join(bin, 'kind'),
  `#!/bin/sh
echo "kind $*" >> ${log}
db=${tmp}/clusters
touch $db
case "$1 $2" in
  "get clusters") cat $db ;;
  "create cluster") name=$4; kc=$6; echo "$name" >> $db; printf 'apiVersion: v1\\nkind: Config\\n' > "$kc"; echo "Creating cluster $name ..." >&2 ;;
  "delete cluster") grep -v "^$4\\$" $db > $db.new; mv $db.new $db ;;
  "load image-archive") ;;
  "export kubeconfig") printf 'apiVersion: v1\\nkind: Config\\n' > "$6" ;;
  *) exit 1 ;;
esac
`,
);
writeFileSync(join(bin, 'docker'), `#!/bin/sh\necho "docker $*" >> ${log}\n[ "$1" = info ] && echo 28.2.2\nexit 0\n`);
chmodSync(join(bin, 'kind'), 0o755);
chmodSync(join(bin, 'docker'), 0o755);

const env = { PATH: `${bin}:/usr/bin:/bin:/usr/sbin:/sbin`, HOME: tmp, GC_K8S_CACHE: join(tmp, 'cache') };
const calls = (): string[] => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);

describe('kind backend', () => {
  it('is chosen automatically when kind and a working Docker engine exist', async () => {
    const info = await ensureCluster({ cwd: wt, env });
    const name = clusterName(wt);
    expect(info.backend).toBe('kind');
    expect(info.name).toBe(name);
    expect(info.kubeconfig).toBe(join(wt, '.kube', 'config'));
    expect(info.context).toBe(`kind-${name}`);
    expect(calls()).toContain(`kind create cluster --name ${name} --kubeconfig ${join(wt, '.kube', 'config')} --wait 180s`);
    expect(readFileSync(join(wt, '.envrc'), 'utf8')).toContain('KUBECONFIG');
    expect((await clusterStatus({ cwd: wt, env })).running).toBe(true);
  });

  it('is idempotent: a second up exports the kubeconfig instead of creating', async () => {
    const before = calls().filter((c) => c.startsWith('kind create')).length;
    await ensureCluster({ cwd: wt, env });
    expect(calls().filter((c) => c.startsWith('kind create')).length).toBe(before);
    expect(calls().some((c) => c.startsWith('kind export kubeconfig'))).toBe(true);
  });

  it('loads images with kind load image-archive', async () => {
    const ref = await ensureImage('busybox', { cwd: wt, env });
    expect(ref).toMatch(/^docker\.io\/library\/gc-busybox:/);
    expect(calls().some((c) => c.startsWith(`kind load image-archive ${join(tmp, 'cache', 'images')}`))).toBe(true);
  });

  it('down deletes the kind cluster', async () => {
    await clusterDown({ cwd: wt, env });
    expect(calls()).toContain(`kind delete cluster --name ${clusterName(wt)} --kubeconfig ${join(wt, '.kube', 'config')}`);
    expect((await clusterStatus({ cwd: wt, env })).backend).toBe('none');
  });
});
