// The architecture's rules are enforced by lint, not by hope: each rule of eslint.config.js is
// shown to fail on a deliberate violation (and to pass the allowed case), with the config's own
// zone definitions.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';
import { afterAll, describe, expect, it } from 'vitest';
import { IMPORT_SETTINGS, ZONES } from '../../../eslint.config.js';

const ROOT = new URL('../../..', import.meta.url).pathname;

function linter(): ESLint {
  return new ESLint({
    cwd: ROOT,
    overrideConfigFile: true,
    overrideConfig: [
      {
        files: ['**/*.ts'],
        languageOptions: { parser: tseslint.parser },
        plugins: { 'import-x': importX },
        settings: IMPORT_SETTINGS,
        rules: {
          'import-x/no-restricted-paths': ['error', { zones: ZONES }],
          'import-x/no-cycle': ['error', { ignoreExternal: true }],
          'no-restricted-properties': ['error', { object: 'process', property: 'env' }, { object: 'process', property: 'exit' }],
        },
      },
    ],
  });
}

async function errors(code: string, file: string): Promise<string[]> {
  const [result] = await linter().lintText(code, { filePath: join(ROOT, file) });
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? ''}: ${m.message}`);
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('lint boundaries', () => {
  it.each([
    [
      'client → events',
      'src/client/probe.ts',
      "import { createEventStore } from '../events/store.js';\nexport const x = createEventStore;",
      /client code may only use src\/protocol/,
    ],
    [
      'client → daemon',
      'src/client/probe.ts',
      "import { createRouter } from '../daemon/router.js';\nexport const x = createRouter;",
      /client code may only use src\/protocol/,
    ],
    [
      'session → daemon',
      'src/session/probe.ts',
      "import { createRouter } from '../daemon/router.js';\nexport const x = createRouter;",
      /a domain reaches Kubernetes through the ports/,
    ],
    [
      'exec → k8s',
      'src/exec/probe.ts',
      "import { RestClient } from '../k8s/rest.js';\nexport const x = RestClient;",
      /a domain reaches Kubernetes through the ports/,
    ],
    [
      'events → cli',
      'src/events/probe.ts',
      "import { main } from '../cli/main.js';\nexport const x = main;",
      /a domain reaches Kubernetes through the ports/,
    ],
    [
      'k8s → session',
      'src/k8s/probe.ts',
      "import { podNameFor } from '../session/names.js';\nexport const x = podNameFor;",
      /the Kubernetes adapters implement src\/kube ports/,
    ],
    [
      'protocol → config',
      'src/protocol/probe.ts',
      "import { loadConfig } from '../config/load.js';\nexport const x = loadConfig;",
      /the protocol is shared with the thin clients/,
    ],
    [
      'metrics → session',
      'src/metrics/probe.ts',
      "import { podNameFor } from '../session/names.js';\nexport const x = podNameFor;",
      /the metrics room knows no domain/,
    ],
  ])('%s is refused', async (_what, file, code, message) => {
    expect((await errors(code, file)).join('\n')).toMatch(message);
  });

  it('allowed imports pass: client → protocol, session → kube, daemon → session', async () => {
    expect(
      await errors("import { socketPath } from '../protocol/socket-path.js';\nexport const x = socketPath;", 'src/client/probe.ts'),
    ).toEqual([]);
    expect(await errors("import type { Pod } from '../kube/types.js';\nexport type X = Pod;", 'src/session/probe.ts')).toEqual([]);
    expect(
      await errors("import { SessionProvider } from '../session/provider.js';\nexport const x = SessionProvider;", 'src/daemon/probe.ts'),
    ).toEqual([]);
  });

  it('process.env and process.exit are refused outside the composition roots', async () => {
    const found = (
      await errors('export const a = process.env.HOME;\nexport function b(): void { process.exit(1); }', 'src/session/probe.ts')
    ).join('\n');
    expect(found).toMatch(/'process.env' is restricted/);
    expect(found).toMatch(/'process.exit' is restricted/);
  });

  it('an import cycle is refused', async () => {
    const dir = mkdtempSync(join(ROOT, 'src', 'lint-probe-'));
    dirs.push(dir);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'a.ts'), "import { b } from './b.js';\nexport const a = (): number => b() + 1;\n");
    writeFileSync(join(dir, 'b.ts'), "import { a } from './a.js';\nexport const b = (): number => a() - 1;\n");
    const [result] = await linter().lintFiles([join(dir, 'a.ts')]);
    expect((result?.messages ?? []).map((m) => m.ruleId)).toContain('import-x/no-cycle');
  });
});
