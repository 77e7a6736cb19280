/**
 * OPC UA at 1k and 10k monitored items: the agent (`allbit run`, its own process) subscribed to N
 * variables of the OPC UA simulator that all change once a second, publishing to the bench broker.
 * Measured over a window: agent CPU and peak RSS, readings per second delivered, and latency from
 * the value change on the server (the reading's OPC UA server timestamp) to the bench subscriber
 * (which includes the broker → subscriber hop, about a millisecond here). Next to it, in the same
 * run: node-opcua-client alone with the same subscription (bench/opcua-baseline-process.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { stringify } from 'yaml';
import { PACKAGE_ROOT } from '../config/package-root.js';
import { forkHelper, nextMessage, stopHelper } from './children.js';
import type { Arrival } from './broker-process.js';
import { cpuSeconds, memory } from './proc.js';
import { distribution, sleep, type Distribution } from './stats.js';

export interface OpcUaCase {
  items: number;
  agent: {
    cpuPercent: number;
    peakRssMb: number;
    readingsPerSecond: number;
    badReadings: number;
    /** From the value change on the server to the subscriber: mostly the sampling and publishing wait (phase-dependent, 0–1 interval). */
    changeToSubscriberMs: Distribution;
    /** From the agent's data cycle (started when the publish response arrived) to the broker: the agent's own share. */
    cycleToBrokerMs: Distribution;
    startToFirstValueMs: number;
  };
  baseline: { cpuPercent: number; peakRssMb: number; changesPerSecond: number; changeToClientMs: Distribution };
}

export interface OpcUaBenchReport {
  windowS: number;
  publishingIntervalMs: number;
  cases: OpcUaCase[];
}

const PUBLISHING_INTERVAL_MS = 1000;
/** 0: the server reports every change as it happens (the simulator's variables allow it); the publishing interval alone batches them. */
const SAMPLING_INTERVAL_MS = 0;

interface Payload {
  readings: { value: unknown; quality: string; serverTs?: string }[];
}

