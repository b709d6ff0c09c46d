// `gc-k8s`: the composition root. The only module that reads process.env, installs signal
// handlers and decides the process exit code. Subcommands load their code lazily so that quick
// commands stay quick.

import { readFileSync } from 'node:fs';
import type { Io } from '../client/exec-provider.js';
import { describeError } from '../errors.js';
import { CLIENT_ENV } from '../protocol/client-env.js';

/** What a command gets of its process: the same as a provider script's. */
export type CliIo = Io;

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

const USAGE = `usage: gc-k8s <command> [args]

  serve [--socket PATH]         run the daemon in the foreground (clients start it on demand)
  status                        daemon and watch-cache status for the current config
  stats                         Kubernetes API requests the daemon made, by verb and resource
  stop-daemon                   stop the daemon serving this KUBECONFIG
  attach <session>              attach your terminal to a session's tmux (kubectl exec -it)
  session <op> [args]           run an exec session op (as gc-session-k8s)
  events <op> [args]            run an exec events op (as gc-events-k8s)
  events prune --max-age D --max-count N   delete old events now (what the retention CronJob runs)
  beads <op> [args]             run an exec beads op (as gc-beads-k8s)
  beads ready-count [--type T] [--label L] [--assignee A] [--min N] [--max M]
                                how many ready beads match, clamped to [min, max] (default 0, unbounded): one
                                integer, from Dolt directly (bd in the runner when it must); a pool's scale_check
  cluster up|down|status|kubeconfig   the local single-node cluster of this worktree
  config table|check            print the configuration table, or check the current config
  sessions [--json]             this city's sessions (running, starting, stopped with a kept workspace) and warm pools
  top [--json]                  this city's sessions with CPU, memory (metrics API), restarts, age and last activity
  workspaces list|delete <session>|prune --unused-for D   kept session workspaces (claims) of this city
  link [<city dir>]             link the provider scripts into <city>/.gc-k8s/bin (one supervisor, several cities)
  doctor                        check this city against the cluster: namespace, Pod Security, a dry-run pod, RBAC
  install [--dry-run] [--namespace NS] [--set key=value]... [--force-conflicts] [--context C]
                                apply contrib/k8s's namespace policy (namespace, RBAC, admission, quota and limits,
                                PriorityClasses, NetworkPolicies, PDBs) by server-side apply; one line per object
  uninstall [--dry-run] [--namespace NS] [--context C]   remove what install applied (shared cluster objects last)
  deploy [--namespace N] [--image I] [--controller-image I] [--controller-command "..."] [--daemon-env K=V]...
         [--update] [--timeout S]   run the daemon in the cluster beside the gc controller (contrib/k8s/controller);
                                follows the rollout until ready
  deploy status [--namespace N] one line each: ready, leader, images
  undeploy [--namespace N]      remove what deploy made (sessions stay)
  demo up|down                  the stand-in city on a cluster (npm start / npm stop)
  version
`;

const READY_COUNT_USAGE = 'usage: gc-k8s beads ready-count [--type T] [--label L] [--assignee A] [--min N] [--max M]\n';

async function serve(io: CliIo, args: readonly string[]): Promise<number> {
  const { parseArgs } = await import('node:util');
  const { values } = parseArgs({ args: [...args], options: { socket: { type: 'string' }, 'log-level': { type: 'string' } } });
  const { socketPath } = await import('../protocol/socket-path.js');
  const { createLogger } = await import('../log/logger.js');
  const { runDaemon } = await import('../daemon/compose.js');
  const { createKubeClient } = await import('../k8s/client.js');
  const { kubeconfigPaths, kubeconfigWatch } = await import('../daemon/kubeconfig-watch.js');
  const { loadDaemonSettings } = await import('../config/daemon.js');
  // bad daemon settings fail here, before anything listens
  const settings = loadDaemonSettings({
    ...io.env,
    ...(values['log-level'] === undefined ? {} : { GC_K8S_LOG_LEVEL: values['log-level'] }),
  });
  const log = createLogger({ level: settings.logLevel });
  const daemon = await runDaemon({
    socket: values.socket ?? socketPath(io.env),
    log,
    version: version(),
    clusterClient: (context, signal) =>
      createKubeClient({
        log,
        env: io.env,
        signal,
        ...(context === '' ? {} : { context }),
        qps: settings.qps,
        burst: settings.burst,
        reflector: { inactivityMs: settings.watchIdleTimeoutMs, verifyAfterMs: settings.cacheVerifyAfterMs },
      }),
    configWatch: kubeconfigWatch(kubeconfigPaths(io.env)),
    privateSocketDir: values.socket === undefined && (io.env[CLIENT_ENV.socket.env] ?? '') === '',
    abandonedStartAgeMs: settings.abandonedStartAgeMs,
    ...(settings.metricsAddr === undefined ? {} : { metricsAddr: settings.metricsAddr }),
    metricsSessionLabels: settings.metricsSessionLabels,
    ...(settings.leaderLease === '' ? {} : { leader: { lease: settings.leaderLease, namespace: settings.leaderNamespace } }),
    drainTimeoutMs: settings.drainTimeoutMs,
  });
  const onSignal = (sig: string) => () => {
    daemon.shutdown(sig);
  };
  process.once('SIGTERM', onSignal('SIGTERM'));
  process.once('SIGINT', onSignal('SIGINT'));
  const { guardProcess } = await import('../daemon/crash-guard.js');
  const guard = guardProcess(process, log, (reason) => {
    daemon.shutdown(reason);
  });
  await daemon.closed;
  guard.dispose();
  return guard.failed ? 1 : 0;
}

