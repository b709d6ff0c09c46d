// The package boundary is enforced by the repository's ESLint config (eslint.config.js): a package
// file that imports the daemon (its src/, dist/, tests or bin/, statically or dynamically) fails,
// so does one that talks HTTP(S) outside src/kube/client.ts; the package's own imports, and the
// rest of the repository, do not. Runs ESLint's Node API on text linted as if it were these files.
import { ESLint, type Linter } from 'eslint';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CLUSTER_ROOT, PACKAGE_ROOT } from '../src/names.js';

let eslint: ESLint;
beforeAll(() => {
  eslint = new ESLint({ cwd: PACKAGE_ROOT });
});

/** The boundary rules' messages for `code` linted as the file at `path` (relative to the repository). */
async function boundary(code: string, path: string): Promise<Linter.LintMessage[]> {
  const [result] = await eslint.lintText(code, { filePath: join(PACKAGE_ROOT, path) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-syntax');
}

const pkg = (p: string): string => join('packages', 'local-cluster', p);

// (the first typed lint loads the whole TypeScript program: seconds on a busy machine)
describe('packages/local-cluster imports nothing of the daemon', { timeout: 120_000 }, () => {
  it("lints the cases at the package's real paths", () => {
    expect(join(PACKAGE_ROOT, pkg('src'))).toBe(join(LOCAL_CLUSTER_ROOT, 'src'));
  });

  it.each([
    ['src/index.ts', "import { GcK8sError } from '../../../src/errors.js';\nexport const e = GcK8sError;\n"],
    ['src/local/up.ts', "import { sleep } from '../../../../src/util/abort.js';\nexport const s = sleep;\n"],
    ['test/cluster.test.ts', "import { hasCode } from '../../../src/errors.js';\nexport const h = hasCode;\n"],
    ['src/index.ts', "export { main } from '../../../dist/cli/main.js';\n"],
    ['scripts/local-provisioner.mjs', "import { main } from '../../../dist/cli/main.js';\nmain();\n"],
    ['src/index.ts', "export * from 'gc-k8s';\n"],
  ])('fails for %s importing %j', async (file, code) => {
    const msgs = await boundary(code, pkg(file));
    expect(msgs.map((m) => [m.ruleId, m.severity])).toEqual([['no-restricted-imports', 2]]);
    expect(msgs[0]?.message).toMatch(/packages\/local-cluster imports nothing of the daemon/);
  });

  it('fails for a dynamic import of the daemon', async () => {
    const msgs = await boundary("export const m = await import('../../../src/errors.js');\n", pkg('src/index.ts'));
    expect(msgs.map((m) => [m.ruleId, m.severity])).toEqual([['no-restricted-syntax', 2]]);
    expect(msgs[0]?.message).toMatch(/dynamically neither/);
  });

  it('allows the package its own modules', async () => {
    expect(await boundary("export { sleep } from './abort.js';\n", pkg('src/index.ts'))).toEqual([]);
    expect(await boundary("export { sleep } from '../abort.js';\n", pkg('src/local/up.ts'))).toEqual([]);
    expect(await boundary("export { hasCode } from '../src/errors.js';\n", pkg('test/cluster.test.ts'))).toEqual([]);
    expect(
      await boundary(
        "import { KubeClient } from '../dist/kube/client.js';\nexport default KubeClient;\n",
        pkg('scripts/local-provisioner.mjs'),
      ),
    ).toEqual([]);
  });
});

describe('packages/local-cluster talks HTTP(S) through its one client', { timeout: 60_000 }, () => {
  it('fails for node:https outside src/kube/', async () => {
    const msgs = await boundary("import { request } from 'node:https';\nexport const r = request;\n", pkg('src/host.ts'));
    expect(msgs.map((m) => m.message)).toEqual([expect.stringMatching(/only through its verified-TLS client/)]);
  });

  it('allows it in the client', async () => {
    expect(await boundary("import { request } from 'node:https';\nexport const r = request;\n", pkg('src/kube/client.ts'))).toEqual([]);
  });
});

describe('the rest of the repository', { timeout: 60_000 }, () => {
  it('is not bound by the package rules (the daemon imports its own src/ and may use node:https)', async () => {
    const code =
      "import { describeError } from '../../src/errors.js';\nimport { request } from 'node:https';\nexport const x = [describeError, request];\n";
    expect(await boundary(code, join('src', 'cli', 'main.ts'))).toEqual([]);
  });
});
