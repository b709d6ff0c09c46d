// A small in-memory Kubernetes API server for unit tests: pods, configmaps, events and namespaces
// with resourceVersions, label selectors, limit/continue pagination, watches (history replay,
// bookmarks, 410 after compaction), and the exec subresource over WebSocket speaking
// v5/v4.channel.k8s.io. Fault injection: one-shot responses, dropped watches, refused upgrades.
// It counts TCP connections and TLS session resumptions so tests can check connection reuse.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer, type WebSocket } from 'ws';

export interface WireMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  [key: string]: unknown;
}

/** A Kubernetes object on the wire: metadata is typed, the rest is opaque. */
export interface Wire {
  metadata: WireMeta;
  [key: string]: unknown;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Wire | undefined;
}

export interface MockResponse {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  /** never answer (the client's deadline must end the call) */
  readonly hang?: boolean;
}

interface Interceptor {
  readonly match: (req: RecordedRequest) => boolean;
  readonly respond: (req: RecordedRequest) => MockResponse;
  remaining: number;
}

interface Watcher {
  readonly kind: string;
  readonly namespace: string;
  readonly selector: string;
  readonly res: http.ServerResponse;
}

export interface ExecSession {
  readonly protocol: string;
  readonly command: string[];
  readonly container: string;
  readonly stdin: boolean;
  readonly ws: WebSocket;
  /** stdin bytes received until the client's CLOSE frame for channel 0 */
  readonly stdinDone: Promise<Buffer>;
  send(channel: number, data: string | Buffer): void;
  exit(code: number): void;
  status(status: Record<string, unknown>): void;
}

let cachedCert: { cert: string; key: string } | undefined;