/** The warm pools the daemon of this config keeps (its status op, which also starts the city's pool). */
async function daemonWarmPools(io: CliIo): Promise<import('../session/warm-pool.js').WarmPoolStatus[]> {
  const { forward, makeRequest } = await import('../client/exec-provider.js');
  let text = '';
  const capture = { ...io, stdout: { write: (d: string | Uint8Array) => ((text += String(d)), true) } as unknown as NodeJS.WritableStream };
  const code = await forward(makeRequest('admin', 'status', [], capture), capture);
  if (code !== 0) throw new Error(`daemon status exited ${code}`);
  return (JSON.parse(text) as { warmPools?: import('../session/warm-pool.js').WarmPoolStatus[] }).warmPools ?? [];
}

async function admin(io: CliIo, op: string): Promise<number> {
  const { forward, makeRequest } = await import('../client/exec-provider.js');
  return forward(makeRequest('admin', op, [], io), io);
}

/**
 * The environments of the daemons a command without KUBECONFIG may mean: the default one, and
 * that of this worktree's local cluster (npm start runs its daemon with that kubeconfig), so
 * `gc-k8s stop-daemon` from the worktree finds the demo's daemon. Only those answering count.
 */
async function runningDaemons(io: CliIo): Promise<NodeJS.ProcessEnv[]> {
  const { socketPath } = await import('../protocol/socket-path.js');
  const { socketAnswers } = await import('../protocol/socket-path.js');
  const candidates: NodeJS.ProcessEnv[] = [io.env];
  if ((io.env['KUBECONFIG'] ?? '') === '' && (io.env[CLIENT_ENV.socket.env] ?? '') === '') {
    const { existsSync } = await import('node:fs');
    const path = await import('node:path');
    const { findWorktree, PACKAGE_ROOT } = await import('@gc-k8s/local-cluster');
    for (const root of new Set([findWorktree(io.cwd), PACKAGE_ROOT])) {
      const kubeconfig = path.join(root, '.kube', 'config');
      if (existsSync(kubeconfig)) candidates.push({ ...io.env, KUBECONFIG: kubeconfig });
    }
  }
  const alive: NodeJS.ProcessEnv[] = [];
  const seen = new Set<string>();
  for (const env of candidates) {
    const socket = socketPath(env);
    if (seen.has(socket)) continue;
    seen.add(socket);
    if (await socketAnswers(socket)) alive.push(env);
  }
  return alive;
}

/**
 * Runs a long command whose signal fires on the first Ctrl-C or SIGTERM, so it can clean up.
 * Teardown must not be cut short by the signals that follow: npm forwards the terminal's SIGINT
 * to its child, which the child also got from the terminal, so one Ctrl-C arrives twice. Only a
 * third press, a second after the first, gives up (exit 130, saying what is left).
 */
