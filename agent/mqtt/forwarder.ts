import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Outbox, OutboxRange, StoredRecord } from '../core/outbox.js';
import type { OutgoingMessage, Publisher, PublisherState } from '../core/publisher.js';
import { encodeRecordMessage } from './json-encoder.js';
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
  /** Pause before retrying after a step failed (publish, or reading or acknowledging the outbox) while the link still reports connected. Default 1 000. */
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
  /** Forwarding steps that failed and were retried: publish, outbox read (next, stats) or ack. */
  failures: number;
  /** Records that could not be encoded (malformed body): logged, counted and removed so they cannot block the queue. */
  undeliverable: number;
  /** Messages of the batch currently awaiting PUBACK. */
  inFlight: number;
  /** Backlog records still to drain in the current connection (an upper bound). */
  backlogRemaining: number;
  lane: ForwarderLane;
  /** The latest failure as `step: message`; null before any, and again once a batch was delivered after it. */
  lastError: string | null;
}

/** The steps a failure is attributed to, in logs and `lastError`. */
type ForwardingStep = 'outbox stats' | 'outbox next' | 'publish' | 'outbox ack' | 'forward';

/** A failed step with what the log needs to say about it. */
class StepFailure extends Error {
  constructor(
    readonly step: ForwardingStep,
    readonly context: Record<string, unknown>,
    cause: unknown,
  ) {
    super(`${step}: ${messageOf(cause)}`, { cause });
  }
}

/** Runs `fn`, attributing anything it throws to `step`. */
function during<T>(step: ForwardingStep, context: Record<string, unknown>, fn: () => T): T {
  try {
    return fn();
  } catch (cause) {
    throw new StepFailure(step, context, cause);
  }
}

