import { afterEach, describe, expect, it } from 'vitest';
import type { Outbox, OutboxRecord, StoredRecord } from '../../agent/core/outbox.js';

export interface OutboxContractOptions {
  /** The size cap the implementation must enforce (bytes of stored bodies). */
  maxBytes: number;
}

/** Creates a fresh, empty outbox. The suite closes it after each test. */
export type OutboxFactory = (options: OutboxContractOptions) => Outbox | Promise<Outbox>;

const LARGE_CAP = 64 * 1024 * 1024;

export function record(stream: string, count = 1, body: unknown = { n: count }, createdMs = 1_000): OutboxRecord {
  return { stream, kind: 'data', count, body, createdMs };
}

/** A body whose JSON encoding is exactly `bytes` bytes long. */
export function bodyOfBytes(bytes: number): string {
  // JSON of a string adds two quote characters.
  return 'x'.repeat(bytes - 2);
}

/**
 * The guarantees every `Outbox` must keep (see agent/core/outbox.ts). Run it once per
 * implementation, in the style of Telegraf's buffer_suite_test.go and MQTT.js's abstract_store.
 */
export function describeOutboxContract(name: string, factory: OutboxFactory): void {
  describe(`Outbox contract: ${name}`, () => {
    const open: Outbox[] = [];
    async function create(maxBytes = LARGE_CAP): Promise<Outbox> {
      const outbox = await factory({ maxBytes });
      open.push(outbox);
      return outbox;
    }
    afterEach(() => {
      for (const outbox of open.splice(0)) outbox.close();
    });

    it('starts empty', async () => {
      const outbox = await create();
      expect(outbox.next(10)).toEqual([]);
      const stats = outbox.stats();
      expect(stats).toMatchObject({ records: 0, readings: 0, bytes: 0, oldestCreatedMs: null, appendedRecords: 0, ackedRecords: 0, droppedRecords: 0, droppedReadings: 0 });
      expect(stats.nextSeq).toBeGreaterThanOrEqual(1);
    });

    it('has an outbox id that stays the same while records come and go', async () => {
      const outbox = await create();
      const { outboxId } = outbox.stats();
      expect(outboxId).toMatch(/^[0-9a-f]{16}$/);
      outbox.ack(outbox.append([record('a', 2)]));
      expect(outbox.stats().outboxId).toBe(outboxId);
      // Random per outbox: a fresh one has another id (the payload schema requires 16 hex characters).
      const other = await create();
      expect(other.stats().outboxId).not.toBe(outboxId);
    });

    it('append returns stored records with ids and contiguous sequence ranges, one per reading', async () => {
      const outbox = await create();
      const start = outbox.stats().nextSeq;
      const stored = outbox.append([record('a', 3), record('b', 1), record('a', 2)]);
      expect(stored.map((r) => [r.stream, r.firstSeq, r.lastSeq, r.count])).toEqual([
        ['a', start, start + 2, 3],
        ['b', start + 3, start + 3, 1],
        ['a', start + 4, start + 5, 2],
      ]);
      expect(stored[0].id).toBeLessThan(stored[1].id);
      expect(stored[1].id).toBeLessThan(stored[2].id);
      expect(outbox.stats().nextSeq).toBe(start + 6);
    });

    it('sequence numbers stay contiguous and increasing across appends', async () => {
      const outbox = await create();
      let expected = outbox.stats().nextSeq;
      for (let i = 0; i < 20; i++) {
        for (const r of outbox.append([record(`s${i % 3}`, 1 + (i % 4))])) {
          expect(r.firstSeq).toBe(expected);
          expected = r.lastSeq + 1;
        }
      }
      expect(outbox.stats().nextSeq).toBe(expected);
    });

    it('chains prevSeq per stream: null first, then the previous lastSeq of the same stream', async () => {
      const outbox = await create();
      const [a1, b1, a2] = outbox.append([record('a', 2), record('b', 1), record('a', 1)]);
      const [b2] = outbox.append([record('b', 5)]);
      expect(a1.prevSeq).toBeNull();
      expect(b1.prevSeq).toBeNull();
      expect(a2.prevSeq).toBe(a1.lastSeq);
      expect(b2.prevSeq).toBe(b1.lastSeq);
    });

    it('keeps prevSeq chains after the outbox has emptied', async () => {
      const outbox = await create();
      const first = outbox.append([record('a', 2)]);
      outbox.ack(first);
      expect(outbox.stats().records).toBe(0);
      const [second] = outbox.append([record('a', 1)]);
      expect(second.prevSeq).toBe(first[0].lastSeq);
      expect(second.firstSeq).toBe(first[0].lastSeq + 1);
    });

    it('rejects a record with a count below 1 and stores nothing of that append', async () => {
      const outbox = await create();
      expect(() => outbox.append([record('a', 1), record('a', 0)])).toThrow(/count/);
      expect(outbox.stats().records).toBe(0);
      expect(outbox.next(10)).toEqual([]);
    });

    it('next returns the oldest first, round-trips every field, and does not remove', async () => {
      const outbox = await create();
      const stored = outbox.append([record('a', 1, { v: 1, s: 'é' }, 11), record('b', 2, [1, null, true], 12), record('a', 1, 'text', 13)]);
      const batch = outbox.next(10);
      expect(batch).toEqual(stored);
      expect(outbox.next(2)).toEqual(stored.slice(0, 2));
      expect(outbox.next(10)).toEqual(stored);
      expect(outbox.stats().records).toBe(3);
    });

    it('ack removes exactly the acknowledged records', async () => {
      const outbox = await create();
      const stored = outbox.append([record('a'), record('a'), record('b')]);
      outbox.ack([stored[0], { id: stored[2].id }]);
      expect(outbox.next(10)).toEqual([stored[1]]);
      expect(outbox.stats()).toMatchObject({ records: 1, readings: 1, ackedRecords: 2, appendedRecords: 3 });
    });

    it('ack of unknown or already-acknowledged ids is harmless', async () => {
      const outbox = await create();
      const stored = outbox.append([record('a'), record('a')]);
      outbox.ack([stored[0]]);
      outbox.ack([stored[0], { id: 999_999 }, { id: -1 }]);
      outbox.ack([]);
      expect(outbox.next(10)).toEqual([stored[1]]);
      expect(outbox.stats()).toMatchObject({ records: 1, ackedRecords: 1 });
    });

    it('next honours afterId and beforeId', async () => {
      const outbox = await create();
      const s = outbox.append([record('a'), record('a'), record('a'), record('a'), record('a')]);
      expect(outbox.next(10, { afterId: s[1].id })).toEqual(s.slice(2));
      expect(outbox.next(10, { beforeId: s[2].id })).toEqual(s.slice(0, 2));
      expect(outbox.next(10, { afterId: s[0].id, beforeId: s[4].id })).toEqual(s.slice(1, 4));
      expect(outbox.next(1, { afterId: s[0].id, beforeId: s[4].id })).toEqual(s.slice(1, 2));
      expect(outbox.next(10, { afterId: s[4].id })).toEqual([]);
      expect(outbox.next(0)).toEqual([]);
    });

    it('ids never go backwards, also after acknowledging everything', async () => {
      const outbox = await create();
      const first = outbox.append([record('a'), record('a')]);
      outbox.ack(first);
      const [later] = outbox.append([record('a')]);
      expect(later.id).toBeGreaterThan(first[1].id);
    });

    it('stats count waiting records, readings, bytes and the oldest createdMs', async () => {
      const outbox = await create();
      const stored = outbox.append([record('a', 3, bodyOfBytes(100), 500), record('b', 2, bodyOfBytes(50), 600)]);
      expect(outbox.stats()).toMatchObject({ records: 2, readings: 5, bytes: 150, oldestCreatedMs: 500, appendedRecords: 2 });
      outbox.ack([stored[0]]);
      expect(outbox.stats()).toMatchObject({ records: 1, readings: 2, bytes: 50, oldestCreatedMs: 600, ackedRecords: 1 });
      outbox.ack([stored[1]]);
      expect(outbox.stats()).toMatchObject({ records: 0, readings: 0, bytes: 0, oldestCreatedMs: null, ackedRecords: 2 });
    });

    it('drops the oldest records above maxBytes, counts them and keeps the newest', async () => {
      const outbox = await create(1000);
      const old = outbox.append([record('a', 2, bodyOfBytes(400)), record('b', 3, bodyOfBytes(400))]);
      expect(outbox.stats().droppedRecords).toBe(0);
      const [fresh] = outbox.append([record('a', 1, bodyOfBytes(400))]);
      // 1200 > 1000: the oldest (400 bytes, 2 readings) goes.
      expect(outbox.next(10).map((r) => r.id)).toEqual([old[1].id, fresh.id]);
      expect(outbox.stats()).toMatchObject({ records: 2, readings: 4, bytes: 800, maxBytes: 1000, droppedRecords: 1, droppedReadings: 2 });
      // A gap is visible to consumers: prevSeq still points at the dropped record.
      expect(fresh.prevSeq).toBe(old[0].lastSeq);
      const [big] = outbox.append([record('c', 4, bodyOfBytes(900))]);
      expect(outbox.next(10).map((r) => r.id)).toEqual([big.id]);
      expect(outbox.stats()).toMatchObject({ records: 1, readings: 4, bytes: 900, droppedRecords: 3, droppedReadings: 6 });
    });

    it('never drops the records of the append that is returning them', async () => {
      const outbox = await create(1000);
      outbox.append([record('a', 1, bodyOfBytes(300))]);
      const stored = outbox.append([record('a', 1, bodyOfBytes(800)), record('a', 1, bodyOfBytes(800))]);
      expect(outbox.next(10)).toEqual(stored);
      expect(outbox.stats()).toMatchObject({ droppedRecords: 1, records: 2 });
    });

    it('an empty append changes nothing', async () => {
      const outbox = await create();
      const before = outbox.stats();
      expect(outbox.append([])).toEqual([]);
      expect(outbox.stats()).toEqual(before);
    });

    it('keeps order across many interleaved appends and partial acks', async () => {
      const outbox = await create();
      const all: StoredRecord[] = [];
      for (let i = 0; i < 50; i++) all.push(...outbox.append([record(`s${i % 5}`, 1 + (i % 3), { i })]));
      const seen: number[] = [];
      for (;;) {
        const batch = outbox.next(7);
        if (batch.length === 0) break;
        seen.push(...batch.map((r) => (r.body as { i: number }).i));
        outbox.ack(batch);
      }
      expect(seen).toEqual(all.map((r) => (r.body as { i: number }).i));
      expect(outbox.stats()).toMatchObject({ records: 0, appendedRecords: 50, ackedRecords: 50 });
    });
  });
}
