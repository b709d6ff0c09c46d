// Host-level prerequisites of the local backend: platform and privilege checks, resource checks,
// Debian packages + containerd (scripts/host-deps.sh of this package), Go-built binaries
// (scripts/build-upstream.sh), and the machine-wide registry of network slots and ports that keeps
// several worktrees' clusters apart.

import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, statfsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { ClusterError } from './errors.js';
import { LOCAL_CLUSTER_ROOT, PACKAGE_ROOT, cacheDir } from './names.js';
import { run } from './proc.js';
import { formatDuration, lineForwarder, type Reporter } from './progress.js';

export const RUN_DIR = '/run/gc-k8s';

export const ALTERNATIVES =
  'alternatives: point KUBECONFIG (or --context) at an existing cluster (`gc-k8s cluster up --backend existing`), ' +
  'or install kind and Docker (`--backend kind`)';

/** Throws CLUSTER with the alternatives when the local backend cannot run here. */
export function checkLocalPlatform(): void {
  if (process.platform !== 'linux') {
    throw new ClusterError('CLUSTER', `local cluster: needs Linux (this is ${process.platform}); ${ALTERNATIVES}`);
  }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new ClusterError(
      'CLUSTER',
      `local cluster: needs root (it runs containerd, kubelet and network namespaces); run with sudo, or ${ALTERNATIVES}`,
    );
  }
}

export interface ResourceNeeds {
  readonly memoryBytes: number;
  readonly diskBytes: number;
  readonly cpus: number;
}

export interface ResourceReport {
  readonly memoryAvailable: number;
  readonly diskAvailable: number;
  readonly cpus: number;
  readonly missing: string[];
}

const GiB = 1024 ** 3;

export function memAvailable(): number {
  try {
    const m = /MemAvailable:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'));
    return m?.[1] === undefined ? 0 : Number(m[1]) * 1024;
  } catch {
    return 0;
  }
}

export function diskAvailable(path: string): number {
  let p = path;
  while (!existsSync(p)) p = join(p, '..');
  const s = statfsSync(p);
  return s.bavail * s.bsize;
}

/** Compares what the host has with `needs`; `missing` names every shortfall in words. */
export function checkResources(needs: ResourceNeeds, diskPath: string): ResourceReport {
  const report: ResourceReport = {
    memoryAvailable: memAvailable(),
    diskAvailable: diskAvailable(diskPath),
    cpus: cpus().length,
    missing: [],
  };
  const g = (n: number): string => `${(n / GiB).toFixed(1)} GiB`;
  if (report.memoryAvailable < needs.memoryBytes) {
    report.missing.push(
      `memory: ${g(report.memoryAvailable)} available, needs ${g(needs.memoryBytes)} (free memory or stop other clusters)`,
    );
  }
  if (report.diskAvailable < needs.diskBytes) {
    report.missing.push(`disk: ${g(report.diskAvailable)} free on the filesystem of ${diskPath}, needs ${g(needs.diskBytes)}`);
  }
  if (report.cpus < needs.cpus) report.missing.push(`cpus: ${report.cpus} online, needs ${needs.cpus}`);
  return report;
}

export function assertResources(what: string, needs: ResourceNeeds, diskPath: string): void {
  const r = checkResources(needs, diskPath);
  if (r.missing.length > 0) {
    throw new ClusterError('CLUSTER', `${what}: not enough resources: ${r.missing.join('; ')}`, { details: { ...r } });
  }
}

export const LOCAL_NEEDS: ResourceNeeds = { memoryBytes: 2 * GiB, diskBytes: 4 * GiB, cpus: 2 };
/** additional needs when Go builds have to run first */
export const BUILD_NEEDS: ResourceNeeds = { memoryBytes: 4 * GiB, diskBytes: 12 * GiB, cpus: 1 };

/** Installs missing Debian packages and containerd 2.x; returns the containerd bin dir. */
export async function ensureHostDeps(env: NodeJS.ProcessEnv, reporter: Reporter, signal: AbortSignal): Promise<{ containerdBin: string }> {
  const script = join(LOCAL_CLUSTER_ROOT, 'scripts', 'host-deps.sh');
  const quiet = (l: string): boolean =>
    !l.includes('(Reading database') && !l.startsWith('debconf:') && !l.startsWith('W: Download is performed unsandboxed');
  const res = await run('bash', [script], { env, signal, onStderr: lineForwarder(reporter, quiet) });
  const m = /^CONTAINERD_BIN=(.+)$/m.exec(res.stdout);
  if (m?.[1] === undefined) throw new ClusterError('CLUSTER', `host deps: ${script} printed no CONTAINERD_BIN`);
  return { containerdBin: m[1].trim() };
}

