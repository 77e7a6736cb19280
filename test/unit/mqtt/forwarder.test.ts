import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteOutbox, type SqliteOutbox } from '../../../agent/buffer/sqlite-outbox.js';
import { silentLogger, type Logger } from '../../../agent/core/logger.js';
import type { Outbox, OutboxRange, OutboxRecord, OutboxStats, StoredRecord } from '../../../agent/core/outbox.js';
import type { OutgoingMessage, Publisher, PublisherState } from '../../../agent/core/publisher.js';
import { Forwarder } from '../../../agent/mqtt/forwarder.js';
import { dataRecord, type DataPayload } from '../../../agent/mqtt/json-encoder.js';
import { createTopics } from '../../../agent/mqtt/topics.js';
import { FakeClock, flushMicrotasks } from '../../fakes/fake-clock.js';

/** A publisher the test drives: each publish waits until the test acks or fails it. */
class ScriptedPublisher implements Publisher {
  current: PublisherState = { state: 'disconnected', sinceMs: 0, lastError: null, acked: 0 };
  listeners: ((s: PublisherState) => void)[] = [];
  calls: { messages: OutgoingMessage[]; resolve(): void; reject(e: Error): void }[] = [];
  autoAck = true;
  start(): void {}
  async stop(): Promise<void> {}
  state(): PublisherState {
    return this.current;
  }
  onStateChange(listener: (s: PublisherState) => void): void {
    this.listeners.push(listener);
  }
  set(state: PublisherState['state']): void {
    this.current = { ...this.current, state };
    for (const l of this.listeners) l(this.current);
  }
  publish(messages: readonly OutgoingMessage[]): Promise<void> {
    if (this.autoAck) {
      this.calls.push({ messages: [...messages], resolve() {}, reject() {} });
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.calls.push({ messages: [...messages], resolve, reject }));
  }
  sent(): DataPayload[] {
    return this.calls.flatMap((c) => c.messages.map((m) => JSON.parse(m.payload as string) as DataPayload));
  }
}

/**
 * The real outbox behind a fake for a failing disk: the next `failures[op]` calls of `op` throw
 * an I/O error as the SQLite outbox would report it.
 */
class FailingDiskOutbox implements Outbox {
  failures: Partial<Record<'next' | 'ack' | 'stats', number>> = {};
  constructor(private readonly inner: Outbox) {}
  append(records: readonly OutboxRecord[]): StoredRecord[] {
    return this.inner.append(records);
  }
  next(max: number, range?: OutboxRange): StoredRecord[] {
    this.maybeFail('next');
    return this.inner.next(max, range);
  }
  ack(batch: readonly Pick<StoredRecord, 'id'>[]): void {
    this.maybeFail('ack');
    this.inner.ack(batch);
  }
  stats(): OutboxStats {
    this.maybeFail('stats');
    return this.inner.stats();
  }
  close(): void {
    this.inner.close();
  }
  private maybeFail(op: 'next' | 'ack' | 'stats'): void {
    const left = this.failures[op] ?? 0;
    if (left === 0) return;
    this.failures[op] = left - 1;
    throw Object.assign(new Error(`outbox /data/o.db: ${op} failed: SQLITE_IOERR_READ: disk I/O error`), { code: 'SQLITE_IOERR_READ' });
  }
}

interface LogEntry {
  level: 'warn' | 'error';
  obj: Record<string, unknown>;
  msg?: string;
}

function recordingLogger(): Logger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const logger = {
    ...silentLogger,
    entries,
    warn(obj: object, msg?: string) {
      entries.push({ level: 'warn', obj: obj as Record<string, unknown>, msg });
    },
    error(obj: object, msg?: string) {
      entries.push({ level: 'error', obj: obj as Record<string, unknown>, msg });
    },
    child() {
      return logger;
    },
  };
  return logger;
}

