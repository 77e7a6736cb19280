/**
 * Calculated devices in the running agent: simulator → agent → MQTT. Health and KPI values are
 * published on their own device topics like any device, agree with the readings they come from,
 * raise alarms, turn bad (with the reason) when their source is lost, and their energy counters
 * continue after a restart instead of starting again from zero.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { calcStatePathFor } from '../../agent/buffer/sqlite-calc-state.js';
import { silentLogger } from '../../agent/core/logger.js';
import type { AlarmEventsPayload, DataPayload, DataPayloadReading } from '../../agent/mqtt/json-encoder.js';
import { startAgent, type RunningAgent } from '../../agent/runtime.js';
import { startPlantSimulator } from '../../simulators/index.js';
import { collect, startAedes } from '../helpers/brokers.js';
import { plantConfig } from '../helpers/plant-config.js';
import { existsSync } from 'node:fs';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('calculated devices in the running agent', () => {
  it('publishes health and KPIs that agree with their inputs, alarms on them, marks them bad on comm loss, and keeps energy counters across a restart', async () => {
    const sim = await startPlantSimulator({ autoRun: false, seed: 5 });
    cleanups.push(() => sim.close());
    sim.step(3600);
    const broker = await startAedes();
    cleanups.push(() => broker.close());
    const calculated = [
      {
        id: 'chiller-1-health',
        model: 'chiller',
        source: 'chiller-1',
        parameters: { nominalCoolingKw: 1760 },
        maxInputAgeMs: 1500,
        // Below the present approach: raised at once, on a calculated tag.
        alarms: [{ type: 'high', tag: 'cond_approach', limit: 0.5, priority: 'high' }],
      },
      { id: 'site', model: 'facility', inputs: { itMeters: ['ups-1.output_power_kw'], facilityMeters: ['transformer-1.active_power_kw'], coolingMeters: ['chiller-1.power_kw', 'cooling-tower-1.fan_power_kw'] } },
    ];
    const { config } = plantConfig(sim, { brokerUrl: broker.url, calculated, pollIntervalMs: 100 });
    const sub = await collect(broker.url, 'allbit/test-edge/#');
    cleanups.push(() => sub.close());

    let agent: RunningAgent = await startAgent({ config, logger: silentLogger, version: 'test' });
    let running = true;
    cleanups.push(() => (running ? agent.stop() : Promise.resolve()));

    const readings = (device: string, from = 0): DataPayloadReading[] =>
      sub.messages.slice(from).filter((m) => m.topic === `allbit/test-edge/devices/${device}/data`).flatMap((m) => (JSON.parse(m.payload) as DataPayload).readings);
    const latest = (device: string, tag: string, from = 0): DataPayloadReading | undefined => readings(device, from).filter((r) => r.tag === tag).at(-1);

    // The first calculations may run before their inputs' first readings (bad / not-connected): wait for good values.
    const seen = (pairs: [string, string][]) => pairs.every(([device, tag]) => latest(device, tag)?.quality === 'good');
    await sub.until('the calculations and their inputs published', () =>
      seen([['chiller-1-health', 'kw_per_ton'], ['site', 'pue'], ['chiller-1', 'power_kw'], ['ups-1', 'output_power_kw'], ['transformer-1', 'active_power_kw']]),
    );
    // The simulator is paused: the inputs are constant, so the calculations must match them exactly.
    const power = latest('chiller-1', 'power_kw')!.value as number;
    const cooling = latest('chiller-1', 'cooling_load_kw')!.value as number;
    const kwPerTon = latest('chiller-1-health', 'kw_per_ton')!;
    expect(kwPerTon.quality).toBe('good');
    expect(kwPerTon.unit).toBe('kW/TR');
    expect(kwPerTon.value as number).toBeCloseTo(power / (cooling / 3.51685), 9);
    const condSat = latest('chiller-1', 'cond_sat_temp')!.value as number;
    const cwLeaving = latest('chiller-1', 'cw_leaving_temp')!.value as number;
    expect(latest('chiller-1-health', 'cond_approach')!.value as number).toBeCloseTo(condSat - cwLeaving, 9);
    const it = latest('ups-1', 'output_power_kw')!.value as number;
    const facility = latest('transformer-1', 'active_power_kw')!.value as number;
    expect(latest('site', 'pue')!.value as number).toBeCloseTo(facility / it, 9);

    const events = () => sub.messages.filter((m) => m.topic === 'allbit/test-edge/alarms/events').flatMap((m) => (JSON.parse(m.payload) as AlarmEventsPayload).events);
    await sub.until('the alarm on the calculated tag', () => events().some((e) => e.type === 'raised'));
    expect(events().find((e) => e.type === 'raised')).toMatchObject({ alarm: 'chiller-1-health.cond_approach.high', device: 'chiller-1-health', tag: 'cond_approach', unit: 'K' });

    // Energy counts up while the chiller runs.
    await sub.until('the chiller energy counter counting', () => ((latest('chiller-1-health', 'energy_kwh')?.value as number | undefined) ?? 0) > 0);

    // The chiller's simulator stops: its calculations turn bad with the reason, the site's cooling sum too.
    const mark = sub.messages.length;
    await sim.stopDevice('chiller-1');
    await sub.until('kw_per_ton bad', () => latest('chiller-1-health', 'kw_per_ton', mark)?.quality === 'bad');
    expect(['comm-lost', 'timeout', 'stale']).toContain(latest('chiller-1-health', 'kw_per_ton', mark)!.reason);
    await sub.until('cooling power bad', () => latest('site', 'cooling_power_kw', mark)?.quality === 'bad');
    expect(latest('site', 'it_load_kw', mark)?.quality ?? 'good').toBe('good');

    // Restart: the counters continue from their saved totals.
    const before = latest('site', 'it_energy_kwh')!.value as number;
    expect(before).toBeGreaterThan(0);
    await agent.stop();
    running = false;
    expect(existsSync(calcStatePathFor(config.buffer.path))).toBe(true);
    const restartMark = sub.messages.length;
    agent = await startAgent({ config, logger: silentLogger, version: 'test' });
    running = true;
    await sub.until('the site energy counter after the restart', () => latest('site', 'it_energy_kwh', restartMark) !== undefined);
    expect(latest('site', 'it_energy_kwh', restartMark)!.value as number).toBeGreaterThanOrEqual(before);
  }, 30_000);
});
