// The API server's AuthenticationConfiguration and EncryptionConfiguration.

import { yaml } from './yaml.js';

/** The only paths an anonymous client may ask (health probes, ours and anyone's). */
export const ANONYMOUS_PATHS = ['/livez', '/readyz', '/healthz'] as const;

/**
 * AuthenticationConfiguration (apiserver.config.k8s.io/v1, GA in 1.34) for
 * `--authentication-config`: anonymous requests are authenticated only on the health paths, so
 * /version, discovery and every API path answer 401 without credentials.
 */
export function authenticationConfig(): string {
  return yaml({
    apiVersion: 'apiserver.config.k8s.io/v1',
    kind: 'AuthenticationConfiguration',
    anonymous: { enabled: true, conditions: ANONYMOUS_PATHS.map((path) => ({ path })) },
  });
}

/**
 * EncryptionConfiguration for `--encryption-provider-config`: Secrets are written with secretbox
 * (XSalsa20-Poly1305, 32-byte key); identity stays as the fallback reader of values written
 * before encryption was on.
 */
export function encryptionConfig(keyBase64: string): string {
  return yaml({
    apiVersion: 'apiserver.config.k8s.io/v1',
    kind: 'EncryptionConfiguration',
    resources: [{ resources: ['secrets'], providers: [{ secretbox: { keys: [{ name: 'key1', secret: keyBase64 }] } }, { identity: {} }] }],
  });
}
