// A PodExec that runs the command on this machine: the real bash/sh programs we send to pods,
// with streaming stdin and output, without a cluster. Aborting kills the process and rejects,
// as the WebSocket exec does.

import { spawn, type ChildProcess } from 'node:child_process';
import type { ExecRequest, ExecResult, PodExec } from '../../src/kube/ports.js';
import { abortError } from '../../src/util/abort.js';

export interface LocalExecOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** rewrites argv before it runs (e.g. pod paths onto a temp dir) */
  readonly mapArgv?: (argv: readonly string[]) => string[];
}

export class LocalExec implements PodExec {
  readonly calls: ExecRequest[] = [];
  private readonly running = new Set<ChildProcess>();

  constructor(private readonly options: LocalExecOptions = {}) {}

  exec(req: ExecRequest): Promise<ExecResult> {
    this.calls.push(req);
    const argv = this.options.mapArgv?.(req.command) ?? [...req.command];
    return new Promise((resolve, reject) => {
      const child = spawn(argv[0] ?? 'false', argv.slice(1), { env: this.options.env ?? process.env });
      this.running.add(child);
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (d: Buffer) => {
        if (req.onOutput) req.onOutput('stdout', d);
        else out.push(d);
      });
      child.stderr.on('data', (d: Buffer) => {
        if (req.onOutput) req.onOutput('stderr', d);
        else err.push(d);
      });
      child.stdin.on('error', () => undefined); // a command may exit without reading its input
      const onAbort = (): void => {
        child.kill('SIGKILL');
        reject(abortError(req.signal, 'exec'));
      };
      req.signal.addEventListener('abort', onAbort, { once: true });
      child.on('error', reject);
      child.on('close', (code) => {
        this.running.delete(child);
        req.signal.removeEventListener('abort', onAbort);
        resolve({ exitCode: code ?? 137, stdout: Buffer.concat(out), stderr: Buffer.concat(err) });
      });
      void (async () => {
        if (req.stdin instanceof Uint8Array) child.stdin.end(req.stdin);
        else if (req.stdin !== undefined) {
          for await (const chunk of req.stdin) child.stdin.write(chunk);
          child.stdin.end();
        } else child.stdin.end();
      })().catch(() => undefined);
    });
  }

  /** Kills every command still running: what deleting the pod does to its execs. */
  killAll(): void {
    for (const c of this.running) c.kill('SIGKILL');
  }
}
