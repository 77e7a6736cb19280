/** The bench's printed report: markdown tables (readable in a terminal, pasteable into docs/benchmarks.md). */
import type { AlarmEvalReport } from './alarm-eval.js';
import type { OpcUaBenchReport } from './opcua-bench.js';
import type { RtuThroughputReport } from './rtu-throughput.js';
import type { ScenarioResult } from './run.js';
import type { Distribution } from './stats.js';

export interface BenchReport {
  startedAt: string;
  durationS: number;
  machine: { cores: number; cpuModel: string; memoryGb: number; node: string; platform: string };
  /** CPU (% of one core) used by user-space processes outside the bench in the 2 s before it started. */
  machineBusyBeforePercent: number;
  settings: {
    pollIntervalMs: number;
    maxSilenceMs: number;
    measureS: number;
    warmupS: number;
    baselineMeasureS: number;
    plantTags: number;
    bulkTagsPerDevice: number;
    profiled: boolean;
    agentNodeFlags: string[];
    bulkServer: 'fast' | 'modbus-serial';
    statusPage: boolean;
    /** Emulated browsers on the live stream during the window (--browsers). */
    browsers?: number;
    /** Whether the modbus and mqtt baselines spread the devices over the interval like the agent. */
    baselinesSpread: boolean;
    /** Whether the agent ran with the daily report (its history counts every reading). */
    report: boolean;
  };
  scenarios: ScenarioResult[];
  /** Sections run (`--sections`): pipeline, rtu, opcua. */
  sections?: string[];
  rtu?: RtuThroughputReport;
  opcua?: OpcUaBenchReport;
  alarms?: AlarmEvalReport;
}

export const TARGETS = { tagsForCpuAndRss: 10_000, cpuPercent: 25, peakRssMb: 150, pollToBrokerP99Ms: 50 } as const;