export async function runOpcUaBench(options: { brokerUrl: string; broker: ChildProcess; counts: number[]; windowS: number; warmupS: number; logDir: string; agentNodeFlags?: string[] }, log: (line: string) => void): Promise<OpcUaBenchReport> {
  const cases: OpcUaCase[] = [];
  for (const items of options.counts) {
    const dir = mkdtempSync(join(tmpdir(), `allbit-bench-opcua-${items}-`));
    const sim = await forkHelper<{ endpointUrl: string; nodeIds: string[] }>('opcua-sim-process.js', [JSON.stringify({ variables: items, pkiDir: join(dir, 'server-pki') })], 'ready', 180_000);
    try {
      const { endpointUrl, nodeIds } = sim.message;
      log(`[opcua ${items}] simulator ready at ${endpointUrl}`);
      const agent = await measureAgent({ ...options, items, dir, endpointUrl, nodeIds });
      log(
        `[opcua ${items}] agent: ${Math.round(agent.readingsPerSecond)} readings/s, CPU ${agent.cpuPercent.toFixed(1)} %, peak RSS ${agent.peakRssMb.toFixed(0)} MB, ` +
          `change→subscriber p50/p99 ${agent.changeToSubscriberMs.p50}/${agent.changeToSubscriberMs.p99} ms, data cycle→broker p50/p99 ${agent.cycleToBrokerMs.p50}/${agent.cycleToBrokerMs.p99} ms`,
      );
      const baseline = await measureBaseline({ windowS: options.windowS, warmupS: options.warmupS, endpointUrl, nodeIds, dir });
      log(
        `[opcua ${items}] raw node-opcua-client: ${Math.round(baseline.changesPerSecond)} changes/s, CPU ${baseline.cpuPercent.toFixed(1)} %, peak RSS ${baseline.peakRssMb.toFixed(0)} MB, ` +
          `change→client p50/p99 ${baseline.changeToClientMs.p50}/${baseline.changeToClientMs.p99} ms`,
      );
      cases.push({ items, agent, baseline });
    } finally {
      await stopHelper(sim.child, 10_000);
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { windowS: options.windowS, publishingIntervalMs: PUBLISHING_INTERVAL_MS, cases };
}

async function measureAgent(o: { brokerUrl: string; broker: ChildProcess; windowS: number; warmupS: number; logDir: string; items: number; dir: string; endpointUrl: string; nodeIds: string[]; agentNodeFlags?: string[] }): Promise<OpcUaCase['agent']> {
  const gatewayId = `bench-opcua-${o.items}`;
  const configFile = join(o.dir, 'agent.yaml');
  writeFileSync(
    configFile,
    stringify({
      gateway: { id: gatewayId },
      mqtt: { url: o.brokerUrl, inflight: 256 },
      buffer: { path: join(o.dir, 'outbox.db') },
      status: { enabled: false },
      opcua: { pkiDir: join(o.dir, 'agent-pki') },
      log: { level: 'warn' },
      defaults: { pollIntervalMs: PUBLISHING_INTERVAL_MS, timeoutMs: 5000 },
      devices: [{ id: 'bench-ua', endpoint: o.endpointUrl, publishingIntervalMs: PUBLISHING_INTERVAL_MS, tags: o.nodeIds.map((nodeId, i) => ({ name: `v${i}`, nodeId, samplingIntervalMs: SAMPLING_INTERVAL_MS })) }],
    }),
  );
  const sub = await mqtt.connectAsync(o.brokerUrl, { clientId: `bench-opcua-sub-${process.pid}`, protocolVersion: 4, reconnectPeriod: 200 });
  let window: { latencies: number[]; readings: number; bad: number } | null = null;
  let firstValueMs: number | null = null;
  let goodSeen = 0;
  sub.on('message', (_topic, payload) => {
    const now = Date.now();
    const p = JSON.parse(payload.toString()) as Payload;
    for (const r of p.readings) {
      if (r.quality === 'good') goodSeen++;
      if (!window) continue;
      window.readings++;
      if (r.quality !== 'good') window.bad++;
      if (r.serverTs) window.latencies.push(now - Date.parse(r.serverTs));
    }
    if (firstValueMs === null && goodSeen >= o.items) firstValueMs = now;
  });
  await sub.subscribeAsync(`allbit/${gatewayId}/devices/+/data`, { qos: 1 });
  const logStream = createWriteStream(join(o.logDir, `agent-opcua-${o.items}.log`));
  const startedMs = Date.now();
  const child = spawn(process.execPath, [...(o.agentNodeFlags ?? []), join(PACKAGE_ROOT, 'bin', 'allbit.js'), 'run', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(logStream);
  child.stderr.pipe(logStream);
  try {
    while (firstValueMs === null) {
      if (child.exitCode !== null) throw new Error(`bench: the OPC UA agent exited with ${child.exitCode} (log: ${join(o.logDir, `agent-opcua-${o.items}.log`)})`);
      if (Date.now() - startedMs > 180_000) throw new Error('bench: the OPC UA agent delivered no full set of values within 180 s');
      await sleep(50);
    }
    await sleep(o.warmupS * 1000);
    const pid = child.pid!;
    const cpu0 = cpuSeconds(pid);
    const t0 = performance.now();
    window = { latencies: [], readings: 0, bad: 0 };
    o.broker.send({ type: 'window', on: true });
    await sleep(o.windowS * 1000);
    o.broker.send({ type: 'window', on: false });
    const w = window;
    window = null;
    const arrivals = (await nextMessage<{ arrivals: { data: Arrival[] } }>(o.broker, 'window')).arrivals.data;
    const elapsedS = (performance.now() - t0) / 1000;
    const cpuPercent = (100 * (cpuSeconds(pid) - cpu0)) / elapsedS;
    return {
      cpuPercent,
      peakRssMb: memory(pid).peakRssKb / 1024,
      readingsPerSecond: w.readings / elapsedS,
      badReadings: w.bad,
      changeToSubscriberMs: distribution(w.latencies),
      cycleToBrokerMs: distribution(arrivals.filter((a) => Number.isFinite(a.tsMs)).map((a) => a.arrivalMs - a.tsMs)),
      startToFirstValueMs: firstValueMs - startedMs,
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
    logStream.end();
    await sub.endAsync();
  }
}

async function measureBaseline(o: { windowS: number; warmupS: number; endpointUrl: string; nodeIds: string[]; dir: string }): Promise<OpcUaCase['baseline']> {
  const argsFile = join(o.dir, 'baseline-args.json');
  writeFileSync(argsFile, JSON.stringify({ endpointUrl: o.endpointUrl, nodeIds: o.nodeIds, publishingIntervalMs: PUBLISHING_INTERVAL_MS, samplingIntervalMs: SAMPLING_INTERVAL_MS, pkiDir: join(o.dir, 'baseline-pki') }));
  const helper = await forkHelper<{ type: 'ready' }>('opcua-baseline-process.js', [argsFile], 'ready', 180_000);
  try {
    await sleep(o.warmupS * 1000);
    const pid = helper.child.pid!;
    helper.child.send({ type: 'count' });
    const c0 = (await nextMessage<{ changes: number }>(helper.child, 'count')).changes;
    const cpu0 = cpuSeconds(pid);
    const t0 = performance.now();
    await sleep(o.windowS * 1000);
    helper.child.send({ type: 'count' });
    const end = await nextMessage<{ changes: number; latenciesMs: number[] }>(helper.child, 'count');
    const elapsedS = (performance.now() - t0) / 1000;
    return { cpuPercent: (100 * (cpuSeconds(pid) - cpu0)) / elapsedS, peakRssMb: memory(pid).peakRssKb / 1024, changesPerSecond: (end.changes - c0) / elapsedS, changeToClientMs: distribution(end.latenciesMs) };
  } finally {
    await stopHelper(helper.child, 10_000);
  }
}
