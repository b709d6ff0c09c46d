// The client environment table is what the README shows and covers every GC_K8S_ variable the
// clients (Node, native, the shell shims) read.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLIENT_ENV, clientEnvMarkdown } from '../../../src/protocol/client-env.js';

const root = new URL('../../../', import.meta.url).pathname;
const names = new Set<string>(Object.values(CLIENT_ENV).map((e) => e.env));

function variablesIn(text: string): string[] {
  return [...new Set(text.match(/GC_K8S_[A-Z_]+[A-Z]/g) ?? [])];
}

describe('client environment', () => {
  it('is shown in the README as the code defines it', () => {
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain(clientEnvMarkdown());
  });

  it('documents every GC_K8S_ variable the clients read', () => {
    const sources = [
      readFileSync(join(root, 'native/client.c'), 'utf8'),
      ...readdirSync(join(root, 'bin')).map((f) => readFileSync(join(root, 'bin', f), 'utf8')),
      ...readdirSync(join(root, 'src/client')).map((f) => readFileSync(join(root, 'src/client', f), 'utf8')),
    ];
    const read = new Set(sources.flatMap(variablesIn));
    expect(read.size).toBeGreaterThan(3);
    for (const v of read) expect(names, `${v} is read by a client but not in CLIENT_ENV`).toContain(v);
  });
});
