#!/usr/bin/env node
// Compiles the exec-provider scripts' native fast path (native/*.c) into dist/native/gc-k8s-client.
// Without a C compiler the scripts still work through the Node client, ~60 ms slower per call:
// say so and succeed.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const src = join(root, 'native');
const out = join(root, 'dist', 'native', 'gc-k8s-client');
const cc = process.env.CC || 'cc';
const sources = readdirSync(src)
  .filter((f) => f.endsWith('.c'))
  .map((f) => join(src, f));
mkdirSync(join(root, 'dist', 'native'), { recursive: true });
const r = spawnSync(cc, ['-O2', '-std=c11', '-Wall', '-Wextra', '-Werror', '-Wshadow', '-Wconversion', '-o', out, ...sources], {
  stdio: ['ignore', 'inherit', 'inherit'],
});
if (r.error !== undefined && r.error.code === 'ENOENT') {
  console.error(
    `build-native: no C compiler (${cc}); gc-*-k8s will use the Node client (slower per call). Install gcc and rebuild for the fast path.`,
  );
} else if (r.status !== 0) {
  console.error(`build-native: ${cc} failed (exit ${r.status})`);
  process.exit(1);
}
