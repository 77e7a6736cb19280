/**
 * The Modbus RTU driver on a shared line against the plant simulator's RTU bus over real TCP
 * ("RTU over TCP", as through a serial-to-Ethernet converter): several units on one line, a dead
 * unit, a slow unit whose replies come late, garbled replies, and the fairness of the line.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceSpec } from '../../agent/core/device.js';
import { silentLogger } from '../../agent/core/logger.js';
import type { RawSample } from '../../agent/core/reading.js';
import { systemClock } from '../../agent/scheduler/system-clock.js';
import { loadConfigText } from '../../config/load.js';
import { ModbusTcpDriver } from '../../drivers/modbus/driver.js';
import { createModbusRtuDescriptor, RtuLine, type ModbusRtuDriver } from '../../drivers/modbus/rtu/index.js';
import { createRtuBus, startPlantSimulator, type PlantSimulator, type RtuBus } from '../../simulators/index.js';
import { waitFor, waitForAsync } from '../helpers/brokers.js';

const START = Date.UTC(2026, 6, 14, 14, 0, 0);
const context = { clock: systemClock, logger: silentLogger };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

interface Rig {
  sim: PlantSimulator;
  bus: RtuBus;
  port: number;
  devices: Map<string, DeviceSpec>;
}

/** The plant with chiller-1 as unit 1 and cooling-tower-1 as unit 2 on one RTU-over-TCP line. */
async function rig(devicesYaml: string, timeoutMs = 300): Promise<Rig> {
  const sim = await startPlantSimulator({ autoRun: false, seed: 3, startTimeMs: START, host: '127.0.0.1', ports: { chiller: 0, 'cooling-tower': 0, transformer: 0, ups: 0 } });
  cleanups.push(() => sim.close());
  sim.step(300);
  const bus = createRtuBus(sim, { units: { 1: 'chiller-1', 2: 'cooling-tower-1' } });
  cleanups.push(() => bus.close());
  const port = await bus.listen('127.0.0.1', 0);
  const config = loadConfigText(
    `gateway: { id: rtu-test }
mqtt: { url: "mqtt://127.0.0.1:1" }
defaults: { backoffInitialMs: 50, backoffMaxMs: 200 }
buses:
  - { id: line-1, transport: tcp, host: 127.0.0.1, port: ${port}, timeoutMs: ${timeoutMs} }
devices:
${devicesYaml}`,
    '/tmp/rtu-test.yaml',
    { env: {} },
  );
  return { sim, bus, port, devices: new Map(config.devices.map((d) => [d.id, d])) };
}

const TWO_UNITS = `  - { id: chiller-1, profile: chiller, bus: line-1, unitId: 1 }
  - { id: cooling-tower-1, profile: cooling-tower, bus: line-1, unitId: 2 }
`;

function drivers(r: Rig): { descriptor: ReturnType<typeof createModbusRtuDescriptor>; of: (id: string) => ModbusRtuDriver } {
  const descriptor = createModbusRtuDescriptor();
  const made = new Map<string, ModbusRtuDriver>();
  return {
    descriptor,
    of(id) {
      let d = made.get(id);
      if (!d) {
        d = descriptor.create(r.devices.get(id)!, context) as ModbusRtuDriver;
        made.set(id, d);
        const driver = d;
        cleanups.push(() => driver.close());
      }
      return d;
    },
  };
}

/** The same device read over Modbus TCP from the simulator's TCP server: the reference. */
async function readOverTcp(r: Rig, id: string): Promise<RawSample[]> {
  const spec = r.devices.get(id)!;
  const info = r.sim.devices.find((d) => d.id === id)!;
  const tcp = new ModbusTcpDriver({ ...spec, connection: { protocol: 'modbus-tcp', host: info.host, port: info.port, unitId: 1 } }, context);
  await tcp.open();
  try {
    return await tcp.read(tcp.plan(spec.tags));
  } finally {
    await tcp.close();
  }
}

const values = (samples: RawSample[]) => samples.map((s) => [s.tagIndex, s.quality, s.value]);

