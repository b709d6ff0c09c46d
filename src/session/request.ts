// The `start` payload of Gas City's exec session protocol (runtime.Config as JSON, omitempty
// fields). Parsed once, strictly typed, with clear BAD_REQUEST errors for malformed input.

import { GcK8sError, messageOf } from '../errors.js';

export interface CopyFile {
  readonly src: string;
  readonly relDst: string;
}

export interface StartRequest {
  readonly workDir: string;
  readonly command: string;
  readonly env: Readonly<Record<string, string>>;
  readonly readyPromptPrefix: string;
  readonly readyDelayMs: number;
  readonly processNames: readonly string[];
  readonly nudge: string;
  readonly preStart: readonly string[];
  readonly sessionSetup: readonly string[];
  readonly sessionSetupScript: string;
  readonly sessionLive: readonly string[];
  readonly packOverlayDirs: readonly string[];
  readonly overlayDir: string;
  readonly copyFiles: readonly CopyFile[];
  /** gc 1.x: "one_shot" is a task that runs to completion (no liveness settle); else persistent */
  readonly lifecycle: 'persistent' | 'one_shot';
}

function bad(message: string): GcK8sError {
  return new GcK8sError('BAD_REQUEST', `start: ${message}`);
}

function str(obj: Record<string, unknown>, key: string): string {
  const v = obj[key];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw bad(`field "${key}" must be a string`);
  return v;
}

function strList(obj: Record<string, unknown>, key: string): string[] {
  const v = obj[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw bad(`field "${key}" must be an array of strings`);
  return v as string[];
}

/** Parses the raw stdin of `start`. Empty input means all defaults. */
export function parseStartRequest(raw: string): StartRequest {
  let value: unknown = {};
  if (raw.trim() !== '') {
    try {
      value = JSON.parse(raw);
    } catch (err) {
      throw new GcK8sError('BAD_REQUEST', `start: invalid JSON on stdin: ${messageOf(err)}`, { cause: err });
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('stdin must be a JSON object');
  const obj = value as Record<string, unknown>;

  const envRaw: unknown = obj['env'] ?? {};
  if (typeof envRaw !== 'object' || envRaw === null || Array.isArray(envRaw)) throw bad('field "env" must be an object');
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(envRaw)) {
    // gc sends strings; be lenient with scalars as upstream's script stringifies them.
    if (typeof v === 'string') env[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') env[k] = String(v);
    else if (v !== null) throw bad(`env "${k}" must be a string`);
  }

  const delay = obj['ready_delay_ms'] ?? 0;
  if (typeof delay !== 'number' || !Number.isFinite(delay) || delay < 0) throw bad('field "ready_delay_ms" must be a non-negative number');

  const copyRaw = obj['copy_files'] ?? [];
  if (!Array.isArray(copyRaw)) throw bad('field "copy_files" must be an array');
  const copyFiles = copyRaw.map((entry: unknown, i): CopyFile => {
    if (typeof entry !== 'object' || entry === null) throw bad(`copy_files[${i}] must be an object`);
    const e = entry as Record<string, unknown>;
    const src = str(e, 'src');
    if (src === '') throw bad(`copy_files[${i}].src is empty`);
    return { src, relDst: str(e, 'rel_dst') };
  });

  const lifecycle = str(obj, 'lifecycle');
  if (lifecycle !== '' && lifecycle !== 'persistent' && lifecycle !== 'one_shot') {
    throw bad(`field "lifecycle" must be "one_shot" or "persistent", got ${JSON.stringify(lifecycle.slice(0, 40))}`);
  }

  return {
    workDir: str(obj, 'work_dir'),
    command: str(obj, 'command'),
    env,
    readyPromptPrefix: str(obj, 'ready_prompt_prefix'),
    readyDelayMs: delay,
    processNames: strList(obj, 'process_names'),
    nudge: str(obj, 'nudge'),
    preStart: strList(obj, 'pre_start'),
    sessionSetup: strList(obj, 'session_setup'),
    sessionSetupScript: str(obj, 'session_setup_script'),
    sessionLive: strList(obj, 'session_live'),
    packOverlayDirs: strList(obj, 'pack_overlay_dirs'),
    overlayDir: str(obj, 'overlay_dir'),
    copyFiles,
    lifecycle: lifecycle === 'one_shot' ? 'one_shot' : 'persistent',
  };
}
