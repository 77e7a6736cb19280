/**
 * The raw baselines (forked by bench/run.ts, one process per baseline so that its CPU and memory
 * are measured exactly like the agent's): the libraries the agent is built on, driven directly at
 * the same volume as the pipeline run, with nothing of allbit in between.
 *
 *   modbus  modbus-serial clients, one per device, reading each device's answered register
 *           blocks 125 registers (2 000 bits) per request, sequentially per device, every
 *           interval — the devices spread over the interval like the agent's (or all at once).
 *   mqtt    one mqtt.js client publishing, every interval, one QoS 1 message per device with the
 *           exact payload the agent last published for it (its `ts` re-stamped at publish time),
 *           spread over the interval likewise (or all at once).
 *   sqlite  better-sqlite3, WAL + synchronous=FULL, every interval one transaction per device:
 *           (record) one row carrying the device's cycle as the agent's outbox stores it, then one
 *           transaction deleting the cycle's rows (the ack); (row-per-reading) one row per reading.
 *
 * Argument: the path of a JSON file with `BaselineArgs`. Result: one IPC message
 * `{ type: 'result', result }`, then the process exits.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import ModbusSerial from 'modbus-serial';
import mqtt from 'mqtt';
import type { AddressBlock } from '../simulators/modbus/points.js';
import { CpuWindow, memory } from './proc.js';
import { distribution, sleep, type Distribution } from './stats.js';
import { BASELINE_TOPIC_PREFIX } from './subscriber.js';

const ModbusRTU = ModbusSerial.default;

export interface BaselineArgs {
  kind: 'modbus' | 'mqtt' | 'sqlite';
  intervalMs: number;
  /**
   * Spread the devices over the interval as the agent does (device i of n starts at i·interval/n
   * into each cycle); false: all at once. Applies to the modbus and mqtt baselines.
   */
  spread: boolean;
  warmupS: number;
  measureS: number;
  modbus?: { devices: { id: string; host: string; port: number; unitId: number; blocks: AddressBlock[] }[] };
  mqtt?: { url: string; gatewayId: string; payloads: Record<string, string> };
  sqlite?: { payloads: Record<string, string> };
}

export interface BaselineResult {
  kind: BaselineArgs['kind'];
  variant?: string;
  seconds: number;
  cpuPercent: number;
  peakRssMb: number;
  rssMb: number;
  cycles: number;
  /** Cycles skipped because the previous one was still running. */
  overruns: number;
  [key: string]: unknown;
}

/** Runs `cycle` on a fixed-rate grid; measures CPU over the window after the warm-up. */
async function paced(
  args: BaselineArgs,
  cycle: () => Promise<void>,
  onWindowStart: () => void,
): Promise<{ seconds: number; cpuPercent: number; foreignCpuPercent: number; cycles: number; overruns: number }> {
  const cpu = new CpuWindow({ self: 'self' });
  const startMs = performance.now();
  // The window is whole slots of the grid: warm-up slots first, then `measureS` worth of slots.
  const firstMeasured = Math.ceil((args.warmupS * 1000) / args.intervalMs);
  const lastSlot = firstMeasured + Math.round((args.measureS * 1000) / args.intervalMs);
  let measuring = false;
  let cycles = 0;
  let overruns = 0;
  for (let k = 0; k < lastSlot; k++) {
    const due = startMs + k * args.intervalMs;
    const now = performance.now();
    if (due > now) await sleep(due - now);
    if (!measuring && k >= firstMeasured) {
      measuring = true;
      cpu.start();
      onWindowStart();
      process.send!({ type: 'window-start' });
    }
    if (performance.now() - due > args.intervalMs) {
      if (measuring) overruns++;
      continue;
    }
    await cycle();
    if (measuring) cycles++;
  }
  const remaining = startMs + lastSlot * args.intervalMs - performance.now();
  if (remaining > 0) await sleep(remaining);
  const { seconds, percent, foreign } = cpu.stop();
  // `foreign` here includes the simulator or broker this baseline talks to.
  return { seconds, cpuPercent: percent.self, foreignCpuPercent: foreign, cycles, overruns };
}

/** Waits until device `i` of `n` is due within the current cycle (see BaselineArgs.spread). */
function phase(args: BaselineArgs, i: number, n: number): Promise<void> {
  return args.spread && i > 0 ? sleep(Math.floor((i * args.intervalMs) / n)) : Promise.resolve();
}

