import type { Clock, TimerHandle } from '../core/clock.js';
import { idlePollHealth, type DevicePollHealth, type DeviceSpec } from '../core/device.js';
import type { Driver, ReadPlan } from '../core/driver.js';
import type { Logger } from '../core/logger.js';
import type { PollCycle, RawSample } from '../core/reading.js';
import { backoffDelayMs } from './backoff.js';

export type { PollCycle };

export type PollLoopHealth = DevicePollHealth;

export interface PollLoopOptions {
  device: DeviceSpec;
  driver: Driver;
  clock: Clock;
  logger: Logger;
  onCycle: (cycle: PollCycle) => void;
  random?: () => number;
  /**
   * Offset of this device's grid within the interval (0 ≤ phaseMs < pollIntervalMs). The runtime
   * spreads devices over the interval so their cycles do not all land on the event loop in the
   * same instant (measured: poll → broker p99 at 10k tags 262 → 34 ms, docs/benchmarks.md).
   */
  phaseMs?: number;
}

/**
 * One device's poll loop. Cycles never overlap: the next cycle is scheduled on the fixed-rate
 * grid (start + k·interval) after the current one finished; slots missed by a long cycle are
 * skipped and counted as overruns. While the device is unreachable the loop keeps its rhythm,
 * reports every tag bad (comm-lost) and retries the connection with exponential backoff and
 * jitter — it never stalls other devices, each of which has its own loop.
 */
export class PollLoop {
  private readonly device: DeviceSpec;
  private readonly driver: Driver;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly onCycle: (cycle: PollCycle) => void;
  private readonly random: () => number;
  private readonly phaseMs: number;
  private plan: ReadPlan;
  private timer: TimerHandle | null = null;
  private running = false;
  private inFlight: Promise<void> | null = null;
  private gridStartMs = 0;
  private slot = 0;
  private nextConnectMonoMs = 0;
  private everConnected = false;
  /** Set when this cycle started (or became) connected, so a drop during the read is noticed once. */
  private connectedThisCycle = false;
  /** The driver announced new values while a cycle was running: run another one right after it. */
  private pushPending = false;
  /** Connection losses soon after reconnecting, in a row (see noteConnectionLost). */
  private lossesInRow = 0;
  private connectedSinceMono = 0;
  private readonly health: PollLoopHealth = idlePollHealth();

  constructor(options: PollLoopOptions) {
    this.device = options.device;
    this.driver = options.driver;
    this.clock = options.clock;
    this.logger = options.logger;
    this.onCycle = options.onCycle;
    this.random = options.random ?? Math.random;
    this.phaseMs = Math.max(0, Math.min(options.phaseMs ?? 0, this.device.pollIntervalMs - 1));
    this.plan = this.driver.plan(this.device.tags);
    this.driver.onData?.(() => this.onDriverData());
  }

  get readPlan(): ReadPlan {
    return this.plan;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.gridStartMs = this.clock.monotonicMs() + this.phaseMs;
    this.slot = 0;
    this.schedule(this.phaseMs);
  }

