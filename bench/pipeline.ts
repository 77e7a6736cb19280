/**
 * One pipeline measurement: the real agent (`node bin/allbit.js run --config …`) as its own
 * process, polling the load process's devices and publishing to the bench broker, observed from
 * outside only — /proc for CPU and memory, the subscriber and the broker for latency and
 * continuity, /api/status (outside the CPU window) for cycles, overruns and requests per cycle.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PACKAGE_ROOT } from '../config/package-root.js';
import { loadConfigFile } from '../config/load.js';
import { minimumRequestCount, planRequests } from '../drivers/modbus/planner.js';
import { modbusAddressOf } from '../agent/core/tag.js';
import type { GatewayView } from '../agent/state/live-state.js';
import type { ProbeReport } from './agent-probe.js';
import type { Arrival } from './broker-process.js';
import { openBrowserStreams, type BrowserStreamsReport } from './browsers.js';
import { BENCH_DIR, nextMessage } from './children.js';
import { CpuWindow, memory } from './proc.js';
import type { GcTraceSummary } from './gc-trace.js';
import { summariseCpuProfile, type ProfileSummary } from './profile.js';
import { distribution, sleep, type Distribution } from './stats.js';
import type { ContinuityReport, Subscriber, WindowReport } from './subscriber.js';

export interface PipelineOptions {
  configFile: string;
  gatewayId: string;
  subscriber: Subscriber;
  broker: ChildProcess;
  sim: ChildProcess;
  /** Tags per device, as configured. */
  expectedTags: Map<string, number>;
  warmupS: number;
  measureS: number;
  /** Write a V8 CPU profile of the agent into this folder and summarise it. */
  profileDir?: string;
  /** Extra node/V8 flags for the agent process (experiments, e.g. --max-semi-space-size=4). */
  agentNodeFlags?: string[];
  /** Where the agent's stdout and stderr (its JSON log) are copied. */
  logFile: string;
  /** Emulate an operator with the status page open: GET /api/status once a second during the window. */
  statusPage?: boolean;
  /** Emulate N browsers with the status page open, each on one device's live stream (bench/browsers.ts). */
  browsers?: number;
}

export interface RequestsPerCycle {
  /** What the agent reports in /api/status (its plans after any hole splitting), summed over devices. */
  reported: number;
  /** Driver requests sent during the window ÷ cycles, summed over devices. */
  measured: number;
  /** planRequests over the configured tags (what the agent starts with). */
  planned: number;
  /** minimumRequestCount: the least any valid plan needs. */
  minimum: number;
  perDeviceOverMinimum: string[];
}

export interface PipelineResult {
  startupMs: number;
  window: WindowReport;
  tagsPerSecond: number;
  messagesPerSecond: number;
  bytesPerSecond: number;
  cpuPercent: number;
  /** CPU of the other processes on the (shared) machine during the window. */
  otherCpuPercent: {
    simulator: number;
    broker: number;
    subscriber: number;
    /** user-space processes outside the bench */
    foreign: number;
    /** kernel threads, irq and softirq (mostly on the bench's behalf: fsync, loopback TCP, memory) */
    kernel: number;
    /** taken by the hypervisor */
    steal: number;
  };
  peakRssMb: number;
  rssMb: number;
  /** Cycle start (payload `ts`) → the PUBLISH arrives at the broker. */
  pollToBrokerMs: Distribution;
  /** Last Modbus answer of the cycle → the PUBLISH arrives at the broker: the agent's own latency. */
  answerToBrokerMs: Distribution;
  brokerToSubscriberMs: Distribution;
  /** How late the simulator's own event loop ran (a slow read may be the rig's). */
  simulatorEventLoopDelayMs: { p99: number; max: number };
  /** The five devices with the slowest single Modbus read in the window. */
  slowestReads: { device: string; maxMs: number; p50Ms: number }[];
  requests: RequestsPerCycle;
  /** Device cycles delivered in the window (one message per device cycle: maxSilenceMs 0). */
  cycles: number;
  /** Overruns since the agent started. */
  overruns: number;
  devicesConnected: number;
  /** Driver errors since the agent started. */
  driverErrors: number;
  outboxWaitingAtEnd: number;
  continuity: ContinuityReport;
  statusApi: { ms: number; bytes: number };
  /** With --status-page: the once-a-second /api/status reads made during the window, ms. */
  statusPageReads: Distribution | null;
  /** With --browsers: what the emulated browsers received during the window. */
  browsers: BrowserStreamsReport | null;
  logWarnings: { count: number; examples: string[] };
  holeSplits: number;
  /** The in-process probe (bench/agent-probe.ts): event-loop delay, GC, heap. */
  probe: ProbeReport | null;
  /** The window on the CLOCK_MONOTONIC time line, µs (to cut a CPU profile to it). */
  profileWindowUs: { start: number; end: number };
  profile?: ProfileSummary;
  /** With --gc-trace: V8's allocation and promotion over the window. */
  gcTrace?: GcTraceSummary;
}

