/**
 * `npm run bench`: the full pipeline against the simulator at 1k, 10k and 50k tags polled every
 * second, each next to the raw baselines of the libraries it is built on, measured in the same
 * run at the same volume. Prints a table, writes bench/results/latest.json. docs/benchmarks.md
 * explains every figure.
 *
 * Processes (the machine's cores are shared; each process's CPU is measured separately):
 *   bench (this)    orchestration and the MQTT subscriber
 *   broker          aedes on an ephemeral port (bench/broker-process.ts)
 *   simulator       the Modbus devices: bulk devices + the plant simulator (bench/sim-process.ts)
 *   agent           `node bin/allbit.js run --config <generated>` (bench/pipeline.ts)
 *   baselines       modbus-serial / mqtt.js / better-sqlite3 alone (bench/baseline-process.ts)
 *
 * Options (after `npm run bench --`):
 *   --tags 1000,10000,50000   total tags per scenario (default)
 *   --measure S               pipeline measurement window, seconds (default 15)
 *   --warmup S                pipeline warm-up after every device delivered (default 4)
 *   --baseline-measure S      baseline measurement window, seconds (default 8)
 *   --no-baselines            pipeline only
 *   --profile                 also write and summarise a V8 CPU profile of the agent (its
 *                             figures are then not benchmark figures: profiling costs CPU)
 *   --gc-trace                run the agent with --trace-gc-nvp and summarise allocation and
 *                             promotion rates over the window (costs a little CPU)
 *   --status-page             GET /api/status once a second during the window, as the status page
 *                             does while an operator has it open (off by default)
 *   --browsers N              N operators with the status page open during the window: each an
 *                             HTTP client of the page's live stream (/api/events?device=ID, the
 *                             largest devices first) in the bench process — the agent's side of a
 *                             browser; rendering is the browser's cost, not the gateway's
 *   --baselines-at-once       modbus and mqtt baselines poll/publish every device at the same
 *                             instant instead of spread over the interval like the agent
 *   --bulk-server S           fast (default: bench/fast-modbus-server.ts) or modbus-serial (ServerTCP)
 *   --sections pipeline,rtu   which parts to run (default both); rtu: RTU transactions/s per line
 *                             at 9600 and 115200 baud against the frame-time limit (bench/rtu-throughput.ts)
 *   --rtu-window S            seconds per RTU case (default 4)
 *   --opcua-items 1000,10000  OPC UA monitored items per case (bench/opcua-bench.ts; window and
 *                             warm-up as the pipeline's)
 *   --no-report               the agent without the daily report (no hourly statistics of every
 *                             reading): to measure what the report's history costs
 *   --agent-node-flags="…"    extra node/V8 flags for the agent process, space-separated
 *                             (experiments, e.g. "--max-semi-space-size=4"); recorded in the JSON
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../config/load.js';
import { PACKAGE_ROOT } from '../config/package-root.js';
import { plantTagCount, writeAgentConfig } from './agent-config.js';
import { runBaselines, type ScenarioBaselines } from './baselines.js';
import { BULK_TAGS_PER_DEVICE } from './bulk-device.js';
import { forkHelper, stopHelper } from './children.js';
import { summariseGcTrace } from './gc-trace.js';
import { readProfile, runPipeline, type PipelineResult } from './pipeline.js';
import { CpuWindow } from './proc.js';
import { formatReport, type BenchReport } from './report.js';
import type { SimArgs, SimDevice } from './sim-process.js';
import { runAlarmEval, type AlarmEvalReport } from './alarm-eval.js';
import { runOpcUaBench, type OpcUaBenchReport } from './opcua-bench.js';
import { runRtuThroughput, type RtuThroughputReport } from './rtu-throughput.js';
import { sleep } from './stats.js';
import { Subscriber } from './subscriber.js';

const POLL_INTERVAL_MS = 1000;

export interface ScenarioResult {
  tags: number;
  devices: number;
  bulkDevices: number;
  plantDevices: number;
  pipeline: PipelineResult;
  baselines: ScenarioBaselines | null;
}

function label(tags: number): string {
  return tags % 1000 === 0 ? `${tags / 1000}k` : String(tags);
}

function machine(): BenchReport['machine'] {
  let model = cpus()[0]?.model ?? 'unknown';
  try {
    model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? model;
  } catch {
    // not Linux: os.cpus() it is
  }
  return { cores: availableParallelism(), cpuModel: model.trim(), memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version, platform: `${process.platform} ${process.arch}` };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      tags: { type: 'string', default: '1000,10000,50000' },
      measure: { type: 'string', default: '15' },
      warmup: { type: 'string', default: '4' },
      'baseline-measure': { type: 'string', default: '8' },
      'no-baselines': { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      'agent-node-flags': { type: 'string', default: '' },
      'no-report': { type: 'boolean', default: false },
      'bulk-server': { type: 'string', default: 'fast' },
      'gc-trace': { type: 'boolean', default: false },
      'status-page': { type: 'boolean', default: false },
      browsers: { type: 'string', default: '0' },
      'baselines-at-once': { type: 'boolean', default: false },
      sections: { type: 'string', default: 'pipeline,rtu,opcua,alarms' },
      'opcua-items': { type: 'string', default: '1000,10000' },
      'rtu-window': { type: 'string', default: '4' },
    },
  });
  const sections = values.sections!.split(',').map((s) => s.trim());
  const browsers = Number(values.browsers);
  if (!Number.isInteger(browsers) || browsers < 0 || browsers > 32) throw new Error(`--browsers: 0–32 (the status server's stream cap), got "${values.browsers}"`);
  for (const s of sections) if (!['pipeline', 'rtu', 'opcua', 'alarms'].includes(s)) throw new Error(`--sections: pipeline, rtu, opcua, alarms; got "${s}"`);
  const agentNodeFlags = [...values['agent-node-flags']!.split(/\s+/).filter(Boolean), ...(values['gc-trace'] ? ['--trace-gc-nvp'] : [])];
  const bulkServer = values['bulk-server'] as 'fast' | 'modbus-serial';
  if (bulkServer !== 'fast' && bulkServer !== 'modbus-serial') throw new Error(`--bulk-server: fast or modbus-serial, got "${String(bulkServer)}"`);
  const tagCounts = sections.includes('pipeline') ? values.tags!.split(',').map((s) => Number(s.trim())) : [];
  const measureS = Number(values.measure);
  const warmupS = Number(values.warmup);
  const baselineMeasureS = Number(values['baseline-measure']);
  const plantTags = plantTagCount();
  for (const n of tagCounts) {
    if (!Number.isInteger(n) || n <= plantTags) throw new Error(`--tags: each count must be an integer above the plant's ${plantTags} tags, got ${n}`);
  }

  const resultsDir = join(PACKAGE_ROOT, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const startedMs = Date.now();
  const info = machine();
  process.stdout.write(
    `allbit bench: ${tagCounts.map(label).join(', ')} tags, poll ${POLL_INTERVAL_MS} ms, window ${measureS} s` +
      `${values['no-baselines'] ? '' : `, baselines ${baselineMeasureS} s`}${values.profile ? ', PROFILING (figures not comparable)' : ''}` +
      `${agentNodeFlags.length ? `, agent node flags: ${agentNodeFlags.join(' ')}` : ''}\n` +
      `machine: ${info.cores} × ${info.cpuModel}, ${info.memoryGb} GB, Node ${info.node}\n`,
  );

  const idle = new CpuWindow({ bench: 'self' });
  idle.start();
  await sleep(2000);
  const busy = idle.stop().foreign;
  process.stdout.write(`machine before the run: other processes used ${busy.toFixed(0)} % of one core${busy > 15 ? ' — BUSY: figures will be disturbed' : ''}\n`);

  const broker = await forkHelper<{ port: number }>('broker-process.js', [], 'ready');
  const brokerUrl = `mqtt://127.0.0.1:${broker.message.port}`;
  const subscriber = new Subscriber();
  await subscriber.connect(brokerUrl);
  const scenarios: ScenarioResult[] = [];
  let opcua: OpcUaBenchReport | undefined;
  try {
    for (const tags of tagCounts) {
      const bulkTotal = tags - plantTags;
      const bulk: number[] = [];
      for (let left = bulkTotal; left > 0; left -= BULK_TAGS_PER_DEVICE) bulk.push(Math.min(BULK_TAGS_PER_DEVICE, left));
      const simArgs: SimArgs = { bulk, plant: true, bulkServer: bulkServer };
      process.stdout.write(`\n[${label(tags)}] ${bulk.length} bulk device(s) + 4 plant devices (${plantTags} tags): starting the simulator\n`);
      const sim = await forkHelper<{ devices: SimDevice[] }>('sim-process.js', [JSON.stringify(simArgs)], 'ready');
      const dir = mkdtempSync(join(tmpdir(), `allbit-bench-${label(tags)}-`));
      try {
        const devices = sim.message.devices;
        const gatewayId = `bench-${label(tags).toLowerCase()}`;
        const configFile = writeAgentConfig({ dir, gatewayId, brokerUrl, devices, pollIntervalMs: POLL_INTERVAL_MS, report: !values['no-report'] });
        const expectedTags = new Map(devices.map((d) => [d.id, d.tags ?? 0]));
        // plant devices: their tag counts come from the profiles
        for (const d of loadConfigFile(configFile).devices) expectedTags.set(d.id, d.tags.length);
        const configuredTags = [...expectedTags.values()].reduce((a, b) => a + b, 0);
        if (configuredTags !== tags) throw new Error(`scenario ${tags}: configured ${configuredTags} tags`);

        const profileDir = values.profile ? join(resultsDir, 'profiles', label(tags)) : undefined;
        process.stdout.write(`[${label(tags)}] agent: warm-up ${warmupS} s, measuring ${measureS} s\n`);
        const pipeline = await runPipeline({ configFile, gatewayId, subscriber, broker: broker.child, sim: sim.child, expectedTags, warmupS, measureS, profileDir, agentNodeFlags, logFile: join(resultsDir, `agent-${label(tags)}.log`), statusPage: values['status-page'], browsers });
        if (profileDir) pipeline.profile = readProfile(profileDir, pipeline.profileWindowUs);
        if (values['gc-trace']) pipeline.gcTrace = summariseGcTrace(join(resultsDir, `agent-${label(tags)}.log`)) ?? undefined;
        process.stdout.write(
          `[${label(tags)}] agent: ${Math.round(pipeline.tagsPerSecond)} tags/s, CPU ${pipeline.cpuPercent.toFixed(1)} %, peak RSS ${pipeline.peakRssMb.toFixed(0)} MB, ` +
            `poll→broker p99 ${pipeline.pollToBrokerMs.p99} ms, requests/cycle ${pipeline.requests.reported} (minimum ${pipeline.requests.minimum})\n`,
        );

        let baselines: ScenarioBaselines | null = null;
        if (!values['no-baselines']) {
          process.stdout.write(`[${label(tags)}] raw baselines at the same volume\n`);
          baselines = await runBaselines({ devices, brokerUrl, broker: broker.child, gatewayId, subscriber, measureS: baselineMeasureS, intervalMs: POLL_INTERVAL_MS, dir, spread: !values['baselines-at-once'] });
        }
        scenarios.push({ tags, devices: devices.length, bulkDevices: bulk.length, plantDevices: devices.length - bulk.length, pipeline, baselines });
      } finally {
        await stopHelper(sim.child);
        rmSync(dir, { recursive: true, force: true });
      }
    }
    if (sections.includes('opcua')) {
      process.stdout.write(`\n[opcua] ${values['opcua-items']} monitored items changing once a second\n`);
      opcua = await runOpcUaBench(
        { brokerUrl, broker: broker.child, counts: values['opcua-items']!.split(',').map(Number), windowS: measureS, warmupS, logDir: resultsDir, agentNodeFlags },
        (line) => process.stdout.write(`${line}\n`),
      );
    }
  } finally {
    await subscriber.close();
    await stopHelper(broker.child);
  }

  let rtu: RtuThroughputReport | undefined;
  if (sections.includes('rtu')) {
    process.stdout.write(`\n[rtu] transactions per second on one line at 9600 and 115200 baud\n`);
    rtu = await runRtuThroughput(Number(values['rtu-window']), (line) => process.stdout.write(`${line}\n`));
  }

  let alarmEval: AlarmEvalReport | undefined;
  if (sections.includes('alarms')) {
    process.stdout.write(`\n[alarms] evaluation cost, 10k tags with limit, rate and predictive rules\n`);
    alarmEval = runAlarmEval((line) => process.stdout.write(`${line}\n`));
  }

  const report: BenchReport = {
    startedAt: new Date(startedMs).toISOString(),
    durationS: (Date.now() - startedMs) / 1000,
    machine: info,
    machineBusyBeforePercent: busy,
    settings: { pollIntervalMs: POLL_INTERVAL_MS, maxSilenceMs: 0, measureS, warmupS, baselineMeasureS, plantTags, bulkTagsPerDevice: BULK_TAGS_PER_DEVICE, profiled: values.profile!, agentNodeFlags, report: !values['no-report'], bulkServer, statusPage: values['status-page']!, browsers, baselinesSpread: !values['baselines-at-once'] },
    scenarios,
    sections,
    rtu,
    opcua,
    alarms: alarmEval,
  };
  const out = join(resultsDir, 'latest.json');
  writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(`\n${formatReport(report)}\nwritten: ${out} (${report.durationS.toFixed(0)} s)\n`);
}

main().catch((err: unknown) => {
  console.error(`bench failed: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
});
