// The gc-k8s image: the gc-k8s package (dist, bin and its production dependencies, workspace
// packages such as this one included) with the Node that runs it, on a static busybox — for the
// in-cluster daemon (`gc-k8s serve`, contrib/k8s/controller/deployment.yaml), for jobs that run
// `gc-k8s` inside the cluster, such as the event retention CronJob
// (contrib/k8s/event-retention-cronjob.yaml), and, with the three exec-provider scripts, the
// native client and `sleep`, as the stand-in gc controller of that Deployment.
// Dockerfile.gc-k8s builds the same for clusters with a registry.

import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { ClusterError } from './errors.js';
import { privateTemp } from './cache-lock.js';
import { buildOnce, packDockerArchive, fileStamp, hashOf, sharedLibs, type BuildContext, type BuiltImage } from './image-build.js';
import { PACKAGE_ROOT, cacheDir } from './names.js';

const APP = '/opt/gc-k8s';
/** what the scripts and the stand-in controller use of busybox (sh runs the scripts) */
const APPLETS = ['sh', 'ls', 'cat', 'env', 'id', 'sleep', 'readlink', 'kill', 'ps', 'true', 'test', 'printf'];
/** the exec-provider scripts gc runs, and the Node client they fall back to */
const SCRIPTS = ['gc-session-k8s', 'gc-events-k8s', 'gc-beads-k8s', 'gc-provider-k8s.js', 'gc-k8s.js'];
const NATIVE_CLIENT = join('dist', 'native', 'gc-k8s-client');

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out.sort();
}

/** Directories of the production dependencies (npm's own view, so nothing of the dev tooling). */
function productionPackages(): string[] {
  const r = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: PACKAGE_ROOT, encoding: 'utf8' });
  if (r.status !== 0 && r.stdout.trim() === '')
    throw new ClusterError('CLUSTER', `gc-k8s image: npm ls failed: ${r.stderr.trim().slice(0, 300)}`);
  return r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && l !== PACKAGE_ROOT && l.includes('/node_modules/'));
}

/** The real directory of a workspace package (packages/*) npm linked into node_modules, else undefined. */
function workspaceDir(pkg: string): string | undefined {
  return lstatSync(pkg).isSymbolicLink() ? realpathSync(pkg) : undefined;
}

/** What of a workspace package runs in the image: its package.json and its dist/. */
function workspaceFiles(dir: string): string[] {
  return [join(dir, 'package.json'), ...filesUnder(join(dir, 'dist'))];
}

/** Copies a production package into the image; a workspace link becomes its files (a link would point into this host). */
function copyPackage(pkg: string, dest: string): void {
  const ws = workspaceDir(pkg);
  if (ws === undefined) {
    cpSync(pkg, dest, { recursive: true });
    return;
  }
  for (const f of workspaceFiles(ws)) {
    mkdirSync(dirname(join(dest, relative(ws, f))), { recursive: true });
    copyFileSync(f, join(dest, relative(ws, f)));
  }
}

export async function buildGcK8s(ctx: BuildContext): Promise<BuiltImage> {
  const dist = join(PACKAGE_ROOT, 'dist');
  if (!existsSync(join(dist, 'cli', 'main.js')))
    throw new ClusterError('CLUSTER', 'gc-k8s image: dist/ is missing (run npm run build first)');
  if (!existsSync('/bin/busybox')) throw new ClusterError('CLUSTER', 'gc-k8s image: /bin/busybox missing (apt-get install busybox-static)');
  const node = process.execPath;
  const distFiles = filesUnder(dist).filter((f) => !f.includes(join('dist', 'native')));
  const packages = productionPackages();
  const workspaces = packages.flatMap((p) => {
    const ws = workspaceDir(p);
    return ws === undefined ? [] : workspaceFiles(ws);
  });
  const native = join(PACKAGE_ROOT, NATIVE_CLIENT);
  const extras = [...SCRIPTS.map((s) => join(PACKAGE_ROOT, 'bin', s)), ...(existsSync(native) ? [native] : [])];
  const key = hashOf([
    fileStamp(node),
    readFileSync(join(PACKAGE_ROOT, 'package-lock.json')),
    ...extras.flatMap((f) => [relative(PACKAGE_ROOT, f), readFileSync(f)]),
    // content, not mtimes: every build touches dist, and each new key is another pinned import
    ...[...distFiles, ...workspaces].flatMap((f) => [relative(PACKAGE_ROOT, f), readFileSync(f)]),
  ]);
  const ref = `docker.io/library/gc-k8s:${key}`;
  const dir = join(cacheDir(ctx.env), 'images');
  const archive = join(dir, `gc-k8s-${key}.tar`);
  await buildOnce(ctx, archive, `image ${ref}`, () => buildArchive(ctx, node, packages, archive, ref));
  return { name: 'gc-k8s', ref, archive, notes: [] };
}