const BIN = join(PACKAGE_ROOT, 'bin', 'allbit.js');

interface AgentProcess {
  child: ChildProcess;
  probeFile: string;
  status: Promise<{ host: string; port: number }>;
  warnings: string[];
  warningCount: number;
  holeSplits: number;
  exited: Promise<number | null>;
}

function startAgentProcess(configFile: string, profileDir: string | undefined, extraFlags: string[], logFile: string): AgentProcess {
  const probeFile = join(dirname(configFile), 'probe.json');
  const flags = [
    ...extraFlags,
    '--expose-gc',
    '--import',
    pathToFileURL(join(BENCH_DIR, 'agent-probe.js')).href,
    ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []),
  ];
  // As the npm scripts, the bin's shebang and the systemd unit in docs/operations.md start it.
  const child = spawn(process.execPath, ['--max-semi-space-size=8', ...flags, BIN, 'run', '--config', configFile, '--log-level', 'info'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: PACKAGE_ROOT,
    env: { ...process.env, ALLBIT_BENCH_PROBE_FILE: probeFile },
  });
  const agent: AgentProcess = { child, probeFile, status: null!, warnings: [], warningCount: 0, holeSplits: 0, exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))) };
  const log = createWriteStream(logFile);
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  child.once('close', () => log.end());
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  agent.status = new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let entry: { level?: number; msg?: string; status?: { host: string; port: number } };
        try {
          entry = JSON.parse(line) as typeof entry;
        } catch {
          continue;
        }
        if (entry.msg === 'agent started' && entry.status) resolve(entry.status);
        if (entry.msg?.startsWith('illegal data address in a merged read')) agent.holeSplits++;
        if ((entry.level ?? 0) >= 40) {
          agent.warningCount++;
          if (agent.warnings.length < 5) agent.warnings.push(line.slice(0, 300));
        }
      }
    });
    void agent.exited.then((code) => reject(new Error(`agent exited with ${code} before it started:\n${stderr}`)));
  });
  return agent;
}

async function readProbe(file: string): Promise<ProbeReport | null> {
  const deadline = performance.now() + 10_000;
  while (performance.now() < deadline) {
    if (existsSync(file)) {
      try {
        return JSON.parse(readFileSync(file, 'utf8')) as ProbeReport;
      } catch {
        // being written
      }
    }
    await sleep(50);
  }
  return null;
}

async function getStatus(address: { host: string; port: number }): Promise<{ view: GatewayView; ms: number; bytes: number }> {
  const t0 = performance.now();
  const res = await fetch(`http://${address.host}:${address.port}/api/status`);
  const text = await res.text();
  const ms = performance.now() - t0;
  return { view: JSON.parse(text) as GatewayView, ms, bytes: Buffer.byteLength(text) };
}

