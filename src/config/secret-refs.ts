// Secrets by reference (secret_env, secret_files, and the same keys in profiles): "secret/key"
// strings checked for what Kubernetes accepts, so a typo is a config error naming the key rather
// than a pod that never starts.

import { quote } from '../errors.js';
import type { SecretFile, SecretKeyRef } from '../session/settings.js';
import { parseDnsSubdomain, parseStringMap } from './parse.js';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]{1,253}$/;

function secretRef(text: string, keyRequired: boolean): { secret: string; key?: string } {
  const slash = text.indexOf('/');
  const secret = slash < 0 ? text : text.slice(0, slash);
  const key = slash < 0 ? undefined : text.slice(slash + 1);
  if (secret === '') throw new Error(`expected secret or secret/key; got ${quote(text)}`);
  parseDnsSubdomain(secret);
  if (key === undefined && keyRequired) throw new Error(`expected secret/key; got ${quote(text)}`);
  if (key !== undefined && (!SECRET_KEY.test(key) || key === '.' || key === '..'))
    throw new Error(`a Secret key is letters, digits, '-', '_' and '.'; got ${quote(key)}`);
  return key === undefined ? { secret } : { secret, key };
}

export function parseSecretEnv(value: string): Record<string, SecretKeyRef> {
  const out: Record<string, SecretKeyRef> = {};
  for (const [name, ref] of Object.entries(parseStringMap(value))) {
    if (!ENV_NAME.test(name)) throw new Error(`env name ${quote(name)}: expected letters, digits and _`);
    const { secret, key } = secretRef(ref, true);
    out[name] = { secret, key: key ?? '' };
  }
  return out;
}

export function parseSecretFiles(value: string): SecretFile[] {
  return Object.entries(parseStringMap(value)).map(([mountPath, ref]) => {
    if (!mountPath.startsWith('/') || mountPath.split('/').includes('..') || mountPath === '/')
      throw new Error(`mount path ${quote(mountPath)}: expected an absolute path without ..`);
    return { mountPath, ...secretRef(ref, false) };
  });
}
