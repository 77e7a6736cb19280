import type { Clock, TimerHandle } from '../../agent/core/clock.js';

interface PendingTimer {
  id: number;
  dueMs: number;
  fn: () => void;
}

/**
 * A manual clock: time moves only when a test calls `advance`. Timers due within the advanced
 * span fire in due order, each seeing `now()` equal to its due time.
 */
export class FakeClock implements Clock {
  private monotonic = 0;
  private timers: PendingTimer[] = [];
  private nextId = 1;

  constructor(private wallStartMs = Date.UTC(2026, 10, 28, 0, 0, 0)) {}

  now(): number {
    return this.wallStartMs + this.monotonic;
  }

  monotonicMs(): number {
    return this.monotonic;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = { id: this.nextId++, dueMs: this.monotonic + Math.max(0, ms), fn };
    this.timers.push(timer);
    return { id: timer.id } as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle): void {
    const id = (handle as unknown as { id: number }).id;
    this.timers = this.timers.filter((t) => t.id !== id);
  }

  pendingTimers(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, firing due timers in order; awaits microtasks between timers so promise chains settle. */
  async advance(ms: number): Promise<void> {
    const target = this.monotonic + ms;
    for (;;) {
      this.timers.sort((a, b) => a.dueMs - b.dueMs || a.id - b.id);
      const next = this.timers[0];
      if (!next || next.dueMs > target) break;
      this.timers.shift();
      this.monotonic = next.dueMs;
      next.fn();
      await flushMicrotasks();
    }
    this.monotonic = target;
    await flushMicrotasks();
  }
}

export async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
  await new Promise<void>((resolve) => setImmediate(resolve));
}
