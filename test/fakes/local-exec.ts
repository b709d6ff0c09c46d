// A PodExec that runs the command on this machine: the real bash/sh programs we send to pods,
// with streaming stdin and output, without a cluster.

import { spawn } from 'node:child_process';
import type { ExecRequest, ExecResult, PodExec } from '../../src/core/ports.js';

export class LocalExec implements PodExec {
  readonly calls: ExecRequest[] = [];

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  exec(req: ExecRequest): Promise<ExecResult> {
    this.calls.push(req);
    return new Promise((resolve, reject) => {
      const child = spawn(req.command[0]!, req.command.slice(1), { env: this.env });
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
      const onAbort = (): void => {
        child.kill('SIGKILL');
      };
      req.signal.addEventListener('abort', onAbort, { once: true });
      child.on('error', reject);
      child.on('close', (code) => {
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
}