function requestCounts(configFile: string): Map<string, { planned: number; minimum: number }> {
  const config = loadConfigFile(configFile);
  const out = new Map<string, { planned: number; minimum: number }>();
  for (const d of config.devices) {
    if (d.connection.protocol !== 'modbus-tcp' && d.connection.protocol !== 'modbus-rtu') continue;
    const tags = d.tags.map((t, index) => ({ index, source: modbusAddressOf(t) }));
    const options = { unitId: d.connection.unitId, maxGapRegisters: d.maxGapRegisters, maxGapBits: d.maxGapBits };
    out.set(d.id, { planned: planRequests(tags, options).length, minimum: minimumRequestCount(tags, options) });
  }
  return out;
}

export async function runPipeline(options: PipelineOptions): Promise<PipelineResult> {
  const { subscriber } = options;
  const counts = requestCounts(options.configFile);
  subscriber.beginScenario(options.gatewayId, options.expectedTags);

  const spawnedMs = performance.now();
  const agent = startAgentProcess(options.configFile, options.profileDir, options.agentNodeFlags ?? [], options.logFile);
  const pid = agent.child.pid!;
  try {
    const address = await agent.status;
    const startupMs = performance.now() - spawnedMs;

    // Until every device has delivered, then the warm-up (JIT, connections, SQLite caches).
    const deadline = performance.now() + 60_000;
    while (subscriber.devicesSeen() < options.expectedTags.size) {
      if (performance.now() > deadline) throw new Error(`only ${subscriber.devicesSeen()} of ${options.expectedTags.size} devices delivered data within 60 s`);
      await sleep(50);
    }
    await sleep(options.warmupS * 1000);

    // The window. /api/status is read only after it (and after the memory figures): at 50k tags
    // one read is a noticeable piece of work and a burst of memory.
    const cpu = new CpuWindow({ agent: pid, simulator: options.sim.pid!, broker: options.broker.pid!, subscriber: 'self' });
    options.broker.send({ type: 'window', on: true });
    options.sim.send({ type: 'window', on: true });
    agent.child.kill('SIGUSR2'); // probe: window starts
    subscriber.startWindow();
    const windowUs = { start: Number(process.hrtime.bigint() / 1000n), end: 0 };
    // Browsers connect just before the window opens, so it measures their steady state.
    const browsers = options.browsers ? await openBrowserStreams(address, options.browsers) : null;
    cpu.start();
    const pageReads: number[] = [];
    const page = options.statusPage
      ? setInterval(() => {
          getStatus(address).then((r) => pageReads.push(r.ms), () => {});
        }, 1000)
      : null;
    await sleep(options.measureS * 1000);
    if (page) clearInterval(page);
    const { percent, foreign, kernel, steal } = cpu.stop();
    const browsersReport = browsers?.stop() ?? null;
    windowUs.end = Number(process.hrtime.bigint() / 1000n);
    const window = subscriber.stopWindow();
    const mem = memory(pid);
    options.broker.send({ type: 'window', on: false });
    options.sim.send({ type: 'window', on: false });
    const simDelay = (await nextMessage<{ eventLoopDelayMs: { p99: number; max: number } }>(options.sim, 'window')).eventLoopDelayMs;
    const arrivals = (await nextMessage<{ arrivals: { data: Arrival[] } }>(options.broker, 'window')).arrivals.data;
    const received = new Map(window.timeline.map((m) => [m.firstSeq, m]));
    const answerToBroker: number[] = [];
    const brokerToSubscriber: number[] = [];
    for (const a of arrivals) {
      const m = received.get(a.firstSeq);
      if (!m) continue;
      answerToBroker.push(a.arrivalMs - m.lastAnswerMs);
      brokerToSubscriber.push(m.receivedMs - a.arrivalMs);
    }
    // Which devices the slowest Modbus reads belong to (the plant devices are served differently).
    const readsByDevice = new Map<string, number[]>();
    for (const m of window.timeline) {
      let list = readsByDevice.get(m.device);
      if (!list) readsByDevice.set(m.device, (list = []));
      list.push(m.lastAnswerMs - m.cycleMs);
    }
    const slowestReads = [...readsByDevice]
      .map(([device, reads]) => ({ device, maxMs: Math.max(...reads), p50Ms: distribution(reads).p50 }))
      .sort((a, b) => b.maxMs - a.maxMs)
      .slice(0, 5);
    agent.child.kill('SIGUSR2'); // probe: window ends, report (then a full GC)
    const probe = await readProbe(agent.probeFile);

    const after = await getStatus(address);
    const statusMs: number[] = [after.ms];
    for (let i = 0; i < 2; i++) statusMs.push((await getStatus(address)).ms);

    // Since the agent started (warm-up included): requests per cycle never changes unless the driver
    // splits a request after an exception, and an overrun at any time is worth seeing.
    let reported = 0;
    let measured = 0;
    let overruns = 0;
    let connected = 0;
    let driverErrors = 0;
    const perDeviceOverMinimum: string[] = [];
    for (const d of after.view.devices) {
      reported += d.requestsPerCycle;
      measured += d.health.cycles > 0 ? (d.driver?.requests ?? 0) / d.health.cycles : 0;
      overruns += d.health.overruns;
      if (d.health.connected) connected++;
      const e = d.driver?.errors;
      if (e) driverErrors += e.timeout + e.exception + e.comm + e.decode;
      const c = counts.get(d.id)!;
      if (d.requestsPerCycle !== c.minimum) perDeviceOverMinimum.push(`${d.id}: ${d.requestsPerCycle} (minimum ${c.minimum})`);
    }
    const planned = [...counts.values()].reduce((n, c) => n + c.planned, 0);
    const minimum = [...counts.values()].reduce((n, c) => n + c.minimum, 0);

    return {
      startupMs,
      window,
      tagsPerSecond: window.readings / window.seconds,
      messagesPerSecond: window.messages / window.seconds,
      bytesPerSecond: window.bytes / window.seconds,
      cpuPercent: percent.agent,
      otherCpuPercent: { simulator: percent.simulator, broker: percent.broker, subscriber: percent.subscriber, foreign, kernel, steal },
      peakRssMb: mem.peakRssKb / 1024,
      rssMb: mem.rssKb / 1024,
      pollToBrokerMs: distribution(arrivals.map((a) => a.arrivalMs - a.tsMs)),
      answerToBrokerMs: distribution(answerToBroker),
      slowestReads,
      simulatorEventLoopDelayMs: simDelay,
      brokerToSubscriberMs: distribution(brokerToSubscriber),
      requests: { reported, measured, planned, minimum, perDeviceOverMinimum },
      cycles: window.messages,
      overruns,
      devicesConnected: connected,
      driverErrors,
      outboxWaitingAtEnd: after.view.buffer?.records ?? NaN,
      continuity: subscriber.continuityReport(),
      statusApi: { ms: distribution(statusMs).p50, bytes: after.bytes },
      statusPageReads: options.statusPage ? distribution(pageReads) : null,
      browsers: browsersReport,
      logWarnings: { count: agent.warningCount, examples: agent.warnings },
      holeSplits: agent.holeSplits,
      probe,
      profileWindowUs: windowUs,
    };
  } finally {
    await stopAgent(agent);
  }
}

async function stopAgent(agent: AgentProcess): Promise<void> {
  const { child } = agent;
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await agent.exited;
    clearTimeout(timer);
  }
}

/** The newest .cpuprofile in `dir`, summarised (written by the agent on exit). */
export function readProfile(dir: string, windowUs?: { start: number; end: number }): ProfileSummary | undefined {
  let newest: { file: string; mtime: number } | null = null;
  try {
    for (const f of readdirSync(dir)) {
      if (!f.endsWith('.cpuprofile')) continue;
      const mtime = statSync(join(dir, f)).mtimeMs;
      if (!newest || mtime > newest.mtime) newest = { file: join(dir, f), mtime };
    }
  } catch {
    return undefined;
  }
  return newest ? summariseCpuProfile(newest.file, windowUs) : undefined;
}