describe('ModbusRtuDriver on a shared RTU-over-TCP line', () => {
  it('reads two units on one line to exactly the values the Modbus TCP servers give', async () => {
    const r = await rig(TWO_UNITS);
    const { descriptor, of } = drivers(r);
    for (const id of ['chiller-1', 'cooling-tower-1']) {
      const driver = of(id);
      const plan = driver.plan(r.devices.get(id)!.tags);
      await driver.open();
      const samples = await driver.read(plan);
      expect(samples.every((s) => s.quality === 'good'), id).toBe(true);
      expect(values(samples)).toEqual(values(await readOverTcp(r, id)));
    }
    // One line for both devices.
    const [health] = descriptor.buses();
    expect(descriptor.buses()).toHaveLength(1);
    expect(health).toMatchObject({ id: 'line-1', open: true, devices: ['chiller-1', 'cooling-tower-1'], errors: { timeout: 0, crc: 0, comm: 0 } });
    expect(health.answered).toBe(health.requests);
    expect(health.description).toBe(`rtu over tcp 127.0.0.1:${r.port}`);
  });

  it('keeps polling the live unit while a dead unit on the same line is refused at open and costs one probe per attempt', async () => {
    const r = await rig(TWO_UNITS + `  - { id: ups-9, profile: ups, bus: line-1, unitId: 9 }\n`);
    const { descriptor, of } = drivers(r);
    const chiller = of('chiller-1');
    const dead = of('ups-9');
    const chillerPlan = chiller.plan(r.devices.get('chiller-1')!.tags);
    dead.plan(r.devices.get('ups-9')!.tags);
    await chiller.open();
    await expect(dead.open()).rejects.toThrow(/device ups-9: unit 9 on bus line-1 does not answer: no answer within 300 ms/);
    expect(dead.connected).toBe(false);
    const samples = await chiller.read(chillerPlan);
    expect(samples.every((s) => s.quality === 'good')).toBe(true);
    await expect(dead.open()).rejects.toThrow(/does not answer/);
    // Each refused open sent exactly one request (the probe): the dead unit never held the line longer.
    expect(dead.stats()).toMatchObject({ requests: 2, errors: { timeout: 2 } });
    expect(r.bus.stats.unanswered).toBe(2);
    expect(descriptor.buses()[0].errors.timeout).toBe(2);
  });

  it('takes a unit that stops answering off the line after two timeouts; the rest of its read does not touch the line', async () => {
    const r = await rig(TWO_UNITS, 200);
    const { of } = drivers(r);
    const chiller = of('chiller-1');
    const plan = chiller.plan(r.devices.get('chiller-1')!.tags);
    await chiller.open();
    expect(plan.requestCount).toBeGreaterThan(2);
    await r.sim.stopDevice('chiller-1');
    const before = r.bus.stats.unanswered;
    const samples = await chiller.read(plan);
    expect(chiller.connected).toBe(false);
    expect(r.bus.stats.unanswered - before).toBe(2);
    expect(samples.every((s) => s.quality === 'bad')).toBe(true);
    expect(new Set(samples.map((s) => s.reason))).toEqual(new Set(['timeout', 'comm-lost']));
    expect(chiller.stats().lastError).toMatch(/unit 1 on bus line-1 stopped answering usably \(2 failed requests in a row, last: no answer within 200 ms/);
    // Back: open() probes and succeeds.
    await r.sim.startDevice('chiller-1');
    await chiller.open();
    expect((await chiller.read(plan)).every((s) => s.quality === 'good')).toBe(true);
  });

  it('drops a late reply from a slow unit instead of taking it for the next answer', async () => {
    const r = await rig(TWO_UNITS, 100);
    const { descriptor, of } = drivers(r);
    const chiller = of('chiller-1');
    const tower = of('cooling-tower-1');
    const chillerPlan = chiller.plan(r.devices.get('chiller-1')!.tags);
    const towerPlan = tower.plan(r.devices.get('cooling-tower-1')!.tags);
    await chiller.open();
    await tower.open();
    // Unit 1 answers 150 ms late: after its timeout and the line's recovery wait, during the tower's transactions.
    r.bus.setResponseDelayMs(1, 150);
    const [chillerSamples, towerSamples] = await Promise.all([chiller.read(chillerPlan), tower.read(towerPlan)]);
    expect(chillerSamples.some((s) => s.reason === 'timeout')).toBe(true);
    expect(towerSamples.every((s) => s.quality === 'good')).toBe(true);
    expect(values(towerSamples)).toEqual(values(await readOverTcp(r, 'cooling-tower-1')));
    await waitFor('the late reply to be seen and dropped', () => descriptor.buses()[0].errors.lateReply > 0);
    r.bus.setResponseDelayMs(1, 0);
  });

  it('never takes a late reply for the answer to the same unit\'s next request', async () => {
    const r = await rig(TWO_UNITS, 100);
    const connection = r.devices.get('chiller-1')!.connection;
    if (connection.protocol !== 'modbus-rtu') throw new Error('expected an RTU device');
    const line = new RtuLine(connection.bus, systemClock, silentLogger);
    cleanups.push(() => line.release('chiller-1'));
    await line.open('chiller-1');
    // Request A (input 0..1) is answered 150 ms late, after its 100 ms timeout; request B (input 2..3,
    // same unit, same function, same count) follows at once and is answered without delay. The
    // simulated bus answers in order, so A's late reply comes first: without the quiet time after
    // a timeout, B would take A's registers for its own.
    r.bus.setResponseDelayMs(1, 150);
    const a = line.transact({ deviceId: 'chiller-1', unitId: 1, functionCode: 4, address: 0, count: 2, timeoutMs: 100 });
    const b = line.transact({ deviceId: 'chiller-1', unitId: 1, functionCode: 4, address: 2, count: 2, timeoutMs: 500 });
    expect(await a).toMatchObject({ ok: false, kind: 'timeout' });
    r.bus.setResponseDelayMs(1, 0);
    const expected = r.sim.registers('chiller-1').readRegisters('input', 2, 2);
    expect(expected).not.toEqual(r.sim.registers('chiller-1').readRegisters('input', 0, 2));
    expect(await b).toMatchObject({ ok: true, data: expected });
    expect(line.health().errors.lateReply).toBe(1);
  });

  it('takes a unit slower than the timeout off the line, so its neighbour keeps reading', async () => {
    const r = await rig(TWO_UNITS, 100);
    const { descriptor, of } = drivers(r);
    const chiller = of('chiller-1');
    const tower = of('cooling-tower-1');
    const chillerPlan = chiller.plan(r.devices.get('chiller-1')!.tags);
    const towerPlan = tower.plan(r.devices.get('cooling-tower-1')!.tags);
    await chiller.open();
    await tower.open();
    r.bus.setResponseDelayMs(1, 130);
    const [slow, neighbour] = await Promise.all([chiller.read(chillerPlan), tower.read(towerPlan)]);
    expect(slow.every((s) => s.quality === 'bad')).toBe(true);
    expect(slow.some((s) => s.quality === 'good')).toBe(false);
    expect(chiller.connected).toBe(false);
    // The slow unit cost at most two requests' worth of line time; the tower read everything.
    expect(chiller.stats().requests).toBe(2 + 1 /* the probe at open */);
    expect(neighbour.every((s) => s.quality === 'good')).toBe(true);
    expect(values(neighbour)).toEqual(values(await readOverTcp(r, 'cooling-tower-1')));
    expect((await tower.read(towerPlan)).every((s) => s.quality === 'good')).toBe(true);
    expect(descriptor.buses()[0].errors.timeout).toBeGreaterThanOrEqual(2);
    r.bus.setResponseDelayMs(1, 0);
  });

  it('fails a garbled reply as a frame error with the CRC named, and reads cleanly after it', async () => {
    const r = await rig(TWO_UNITS);
    const { descriptor, of } = drivers(r);
    const tower = of('cooling-tower-1');
    const plan = tower.plan(r.devices.get('cooling-tower-1')!.tags);
    await tower.open();
    r.bus.garbleNext(2);
    const samples = await tower.read(plan);
    const bad = samples.filter((s) => s.quality === 'bad');
    expect(bad.length).toBeGreaterThan(0);
    expect(bad[0], JSON.stringify(bad)).toMatchObject({ reason: 'frame-error', detail: expect.stringMatching(/CRC error in a \d+-byte reply \(unit 2, function \d\)/) });
    expect(tower.stats().errors.frame).toBe(1);
    expect(descriptor.buses()[0].errors.crc).toBe(1);
    expect(tower.connected).toBe(true);
    expect((await tower.read(plan)).every((s) => s.quality === 'good')).toBe(true);
  });

  it('serves devices in turn: a device with many requests does not hold the line', async () => {
    const r = await rig(TWO_UNITS);
    const connection = r.devices.get('chiller-1')!.connection;
    if (connection.protocol !== 'modbus-rtu') throw new Error('expected an RTU device');
    const line = new RtuLine(connection.bus, systemClock, silentLogger);
    cleanups.push(() => line.release('a').then(() => line.release('b')));
    await line.open('a');
    await line.open('b');
    const order: string[] = [];
    // Chiller (unit 1): input registers 0..1; tower (unit 2): holding registers 4..5.
    const tx = (deviceId: string, unitId: number) =>
      line.transact({ deviceId, unitId, functionCode: unitId === 1 ? 4 : 3, address: unitId === 1 ? 0 : 4, count: 2, timeoutMs: 500 }).then((o) => {
        expect(o).toMatchObject({ ok: true });
        order.push(deviceId);
      });
    await Promise.all([tx('a', 1), tx('a', 1), tx('a', 1), tx('a', 1), tx('b', 2), tx('b', 2)]);
    expect(order).toEqual(['a', 'b', 'a', 'b', 'a', 'a']);
  });

  it('fails every waiting transaction when the converter drops the connection, and reopens after its backoff', async () => {
    const r = await rig(TWO_UNITS);
    const { descriptor, of } = drivers(r);
    const chiller = of('chiller-1');
    const plan = chiller.plan(r.devices.get('chiller-1')!.tags);
    await chiller.open();
    await r.bus.close();
    const samples = await chiller.read(plan);
    expect(samples.every((s) => s.quality === 'bad' && s.reason === 'comm-lost')).toBe(true);
    expect(chiller.connected).toBe(false);
    expect(descriptor.buses()[0]).toMatchObject({ open: false, lastError: expect.stringMatching(/closed/) });
    // The converter comes back on the same port.
    const again = createRtuBus(r.sim, { units: { 1: 'chiller-1', 2: 'cooling-tower-1' } });
    cleanups.push(() => again.close());
    await again.listen('127.0.0.1', r.port);
    // The line refuses to reopen until its backoff has passed; the scheduler would retry, so does the test.
    await waitForAsync('the line to reopen after its backoff', () => chiller.open().then(() => true, () => false));
    expect((await chiller.read(plan)).every((s) => s.quality === 'good')).toBe(true);
  });
});
