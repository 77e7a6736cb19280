/**
 * The consumer side of the bench: an MQTT.js client (QoS 1) on the agent's data topics and on the
 * raw MQTT baseline's topic. Per data message it records
 *   - poll → subscriber latency: receive time − payload `ts` (the poll cycle's start);
 *   - its split: Modbus read = latest reading `ts` (when the last answer of the cycle arrived)
 *     − payload `ts`; pipeline = receive time − latest reading `ts`;
 *   - readings delivered (tags/s), bytes, bad-quality readings, historical messages;
 *   - sequence continuity per device over the whole run: `prevSeq` must be the `lastSeq` seen
 *     before (docs/architecture.md "Sequence numbers and gap detection"), `readings[i].seq` must
 *     run `firstSeq..lastSeq`, and every message must carry every tag of the device.
 * It keeps the last raw payload per device, which the MQTT and SQLite baselines replay.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { distribution, type Distribution } from './stats.js';

export const BASELINE_TOPIC_PREFIX = 'bench-baseline';

interface PayloadReading {
  seq: number;
  ts: string;
  quality: string;
}
interface Payload {
  device: string;
  firstSeq: number;
  lastSeq: number;
  prevSeq: number | null;
  historical: boolean;
  ts: string;
  readings: PayloadReading[];
}

export interface ContinuityReport {
  /** Messages checked since the scenario began (warm-up included). */
  messages: number;
  /** prevSeq did not match the lastSeq seen before on the device. */
  gaps: number;
  /** lastSeq not above the last one seen on the device. */
  duplicates: number;
  /** readings' seq not exactly firstSeq..lastSeq. */
  malformed: number;
  /** Messages that did not carry every tag of the device. */
  incomplete: number;
  /** First message of a device had a prevSeq (the outbox is fresh, so it must be null). */
  firstNotNull: number;
  /**
   * Holes in the gateway-wide sequence: all messages' firstSeq..lastSeq ranges, sorted, must run
   * from 1 without a break (docs/mqtt.md: contiguous across devices unless records were dropped).
   * The last few ranges may still be in flight when the scenario ends, so only holes below the
   * highest seq received count.
   */
  seqHoles: number;
  examples: string[];
}

export interface WindowReport {
  seconds: number;
  messages: number;
  readings: number;
  bytes: number;
  badReadings: number;
  historical: number;
  /** poll (cycle start) → received by the subscriber, ms */
  pollToSubscriberMs: Distribution;
  /** poll → last Modbus answer of the cycle, ms */
  readMs: Distribution;
  /** last Modbus answer → received by the subscriber, ms */
  pipelineMs: Distribution;
  /** messages per device in the window (min, max) */
  perDevice: { min: number; max: number };
  /** per message, for joining with the broker's arrival times */
  timeline: MessageTimes[];
}

export interface MessageTimes {
  device: string;
  firstSeq: number;
  cycleMs: number;
  lastAnswerMs: number;
  receivedMs: number;
}

export interface BaselineWindowReport {
  messages: number;
  bytes: number;
  /** publish (ts stamped by the baseline just before publish) → received, ms */
  publishToSubscriberMs: Distribution;
}

interface DeviceState {
  lastSeq: number | null;
  seen: number;
}

export class Subscriber {
  private client: MqttClient | null = null;
  private gateway = '';
  private expectedTags = new Map<string, number>();
  private devices = new Map<string, DeviceState>();
  private continuity: ContinuityReport = emptyContinuity();
  private ranges: [number, number][] = [];
  readonly lastPayload = new Map<string, Buffer>();

  private window: { startMs: number; timeline: MessageTimes[]; latencies: number[]; read: number[]; pipeline: number[]; messages: number; readings: number; bytes: number; bad: number; historical: number; perDevice: Map<string, number> } | null = null;
  private baseline: { latencies: number[]; messages: number; bytes: number } | null = null;