const topics = createTopics('gw1');
const dirs: string[] = [];
const outboxes: SqliteOutbox[] = [];
afterEach(() => {
  for (const o of outboxes.splice(0)) o.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(drainRatePerSec = 10, batchSize = 4, logger: Logger = silentLogger) {
  const dir = mkdtempSync(join(tmpdir(), 'allbit-fwd-unit-'));
  dirs.push(dir);
  const outbox = openSqliteOutbox({ path: join(dir, 'o.db'), maxBytes: 1 << 24, logger: silentLogger });
  outboxes.push(outbox);
  const disk = new FailingDiskOutbox(outbox);
  const clock = new FakeClock();
  const publisher = new ScriptedPublisher();
  const forwarder = new Forwarder({ outbox: disk, publisher, topics, clock, logger, batchSize, drainRatePerSec, retryDelayMs: 1000 });
  let n = 0;
  const ingest = (device = 'd1', wakeWithIds = true) => {
    const stored = outbox.append([dataRecord({ device, cycleMs: clock.now(), readings: [{ tag: 't', value: n++, unit: '', quality: 'good', timestampMs: clock.now() }] }, clock.now())]);
    if (wakeWithIds) forwarder.wake(stored);
    else forwarder.wake();
    return stored[0];
  };
  return { outbox, disk, clock, publisher, forwarder, ingest };
}

describe('Forwarder lanes and pacing', () => {
  it('drains the backlog at drainRatePerSec while live records go out at once', async () => {
    const { outbox, clock, publisher, forwarder, ingest } = setup(10);
    const backlog = [ingest(), ingest('d2'), ingest(), ingest('d2'), ingest()];
    forwarder.start();
    await flushMicrotasks();
    expect(publisher.calls).toHaveLength(0); // disconnected: nothing sent, no timers
    expect(clock.pendingTimers()).toBe(0);

    publisher.set('connected');
    await flushMicrotasks();
    expect(publisher.sent().map((p) => [p.firstSeq, p.historical])).toEqual([[backlog[0].firstSeq, true]]);
    expect(forwarder.stats()).toMatchObject({ lane: 'idle', backlogRemaining: 4 });

    const live = [ingest(), ingest('d2')];
    await flushMicrotasks();
    expect(publisher.sent().slice(1).map((p) => [p.firstSeq, p.historical])).toEqual(live.map((r) => [r.firstSeq, false]));

    await clock.advance(99);
    expect(publisher.sent()).toHaveLength(3);
    await clock.advance(1);
    expect(publisher.sent()).toHaveLength(4);
    await clock.advance(300);
    const sent = publisher.sent();
    expect(sent.filter((p) => p.historical).map((p) => p.firstSeq)).toEqual(backlog.map((r) => r.firstSeq));
    expect(outbox.stats().records).toBe(0);
    expect(forwarder.stats()).toMatchObject({ acked: 7, backlogRemaining: 0, lane: 'idle' });
    await clock.advance(10_000);
    expect(clock.pendingTimers()).toBe(0); // idle means no timers
    await forwarder.stop();
  });

  it('works out where live starts even when wake() gets no records', async () => {
    const { clock, publisher, forwarder, ingest } = setup(10);
    const backlog = [ingest(), ingest()];
    forwarder.start();
    publisher.set('connected');
    await flushMicrotasks();
    await clock.advance(100);
    expect(publisher.sent().map((p) => p.historical)).toEqual([true, true]);
    const live = ingest('d1', false);
    // Without ids the forwarder finds the lane boundary on its next backlog slice at the latest.
    await clock.advance(100);
    expect(publisher.sent().map((p) => [p.firstSeq, p.historical])).toEqual([
      [backlog[0].firstSeq, true],
      [backlog[1].firstSeq, true],
      [live.firstSeq, false],
    ]);
    const next = ingest('d1', false);
    await flushMicrotasks();
    expect(publisher.sent().at(-1)).toMatchObject({ firstSeq: next.firstSeq, historical: false });
    await forwarder.stop();
  });

  it('acks only after publish resolved, and after a failure resends from the oldest on the next connection', async () => {
    const { outbox, clock, publisher, forwarder, ingest } = setup(1000, 4);
    publisher.autoAck = false;
    forwarder.start();
    publisher.set('connected');
    const records = [ingest(), ingest(), ingest()];
    await flushMicrotasks();
    expect(publisher.calls).toHaveLength(1);
    expect(forwarder.stats().inFlight).toBe(3);
    expect(outbox.stats().records).toBe(3);

    publisher.calls[0].reject(new Error('connection lost'));
    publisher.set('disconnected');
    await flushMicrotasks();
    expect(outbox.stats().records).toBe(3);
    expect(forwarder.stats()).toMatchObject({ failures: 1, acked: 0, lane: 'disconnected' });

    publisher.set('connected');
    await flushMicrotasks();
    // All three were waiting at reconnect: backlog, 100 per 0.1 s slice here, oldest first.
    expect(publisher.calls[1].messages.map((m) => JSON.parse(m.payload as string).firstSeq)).toEqual(records.map((r) => r.firstSeq));
    expect(publisher.calls[1].messages.every((m) => JSON.parse(m.payload as string).historical)).toBe(true);
    publisher.calls[1].resolve();
    await flushMicrotasks();
    expect(outbox.stats().records).toBe(0);
    expect(forwarder.stats().acked).toBe(3);
    await clock.advance(0);
    await forwarder.stop();
  });

  it('pauses and retries on the same connection after a timeout', async () => {
    const { outbox, clock, publisher, forwarder, ingest } = setup(1000, 4);
    publisher.autoAck = false;
    forwarder.start();
    publisher.set('connected');
    ingest();
    await flushMicrotasks();
    publisher.calls[0].reject(new Error('not acknowledged within 10000 ms'));
    await flushMicrotasks();
    ingest(); // new data does not cut the retry pause short
    await flushMicrotasks();
    expect(publisher.calls).toHaveLength(1);
    await clock.advance(1000);
    expect(publisher.calls).toHaveLength(2);
    // The retry starts again from the oldest unacknowledged and takes the newer record along.
    expect(publisher.calls[1].messages).toHaveLength(2);
    publisher.calls[1].resolve();
    await flushMicrotasks();
    expect(outbox.stats()).toMatchObject({ records: 0, ackedRecords: 2 });
    expect(forwarder.stats()).toMatchObject({ failures: 1, acked: 2, published: 3 });
    await forwarder.stop();
  });

  it('removes a record it cannot encode, counts it, and keeps going', async () => {
    const { outbox, publisher, forwarder, ingest } = setup(1000);
    forwarder.start();
    publisher.set('connected');
    const broken = outbox.append([{ stream: 'd1', kind: 'data', count: 2, body: { device: 'd1', cycleMs: 0, readings: [] }, createdMs: 0 }]);
    forwarder.wake(broken);
    const good = ingest();
    await flushMicrotasks();
    expect(publisher.sent().map((p) => p.firstSeq)).toEqual([good.firstSeq]);
    expect(forwarder.stats()).toMatchObject({ undeliverable: 1, acked: 1 });
    expect(outbox.stats().records).toBe(0);
    await forwarder.stop();
  });
});

describe('Forwarder failures: only stop() stops it', () => {
  it('an outbox read that throws once is logged with context, counted, and retried after retryDelayMs', async () => {
    const logger = recordingLogger();
    const { outbox, disk, clock, publisher, forwarder, ingest } = setup(1000, 4, logger);
    forwarder.start();
    publisher.set('connected');
    await flushMicrotasks();
    disk.failures.next = 1;
    const record = ingest();
    await flushMicrotasks();
    expect(publisher.calls).toHaveLength(0);
    expect(forwarder.stats()).toMatchObject({ failures: 1, lastError: 'outbox next: outbox /data/o.db: next failed: SQLITE_IOERR_READ: disk I/O error' });
    expect(forwarder.stats().lane).not.toBe('stopped');
    expect(logger.entries).toEqual([
      {
        level: 'error',
        obj: expect.objectContaining({ step: 'outbox next', lane: 'live', afterId: record.id - 1, retryDelayMs: 1000, err: expect.stringContaining('disk I/O error') }),
        msg: 'outbox next failed; retrying',
      },
    ]);

    ingest(); // new data does not cut the pause short
    await clock.advance(999);
    expect(publisher.calls).toHaveLength(0);
    await clock.advance(1);
    expect(publisher.sent().map((p) => p.firstSeq)).toEqual([record.firstSeq, record.firstSeq + 1]);
    expect(outbox.stats().records).toBe(0);
    expect(forwarder.stats()).toMatchObject({ failures: 1, acked: 2, lane: 'idle', lastError: null });
    await forwarder.stop();
    expect(forwarder.stats().lane).toBe('stopped');
  });

  it('keeps retrying while the disk keeps failing, one attempt per retryDelayMs, and recovers', async () => {
    const { outbox, disk, clock, publisher, forwarder, ingest } = setup(1000, 4);
    forwarder.start();
    publisher.set('connected');
    disk.failures.next = 5;
    ingest();
    await flushMicrotasks();
    for (let i = 1; i <= 4; i++) {
      await clock.advance(1000);
      expect(forwarder.stats().failures).toBe(1 + i);
    }
    expect(publisher.calls).toHaveLength(0);
    await clock.advance(1000);
    expect(publisher.calls).toHaveLength(1);
    expect(outbox.stats().records).toBe(0);
    expect(forwarder.stats()).toMatchObject({ failures: 5, acked: 1, lastError: null });
    await forwarder.stop();
  });

  it('a backlog read that fails is retried too, and the backlog still goes out historical and in order', async () => {
    const { disk, clock, publisher, forwarder, ingest } = setup(10, 4);
    const backlog = [ingest(), ingest(), ingest()];
    forwarder.start();
    disk.failures.next = 1;
    publisher.set('connected');
    await flushMicrotasks();
    expect(publisher.calls).toHaveLength(0);
    expect(forwarder.stats().lastError).toMatch(/^outbox next: /);
    await clock.advance(1000);
    await clock.advance(300);
    expect(publisher.sent().map((p) => [p.firstSeq, p.historical])).toEqual(backlog.map((r) => [r.firstSeq, true]));
    await forwarder.stop();
  });

  it('an outbox that cannot report its state when the connection comes up is retried, not fatal', async () => {
    const { outbox, disk, clock, publisher, forwarder, ingest } = setup(1000, 4);
    const waiting = ingest();
    forwarder.start();
    disk.failures.stats = 2; // at the connection and the loop's immediate second try
    expect(() => publisher.set('connected')).not.toThrow();
    await flushMicrotasks();
    expect(publisher.calls).toHaveLength(0);
    await clock.advance(1000);
    expect(publisher.sent().map((p) => [p.firstSeq, p.historical])).toEqual([[waiting.firstSeq, true]]);
    expect(outbox.stats().records).toBe(0);
    expect(forwarder.stats()).toMatchObject({ failures: 1, acked: 1, lastError: null });
    await forwarder.stop();
  });

  it('an ack that throws leaves the records waiting; they are published again after retryDelayMs and then acked', async () => {
    const logger = recordingLogger();
    const { outbox, disk, clock, publisher, forwarder, ingest } = setup(1000, 4, logger);
    forwarder.start();
    publisher.set('connected');
    disk.failures.ack = 1;
    const record = ingest();
    await flushMicrotasks();
    expect(publisher.calls).toHaveLength(1);
    expect(outbox.stats().records).toBe(1);
    expect(forwarder.stats()).toMatchObject({ failures: 1, acked: 0, lastError: expect.stringMatching(/^outbox ack: /) });
    expect(logger.entries[0].obj).toMatchObject({ step: 'outbox ack', lane: 'live', records: 1, firstSeq: record.firstSeq, lastSeq: record.lastSeq });
    await clock.advance(1000);
    expect(publisher.sent().map((p) => p.firstSeq)).toEqual([record.firstSeq, record.firstSeq]);
    expect(outbox.stats().records).toBe(0);
    expect(forwarder.stats()).toMatchObject({ failures: 1, acked: 1, lastError: null });
    await forwarder.stop();
  });

  it('a failure while disconnected waits for the connection instead of spinning', async () => {
    const { disk, clock, publisher, forwarder, ingest } = setup(1000, 4);
    forwarder.start();
    publisher.set('connected');
    disk.failures.next = 1;
    ingest();
    await flushMicrotasks();
    publisher.set('disconnected');
    await clock.advance(10_000);
    expect(forwarder.stats()).toMatchObject({ failures: 1, lane: 'disconnected' });
    expect(clock.pendingTimers()).toBe(0);
    publisher.set('connected');
    await flushMicrotasks();
    expect(publisher.calls).toHaveLength(1);
    await forwarder.stop();
  });
});

describe('Forwarder outbox identity', () => {
  it('publishes the outbox id with every record', async () => {
    const { outbox, clock, publisher, forwarder, ingest } = setup(10, 4);
    ingest();
    forwarder.start();
    publisher.set('connected');
    ingest();
    await clock.advance(200);
    expect(publisher.sent()).toHaveLength(2);
    expect(publisher.sent().map((p) => p.outbox)).toEqual([outbox.outboxId, outbox.outboxId]);
    await forwarder.stop();
  });
});
