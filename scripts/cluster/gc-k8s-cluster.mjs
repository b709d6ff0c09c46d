#!/usr/bin/env node
// Stand-alone entry for `gc-k8s cluster …` (until bin/gc-k8s.js wires it): runs the compiled
// @gc-k8s/local-cluster (packages/local-cluster/dist). Build first with `npm run build`. Ctrl-C aborts cleanly (a partial up is torn down).
import { runClusterCommand } from '@gc-k8s/local-cluster';

const ac = new AbortController();
let interrupts = 0;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    process.stderr.write(`\n${sig}: aborting and cleaning up (again to force)\n`);
    ac.abort(new Error(sig));
  });
}
const code = await runClusterCommand(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  signal: ac.signal,
});
process.exit(code);
