// Certificates for a local cluster, made with the openssl CLI (EC P-256: fast to generate).
// Everything lives in <state>/pki and is reused by later `up`s of the same cluster.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './proc.js';

export interface CertSpec {
  readonly name: string;
  readonly cn: string;
  readonly org?: string;
  readonly sans?: readonly string[];
  readonly server?: boolean;
}

export interface Pki {
  readonly dir: string;
  readonly caCert: string;
  readonly caKey: string;
  cert(name: string): { cert: string; key: string };
  readonly saKey: string;
  readonly saPub: string;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** Creates (once) the CA, the service-account key pair and every leaf in `certs`. */
export async function ensurePki(dir: string, clusterName: string, certs: readonly CertSpec[], signal?: AbortSignal): Promise<Pki> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caCert = join(dir, 'ca.crt');
  const caKey = join(dir, 'ca.key');
  const opts = signal === undefined ? {} : { signal };
  if (!existsSync(caCert) || !existsSync(caKey)) {
    await run('openssl', [
      'req', '-x509', ...EC, '-keyout', caKey, '-out', caCert, '-days', '3650', '-subj', `/CN=${clusterName}-ca`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
    ], opts);
  }
  const saKey = join(dir, 'sa.key');
  const saPub = join(dir, 'sa.pub');
  if (!existsSync(saKey) || !existsSync(saPub)) {
    await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', saKey], opts);
    await run('openssl', ['pkey', '-in', saKey, '-pubout', '-out', saPub], opts);
  }
  await Promise.all(
    certs.map(async (c) => {
      const crt = join(dir, `${c.name}.crt`);
      const key = join(dir, `${c.name}.key`);
      if (existsSync(crt) && existsSync(key)) return;
      const subj = (c.org === undefined ? '' : `/O=${c.org}`) + `/CN=${c.cn}`;
      const ext = ['-addext', 'basicConstraints=critical,CA:FALSE', '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment'];
      ext.push('-addext', `extendedKeyUsage=${c.server === true ? 'serverAuth,clientAuth' : 'clientAuth'}`);
      if (c.sans !== undefined && c.sans.length > 0) {
        const sans = c.sans.map((s) => (/^[0-9.]+$/.test(s) ? `IP:${s}` : `DNS:${s}`)).join(',');
        ext.push('-addext', `subjectAltName=${sans}`);
      }
      await run('openssl', [
        'req', '-x509', ...EC, '-keyout', key, '-out', crt, '-days', '3650', '-subj', subj,
        '-CA', caCert, '-CAkey', caKey, ...ext,
      ], opts);
    }),
  );
  return {
    dir,
    caCert,
    caKey,
    saKey,
    saPub,
    cert: (name) => ({ cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) }),
  };
}

/** A kubeconfig with the CA and client credentials embedded (self-contained, copyable). */
export function kubeconfigYaml(opts: { name: string; server: string; caCert: string; cert: string; key: string; namespace?: string }): string {
  const b64 = (p: string): string => readFileSync(p).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${opts.name}`,
    '  cluster:',
    `    server: ${opts.server}`,
    `    certificate-authority-data: ${b64(opts.caCert)}`,
    'users:',
    `- name: ${opts.name}-user`,
    '  user:',
    `    client-certificate-data: ${b64(opts.cert)}`,
    `    client-key-data: ${b64(opts.key)}`,
    'contexts:',
    `- name: ${opts.name}`,
    '  context:',
    `    cluster: ${opts.name}`,
    `    user: ${opts.name}-user`,
    ...(opts.namespace === undefined ? [] : [`    namespace: ${opts.namespace}`]),
    `current-context: ${opts.name}`,
    '',
  ].join('\n');
}

export function writeKubeconfig(path: string, yaml: string): void {
  writeFileSync(path, yaml, { mode: 0o600 });
}