async function untilInterrupted(run: (signal: AbortSignal) => Promise<number>, io: CliIo): Promise<number> {
  const controller = new AbortController();
  let first = 0;
  let presses = 0;
  const onSignal = (): void => {
    if (!controller.signal.aborted) {
      first = Date.now();
      controller.abort(new Error('interrupted'));
      return;
    }
    if (Date.now() - first < 1_000) return; // the same Ctrl-C, forwarded by npm
    presses++;
    if (presses === 1) {
      try {
        io.stderr.write('gc-k8s: still cleaning up; press Ctrl-C again to abandon it (what is not cleaned up stays)\n');
      } catch {
        /* the terminal's reader is gone */
      }
      return;
    }
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await run(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Output to a pipe whose reader died (`npm start | tee log`, then Ctrl-C) must not crash cleanup. */
function ignoreBrokenPipes(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
  }
}

export async function main(io: CliIo): Promise<number> {
  const [command, ...rest] = io.argv;
  try {
    if (command === 'events' && rest[0] === 'prune') {
      const { runEventsPrune } = await import('./events-prune.js');
      return await runEventsPrune(rest.slice(1), io);
    }
    if (command === 'beads' && rest[0] === 'ready-count') {
      // bad input is a usage error here, before the daemon is even asked (it checks again)
      const { readyCountQuery } = await import('../beads/reads.js');
      try {
        readyCountQuery(rest.slice(1));
      } catch (err) {
        io.stderr.write(`gc-k8s beads ${describeError(err)}\n${READY_COUNT_USAGE}`);
        return 2;
      }
    }
    switch (command) {
      case 'serve':
        return await serve(io, rest);
      case 'status':
      case 'stats': {
        const [env] = await runningDaemons(io);
        return await admin({ ...io, env: env ?? io.env }, command);
      }
      case 'stop-daemon': {
        const daemons = await runningDaemons(io);
        if (daemons.length === 0) {
          io.stdout.write('no daemon running\n');
          return 0;
        }
        let exit = 0;
        for (const env of daemons) {
          if (env['KUBECONFIG'] !== io.env['KUBECONFIG']) io.stdout.write(`stopping the daemon of KUBECONFIG=${env['KUBECONFIG'] ?? ''}\n`);
          exit = Math.max(exit, await admin({ ...io, env: { ...env, [CLIENT_ENV.noAutostart.env]: '1' } }, 'shutdown'));
        }
        // return once they are gone, so what follows (a cluster teardown) has no daemon racing it
        const deadline = Date.now() + 15_000;
        while ((await runningDaemons(io)).length > 0) {
          if (Date.now() > deadline) {
            io.stderr.write('gc-k8s stop-daemon: a daemon still answers after 15 s (see its log)\n');
            return 1;
          }
          await new Promise((r) => setTimeout(r, 100));
        }
        return exit;
      }
      case 'attach':
      case 'session':
      case 'events':
      case 'beads': {
        const { runExecProvider } = await import('../client/exec-provider.js');
        const provider = command === 'attach' ? 'session' : command;
        return await runExecProvider(provider, { ...io, argv: command === 'attach' ? ['attach', ...rest] : rest });
      }
      case 'cluster': {
        const { runClusterCommand } = await import('@gc-k8s/local-cluster');
        return await untilInterrupted(
          (signal) => runClusterCommand([...rest], { stdout: io.stdout, stderr: io.stderr, env: io.env, cwd: io.cwd, signal }),
          io,
        );
      }
      case 'demo': {
        const { runDemo } = await import('./demo.js');
        ignoreBrokenPipes();
        return await untilInterrupted((signal) => runDemo(rest, { env: io.env, stdout: io.stdout, stderr: io.stderr, signal }), io);
      }
      case 'config': {
        const { configTableMarkdown, findCityToml, loadConfig } = await import('../config/load.js');
        if (rest[0] === 'table') {
          const { daemonTableMarkdown } = await import('../config/daemon.js');
          io.stdout.write(`${configTableMarkdown()}\n\n${daemonTableMarkdown()}\n`);
          return 0;
        }
        if (rest[0] === 'check') {
          const config = loadConfig({ env: io.env, cityToml: findCityToml(io.env, io.cwd) });
          for (const w of config.warnings) io.stderr.write(`warning: ${w}\n`);
          io.stdout.write(
            `${JSON.stringify({ cityToml: config.cityToml, context: config.context, pod: config.pod, session: config.session }, null, 2)}\n`,
          );
          return 0;
        }
        io.stderr.write('usage: gc-k8s config table|check\n');
        return 2;
      }
      case 'sessions': {
        const { runSessions } = await import('./sessions.js');
        return await runSessions(rest, io, () => daemonWarmPools(io));
      }
      case 'top': {
        const { runTop } = await import('./top.js');
        return await runTop(rest, io);
      }
      case 'workspaces': {
        const { runWorkspaces } = await import('./workspaces.js');
        return await runWorkspaces(rest, io);
      }
      case 'doctor': {
        const { runDoctor } = await import('./doctor.js');
        return await runDoctor(rest, io);
      }
      case 'install':
      case 'uninstall': {
        const { runInstall, runUninstall } = await import('./install.js');
        // `gc-k8s install | head` must not stop an install halfway
        ignoreBrokenPipes();
        return await (command === 'install' ? runInstall : runUninstall)(rest, io);
      }
      case 'deploy':
      case 'undeploy': {
        const { runDeploy } = await import('./deploy.js');
        ignoreBrokenPipes();
        return await runDeploy(command, rest, io);
      }
      case 'link': {
        const { linkCity } = await import('./link.js');
        return linkCity(rest, io);
      }
      case 'version':
      case '--version':
        io.stdout.write(`${version()}\n`);
        return 0;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        io.stderr.write(`gc-k8s: unknown command ${JSON.stringify(command)}\n${USAGE}`);
        return 2;
    }
  } catch (err) {
    io.stderr.write(`gc-k8s ${command}: ${describeError(err)}\n`);
    return 1;
  }
}
