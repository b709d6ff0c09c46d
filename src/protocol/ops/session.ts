// Gas City's exec session protocol (gc-session-k8s): v0.15.1's ops; 1.x's handshake (`protocol`)
// and the ops of the capabilities it declares (exec, provision, is-attached); and attach-target
// (what the clients' `attach` asks the daemon before handing the terminal to kubectl). A gc that
// never asks the handshake never sends the 1.x ops: they are invisible to v0.15.1's gc.

import { KiB, MiB, type OpTable } from './spec.js';

/** tmux keeps an environment variable only when its set-environment command fits one message. */
export const META_MAX_BYTES = 16_000;

/**
 * What `protocol` declares (gc 1.x exercises each one it sees): the exec and provision ops,
 * get-last-activity as the activity gc may trust, is-attached.
 */
export const SESSION_CAPABILITIES = ['proc.exec', 'proc.provision', 'report-activity', 'report-attachment'] as const;

/** The handshake's one line, as both clients print it without asking the daemon. */
export function handshakeJson(): string {
  return `${JSON.stringify({ version: 0, capabilities: SESSION_CAPABILITIES })}\n`;
}

/** exec's command (a shell script on stdin) and the most combined output it returns. */
export const EXEC_MAX_SCRIPT_BYTES = 1 * MiB;
export const EXEC_MAX_OUTPUT_BYTES = 16 * MiB;

export const SESSION_OPS = {
  protocol: {
    retrySafe: true,
    usage: '',
    summary: 'the handshake: `{"version":0,"capabilities":[…]}`, answered by the client itself',
  },
  start: {
    args: ['session name'],
    stdin: 4 * MiB,
    retrySafe: true,
    usage: '<name>  (start JSON on stdin)',
    summary: 'create the session pod; returns once tmux is up and stayed up',
  },
  stop: { args: ['session name'], retrySafe: true, usage: '<name>', summary: 'delete the session pod; returns once it is gone' },
  interrupt: { args: ['session name'], usage: '<name>', summary: 'Ctrl-C in the session' },
  'is-running': { args: ['session name'], retrySafe: true, usage: '<name>', summary: 'true/false, from the watch cache' },
  'list-running': { retrySafe: true, usage: '<prefix>', summary: 'running sessions with the prefix, one per line' },
  'process-alive': {
    args: ['session name'],
    stdin: 64 * KiB,
    retrySafe: true,
    usage: '<name>  (process names on stdin)',
    summary: 'true when one of the named processes runs in the session',
  },
  nudge: { args: ['session name'], stdin: 4 * MiB, usage: '<name>  (text on stdin)', summary: 'type the text literally, then Enter' },
  'send-keys': { args: ['session name'], usage: '<name> <key>...', summary: 'tmux key names, no Enter added' },
  peek: {
    args: ['session name'],
    retrySafe: true,
    usage: '<name> [<lines>]',
    summary: 'the last N lines printed (0: the whole scrollback)',
  },
  'set-meta': {
    args: ['session name', 'meta key'],
    stdin: META_MAX_BYTES,
    retrySafe: true,
    usage: '<name> <key>  (value on stdin)',
    summary: 'set a tmux environment variable of the session',
  },
  'get-meta': { args: ['session name', 'meta key'], retrySafe: true, usage: '<name> <key>', summary: 'its value, empty when unset' },
  'remove-meta': { args: ['session name', 'meta key'], retrySafe: true, usage: '<name> <key>', summary: 'unset it' },
  'get-last-activity': {
    args: ['session name'],
    retrySafe: true,
    usage: '<name>',
    summary: 'RFC 3339 time of the last activity, or empty',
  },
  'clear-scrollback': { args: ['session name'], usage: '<name>', summary: 'clear the tmux history' },
  'copy-to': {
    args: ['session name', 'source path'],
    usage: '<name> <src> [<rel dst>]',
    summary: 'copy a local file or directory into /workspace',
  },
  'attach-target': {
    args: ['session name'],
    retrySafe: true,
    usage: '<name>',
    summary: 'the pod, namespace and container `attach` execs into',
  },
  exec: {
    args: ['session name'],
    stdin: EXEC_MAX_SCRIPT_BYTES,
    usage: '<name>  (shell command on stdin)',
    summary: "run it in the agent container; its combined output; exit code = the command's",
  },
  provision: {
    args: ['session name'],
    stdin: 4 * MiB,
    retrySafe: true,
    usage: '<name>  (start JSON on stdin)',
    summary: 'everything start does except launching the agent: is-running stays false, exec works',
  },
  'is-attached': {
    args: ['session name'],
    retrySafe: true,
    usage: '<name>',
    summary: 'true while a human is attached to the tmux session',
  },
} as const satisfies OpTable;
