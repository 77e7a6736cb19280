import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Outbox, StoredRecord } from '../core/outbox.js';
import type { OutgoingMessage, Publisher, PublisherState } from '../core/publisher.js';
import { encodeDataMessage } from './json-encoder.js';
import type { Topics } from './topics.js';

export interface ForwarderOptions {
  outbox: Outbox;
  publisher: Publisher;
  topics: Topics;
  clock: Clock;
  logger: Logger;
  /** Records published per batch (use the publisher's inflight limit). */
  batchSize: number;
  /** Backlog (historical) messages per second after a (re)connection. */
  drainRatePerSec: number;
  /** Pause before retrying after a publish failed while the link still reports connected. Default 1 000. */
  retryDelayMs?: number;
  /** How long `stop()` waits for the batch in flight. Default 5 000. */
  stopTimeoutMs?: number;
}

export type ForwarderLane = 'idle' | 'live' | 'backlog' | 'disconnected' | 'stopped';

export interface ForwarderStats {
  /** Messages handed to the publisher (including resends). */
  published: number;
  /** Records the broker acknowledged and the outbox deleted. */
  acked: number;
  /** Publish (or ack) attempts that failed. */
  failures: number;
  /** Records that could not be encoded (malformed body): logged, counted and removed so they cannot block the queue. */
  undeliverable: number;
  /** Messages of the batch currently awaiting PUBACK. */
  inFlight: number;
  /** Backlog records still to drain in the current connection (an upper bound). */
  backlogRemaining: number;
  lane: ForwarderLane;
}

/** What one connection's lanes know; replaced on every (re)connection. */
interface Session {
  /** Records with firstSeq below this were waiting when the connection came up: the backlog. */
  boundarySeq: number;
  /** Id of the first live record, once known (from `wake` or found by the backlog scan). */
  liveStartId: number | null;
  backlogDone: boolean;
  backlogRemaining: number;
  /** Monotonic time before which no further backlog batch is sent (drain pacing). */
  nextBacklogAtMs: number;
}

type Step = { lane: 'live' | 'backlog'; batch: StoredRecord[] } | { lane: 'idle'; untilMs: number | null };

/**
 * Moves records from the outbox to the publisher, at least once.
 *
 * - One batch in flight; the outbox is acked only after `publish` resolved, so a failure leaves
 *   the records waiting and the next attempt starts again from the oldest unacknowledged.
 * - Two lanes per connection: the backlog (waiting when the connection came up; published with
 *   `historical: true`, at most `drainRatePerSec` messages/s) and live (appended since; published
 *   at once). A due backlog batch goes first, otherwise live goes, so neither starves. Within a
 *   lane records go in outbox order, hence ascending per stream.
 * - No timers while idle: the ingest side calls `wake(appended)` after each append; the only
 *   timers are the drain pacing and the retry pause, both on the injected clock.
 */
export class Forwarder {
  private readonly options: Required<ForwarderOptions>;
  private readonly logger: Logger;
  private readonly backlogBatch: number;
  private session: Session | null = null;
  private running = false;
  private started = false;
  private loop: Promise<void> | null = null;
  private pendingWake = false;
  private waiter: { resolve: () => void; timer: TimerHandle | null } | null = null;
  private counters = { published: 0, acked: 0, failures: 0, undeliverable: 0, inFlight: 0 };
  private lane: ForwarderLane = 'disconnected';

  constructor(options: ForwarderOptions) {
    if (!(options.batchSize >= 1)) throw new Error(`forwarder: batchSize must be ≥ 1, got ${options.batchSize}`);
    if (!(options.drainRatePerSec > 0)) throw new Error(`forwarder: drainRatePerSec must be > 0, got ${options.drainRatePerSec}`);
    this.options = { retryDelayMs: 1_000, stopTimeoutMs: 5_000, ...options };
    this.logger = options.logger.child({ component: 'forwarder' });
    // Pace the backlog in slices of about a tenth of a second.
    this.backlogBatch = Math.max(1, Math.min(options.batchSize, Math.floor(options.drainRatePerSec / 10)));
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.running = true;
    this.options.publisher.onStateChange((state) => this.onPublisherState(state));
    this.onPublisherState(this.options.publisher.state());
    this.loop = this.run().catch((error: unknown) => {
      this.logger.error({ err: messageOf(error) }, 'forwarder stopped on an unexpected error');
      this.lane = 'stopped';
    });
  }