export type UpstreamComponent =
  'k8s' | 'etcd' | 'coredns' | 'kube-router' | 'kube-state-metrics' | 'metrics-server' | 'prometheus' | 'gc' | 'bd' | 'bd-serve' | 'dolt';

/**
 * What `build-upstream.sh` would do now for a component (its `--plan` output): nothing (built),
 * exit at once (failed within the hour), wait for another process's build (busy), or build; and
 * how long a build should take: the last build's recorded duration, else a built-in estimate.
 */
export interface UpstreamPlan {
  readonly component: UpstreamComponent;
  readonly dir: string;
  readonly state: 'built' | 'failed' | 'busy' | 'build';
  readonly expectedSeconds: number;
  readonly basis: 'last' | 'estimate';
}

const PLAN_STATES: readonly string[] = ['built', 'failed', 'busy', 'build'];

/** Parses `build-upstream.sh --plan` (component TAB dir TAB state TAB seconds TAB last|estimate). */
export function parseUpstreamPlan(stdout: string): UpstreamPlan[] {
  const plans: UpstreamPlan[] = [];
  for (const line of stdout.split('\n')) {
    const [component, dir, state, seconds, basis] = line.split('\t');
    if (component === undefined || dir === undefined || state === undefined || !PLAN_STATES.includes(state)) continue;
    plans.push({
      component: component as UpstreamComponent,
      dir,
      state: state as UpstreamPlan['state'],
      expectedSeconds: Number(seconds ?? 0) || 0,
      basis: basis === 'last' ? 'last' : 'estimate',
    });
  }
  return plans;
}

/** "k8s (estimate ~11m00s)" or "etcd (last build took 1m05s)". */
function withExpectedTime(p: UpstreamPlan): string {
  const d = formatDuration(p.expectedSeconds);
  return `${p.component} (${p.basis === 'last' ? `last build took ${d}` : `estimate ~${d}`})`;
}

/**
 * The step lines announcing what ensureBinaries is about to do: only components that are really
 * built now, or waited for; a component that failed recently is not built (the script says so).
 */
export function announceBuilds(plans: readonly UpstreamPlan[], logsDir: string): string[] {
  const lines: string[] = [];
  const build = plans.filter((p) => p.state === 'build');
  const busy = plans.filter((p) => p.state === 'busy');
  if (build.length > 0) lines.push(`building ${build.map(withExpectedTime).join(', ')} from Go modules (logs in ${logsDir})`);
  if (busy.length > 0) lines.push(`waiting for another process's build of ${busy.map(withExpectedTime).join(', ')} (logs in ${logsDir})`);
  return lines;
}

/** Bin dirs of Go-built components, building the missing ones (minutes; progress to the reporter). */
export async function ensureBinaries(
  components: readonly UpstreamComponent[],
  env: NodeJS.ProcessEnv,
  reporter: Reporter,
  signal: AbortSignal,
): Promise<Record<UpstreamComponent, string>> {
  const script = join(PACKAGE_ROOT, 'scripts', 'build-upstream.sh');
  const plans = parseUpstreamPlan((await run('bash', [script, '--plan', ...components], { env, signal })).stdout);
  const dirs = new Map(plans.map((p) => [p.component, p.dir]));
  const missing = components.filter((c) => !existsSync(join(dirs.get(c) ?? '/nonexistent', '.complete')));
  if (missing.length > 0) {
    const logsDir = join(cacheDir(env), 'logs');
    const pending = plans.filter((p) => missing.includes(p.component));
    for (const line of announceBuilds(pending, logsDir)) reporter.step(line);
    if (pending.some((p) => p.state === 'build')) assertResources('go build', BUILD_NEEDS, plans[0]?.dir ?? '/');
    try {
      await run('bash', [script, ...missing], { env, signal, onStderr: lineForwarder(reporter) });
    } catch (e) {
      const text = e instanceof Error ? e.message : String(e);
      const logs = missing.map((c) => join(logsDir, `${c}.log`)).join(', ');
      const why = /403|not available/.test(text)
        ? 'the Go module proxy refuses the module (403 "This module version is not available"); retried after an hour or with GC_K8S_RETRY_BUILDS=1'
        : 'the Go build failed';
      throw new ClusterError('CLUSTER', `build ${missing.join(' ')}: ${why} (log: ${logs})`, { cause: e });
    }
  }
  const out: Partial<Record<UpstreamComponent, string>> = {};
  for (const c of components) out[c] = dirs.get(c) ?? '';
  return out as Record<UpstreamComponent, string>;
}

// ---- slots: one small integer per running local cluster, from which all addresses derive ----

export interface NetPlan {
  readonly slot: number;
  readonly netns: string;
  readonly netnsPath: string;
  readonly hostIf: string;
  readonly nodeIf: string;
  readonly hostIp: string;
  readonly nodeIp: string;
  readonly podCidr: string;
  readonly podGateway: string;
  readonly serviceCidr: string;
  readonly kubernetesServiceIp: string;
  readonly dnsServiceIp: string;
  readonly bridge: string;
  readonly cgroupRoot: string;
  readonly nftTable: string;
}

