import { performance } from 'node:perf_hooks';
import type { Clock, TimerHandle } from '../core/clock.js';

/** The real clock. Timers are unref'd only where the owner asks; the agent's lifetime is explicit. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonicMs: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, Math.max(0, ms)) as unknown as TimerHandle,
  clearTimeout: (handle) => clearTimeout(handle as unknown as NodeJS.Timeout),
};