const num = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '–');
const pp = (d: Distribution | undefined, digits = 0): string => (d && d.n > 0 ? `${num(d.p50, digits)} / ${num(d.p99, digits)}` : '–');
const label = (tags: number): string => (tags % 1000 === 0 ? `${tags / 1000}k` : String(tags));

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  return [line(header), `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.map(line)].join('\n');
}

export function targetChecks(report: BenchReport): { target: string; measured: string; met: boolean | null }[] {
  const checks: { target: string; measured: string; met: boolean | null }[] = [];
  const at = report.scenarios.find((s) => s.tags === TARGETS.tagsForCpuAndRss);
  if (at) {
    const p = at.pipeline;
    checks.push({ target: `10k tags at 1 s: CPU < ${TARGETS.cpuPercent} % of one core`, measured: `${num(p.cpuPercent, 1)} %`, met: p.cpuPercent < TARGETS.cpuPercent });
    checks.push({ target: `10k tags at 1 s: peak RSS < ${TARGETS.peakRssMb} MB`, measured: `${num(p.peakRssMb)} MB`, met: p.peakRssMb < TARGETS.peakRssMb });
    checks.push({
      target: '10k tags at 1 s: every tag delivered every second',
      measured: `${num(p.tagsPerSecond)} tags/s, ${p.overruns} overruns`,
      met: p.tagsPerSecond >= 0.98 * at.tags && p.overruns === 0,
    });
  }
  for (const s of report.scenarios) {
    const p = s.pipeline;
    checks.push({ target: `${label(s.tags)}: poll-to-broker p99 < ${TARGETS.pollToBrokerP99Ms} ms`, measured: `${num(p.pollToBrokerMs.p99)} ms`, met: p.pollToBrokerMs.p99 < TARGETS.pollToBrokerP99Ms });
  }
  for (const s of report.scenarios) {
    const r = s.pipeline.requests;
    checks.push({ target: `${label(s.tags)}: Modbus requests per cycle = minimum`, measured: `${r.reported} (measured ${num(r.measured, 1)}) vs ${r.minimum}`, met: r.reported === r.minimum && Math.abs(r.measured - r.minimum) < 0.5 });
  }
  for (const s of report.scenarios) {
    const c = s.pipeline.continuity;
    const bad = c.gaps + c.duplicates + c.malformed + c.incomplete + c.firstNotNull + c.seqHoles;
    checks.push({ target: `${label(s.tags)}: sequence continuity (no gap, duplicate or missing tag)`, measured: `${num(c.messages)} messages, ${bad} problems`, met: bad === 0 });
  }
  return checks;
}

export function formatReport(report: BenchReport): string {
  const S = report.scenarios;
  const header = ['', ...S.map((s) => `${label(s.tags)} tags`)];
  const row = (name: string, f: (s: ScenarioResult) => string): string[] => [name, ...S.map(f)];
  const b = (s: ScenarioResult) => s.baselines;

  const main = table(header, [
    row('devices (bulk + plant)', (s) => `${s.bulkDevices} + ${s.plantDevices}`),
    row('tags/s delivered to the subscriber', (s) => num(s.pipeline.tagsPerSecond)),
    row('agent CPU, % of one core', (s) => num(s.pipeline.cpuPercent, 1)),
    row('  raw: modbus + mqtt + sqlite(record) CPU %', (s) =>
      b(s) ? `${num(b(s)!.modbus.cpuPercent, 1)} + ${num(b(s)!.mqtt.cpuPercent, 1)} + ${num(b(s)!.sqliteRecord.cpuPercent, 1)} = ${num(b(s)!.modbus.cpuPercent + b(s)!.mqtt.cpuPercent + b(s)!.sqliteRecord.cpuPercent, 1)}` : '–',
    ),
    row('agent peak RSS (VmHWM), MB', (s) => num(s.pipeline.peakRssMb)),
    row('  agent RSS at end of window, MB', (s) => num(s.pipeline.rssMb)),
    row('  raw: modbus / mqtt / sqlite peak RSS, MB', (s) => (b(s) ? `${num(b(s)!.modbus.peakRssMb)} / ${num(b(s)!.mqtt.peakRssMb)} / ${num(b(s)!.sqliteRecord.peakRssMb)}` : '–')),
    row('poll→broker p50 / p99, ms', (s) => pp(s.pipeline.pollToBrokerMs)),
    row('  Modbus read (poll→last answer)', (s) => pp(s.pipeline.window.readMs)),
    row('  agent (last answer→broker)', (s) => pp(s.pipeline.answerToBrokerMs)),
    row('  raw: modbus-serial device cycle', (s) => pp(b(s)?.modbus.deviceCycleMs as Distribution | undefined, 1)),
    row('  raw: SQLite commit per device-cycle', (s) => pp(b(s)?.sqliteRecord.transactionMs as Distribution | undefined, 1)),
    row('  raw: mqtt.js publish→broker', (s) => pp(b(s)?.mqtt.pollToBrokerMs)),
    row('poll→subscriber p50 / p99, ms', (s) => pp(s.pipeline.window.pollToSubscriberMs)),
    row('  broker→subscriber', (s) => pp(s.pipeline.brokerToSubscriberMs)),
    row('  raw: mqtt.js publish→subscriber', (s) => pp(b(s)?.mqtt.subscriber.publishToSubscriberMs)),
    row('Modbus requests/cycle: agent / minimum', (s) => `${s.pipeline.requests.reported} / ${s.pipeline.requests.minimum}`),
    row('  raw: modbus-serial, 125 registers each', (s) => (b(s) ? num(b(s)!.modbus.requestsPerCycle as number) : '–')),
    row('cycles / overruns in window', (s) => `${num(s.pipeline.cycles)} / ${s.pipeline.overruns}`),
    row('seq gaps / duplicates / incomplete / holes', (s) => {
      const c = s.pipeline.continuity;
      return `${c.gaps} / ${c.duplicates} / ${c.incomplete + c.malformed} / ${c.seqHoles}`;
    }),
    row('messages/s, MB/s published', (s) => `${num(s.pipeline.messagesPerSecond, 1)}, ${num(s.pipeline.bytesPerSecond / 1e6, 2)}`),
    row('other processes CPU %: sim / broker / sub', (s) => `${num(s.pipeline.otherCpuPercent.simulator)} / ${num(s.pipeline.otherCpuPercent.broker)} / ${num(s.pipeline.otherCpuPercent.subscriber)}`),
    row('  kernel threads + softirq, CPU %', (s) => num(s.pipeline.otherCpuPercent.kernel)),
    row('  other processes (not the bench), CPU %', (s) => num(s.pipeline.otherCpuPercent.foreign)),
    row('  hypervisor steal, % of one core', (s) => num(s.pipeline.otherCpuPercent.steal, 1)),
    row('agent event-loop delay p99 / max, ms', (s) => (s.pipeline.probe ? `${num(s.pipeline.probe.eventLoopDelayMs.p99)} / ${num(s.pipeline.probe.eventLoopDelayMs.max)}` : '–')),
    row('simulator event-loop delay p99 / max, ms', (s) => (s.pipeline.simulatorEventLoopDelayMs ? `${num(s.pipeline.simulatorEventLoopDelayMs.p99)} / ${num(s.pipeline.simulatorEventLoopDelayMs.max)}` : '–')),
    row('agent GC pauses in window: count, ms total', (s) => (s.pipeline.probe ? `${num(s.pipeline.probe.gc.count)}, ${num(s.pipeline.probe.gc.totalMs)}` : '–')),
    row('agent heap used / total, MB (end)', (s) => (s.pipeline.probe ? `${num(s.pipeline.probe.memoryMb.heapUsed)} / ${num(s.pipeline.probe.memoryMb.heapTotal)}` : '–')),
    row('  after a full GC: heap used, RSS, MB', (s) => (s.pipeline.probe?.afterFullGcMb ? `${num(s.pipeline.probe.afterFullGcMb.heapUsed)}, ${num(s.pipeline.probe.afterFullGcMb.rss)}` : '–')),
    ...(report.settings.statusPage ? [row('  status page reads in window p50 / max, ms', (s) => (s.pipeline.statusPageReads ? `${num(s.pipeline.statusPageReads.p50)} / ${num(s.pipeline.statusPageReads.max)}` : '–'))] : []),
    ...(report.settings.browsers ? [row('  browsers: stream events in window, KB/s received', (s) => (s.pipeline.browsers ? `${num(Object.values(s.pipeline.browsers.events).reduce((a, b) => a + b, 0))}, ${num(s.pipeline.browsers.bytes / 1024 / Math.max(1, s.pipeline.window.seconds))}${s.pipeline.browsers.failures ? ` (${s.pipeline.browsers.failures} failed)` : ''}` : '–'))] : []),
    row('GET /api/status (outside window): ms, KB', (s) => `${num(s.pipeline.statusApi.ms)}, ${num(s.pipeline.statusApi.bytes / 1024)}`),
    row('agent start → "agent started", ms', (s) => num(s.pipeline.startupMs)),
  ]);

  const flags =
    (report.settings.agentNodeFlags.length ? ` — agent node flags: ${report.settings.agentNodeFlags.join(' ')}` : '') +
    (report.settings.bulkServer !== 'fast' ? ` — bulk devices served by ${report.settings.bulkServer}` : '') +
    (report.settings.statusPage ? ' — status page open (GET /api/status every second)' : '') +
    (report.settings.browsers ? ` — ${report.settings.browsers} browsers on the live stream (overview + one device each)` : '');
  const parts = [`## allbit bench — ${report.machine.cores} × ${report.machine.cpuModel}, Node ${report.machine.node}, ${report.startedAt}${flags}`];
  if (S.length > 0) parts.push('', main);

  if (S.some((s) => s.baselines)) {
    const baselineTable = table(header, [
      row('modbus-serial: requests/s', (s) => (b(s) ? num(b(s)!.modbus.requestsPerSecond as number) : '–')),
      row('  registers/s', (s) => (b(s) ? num(b(s)!.modbus.registersPerSecond as number) : '–')),
      row('  device cycle p50 / p99, ms', (s) => pp(b(s)?.modbus.deviceCycleMs as Distribution | undefined, 1)),
      row('  CPU %, peak RSS MB', (s) => (b(s) ? `${num(b(s)!.modbus.cpuPercent, 1)}, ${num(b(s)!.modbus.peakRssMb)}` : '–')),
      row('mqtt.js QoS 1: messages/s, MB/s', (s) => (b(s) ? `${num(b(s)!.mqtt.messagesPerSecond as number, 1)}, ${num((b(s)!.mqtt.bytesPerSecond as number) / 1e6, 2)}` : '–')),
      row('  publish→PUBACK p50 / p99, ms', (s) => pp(b(s)?.mqtt.publishToPubackMs as Distribution | undefined, 1)),
      row('  publish→broker p50 / p99, ms', (s) => pp(b(s)?.mqtt.pollToBrokerMs)),
      row('  CPU %, peak RSS MB', (s) => (b(s) ? `${num(b(s)!.mqtt.cpuPercent, 1)}, ${num(b(s)!.mqtt.peakRssMb)}` : '–')),
      row('SQLite record/device-cycle: tx/s, MB/s', (s) => (b(s) ? `${num(b(s)!.sqliteRecord.transactionsPerSecond as number, 1)}, ${num((b(s)!.sqliteRecord.bytesPerSecond as number) / 1e6, 2)}` : '–')),
      row('  commit p50 / p99, ms; ack tx p50', (s) =>
        b(s) ? `${pp(b(s)!.sqliteRecord.transactionMs as Distribution, 1)}; ${num((b(s)!.sqliteRecord.ackTransactionMs as Distribution).p50, 1)}` : '–',
      ),
      row('  CPU %', (s) => (b(s) ? num(b(s)!.sqliteRecord.cpuPercent, 1) : '–')),
      row('SQLite row per reading: rows/s', (s) => (b(s) ? num(b(s)!.sqliteRowPerReading.rowsPerSecond as number) : '–')),
      row('  commit p50 / p99, ms', (s) => pp(b(s)?.sqliteRowPerReading.transactionMs as Distribution | undefined, 1)),
      row('  CPU %', (s) => (b(s) ? num(b(s)!.sqliteRowPerReading.cpuPercent, 1) : '–')),
    ]);
    const how = report.settings.baselinesSpread ? 'devices spread over the second like the agent' : 'all devices at the same instant';
    parts.push('', `### Raw baselines (same volume, same run, each in its own process; ${how})`, '', baselineTable);
  }

  if (report.rtu) {
    const r = report.rtu;
    parts.push(
      '',
      `### Modbus RTU: transactions per second on one line (${r.line === 'pty' ? 'serial port on a socat pty pair' : 'RTU over TCP'}, the simulator paced to the baud rate, 8E1, ${r.windowS} s per case)`,
      '',
      table(
        ['baud, registers per read', 'frame-time limit /s', 'allbit RtuLine /s', 'share of limit', 'mean latency ms', 'raw: modbus-serial /s', 'errors'],
        r.cases.map((c) => [
          `${c.baudRate}, ${c.registers}`,
          num(c.limitPerSec, 1),
          num(c.allbitPerSec, 1),
          `${num(100 * c.allbitOfLimit)} %`,
          c.allbitMeanLatencyMs === null ? '–' : num(c.allbitMeanLatencyMs, 1),
          num(c.modbusSerialPerSec, 1),
          String(c.errors),
        ]),
      ),
    );
  }

  if (report.opcua) {
    const o = report.opcua;
    const h = ['', ...o.cases.map((c) => `${label(c.items)} items`)];
    const r = (name: string, f: (c: (typeof o.cases)[number]) => string): string[] => [name, ...o.cases.map(f)];
    parts.push(
      '',
      `### OPC UA: monitored items changing once a second (publishing interval ${o.publishingIntervalMs} ms, security None, ${o.windowS} s window)`,
      '',
      table(h, [
        r('readings/s delivered to the subscriber', (c) => num(c.agent.readingsPerSecond)),
        r('agent CPU, % of one core', (c) => num(c.agent.cpuPercent, 1)),
        r('  raw: node-opcua-client alone, CPU %', (c) => num(c.baseline.cpuPercent, 1)),
        r('agent peak RSS, MB', (c) => num(c.agent.peakRssMb)),
        r('  raw: node-opcua-client alone, peak RSS MB', (c) => num(c.baseline.peakRssMb)),
        r('  raw: data changes/s received', (c) => num(c.baseline.changesPerSecond)),
        r('agent: data cycle → broker p50 / p99, ms', (c) => (c.agent.cycleToBrokerMs ? `${num(c.agent.cycleToBrokerMs.p50)} / ${num(c.agent.cycleToBrokerMs.p99)}` : '–')),
        r('value change (server ts) → subscriber p50 / p99, ms', (c) => `${num(c.agent.changeToSubscriberMs.p50)} / ${num(c.agent.changeToSubscriberMs.p99)}`),
        r('  raw: value change → node-opcua-client p50 / p99, ms', (c) => (c.baseline.changeToClientMs ? `${num(c.baseline.changeToClientMs.p50)} / ${num(c.baseline.changeToClientMs.p99)}` : '–')),
        r('bad readings in window', (c) => String(c.agent.badReadings)),
        r('agent start → every item delivered, ms', (c) => num(c.agent.startToFirstValueMs)),
      ]),
    );
  }

  if (report.alarms) {
    const a = report.alarms;
    parts.push(
      '',
      `### Alarm evaluation (${num(a.tags)} tags read once a second, ${a.seconds} s, in-process)`,
      '',
      table(
        ['rules per tag', 'rules', 'CPU µs per reading', '% of one core at 10k tags/s', 'events'],
        a.cases.map((c) => [c.rules, num(c.rulesCount), num(c.cpuUsPerReading, 2), num(c.cpuPercentAt10k, 1), num(c.events)]),
      ),
    );
  }

  const checks = targetChecks(report);
  parts.push('', '### Targets', '', table(['target', 'measured', 'met'], checks.map((c) => [c.target, c.measured, c.met === null ? '–' : c.met ? 'yes' : 'NO'])));

  const notes: string[] = [];
  for (const s of S) {
    const p = s.pipeline;
    if (p.otherCpuPercent.foreign > 15) {
      notes.push(`${label(s.tags)}: WARNING — processes outside the bench used ${num(p.otherCpuPercent.foreign)} % of a core during the window; the figures are disturbed (run again on a quiet machine)`);
    }
    if (p.otherCpuPercent.steal > 1) {
      const stolenMs = (p.otherCpuPercent.steal / 100) * p.window.seconds * 1000;
      notes.push(
        `${label(s.tags)}: the hypervisor took ${num(stolenMs)} ms of CPU from this VM during the window (steal ${num(p.otherCpuPercent.steal, 1)} %); ` +
          'if it came at once, every process stalled for that long and the latency tail shows it',
      );
    }
    if (p.requests.perDeviceOverMinimum.length > 0) notes.push(`${label(s.tags)}: devices above the minimum: ${p.requests.perDeviceOverMinimum.join('; ')}`);
    if (p.holeSplits > 0) notes.push(`${label(s.tags)}: the driver split ${p.holeSplits} merged request(s) after exception 2`);
    if (p.continuity.examples.length > 0) notes.push(`${label(s.tags)}: continuity: ${p.continuity.examples.join('; ')}`);
    if (p.logWarnings.count > 0) notes.push(`${label(s.tags)}: ${p.logWarnings.count} agent warning/error log line(s), e.g. ${p.logWarnings.examples[0]}`);
    if (p.window.badReadings > 0) notes.push(`${label(s.tags)}: ${p.window.badReadings} readings of bad or uncertain quality in the window`);
    if (p.driverErrors > 0) notes.push(`${label(s.tags)}: ${p.driverErrors} driver errors in the window`);
    if (p.devicesConnected !== s.devices) notes.push(`${label(s.tags)}: only ${p.devicesConnected} of ${s.devices} devices connected at the end`);
    if (p.gcTrace) {
      const g = p.gcTrace;
      notes.push(
        `${label(s.tags)}: GC trace — allocated ${num(g.allocatedMbPerS, 1)} MB/s, promoted to old space ${num(g.promotedMbPerS, 2)} MB/s; ` +
          `${g.scavenges} scavenges (max ${num(g.maxScavengePauseMs, 1)} ms), ${g.markCompacts} mark-compacts (max ${num(g.maxMarkCompactPauseMs, 1)} ms); ` +
          `heap after GC ${num(g.heapAfterGcMb.min)}–${num(g.heapAfterGcMb.max)} MB`,
      );
    }
    if (p.profile) {
      notes.push(
        `${label(s.tags)}: CPU profile ${p.profile.file} (${p.profile.windowed ? 'window only' : 'whole run'}, idle ${num(p.profile.idlePercent)} %); busy time by file: ` +
          p.profile.topFiles.map((e) => `${e.name} ${num(e.percent, 1)} %`).join(', '),
      );
      notes.push(`${label(s.tags)}: top functions (self): ` + p.profile.topFunctions.map((e) => `${e.name} ${num(e.percent, 1)} %`).join('; '));
    }
  }
  if (notes.length > 0) parts.push('', '### Notes', '', ...notes.map((n) => `- ${n}`));
  return parts.join('\n') + '\n';
}