  async connect(url: string): Promise<void> {
    const client = mqtt.connect(url, { clientId: `bench-subscriber-${process.pid}`, clean: true, reconnectPeriod: 200, protocolVersion: 4 });
    client.on('error', () => {});
    client.on('message', (topic, payload) => this.onMessage(topic, payload, Date.now()));
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () =>
        client.subscribe({ 'allbit/+/devices/+/data': { qos: 1 }, [`${BASELINE_TOPIC_PREFIX}/#`]: { qos: 1 } }, (err) => (err ? reject(err) : resolve())),
      );
    });
    this.client = client;
  }

  /** Starts following one gateway (one scenario): continuity state and payloads are reset. */
  beginScenario(gatewayId: string, expectedTags: Map<string, number>): void {
    this.gateway = gatewayId;
    this.expectedTags = expectedTags;
    this.devices = new Map();
    this.continuity = emptyContinuity();
    this.ranges = [];
    this.lastPayload.clear();
  }

  /** Devices of the current scenario that have delivered at least one message. */
  devicesSeen(): number {
    let n = 0;
    for (const id of this.expectedTags.keys()) if ((this.devices.get(id)?.seen ?? 0) > 0) n++;
    return n;
  }

  startWindow(): void {
    this.window = { startMs: performance.now(), timeline: [], latencies: [], read: [], pipeline: [], messages: 0, readings: 0, bytes: 0, bad: 0, historical: 0, perDevice: new Map() };
  }

  stopWindow(): WindowReport {
    const w = this.window;
    if (!w) throw new Error('subscriber: no window open');
    this.window = null;
    const counts = [...this.expectedTags.keys()].map((id) => w.perDevice.get(id) ?? 0);
    return {
      seconds: (performance.now() - w.startMs) / 1000,
      messages: w.messages,
      readings: w.readings,
      bytes: w.bytes,
      badReadings: w.bad,
      historical: w.historical,
      pollToSubscriberMs: distribution(w.latencies),
      readMs: distribution(w.read),
      pipelineMs: distribution(w.pipeline),
      perDevice: { min: Math.min(...counts), max: Math.max(...counts) },
      timeline: w.timeline,
    };
  }

  continuityReport(): ContinuityReport {
    const ranges = [...this.ranges].sort((a, b) => a[0] - b[0]);
    let holes = 0;
    let next = 1;
    for (const [first, last] of ranges) {
      if (first > next) {
        holes++;
        if (this.continuity.examples.length < 10) this.continuity.examples.push(`gateway: seq ${next}..${first - 1} never received`);
      }
      next = Math.max(next, last + 1);
    }
    return { ...this.continuity, seqHoles: holes, examples: [...this.continuity.examples] };
  }

  startBaselineWindow(): void {
    this.baseline = { latencies: [], messages: 0, bytes: 0 };
  }

  stopBaselineWindow(): BaselineWindowReport {
    const b = this.baseline ?? { latencies: [], messages: 0, bytes: 0 };
    this.baseline = null;
    return { messages: b.messages, bytes: b.bytes, publishToSubscriberMs: distribution(b.latencies) };
  }

  async close(): Promise<void> {
    await this.client?.endAsync(true);
  }

  private onMessage(topic: string, payload: Buffer, receivedMs: number): void {
    if (topic.startsWith(`${BASELINE_TOPIC_PREFIX}/`)) {
      // Parsed in full, like a data message, so the consumer's work is the same.
      const p = JSON.parse(payload.toString()) as Payload;
      if (this.baseline) {
        this.baseline.messages++;
        this.baseline.bytes += payload.length;
        this.baseline.latencies.push(receivedMs - Date.parse(p.ts));
      }
      return;
    }
    const [, gateway, , device] = topic.split('/');
    if (gateway !== this.gateway) return;
    const p = JSON.parse(payload.toString()) as Payload;
    this.check(device, p);
    this.lastPayload.set(device, payload);

    const w = this.window;
    if (!w) return;
    const cycleMs = Date.parse(p.ts);
    let latest = '';
    let bad = 0;
    for (const r of p.readings) {
      if (r.ts > latest) latest = r.ts; // ISO-8601 UTC strings sort as times
      if (r.quality !== 'good') bad++;
    }
    const lastAnswerMs = Date.parse(latest);
    w.timeline.push({ device, firstSeq: p.firstSeq, cycleMs, lastAnswerMs, receivedMs });
    w.latencies.push(receivedMs - cycleMs);
    w.read.push(lastAnswerMs - cycleMs);
    w.pipeline.push(receivedMs - lastAnswerMs);
    w.messages++;
    w.readings += p.readings.length;
    w.bytes += payload.length;
    w.bad += bad;
    if (p.historical) w.historical++;
    w.perDevice.set(device, (w.perDevice.get(device) ?? 0) + 1);
  }

  private check(device: string, p: Payload): void {
    const c = this.continuity;
    const note = (what: string): void => {
      if (c.examples.length < 10) c.examples.push(`${device}: ${what}`);
    };
    c.messages++;
    this.ranges.push([p.firstSeq, p.lastSeq]);
    let state = this.devices.get(device);
    if (!state) this.devices.set(device, (state = { lastSeq: null, seen: 0 }));
    if (state.lastSeq === null) {
      if (p.prevSeq !== null) {
        c.firstNotNull++;
        note(`first message has prevSeq ${p.prevSeq}`);
      }
    } else if (p.lastSeq <= state.lastSeq) {
      c.duplicates++;
      note(`duplicate ${p.firstSeq}..${p.lastSeq} after ${state.lastSeq}`);
    } else if (p.prevSeq !== state.lastSeq) {
      c.gaps++;
      note(`gap: prevSeq ${p.prevSeq}, last seen ${state.lastSeq}`);
    }
    const n = p.readings.length;
    if (n !== p.lastSeq - p.firstSeq + 1 || p.readings[0]?.seq !== p.firstSeq || p.readings[n - 1]?.seq !== p.lastSeq) {
      c.malformed++;
      note(`readings seq do not run ${p.firstSeq}..${p.lastSeq}`);
    }
    const expected = this.expectedTags.get(device);
    if (expected !== undefined && n !== expected) {
      c.incomplete++;
      note(`${n} readings, device has ${expected} tags`);
    }
    if (state.lastSeq === null || p.lastSeq > state.lastSeq) state.lastSeq = p.lastSeq;
    state.seen++;
  }
}

function emptyContinuity(): ContinuityReport {
  return { messages: 0, gaps: 0, duplicates: 0, malformed: 0, incomplete: 0, firstNotNull: 0, seqHoles: 0, examples: [] };
}