function memoryMb(): { peakRssMb: number; rssMb: number } {
  const m = memory('self');
  return { peakRssMb: m.peakRssKb / 1024, rssMb: m.rssKb / 1024 };
}

async function modbusBaseline(args: BaselineArgs): Promise<BaselineResult> {
  const devices = args.modbus!.devices;
  const clients = await Promise.all(
    devices.map(async (d) => {
      const client = new ModbusRTU();
      await client.connectTCP(d.host, { port: d.port });
      client.setID(d.unitId);
      client.setTimeout(1000);
      const requests: { area: AddressBlock['area']; address: number; count: number }[] = [];
      for (const b of d.blocks) {
        const per = b.area === 'coil' || b.area === 'discrete' ? 2000 : 125;
        for (let a = b.start; a < b.start + b.count; a += per) requests.push({ area: b.area, address: a, count: Math.min(per, b.start + b.count - a) });
      }
      return { client, requests };
    }),
  );
  let durations: number[] = [];
  let requests = 0;
  let registers = 0;
  let errors = 0;
  const run = await paced(
    args,
    async () => {
      await Promise.all(
        clients.map(async ({ client, requests: plan }, i) => {
          await phase(args, i, clients.length);
          const t0 = performance.now();
          for (const r of plan) {
            try {
              if (r.area === 'holding') await client.readHoldingRegisters(r.address, r.count);
              else if (r.area === 'input') await client.readInputRegisters(r.address, r.count);
              else if (r.area === 'coil') await client.readCoils(r.address, r.count);
              else await client.readDiscreteInputs(r.address, r.count);
            } catch {
              errors++;
            }
            requests++;
            registers += r.count;
          }
          durations.push(performance.now() - t0);
        }),
      );
    },
    () => {
      durations = [];
      requests = 0;
      registers = 0;
      errors = 0;
    },
  );
  for (const { client } of clients) await new Promise<void>((resolve) => client.close(() => resolve()));
  return {
    kind: 'modbus',
    ...run,
    ...memoryMb(),
    devices: devices.length,
    requestsPerCycle: clients.reduce((n, c) => n + c.requests.length, 0),
    requestsPerSecond: requests / run.seconds,
    registersPerSecond: registers / run.seconds,
    errors,
    deviceCycleMs: distribution(durations),
  };
}

async function mqttBaseline(args: BaselineArgs): Promise<BaselineResult> {
  const { url, gatewayId, payloads } = args.mqtt!;
  const client = mqtt.connect(url, { clientId: `bench-baseline-${process.pid}`, clean: true, protocolVersion: 4, reconnectPeriod: 0 });
  client.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  const messages = Object.entries(payloads).map(([device, payload]) => {
    const at = payload.indexOf('"ts":"') + 6;
    return { topic: `${BASELINE_TOPIC_PREFIX}/${gatewayId}/${device}`, head: payload.slice(0, at), tail: payload.slice(at + 24) };
  });
  let acks: number[] = [];
  let bytes = 0;
  let failures = 0;
  const run = await paced(
    args,
    async () => {
      await Promise.all(
        messages.map(async (m, i) => {
          await phase(args, i, messages.length);
          const t0 = performance.now();
          const payload = m.head + new Date().toISOString() + m.tail;
          bytes += Buffer.byteLength(payload);
          await new Promise<void>((resolve) => {
            client.publish(m.topic, payload, { qos: 1 }, (err) => {
              if (err) failures++;
              else acks.push(performance.now() - t0);
              resolve();
            });
          });
        }),
      );
    },
    () => {
      acks = [];
      bytes = 0;
      failures = 0;
    },
  );
  await client.endAsync();
  return {
    kind: 'mqtt',
    ...run,
    ...memoryMb(),
    messagesPerSecond: acks.length / run.seconds,
    bytesPerSecond: bytes / run.seconds,
    failures,
    publishToPubackMs: distribution(acks),
  };
}

/** The outbox's stored body for a published payload: `{ device, cycleMs, readings: [{ tag, value, unit, quality, timestampMs }] }`. */
function outboxBody(payload: string): { device: string; body: string; readings: { tag: string; value: unknown; quality: string; ts: number }[] } {
  const p = JSON.parse(payload) as { device: string; ts: string; readings: { tag: string; value: unknown; unit: string; quality: string; ts: string }[] };
  const readings = p.readings.map((r) => ({ tag: r.tag, value: r.value, unit: r.unit, quality: r.quality, timestampMs: Date.parse(r.ts) }));
  return {
    device: p.device,
    body: JSON.stringify({ device: p.device, cycleMs: Date.parse(p.ts), readings }),
    readings: readings.map((r) => ({ tag: r.tag, value: r.value, quality: r.quality, ts: r.timestampMs })),
  };
}

