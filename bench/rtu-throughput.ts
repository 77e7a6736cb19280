/**
 * RTU throughput per bus: transactions per second the agent's RTU line (drivers/modbus/rtu) gets
 * through one serial line at 9600 and 115200 baud, against the theoretical frame-time limit and
 * against modbus-serial's own RTU client on the same line in the same run.
 *
 * The line: a socat pty pair when socat is installed (the real serialport path), else RTU over TCP.
 * A pty moves bytes instantly, so the simulator's bus paces its replies as the wire would
 * (simulators/modbus/rtu/line-timing.ts): request + 3.5-character turnaround + reply, in
 * 11-bit characters (8E1). The theoretical limit of one transaction is that plus the master's
 * inter-frame gap before the next request (3.5 characters; 1.75 ms above 19200 baud).
 */
import { performance } from 'node:perf_hooks';
import ModbusSerial from 'modbus-serial';
import type { RtuBusSpec } from '../agent/core/device.js';
import { silentLogger } from '../agent/core/logger.js';
import { systemClock } from '../agent/scheduler/system-clock.js';
import { rtuInterFrameGapMs } from '../config/load.js';
import { RtuLine } from '../drivers/modbus/rtu/line.js';
import { RtuBus, type RegisterSource } from '../simulators/index.js';
import { socatAvailable, startPtyPair, type PtyPair } from '../test/helpers/pty.js';
import { openSerialLink } from '../simulators/index.js';

const ModbusRTU = ModbusSerial.default;
const BITS_PER_CHAR = 11;

export interface RtuCase {
  baudRate: number;
  registers: number;
  /** Theoretical transactions per second of one line. */
  limitPerSec: number;
  allbitPerSec: number;
  modbusSerialPerSec: number;
  /** allbit's share of the limit (0–1). */
  allbitOfLimit: number;
  allbitMeanLatencyMs: number | null;
  errors: number;
}

export interface RtuThroughputReport {
  line: 'pty' | 'tcp';
  windowS: number;
  cases: RtuCase[];
}

const source: RegisterSource = {
  readRegisters: (_area, address, count) => Array.from({ length: count }, (_, i) => (address + i) & 0xffff),
  readBit: () => false,
};

function limitPerSec(baudRate: number, registers: number): number {
  const requestBytes = 8;
  const replyBytes = 5 + 2 * registers;
  const wireMs = ((requestBytes + replyBytes + 3.5) * BITS_PER_CHAR * 1000) / baudRate;
  return 1000 / (wireMs + rtuInterFrameGapMs(baudRate, BITS_PER_CHAR));
}

async function withLine<T>(baudRate: number, run: (endpoint: { path?: string; port?: number }) => Promise<T>): Promise<{ result: T; line: 'pty' | 'tcp' }> {
  const bus = new RtuBus({ units: { 1: source }, baudRate, bitsPerChar: BITS_PER_CHAR });
  let pair: PtyPair | null = null;
  try {
    if (socatAvailable()) {
      pair = await startPtyPair();
      const link = await openSerialLink(bus, { path: pair.b, baudRate });
      try {
        return { result: await run({ path: pair.a }), line: 'pty' };
      } finally {
        await link.close();
      }
    }
    const port = await bus.listen('127.0.0.1', 0);
    return { result: await run({ port }), line: 'tcp' };
  } finally {
    await bus.close();
    await pair?.close();
  }
}

async function allbitRate(endpoint: { path?: string; port?: number }, baudRate: number, registers: number, windowMs: number): Promise<{ perSec: number; meanLatencyMs: number | null; errors: number }> {
  const common = { id: 'bench', timeoutMs: 1000, backoffInitialMs: 100, backoffMaxMs: 1000, interFrameGapMs: rtuInterFrameGapMs(baudRate, BITS_PER_CHAR) };
  const spec: RtuBusSpec = endpoint.path
    ? { ...common, transport: 'serial', path: endpoint.path, baudRate, dataBits: 8, parity: 'even', stopBits: 1 }
    : { ...common, transport: 'tcp', host: '127.0.0.1', port: endpoint.port!, baudRate };
  const line = new RtuLine(spec, systemClock, silentLogger);
  await line.open('bench');
  try {
    // Warm-up, then a window of back-to-back transactions.
    for (let i = 0; i < 5; i++) await line.transact({ deviceId: 'bench', unitId: 1, functionCode: 3, address: 0, count: registers, timeoutMs: 1000 });
    const before = line.health();
    const start = performance.now();
    let done = 0;
    while (performance.now() - start < windowMs) {
      await line.transact({ deviceId: 'bench', unitId: 1, functionCode: 3, address: 0, count: registers, timeoutMs: 1000 });
      done++;
    }
    const elapsed = performance.now() - start;
    const after = line.health();
    const errors = Object.values(after.errors).reduce((a, b) => a + b, 0) - Object.values(before.errors).reduce((a, b) => a + b, 0);
    return { perSec: (done * 1000) / elapsed, meanLatencyMs: after.meanLatencyMs, errors };
  } finally {
    await line.release('bench');
  }
}

async function modbusSerialRate(endpoint: { path?: string; port?: number }, baudRate: number, registers: number, windowMs: number): Promise<number> {
  const client = new ModbusRTU();
  client.on('error', () => {});
  if (endpoint.path) await client.connectRTUBuffered(endpoint.path, { baudRate, parity: 'even', dataBits: 8, stopBits: 1 });
  else await client.connectTelnet('127.0.0.1', { port: endpoint.port! });
  client.setID(1);
  client.setTimeout(1000);
  try {
    for (let i = 0; i < 5; i++) await client.readHoldingRegisters(0, registers);
    const start = performance.now();
    let done = 0;
    while (performance.now() - start < windowMs) {
      await client.readHoldingRegisters(0, registers);
      done++;
    }
    return (done * 1000) / (performance.now() - start);
  } finally {
    await new Promise<void>((resolve) => client.close(() => resolve()));
  }
}

export async function runRtuThroughput(windowS: number, log: (line: string) => void): Promise<RtuThroughputReport> {
  const cases: RtuCase[] = [];
  let lineKind: 'pty' | 'tcp' = 'tcp';
  for (const baudRate of [9600, 115200]) {
    for (const registers of [10, 125]) {
      const { result: a, line } = await withLine(baudRate, (e) => allbitRate(e, baudRate, registers, windowS * 1000));
      const { result: m } = await withLine(baudRate, (e) => modbusSerialRate(e, baudRate, registers, windowS * 1000));
      lineKind = line;
      const limit = limitPerSec(baudRate, registers);
      const c: RtuCase = {
        baudRate,
        registers,
        limitPerSec: limit,
        allbitPerSec: a.perSec,
        modbusSerialPerSec: m,
        allbitOfLimit: a.perSec / limit,
        allbitMeanLatencyMs: a.meanLatencyMs,
        errors: a.errors,
      };
      cases.push(c);
      log(`[rtu ${line}] ${baudRate} baud, ${registers} registers: allbit ${a.perSec.toFixed(1)}/s (${(100 * c.allbitOfLimit).toFixed(0)} % of the ${limit.toFixed(1)}/s limit), modbus-serial ${m.toFixed(1)}/s, errors ${a.errors}`);
    }
  }
  return { line: lineKind, windowS, cases };
}
