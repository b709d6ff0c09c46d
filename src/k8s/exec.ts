// PodExec over the exec subresource's WebSocket. Unlike client-node, the promise settles when the
// command has *finished* (status frame, then socket close or a short grace), output is capped,
// stdin is written with backpressure and half-closed with a v5 CLOSE frame, and every failure
// (upgrade refused, handshake timeout, socket dropped, deadline) maps to a GcK8sError.

import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import type { ExecRequest, ExecResult, PodExec } from '../kube/ports.js';
import { GcK8sError, messageOf } from '../errors.js';
import { abortError, throwIfAborted } from '../util/abort.js';
import { containerNotRunning, execUpgradeError, transportError } from './errors.js';
import { writeStdin } from './exec-stdin.js';
import {
  CHANNEL_STATUS,
  CHANNEL_STDERR,
  CHANNEL_STDOUT,
  PROTOCOL_V4,
  PROTOCOL_V5,
  execQuery,
  parseExecStatus,
  type ExecOutcome,
} from './exec-protocol.js';
import { Resource } from './resource.js';
import type { RestClient } from './rest.js';
import { Semaphore } from '../util/semaphore.js';

export interface ExecOptions {
  /** opening handshake (TCP+TLS+upgrade) deadline; default 10 s */
  readonly handshakeTimeoutMs?: number;
  /** after the status frame, how long to wait for the server to close the socket; default 1 s */
  readonly statusGraceMs?: number;
  /** concurrent execs per cluster; default 32 */
  readonly maxConcurrent?: number;
  /** stdin frame size and the buffered amount above which writing waits; defaults 64 KiB / 1 MiB */
  readonly stdinChunkBytes?: number;
  readonly stdinHighWaterBytes?: number;
}

const DEFAULT_MAX_OUTPUT = 16 * 1024 * 1024;
const MAX_ERROR_BODY = 64 * 1024;

class UnauthorizedUpgrade extends Error {}

/** A 429 refusing the upgrade (nothing ran): retried after its Retry-After like any request. */
class ThrottledUpgrade extends Error {
  constructor(
    readonly retryAfter: string | string[] | undefined,
    readonly error: GcK8sError,
  ) {
    super(error.message);
  }
}

export class WebSocketExec implements PodExec {
  constructor(
    private readonly rest: RestClient,
    readonly namespace: string,
    private readonly semaphore: Semaphore,
    private readonly options: ExecOptions = {},
  ) {}

  async exec(request: ExecRequest): Promise<ExecResult> {
    const what = `exec ${request.command[0] ?? '(no command)'} in pod ${this.namespace}/${request.pod}`;
    if (request.command.length === 0) throw new GcK8sError('BAD_REQUEST', `${what}: empty command`);
    throwIfAborted(request.signal, what);
    const release =
      request.longLived === true ? () => undefined : await this.semaphore.acquire(request.signal, `${what}: waiting for an exec slot`);
    try {
      let unauthorizedRetried = false;
      let throttled = 0;
      for (;;) {
        try {
          return await this.attempt(request, what, unauthorizedRetried);
        } catch (err) {
          // Both refusals come before anything ran, so a retry is safe.
          if (err instanceof UnauthorizedUpgrade) {
            // refresh credentials and try once more
            unauthorizedRetried = true;
            this.rest.transport.connection.credentials.invalidate();
            this.rest.counter.retry();
            continue;
          }
          if (!(err instanceof ThrottledUpgrade)) throw err;
          this.rest.counter.response('create', 'pods/exec', 429);
          if (!(await this.rest.throttledRetry(err.retryAfter, throttled, request.signal, what))) throw err.error;
          throttled++;
        }
      }
    } finally {
      release();
    }
  }

  private async attempt(request: ExecRequest, what: string, lastTry: boolean): Promise<ExecResult> {
    const transport = this.rest.transport;
    // an upgrade is a request like any other: a mass start's channels wait for the rate limiter too
    await this.rest.admit(request.signal, what);
    const session = await transport.session(request.signal, what);
    const url = new URL(transport.server.href);
    url.protocol = transport.secure ? 'wss:' : 'ws:';
    url.pathname = transport.basePath + new Resource(this.rest, 'pods', this.namespace).path(request.pod, 'exec');
    url.search = execQuery(request.container, request.command, request.stdin !== undefined);
    this.rest.counter.request('create', 'pods/exec');
    const ws = new WebSocket(url, [PROTOCOL_V5, PROTOCOL_V4], {
      agent: session.agent,
      headers: session.headers as Record<string, string>,
      handshakeTimeout: this.options.handshakeTimeoutMs ?? 10_000,
      perMessageDeflate: false,
      followRedirects: false,
    });
    const call = new ExecCall(ws, request, what, lastTry, this.options);
    const release = transport.track({
      terminate: () => {
        call.abort(new GcK8sError('ABORTED', `${what}: the Kubernetes client is closed`));
      },
    });
    void call.result.then(release, release);
    return call.result;
  }
}

/** One WebSocket's lifetime; settles exactly once. */
class ExecCall {
  readonly result: Promise<ExecResult>;
  private resolve!: (result: ExecResult) => void;
  private reject!: (err: Error) => void;
  private settled = false;
  private readonly stdout: Buffer[] = [];
  private readonly stderr: Buffer[] = [];
  private outputBytes = 0;
  private statusBytes: Buffer[] = [];
  private outcome: ExecOutcome | undefined;
  /** a failed stdin write, reported only if the stream then closes without a status */
  private stdinError: unknown;
  private graceTimer: NodeJS.Timeout | undefined;
  private readonly maxOutput: number;