/** A self-signed certificate for 127.0.0.1, generated once per test process with openssl. */
export function selfSignedCert(): { cert: string; key: string } {
  if (cachedCert !== undefined) return cachedCert;
  const dir = mkdtempSync(path.join(tmpdir(), 'gc-k8s-cert-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      path.join(dir, 'key.pem'),
      '-out',
      path.join(dir, 'cert.pem'),
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  cachedCert = { cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8'), key: readFileSync(path.join(dir, 'key.pem'), 'utf8') };
  return cachedCert;
}

export function statusBody(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message };
}

export class MockApiServer {
  readonly requests: RecordedRequest[] = [];
  connections = 0;
  tlsResumed = 0;
  rv = 100;
  /** watch requests whose resourceVersion is older than this get a 410 ERROR event */
  compactedRv = 0;
  /** protocols the exec endpoint accepts, in server preference order */
  execProtocols = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
  execHandler: (session: ExecSession) => void = (s) => {
    s.exit(0);
  };
  readonly objects = new Map<string, Wire>(); // key kind/ns/name
  private readonly history: { rv: number; kind: string; namespace: string; type: string; object: Wire }[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly interceptors: Interceptor[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => this.execProtocols.find((p) => offered.has(p)) ?? false,
  });
  readonly url: string;
  readonly ca: string | undefined;

  private constructor(
    private readonly server: http.Server,
    tls: boolean,
    ca: string | undefined,
  ) {
    this.ca = ca;
    const { port } = server.address() as AddressInfo;
    this.url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  }

  static async start(options: { tls?: boolean } = {}): Promise<MockApiServer> {
    const tls = options.tls ?? true;
    const cert = tls ? selfSignedCert() : undefined;
    const server = cert === undefined ? http.createServer() : https.createServer({ cert: cert.cert, key: cert.key });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const mock = new MockApiServer(server, tls, cert?.cert);
    server.on('connection', (socket: Socket) => {
      mock.connections++;
      mock.sockets.add(socket);
      socket.on('close', () => {
        mock.sockets.delete(socket);
      });
    });
    server.on('secureConnection', (socket: TLSSocket) => {
      if (socket.isSessionReused()) mock.tlsResumed++;
    });
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      void mock.onRequest(req, res);
    });
    server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
      mock.onUpgrade(req, socket, head);
    });
    return mock;
  }

  /** Writes a kubeconfig for this server into `dir` and returns its path. */
  writeKubeconfig(dir: string, options: { token?: string; tokenFile?: string; context?: string } = {}): string {
    const context = options.context ?? 'mock';
    const user: Record<string, string> =
      options.tokenFile !== undefined ? { 'token-file': options.tokenFile } : { token: options.token ?? 'secret-token' };
    const config = {
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': context,
      clusters: [
        {
          name: 'mock-cluster',
          cluster: {
            server: this.url,
            ...(this.ca === undefined ? {} : { 'certificate-authority-data': Buffer.from(this.ca).toString('base64') }),
          },
        },
      ],
      users: [{ name: 'mock-user', user }],
      contexts: [{ name: context, context: { cluster: 'mock-cluster', user: 'mock-user', namespace: 'gc' } }],
    };
    const file = path.join(dir, `kubeconfig-${context}`);
    writeFileSync(file, JSON.stringify(config)); // JSON is YAML
    return file;
  }

  /** Answers the next `times` requests matching `match` with `response` instead of the store. */
  intercept(match: (req: RecordedRequest) => boolean, response: MockResponse | ((req: RecordedRequest) => MockResponse), times = 1): void {
    this.interceptors.push({ match, respond: typeof response === 'function' ? response : () => response, remaining: times });
  }

  // --- store -------------------------------------------------------------------------------

  put(kind: 'pods' | 'configmaps' | 'events', namespace: string, object: Wire): Wire {
    const name = object.metadata.name;
    const key = `${kind}/${namespace}/${name}`;
    const existing = this.objects.get(key);
    const rv = ++this.rv;
    const stored: Wire = {
      ...object,
      metadata: {
        creationTimestamp: '2026-01-01T00:00:00Z',
        uid: existing?.metadata.uid ?? `uid-${name}-${rv}`,
        ...object.metadata,
        namespace,
        resourceVersion: String(rv),
      },
    };
    this.objects.set(key, stored);
    this.publish(kind, namespace, existing === undefined ? 'ADDED' : 'MODIFIED', stored);
    return stored;
  }

  remove(kind: string, namespace: string, name: string): Wire | undefined {
    const key = `${kind}/${namespace}/${name}`;
    const existing = this.objects.get(key);
    if (existing === undefined) return undefined;
    this.objects.delete(key);
    const rv = ++this.rv;
    const gone = { ...existing, metadata: { ...existing.metadata, resourceVersion: String(rv) } };
    this.publish(kind, namespace, 'DELETED', gone);
    return gone;
  }

  /** Changes the store WITHOUT telling watchers (as if the events were lost): for relist tests. */
  putSilently(kind: string, namespace: string, object: Wire): void {
    const rv = ++this.rv;
    this.objects.set(`${kind}/${namespace}/${object.metadata.name}`, {
      ...object,
      metadata: { uid: 'u', ...object.metadata, namespace, resourceVersion: String(rv) },
    });
  }

  removeSilently(kind: string, namespace: string, name: string): void {
    this.objects.delete(`${kind}/${namespace}/${name}`);
    this.rv++;
  }

  // --- watch control ---------------------------------------------------------------------

  get activeWatches(): number {
    return this.watchers.size;
  }

  bookmark(): void {
    for (const w of this.watchers)
      this.writeEvent(w, 'BOOKMARK', { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) } });
  }

  /** Sends raw bytes to every watch (to test framing and malformed lines). */
  sendRaw(data: string | Buffer): void {
    for (const w of this.watchers) w.res.write(data);
  }

  /** Sends a watch ERROR event (the apiserver's way to report 410 mid-stream). */
  sendWatchError(code: number, reason: string, message: string): void {
    for (const w of this.watchers) this.writeEvent(w, 'ERROR', statusBody(code, reason, message));
  }

  /** Cuts every watch connection abruptly (no chunked terminator): a network drop. */
  dropWatches(): void {
    for (const w of [...this.watchers]) {
      this.watchers.delete(w);
      w.res.socket?.destroy();
    }
  }

  /** Ends every watch cleanly, as the server does when timeoutSeconds passes. */
  endWatches(): void {
    for (const w of [...this.watchers]) {
      this.watchers.delete(w);
      w.res.end();
    }
  }

  async close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => {
      this.server.close(() => {
        resolve();
      });
    });
  }

  // --- HTTP -------------------------------------------------------------------------------

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://x');
    const text = Buffer.concat(chunks).toString('utf8');
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body: text === '' ? undefined : (JSON.parse(text) as Wire),
    };
    this.requests.push(recorded);
    const interceptor = this.interceptors.find((i) => i.remaining > 0 && i.match(recorded));
    if (interceptor !== undefined) {
      interceptor.remaining--;
      const r = interceptor.respond(recorded);
      if (r.hang !== true) this.send(res, r.status, r.body, r.headers);
      return;
    }
    const r = this.route(recorded, res);
    if (r !== undefined) this.send(res, r.status, r.body, r.headers);
  }

  private send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(text);
  }

  private route(req: RecordedRequest, res: http.ServerResponse): MockResponse | undefined {
    if (req.path === '/version')
      return { status: 200, body: { major: '1', minor: '31', gitVersion: 'v1.31.0-mock', platform: 'linux/amd64' } };
    const ns = /^\/api\/v1\/namespaces(?:\/([^/]+))?$/.exec(req.path);
    if (ns !== null) return this.namespaces(req, ns[1]);
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/(pods|configmaps|events)(?:\/([^/]+))?$/.exec(req.path);
    if (m === null)
      return { status: 404, body: statusBody(404, 'NotFound', `the server could not find the requested resource (${req.path})`) };
    const [, namespace, kind, rawName] = m as unknown as [string, string, 'pods' | 'configmaps' | 'events', string | undefined];
    const name = rawName === undefined ? undefined : decodeURIComponent(rawName);
    const singular = kind === 'pods' ? 'pod' : kind === 'configmaps' ? 'configmap' : 'event';
    if (name === undefined && req.method === 'GET' && (req.query.get('watch') === 'true' || req.query.get('watch') === '1')) {
      this.watch(req, res, kind, namespace);
      return undefined;
    }
    if (name === undefined && req.method === 'GET') return this.list(req, kind, namespace);
    if (name === undefined && req.method === 'POST') {
      const body = req.body!;
      const key = `${kind}/${namespace}/${body.metadata.name}`;
      if (this.objects.has(key))
        return { status: 409, body: statusBody(409, 'AlreadyExists', `${kind} "${body.metadata.name}" already exists`) };
      const created = this.put(kind, namespace, kind === 'pods' ? { ...body, status: { phase: 'Pending' } } : body);
      return { status: 201, body: created };
    }
    const key = `${kind}/${namespace}/${name}`;
    const existing = this.objects.get(key);
    const notFound = { status: 404, body: statusBody(404, 'NotFound', `${kind} "${name}" not found`) };
    if (req.method === 'GET') return existing === undefined ? notFound : { status: 200, body: existing };
    if (req.method === 'PUT') {
      if (existing === undefined) return notFound;
      if (req.body?.metadata.resourceVersion !== existing.metadata.resourceVersion) {
        return {
          status: 409,
          body: statusBody(
            409,
            'Conflict',
            `Operation cannot be fulfilled on ${kind} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
          ),
        };
      }
      return { status: 200, body: this.put(kind, namespace, req.body!) };
    }
    if (req.method === 'DELETE') {
      if (existing === undefined) return notFound;
      const pre = req.body?.preconditions as { uid?: string; resourceVersion?: string } | undefined;
      if (
        (pre?.uid !== undefined && pre.uid !== existing.metadata.uid) ||
        (pre?.resourceVersion !== undefined && pre.resourceVersion !== existing.metadata.resourceVersion)
      ) {
        return { status: 409, body: statusBody(409, 'Conflict', `Precondition failed for ${singular} ${name}`) };
      }
      return { status: 200, body: this.remove(kind, namespace, name!) };
    }
    return { status: 405, body: statusBody(405, 'MethodNotAllowed', 'method not allowed') };
  }

  private namespaces(req: RecordedRequest, name: string | undefined): MockResponse {
    if (req.method === 'POST') {
      const n = req.body!.metadata.name;
      if (this.objects.has(`namespaces//${n}`))
        return { status: 409, body: statusBody(409, 'AlreadyExists', `namespaces "${n}" already exists`) };
      this.objects.set(`namespaces//${n}`, req.body!);
      return { status: 201, body: req.body };
    }
    const existing = this.objects.get(`namespaces//${name}`);
    return existing === undefined
      ? { status: 404, body: statusBody(404, 'NotFound', `namespaces "${name}" not found`) }
      : { status: 200, body: existing };
  }

  private matching(kind: string, namespace: string, query: URLSearchParams): Wire[] {
    const selector = query.get('labelSelector') ?? '';
    const fields = query.get('fieldSelector') ?? '';
    return [...this.objects.entries()]
      .filter(([key, o]) => key.startsWith(`${kind}/${namespace}/`) && matchesLabels(o, selector) && matchesFields(o, fields))
      .map(([, o]) => o);
  }

  private list(req: RecordedRequest, kind: string, namespace: string): MockResponse {
    const all = this.matching(kind, namespace, req.query);
    const offset = Number(req.query.get('continue') ?? '0');
    const limit = Number(req.query.get('limit') ?? '0');
    const items = limit > 0 ? all.slice(offset, offset + limit) : all.slice(offset);
    const next = limit > 0 && offset + limit < all.length ? String(offset + limit) : undefined;
    return {
      status: 200,
      body: {
        kind: 'List',
        apiVersion: 'v1',
        metadata: { resourceVersion: String(this.rv), ...(next === undefined ? {} : { continue: next }) },
        items,
      },
    };
  }

  private watch(req: RecordedRequest, res: http.ServerResponse, kind: string, namespace: string): void {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders(); // the apiserver answers a watch at once, before any event
    const watcher: Watcher = { kind, namespace, selector: req.query.get('labelSelector') ?? '', res };
    const from = Number(req.query.get('resourceVersion') ?? '0');
    if (from < this.compactedRv) {
      this.writeEvent(watcher, 'ERROR', statusBody(410, 'Expired', `too old resource version: ${from} (${this.compactedRv})`));
      res.end();
      return;
    }
    for (const h of this.history) {
      if (h.rv > from && h.kind === kind && h.namespace === namespace && matchesLabels(h.object, watcher.selector))
        this.writeEvent(watcher, h.type, h.object);
    }
    this.watchers.add(watcher);
    res.on('close', () => {
      this.watchers.delete(watcher);
    });
  }

  private publish(kind: string, namespace: string, type: string, object: Wire): void {
    this.history.push({ rv: this.rv, kind, namespace, type, object });
    for (const w of this.watchers) {
      if (w.kind === kind && w.namespace === namespace && matchesLabels(object, w.selector)) this.writeEvent(w, type, object);
    }
  }

  private writeEvent(w: Watcher, type: string, object: unknown): void {
    w.res.write(`${JSON.stringify({ type, object })}\n`);
  }

  // --- exec -------------------------------------------------------------------------------

  /** Refuses the next exec upgrades with an HTTP error (pod missing, container missing…). */
  refuseExec(status: number, body: unknown, times = 1): void {
    this.intercept((r) => r.path.endsWith('/exec'), { status, body }, times);
  }

  private onUpgrade(req: http.IncomingMessage, socket: Socket, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const recorded: RecordedRequest = { method: 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body: undefined };
    this.requests.push(recorded);
    const interceptor = this.interceptors.find((i) => i.remaining > 0 && i.match(recorded));
    if (interceptor !== undefined) {
      interceptor.remaining--;
      const r = interceptor.respond(recorded);
      if (r.hang === true) return; // accept the TCP connection, never answer the upgrade
      const text = typeof r.body === 'string' ? r.body : JSON.stringify(r.body ?? '');
      const extra = Object.entries(r.headers ?? {})
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join('');
      socket.end(
        `HTTP/1.1 ${r.status} Refused\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n${extra}Connection: close\r\n\r\n${text}`,
      );
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.onExec(ws, url.searchParams);
    });
  }

  private onExec(ws: WebSocket, query: URLSearchParams): void {
    const stdinChunks: Buffer[] = [];
    let resolveStdin!: (b: Buffer) => void;
    const stdinDone = new Promise<Buffer>((resolve) => {
      resolveStdin = resolve;
    });
    ws.on('message', (data: Buffer) => {
      if (data[0] === 0) stdinChunks.push(data.subarray(1));
      else if (data[0] === 255 && data[1] === 0) resolveStdin(Buffer.concat(stdinChunks));
    });
    ws.on('close', () => {
      resolveStdin(Buffer.concat(stdinChunks));
    });
    const session: ExecSession = {
      protocol: ws.protocol,
      command: query.getAll('command'),
      container: query.get('container') ?? '',
      stdin: query.get('stdin') === 'true',
      ws,
      stdinDone,
      send: (channel, data) => {
        ws.send(Buffer.concat([Buffer.from([channel]), Buffer.from(data)]));
      },
      status: (status) => {
        ws.send(Buffer.concat([Buffer.from([3]), Buffer.from(JSON.stringify(status))]));
      },
      exit: (code) => {
        session.status(
          code === 0
            ? { metadata: {}, status: 'Success' }
            : {
                metadata: {},
                status: 'Failure',
                message: `command terminated with non-zero exit code: error executing command [${query.getAll('command').join(' ')}], exit code ${code}`,
                reason: 'NonZeroExitCode',
                details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
              },
        );
        ws.close(1000);
      },
    };
    this.execHandler(session);
  }
}

function matchesLabels(o: Wire, selector: string): boolean {
  if (selector === '') return true;
  const labels: Record<string, string> = o.metadata.labels ?? {};
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=');
    return v === undefined ? k! in labels : labels[k!] === v;
  });
}

function matchesFields(o: Wire, selector: string): boolean {
  if (selector === '') return true;
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=') as [string, string];
    const value = k
      .split('.')
      .reduce<unknown>((acc, part) => (typeof acc === 'object' && acc !== null ? (acc as Record<string, unknown>)[part] : undefined), o);
    return String(value) === v;
  });
}
