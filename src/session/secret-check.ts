// The Secrets a start's pod references (secret_env, secret_files), checked before any pod is made:
// a missing Secret or key fails the start naming the setting, instead of a pod the kubelet
// refuses (CreateContainerConfigError). Only names are read, never values. Without the right to
// read a Secret (the least-privilege Role grants get only on Secrets it lists), the check is
// skipped for it and the kubelet's refusal, which start also reports at once, stays the answer.

import { GcK8sError, hasCode, quote } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { SecretApi } from '../kube/ports.js';
import type { PodSettings } from './settings.js';

interface Ref {
  readonly setting: string;
  readonly secret: string;
  readonly key?: string;
}

function refsOf(settings: PodSettings): Ref[] {
  const refs: Ref[] = [];
  for (const [name, ref] of Object.entries(settings.secretEnv)) refs.push({ setting: `secret_env ${name}`, ...ref });
  for (const f of settings.secretFiles) {
    refs.push({ setting: `secret_files ${f.mountPath}`, secret: f.secret, ...(f.key === undefined ? {} : { key: f.key }) });
  }
  return refs;
}

/** Throws CONFIG_INVALID naming the setting when a referenced Secret or key does not exist. */
export async function checkSecretRefs(
  settings: PodSettings,
  secrets: Pick<SecretApi, 'keys'>,
  signal: AbortSignal,
  log: Logger,
): Promise<void> {
  const refs = refsOf(settings);
  const keysOf = new Map<string, readonly string[] | undefined | 'unreadable'>();
  for (const ref of refs) {
    if (!keysOf.has(ref.secret)) {
      try {
        keysOf.set(ref.secret, await secrets.keys(ref.secret, { signal }));
      } catch (err) {
        if (!hasCode(err, 'FORBIDDEN')) throw err;
        log.debug({ secret: ref.secret }, 'no right to read this Secret: the kubelet checks it');
        keysOf.set(ref.secret, 'unreadable');
      }
    }
    const keys = keysOf.get(ref.secret);
    const where = `${settings.profileName === '' ? '' : `profile ${quote(settings.profileName)}: `}${ref.setting}`;
    if (keys === undefined) {
      throw new GcK8sError(
        'CONFIG_INVALID',
        `start: ${where}: Secret ${quote(ref.secret)} does not exist in namespace ${settings.namespace}`,
      );
    }
    if (keys !== 'unreadable' && ref.key !== undefined && !keys.includes(ref.key)) {
      throw new GcK8sError('CONFIG_INVALID', `start: ${where}: Secret ${quote(ref.secret)} has no key ${quote(ref.key)}`);
    }
  }
}
