// `up` of the local backend: a real Kubernetes cluster of 1 to 4 nodes built from processes on this host.
//
// Layout per cluster (slot N, see host.ts):
//   host:    etcd (127.0.0.1), kube-apiserver (10.250.N.1, the host end of a veth pair),
//            kube-controller-manager, kube-scheduler, the hostPath provisioner
//   netns gckN (node side of the veth, 10.250.N.2 = node IP): containerd, kubelet, kube-proxy
//            (iptables mode, rules only in this netns), CoreDNS (0.0.0.0:53 in the netns), pods on
//            bridge gckNbr with pod CIDR 10.244.N.0/24; services 10.96.N.0/24 (routed from the host)
//   monitoring (host): kube-state-metrics (127.0.0.1), metrics-server (10.250.N.1, behind the API
//            server's aggregation layer as metrics.k8s.io)
//   node k ≥ 2 (`--nodes N`): netns gckNn<k> (10.250.N.4(k-1)+2), its own containerd, kubelet,
//            kube-proxy and kube-router, pods 10.(243+k).N.0/24; pods of different nodes reach
//            each other through the host without NAT (see network.ts)
// Everything is started detached (setsid) with its PID recorded in <worktree>/.gc-k8s/cluster/state.json.

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ClusterError, describeError, isClusterError, toClusterError } from '../errors.js';
import {
  LOCAL_NEEDS,
  allocatePorts,
  assertResources,
  checkLocalPlatform,
  claimSlot,
  ensureBinaries,
  ensureHostDeps,
  listSlots,
  netPlan,
  nodeNetPlans,
  parsePortRange,
  recordSlotPorts,
  releaseSlot,
  withHostLock,
} from '../host.js';
import { buildImage, importImage } from '../images.js';
import { KubeClient } from '../kube/client.js';
import { bootstrapObjects, type NodeObj } from './bootstrap.js';
import { prepareCgroupRoot } from './cgroups.js';
import { cleanupSlotLeftovers } from './cleanup.js';
import { CLUSTER_BINARIES, componentBins, startComponent } from './components.js';
import { writeConfigs } from './configs.js';
import { writeKubeconfigs } from './credentials.js';
import { localDown } from './down.js';
import { writeClientConfig } from './envrc.js';
import { ensureLocalImages } from './image-import.js';
import { credsFor, layout, logOf, logsDir, nodeLayout } from './layout.js';
import { networkIntact, setupNetwork } from './network.js';
import { localStatus, probeOf } from './probes.js';
import { outdatedComponents, repair } from './repair.js';
import {
  STATE_VERSION,
  nodeCount,
  nodeNameOf,
  outdatedMessage,
  readState,
  resizeMessage,
  upgradeAction,
  writeState,
  type ComponentId,
  type LocalContext,
  type NodeComponent,
  type LocalPorts,
  type LocalState,
  type UpOptions,
} from './state.js';
import { waitFor } from './wait.js';

