/**
 * Exponential backoff with jitter: attempt n (1-based) waits a random time in
 * [half, full] of min(max, initial * 2^(n-1)). The jitter keeps many gateways (or many devices
 * behind one converter) from reconnecting in lock-step.
 */
export function backoffDelayMs(attempt: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  const full = Math.min(maxMs, initialMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  return Math.round(full / 2 + (full / 2) * random());
}
