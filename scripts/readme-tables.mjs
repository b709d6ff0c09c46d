#!/usr/bin/env node
// Rewrites the two configuration tables in README.md from the code (dist/), so the README test
// (test/unit/config/load.test.ts) passes after a change to src/config/table.ts or daemon.ts.
// Run `npm run build` first.

import { readFileSync, writeFileSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
const { configTableMarkdown } = await import(`${root}dist/config/load.js`);
const { daemonTableMarkdown } = await import(`${root}dist/config/daemon.js`);
const path = `${root}README.md`;
let text = readFileSync(path, 'utf8');
for (const [header, table] of [['| `[session.k8s]` key |', configTableMarkdown()], ['| Daemon environment |', daemonTableMarkdown()]]) {
  const start = text.indexOf(header);
  if (start < 0) throw new Error(`README.md has no table starting with ${header}`);
  const end = text.indexOf('\n\n', start);
  text = text.slice(0, start) + table + text.slice(end < 0 ? text.length : end);
}
writeFileSync(path, text);
console.log('README.md: configuration tables rewritten from the code');
