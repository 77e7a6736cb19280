/**
 * The only place that creates concrete objects and wires them:
 * drivers → poll loops → ingest (normalize, report-by-exception) → SQLite outbox → forwarder →
 * MQTT publisher, with the live state written along the way and read by the status server.
 */
import { readFileSync } from 'node:fs';
import type { ResolvedConfig } from '../config/load.js';
import { modbusTcpDescriptor } from '../drivers/modbus/index.js';
import { createModbusRtuDescriptor } from '../drivers/modbus/rtu/index.js';
import { opcuaDescriptor } from '../drivers/opcua/index.js';
import { AlarmEngine } from './alarms/engine.js';
import { createCalculatedDescriptor, LatestValues, type CalculatedDescriptor } from './calc/index.js';
import { calcStatePathFor, SqliteCalcStateStore } from './buffer/sqlite-calc-state.js';
import { historyPathFor, isEnergyUnit, SqliteHistory } from './buffer/sqlite-history.js';
import { produceDailyReport, saveReport, type ReportContent } from './report/index.js';
import { DailyReportSchedule } from './scheduler/daily-report.js';
import type { AlarmEvent, AlarmRuleState } from './alarms/types.js';
import { alarmStatePathFor, SqliteAlarmStateStore } from './buffer/sqlite-alarm-state.js';
import { openSqliteOutbox } from './buffer/sqlite-outbox.js';
import type { Clock } from './core/clock.js';
import type { Driver, DriverDescriptor } from './core/driver.js';
import { silentLogger, type Logger } from './core/logger.js';
import type { Outbox } from './core/outbox.js';
import { CycleIngest } from './ingest/cycle-ingest.js';
import { Forwarder } from './mqtt/forwarder.js';
import { parseAlarmCommand, type AlarmCommand } from './mqtt/alarm-commands.js';
import { encodeActiveAlarmsMessage, encodeAlarmReply, encodeDailyReportMessage, encodeDeviceStatusMessage } from './mqtt/json-encoder.js';
import type { OutgoingMessage } from './core/publisher.js';
import { MqttPublisher, redactUrl } from './mqtt/mqtt-publisher.js';
import { createTopics, type Topics } from './mqtt/topics.js';
import type { PollCycle, Reading } from './core/reading.js';
import { PollLoop } from './scheduler/poll-loop.js';
import { systemClock } from './scheduler/system-clock.js';
import { Ticker } from './scheduler/ticker.js';
import { LiveState } from './state/live-state.js';
import { StatusAuth } from './status/auth.js';
import { createMetrics } from './status/metrics.js';
import { hostChecker } from './status/host-check.js';
import { StatusServer, statusRequestId, type StatusAlarmResult } from './status/server.js';