/** What one connection's lanes know; replaced on every (re)connection. */
interface Session {
  /** The outbox's id, published with every record (sequence numbers are unique only within it). */
  outboxId: string;
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
 * - A failing step (reading the outbox, publishing, acknowledging) is logged with its context,
 *   counted in `failures`, kept as `lastError`, and retried after `retryDelayMs` (at once after a
 *   reconnection). Nothing but `stop()` ends the forwarder: a disk that fails for a minute must not
 *   leave the gateway buffering forever after it recovered.
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
  private lastError: string | null = null;
  /** Whether the publisher reports connected; the session may lag behind it when opening failed. */
  private connected = false;
  /** Changes on every connection and disconnection: a retry pause ends when it does. */
  private connection = 0;

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
    // `run` handles its own failures; this is only the last line of defence.
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
      lastError: this.lastError,
    };
  }

  private onPublisherState(state: PublisherState): void {
    if (!this.running) return;
    if (state.state === 'connected') {
      if (this.connected) return;
      this.connected = true;
      this.connection += 1;
      // Mark the lane boundary now, so records appended from here on are live. Should the outbox
      // fail to answer, the loop tries again at once, and reports and retries if it still fails.
      try {
        this.session = this.openSession();
      } catch {
        this.session = null;
      }
    } else {
      if (!this.connected) return;
      this.connected = false;
      this.connection += 1;
      this.session = null;
    }
    this.signal();
  }

  /** The lanes of a new connection: what is waiting now is the backlog. */
  private openSession(): Session {
    const stats = during('outbox stats', {}, () => this.options.outbox.stats());
    const session: Session = {
      outboxId: stats.outboxId,
      boundarySeq: stats.nextSeq,
      liveStartId: null,
      backlogDone: stats.records === 0,
      backlogRemaining: stats.records,
      nextBacklogAtMs: this.options.clock.monotonicMs(),
    };
    if (stats.records > 0) this.logger.info({ backlogRecords: stats.records, drainRatePerSec: this.options.drainRatePerSec }, 'connected: draining the backlog');
    return session;
  }

  private async run(): Promise<void> {
    while (this.running) {
      const connection = this.connection;
      try {
        await this.step();
      } catch (error) {
        this.recordFailure(error);
        await this.pauseAfterFailure(connection);
      }
    }
  }

  /** One turn of the loop: wait while disconnected or idle, otherwise send one batch. Throws a `StepFailure`. */
  private async step(): Promise<void> {
    if (!this.connected) {
      this.lane = 'disconnected';
      await this.waitForSignal(null);
      return;
    }
    const session = (this.session ??= this.openSession());
    const step = this.nextStep(session);
    if (step.lane === 'idle') {
      this.lane = 'idle';
      await this.waitForSignal(step.untilMs);
      return;
    }
    this.lane = step.lane;
    await this.send(session, step.lane, step.batch);
  }

  private recordFailure(error: unknown): void {
    const failure = error instanceof StepFailure ? error : new StepFailure('forward', {}, error);
    this.counters.failures += 1;
    this.counters.inFlight = 0;
    this.lastError = failure.message;
    const fields = { step: failure.step, err: messageOf(failure.cause), retryDelayMs: this.options.retryDelayMs, ...failure.context };
    try {
      if (failure.step === 'publish') this.logger.warn(fields, 'publish failed; will resend from the oldest unacknowledged');
      else if (failure.step === 'outbox ack') this.logger.error(fields, 'outbox ack failed; the records will be published again');
      else this.logger.error(fields, `${failure.step} failed; retrying`);
    } catch {
      // A failing logger must not stop the forwarder either.
    }
  }

  private nextStep(session: Session): Step {
    const { batchSize } = this.options;
    const next = (max: number, range: OutboxRange, lane: 'live' | 'backlog') => during('outbox next', { lane, ...range }, () => this.options.outbox.next(max, range));
    const now = this.options.clock.monotonicMs();
    if (!session.backlogDone && now >= session.nextBacklogAtMs) {
      const batch = this.takeBacklog(session);
      if (batch.length > 0) {
        session.nextBacklogAtMs = Math.max(now, session.nextBacklogAtMs) + (batch.length * 1000) / this.options.drainRatePerSec;
        return { lane: 'backlog', batch };
      }
    }
    if (session.liveStartId !== null) {
      const batch = next(batchSize, { afterId: session.liveStartId - 1 }, 'live');
      if (batch.length > 0) return { lane: 'live', batch };
    } else if (session.backlogDone) {
      // No `wake(appended)` told us where live starts: anything waiting now is live.
      const [first] = next(1, {}, 'live');
      if (first) {
        session.liveStartId = first.id;
        return this.nextStep(session);
      }
    }
    return { lane: 'idle', untilMs: session.backlogDone ? null : session.nextBacklogAtMs };
  }

  /** The oldest backlog records (firstSeq < boundary), at most one pacing slice. */
  private takeBacklog(session: Session): StoredRecord[] {
    const range: OutboxRange = session.liveStartId === null ? {} : { beforeId: session.liveStartId };
    const batch = during('outbox next', { lane: 'backlog', ...range }, () => this.options.outbox.next(this.backlogBatch, range));
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

  /** Publishes one batch and acks it; throws a `StepFailure` (the records stay waiting). */
  private async send(session: Session, lane: 'live' | 'backlog', batch: StoredRecord[]): Promise<void> {
    const { publisher, topics } = this.options;
    const messages: OutgoingMessage[] = [];
    const sendable: StoredRecord[] = [];
    const undeliverable: StoredRecord[] = [];
    for (const record of batch) {
      try {
        messages.push(encodeRecordMessage(record, topics, session.outboxId, lane === 'backlog'));
        sendable.push(record);
      } catch (error) {
        // Malformed records fail the same way on every attempt: retrying would block the queue for good.
        this.logger.error({ err: messageOf(error), id: record.id, firstSeq: record.firstSeq, lastSeq: record.lastSeq }, 'record cannot be encoded; removing it from the outbox (consumers will see a gap)');
        undeliverable.push(record);
      }
    }
    if (undeliverable.length > 0) {
      this.ack(undeliverable, lane);
      this.counters.undeliverable += undeliverable.length;
    }
    if (messages.length === 0) return;

    const context = { lane, records: messages.length, firstSeq: sendable[0].firstSeq, lastSeq: sendable[sendable.length - 1].lastSeq };
    this.counters.published += messages.length;
    this.counters.inFlight = messages.length;
    try {
      await publisher.publish(messages);
    } catch (error) {
      throw new StepFailure('publish', context, error);
    } finally {
      this.counters.inFlight = 0;
    }
    this.ack(sendable, lane);
    this.counters.acked += sendable.length;
    this.lastError = null;
    if (lane === 'backlog') session.backlogRemaining = Math.max(0, session.backlogRemaining - batch.length);
  }

  private ack(records: StoredRecord[], lane: 'live' | 'backlog'): void {
    const context = { lane, records: records.length, firstSeq: records[0].firstSeq, lastSeq: records[records.length - 1].lastSeq };
    during('outbox ack', context, () => this.options.outbox.ack(records));
  }

  /** After a failure: if the connection is still the same, pause before retrying; a (re)connection or disconnection ends the pause at once. */
  private async pauseAfterFailure(connection: number): Promise<void> {
    if (this.connection !== connection || !this.running) return;
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
      const connection = this.connection;
      const finish = () => {
        if (this.waiter === waiter) this.waiter = null;
        if (waiter.timer) clock.clearTimeout(waiter.timer);
        resolve();
      };
      const waiter: { resolve: () => void; timer: TimerHandle | null } = {
        resolve: onlyConnectionChanges
          ? () => {
              // Keep waiting through plain wakes; end on stop or a new connection.
              if (!this.running || this.connection !== connection) finish();
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
