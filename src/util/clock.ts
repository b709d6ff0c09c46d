import type { Clock } from '../kube/ports.js';
import { sleep } from './abort.js';

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleep(ms, signal),
};