async function sqliteBaseline(args: BaselineArgs, variant: 'record' | 'row-per-reading'): Promise<BaselineResult> {
  const records = Object.values(args.sqlite!.payloads).map(outboxBody);
  const dir = mkdtempSync(join(tmpdir(), 'allbit-bench-sqlite-'));
  const db = new Database(join(dir, 'baseline.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  let txMs: number[] = [];
  let ackMs: number[] = [];
  let rows = 0;
  let bytes = 0;
  let cycle: () => Promise<void>;
  if (variant === 'record') {
    db.exec('CREATE TABLE records (id INTEGER PRIMARY KEY AUTOINCREMENT, stream TEXT NOT NULL, first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL, created_ms INTEGER NOT NULL, body TEXT NOT NULL)');
    const insert = db.prepare('INSERT INTO records (stream, first_seq, last_seq, created_ms, body) VALUES (?, ?, ?, ?, ?)');
    const remove = db.prepare('DELETE FROM records WHERE id = ?');
    let seq = 1;
    const append = db.transaction((stream: string, count: number, body: string) => {
      const info = insert.run(stream, seq, seq + count - 1, Date.now(), body);
      seq += count;
      return Number(info.lastInsertRowid);
    });
    const ack = db.transaction((ids: number[]) => {
      for (const id of ids) remove.run(id);
    });
    cycle = async () => {
      const ids: number[] = [];
      for (const r of records) {
        const t0 = performance.now();
        ids.push(append.immediate(r.device, r.readings.length, r.body));
        txMs.push(performance.now() - t0);
        rows++;
        bytes += r.body.length;
      }
      const t0 = performance.now();
      ack.immediate(ids);
      ackMs.push(performance.now() - t0);
    };
  } else {
    db.exec('CREATE TABLE readings (seq INTEGER PRIMARY KEY, stream TEXT NOT NULL, tag TEXT NOT NULL, value REAL, quality TEXT NOT NULL, ts INTEGER NOT NULL)');
    const insert = db.prepare('INSERT INTO readings (seq, stream, tag, value, quality, ts) VALUES (?, ?, ?, ?, ?, ?)');
    const remove = db.prepare('DELETE FROM readings WHERE seq >= ? AND seq < ?');
    let seq = 1;
    const append = db.transaction((stream: string, readings: { tag: string; value: unknown; quality: string; ts: number }[]) => {
      for (const r of readings) insert.run(seq++, stream, r.tag, typeof r.value === 'number' ? r.value : r.value === null ? null : Number(r.value), r.quality, r.ts);
    });
    const ack = db.transaction((from: number, to: number) => remove.run(from, to));
    cycle = async () => {
      const from = seq;
      for (const r of records) {
        const t0 = performance.now();
        append.immediate(r.device, r.readings);
        txMs.push(performance.now() - t0);
        rows += r.readings.length;
        bytes += r.body.length;
      }
      const t0 = performance.now();
      ack.immediate(from, seq);
      ackMs.push(performance.now() - t0);
    };
  }
  const run = await paced(args, () => cycle(), () => {
    txMs = [];
    ackMs = [];
    rows = 0;
    bytes = 0;
  });
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    kind: 'sqlite',
    variant,
    ...run,
    ...memoryMb(),
    transactionsPerSecond: txMs.length / run.seconds,
    rowsPerSecond: rows / run.seconds,
    bytesPerSecond: bytes / run.seconds,
    transactionMs: distribution(txMs),
    ackTransactionMs: distribution(ackMs),
  };
}

async function main(): Promise<void> {
  const args = JSON.parse(readFileSync(process.argv[2], 'utf8')) as BaselineArgs;
  let results: BaselineResult[];
  switch (args.kind) {
    case 'modbus':
      results = [await modbusBaseline(args)];
      break;
    case 'mqtt':
      results = [await mqttBaseline(args)];
      break;
    case 'sqlite':
      results = [await sqliteBaseline(args, 'record'), await sqliteBaseline(args, 'row-per-reading')];
      break;
  }
  process.send!({ type: 'result', results }, () => process.exit(0));
}

main().catch((err: unknown) => {
  console.error(`bench baseline: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});

export type { Distribution };
