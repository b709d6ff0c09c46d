// Container images without Docker or a registry: root filesystems from debootstrap (agent) or a
// staging dir (pause, Dolt), packed as docker-archive tarballs and imported into a cluster's
// containerd (namespace k8s.io) under fully qualified names. Archives are cached under
// <cache>/images keyed by a hash of everything that goes into them.

import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  copyFileSync,
  chmodSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { ClusterError, describeError } from './errors.js';
import { privateTemp } from './cache-lock.js';
import { ensureBinaries } from './host.js';
import { PACKAGE_ROOT, cacheDir } from './names.js';
import { run } from './proc.js';
import { formatDuration, type Reporter } from './progress.js';
import { buildGcK8s } from './image-gc-k8s.js';
import {
  buildOnce,
  fileStamp,
  hashOf,
  packDockerArchive,
  sharedLibs,
  type BuildContext,
  type BuiltImage,
  type ImageName,
} from './image-build.js';

export { IMAGE_NAMES, type BuiltImage, type ImageName } from './image-build.js';

/** The pause image is referenced by containerd's sandbox setting; imported first by local/up.ts. */
export const PAUSE_REF = 'registry.k8s.io/pause:3.10';
/** uid/gid of the agent user `gcagent` in the agent image (fixed; see image/agent/install.sh). */
export const AGENT_UID = 1000;

const imageSrc = (...p: string[]): string => join(PACKAGE_ROOT, 'image', ...p);

async function buildPause(ctx: BuildContext): Promise<BuiltImage> {
  const src = imageSrc('pause', 'pause.c');
  const key = hashOf([readFileSync(src)]);
  const dir = join(cacheDir(ctx.env), 'images');
  const archive = join(dir, `pause-${key}.tar`);
  await buildOnce(ctx, archive, `image ${PAUSE_REF}`, async () => {
    ctx.reporter.step(`building pause image (gcc -static ${src})`);
    const stage = privateTemp(archive, 'rootfs');
    mkdirSync(stage, { recursive: true });
    try {
      await run('gcc', ['-Os', '-static', '-s', '-o', join(stage, 'pause'), src], { signal: ctx.signal });
      await packDockerArchive(stage, archive, PAUSE_REF, { entrypoint: ['/pause'] }, ctx.signal);
    } finally {
      rmSync(stage, { recursive: true, force: true });
    }
  });
  return { name: 'pause', ref: PAUSE_REF, archive, notes: [] };
}