  /**
   * Tells the forwarder that records were appended. Pass what `append` returned: the first live
   * record's id lets the live lane start without scanning the backlog.
   */
  wake(appended: readonly Pick<StoredRecord, 'id' | 'firstSeq'>[] = []): void {
    const session = this.session;
    if (session && session.liveStartId === null) {
      const firstLive = appended.find((r) => r.firstSeq >= session.boundarySeq);
      if (firstLive) session.liveStartId = firstLive.id;
    }
    this.signal();
  }

  /** Stops after the batch in flight settles (at most `stopTimeoutMs`); records not acked stay in the outbox. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.signal();
    const loop = this.loop;
    if (loop) {
      let timer: TimerHandle | null = null;
      await Promise.race([
        loop,
        new Promise<void>((resolve) => {
          timer = this.options.clock.setTimeout(() => {
            this.logger.warn({ inFlight: this.counters.inFlight }, 'stop: the batch in flight did not settle in time; it will be resent after restart');
            resolve();
          }, this.options.stopTimeoutMs);
        }),
      ]);
      if (timer) this.options.clock.clearTimeout(timer);
    }
    this.lane = 'stopped';
  }

  stats(): ForwarderStats {
    const session = this.session;
    const waiting = this.safeWaitingRecords();
    return {
      ...this.counters,
      backlogRemaining: session && !session.backlogDone ? Math.min(session.backlogRemaining, waiting) : 0,
      lane: this.lane,
    };
  }

  private onPublisherState(state: PublisherState): void {
    if (!this.running) return;
    if (state.state === 'connected') {
      if (this.session) return;
      const stats = this.options.outbox.stats();
      this.session = {
        boundarySeq: stats.nextSeq,
        liveStartId: null,
        backlogDone: stats.records === 0,
        backlogRemaining: stats.records,
        nextBacklogAtMs: this.options.clock.monotonicMs(),
      };
      if (stats.records > 0) this.logger.info({ backlogRecords: stats.records, drainRatePerSec: this.options.drainRatePerSec }, 'connected: draining the backlog');
    } else {
      this.session = null;
    }
    this.signal();
  }

  private async run(): Promise<void> {
    while (this.running) {
      const session = this.session;
      if (!session) {
        this.lane = 'disconnected';
        await this.waitForSignal(null);
        continue;
      }
      const step = this.nextStep(session);
      if (step.lane === 'idle') {
        this.lane = 'idle';
        await this.waitForSignal(step.untilMs);
        continue;
      }
      this.lane = step.lane;
      await this.send(session, step.lane, step.batch);
    }
  }

  private nextStep(session: Session): Step {
    const { outbox, batchSize } = this.options;
    const now = this.options.clock.monotonicMs();
    if (!session.backlogDone && now >= session.nextBacklogAtMs) {
      const batch = this.takeBacklog(session);
      if (batch.length > 0) {
        session.nextBacklogAtMs = Math.max(now, session.nextBacklogAtMs) + (batch.length * 1000) / this.options.drainRatePerSec;
        return { lane: 'backlog', batch };
      }
    }
    if (session.liveStartId !== null) {
      const batch = outbox.next(batchSize, { afterId: session.liveStartId - 1 });
      if (batch.length > 0) return { lane: 'live', batch };
    } else if (session.backlogDone) {
      // No `wake(appended)` told us where live starts: anything waiting now is live.
      const [first] = outbox.next(1);
      if (first) {
        session.liveStartId = first.id;
        return this.nextStep(session);
      }
    }
    return { lane: 'idle', untilMs: session.backlogDone ? null : session.nextBacklogAtMs };
  }

  /** The oldest backlog records (firstSeq < boundary), at most one pacing slice. */
  private takeBacklog(session: Session): StoredRecord[] {
    const batch = this.options.outbox.next(this.backlogBatch, session.liveStartId === null ? {} : { beforeId: session.liveStartId });
    const liveIndex = batch.findIndex((r) => r.firstSeq >= session.boundarySeq);
    if (liveIndex >= 0) {
      session.liveStartId ??= batch[liveIndex].id;
      batch.length = liveIndex;
    }
    if (batch.length === 0) {
      session.backlogDone = true;
      session.backlogRemaining = 0;
      this.logger.info({}, 'backlog drained');
    }
    return batch;
  }

