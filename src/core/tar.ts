// Streams a local file or directory as a tar archive for `tar -x` inside a pod, the way Gas
// City's native staging does: symlinks dereferenced (broken ones skipped), sockets/fifos/devices
// skipped, ownership zeroed, and each file read for exactly the size in its header so a file
// growing meanwhile cannot corrupt the stream.

import { createReadStream } from 'node:fs';
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
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

async function addFile(p: Pack, path: string, name: string, size: number, mode: number, mtime: Date): Promise<void> {
  const done = new Promise<void>((resolve, reject) => {
    const entry = p.entry({ name, size, mode, mtime, uid: 0, gid: 0, uname: '', gname: '', type: 'file' }, (err) => {
      if (err) reject(err);
      else resolve();
    });
    void (async () => {
      if (size > 0) {
        for await (const chunk of createReadStream(path, { start: 0, end: size - 1 })) {
          if (!entry.write(chunk as Buffer)) await new Promise<void>((r) => entry.once('drain', () => { r(); }));
        }
      }
      entry.end(undefined);
    })().catch((err: unknown) => {
      entry.destroy(err instanceof Error ? err : new Error(String(err)));
      reject(err instanceof Error ? err : new Error(String(err)));
    });
  });
  await done;
}

async function walk(p: Pack, root: string, rel: string, budget: { left: number; limit: number; source: string }): Promise<void> {
  const dir = rel === '' ? root : join(root, rel);
  const names = (await readdir(dir)).sort();
  for (const name of names) {
    const relPath = rel === '' ? name : `${rel}/${name}`;
    const full = join(root, relPath);
    let info = await lstat(full);
    if (info.isSymbolicLink()) {
      try {
        info = await stat(await realpath(full));
      } catch {
        continue; // broken link: skipped, as upstream does
      }
    }
    if (info.isDirectory()) {
      p.entry({ name: `${relPath}/`, type: 'directory', mode: info.mode & 0o7777, mtime: info.mtime, uid: 0, gid: 0 });
      await walk(p, root, relPath, budget);
    } else if (info.isFile()) {
      budget.left -= info.size;
      if (budget.left < 0) {
        throw new GcK8sError('TOO_LARGE', `staging ${budget.source}: more than ${budget.limit} bytes of files`);
      }
      await addFile(p, full, relPath, info.size, info.mode & 0o7777, info.mtime);
    }
  }
}

/** A tar stream of `source`, or undefined when the path does not exist. */
export async function tarStream(source: TarSource): Promise<AsyncIterable<Uint8Array> | undefined> {
  let info;
  try {
    info = await stat(source.path);
  } catch {
    return undefined;
  }
  const p = createPack();
  const budget = { left: source.maxBytes, limit: source.maxBytes, source: source.path };
  const fill = info.isDirectory()
    ? walk(p, source.path, '', budget)
    : (() => {
        budget.left -= info.size;
        if (budget.left < 0) return Promise.reject(new GcK8sError('TOO_LARGE', `staging ${source.path}: larger than ${source.maxBytes} bytes`));
        return addFile(p, source.path, source.entryName ?? 'file', info.size, info.mode & 0o7777, info.mtime);
      })();
  fill.then(
    () => { p.finalize(); },
    (err: unknown) => { p.destroy(err instanceof Error ? err : new Error(String(err))); },
  );
  // streamx streams are async-iterable at runtime; its typings just do not say so.
  return p as unknown as AsyncIterable<Uint8Array>;
}