function packageList(): string[] {
  return readFileSync(imageSrc('agent', 'packages.txt'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** The agent image's programs from scripts/build-upstream.sh: component → file in its bin dir. */
const AGENT_BINARIES = { gc: 'gc', bd: 'bd', 'bd-serve': 'gc-bd-serve' } as const;
type AgentBinary = (typeof AGENT_BINARIES)[keyof typeof AGENT_BINARIES];

/** gc, bd and gc-bd-serve; missing ones are reported, not fatal. */
async function agentBinaries(ctx: BuildContext): Promise<{ bins: Partial<Record<AgentBinary, string>>; notes: string[] }> {
  const bins: Partial<Record<AgentBinary, string>> = {};
  const notes: string[] = [];
  for (const [c, file] of Object.entries(AGENT_BINARIES) as [keyof typeof AGENT_BINARIES, AgentBinary][]) {
    try {
      const dirs = await ensureBinaries([c], ctx.env, ctx.reporter, ctx.signal);
      bins[file] = join(dirs[c], file);
    } catch (e) {
      const text = describeError(e);
      const why = /403|not available/.test(text)
        ? 'the Go module proxy refuses the module (403 "This module version is not available")'
        : 'its build failed';
      notes.push(`${c} is missing from the agent image: ${why}; log ${join(cacheDir(ctx.env), 'logs', `${c}.log`)}`);
    }
  }
  return { bins, notes };
}

/**
 * The latest debootstrap phase in its output: the text after "I: " of the last complete info line,
 * on one line of at most `max` characters; undefined before the first one.
 */
export function debootstrapPhase(output: string, max = 100): string | undefined {
  const lines = output.split('\n');
  lines.pop(); // an incomplete last line (or '') may still be growing
  for (let i = lines.length - 1; i >= 0; i--) {
    // control characters (\r of progress output, tabs) would break or stretch the one line
    const m = /^I: (.*)$/.exec((lines[i] ?? '').replace(/\p{Cc}+/gu, ' '));
    const text = m?.[1]?.trim();
    if (text === undefined || text === '') continue;
    return text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`;
  }
  return undefined;
}

/** The debootstrap heartbeat line: elapsed time and the latest phase. */
export function debootstrapHeartbeat(output: string, elapsedSeconds: number): string {
  return `debootstrap ${formatDuration(elapsedSeconds)}: ${debootstrapPhase(output) ?? 'starting'}`;
}

async function debootstrapBase(ctx: BuildContext, packages: string[]): Promise<string> {
  const dir = join(cacheDir(ctx.env), 'images');
  // the debootstrap base depends only on the package list (not on IMAGE_FORMAT)
  const key = hashOf(['bookworm', 'minbase', ...packages], '');
  const tar = join(dir, `debootstrap-bookworm-${key}.tar`);
  await buildOnce(ctx, tar, `debootstrap base ${key}`, async () => {
    const rootfs = privateTemp(tar, 'rootfs');
    try {
      await debootstrap(ctx, packages, rootfs, join(cacheDir(ctx.env), 'logs', `debootstrap-${key}.log`));
      const tmp = privateTemp(tar, 'tmp');
      try {
        await run('tar', ['--numeric-owner', '--xattrs', '-C', rootfs, '-cf', tmp, '.'], { signal: ctx.signal });
        renameSync(tmp, tar);
      } finally {
        rmSync(tmp, { force: true });
      }
    } finally {
      rmSync(rootfs, { recursive: true, force: true });
    }
  });
  return tar;
}

/** Runs debootstrap into `rootfs` with a heartbeat of its phases; its output goes to `log`. */
async function debootstrap(ctx: BuildContext, packages: string[], rootfs: string, log: string): Promise<void> {
  mkdirSync(dirname(log), { recursive: true });
  ctx.reporter.step(`debootstrap bookworm minbase + ${packages.length} packages (about 30-60 s; log: ${log})`);
  let logText = '';
  const started = Date.now();
  const mirror = ctx.env.DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
  // heartbeat: the latest debootstrap phase every 10 s
  const beat = setInterval(() => {
    ctx.reporter.info(debootstrapHeartbeat(logText, (Date.now() - started) / 1000));
  }, 10_000);
  try {
    const r = await run('debootstrap', ['--variant=minbase', `--include=${packages.join(',')}`, 'bookworm', rootfs, mirror], {
      signal: ctx.signal,
      onStderr: (c) => {
        logText += c;
      },
      env: { ...ctx.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    logText += r.stdout;
  } finally {
    clearInterval(beat);
    writeFileSync(log, logText);
  }
  ctx.reporter.info(`debootstrap done in ${formatDuration((Date.now() - started) / 1000)}`);
}

async function buildAgent(ctx: BuildContext): Promise<BuiltImage> {
  const packages = packageList();
  const { bins, notes } = await agentBinaries(ctx);
  const inputs = ['install.sh', 'packages.txt', 'gc-agent-start'].map((f) => readFileSync(imageSrc('agent', f)));
  const key = hashOf([...inputs, ...Object.values(AGENT_BINARIES).map((b) => fileStamp(bins[b] ?? b))]);
  const ref = `docker.io/library/gc-agent:${key}`;
  const dir = join(cacheDir(ctx.env), 'images');
  const archive = join(dir, `gc-agent-${key}.tar`);
  for (const n of notes) ctx.reporter.warn(n);
  mkdirSync(dir, { recursive: true });
  // the agent lock is taken before the debootstrap base's: always in this order, so no deadlock
  await buildOnce(ctx, archive, `image ${ref}`, () => buildAgentArchive(ctx, packages, bins, archive, ref));
  return { name: 'agent', ref, archive, notes };
}

async function buildAgentArchive(
  ctx: BuildContext,
  packages: string[],
  bins: Partial<Record<AgentBinary, string>>,
  archive: string,
  ref: string,
): Promise<void> {
  const base = await debootstrapBase(ctx, packages);
  const rootfs = privateTemp(archive, 'rootfs');
  mkdirSync(rootfs, { recursive: true });
  try {
    ctx.reporter.step(`building agent image ${ref} (install.sh in a chroot)`);
    await run('tar', ['--numeric-owner', '--xattrs', '-C', rootfs, '-xf', base], { signal: ctx.signal });
    const inst = join(rootfs, 'tmp', 'gc-k8s-install');
    mkdirSync(join(inst, 'bin'), { recursive: true });
    for (const f of ['install.sh', 'packages.txt', 'gc-agent-start']) copyFileSync(imageSrc('agent', f), join(inst, f));
    for (const b of Object.values(AGENT_BINARIES)) {
      const target = join(inst, 'bin', b);
      const src = bins[b];
      // without gc-bd-serve the runner keeps its bash loop (src/beads/bd/program.ts looks for it)
      if (src === undefined && b === 'gc-bd-serve') continue;
      if (src !== undefined) copyFileSync(src, target);
      else
        writeFileSync(
          target,
          `#!/bin/sh\necho "${b}: not available in this image (could not be built: see gc-k8s cluster image agent)" >&2\nexit 127\n`,
        );
      chmodSync(target, 0o755);
    }
    await run('chroot', [rootfs, '/bin/sh', '/tmp/gc-k8s-install/install.sh'], {
      signal: ctx.signal,
      env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', LANG: 'C.UTF-8' },
    });
    rmSync(inst, { recursive: true, force: true });
    ctx.reporter.info('packing docker-archive');
    await packDockerArchive(
      rootfs,
      archive,
      ref,
      {
        entrypoint: ['/usr/bin/tini', '--'],
        cmd: ['/usr/local/bin/gc-agent-start'],
        env: [
          'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
          'HOME=/home/gcagent',
          'TERM=xterm-256color',
          'LANG=C.UTF-8',
        ],
        user: `${AGENT_UID}:${AGENT_UID}`,
        workingDir: '/workspace',
      },
      ctx.signal,
    );
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
}

async function buildDolt(ctx: BuildContext): Promise<BuiltImage> {
  const dirs = await ensureBinaries(['dolt'], ctx.env, ctx.reporter, ctx.signal);
  const dolt = join(dirs.dolt, 'dolt');
  const entry = imageSrc('dolt', 'dolt-entrypoint');
  const key = hashOf([readFileSync(entry), fileStamp(dolt), fileStamp('/bin/busybox')]);
  const ref = `docker.io/library/gc-dolt:${key}`;
  const dir = join(cacheDir(ctx.env), 'images');
  const archive = join(dir, `gc-dolt-${key}.tar`);
  if (existsSync(archive)) return { name: 'dolt', ref, archive, notes: [] };
  if (!existsSync('/bin/busybox')) throw new ClusterError('CLUSTER', 'dolt image: /bin/busybox missing (apt-get install busybox-static)');
  await buildOnce(ctx, archive, `image ${ref}`, () => buildDoltArchive(ctx, dolt, entry, archive, ref));
  return { name: 'dolt', ref, archive, notes: [] };
}

async function buildDoltArchive(ctx: BuildContext, dolt: string, entry: string, archive: string, ref: string): Promise<void> {
  ctx.reporter.step(`building Dolt image ${ref}`);
  const rootfs = privateTemp(archive, 'rootfs');
  try {
    for (const d of ['bin', 'usr/local/bin', 'etc', 'tmp', 'var/lib/dolt']) mkdirSync(join(rootfs, d), { recursive: true });
    chmodSync(join(rootfs, 'tmp'), 0o1777);
    copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'));
    chmodSync(join(rootfs, 'bin', 'busybox'), 0o755);
    for (const applet of ['sh', 'ls', 'cat', 'mkdir', 'rm', 'cp', 'mv', 'ps', 'sleep', 'env', 'id', 'nc', 'wget', 'vi']) {
      symlinkSync('busybox', join(rootfs, 'bin', applet));
    }
    copyFileSync(dolt, join(rootfs, 'usr/local/bin/dolt'));
    chmodSync(join(rootfs, 'usr/local/bin/dolt'), 0o755);
    copyFileSync(entry, join(rootfs, 'usr/local/bin/dolt-entrypoint'));
    chmodSync(join(rootfs, 'usr/local/bin/dolt-entrypoint'), 0o755);
    for (const lib of await sharedLibs(dolt)) {
      mkdirSync(join(rootfs, dirname(lib)), { recursive: true });
      copyFileSync(lib, join(rootfs, lib));
    }
    writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\ndolt:x:1001:1001:dolt:/var/lib/dolt:/bin/sh\n');
    writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\ndolt:x:1001:\n');
    if (existsSync('/etc/ssl/certs/ca-certificates.crt')) {
      mkdirSync(join(rootfs, 'etc/ssl/certs'), { recursive: true });
      copyFileSync('/etc/ssl/certs/ca-certificates.crt', join(rootfs, 'etc/ssl/certs/ca-certificates.crt'));
    }
    await packDockerArchive(
      rootfs,
      archive,
      ref,
      {
        entrypoint: ['/usr/local/bin/dolt-entrypoint'],
        env: ['PATH=/usr/local/bin:/bin', 'HOME=/var/lib/dolt', 'GC_DOLT_PORT=3307'],
        workingDir: '/var/lib/dolt',
      },
      ctx.signal,
    );
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
}

/** A tiny tools image (static busybox: sh, wget, nc, httpd) for tests and debugging pods. */
async function buildBusybox(ctx: BuildContext): Promise<BuiltImage> {
  if (!existsSync('/bin/busybox'))
    throw new ClusterError('CLUSTER', 'busybox image: /bin/busybox missing (apt-get install busybox-static)');
  const key = hashOf([fileStamp('/bin/busybox'), 'v1']);
  const ref = `docker.io/library/gc-busybox:${key}`;
  const dir = join(cacheDir(ctx.env), 'images');
  const archive = join(dir, `gc-busybox-${key}.tar`);
  await buildOnce(ctx, archive, `image ${ref}`, () => buildBusyboxArchive(ctx, archive, ref));
  return { name: 'busybox', ref, archive, notes: [] };
}

async function buildBusyboxArchive(ctx: BuildContext, archive: string, ref: string): Promise<void> {
  ctx.reporter.step(`building busybox image ${ref}`);
  const rootfs = privateTemp(archive, 'rootfs');
  try {
    for (const d of ['bin', 'etc', 'tmp', 'var/www', 'root']) mkdirSync(join(rootfs, d), { recursive: true });
    chmodSync(join(rootfs, 'tmp'), 0o1777);
    copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'));
    chmodSync(join(rootfs, 'bin', 'busybox'), 0o755);
    const applets = (await run('/bin/busybox', ['--list'])).stdout.split('\n').filter((a) => /^[a-z0-9_.[-]+$/.test(a) && a !== 'busybox');
    for (const a of applets) symlinkSync('busybox', join(rootfs, 'bin', a));
    writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n');
    writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
    await packDockerArchive(rootfs, archive, ref, { cmd: ['/bin/sh'], env: ['PATH=/bin'] }, ctx.signal);
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
}

/** Keeps the `keep` newest archives named <prefix>-<hash>.tar (older builds of the same image). */
function pruneArchives(dir: string, prefix: string, keep: number): void {
  try {
    const old = readdirSync(dir)
      .filter((f) => f.startsWith(`${prefix}-`) && f.endsWith('.tar'))
      .map((f) => ({ f, t: statSync(join(dir, f)).mtimeMs }))
      .sort((a, b) => b.t - a.t)
      .slice(keep);
    for (const o of old) rmSync(join(dir, o.f), { force: true });
  } catch {
    // best effort
  }
}

/** Each image's builder, and the archive-name prefix of its older builds in the cache. */
const BUILDERS: Readonly<Record<ImageName, { readonly prefix: string; readonly build: (ctx: BuildContext) => Promise<BuiltImage> }>> = {
  pause: { prefix: 'pause', build: buildPause },
  agent: { prefix: 'gc-agent', build: buildAgent },
  dolt: { prefix: 'gc-dolt', build: buildDolt },
  busybox: { prefix: 'gc-busybox', build: buildBusybox },
  'gc-k8s': { prefix: 'gc-k8s', build: buildGcK8s },
};

/** Builds (or finds in the cache) the docker-archive of an image. */
export async function buildImage(name: ImageName, env: NodeJS.ProcessEnv, reporter: Reporter, signal: AbortSignal): Promise<BuiltImage> {
  const dir = join(cacheDir(env), 'images');
  mkdirSync(dir, { recursive: true });
  const { prefix, build } = BUILDERS[name];
  const built = await build({ env, reporter, signal });
  // older builds of the same image are dropped from the cache (containerd keeps what it imported)
  pruneArchives(dir, prefix, 3);
  return built;
}

/** Imports an archive into containerd (namespace k8s.io) unless `ref` is already there; pins it. */
export async function importImage(ctr: string, socket: string, image: BuiltImage, reporter: Reporter, signal: AbortSignal): Promise<void> {
  const base = ['--address', socket, '-n', 'k8s.io'];
  const have = await run(ctr, [...base, 'images', 'ls', '-q', `name==${image.ref}`], { signal, allowFail: true });
  if (have.code === 0 && have.stdout.split('\n').includes(image.ref)) return;
  const size = (statSync(image.archive).size / 1024 / 1024).toFixed(0);
  reporter.info(`importing ${image.ref} (${size} MiB) into containerd`);
  await run(ctr, [...base, 'images', 'import', image.archive], { signal, timeoutMs: 300_000 });
  await run(ctr, [...base, 'images', 'label', image.ref, 'io.cri-containerd.pinned=pinned'], { signal, allowFail: true });
}