  private async send(session: Session, lane: 'live' | 'backlog', batch: StoredRecord[]): Promise<void> {
    const { publisher, topics } = this.options;
    const messages: OutgoingMessage[] = [];
    const sendable: StoredRecord[] = [];
    const undeliverable: StoredRecord[] = [];
    for (const record of batch) {
      try {
        messages.push(encodeDataMessage(record, topics, lane === 'backlog'));
        sendable.push(record);
      } catch (error) {
        this.logger.error({ err: messageOf(error), id: record.id, firstSeq: record.firstSeq, lastSeq: record.lastSeq }, 'record cannot be encoded; removing it from the outbox (consumers will see a gap)');
        undeliverable.push(record);
      }
    }
    if (undeliverable.length > 0) {
      if (!this.tryAck(undeliverable)) return this.pauseAfterFailure(session);
      this.counters.undeliverable += undeliverable.length;
    }
    if (messages.length === 0) return;

    this.counters.published += messages.length;
    this.counters.inFlight = messages.length;
    try {
      await publisher.publish(messages);
    } catch (error) {
      this.counters.inFlight = 0;
      this.counters.failures += 1;
      this.logger.warn({ err: messageOf(error), lane, records: messages.length, firstSeq: sendable[0].firstSeq }, 'publish failed; will resend from the oldest unacknowledged');
      return this.pauseAfterFailure(session);
    }
    this.counters.inFlight = 0;
    if (!this.tryAck(sendable)) return this.pauseAfterFailure(session);
    this.counters.acked += sendable.length;
    if (lane === 'backlog') session.backlogRemaining = Math.max(0, session.backlogRemaining - batch.length);
  }

  private tryAck(records: StoredRecord[]): boolean {
    try {
      this.options.outbox.ack(records);
      return true;
    } catch (error) {
      this.counters.failures += 1;
      this.logger.error({ err: messageOf(error), records: records.length }, 'outbox ack failed; the records will be published again');
      return false;
    }
  }

  /** After a failure: if the connection is still the same, pause before retrying; a reconnection restarts at once. */
  private async pauseAfterFailure(session: Session): Promise<void> {
    if (this.session !== session || !this.running) return;
    await this.waitForSignal(this.options.clock.monotonicMs() + this.options.retryDelayMs, true);
  }

  private signal(): void {
    const waiter = this.waiter;
    if (!waiter) {
      this.pendingWake = true;
      return;
    }
    this.waiter = null;
    waiter.resolve();
  }

  /**
   * Waits for `signal()` or until the monotonic time `untilMs`. With `onlyConnectionChanges`,
   * `wake` calls do not end the wait (a retry pause is not cut short by new data).
   */
  private waitForSignal(untilMs: number | null, onlyConnectionChanges = false): Promise<void> {
    if (!onlyConnectionChanges && this.pendingWake) {
      this.pendingWake = false;
      return Promise.resolve();
    }
    this.pendingWake = false;
    const { clock } = this.options;
    return new Promise<void>((resolve) => {
      const session = this.session;
      const finish = () => {
        if (this.waiter === waiter) this.waiter = null;
        if (waiter.timer) clock.clearTimeout(waiter.timer);
        resolve();
      };
      const waiter: { resolve: () => void; timer: TimerHandle | null } = {
        resolve: onlyConnectionChanges
          ? () => {
              // Keep waiting through plain wakes; end on stop or a new connection.
              if (!this.running || this.session !== session) finish();
              else this.waiter = waiter;
            }
          : finish,
        timer: null,
      };
      if (untilMs !== null) waiter.timer = clock.setTimeout(finish, Math.max(0, untilMs - clock.monotonicMs()));
      this.waiter = waiter;
    });
  }

  private safeWaitingRecords(): number {
    try {
      return this.options.outbox.stats().records;
    } catch {
      return 0;
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