  constructor(
    private readonly ws: WebSocket,
    private readonly request: ExecRequest,
    private readonly what: string,
    private readonly lastTry: boolean,
    private readonly options: ExecOptions,
  ) {
    this.maxOutput = request.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
    this.result = new Promise<ExecResult>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    request.signal.addEventListener('abort', this.onAbort, { once: true });
    if (request.signal.aborted) this.onAbort();
    ws.on('unexpected-response', (_req, res) => {
      this.onUpgradeRefused(res);
    });
    ws.on('error', (err) => {
      const timedOut = /handshake has timed out/i.test(err.message);
      this.fail(timedOut ? new GcK8sError('TIMEOUT', `${what}: opening handshake timed out`, { cause: err }) : transportError(err, what));
    });
    ws.on('open', () => {
      this.onOpen();
    });
    ws.on('message', (data: WebSocket.RawData) => {
      try {
        this.onMessage(data);
      } catch (err) {
        // Never let a surprising frame throw inside the socket's event handler.
        this.fail(new GcK8sError('INTERNAL', `${what}: handling a frame: ${String(err)}`, { cause: err }));
      }
    });
    ws.on('close', (code) => {
      if (this.outcome !== undefined) this.complete();
      else {
        const write = this.stdinError === undefined ? '' : `; writing stdin failed: ${messageOf(this.stdinError)}`;
        this.fail(
          new GcK8sError('EXEC_NO_STATUS', `${what}: the stream closed without an exit status (close code ${code}${write})`, {
            cause: this.stdinError,
          }),
        );
      }
    });
  }

  private readonly onAbort = (): void => {
    this.fail(abortError(this.request.signal, this.what));
  };

  private onUpgradeRefused(res: IncomingMessage): void {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      if (size < MAX_ERROR_BODY) chunks.push(chunk);
      size += chunk.length;
    });
    res.on('error', (err) => {
      this.fail(transportError(err, this.what));
    });
    res.on('end', () => {
      const status = res.statusCode ?? 0;
      const body = Buffer.concat(chunks).toString('utf8');
      if (status === 429) this.fail(new ThrottledUpgrade(res.headers['retry-after'], execUpgradeError(status, body, this.what)));
      else this.fail(status === 401 && !this.lastTry ? new UnauthorizedUpgrade() : execUpgradeError(status, body, this.what));
    });
  }

  private onOpen(): void {
    const stdin = this.request.stdin;
    if (stdin === undefined) return;
    if (this.ws.protocol !== PROTOCOL_V5) {
      // Without v5 the only way to signal EOF is closing the socket, which loses the output.
      this.fail(new GcK8sError('EXEC_FAILED', `${this.what}: server did not negotiate ${PROTOCOL_V5}; stdin cannot be closed`));
      return;
    }
    const writing = writeStdin(this.ws, stdin, {
      chunkBytes: this.options.stdinChunkBytes ?? 64 * 1024,
      highWaterBytes: this.options.stdinHighWaterBytes ?? 1024 * 1024,
      stopped: () => this.settled || this.outcome !== undefined,
    });
    writing.catch((err: unknown) => {
      // A command may exit without reading its input, and the server may close the stream right
      // after its status: frames already received are handled before 'close', so let 'close'
      // decide, with the write error as the detail if no status came.
      if (this.outcome === undefined) this.stdinError = err;
    });
  }

  private onMessage(data: WebSocket.RawData): void {
    if (this.settled) return;
    const message = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (message.length === 0) return;
    const channel = message[0];
    const payload = message.subarray(1);
    if (channel === CHANNEL_STDOUT || channel === CHANNEL_STDERR) {
      if (this.request.onOutput !== undefined) {
        this.request.onOutput(channel === CHANNEL_STDOUT ? 'stdout' : 'stderr', Buffer.from(payload));
        return;
      }
      this.outputBytes += payload.length;
      if (this.outputBytes > this.maxOutput) {
        this.fail(new GcK8sError('OUTPUT_TOO_LARGE', `${this.what}: output exceeds ${this.maxOutput} bytes`));
        return;
      }
      (channel === CHANNEL_STDOUT ? this.stdout : this.stderr).push(payload);
    } else if (channel === CHANNEL_STATUS && this.outcome === undefined) {
      this.statusBytes.push(payload);
      const outcome = parseExecStatus(Buffer.concat(this.statusBytes));
      if (outcome === undefined) return; // split across frames: wait for the rest
      this.outcome = outcome;
      this.statusBytes = [];
      // Output frames precede the status; the close normally follows at once. Do not hang on a
      // server that never closes.
      this.graceTimer = setTimeout(() => {
        this.complete();
      }, this.options.statusGraceMs ?? 1000);
    }
    // Other channels (a server's CLOSE echo, future additions) are ignored.
  }

  private complete(): void {
    const outcome = this.outcome;
    if (outcome === undefined || this.settled) return;
    if (outcome.kind === 'failure') {
      // the apiserver reports a kubelet refusal (container gone) this way too, after the upgrade
      const code = containerNotRunning(outcome.message) ? 'CONTAINER_NOT_RUNNING' : 'EXEC_FAILED';
      this.fail(new GcK8sError(code, `${this.what}: ${outcome.message}`, { details: { reason: outcome.reason } }));
      return;
    }
    this.finish();
    this.resolve({ exitCode: outcome.exitCode, stdout: Buffer.concat(this.stdout), stderr: Buffer.concat(this.stderr) });
  }

  /** Ends the call from outside (client closing): rejects with `err` and terminates the socket. */
  abort(err: Error): void {
    this.fail(err);
  }

  private fail(err: Error): void {
    if (this.settled) return;
    this.finish();
    this.reject(err);
  }

  private finish(): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.graceTimer);
    this.request.signal.removeEventListener('abort', this.onAbort);
    // terminate() is right even after success: the result is in hand, and a graceful close would
    // keep the socket around waiting for the server's close frame.
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate();
  }
}