export function netPlan(slot: number): NetPlan {
  return {
    slot,
    netns: `gck${slot}`,
    netnsPath: `/run/netns/gck${slot}`,
    hostIf: `gck${slot}h`,
    nodeIf: 'eth0',
    hostIp: `10.250.${slot}.1`,
    nodeIp: `10.250.${slot}.2`,
    podCidr: `10.244.${slot}.0/24`,
    podGateway: `10.244.${slot}.1`,
    serviceCidr: `10.96.${slot}.0/24`,
    kubernetesServiceIp: `10.96.${slot}.1`,
    dnsServiceIp: `10.96.${slot}.10`,
    bridge: `gck${slot}br`,
    cgroupRoot: `/gck-${slot}`,
    nftTable: `gck${slot}`,
  };
}

/** The most nodes a local cluster may have (`cluster up --nodes N`): pod CIDRs 10.244–10.247.N.0/24. */
export const MAX_NODES = 4;

/**
 * The network of node k (1-based) of the cluster in `slot`. Node 1 is netPlan(slot) itself; node
 * k ≥ 2 has its own netns gckNn<k>, host veth gckNh<k>, the k-th /30 of 10.250.N.0/24 (host end
 * .4(k-1)+1, node end .4(k-1)+2), pod CIDR 10.(243+k).N.0/24 and cgroup root /gck-N-n<k>. The
 * service range and the host nft table are the cluster's (one for all nodes).
 */
export function nodeNetPlan(slot: number, k: number): NetPlan {
  const first = netPlan(slot);
  if (k === 1) return first;
  const base = 4 * (k - 1);
  return {
    ...first,
    netns: `gck${slot}n${k}`,
    netnsPath: `/run/netns/gck${slot}n${k}`,
    hostIf: `gck${slot}h${k}`,
    hostIp: `10.250.${slot}.${base + 1}`,
    nodeIp: `10.250.${slot}.${base + 2}`,
    podCidr: `10.${243 + k}.${slot}.0/24`,
    podGateway: `10.${243 + k}.${slot}.1`,
    bridge: `gck${slot}br${k}`,
    cgroupRoot: `/gck-${slot}-n${k}`,
  };
}

/** The networks of nodes 1..count of the cluster in `slot`. */
export function nodeNetPlans(slot: number, count: number): NetPlan[] {
  return Array.from({ length: count }, (_, i) => nodeNetPlan(slot, i + 1));
}

/** Every node network a slot may hold (leftover cleanup does not trust a lost state's node count). */
export function allNodeNetPlans(slot: number): NetPlan[] {
  return nodeNetPlans(slot, MAX_NODES);
}

export interface SlotRecord {
  readonly slot: number;
  readonly name: string;
  readonly stateDir: string;
  readonly ports: number[];
}

const SLOT_DIR = join(RUN_DIR, 'slots');

export function listSlots(): SlotRecord[] {
  if (!existsSync(SLOT_DIR)) return [];
  const out: SlotRecord[] = [];
  for (const f of readdirSync(SLOT_DIR)) {
    if (!f.endsWith('.json')) continue;
    try {
      out.push(JSON.parse(readFileSync(join(SLOT_DIR, f), 'utf8')) as SlotRecord);
    } catch {
      // torn write: ignore
    }
  }
  return out;
}

/** A slot is stale when its owner's state no longer references it (worktree removed, crashed `down`). */
export function slotIsStale(rec: SlotRecord): boolean {
  try {
    const st = JSON.parse(readFileSync(join(rec.stateDir, 'state.json'), 'utf8')) as { slot?: number };
    return st.slot !== rec.slot;
  } catch {
    return true;
  }
}

function routesInUse(routes: string, plan: NetPlan): boolean {
  const nodes = allNodeNetPlans(plan.slot);
  const prefixes = [`10.250.${plan.slot}.`, ...nodes.map((n) => n.podCidr.replace(/0\/24$/, '')), `10.96.${plan.slot}.`];
  return routes
    .split('\n')
    .some((l) => prefixes.some((p) => l.startsWith(p)) && !nodes.some((n) => new RegExp(`\\b${n.hostIf}\\b`).test(l)));
}

/**
 * Claims a slot for `name` (reusing `preferred` when it is ours or free). Skips slots whose
 * address ranges already appear in the host routing table. Exclusive create makes two
 * concurrent `up`s pick different slots.
 */
