// The primitives every image build uses: a single-layer docker-archive packer, a build-once lock
// around a shared cache file, content keys, and the shared libraries a binary needs. The images
// themselves are built in images.ts and image-gc-k8s.ts.

import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { privateTemp, removeDeadTemps, withCacheLock } from './cache-lock.js';
import { cacheDir } from './names.js';
import { run } from './proc.js';
import type { Reporter } from './progress.js';

export type ImageName = 'pause' | 'agent' | 'dolt' | 'busybox' | 'gc-k8s';
export const IMAGE_NAMES: readonly ImageName[] = ['pause', 'agent', 'dolt', 'busybox', 'gc-k8s'];

export interface BuiltImage {
  readonly name: ImageName;
  /** fully qualified reference, e.g. docker.io/library/gc-agent:1a2b3c4d5e6f */
  readonly ref: string;
  /** docker-archive tarball */
  readonly archive: string;
  /** notes about missing optional content (e.g. gc/bd could not be built) */
  readonly notes: string[];
}

export interface ImageConfig {
  readonly entrypoint?: readonly string[];
  readonly cmd?: readonly string[];
  readonly env?: readonly string[];
  readonly user?: string;
  readonly workingDir?: string;
}

export interface BuildContext {
  readonly env: NodeJS.ProcessEnv;
  readonly reporter: Reporter;
  readonly signal: AbortSignal;
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (c) => {
        h.update(c);
      })
      .on('end', () => {
        resolve(h.digest('hex'));
      })
      .on('error', reject);
  });
}

/**
 * Writes a single-layer docker-archive (as `docker save` does) of `rootfs` to `out`, tagged `ref`.
 * The layer is a plain tar with numeric owners; the outer tar holds manifest.json, the config and
 * <diffid>/layer.tar. The work dir and the tarball are private to this call and the tarball is
 * renamed onto `out`, so concurrent packs to one `out` cannot corrupt each other: `out` is always
 * one complete archive.
 */
export async function packDockerArchive(
  rootfs: string,
  out: string,
  ref: string,
  config: ImageConfig,
  signal?: AbortSignal,
): Promise<void> {
  const work = privateTemp(out, 'work');
  const tmpOut = privateTemp(out, 'tmp');
  mkdirSync(work, { recursive: true });
  const opts = signal === undefined ? {} : { signal };
  try {
    const layerTmp = join(work, 'layer.tmp');
    await run('tar', ['--numeric-owner', '--xattrs', '--sort=name', '-C', rootfs, '-cf', layerTmp, '.'], opts);
    const diff = await sha256File(layerTmp);
    mkdirSync(join(work, diff));
    renameSync(layerTmp, join(work, diff, 'layer.tar'));
    const cfg = {
      architecture: 'amd64',
      os: 'linux',
      created: '1970-01-01T00:00:00Z',
      config: {
        Env: config.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
        ...(config.entrypoint === undefined ? {} : { Entrypoint: config.entrypoint }),
        ...(config.cmd === undefined ? {} : { Cmd: config.cmd }),
        ...(config.user === undefined ? {} : { User: config.user }),
        ...(config.workingDir === undefined ? {} : { WorkingDir: config.workingDir }),
      },
      rootfs: { type: 'layers', diff_ids: [`sha256:${diff}`] },
      history: [{ created: '1970-01-01T00:00:00Z', created_by: 'gc-k8s image builder' }],
    };
    const cfgJson = JSON.stringify(cfg);
    const cfgName = `${createHash('sha256').update(cfgJson).digest('hex')}.json`;
    writeFileSync(join(work, cfgName), cfgJson);
    writeFileSync(join(work, 'manifest.json'), JSON.stringify([{ Config: cfgName, RepoTags: [ref], Layers: [`${diff}/layer.tar`] }]));
    await run('tar', ['--numeric-owner', '-C', work, '-cf', tmpOut, 'manifest.json', cfgName, `${diff}/layer.tar`], opts);
    renameSync(tmpOut, out);
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(tmpOut, { force: true });
  }
}

/**
 * Builds `archive` (a cache file shared by all worktrees) unless it exists: under a lock per
 * archive, so a second builder of the same image waits (with progress) and then reuses what the
 * first one wrote. `build` must write only to private temps (privateTemp) renamed into place.
 */
export async function buildOnce(ctx: BuildContext, archive: string, what: string, build: () => Promise<void>): Promise<void> {
  if (existsSync(archive)) return;
  const lock = join(cacheDir(ctx.env), 'locks', `image-${basename(archive)}.lock`);
  await withCacheLock(lock, { what, reporter: ctx.reporter, signal: ctx.signal }, async () => {
    if (existsSync(archive)) return; // written by the build we waited for
    removeDeadTemps(archive); // left by a crashed build
    await build();
  });
}

/** Bump when an image's config (entrypoint, env, user) in images.ts or image-gc-k8s.ts changes: it is part of every key. */
const IMAGE_FORMAT = 'v2';

export function hashOf(parts: readonly (string | Buffer)[], format: string = IMAGE_FORMAT): string {
  const h = createHash('sha256');
  if (format !== '') h.update(format).update('\0');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex').slice(0, 12);
}

export function fileStamp(path: string): string {
  try {
    const s = statSync(path);
    return `${path}:${s.size}:${s.mtimeMs}`;
  } catch {
    return `${path}:missing`;
  }
}

/** Shared libraries of a dynamic binary (paths from ldd), including the loader. */
export async function sharedLibs(binary: string): Promise<string[]> {
  const r = await run('ldd', [binary], { allowFail: true });
  const libs: string[] = [];
  for (const line of r.stdout.split('\n')) {
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (m?.[1] !== undefined) libs.push(m[1]);
  }
  return libs;
}
