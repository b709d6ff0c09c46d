// Size limits, checked before a sequence number is reserved so a rejected event leaves no trace.
// gc reads watch lines with bufio.Scanner's default 64 KiB buffer: a line (with its newline) of
// 65536 bytes or more kills the watcher. ConfigMaps are capped at 1 MiB for the whole object;
// data.event is JSON-escaped once more inside the object, so that is checked too, with a margin
// for metadata, labels and managedFields.

import { GcK8sError } from '../errors.js';
import { encodeEventJson, type EventInput, eventFromInput } from './event-json.js';

export const MAX_WATCH_LINE_BYTES = 65536;
export const MAX_CONFIGMAP_BYTES = 1024 * 1024;
export const CONFIGMAP_METADATA_MARGIN_BYTES = 64 * 1024;

/** Throws TOO_LARGE unless the event, with any seq it could get, fits both limits. */
export function checkEventSize(input: EventInput, ts: string): void {
  // The largest seq we can ever assign gives the longest encoding.
  const json = encodeEventJson(eventFromInput(input, Number.MAX_SAFE_INTEGER, ts));
  const lineBytes = Buffer.byteLength(json, 'utf8') + 1;
  if (lineBytes >= MAX_WATCH_LINE_BYTES) {
    throw new GcK8sError(
      'TOO_LARGE',
      `record: event is ${lineBytes} bytes as a watch line; gc's watcher reads lines below ${MAX_WATCH_LINE_BYTES} bytes (64 KiB), shrink message or payload`,
      { details: { bytes: lineBytes, limit: MAX_WATCH_LINE_BYTES - 1 } },
    );
  }
  const storedBytes = Buffer.byteLength(JSON.stringify(json), 'utf8');
  if (storedBytes > MAX_CONFIGMAP_BYTES - CONFIGMAP_METADATA_MARGIN_BYTES) {
    throw new GcK8sError('TOO_LARGE', `record: event is ${storedBytes} bytes stored; a ConfigMap holds at most 1 MiB`, {
      details: { bytes: storedBytes, limit: MAX_CONFIGMAP_BYTES - CONFIGMAP_METADATA_MARGIN_BYTES },
    });
  }
}
