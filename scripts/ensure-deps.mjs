#!/usr/bin/env node
// `npm start` and `npm test` on a fresh clone: installs the dependencies (npm ci) when
// node_modules is missing or no longer matches package-lock.json, so the README's quick start is
// just those two commands. Dependency-free on purpose: it runs before anything is installed.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

/** name@version of every package a lockfile installs (npm's hidden lockfile has the same shape). */
function installed(lockfile) {
  try {
    const { packages = {} } = JSON.parse(readFileSync(lockfile, 'utf8'));
    return new Map(
      Object.entries(packages)
        .filter(([path]) => path.startsWith('node_modules/'))
        .map(([path, p]) => [path, p.version ?? '']),
    );
  } catch {
    return undefined;
  }
}

function staleness() {
  const wanted = installed(join(root, 'package-lock.json'));
  if (wanted === undefined) return 'package-lock.json is unreadable';
  const have = installed(join(root, 'node_modules', '.package-lock.json'));
  if (have === undefined) return 'node_modules is missing';
  for (const [path, version] of wanted) {
    // optional platform packages may be absent from the tree; a listed one must match
    if (have.has(path) ? have.get(path) !== version : !existsSync(join(root, path)) && !isOptional(path)) {
      return `${path.replace(/^node_modules\//, '')} ${have.get(path) ?? 'is missing'} (package-lock.json wants ${version})`;
    }
  }
  return undefined;
}

let optional;
function isOptional(path) {
  optional ??= (() => {
    try {
      const { packages = {} } = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
      return new Set(
        Object.entries(packages)
          .filter(([, p]) => p.optional === true || p.peer === true)
          .map(([k]) => k),
      );
    } catch {
      return new Set();
    }
  })();
  return optional.has(path);
}

const why = staleness();
if (why !== undefined) {
  console.error(`setup: installing dependencies (${why}): npm ci`);
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('setup: npm ci failed (see above)');
    process.exit(r.status ?? 1);
  }
}