/** Brings the local cluster up (idempotent). Returns the state of the running cluster. */
export async function localUp(ctx: LocalContext, opts: UpOptions = {}): Promise<LocalState> {
  const { paths, reporter, signal, env } = ctx;
  checkLocalPlatform();
  const existing = readState(paths.stateDir);
  // no resize: a cluster keeps the node count it was made with
  if (existing !== undefined && opts.nodes !== undefined && opts.nodes !== nodeCount(existing)) {
    throw new ClusterError('BAD_REQUEST', resizeMessage(existing.name, nodeCount(existing), opts.nodes));
  }
  const nodes = existing === undefined ? (opts.nodes ?? 1) : nodeCount(existing);
  if (existing !== undefined) {
    const st = await localStatus(paths);
    const intact = await networkIntact(nodeNetPlans(existing.slot, nodes));
    if (
      upgradeAction(
        existing.version,
        st.components.some((c) => c.alive),
        intact,
      ) === 'refuse'
    ) {
      throw new ClusterError('CLUSTER', outdatedMessage(existing));
    }
    const outdated = outdatedComponents(existing);
    if (
      existing.phase === 'running' &&
      existing.stateDir === paths.stateDir &&
      st.components.every((c) => c.alive) &&
      outdated.length === 0
    ) {
      reporter.step(`cluster ${existing.name} is already up (${existing.server})`);
      await ensureLocalImages(ctx, existing, opts.images ?? []);
      return existing;
    }
    const dead = st.components.filter((c) => !c.alive).map((c) => c.name);
    // (a moved worktree's components point at the old path: rebuild instead)
    if (existing.phase === 'running' && existing.stateDir === paths.stateDir && intact) {
      // some components died (crash, kill): restart just those from the state on disk, keeping etcd
      // data, volumes and running pods
      try {
        return await repair(ctx, existing, dead as ComponentId[], opts);
      } catch (e) {
        reporter.warn(`repair failed: ${(isClusterError(e) ? e.message : describeError(e)).slice(0, 2000)}`);
      }
    }
    const why =
      existing.stateDir !== paths.stateDir ? `the worktree moved from ${existing.stateDir}` : `not running: ${dead.join(', ') || 'none'}`;
    reporter.warn(`stale cluster state in ${paths.stateDir} (${why}); rebuilding it from scratch`);
    await localDown(ctx);
  }
  rmSync(logsDir(paths), { recursive: true, force: true });
  assertResources('local cluster', LOCAL_NEEDS, paths.stateDir);

  reporter.step('checking host packages and containerd');
  const { containerdBin } = await ensureHostDeps(env, reporter, signal);
  reporter.step('checking Kubernetes, etcd, CoreDNS, kube-router, kube-state-metrics and metrics-server binaries');
  const dirs = await ensureBinaries(CLUSTER_BINARIES, env, reporter, signal);
  const bins = componentBins(dirs);
  const pause = await buildImage('pause', env, reporter, signal);

  const previousOwners = new Map(listSlots().map((s) => [s.slot, s]));
  const slot = await claimSlot(paths.name, paths.stateDir, undefined);
  const n = netPlan(slot);
  const plans = nodeNetPlans(slot, nodes);
  let state: LocalState | undefined;
  try {
    const previous = previousOwners.get(slot);
    if (previous !== undefined && previous.stateDir !== paths.stateDir) {
      reporter.warn(`slot ${slot} was left by ${previous.name} (${previous.stateDir} is gone or moved); cleaning it`);
      await cleanupSlotLeftovers(n, previous.name, reporter, previous.stateDir);
    }
    await cleanupSlotLeftovers(n, paths.name, reporter);
    const range = parsePortRange(env.GC_K8S_PORT_RANGE);
    const got = await withHostLock(async () => {
      const p = await allocatePorts(8, range, [], slot);
      recordSlotPorts(slot, paths.name, paths.stateDir, p);
      return p;
    });
    const port = (i: number): number => got[i] ?? 0;
    const ports: LocalPorts = {
      etcd: port(0),
      etcdPeer: port(1),
      apiserver: port(2),
      controllerManager: port(3),
      scheduler: port(4),
      kubeStateMetrics: port(5),
      kubeStateMetricsTelemetry: port(6),
      metricsServer: port(7),
    };
    state = {
      version: STATE_VERSION,
      backend: 'local',
      name: paths.name,
      worktree: paths.worktree,
      stateDir: paths.stateDir,
      slot,
      ports,
      nodeName: paths.name,
      nodes,
      server: `https://${n.hostIp}:${ports.apiserver}`,
      containerdBin,
      pids: {},
      images: {},
      phase: 'starting',
      createdAt: new Date().toISOString(),
    };
    const l = layout(paths);
    rmSync(l.s, { recursive: true, force: true });
    writeState(state);
    reporter.step(
      `cluster ${state.name}: slot ${slot}, node IP ${n.nodeIp}, pods ${n.podCidr}, services ${n.serviceCidr}, ports ${Object.values(ports).join(',')}`,
    );
    for (const p of plans.slice(1)) {
      reporter.step(`node ${nodeNameOf(state, plans.indexOf(p) + 1)}: netns ${p.netns}, node IP ${p.nodeIp}, pods ${p.podCidr}`);
    }
    reporter.info(`logs: ${logsDir(paths)}`);
    await setupNetwork(plans, ports.apiserver, signal);
    for (const p of plans) prepareCgroupRoot(p);
    writeConfigs(state, paths, l);
    await writeKubeconfigs(state, l);
    const st = state;
    const pr = probeOf(st, paths);
    const wait = (c: ComponentId, timeoutMs: number): Promise<void> =>
      waitFor(`${c} health`, () => pr(c).check(), { timeoutMs, signal, pidOf: () => st.pids[c], log: logOf(paths, c) });
    // node k's id of a node component (`kubelet`, `kubelet@2`, …)
    const onEvery = (c: NodeComponent): ComponentId[] => plans.map((_, i) => (i === 0 ? c : (`${c}@${i + 1}` as const)));

    reporter.step(nodes === 1 ? 'starting etcd and containerd' : `starting etcd and ${onEvery('containerd').join(', ')}`);
    startComponent(st, paths, 'etcd', bins, l, env);
    for (const c of onEvery('containerd')) startComponent(st, paths, c, bins, l, env);
    await wait('etcd', 30_000);
    reporter.step('starting kube-apiserver');
    startComponent(st, paths, 'kube-apiserver', bins, l, env);
    for (const c of onEvery('containerd')) await wait(c, 20_000);
    reporter.info(`importing ${pause.ref}`);
    for (let k = 1; k <= nodes; k++) await importImage(join(containerdBin, 'ctr'), nodeLayout(l, k).sock, pause, reporter, signal);
    // requested images are built/imported while the control plane starts (containerd is ready)
    const imagesDone = ensureLocalImages(ctx, st, opts.images ?? []).then(
      () => undefined,
      (err: unknown) => toClusterError(err, 'CLUSTER'),
    );
    // everything else retries against the apiserver on its own: start it all now
    reporter.step(
      nodes === 1
        ? 'starting kubelet, kube-proxy, CoreDNS, provisioner'
        : `starting ${[...onEvery('kubelet'), ...onEvery('kube-proxy')].join(', ')}, CoreDNS, provisioner`,
    );
    for (const c of ['kubelet', 'kube-proxy', 'coredns', 'provisioner'] as const) startComponent(st, paths, c, bins, l, env);
    for (const c of [...onEvery('kubelet'), ...onEvery('kube-proxy')].filter((id) => id.includes('@'))) {
      startComponent(st, paths, c, bins, l, env);
    }
    reporter.info('waiting for kube-apiserver /readyz');
    await wait('kube-apiserver', 90_000);
    // the controller manager exits when RBAC bootstrap is not done yet: start it after /readyz
    reporter.step('starting kube-controller-manager, kube-scheduler');
    for (const c of ['kube-controller-manager', 'kube-scheduler'] as const) startComponent(st, paths, c, bins, l, env);
    const api = new KubeClient(credsFor(l, st.server, 'admin'));
    await bootstrapObjects(api, st, l);
    // the monitoring components need their RBAC (just made); they watch the API from here on
    reporter.step('starting kube-state-metrics, metrics-server');
    for (const c of ['kube-state-metrics', 'metrics-server'] as const) startComponent(st, paths, c, bins, l, env);
    writeClientConfig(paths, l);
    for (let k = 1; k <= nodes; k++) {
      const name = nodeNameOf(st, k);
      const kubelet = onEvery('kubelet')[k - 1] ?? 'kubelet';
      reporter.step(`waiting for node ${name} to be Ready`);
      let lastMsg = '';
      await waitFor(
        nodes === 1 ? 'node Ready' : `node ${name} Ready`,
        async () => {
          const node = await api.get<NodeObj>(`/api/v1/nodes/${name}`).catch(() => undefined);
          const ready = node?.status?.conditions?.find((c) => c.type === 'Ready');
          const msg = ready === undefined ? 'not registered yet' : `${ready.status}: ${ready.message ?? ''}`;
          if (msg !== lastMsg) {
            reporter.info(`${nodes === 1 ? 'node' : name}: ${msg}`);
            lastMsg = msg;
          }
          return ready?.status === 'True';
        },
        { timeoutMs: 120_000, signal, pidOf: () => st.pids[kubelet], log: logOf(paths, kubelet), intervalMs: 500 },
      );
    }
    await waitFor(
      'default ServiceAccount',
      async () => (await api.get('/api/v1/namespaces/default/serviceaccounts/default').catch(() => undefined)) !== undefined,
      {
        timeoutMs: 60_000,
        signal,
        pidOf: () => st.pids['kube-controller-manager'],
        log: logOf(paths, 'kube-controller-manager'),
      },
    );
    // kube-router reads its Node at start: only now (it enforces NetworkPolicies from here on)
    for (const c of onEvery('kube-router')) startComponent(st, paths, c, bins, l, env);
    for (const c of [
      'kube-controller-manager',
      'kube-scheduler',
      ...onEvery('kube-proxy'),
      'coredns',
      'provisioner',
      ...onEvery('kube-router'),
      'kube-state-metrics',
      'metrics-server',
    ] as const)
      await wait(c, 60_000);
    const imageError = await imagesDone;
    if (imageError !== undefined) throw imageError;
    st.phase = 'running';
    writeState(st);
    reporter.step(`cluster ${st.name} is up: export KUBECONFIG=${paths.kubeconfig}`);
    return st;
  } catch (e) {
    const aborted = signal.aborted || (isClusterError(e) && e.code === 'ABORTED');
    reporter.warn(`${aborted ? 'interrupted' : 'failed'}: ${(isClusterError(e) ? e.message : describeError(e)).slice(0, 4000)}`);
    reporter.step('cleaning up the partial cluster');
    await localDown({ ...ctx, signal: new AbortController().signal }).catch((err: unknown) => {
      reporter.warn(`cleanup: ${describeError(err)}`);
    });
    if (state === undefined) releaseSlot(slot, paths.stateDir);
    throw e;
  }
}
