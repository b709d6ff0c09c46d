#!/usr/bin/env node
// hostPath provisioner of a gc-k8s local cluster (started detached by `gc-k8s cluster up`).
// Every second: for each Pending PVC of the storage class, create a `local` PV pre-bound to it
// (directory <dir>/<namespace>-<pvc>-<uid>, mode 0700, usable on every node of --node: they
// share this host's filesystem); for each Released
// PV it provisioned, remove the directory and the PV. A local volume (unlike hostPath) gets the
// pod's fsGroup from the kubelet on mount (group-owned, g+rwx, setgid), so a non-root pod with an
// fsGroup writes into its claim and no other host user can.
// Its identity (--cert) may only list PVCs and list/create/delete PVs (see src/config/rbac.ts).
// It talks to the API server through the package's one verified-TLS client (src/kube/client.ts,
// compiled: build first), as the builder does.
//
// A second class (--wait-class) binds late, as cloud disks do (WaitForFirstConsumer): its claims
// are provisioned only once the scheduler has picked the node of the pod that uses them
// (annotation volume.kubernetes.io/selected-node), pinned to that node.
//
// usage: local-provisioner.mjs --server URL --ca F --cert F --key F --dir D --class NAME [--wait-class NAME] --name PROVISIONER --node NODE[,NODE…] [--heartbeat F]
// --heartbeat: file rewritten after every successful round (its age is the provisioner's health)
import { mkdirSync, rmSync, chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeClient } from '../dist/kube/client.js';

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const api = new KubeClient({ server: args.server, ca: args.ca, cert: args.cert, key: args.key }, { timeoutMs: 10000 });
// the cluster's nodes (node 1 first): a volume may be used on any of them
const nodes = String(args.node).split(',');
const log = (m) => console.log(`${new Date().toISOString()} ${m}`);

async function call(method, path, body) {
  const r = await api.request(method, path, body);
  return { status: r.status, json: r.body.startsWith('{') ? JSON.parse(r.body) : undefined, text: r.body };
}

async function provision(pvc, pinned) {
  const { namespace, name, uid } = pvc.metadata;
  const dir = join(args.dir, `${namespace}-${name}-${uid}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const pv = {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {
      name: `pvc-${uid}`,
      annotations: { 'pv.kubernetes.io/provisioned-by': args.name },
      labels: { 'gc-k8s.io/provisioner': 'local-hostpath' },
    },
    spec: {
      capacity: { storage: pvc.spec.resources?.requests?.storage ?? '1Gi' },
      accessModes: pvc.spec.accessModes ?? ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Delete',
      storageClassName: pvc.spec.storageClassName,
      volumeMode: pvc.spec.volumeMode ?? 'Filesystem',
      claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace, name, uid },
      local: { path: dir },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: pinned ?? nodes }] }],
        },
      },
    },
  };
  const r = await call('POST', '/api/v1/persistentvolumes', pv);
  if (r.status === 201 || r.status === 409) log(`provisioned ${pv.metadata.name} for ${namespace}/${name} at ${dir}`);
  else log(`create PV for ${namespace}/${name}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
}

async function reclaim(pv) {
  const dir = pv.spec.local?.path ?? pv.spec.hostPath?.path;
  if (dir?.startsWith(args.dir + '/')) rmSync(dir, { recursive: true, force: true });
  const r = await call('DELETE', `/api/v1/persistentvolumes/${pv.metadata.name}`);
  log(`reclaimed ${pv.metadata.name} (HTTP ${r.status})`);
}

async function tick() {
  const pvcs = await call('GET', '/api/v1/persistentvolumeclaims');
  const pvs = await call('GET', '/api/v1/persistentvolumes?labelSelector=gc-k8s.io%2Fprovisioner%3Dlocal-hostpath');
  if (pvcs.status !== 200 || pvs.status !== 200) throw new Error(`list: HTTP ${pvcs.status}/${pvs.status}`);
  const existing = new Set(pvs.json.items.map((p) => p.metadata.name));
  for (const pvc of pvcs.json.items) {
    if (pvc.status?.phase !== 'Pending' || pvc.spec.volumeName || pvc.metadata.deletionTimestamp) continue;
    const waits = args['wait-class'] !== undefined && pvc.spec.storageClassName === args['wait-class'];
    if (pvc.spec.storageClassName !== args.class && !waits) continue;
    // a late-binding claim: only once its pod is placed, and only on one of our nodes
    const selected = pvc.metadata.annotations?.['volume.kubernetes.io/selected-node'];
    if (waits && !nodes.includes(selected)) continue;
    if (existing.has(`pvc-${pvc.metadata.uid}`)) continue;
    await provision(pvc, waits ? [selected] : undefined);
  }
  for (const pv of pvs.json.items) {
    if (pv.status?.phase === 'Released' || pv.status?.phase === 'Failed') await reclaim(pv);
  }
}

let stopping = false;
process.on('SIGTERM', () => {
  stopping = true;
  process.exit(0);
});
process.on('SIGINT', () => {
  stopping = true;
  process.exit(0);
});
log(
  `local-hostpath provisioner: class ${args.class}${args['wait-class'] ? ` and ${args['wait-class']} (WaitForFirstConsumer)` : ''}, dir ${args.dir}, server ${args.server}`,
);
let lastError = '';
while (!stopping) {
  try {
    await tick();
    lastError = '';
    if (args.heartbeat) writeFileSync(args.heartbeat, new Date().toISOString());
  } catch (e) {
    const msg = String(e?.message ?? e);
    if (msg !== lastError) log(`error: ${msg}`);
    lastError = msg;
  }
  await new Promise((r) => setTimeout(r, 1000));
}