function readPem(path: string, at: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (cause) {
    throw new Error(`${at}: cannot read ${path}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, { cause });
  }
}

/**
 * The driver registry: one explicit array, no import side effects. Fresh per agent: a descriptor
 * may own shared resources (the RTU descriptor owns one line per bus, the calculated devices'
 * descriptor the latest values they read).
 */
export function createDriverRegistry(calculated: CalculatedDescriptor = createCalculatedDescriptor(new LatestValues())): DriverDescriptor[] {
  return [modbusTcpDescriptor, createModbusRtuDescriptor(), opcuaDescriptor, calculated];
}

/** Protocol requests one poll of every device takes, as the drivers plan them (nothing is opened). */
export function requestsPerCycle(config: ResolvedConfig, drivers: readonly DriverDescriptor[] = createDriverRegistry()): number {
  let total = 0;
  for (const device of config.devices) {
    const descriptor = drivers.find((d) => d.kind === device.connection.protocol);
    if (!descriptor) throw new Error(`device ${device.id}: no driver for protocol "${device.connection.protocol}"`);
    total += descriptor.create(device, { clock: systemClock, logger: silentLogger }).plan(device.tags).requestCount;
  }
  return total;
}

/** The coverage marker's tag name in the history: not a tag name a device can have (they start with a letter or digit). */
export const HISTORY_COVERAGE_TAG = '@good-readings';

/**
 * What the report's history counts, reading by reading: the tags the report shows (health tags,
 * facility meters, every kWh counter) and, per device and cycle, how many good readings it
 * delivered (the report's data coverage). Not every tag: at 10k tags that would cost ~1.5 % of a
 * core and ~10 MB for statistics nobody reads.
 */
function historyFeed(config: ResolvedConfig, history: SqliteHistory): (device: string, readings: readonly Reading[]) => void {
  const wanted = new Map<string, Set<string>>();
  const want = (device: string, tag: string) => {
    let tags = wanted.get(device);
    if (!tags) wanted.set(device, (tags = new Set()));
    tags.add(tag);
  };
  for (const ref of config.report.healthTags) want(ref.device, ref.tag);
  const f = config.report.facility;
  if (f) for (const ref of [...f.itEnergy, ...f.facilityEnergy, ...(f.pue ? [f.pue] : [])]) want(ref.device, ref.tag);
  for (const d of config.devices) for (const t of d.tags) if (isEnergyUnit(t.unit)) want(d.id, t.name);
  return (device, readings) => {
    const tags = wanted.get(device);
    let good = 0;
    let lastMs = 0;
    for (const r of readings) {
      if (r.quality === 'good') {
        good++;
        lastMs = r.timestampMs;
      }
      if (tags?.has(r.tag)) history.recordReading(device, r.tag, r.unit, r.value, r.timestampMs, r.quality);
    }
    if (good > 0) history.recordReading(device, HISTORY_COVERAGE_TAG, '', good, lastMs, 'good');
  };
}

export interface AgentOptions {
  config: ResolvedConfig;
  logger: Logger;
  version: string;
  clock?: Clock;
  drivers?: readonly DriverDescriptor[];
  /**
   * The status page's password when the agent had to generate one (no password file yet): shown
   * once, stored only as a hash. Default: printed to stderr (never logged).
   */
  onGeneratedPassword?: (password: string, passwordFile: string) => void;
}

export interface RunningAgent {
  readonly state: LiveState;
  /** Where the status page listens, when enabled. */
  readonly statusAddress: { host: string; port: number } | null;
  readonly outbox: Outbox;
  /** Stops polling, flushes what it can within a bounded time, publishes offline, closes the buffer. */
  stop(): Promise<void>;
}

export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const { config, logger, version } = options;
  const clock = options.clock ?? systemClock;
  // Files named by the config are read before anything is opened, so a missing one leaves nothing open.
  const tls = config.mqtt.tls && {
    ca: config.mqtt.tls.ca === undefined ? undefined : readPem(config.mqtt.tls.ca, 'mqtt.tls.ca'),
    cert: config.mqtt.tls.cert === undefined ? undefined : readPem(config.mqtt.tls.cert, 'mqtt.tls.cert'),
    key: config.mqtt.tls.key?.reveal(),
    rejectUnauthorized: config.mqtt.tls.rejectUnauthorized,
  };

  // What start-up has opened so far; if a later step fails, it is closed again (newest first) so
  // nothing stays locked for a retry.
  const opened: { close(): void }[] = [];
  const closeOpened = (err: unknown): unknown => {
    for (const resource of opened.reverse()) {
      try {
        resource.close();
      } catch {
        // Closing what failed to start: the original error is what the caller needs.
      }
    }
    return err;
  };

  // Calculated devices read the latest readings of the tags they name; ingest writes them.
  const latest = new LatestValues();
  const calculatedDevices = config.devices.filter((d) => d.connection.protocol === 'calc');
  for (const d of calculatedDevices) if (d.connection.protocol === 'calc') latest.watch(Object.values(d.connection.calculation.inputs).flat());
  let calcStore: SqliteCalcStateStore | null = null;
  if (calculatedDevices.length > 0) opened.push((calcStore = new SqliteCalcStateStore(calcStatePathFor(config.buffer.path))));
  let savedCalcState: ReturnType<SqliteCalcStateStore['load']> | undefined;
  try {
    savedCalcState = calcStore?.load();
  } catch (err) {
    throw closeOpened(err);
  }
  const calcDescriptor = createCalculatedDescriptor(latest, savedCalcState);
  const descriptors = options.drivers ? [...options.drivers.filter((d) => d.kind !== 'calc'), calcDescriptor] : createDriverRegistry(calcDescriptor);
  const registry = new Map(descriptors.map((d) => [d.kind, d]));
  const saveCalcState = (): void => {
    if (!calcStore) return;
    try {
      calcStore.save(calcDescriptor.states(), clock.now());
    } catch (err) {
      logger.error({ err: (err as Error).message, path: calcStore.path }, 'could not save the calculated devices\' state (energy counters keep counting in memory)');
    }
  };
  const topics: Topics = createTopics(config.gateway.id, config.mqtt.topicPrefix);

  // Everything that can be refused by bad input is checked before the buffer is opened.
  const drivers = new Map<string, Driver>();
  try {
    for (const device of config.devices) {
      const descriptor = registry.get(device.connection.protocol);
      if (!descriptor) throw new Error(`device ${device.id}: no driver for protocol "${device.connection.protocol}"`);
      drivers.set(device.id, descriptor.create(device, { clock, logger: logger.child({ device: device.id }) }));
      topics.deviceData(device.id);
    }
  } catch (err) {
    throw closeOpened(err);
  }

  const state = new LiveState({ id: config.gateway.id, name: config.gateway.name ?? config.gateway.id, version, startedMs: clock.now() }, () => clock.now());
  let outbox: ReturnType<typeof openSqliteOutbox>;
  try {
    outbox = openSqliteOutbox({ path: config.buffer.path, maxBytes: config.buffer.maxBytes, logger: logger.child({ part: 'outbox' }) });
    opened.push(outbox);
  } catch (err) {
    throw closeOpened(err);
  }
  // The daily report's local history: hourly statistics of the tags it shows, and every alarm event.
  let history: SqliteHistory | null = null;
  if (config.report.enabled) {
    try {
      const h = new SqliteHistory({ path: historyPathFor(config.buffer.path), retentionDays: config.report.retentionDays });
      opened.push({ close: () => h.close() });
      history = h;
    } catch (err) {
      throw closeOpened(err);
    }
  }
  const initial = outbox.stats();
  logger.info({ path: config.buffer.path, waiting: initial.records, nextSeq: initial.nextSeq }, 'outbox open');

  const publisher = new MqttPublisher({
    url: config.mqtt.url,
    clientId: config.mqtt.clientId,
    username: config.mqtt.username,
    password: config.mqtt.password?.reveal(),
    keepaliveS: config.mqtt.keepaliveS,
    publishTimeoutMs: config.mqtt.publishTimeoutMs,
    reconnectPeriodMs: config.mqtt.reconnectPeriodMs,
    inflight: config.mqtt.inflight,
    tls,
    topics,
    version,
    outboxId: outbox.outboxId,
    clock,
    logger: logger.child({ part: 'mqtt' }),
  });
  const forwarder = new Forwarder({
    outbox,
    publisher,
    topics,
    batchSize: config.mqtt.inflight,
    drainRatePerSec: config.buffer.drainRatePerSec,
    clock,
    logger: logger.child({ part: 'forwarder' }),
  });

  const availability = new Map<string, boolean>();
  const publishDeviceStatus = (deviceId: string, online: boolean, detail: string | null): void => {
    const message = encodeDeviceStatusMessage(topics, {
      device: deviceId,
      state: online ? 'online' : 'offline',
      tsMs: clock.now(),
      ...(online ? {} : { reason: 'comm-lost' as const }),
      ...(detail ? { detail } : {}),
    });
    publisher.publish([message]).catch(() => {
      // Republished on the next connection (see onStateChange below).
    });
  };
  publisher.onStateChange((s) => {
    state.setBroker(s);
    if (s.state === 'connected') {
      publishActiveAlarms();
      publishReport();
      for (const [id, online] of availability) publishDeviceStatus(id, online, online ? null : (loops.get(id)?.snapshot().lastError ?? null));
    }
  });

  // Alarms: the engine continues from the state saved beside the outbox; its events go into the
  // outbox with the readings that caused them; the list of active alarms is published retained.
  let alarmStore: SqliteAlarmStateStore | null = null;
  let alarms: AlarmEngine | null = null;
  if (config.alarms.length > 0) {
    try {
      opened.push((alarmStore = new SqliteAlarmStateStore(alarmStatePathFor(config.buffer.path))));
      alarms = new AlarmEngine(config.alarms, alarmStore.load() as Map<string, AlarmRuleState>);
    } catch (err) {
      throw closeOpened(err);
    }
    logger.info({ rules: config.alarms.length, active: alarms.activeAlarms().length, state: alarmStore.path }, 'alarms loaded');
    state.setAlarms(alarms.activeSummaries());
  }
  const publishActiveAlarms = (summaries = alarms?.activeSummaries()): void => {
    if (!summaries) return;
    publisher.publish([encodeActiveAlarmsMessage(topics, summaries, clock.now())]).catch(() => {
      // Published again on the next change and on reconnection.
    });
  };
  const afterAlarmEvents = (events: readonly AlarmEvent[]): void => {
    if (events.length === 0 || !alarms || !alarmStore) return;
    try {
      history?.recordAlarmEvents(events);
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'could not record alarm events for the daily report; they are still buffered for the broker');
    }
    const changed = new Set(events.map((e) => e.ruleId));
    try {
      alarmStore.save([...changed].map((id) => [id, alarms!.state(id)]), clock.now());
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'could not save alarm state; alarm events are still buffered');
    }
    const summaries = alarms.activeSummaries();
    publishActiveAlarms(summaries);
    state.setAlarms(summaries);
  };
  const alarmSink = alarms && {
    evaluate: (readings: readonly Reading[], nowMs: number) => {
      const events: AlarmEvent[] = [];
      for (const r of readings) events.push(...alarms!.evaluate({ device: r.device, tag: r.tag, value: r.value, quality: r.quality, reason: r.reason, timestampMs: r.timestampMs }, nowMs));
      afterAlarmEvents(events);
      return events;
    },
  };

  const ingest = new CycleIngest({
    devices: config.devices,
    outbox,
    state,
    clock,
    logger: logger.child({ part: 'ingest' }),
    onAppended: (stored) => forwarder.wake(stored),
    ...(alarmSink ? { alarms: alarmSink } : {}),
    observers: [
      ...(calculatedDevices.length > 0 ? [(device: string, readings: readonly Reading[], nowMs: number) => latest.observe(device, readings, nowMs)] : []),
      ...(history ? [historyFeed(config, history)] : []),
    ],
  });
  // Operator actions (MQTT commands and the status page alike): applied, recorded (who, when, why)
  // as alarm events in the outbox and in the local audit table.
  // Set when stop() begins: an operator action arriving while the stores close would be applied in
  // memory but not recorded (audit, state, outbox), so it is refused instead.
  let closing = false;
  const applyAlarmCommand = (command: AlarmCommand): StatusAlarmResult => {
    if (closing) return { ok: false, error: 'the gateway is stopping: the action was not applied, try again once it is back' };
    const nowMs = clock.now();
    const result = alarms!.act(
      command.alarm,
      { type: command.action, by: command.by, reason: command.reason, ...(command.minutes !== undefined ? { untilMs: nowMs + command.minutes * 60_000 } : {}) },
      nowMs,
    );
    try {
      alarmStore!.audit({ tsMs: nowMs, requestId: command.id, alarm: command.alarm, action: command.action, by: command.by, reason: command.reason, error: result.error ?? null });
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'could not record an operator action in the audit table');
    }
    logger.info({ id: command.id, action: command.action, alarm: command.alarm, by: command.by, err: result.error }, result.error ? 'alarm command refused' : 'alarm command applied');
    if (result.error) return { ok: false, error: result.error };
    ingest.appendAlarmEvents(result.events);
    afterAlarmEvents(result.events);
    return { ok: true, state: result.state.state, shelvedUntilMs: result.state.shelvedUntilMs };
  };
  // Over MQTT: validated, applied, and answered on the replies topic.
  if (alarms) {
    publisher.listen(topics.alarmCommands, (payload) => {
      const parsed = parseAlarmCommand(payload);
      const reply = (body: Parameters<typeof encodeAlarmReply>[1]): void => {
        publisher.publish([encodeAlarmReply(topics, body, clock.now())]).catch(() => {
          // The requester sees no reply and may ask again; the action itself is recorded.
        });
      };
      if (!parsed.ok) {
        logger.warn({ id: parsed.id, err: parsed.error }, 'alarm command refused');
        reply({ id: parsed.id, ok: false, error: parsed.error });
        return;
      }
      const { command } = parsed;
      const result = applyAlarmCommand(command);
      if (!result.ok) {
        reply({ id: command.id, ok: false, alarm: command.alarm, error: result.error! });
        return;
      }
      reply({ id: command.id, ok: true, alarm: command.alarm, state: result.state, shelvedUntilMs: result.shelvedUntilMs ?? null });
    });
  }
  const alarmTicker = new Ticker(
    clock,
    1000,
    () => {
      if (!alarms) return;
      const events = alarms.tick(clock.now());
      ingest.appendAlarmEvents(events);
      afterAlarmEvents(events);
      state.setAlarms(alarms.activeSummaries());
    },
    (err) => logger.error({ err: (err as Error).message }, 'alarm tick failed'),
  );
  const loops = new Map<string, PollLoop>();
  for (const [index, device] of config.devices.entries()) {
    const driver = drivers.get(device.id)!;
    const loop: PollLoop = new PollLoop({
      device,
      driver,
      clock,
      // Spread the devices' cycles evenly over the interval instead of polling all at once.
      phaseMs: Math.floor((index * device.pollIntervalMs) / config.devices.length),
      logger: logger.child({ device: device.id }),
      onCycle: (cycle: PollCycle) => {
        ingest.ingest(cycle);
        state.setDeviceHealth(device.id, loop.snapshot(), driver.stats(), loop.readPlan.requestCount);
        if (availability.get(device.id) !== cycle.connected) {
          availability.set(device.id, cycle.connected);
          publishDeviceStatus(device.id, cycle.connected, cycle.connected ? null : loop.snapshot().lastError);
        }
      },
    });
    loops.set(device.id, loop);
    state.addDevice(device, loop.readPlan.requestCount);
  }

  const refreshGatewayState = (): void => {
    state.setBuffer(outbox.stats());
    state.setBroker(publisher.state());
    const f = forwarder.stats();
    state.setForwarder({ published: f.acked, failures: f.failures, inFlight: f.inFlight, backlog: f.backlogRemaining, lane: f.lane, lastError: f.lastError });
    state.setIngest(ingest.appendHealth());
    state.setBuses(descriptors.flatMap((d) => d.buses?.() ?? []));
  };
  const stateTicker = new Ticker(clock, 1000, refreshGatewayState, (err) => logger.error({ err: (err as Error).message }, 'refreshing the live state failed'));
  const historyTicker = new Ticker(clock, 60_000, () => history?.flush(clock.now()), (err) => logger.error({ err: (err as Error).message }, 'writing the daily report\'s hourly statistics failed; they are kept in memory for the next attempt'));

  // The daily report: made at the configured local time (and caught up after a restart), saved
  // beside the outbox and published retained. Published directly, not through the outbox: the
  // retained message is the latest report, and the files keep every one.
  let lastReport: OutgoingMessage | null = null;
  let lastReportPublished = true;
  const publishReport = (): void => {
    if (!lastReport || lastReportPublished) return;
    const message = lastReport;
    publisher.publish([message]).then(
      () => {
        if (lastReport === message) lastReportPublished = true;
      },
      () => {
        // Published on the next connection (see onStateChange).
      },
    );
  };
  const reportContent: ReportContent = {
    gateway: { id: config.gateway.id, ...(config.gateway.name ? { name: config.gateway.name } : {}) },
    devices: config.devices.map((d) => d.id),
    healthTags: config.report.healthTags,
    ...(config.report.facility ? { facility: config.report.facility } : {}),
  };
  const reportSchedule =
    history &&
    new DailyReportSchedule({
      time: config.report.time,
      timeZone: config.report.timeZone,
      clock,
      runs: history,
      maxCatchUpDays: config.report.maxCatchUpDays,
      logger: logger.child({ part: 'report' }),
      run: (window) => {
        const { report, markdown } = produceDailyReport(history!, window, reportContent, clock.now());
        const saved = saveReport(config.report.dir, report, markdown, { keepDays: config.report.keepDays });
        logger.info({ date: window.date, file: saved.markdownPath }, 'daily report written');
        lastReport = encodeDailyReportMessage(topics, report, markdown, clock.now());
        lastReportPublished = false;
        publishReport();
      },
      onError: (err, window) => logger.error({ err: (err as Error).message, date: window.date }, 'daily report failed; it is tried again within the hour'),
    });
  const calcSaveTicker = new Ticker(clock, 60_000, saveCalcState, (err) => logger.error({ err: (err as Error).message }, 'saving the calculated devices\' state failed'));

  let status: StatusServer | null = null;
  let statusAddress: { host: string; port: number } | null = null;
  try {
    if (config.status.enabled) {
      const snapshot = () => state.snapshot();
      const auth = new StatusAuth({
        passwordFile: config.status.passwordFile,
        readAccess: config.status.readAccess,
        sessionIdleMs: config.status.sessionIdleMin * 60_000,
        clock,
        logger: logger.child({ part: 'status-auth' }),
      });
      const { generatedPassword } = auth.initialise();
      if (generatedPassword !== null) {
        (options.onGeneratedPassword ??
          ((password, file) => process.stderr.write(`allbit: status page password (shown once; stored only as a hash in ${file}; change it with \`allbit password\`): ${password}\n`)))(generatedPassword, config.status.passwordFile);
      }
      status = new StatusServer({
        host: config.status.host,
        port: config.status.port,
        snapshot,
        isReady: () => state.isReady(),
        state,
        clock,
        logger: logger.child({ part: 'status' }),
        // The tag-free overview: a scrape at 10k tags costs milliseconds, not a deep copy of every tag.
        metrics: createMetrics(() => state.overview()),
        hostAllowed: hostChecker(config.status.allowedHosts),
        auth,
        // The page's actions take the MQTT command's path: the same validation, audit table and outbox.
        ...(alarms
          ? {
              alarmAction: (c) => {
                const parsed = parseAlarmCommand(JSON.stringify({ id: statusRequestId(), ...c }));
                return parsed.ok ? applyAlarmCommand(parsed.command) : { ok: false, error: parsed.error };
              },
            }
          : {}),
      });
      statusAddress = await status.start();
    }
  } catch (err) {
    throw closeOpened(err);
  }

  publisher.start();
  forwarder.start();
  for (const loop of loops.values()) loop.start();
  stateTicker.start();
  if (alarms) alarmTicker.start();
  if (calcStore) calcSaveTicker.start();
  if (history) historyTicker.start();
  await reportSchedule?.start();
  refreshGatewayState();
  state.setReady(true);
  logger.info({ devices: config.devices.length, broker: redactUrl(config.mqtt.url), buffer: config.buffer.path, status: statusAddress }, 'agent started');

  let stopping: Promise<void> | null = null;
  return {
    state,
    statusAddress,
    outbox,
    stop() {
      stopping ??= (async () => {
        closing = true;
        state.setReady(false);
        // The page first: no operator action may arrive once the stores begin to close.
        await status?.stop();
        stateTicker.stop();
        alarmTicker.stop();
        await Promise.all([...loops.values()].map((l) => l.stop()));
        calcSaveTicker.stop();
        saveCalcState();
        calcStore?.close();
        historyTicker.stop();
        await reportSchedule?.stop();
        try {
          history?.close(clock.now());
        } catch (err) {
          logger.error({ err: (err as Error).message }, 'could not write the last hourly statistics at shutdown');
        }
        if (alarms && alarmStore) {
          try {
            alarmStore.save(alarms.states(), clock.now());
          } catch (err) {
            logger.error({ err: (err as Error).message }, 'could not save alarm state at shutdown');
          }
          alarmStore.close();
        }
        // Retained device statuses would otherwise keep saying "online" after the gateway is gone.
        if (publisher.state().state === 'connected') {
          const offline = [...availability.keys()].map((device) =>
            encodeDeviceStatusMessage(topics, { device, state: 'offline', tsMs: clock.now(), detail: 'gateway stopped' }),
          );
          await publisher.publish(offline).catch((err) => logger.warn({ err: (err as Error).message }, 'could not publish device offline statuses'));
        }
        await forwarder.stop();
        await publisher.stop();
        outbox.close();
        logger.info({}, 'agent stopped');
      })();
      return stopping;
    },
  };
}
