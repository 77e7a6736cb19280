/**
 * Runs the three raw baselines of one scenario, one process each, one after the other (never
 * alongside the agent), at the scenario's volume: the same devices and registers, the same
 * messages (the agent's own last payloads) to the same broker, the same rows and bytes.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BaselineArgs, BaselineResult } from './baseline-process.js';
import type { Arrival } from './broker-process.js';
import { forkHelper, nextMessage } from './children.js';
import type { SimDevice } from './sim-process.js';
import { distribution, type Distribution } from './stats.js';
import type { BaselineWindowReport, Subscriber } from './subscriber.js';

export interface ScenarioBaselines {
  modbus: BaselineResult;
  mqtt: BaselineResult & { pollToBrokerMs: Distribution; subscriber: BaselineWindowReport };
  sqliteRecord: BaselineResult;
  sqliteRowPerReading: BaselineResult;
}

export interface BaselineOptions {
  devices: readonly SimDevice[];
  brokerUrl: string;
  broker: ChildProcess;
  gatewayId: string;
  subscriber: Subscriber;
  measureS: number;
  intervalMs: number;
  /** Scratch folder for the argument files. */
  dir: string;
  /** Spread devices over the interval like the agent (true) or all at once. */
  spread: boolean;
}

const WARMUP_S = 2;

async function runOne(args: BaselineArgs, dir: string, onWindowStart?: () => void): Promise<BaselineResult[]> {
  const file = join(dir, `baseline-${args.kind}.json`);
  writeFileSync(file, JSON.stringify(args));
  const timeoutMs = (args.warmupS + args.measureS) * 2_000 + 30_000;
  const { message } = await forkHelper<{ results: BaselineResult[] }>('baseline-process.js', [file], 'result', timeoutMs, (m) => {
    if (m.type === 'window-start') onWindowStart?.();
  });
  return message.results;
}

export async function runBaselines(options: BaselineOptions): Promise<ScenarioBaselines> {
  const payloads: Record<string, string> = {};
  for (const [device, payload] of options.subscriber.lastPayload) payloads[device] = payload.toString();
  if (Object.keys(payloads).length !== options.devices.length) {
    throw new Error(`baselines: have payloads of ${Object.keys(payloads).length} of ${options.devices.length} devices`);
  }
  const common = { intervalMs: options.intervalMs, warmupS: WARMUP_S, measureS: options.measureS, spread: options.spread };

  const [modbus] = await runOne(
    { ...common, kind: 'modbus', modbus: { devices: options.devices.map((d) => ({ id: d.id, host: d.host, port: d.port, unitId: d.unitId, blocks: d.blocks })) } },
    options.dir,
  );

  // The subscriber and the broker time the baseline's messages from the start of its window.
  const [mqtt] = await runOne({ ...common, kind: 'mqtt', mqtt: { url: options.brokerUrl, gatewayId: options.gatewayId, payloads } }, options.dir, () => {
    options.subscriber.startBaselineWindow();
    options.broker.send({ type: 'window', on: true });
  });
  options.broker.send({ type: 'window', on: false });
  const arrivals = (await nextMessage<{ arrivals: { baseline: Arrival[] } }>(options.broker, 'window')).arrivals.baseline;
  const subscriberReport = options.subscriber.stopBaselineWindow();

  const [sqliteRecord, sqliteRowPerReading] = await runOne({ ...common, kind: 'sqlite', sqlite: { payloads } }, options.dir);
  return { modbus, mqtt: { ...mqtt, pollToBrokerMs: distribution(arrivals.map((a) => a.arrivalMs - a.tsMs)), subscriber: subscriberReport }, sqliteRecord, sqliteRowPerReading };
}
