// `gc-k8s cluster up|down|status|kubeconfig|image|env`: the command-line face of api.ts.

import { describeError, isClusterError } from './errors.js';
import {
  clusterDown,
  clusterStatus,
  ensureCluster,
  ensureImage,
  listLocalClusters,
  pruneLocalClusters,
  restartClusterComponent,
  type ClusterOptions,
} from './api.js';
import { BACKENDS, type BackendName } from './backends.js';
import { MAX_NODES } from './host.js';
import { IMAGE_NAMES, type ImageName } from './images.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT, worktreePaths } from './names.js';
import { run, tailFile } from './proc.js';
import { streamReporter } from './progress.js';

export interface ClusterIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly signal: AbortSignal;
}

export const CLUSTER_USAGE = `usage: gc-k8s cluster <command> [options]

commands:
  up          bring this worktree's cluster up (idempotent); prints the kubeconfig path
  down        stop it and remove everything it created (processes, mounts, netns, nft, cgroups, state)
  status      components, health and ports (exit 1 when not healthy)
  kubeconfig  print the kubeconfig path (--export: an export line for eval)
  image NAME  build (cached) and import an image (${IMAGE_NAMES.join(', ')}); prints its reference
  env         print export KUBECONFIG=… (and PATH with the built kubectl) for eval
  list        every local cluster on this machine (all worktrees): slot, name, apiserver, worktree
  prune       stop and remove local clusters whose worktree was moved or deleted without down
  logs [C]    last lines of a component's log (all components without C; --lines N)
  restart C   restart one component of the local cluster (e.g. kube-apiserver); data and pods are kept

options:
  --backend auto|existing|kind|local   default auto: KUBECONFIG/--context → existing; kind+Docker → kind; Linux root → local
  --context NAME       kubeconfig context of an existing cluster
  --kubeconfig PATH    kubeconfig of an existing cluster
  --namespace NS       namespace to check permissions in (existing; default "default")
  --images LIST        comma-separated images to import on up (${IMAGE_NAMES.join(',')})
  --nodes N            local backend: nodes of a new cluster, 1-${MAX_NODES} (default 1; an existing cluster keeps its count)
  --json               machine-readable output (status, up)

environment: GC_K8S_PORT_RANGE=LOW-HIGH (default 24000-24999), GC_K8S_CACHE (default ~/.cache/gc-k8s)
`;

interface Parsed {
  command: string;
  positional: string[];
  flags: Map<string, string | true>;
}

export function parseArgs(argv: readonly string[]): Parsed {
  const out: Parsed = { command: '', positional: [], flags: new Map() };
  const valued = new Set(['backend', 'context', 'kubeconfig', 'namespace', 'images', 'lines', 'nodes']);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const key = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (eq > 0) out.flags.set(key, a.slice(eq + 1));
      else if (valued.has(key)) {
        const v = argv[i + 1];
        if (v === undefined) throw new Error(`--${key} needs a value`);
        out.flags.set(key, v);
        i++;
      } else out.flags.set(key, true);
    } else if (a === '-h') out.flags.set('help', true);
    else if (out.command === '') out.command = a;
    else out.positional.push(a);
  }
  return out;
}

function str(p: Parsed, k: string): string | undefined {
  const v = p.flags.get(k);
  return typeof v === 'string' ? v : undefined;
}

function toOptions(p: Parsed, io: ClusterIo): ClusterOptions {
  const backend = str(p, 'backend') ?? 'auto';
  if (backend !== 'auto' && !BACKENDS.includes(backend as BackendName)) {
    throw new Error(`--backend ${backend}: want one of auto, ${BACKENDS.join(', ')}`);
  }
  const images = (str(p, 'images') ?? '').split(',').filter((s) => s !== '');
  for (const i of images)
    if (!IMAGE_NAMES.includes(i as ImageName)) throw new Error(`--images: unknown image ${i} (${IMAGE_NAMES.join(', ')})`);
  const nodes = parseNodes(p.flags.get('nodes'));
  const ctx = str(p, 'context');
  const kc = str(p, 'kubeconfig');
  const ns = str(p, 'namespace');
  return {
    cwd: io.cwd,
    env: io.env,
    signal: io.signal,
    reporter: streamReporter(io.stderr),
    backend: backend as BackendName | 'auto',
    images: images as ImageName[],
    ...(nodes === undefined ? {} : { nodes }),
    ...(ctx === undefined ? {} : { context: ctx }),
    ...(kc === undefined ? {} : { kubeconfig: kc }),
    ...(ns === undefined ? {} : { namespace: ns }),
  };
}

