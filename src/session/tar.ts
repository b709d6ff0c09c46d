// Streams a local file or directory as a tar archive for `tar -x` inside a pod: symlinks inside
// the tree are copied as symlinks, never followed (upstream's staging dereferenced them, so a link
// to ~/.ssh copied the user's keys into the pod and a `self -> .` loop copied the tree about 40
// levels deep); an absolute link to somewhere inside the tree becomes a relative one, so it still
// points there in the pod. Sockets/fifos/devices are skipped, ownership zeroed, and each file read
// for exactly the size in its header so a file growing meanwhile cannot corrupt the stream. The
// tree is listed (and its size checked) before anything is streamed, so an oversized source fails
// before the exec starts.

import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { pack as createPack, type Pack } from 'tar-stream';
import { GcK8sError } from '../errors.js';

export interface TarSource {
  /** local path (file or directory) */
  readonly path: string;
  /** entry name for a single file; directories are archived with relative names */
  readonly entryName?: string;
  /** refuse archives whose file content exceeds this many bytes */
  readonly maxBytes: number;
}

interface Entry {
  readonly name: string;
  readonly full: string;
  readonly kind: 'dir' | 'file' | 'symlink';
  readonly size: number;
  readonly mode: number;
  readonly mtime: Date;
  /** the link's target as it will be in the pod (symlinks only) */
  readonly linkname?: string;
}

/** An absolute target inside the tree, made relative to the link, so it survives the move. */
export function podLinkTarget(root: string, linkPath: string, target: string): string {
  if (!isAbsolute(target)) return target;
  const rel = relative(resolve(root), resolve(target));
  const inside = rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
  return inside ? relative(dirname(linkPath), resolve(target)) || '.' : target;
}

async function list(root: string, rel: string, out: Entry[]): Promise<void> {
  const names = (await readdir(rel === '' ? root : join(root, rel))).sort();
  for (const name of names) {
    const relPath = rel === '' ? name : `${rel}/${name}`;
    const full = join(root, relPath);
    const info = await lstat(full);
    const mode = info.mode & 0o7777;
    if (info.isSymbolicLink()) {
      out.push({
        name: relPath,
        full,
        kind: 'symlink',
        size: 0,
        mode,
        mtime: info.mtime,
        linkname: podLinkTarget(root, full, await readlink(full)),
      });
    } else if (info.isDirectory()) {
      // lstat, so only real directories are entered: a tree has no cycles without links
      out.push({ name: `${relPath}/`, full, kind: 'dir', size: 0, mode, mtime: info.mtime });
      await list(root, relPath, out);
    } else if (info.isFile()) {
      out.push({ name: relPath, full, kind: 'file', size: info.size, mode, mtime: info.mtime });
    }
  }
}

async function addFile(p: Pack, e: Entry): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const entry = p.entry(
      { name: e.name, size: e.size, mode: e.mode, mtime: e.mtime, uid: 0, gid: 0, uname: '', gname: '', type: 'file' },
      (err) => {
        if (err) reject(err);
        else resolve();
      },
    );
    void (async () => {
      if (e.size > 0) {
        for await (const chunk of createReadStream(e.full, { start: 0, end: e.size - 1 })) {
          if (!entry.write(chunk as Buffer))
            await new Promise<void>((r) =>
              entry.once('drain', () => {
                r();
              }),
            );
        }
      }
      entry.end(undefined);
    })().catch((err: unknown) => {
      const error = err instanceof Error ? err : new Error(String(err));
      entry.destroy(error);
      reject(error);
    });
  });
}

/** A tar stream of `source`, or undefined when the path does not exist. */
export async function tarStream(source: TarSource): Promise<AsyncIterable<Uint8Array> | undefined> {
  let info;
  try {
    info = await stat(source.path);
  } catch {
    return undefined;
  }
  const entries: Entry[] = [];
  if (info.isDirectory()) await list(source.path, '', entries);
  else
    entries.push({
      name: source.entryName ?? 'file',
      full: source.path,
      kind: 'file',
      size: info.size,
      mode: info.mode & 0o7777,
      mtime: info.mtime,
    });
  const total = entries.reduce((sum, e) => sum + e.size, 0);
  if (total > source.maxBytes) {
    throw new GcK8sError('TOO_LARGE', `staging ${source.path}: ${total} bytes, more than the limit of ${source.maxBytes}`);
  }
  const p = createPack();
  void (async () => {
    for (const e of entries) {
      if (e.kind === 'dir') p.entry({ name: e.name, type: 'directory', mode: e.mode, mtime: e.mtime, uid: 0, gid: 0 });
      else if (e.kind === 'symlink')
        p.entry({ name: e.name, type: 'symlink', linkname: e.linkname ?? '', mode: 0o777, mtime: e.mtime, uid: 0, gid: 0 });
      else await addFile(p, e);
    }
  })().then(
    () => {
      p.finalize();
    },
    (err: unknown) => {
      p.destroy(err instanceof Error ? err : new Error(String(err)));
    },
  );
  // streamx streams are async-iterable at runtime; its typings just do not say so.
  return p as unknown as AsyncIterable<Uint8Array>;
}
