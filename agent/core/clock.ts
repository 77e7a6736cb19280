export type TimerHandle = { readonly __timer: unique symbol } | object;

/**
 * Time, injected everywhere so that tests never sleep.
 * `now()` is wall-clock (for timestamps); `monotonicMs()` never goes backwards (for intervals,
 * timeouts and rates). Timers fire no earlier than asked.
 */
export interface Clock {
  now(): number;
  monotonicMs(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}