/** `--nodes N`: a whole number from 1 to MAX_NODES (the message names the cause; nothing has run yet). */
export function parseNodes(v: string | true | undefined): number | undefined {
  if (v === undefined) return undefined;
  const text = v === true ? '' : v;
  if (!/^[0-9]{1,3}$/.test(text) || Number(text) < 1 || Number(text) > MAX_NODES) {
    throw new NodesError(`--nodes ${JSON.stringify(text.slice(0, 20))}: want a whole number from 1 to ${String(MAX_NODES)}`);
  }
  return Number(text);
}

/** A bad --nodes: one line, without the usage text. */
class NodesError extends Error {}

async function kubectlDir(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const r = await run('bash', [join(PACKAGE_ROOT, 'scripts', 'build-upstream.sh'), '--dirs', 'k8s'], { env, allowFail: true });
  const dir = r.stdout.trim();
  return dir !== '' && existsSync(join(dir, 'kubectl')) ? dir : undefined;
}

/** Runs `gc-k8s cluster <argv>`; resolves with the exit code (0 ok, 1 failure, 2 usage, 130 interrupted). */
export async function runClusterCommand(argv: string[], io: ClusterIo): Promise<number> {
  let p: Parsed;
  let opts: ClusterOptions;
  try {
    p = parseArgs(argv);
    if (p.flags.has('help') || p.command === '' || p.command === 'help') {
      io.stdout.write(CLUSTER_USAGE);
      return p.command === '' && !p.flags.has('help') ? 2 : 0;
    }
    opts = toOptions(p, io);
  } catch (e) {
    io.stderr.write(`gc-k8s cluster: ${describeError(e)}\n${e instanceof NodesError ? '' : CLUSTER_USAGE}`);
    return 2;
  }
  const json = p.flags.has('json');
  try {
    switch (p.command) {
      case 'up': {
        const info = await ensureCluster(opts);
        if (json) io.stdout.write(`${JSON.stringify(info)}\n`);
        else io.stdout.write(`${info.kubeconfig}\n`);
        return 0;
      }
      case 'down':
        await clusterDown(opts);
        return 0;
      case 'status': {
        const st = await clusterStatus(opts);
        if (json) {
          io.stdout.write(`${JSON.stringify(st, null, 2)}\n`);
          return st.healthy ? 0 : 1;
        }
        const lines = [`cluster ${st.name}: backend ${st.backend}, ${st.healthy ? 'healthy' : st.running ? 'DEGRADED' : 'not running'}`];
        if (st.server !== undefined) lines.push(`  apiserver: ${st.server}`);
        if (st.kubeconfig !== undefined) lines.push(`  kubeconfig: ${st.kubeconfig}`);
        if (st.slot !== undefined)
          lines.push(`  slot: ${st.slot} (node 10.250.${st.slot}.2, pods 10.244.${st.slot}.0/24, services 10.96.${st.slot}.0/24)`);
        if (st.nodes !== undefined && st.nodes.length > 1) {
          st.nodes.forEach((n, i) => {
            lines.push(
              `  node ${i + 1}: ${n.name} (netns ${n.netns}, node IP ${n.nodeIp}, pods ${n.podCidr})${i === 0 ? ': control plane, CoreDNS' : ''}`,
            );
          });
        }
        if (st.ports !== undefined)
          lines.push(
            `  ports: ${Object.entries(st.ports)
              .map(([k, v]) => `${k}=${v}`)
              .join(' ')}`,
          );
        if (st.monitoring !== undefined) {
          const m = st.monitoring;
          lines.push(`  scrape: ${m.kubeStateMetrics}, ${m.kubeletCadvisor}, ${m.kubeletMetrics}`);
          lines.push(`  scrape TLS: client cert ${m.tls.cert}, key ${m.tls.key}, CA ${m.tls.ca}`);
        }
        if (st.components.length > 0) {
          lines.push('  component                 pid      process  health  endpoint');
          for (const c of st.components) {
            lines.push(
              `  ${c.name.padEnd(25)} ${String(c.pid ?? '-').padEnd(8)} ${(c.alive ? 'alive' : 'DEAD').padEnd(8)} ${(c.healthy ? 'ok' : 'FAIL').padEnd(7)} ${c.endpoint ?? ''}`,
            );
          }
          const bad = st.components.filter((c) => !c.healthy);
          for (const c of bad) if (c.log !== undefined) lines.push(`  ${c.name}: log ${c.log}`);
        }
        for (const [name, ref] of Object.entries(st.images ?? {})) lines.push(`  image ${name}: ${ref}`);
        if (st.message !== undefined) lines.push(`  ${st.message}`);
        io.stdout.write(`${lines.join('\n')}\n`);
        return st.healthy ? 0 : 1;
      }
      case 'kubeconfig':
      case 'env': {
        const st = await clusterStatus(opts);
        const path = st.kubeconfig ?? worktreePaths(io.cwd).kubeconfig;
        if (p.command === 'env') {
          // kubectl built by scripts/build-upstream.sh, when present
          const kubectl = await kubectlDir(io.env);
          io.stdout.write(`export KUBECONFIG=${path}\n${kubectl === undefined ? '' : `export PATH=${kubectl}:$PATH\n`}`);
        } else io.stdout.write(p.flags.has('export') ? `export KUBECONFIG=${path}\n` : `${path}\n`);
        return st.running ? 0 : 1;
      }
      case 'list': {
        const all = listLocalClusters();
        if (json) io.stdout.write(`${JSON.stringify(all, null, 2)}\n`);
        else if (all.length === 0) io.stdout.write('no local clusters on this machine\n');
        else {
          for (const c of all) {
            io.stdout.write(
              `${String(c.slot).padStart(3)}  ${c.name.padEnd(40)} ${c.stale ? 'STALE ' : ''}${c.server ?? ''}  ${c.worktree}\n`,
            );
          }
        }
        return 0;
      }
      case 'logs': {
        const st = await clusterStatus(opts);
        const which = p.positional[0];
        const lines = Number(str(p, 'lines') ?? '40');
        const comps = st.components.filter((c) => which === undefined || c.name === which);
        if (comps.length === 0) {
          io.stderr.write(
            which === undefined
              ? 'no local cluster components\n'
              : `unknown component ${which} (${st.components.map((c) => c.name).join(', ')})\n`,
          );
          return 1;
        }
        for (const c of comps) {
          if (c.log === undefined) continue;
          io.stdout.write(`==> ${c.name}: ${c.log}\n${tailFile(c.log, Number.isFinite(lines) ? lines : 40)}\n`);
        }
        return 0;
      }
      case 'restart': {
        const which = p.positional[0];
        if (which === undefined) {
          io.stderr.write('gc-k8s cluster restart: which component? (gc-k8s cluster status lists them)\n');
          return 2;
        }
        await restartClusterComponent(which, opts);
        return 0;
      }
      case 'prune': {
        const pruned = await pruneLocalClusters({ reporter: streamReporter(io.stderr) });
        io.stdout.write(pruned.length === 0 ? 'nothing to prune\n' : `pruned: ${pruned.join(' ')}\n`);
        return 0;
      }
      case 'image': {
        const name = p.positional[0];
        if (name === undefined || !IMAGE_NAMES.includes(name as ImageName)) {
          io.stderr.write(`gc-k8s cluster image: want one of ${IMAGE_NAMES.join(', ')}\n`);
          return 2;
        }
        io.stdout.write(`${await ensureImage(name as ImageName, opts)}\n`);
        return 0;
      }
      default:
        io.stderr.write(`gc-k8s cluster: unknown command ${p.command}\n${CLUSTER_USAGE}`);
        return 2;
    }
  } catch (e) {
    if (io.signal.aborted || (isClusterError(e) && e.code === 'ABORTED')) {
      io.stderr.write('gc-k8s cluster: interrupted\n');
      return 130;
    }
    io.stderr.write(`gc-k8s cluster ${p.command}: ${isClusterError(e) ? e.message : describeError(e)}\n`);
    return 1;
  }
}
