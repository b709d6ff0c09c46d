#!/usr/bin/env node
// Gas City exec beads provider: forwards to the gc-k8s daemon.
import { runExecProvider } from '../dist/client/exec-provider.js';

process.exitCode = await runExecProvider('beads', {
  argv: process.argv.slice(2),
  env: { GC_K8S_INVOKED_AS: process.argv[1], ...process.env },
  cwd: process.cwd(),
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
});
