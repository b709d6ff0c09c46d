// An in-memory LeaseApi with the API server's optimistic concurrency: every write bumps the
// resourceVersion, an update at a stale one is CONFLICT, a second create is ALREADY_EXISTS.
// Tests can write it "from another daemon" (put) and make calls fail (failNext).

import { GcK8sError } from '../../src/errors.js';
import type { CallOptions, LeaseApi } from '../../src/kube/ports.js';
import type { Lease, LeaseRecord } from '../../src/kube/types.js';

export class FakeLeaseApi implements LeaseApi {
  readonly leases = new Map<string, Lease>();
  readonly calls: string[] = [];
  private version = 0;
  private failures: GcK8sError[] = [];

  /** the next calls fail with these, in order */
  failNext(...errors: GcK8sError[]): void {
    this.failures.push(...errors);
  }

  /** writes it as another daemon would, unconditionally */
  put(record: LeaseRecord): Lease {
    const lease = { ...record, resourceVersion: String(++this.version) };
    this.leases.set(record.name, lease);
    return lease;
  }

  private async settle(): Promise<void> {
    await Promise.resolve();
    const err = this.failures.shift();
    if (err !== undefined) throw err;
  }

  async get(name: string, _options: CallOptions): Promise<Lease | undefined> {
    this.calls.push(`get ${name}`);
    await this.settle();
    return this.leases.get(name);
  }

  async create(record: LeaseRecord, _options: CallOptions): Promise<Lease> {
    this.calls.push(`create ${record.name} ${record.holderIdentity}`);
    await this.settle();
    if (this.leases.has(record.name)) throw new GcK8sError('ALREADY_EXISTS', `leases "${record.name}" already exists`);
    return this.put(record);
  }

  async update(record: LeaseRecord, resourceVersion: string, _options: CallOptions): Promise<Lease> {
    this.calls.push(`update ${record.name} ${record.holderIdentity}`);
    await this.settle();
    const current = this.leases.get(record.name);
    if (current === undefined) throw new GcK8sError('NOT_FOUND', `leases "${record.name}" not found`);
    if (current.resourceVersion !== resourceVersion)
      throw new GcK8sError('CONFLICT', 'the object has been modified; please apply your changes to the latest version');
    return this.put(record);
  }
}
