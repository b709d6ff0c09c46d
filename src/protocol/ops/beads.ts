// Gas City's exec beads protocol (gc-beads-k8s): the store ops and the lifecycle ops gc runs.

import { MiB, type OpTable } from './spec.js';

export const BEADS_OPS = {
  create: { stdin: 4 * MiB, usage: '(create JSON on stdin)', summary: 'create a bead; prints it' },
  get: { args: ['bead id'], retrySafe: true, usage: '<id>', summary: 'one bead' },
  update: {
    args: ['bead id'],
    stdin: 4 * MiB,
    usage: '<id>  (update JSON on stdin)',
    summary: 'change fields; labels are added, metadata merged',
  },
  close: { args: ['bead id'], usage: '<id>', summary: 'close (idempotent; forced, as Gas City 1.x needs)' },
  reopen: { args: ['bead id'], usage: '<id>', summary: 'open a closed bead again (idempotent)' },
  delete: { args: ['bead id'], usage: '--force <id>', summary: 'delete a bead' },
  list: { retrySafe: true, usage: '[--status=S] [--assignee=A] [--type=T] [--limit=N]', summary: 'beads, in creation order' },
  ready: { retrySafe: true, usage: '[--include-ephemeral]', summary: 'beads ready to work on (with wisps when asked)' },
  'ready-count': {
    retrySafe: true,
    usage: '[--type T] [--label L] [--assignee A] [--min N] [--max M]',
    summary:
      "how many of ready's beads match the filters, clamped to [min, max]: one integer, for a pool's scale_check (gc never sends it)",
  },
  children: { args: ['parent id'], retrySafe: true, usage: '<parent id>', summary: 'children of a bead' },
  'list-by-label': { args: ['label'], retrySafe: true, usage: '<label> <limit>', summary: 'beads with a label' },
  'list-by-status': { args: ['status'], retrySafe: true, usage: '<status> <limit>', summary: 'beads with a status' },
  'set-metadata': {
    args: ['bead id', 'metadata key'],
    stdin: 1 * MiB,
    usage: '<id> <key>  (value on stdin)',
    summary: 'one metadata value',
  },
  'dep-add': { args: ['issue id', 'depends-on id'], usage: '<issue> <depends-on> [<type>]', summary: 'add a dependency' },
  'dep-remove': { args: ['issue id', 'depends-on id'], usage: '<issue> <depends-on>', summary: 'remove a dependency' },
  'dep-list': { args: ['bead id'], retrySafe: true, usage: '<id> down|up', summary: 'dependencies of a bead, either way' },
  'config-set': { args: ['config key'], usage: '<key> [<value>]', summary: 'a bd config value of the store' },
  start: { usage: '', summary: 'make sure the runner pod runs' },
  'ensure-ready': { usage: '', summary: 'legacy name of start' },
  init: { args: ['store directory', 'prefix'], usage: '<dir> <prefix> [<database>]', summary: 'initialize a store (idempotent)' },
  health: { retrySafe: true, usage: '', summary: 'check the runner and Dolt' },
  recover: { usage: '', summary: 'recreate the runner and re-initialize every store' },
  probe: { retrySafe: true, usage: '', summary: 'exit 0 when the provider is available' },
  stop: { usage: '', summary: 'delete the runner pod (data stays in Dolt)' },
  shutdown: { usage: '', summary: 'legacy name of stop' },
} as const satisfies OpTable;