  /** Stops polling; resolves once a cycle in flight has finished and the connection is closed. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    await this.inFlight;
    await this.driver.close();
    this.health.connected = false;
  }

  snapshot(): PollLoopHealth {
    return { ...this.health };
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      this.launch(true);
    }, delayMs);
  }

  /**
   * Runs a cycle: `grid` ones on the fixed-rate grid, the others because the driver announced new
   * values (onData). A data cycle does not move the grid; when the grid slot falls due meanwhile,
   * the grid cycle runs next.
   */
  private launch(grid: boolean): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.inFlight = this.cycle(grid).finally(() => {
      this.inFlight = null;
      if (this.pushPending && this.running) {
        this.pushPending = false;
        this.launch(this.clock.monotonicMs() >= this.slotDueMono());
      }
    });
  }

  private onDriverData(): void {
    if (!this.running) return;
    if (this.inFlight) {
      this.pushPending = true;
      return;
    }
    this.launch(false);
  }

  private slotDueMono(): number {
    return this.gridStartMs + this.slot * this.device.pollIntervalMs;
  }

  private async cycle(grid = true): Promise<void> {
    const startMono = this.clock.monotonicMs();
    const cycleMs = this.clock.now();
    let samples: RawSample[];
    try {
      samples = await this.pollOnce(cycleMs, grid);
    } catch (err) {
      // read() throws only for programming errors; keep the loop alive and make it visible.
      this.logger.error({ err, device: this.device.id }, 'poll cycle failed unexpectedly');
      this.health.lastError = `internal error: ${(err as Error).message}`;
      samples = this.allBad(cycleMs, 'comm-lost', `internal error: ${(err as Error).message}`);
    }
    const connected = this.driver.connected;
    const wasConnectedAfterOpen = this.connectedThisCycle;
    this.connectedThisCycle = false;
    this.health.connected = connected;
    this.health.cycles++;
    this.health.lastCycleMs = cycleMs;
    this.health.lastCycleDurationMs = this.clock.monotonicMs() - startMono;
    if (connected && samples.some((s) => s.quality !== 'bad')) this.health.lastGoodCycleMs = cycleMs;
    if (!connected && wasConnectedAfterOpen) this.noteConnectionLost();
    try {
      this.onCycle({ deviceId: this.device.id, cycleMs, samples, connected });
    } catch (err) {
      this.logger.error({ err, device: this.device.id }, 'pipeline rejected a poll cycle');
    }
    if (grid) this.scheduleNextSlot();
    else this.schedule(Math.max(0, this.slotDueMono() - this.clock.monotonicMs()));
  }

  private scheduleNextSlot(): void {
    const interval = this.device.pollIntervalMs;
    const now = this.clock.monotonicMs();
    this.slot++;
    let due = this.gridStartMs + this.slot * interval;
    if (due < now) {
      const missed = Math.ceil((now - due) / interval);
      this.health.overruns++;
      this.slot += missed;
      due = this.gridStartMs + this.slot * interval;
    }
    this.schedule(due - now);
  }

  private async pollOnce(cycleMs: number, grid: boolean): Promise<RawSample[]> {
    if (!this.driver.connected && this.health.connected) {
      // Lost between cycles (a driver that watches its link, e.g. an OPC UA subscription, noticed
      // it and announced it): report the gap first and back off, never reopen in the same breath.
      this.health.lastError = this.driver.stats().lastError ?? this.health.lastError;
      this.noteConnectionLost();
      return this.allBad(cycleMs, 'comm-lost', this.health.lastError ?? undefined);
    }
    if (!this.driver.connected) {
      const nowMono = this.clock.monotonicMs();
      if (nowMono < this.nextConnectMonoMs) {
        return this.allBad(cycleMs, this.everConnected ? 'comm-lost' : 'not-connected', this.health.lastError ?? undefined);
      }
      try {
        await this.driver.open();
        if (this.health.connectFailures > 0 || this.everConnected) this.logger.info({ device: this.device.id }, 'device reconnected');
        this.everConnected = true;
        this.connectedSinceMono = this.clock.monotonicMs();
        this.health.connectFailures = 0;
        this.health.backoffMs = 0;
        this.health.nextConnectMs = null;
      } catch (err) {
        this.health.connectFailures++;
        const delay = backoffDelayMs(this.health.connectFailures, this.device.backoffInitialMs, this.device.backoffMaxMs, this.random);
        this.health.backoffMs = delay;
        this.nextConnectMonoMs = this.clock.monotonicMs() + delay;
        this.health.nextConnectMs = this.clock.now() + delay;
        this.health.lastError = (err as Error).message;
        const log = this.health.connectFailures === 1 ? this.logger.warn : this.logger.debug;
        log.call(this.logger, { device: this.device.id, attempt: this.health.connectFailures, retryInMs: delay, err: (err as Error).message }, 'device unreachable');
        return this.allBad(cycleMs, this.everConnected ? 'comm-lost' : 'not-connected', (err as Error).message);
      }
    }
    this.connectedThisCycle = true;
    // A cycle run for announced data takes just what changed; the grid cycles read everything.
    const samples = await this.driver.read(this.plan, grid ? undefined : { changedOnly: true });
    const stats = this.driver.stats();
    if (stats.lastError) this.health.lastError = stats.lastError;
    return samples;
  }

  /**
   * The connection dropped: retry after a backoff step, not at once. A link that drops soon after
   * every reconnect (a server that accepts a session and then closes it, a flapping network) backs
   * off further each time; one that stayed up for the longest backoff starts again at the first step.
   */
  private noteConnectionLost(): void {
    this.health.connectFailures = 0;
    if (this.clock.monotonicMs() - this.connectedSinceMono >= this.device.backoffMaxMs) this.lossesInRow = 0;
    this.lossesInRow++;
    const delay = backoffDelayMs(this.lossesInRow, this.device.backoffInitialMs, this.device.backoffMaxMs, this.random);
    this.nextConnectMonoMs = this.clock.monotonicMs() + delay;
    this.health.backoffMs = delay;
    this.health.nextConnectMs = this.clock.now() + delay;
    this.logger.warn({ device: this.device.id, retryInMs: delay, err: this.health.lastError }, 'device connection lost');
  }

  private allBad(cycleMs: number, reason: 'comm-lost' | 'not-connected', detail?: string): RawSample[] {
    return this.device.tags.map((_, tagIndex) => ({
      tagIndex,
      quality: 'bad' as const,
      reason,
      ...(detail !== undefined ? { detail } : {}),
      timestampMs: cycleMs,
    }));
  }
}
