#!/usr/bin/env node
// Rewrites the configuration tables and the op tables in README.md from the code (dist/), so the
// README tests (test/unit/config/load.test.ts, test/unit/protocol/ops.test.ts) pass after a change
// to src/config/table.ts, src/config/daemon.ts or src/protocol/ops/.
// Run `npm run build` first.

import { readFileSync, writeFileSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
const { configTableMarkdown } = await import(`${root}dist/config/load.js`);
const { daemonTableMarkdown } = await import(`${root}dist/config/daemon.js`);
const { opsMarkdown } = await import(`${root}dist/protocol/ops/index.js`);
const { clientEnvMarkdown } = await import(`${root}dist/protocol/client-env.js`);
const path = `${root}README.md`;
let text = readFileSync(path, 'utf8');
for (const [header, table] of [
  ['| `[session.k8s]` key |', configTableMarkdown()],
  ['| Daemon environment |', daemonTableMarkdown()],
  ['| Client environment |', clientEnvMarkdown()],
]) {
  const start = text.indexOf(header);
  if (start < 0) throw new Error(`README.md has no table starting with ${header}`);
  const end = text.indexOf('\n\n', start);
  text = text.slice(0, start) + table + text.slice(end < 0 ? text.length : end);
}
const [begin, end] = ['<!-- ops:begin -->', '<!-- ops:end -->'];
const from = text.indexOf(begin);
const to = text.indexOf(end);
if (from < 0 || to < from) throw new Error(`README.md has no ${begin} … ${end} section`);
text = `${text.slice(0, from + begin.length)}\n${opsMarkdown()}\n${text.slice(to)}`;
writeFileSync(path, text);
console.log('README.md: configuration and op tables rewritten from the code');