export async function claimSlot(name: string, stateDir: string, preferred: number | undefined): Promise<number> {
  mkdirSync(SLOT_DIR, { recursive: true });
  const routes = (await run('ip', ['-4', 'route', 'show'], { allowFail: true })).stdout;
  const links = (await run('ip', ['-o', 'link', 'show'], { allowFail: true })).stdout;
  const existing = new Map(listSlots().map((s) => [s.slot, s]));
  const candidates = preferred === undefined ? [] : [preferred];
  for (let i = 1; i <= 250; i++) if (i !== preferred) candidates.push(i);
  for (const slot of candidates) {
    const rec = existing.get(slot);
    if (rec !== undefined && rec.stateDir !== stateDir && !slotIsStale(rec)) continue;
    const plan = netPlan(slot);
    // ours, or a stale record whose leftovers (routes, links) the caller cleans: no foreign-use check
    const known = rec !== undefined;
    if (!known && (routesInUse(routes, plan) || allNodeNetPlans(slot).some((n) => new RegExp(`\\b${n.hostIf}[@:]`).test(links)))) continue;
    const file = join(SLOT_DIR, `${slot}.json`);
    const record: SlotRecord = { slot, name, stateDir, ports: rec?.ports ?? [] };
    if (rec !== undefined) {
      // ours, or a stale one we take over (its leftovers are cleaned by the caller)
      writeFileSync(file, JSON.stringify(record));
      return slot;
    }
    try {
      writeFileSync(file, JSON.stringify(record), { flag: 'wx' });
      return slot;
    } catch {
      continue; // raced with another up
    }
  }
  throw new ClusterError(
    'CLUSTER',
    'local cluster: no free network slot (250 clusters running?); run `gc-k8s cluster down` in unused worktrees',
  );
}

export function recordSlotPorts(slot: number, name: string, stateDir: string, ports: number[]): void {
  writeFileSync(join(SLOT_DIR, `${slot}.json`), JSON.stringify({ slot, name, stateDir, ports } satisfies SlotRecord));
}

export function releaseSlot(slot: number, stateDir: string): void {
  const file = join(SLOT_DIR, `${slot}.json`);
  try {
    const rec = JSON.parse(readFileSync(file, 'utf8')) as SlotRecord;
    if (rec.stateDir !== stateDir) return;
  } catch {
    return;
  }
  rmSync(file, { force: true });
}

// ---- machine-wide lock for port allocation (two concurrent `up`s must not pick the same ports) ----

/** Runs fn while holding /run/gc-k8s/alloc.lock (a directory; taken over when older than 30 s). */
export async function withHostLock<T>(fn: () => Promise<T>): Promise<T> {
  const lock = join(RUN_DIR, 'alloc.lock');
  mkdirSync(RUN_DIR, { recursive: true });
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      try {
        if (Date.now() - statSync(lock).mtimeMs > 30_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        // released meanwhile
      }
      if (Date.now() > deadline)
        throw new ClusterError('CLUSTER', `local cluster: could not take ${lock} (remove it if no other gc-k8s is running)`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

// ---- ports ----

function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => {
      resolve(false);
    });
    srv.listen({ port, host, exclusive: true }, () => {
      srv.close(() => {
        resolve(true);
      });
    });
  });
}

export function parsePortRange(text: string | undefined): [number, number] {
  const m = /^(\d+)-(\d+)$/.exec(text ?? '');
  if (m?.[1] === undefined || m[2] === undefined) return [24000, 24999];
  const lo = Number(m[1]);
  const hi = Number(m[2]);
  if (lo < 1024 || hi > 65535 || lo > hi)
    throw new ClusterError('BAD_REQUEST', `GC_K8S_PORT_RANGE=${text ?? ''}: want LOW-HIGH within 1024-65535`);
  return [lo, hi];
}

/**
 * Picks `count` ports in range that no other registered cluster holds and that bind on both
 * 0.0.0.0 and 127.0.0.1 right now. `keep` (from a previous run) is reused when still free.
 */
export async function allocatePorts(count: number, range: [number, number], keep: readonly number[], ownSlot: number): Promise<number[]> {
  const taken = new Set(
    listSlots()
      .filter((s) => s.slot !== ownSlot && !slotIsStale(s))
      .flatMap((s) => s.ports),
  );
  const out: number[] = [];
  const free = async (p: number): Promise<boolean> =>
    !taken.has(p) && !out.includes(p) && (await canBind(p, '0.0.0.0')) && (await canBind(p, '127.0.0.1'));
  if (keep.length === count && (await Promise.all(keep.map(free))).every(Boolean)) return [...keep];
  for (let p = range[0]; p <= range[1] && out.length < count; p++) {
    if (await free(p)) out.push(p);
  }
  if (out.length < count) {
    throw new ClusterError(
      'CLUSTER',
      `local cluster: port range ${range[0]}-${range[1]} exhausted (need ${count} free ports); set GC_K8S_PORT_RANGE=LOW-HIGH or stop other clusters`,
    );
  }
  return out;
}
