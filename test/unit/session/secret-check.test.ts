import { describe, expect, it } from 'vitest';
import { GcK8sError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/log/logger.js';
import { checkSecretRefs } from '../../../src/session/secret-check.js';
import { DEFAULT_POD_SETTINGS, type PodSettings } from '../../../src/session/settings.js';

const settings: PodSettings = {
  ...DEFAULT_POD_SETTINGS,
  namespace: 'team',
  profileName: 'big',
  secretEnv: { ANTHROPIC_API_KEY: { secret: 'team-keys', key: 'anthropic' } },
  secretFiles: [{ mountPath: '/home/gcagent/.ssh', secret: 'git-ssh' }],
};

function secrets(objects: Record<string, string[] | 'forbidden'>) {
  const asked: string[] = [];
  return {
    asked,
    keys: (name: string) => {
      asked.push(name);
      const o = objects[name];
      if (o === 'forbidden') return Promise.reject(new GcK8sError('FORBIDDEN', `secrets "${name}" is forbidden`));
      return Promise.resolve(o);
    },
  };
}

const check = (s: ReturnType<typeof secrets>, with_ = settings) => checkSecretRefs(with_, s, new AbortController().signal, silentLogger());

describe('checkSecretRefs', () => {
  it('passes when every Secret and key exists, reading each Secret once', async () => {
    const s = secrets({ 'team-keys': ['anthropic', 'openai'], 'git-ssh': ['id_ed25519'] });
    await check(s, { ...settings, secretFiles: [...settings.secretFiles, { mountPath: '/k', secret: 'team-keys', key: 'openai' }] });
    expect(s.asked).toEqual(['team-keys', 'git-ssh']);
  });

  it('a missing Secret names the profile, the setting, the Secret and the namespace', async () => {
    const err = await check(secrets({ 'team-keys': ['anthropic'] })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CONFIG_INVALID' });
    expect((err as Error).message).toBe(
      'start: profile "big": secret_files /home/gcagent/.ssh: Secret "git-ssh" does not exist in namespace team',
    );
  });

  it('a missing key names it', async () => {
    const err = await check(secrets({ 'team-keys': ['openai'], 'git-ssh': [] })).catch((e: unknown) => e);
    expect((err as Error).message).toBe('start: profile "big": secret_env ANTHROPIC_API_KEY: Secret "team-keys" has no key "anthropic"');
  });

  it('a Secret the daemon may not read is left to the kubelet; other errors are not swallowed', async () => {
    await check(secrets({ 'team-keys': 'forbidden', 'git-ssh': [] }));
    const down = { keys: () => Promise.reject(new GcK8sError('K8S_UNAVAILABLE', 'connection refused')) };
    await expect(checkSecretRefs(settings, down, new AbortController().signal, silentLogger())).rejects.toMatchObject({
      code: 'K8S_UNAVAILABLE',
    });
  });

  it('no reference: nothing is read', async () => {
    const s = secrets({});
    await check(s, { ...settings, secretEnv: {}, secretFiles: [] });
    expect(s.asked).toEqual([]);
  });
});
