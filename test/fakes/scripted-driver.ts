import { zeroErrorCounts, type Driver, type DriverStats, type ReadOptions, type ReadPlan } from '../../agent/core/driver.js';
import type { RawSample } from '../../agent/core/reading.js';
import type { Tag } from '../../agent/core/tag.js';

/**
 * A driver whose behaviour a scheduler test scripts: connection refusals, lost links, slow reads.
 * Used only where the scheduler's timing is under test with a fake clock (a real socket cannot
 * be driven by a fake clock); the real Modbus driver is tested against real servers.
 */
export class ScriptedDriver implements Driver {
  connected = false;
  refuseConnect = false;
  dropOnNextRead = false;
  opens = 0;
  reads = 0;
  closes = 0;
  /** Resolve a read only when the test says so. */
  holdReads = false;
  private held: Array<() => void> = [];
  private readonly statsValue: DriverStats = { connected: false, requests: 0, errors: zeroErrorCounts(), lastLatencyMs: null, lastError: null };

  constructor(private readonly now: () => number) {}

  async open(): Promise<void> {
    this.opens++;
    if (this.refuseConnect) throw new Error('connect ECONNREFUSED 127.0.0.1:15020');
    this.connected = true;
  }

  plan(tags: readonly Tag[]): ReadPlan {
    return { requestCount: 1, tagCount: tags.length };
  }

  /** The options of every read, in order. */
  readOptions: (ReadOptions | undefined)[] = [];

  async read(plan: ReadPlan, options?: ReadOptions): Promise<RawSample[]> {
    this.reads++;
    this.readOptions.push(options);
    if (this.holdReads) await new Promise<void>((resolve) => this.held.push(resolve));
    if (this.dropOnNextRead) {
      this.dropOnNextRead = false;
      this.connected = false;
      return Array.from({ length: plan.tagCount }, (_, tagIndex) => ({ tagIndex, quality: 'bad' as const, reason: 'comm-lost' as const, timestampMs: this.now() }));
    }
    return Array.from({ length: plan.tagCount }, (_, tagIndex) => ({ tagIndex, value: this.reads, quality: 'good' as const, timestampMs: this.now() }));
  }

  private dataListener: (() => void) | null = null;

  onData(listener: () => void): void {
    this.dataListener = listener;
  }

  /** Behave like a subscription that just delivered values. */
  announceData(): void {
    this.dataListener?.();
  }

  releaseReads(): void {
    const held = this.held;
    this.held = [];
    for (const r of held) r();
  }

  async close(): Promise<void> {
    this.closes++;
    this.connected = false;
  }

  stats(): DriverStats {
    return { ...this.statsValue, connected: this.connected };
  }
}
