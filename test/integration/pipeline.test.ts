import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../agent/logging.js';
import type { DataPayload } from '../../agent/mqtt/json-encoder.js';
import { startAgent, type RunningAgent } from '../../agent/runtime.js';
import { startPlantSimulator, type PlantSimulator } from '../../simulators/index.js';
import { collect, startAedes, waitFor, type AedesBroker, type Collector } from '../helpers/brokers.js';
import { plantConfig } from '../helpers/plant-config.js';

/** simulator → Modbus TCP → agent → SQLite → MQTT (aedes) → subscriber, all real. */
describe('the spine end to end', () => {
  let sim: PlantSimulator;
  let broker: AedesBroker;
  let agent: RunningAgent;
  let sub: Collector;
  let config: ReturnType<typeof plantConfig>['config'];
  const SECRET = 'pl4nt-r00m-s3cret';
  let logs = '';

  beforeAll(async () => {
    sim = await startPlantSimulator({ autoRun: false, seed: 7 });
    sim.step(3600); // settle the physics an hour in
    broker = await startAedes();
    sub = await collect(broker.url, 'allbit/#');
    config = plantConfig(sim, { brokerUrl: broker.url, maxSilenceMs: 0, credentials: { username: 'allbit', password: SECRET } }).config;
    const logStream = new PassThrough();
    logStream.on('data', (d) => (logs += d));
    agent = await startAgent({ config, logger: createLogger('debug', logStream), version: 'test' });
  });

  afterAll(async () => {
    await agent?.stop();
    await sub?.close();
    await broker?.close();
    await sim?.close();
  });

  const dataOf = (device: string): DataPayload[] =>
    sub.messages.filter((m) => m.topic === `allbit/test-edge/devices/${device}/data`).map((m) => JSON.parse(m.payload) as DataPayload);

  it('publishes, for every profile tag of every device, the value the simulator holds', async () => {
    await sub.until('a full poll from every device', () => sim.devices.every((d) => dataOf(d.id).some((p) => p.readings.length === config.devices.find((c) => c.id === d.id)!.tags.length)));
    for (const device of sim.devices) {
      const spec = config.devices.find((c) => c.id === device.id)!;
      const full = dataOf(device.id).find((p) => p.readings.length === spec.tags.length)!;
      const truth = sim.values(device.id);
      const points = new Map(sim.pointMap(device.id).map((p) => [p.name, p]));
      for (const reading of full.readings) {
        const tag = spec.tags.find((t) => t.name === reading.tag)!;
        const expected = truth[reading.tag];
        const where = `${device.id}.${reading.tag}`;
        expect(reading.quality, where).toBe('good');
        expect(reading.unit, where).toBe(tag.unit);
        expect(expected, where).toBeDefined();
        if (typeof expected === 'number') {
          // Quantisation: half a register step for scaled integers; float32 keeps ~7 significant digits.
          const point = points.get(reading.tag)!;
          const tolerance = point.type === 'float32' ? Math.abs(expected) * 1e-6 + 1e-6 : point.type === 'float64' ? 1e-9 * Math.abs(expected) : Math.abs(tag.scale) / 2 + 1e-9;
          expect(Math.abs((reading.value as number) - expected), `${where}: ${reading.value} vs ${expected}`).toBeLessThanOrEqual(tolerance);
        } else {
          expect(reading.value, where).toBe(expected);
        }
      }
      expect(full.lastSeq - full.firstSeq + 1).toBe(full.readings.length);
      expect(full.readings.map((r) => r.seq)).toEqual(full.readings.map((_, i) => full.firstSeq + i));
    }
  });

  it('publishes retained gateway and device availability, and serves the status API', async () => {
    await sub.until('online statuses', (ms) => sim.devices.every((d) => ms.some((m) => m.topic === `allbit/test-edge/devices/${d.id}/status` && JSON.parse(m.payload).state === 'online')));
    expect(sub.messages.some((m) => m.topic === 'allbit/test-edge/status' && JSON.parse(m.payload).state === 'online')).toBe(true);
    const base = `http://${agent.statusAddress!.host}:${agent.statusAddress!.port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${base}/readyz`)).json()).toEqual({ status: 'ready' });
    const status = (await (await fetch(`${base}/api/status`)).json()) as { devices: Array<{ id: string; health: { connected: boolean }; tags: Array<{ tag: string; value: unknown; quality: string }> }> };
    expect(status.devices.map((d) => d.id).sort()).toEqual(sim.devices.map((d) => d.id).sort());
    const chiller = status.devices.find((d) => d.id === 'chiller-1')!;
    expect(chiller.health.connected).toBe(true);
    const supply = chiller.tags.find((t) => t.tag === 'chw_supply_temp')!;
    expect(supply.quality).toBe('good');
    expect(Math.abs((supply.value as number) - (sim.values('chiller-1').chw_supply_temp as number))).toBeLessThan(0.01);
    const html = await (await fetch(`${base}/`)).text();
    expect(html).toContain('<title>allbit gateway</title>');
    // The MQTT password (from the environment) reaches neither the API nor the logs.
    expect(config.mqtt.password?.reveal()).toBe(SECRET);
    expect(JSON.stringify(status)).not.toContain(SECRET);
    expect(logs).toContain('agent started');
    expect(logs).not.toContain(SECRET);
  });

  it('a device that goes away turns bad with comm-lost, is announced offline, and recovers on its own', async () => {
    const before = sub.messages.length;
    await sim.stopDevice('ups-1');
    await sub.until('ups-1 offline', (ms) => ms.slice(before).some((m) => m.topic === 'allbit/test-edge/devices/ups-1/status' && JSON.parse(m.payload).state === 'offline'));
    await sub.until('ups-1 readings bad with comm-lost', () => dataOf('ups-1').some((p) => p.readings.length > 0 && p.readings.every((r) => r.quality === 'bad' && r.reason === 'comm-lost' && r.value === null)));
    // Other devices keep flowing while one is down.
    const chillerBefore = dataOf('chiller-1').length;
    await sub.until('chiller still polled', () => dataOf('chiller-1').length > chillerBefore + 2);
    const mark = sub.messages.length;
    await sim.startDevice('ups-1');
    await sub.until('ups-1 online again', (ms) => ms.slice(mark).some((m) => m.topic === 'allbit/test-edge/devices/ups-1/status' && JSON.parse(m.payload).state === 'online'));
    await waitFor('good ups readings', () => dataOf('ups-1').at(-1)!.readings.every((r) => r.quality === 'good'));
  });
});