async function buildArchive(ctx: BuildContext, node: string, packages: readonly string[], archive: string, ref: string): Promise<void> {
  const dist = join(PACKAGE_ROOT, 'dist');
  ctx.reporter.step(`building gc-k8s image ${ref} (node ${process.version}, dist, production dependencies)`);
  const rootfs = privateTemp(archive, 'rootfs');
  try {
    for (const d of ['bin', 'usr/local/bin', 'etc/ssl/certs', 'tmp', 'home/gc', APP.slice(1)])
      mkdirSync(join(rootfs, d), { recursive: true });
    chmodSync(join(rootfs, 'tmp'), 0o1777);
    copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'));
    chmodSync(join(rootfs, 'bin', 'busybox'), 0o755);
    for (const applet of APPLETS) symlinkSync('busybox', join(rootfs, 'bin', applet));
    copyFileSync(node, join(rootfs, 'usr/local/bin/node'));
    chmodSync(join(rootfs, 'usr/local/bin/node'), 0o755);
    for (const lib of await sharedLibs(node)) {
      mkdirSync(join(rootfs, dirname(lib)), { recursive: true });
      copyFileSync(lib, join(rootfs, lib));
    }
    const app = join(rootfs, APP.slice(1));
    copyFileSync(join(PACKAGE_ROOT, 'package.json'), join(app, 'package.json'));
    cpSync(dist, join(app, 'dist'), { recursive: true, filter: (src) => !src.startsWith(join(dist, 'native')) });
    mkdirSync(join(app, 'bin'));
    for (const script of SCRIPTS) {
      copyFileSync(join(PACKAGE_ROOT, 'bin', script), join(app, 'bin', script));
      chmodSync(join(app, 'bin', script), 0o755);
    }
    // the scripts' fast path (it needs only libc, which Node brings)
    const native = join(PACKAGE_ROOT, NATIVE_CLIENT);
    if (existsSync(native)) {
      mkdirSync(join(app, 'dist', 'native'), { recursive: true });
      copyFileSync(native, join(app, NATIVE_CLIENT));
      chmodSync(join(app, NATIVE_CLIENT), 0o755);
      for (const lib of await sharedLibs(native)) {
        if (existsSync(join(rootfs, lib))) continue;
        mkdirSync(join(rootfs, dirname(lib)), { recursive: true });
        copyFileSync(lib, join(rootfs, lib));
      }
    }
    for (const script of SCRIPTS.filter((s) => s.startsWith('gc-') && !s.endsWith('.js')))
      symlinkSync(`${APP}/bin/${script}`, join(rootfs, 'usr/local/bin', script));
    for (const pkg of packages) copyPackage(pkg, join(app, relative(PACKAGE_ROOT, pkg)));
    writeFileSync(join(rootfs, 'usr/local/bin/gc-k8s'), `#!/bin/sh\nexec /usr/local/bin/node ${APP}/bin/gc-k8s.js "$@"\n`);
    chmodSync(join(rootfs, 'usr/local/bin/gc-k8s'), 0o755);
    writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\ngc:x:1000:1000:gc:/home/gc:/bin/sh\n');
    writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\ngc:x:1000:\n');
    if (existsSync('/etc/ssl/certs/ca-certificates.crt'))
      copyFileSync('/etc/ssl/certs/ca-certificates.crt', join(rootfs, 'etc/ssl/certs/ca-certificates.crt'));
    await packDockerArchive(
      rootfs,
      archive,
      ref,
      {
        entrypoint: ['/usr/local/bin/gc-k8s'],
        env: ['PATH=/usr/local/bin:/bin', 'HOME=/home/gc', 'NODE_ENV=production'],
        // the scripts and the daemon both run as this user, so the socket's owner check passes
        user: '1000:1000',
        workingDir: '/home/gc',
      },
      ctx.signal,
    );
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
}
