/**
 * The plant served as Modbus RTU over TCP (a serial-to-Ethernet converter's raw RTU stream), read
 * by modbus-serial's `connectTelnet` client — raw RTU framing with CRC, not Modbus TCP's MBAP
 * header — over a real socket: two devices as two unit ids on one bus.
 */
import ModbusSerial from 'modbus-serial';
import { afterEach, describe, expect, it } from 'vitest';
import { createRtuBus, startPlantSimulator, type PlantSimulator, type RtuBus } from '../../simulators/index.js';

// modbus-serial is CommonJS with `module.exports.default = module.exports`; NodeNext types the
// default import as the module object, so `.default` is the client class for both.
const ModbusRTU = ModbusSerial.default;
type ModbusRTU = InstanceType<typeof ModbusRTU>;

const START = Date.UTC(2026, 6, 14, 14, 0, 0);
const sims: PlantSimulator[] = [];
const buses: RtuBus[] = [];
const clients: ModbusRTU[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => (c.isOpen ? new Promise<void>((resolve) => c.close(() => resolve())) : undefined)));
  await Promise.all(buses.splice(0).map((b) => b.close()));
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

async function setup(timeoutMs = 5000): Promise<{ sim: PlantSimulator; bus: RtuBus; client: ModbusRTU }> {
  const sim = await startPlantSimulator({ autoRun: false, seed: 1, startTimeMs: START });
  sims.push(sim);
  sim.step(120);
  const bus = createRtuBus(sim, { units: { 1: 'chiller-1', 2: 'cooling-tower-1' } });
  buses.push(bus);
  const port = await bus.listen('127.0.0.1', 0);
  const client = new ModbusRTU();
  clients.push(client);
  await client.connectTelnet('127.0.0.1', { port });
  client.setTimeout(timeoutMs);
  return { sim, bus, client };
}

/** Float32 from two registers in CDAB order (low word first). */
const floatCdab = (words: number[]): number => {
  const buf = Buffer.alloc(4);
  buf.writeUInt16BE(words[1], 0);
  buf.writeUInt16BE(words[0], 2);
  return buf.readFloatBE(0);
};

describe('plant simulator over RTU over TCP', () => {
  it('serves the chiller as unit 1 and the cooling tower as unit 2 from the same register images', async () => {
    const { sim, client } = await setup();
    expect(sim.devices.find((d) => d.id === 'chiller-1')?.port).toBeGreaterThan(0); // the TCP servers keep running beside it

    client.setID(1);
    const chiller = await client.readInputRegisters(0, 2);
    const chillerValues = sim.values('chiller-1');
    expect(chiller.data[0]).toBe(Math.round((chillerValues.chw_supply_temp as number) / 0.1));
    expect(chiller.data[1]).toBe(Math.round((chillerValues.chw_return_temp as number) / 0.1));

    client.setID(2);
    const tower = await client.readHoldingRegisters(4, 12);
    const towerValues = sim.values('cooling-tower-1');
    expect(floatCdab(tower.data.slice(0, 2))).toBeCloseTo(towerValues.basin_temp as number, 4);
    expect(tower.data[10]).toBe(Math.round((towerValues.fan_speed_pct as number) / 0.1));

    client.setID(1);
    const discrete = await client.readDiscreteInputs(0, 2);
    expect(discrete.data.slice(0, 2)).toEqual([chillerValues.chw_flow_ok, chillerValues.cw_flow_ok]);
  });

  it('reports an unmapped address as Modbus exception 2', async () => {
    const { client } = await setup();
    client.setID(1);
    await expect(client.readHoldingRegisters(50, 1)).rejects.toMatchObject({ modbusCode: 2 });
  });

  it('a garbled reply reaches the client as a CRC error, and the next read is clean', async () => {
    const { sim, bus, client } = await setup();
    client.setID(2);
    bus.garbleNext(2);
    await expect(client.readHoldingRegisters(14, 1)).rejects.toThrow(/CRC/);
    const fan = await client.readHoldingRegisters(14, 1);
    expect(fan.data[0]).toBe(Math.round((sim.values('cooling-tower-1').fan_speed_pct as number) / 0.1));
  });

  it('an unknown unit id gets no answer (the client times out) and the bus keeps serving the others', async () => {
    const { sim, bus, client } = await setup(300);
    client.setID(9);
    await expect(client.readInputRegisters(0, 1)).rejects.toThrow(/Timed Out/i);
    expect(bus.stats.unanswered).toBe(1);
    client.setID(1);
    const reply = await client.readInputRegisters(0, 1);
    expect(reply.data[0]).toBe(Math.round((sim.values('chiller-1').chw_supply_temp as number) / 0.1));
  });
});
