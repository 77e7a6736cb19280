/** The simulator's lifecycle over real TCP: ports, manual and automatic time, devices going offline. */
import { createServer, type AddressInfo } from 'node:net';
import ModbusSerial from 'modbus-serial';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startPlantSimulator, type PlantSimulator } from '../../../simulators/index.js';

// modbus-serial is CommonJS with `module.exports.default = module.exports`; NodeNext types the
// default import as the module object, so `.default` is the client class for both.
const ModbusRTU = ModbusSerial.default;
type ModbusRTU = InstanceType<typeof ModbusRTU>;

const START = Date.UTC(2026, 6, 14, 10, 0, 0);
const opened: PlantSimulator[] = [];
const clients: ModbusRTU[] = [];

async function start(opts: Parameters<typeof startPlantSimulator>[0] = {}): Promise<PlantSimulator> {
  const sim = await startPlantSimulator({ autoRun: false, startTimeMs: START, ...opts });
  opened.push(sim);
  return sim;
}

async function connect(sim: PlantSimulator, id: string): Promise<ModbusRTU> {
  const device = sim.devices.find((d) => d.id === id);
  if (!device) throw new Error(`no device ${id}`);
  const client = new ModbusRTU();
  await client.connectTCP(device.host, { port: device.port });
  client.setID(device.unitId);
  client.setTimeout(5000);
  clients.push(client);
  return client;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => (c.isOpen ? new Promise<void>((resolve) => c.close(() => resolve())) : undefined)));
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

describe('startPlantSimulator', () => {
  it('serves four devices on distinct ephemeral ports with fixed ids and unit 1', async () => {
    const sim = await start();
    expect(sim.devices.map((d) => [d.id, d.kind, d.unitId])).toEqual([
      ['chiller-1', 'chiller', 1],
      ['cooling-tower-1', 'cooling-tower', 1],
      ['transformer-1', 'transformer', 1],
      ['ups-1', 'ups', 1],
    ]);
    const ports = sim.devices.map((d) => d.port);
    expect(new Set(ports).size).toBe(4);
    for (const port of ports) expect(port).toBeGreaterThan(0);
    expect(sim.faults('chiller-1')).toEqual(['condenser-fouling']);
    expect(() => sim.values('pump-9')).toThrow(/chiller-1/);
  });

  it('binds the port it is given', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const free = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const sim = await start({ ports: { ups: free } });
    expect(sim.devices.find((d) => d.id === 'ups-1')?.port).toBe(free);
    await expect(start({ ports: { ups: free } })).rejects.toThrow(/ups-1: cannot listen/);
  });

  it('registers change only when the test steps (autoRun: false)', async () => {
    const sim = await start();
    const client = await connect(sim, 'transformer-1');
    const before = (await client.readInputRegisters(40, 4)).data; // energy counter, Wh
    expect((await client.readInputRegisters(40, 4)).data).toEqual(before);
    sim.step(60);
    const after = (await client.readInputRegisters(40, 4)).data;
    const wh = (words: number[]) => words.reduce((acc, w) => acc * 65536 + w, 0);
    const deltaWh = wh(after) - wh(before);
    const kw = sim.values('transformer-1').active_power_kw as number;
    expect(deltaWh).toBeGreaterThan(kw * 1000 * (60 / 3600) * 0.95);
    expect(deltaWh).toBeLessThan(kw * 1000 * (60 / 3600) * 1.05);
    expect(sim.timeMs).toBe(START + 60_000);
  });

  it('advances on its own with autoRun, at timeSpeed simulated seconds per real second', async () => {
    const sim = await start({ autoRun: true, timeSpeed: 600, tickMs: 5 });
    await vi.waitFor(() => expect(sim.timeMs).toBeGreaterThan(START + 60_000), { timeout: 5000, interval: 5 });
  });

  it('a device can go offline and come back on the same port; the others keep answering', async () => {
    const sim = await start();
    const ups = sim.devices.find((d) => d.id === 'ups-1');
    const port = ups?.port;
    const first = await connect(sim, 'ups-1');
    expect((await first.readHoldingRegisters(100, 1)).data).toEqual([1600]);

    await sim.stopDevice('ups-1');
    const refused = new ModbusRTU();
    await expect(refused.connectTCP('127.0.0.1', { port: port as number })).rejects.toThrow();
    const chiller = await connect(sim, 'chiller-1');
    expect((await chiller.readHoldingRegisters(100, 1)).data).toEqual([70]); // setpoint 7.0 °C

    await sim.startDevice('ups-1');
    expect(sim.devices.find((d) => d.id === 'ups-1')?.port).toBe(port);
    const again = await connect(sim, 'ups-1');
    expect((await again.readHoldingRegisters(100, 1)).data).toEqual([1600]);
  });

  it('close() releases every port', async () => {
    const sim = await start();
    const ports = sim.devices.map((d) => d.port);
    await sim.close();
    opened.splice(opened.indexOf(sim), 1);
    for (const port of ports) {
      const probe = createServer();
      await new Promise<void>((resolve, reject) => {
        probe.once('error', reject);
        probe.listen(port, '127.0.0.1', resolve);
      });
      await new Promise<void>((resolve) => probe.close(() => resolve()));
    }
    await expect(sim.startDevice('ups-1')).rejects.toThrow(/closed/);
  });
});
