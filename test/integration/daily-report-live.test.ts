/**
 * The daily operations report in the running agent: a gateway that was down when its report was
 * due makes it at start (catch-up), from the history kept beside the outbox, saves it as Markdown
 * and JSON, and publishes it retained, so a consumer that subscribes later still gets it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { historyPathFor, SqliteHistory } from '../../agent/buffer/sqlite-history.js';
import { silentLogger } from '../../agent/core/logger.js';
import { startAgent } from '../../agent/runtime.js';
import { latestScheduledDate, parseLocalTime, scheduledInstant, windowEndingOn } from '../../agent/scheduler/daily-report.js';
import { startPlantSimulator } from '../../simulators/index.js';
import { collect, startAedes, waitFor } from '../helpers/brokers.js';
import { plantConfig } from '../helpers/plant-config.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

interface ReportMessage {
  date: string;
  timeZone: string;
  markdown: string;
  report: { gateway: { id: string }; window: { fromMs: number; toMs: number }; alarms: unknown; energy?: unknown };
}

describe('daily operations report in the running agent', () => {
  it('catches up a missed report at start: saved as Markdown and JSON, published retained', async () => {
    const sim = await startPlantSimulator({ autoRun: false, seed: 8 });
    cleanups.push(() => sim.close());
    const broker = await startAedes();
    cleanups.push(() => broker.close());
    const time = '05:30';
    const timeZone = 'Europe/Berlin';
    const { config, dir } = plantConfig(sim, {
      brokerUrl: broker.url,
      report: { time, timeZone, dir: 'reports' },
      calculated: [{ id: 'site', model: 'facility', inputs: { itMeters: ['ups-1.output_power_kw'], facilityMeters: ['transformer-1.active_power_kw'] } }],
    });

    // The history as a gateway leaves it: the report before the missed one was made; the missed
    // day has readings (energy counters rising, a PUE) and an alarm raised and cleared.
    const local = parseLocalTime(time);
    const dueDate = latestScheduledDate(Date.now(), local, timeZone);
    const due = windowEndingOn(dueDate, local, timeZone);
    const history = new SqliteHistory({ path: historyPathFor(config.buffer.path) });
    history.recordReportRun(due.fromMs, due.fromMs);
    for (let h = 0; h < 24; h++) {
      const t = due.fromMs + h * 3_600_000 + 60_000;
      history.recordReadings([
        { device: 'site', tag: 'it_energy_kwh', unit: 'kWh', value: 1000 * h, timestampMs: t, quality: 'good' },
        { device: 'site', tag: 'facility_energy_kwh', unit: 'kWh', value: 1300 * h, timestampMs: t, quality: 'good' },
        { device: 'site', tag: 'pue', unit: '', value: 1.3, timestampMs: t, quality: 'good' },
      ]);
    }
    const event = { seq: 0, device: 'chiller-1', tag: 'chw_supply_temp', unit: '°C', priority: 'high' as const, message: 'supply high', value: 18.4 };
    history.recordAlarmEvents([
      { ...event, alarm: 'chiller-1.chw_supply_temp.high', ruleId: 'chiller-1.chw_supply_temp.high', type: 'raised', state: 'active-unack', tsMs: due.fromMs + 2 * 3_600_000 } as never,
      { ...event, alarm: 'chiller-1.chw_supply_temp.high', ruleId: 'chiller-1.chw_supply_temp.high', type: 'returned', state: 'returned-unack', tsMs: due.fromMs + 4 * 3_600_000 } as never,
    ]);
    history.close(due.toMs);

    const agent = await startAgent({ config, logger: silentLogger, version: 'test' });
    let running = true;
    cleanups.push(() => (running ? agent.stop() : Promise.resolve()));

    const sub = await collect(broker.url, 'allbit/test-edge/reports/daily');
    cleanups.push(() => sub.close());
    await sub.until('the retained report', () => sub.messages.some((m) => m.retain));
    const message = JSON.parse(sub.messages.find((m) => m.retain)!.payload) as ReportMessage;
    expect(message.date).toBe(due.date);
    expect(message.timeZone).toBe(timeZone);
    expect(message.report.gateway.id).toBe('test-edge');
    expect(message.report.window).toMatchObject({ fromMs: due.fromMs, toMs: due.toMs });
    expect(due.toMs).toBe(scheduledInstant(dueDate, local, timeZone));
    expect(message.markdown).toContain('chiller-1.chw_supply_temp.high');

    const md = join(dir, 'reports', `${due.date}.md`);
    const json = join(dir, 'reports', `${due.date}.json`);
    expect(existsSync(md) && existsSync(json)).toBe(true);
    expect(readFileSync(md, 'utf8')).toBe(message.markdown);
    expect(JSON.parse(readFileSync(json, 'utf8'))).toEqual(message.report);

    // What the running agent counted: the report's tags and each device's good readings, not every tag.
    await waitFor('a few poll cycles', () => agent.state.snapshot().readingsIn > 500, 10_000);
    await agent.stop();
    running = false;
    const after = new SqliteHistory({ path: historyPathFor(config.buffer.path) });
    try {
      const counted = new Set(after.hourlyStats(Date.now() - 3_600_000, Date.now() + 3_600_000).map((r) => `${r.device}.${r.tag}`));
      for (const d of ['chiller-1', 'cooling-tower-1', 'transformer-1', 'ups-1', 'site']) expect(counted, d).toContain(`${d}.@good-readings`);
      expect(counted).toContain('site.it_energy_kwh');
      expect(counted).toContain('site.pue'); // a health tag by default: an output of a calculated device
      expect(counted).not.toContain('chiller-1.chw_supply_temp');
    } finally {
      after.close();
    }
  }, 30_000);
});
