#!/usr/bin/env node
// The Node client of the three exec-provider scripts: `gc-provider-k8s.js <session|events|beads>
// <op> [args]`, run by bin/gc-<provider>-k8s (and by the native client when it hands a call over).
import { runExecProvider } from '../dist/client/exec-provider.js';

const provider = process.argv[2];
if (provider !== 'session' && provider !== 'events' && provider !== 'beads') {
  process.stderr.write('usage: gc-provider-k8s.js session|events|beads <op> [args...]\n');
  process.exit(2);
}
process.exitCode = await runExecProvider(provider, {
  argv: process.argv.slice(3),
  env: { GC_K8S_INVOKED_AS: process.argv[1], ...process.env },
  cwd: process.cwd(),
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
});
