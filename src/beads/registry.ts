// The stores the runner must hold, remembered in the cluster (ConfigMap gc-beads-stores) so that
// a recreated runner — or a restarted daemon — can re-initialize every one of them without gc
// calling init again. One key per store; values carry no secrets (the password stays in its
// Secret). Writes are compare-and-swap on resourceVersion, retried on conflict.

import type { ConfigMap } from '../kube/types.js';
import type { ConfigMapApi } from '../kube/ports.js';
import { GcK8sError, hasCode } from '../errors.js';
import { shortHash } from '../util/hash.js';
import { RUNNER_LABELS } from './runner/manifest.js';

export const REGISTRY_CONFIGMAP = 'gc-beads-stores';

/** Everything `bd init` needs to rebuild a store's .beads directory. */
export interface StoreRecord {
  readonly workdir: string;
  readonly prefix: string;
  /** Dolt database name; '' lets bd derive it from the prefix */
  readonly database: string;
  readonly host: string;
  readonly port: string;
  readonly user: string;
  /** bd types.custom */
  readonly customTypes: readonly string[];
}

function keyOf(workdir: string): string {
  return `store-${shortHash(workdir, 16)}`;
}

function parseRecord(text: string): StoreRecord | undefined {
  try {
    const v = JSON.parse(text) as Partial<StoreRecord>;
    if (typeof v.workdir !== 'string' || typeof v.prefix !== 'string') return undefined;
    const customTypes = Array.isArray(v.customTypes) ? v.customTypes.filter((t): t is string => typeof t === 'string') : [];
    return {
      workdir: v.workdir,
      prefix: v.prefix,
      database: v.database ?? '',
      host: v.host ?? '',
      port: v.port ?? '',
      user: v.user ?? '',
      customTypes,
    };
  } catch {
    return undefined;
  }
}

export class StoreRegistry {
  constructor(private readonly configMaps: ConfigMapApi) {}

  async list(signal: AbortSignal): Promise<StoreRecord[]> {
    const cm = await this.configMaps.get(REGISTRY_CONFIGMAP, { signal });
    return cm === undefined ? [] : records(cm);
  }

  async get(workdir: string, signal: AbortSignal): Promise<StoreRecord | undefined> {
    const cm = await this.configMaps.get(REGISTRY_CONFIGMAP, { signal });
    const text = cm?.data[keyOf(workdir)];
    return text === undefined ? undefined : parseRecord(text);
  }

  /** Adds or replaces the record of `record.workdir`. */
  async put(record: StoreRecord, signal: AbortSignal): Promise<void> {
    const key = keyOf(record.workdir);
    const value = JSON.stringify(record);
    for (let attempt = 0; attempt < 10; attempt++) {
      const cm = await this.configMaps.get(REGISTRY_CONFIGMAP, { signal });
      try {
        if (cm === undefined) {
          await this.configMaps.create(
            {
              apiVersion: 'v1',
              kind: 'ConfigMap',
              metadata: { name: REGISTRY_CONFIGMAP, labels: { ...RUNNER_LABELS } },
              data: { [key]: value },
            },
            { signal },
          );
          return;
        }
        if (cm.data[key] === value) return;
        await this.configMaps.replace(
          {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: REGISTRY_CONFIGMAP, labels: { ...cm.labels }, resourceVersion: cm.resourceVersion },
            data: { ...cm.data, [key]: value },
          },
          { signal },
        );
        return;
      } catch (err) {
        if (!hasCode(err, 'CONFLICT', 'ALREADY_EXISTS')) throw err;
      }
    }
    throw new GcK8sError('CONFLICT', `recording store ${record.workdir} in ConfigMap ${REGISTRY_CONFIGMAP}: too many concurrent writers`);
  }
}

function records(cm: ConfigMap): StoreRecord[] {
  return Object.entries(cm.data)
    .filter(([k]) => k.startsWith('store-'))
    .map(([, v]) => parseRecord(v))
    .filter((r): r is StoreRecord => r !== undefined)
    .sort((a, b) => a.workdir.localeCompare(b.workdir));
}
