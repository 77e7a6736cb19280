import type { Clock, TimerHandle } from '../core/clock.js';

/** A repeating task on the injected clock (setTimeout chain, so a slow run never piles up). A task that throws is reported and the ticker goes on. */
export class Ticker {
  private timer: TimerHandle | null = null;
  private running = false;

  constructor(
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly task: () => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.arm();
  }

  stop(): void {
    this.running = false;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(): void {
    this.timer = this.clock.setTimeout(() => {
      if (!this.running) return;
      try {
        this.task();
      } catch (err) {
        this.onError(err);
      } finally {
        if (this.running) this.arm();
      }
    }, this.intervalMs);
  }
}
