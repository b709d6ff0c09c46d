// What a handler gets for one request: its resolved config, a logger, a deadline signal, the
// namespace client for the config's context and namespace, and frame writers.

import type { Config } from '../config/load.js';
import type { CitySource } from './resolve-city.js';
import type { NamespaceClient } from '../kube/ports.js';
import type { CommandRunner } from '../exec/runner.js';
import type { Logger } from '../log/logger.js';
import type { Request } from '../protocol/messages.js';
import type { KeyedMutex } from '../util/keyed-mutex.js';

export interface Connections {
  /** The client for a kubeconfig context ('' = current/in-cluster) and namespace, created once. */
  namespace(context: string, namespace: string, signal: AbortSignal): Promise<NamespaceClient>;
  /** Runs commands in the namespace's pods over persistent exec channels. */
  runner(context: string, namespace: string, signal: AbortSignal): Promise<CommandRunner>;
  /** Kubernetes request counters per context. */
  stats(): Promise<Record<string, unknown>>;
  /** Per-namespace serialization shared by all requests. */
  locks(context: string, namespace: string): KeyedMutex;
  /** Changes when every client was replaced (the kubeconfig changed): state built on old clients is stale. */
  generation(): number;
}

export interface RequestContext {
  readonly request: Request;
  readonly config: Config;
  /** how the request's city was found (see resolve-city.ts) */
  readonly citySource: CitySource;
  readonly log: Logger;
  /** fires when the client disconnects or the daemon shuts down */
  readonly signal: AbortSignal;
  readonly connections: Connections;
  out(data: string): void;
  err(data: string): void;
}

/** A handler returns the exit code; thrown GcK8sErrors become exit 1 with their message. */
export type Handler = (ctx: RequestContext) => Promise<number>;

/** Validates a request's arguments before anything is read or resolved (throws BAD_REQUEST). */
export type RequestCheck = (request: Request) => void;
