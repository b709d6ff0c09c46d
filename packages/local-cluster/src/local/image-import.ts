// Images in a running local cluster: built (cached) and imported into its containerd.

import { join } from 'node:path';
import { buildImage, importImage, type BuiltImage, type ImageName } from '../images.js';
import { layout, nodeLayout } from './layout.js';
import { nodeCount, writeState, type LocalContext, type LocalState } from './state.js';

/** Builds (cached) and imports images into the running cluster; returns their references. */
export async function ensureLocalImages(
  ctx: LocalContext,
  state: LocalState,
  names: readonly ImageName[],
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const img: BuiltImage = await buildImage(name, ctx.env, ctx.reporter, ctx.signal);
    // every node has its own containerd (and image store)
    for (let k = 1; k <= nodeCount(state); k++) {
      await importImage(join(state.containerdBin, 'ctr'), nodeLayout(layout(ctx.paths), k).sock, img, ctx.reporter, ctx.signal);
    }
    state.images[name] = img.ref;
    out[name] = img.ref;
  }
  if (names.length > 0) writeState(state);
  return out;
}
