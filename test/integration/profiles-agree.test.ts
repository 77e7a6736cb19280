/**
 * The device library (config/profiles, the technician's side) and the simulator (the vendor's
 * side) hold the same register maps. This proves they agree — on paper, and on the wire: every
 * profile tag is read over real Modbus TCP and decoded here with a small decoder of the test's
 * own (not drivers/, whose codec this suite must not trust).
 */
import { readFile } from 'node:fs/promises';
import ModbusSerial from 'modbus-serial';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { profileSchema, type ProfileConfig, type TagFieldsConfig } from '../../config/schema.js';
import { startPlantSimulator, type PlantSimulator, type SimulatorPoint } from '../../simulators/index.js';

// modbus-serial is CommonJS with `module.exports.default = module.exports`; NodeNext types the
// default import as the module object, so `.default` is the client class for both.
const ModbusRTU = ModbusSerial.default;
type ModbusRTU = InstanceType<typeof ModbusRTU>;

const KINDS = ['chiller', 'cooling-tower', 'transformer', 'ups'] as const;
const START = Date.UTC(2026, 6, 14, 13, 0, 0);

async function loadProfile(kind: string): Promise<ProfileConfig> {
  const text = await readFile(new URL(`../../config/profiles/${kind}.yaml`, import.meta.url), 'utf8');
  return profileSchema.parse(parse(text));
}

function width(tag: TagFieldsConfig): number {
  switch (tag.type) {
    case 'int32':
    case 'uint32':
    case 'float32':
      return 2;
    case 'int64':
    case 'uint64':
    case 'float64':
      return 4;
    case 'string':
      return tag.length ?? 1;
    default:
      return 1;
  }
}

/** Wire words → big-endian bytes (A first), undoing the tag's byte/word order. */
function toBigEndian(words: number[], order: string): Buffer {
  const wire = Buffer.alloc(words.length * 2);
  words.forEach((w, i) => wire.writeUInt16BE(w, i * 2));
  const n = wire.length;
  const be = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    if (order === 'ABCD') be[i] = wire[i];
    else if (order === 'DCBA') be[i] = wire[n - 1 - i];
    else if (order === 'BADC') be[i] = wire[i ^ 1];
    else if (order === 'CDAB') be[(n / 2 - 1 - Math.floor(i / 2)) * 2 + (i % 2)] = wire[i];
  }
  return be;
}

function decodeRegisters(tag: TagFieldsConfig, words: number[]): number | boolean | string {
  const order = tag.order ?? 'ABCD';
  const scale = tag.scale ?? 1;
  const offset = tag.offset ?? 0;
  if (tag.type === 'bool') return ((words[0] >> (tag.bit ?? 0)) & 1) === 1;
  if (tag.type === 'string') {
    const bytes = Buffer.alloc(words.length * 2);
    words.forEach((w, i) => bytes.writeUInt16BE(w, i * 2));
    return bytes.toString('ascii').replace(/[\0 ]+$/, '');
  }
  const be = toBigEndian(words, order);
  let raw: number;
  switch (tag.type) {
    case 'int16':
      raw = be.readInt16BE(0);
      break;
    case 'uint16':
      raw = be.readUInt16BE(0);
      break;
    case 'int32':
      raw = be.readInt32BE(0);
      break;
    case 'uint32':
      raw = be.readUInt32BE(0);
      break;
    case 'int64':
      raw = Number(be.readBigInt64BE(0));
      break;
    case 'uint64':
      raw = Number(be.readBigUInt64BE(0));
      break;
    case 'float32':
      raw = be.readFloatBE(0);
      break;
    case 'float64':
      raw = be.readDoubleBE(0);
      break;
    default:
      throw new Error(`tag ${tag.name}: unexpected type ${tag.type}`);
  }
  return raw * scale + offset;
}

/** How far a decoded value may sit from the physical value: half a count, or float32 rounding. */
function tolerance(tag: TagFieldsConfig, value: number): number {
  if (tag.type === 'float32') return Math.abs(value) * 2 ** -23 + 1e-12;
  if (tag.type === 'float64') return Math.abs(value) * 2 ** -52;
  return (tag.scale ?? 1) / 2 + Math.abs(value) * 1e-12;
}

describe('profiles agree with the simulator register maps', () => {
  for (const kind of KINDS) {
    it(`${kind}: profile is valid and matches the vendor map point for point`, async () => {
      const profile = await loadProfile(kind);
      expect(profile.name).toBe(kind);
      const sim = await startPlantSimulator({ autoRun: false, seed: 3, startTimeMs: START });
      try {
        const points = new Map(sim.pointMap(`${kind}-1`).map((p) => [p.name, p]));
        const names = new Set<string>();
        for (const tag of profile.tags) {
          expect(names.has(tag.name), `${kind}.${tag.name} appears twice in the profile`).toBe(false);
          names.add(tag.name);
          const point = points.get(tag.name);
          expect(point, `${kind}.${tag.name} has no simulator point`).toBeDefined();
          const p = point as SimulatorPoint;
          expect(
            { area: tag.area, address: tag.address, type: tag.type, order: tag.order ?? 'ABCD', bit: tag.bit, length: tag.length, scale: tag.scale ?? 1, offset: tag.offset ?? 0 },
            `${kind}.${tag.name}`,
          ).toEqual({ area: p.area, address: p.address, type: p.type, order: p.order, bit: p.bit, length: p.length, scale: p.scale, offset: 0 });
          expect(tag.unit ?? '', `${kind}.${tag.name} unit`).toBe(p.unit);
          expect(tag.description, `${kind}.${tag.name} needs a description`).toBeTruthy();
          if (tag.type !== 'bool' && tag.type !== 'string' && p.unit !== '') {
            expect(tag.deadband, `${kind}.${tag.name} needs a deadband`).toBeDefined();
            expect(tag.min, `${kind}.${tag.name} needs a plausible min`).toBeDefined();
          }
        }
        const missing = [...points.keys()].filter((n) => !names.has(n));
        expect(missing, `${kind}: simulator points missing from the profile`).toEqual([]);
      } finally {
        await sim.close();
      }
    });
  }
});

describe('profile plausible ranges hold the simulated plant in normal operation', () => {
  it('every numeric value stays within its tag min/max over two simulated days', async () => {
    const profiles = await Promise.all(KINDS.map(loadProfile));
    const sim = await startPlantSimulator({ autoRun: false, seed: 11, startTimeMs: START });
    try {
      for (let minute = 0; minute < 2 * 24 * 60; minute += 7) {
        KINDS.forEach((kind, i) => {
          const values = sim.values(`${kind}-1`);
          for (const tag of profiles[i].tags) {
            const value = values[tag.name];
            if (typeof value !== 'number') continue;
            const where = `${kind}.${tag.name} = ${value} at minute ${minute}`;
            if (tag.min !== undefined) expect(value, where).toBeGreaterThanOrEqual(tag.min);
            if (tag.max !== undefined) expect(value, where).toBeLessThanOrEqual(tag.max);
          }
        });
        sim.step(7 * 60);
      }
    } finally {
      await sim.close();
    }
  });
});

describe('profiles read over real Modbus TCP decode to the simulator values', () => {
  let sim: PlantSimulator;
  const clients: ModbusRTU[] = [];

  beforeAll(async () => {
    sim = await startPlantSimulator({ autoRun: false, seed: 5, startTimeMs: START });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => (c.isOpen ? new Promise<void>((resolve) => c.close(() => resolve())) : undefined)));
    await sim.close();
  });

  async function connect(kind: string): Promise<ModbusRTU> {
    const device = sim.devices.find((d) => d.kind === kind);
    if (!device) throw new Error(`no simulated ${kind}`);
    const client = new ModbusRTU();
    await client.connectTCP(device.host, { port: device.port });
    client.setID(device.unitId);
    client.setTimeout(5000);
    clients.push(client);
    return client;
  }

  async function readTag(client: ModbusRTU, tag: TagFieldsConfig): Promise<number | boolean | string> {
    const address = tag.address as number;
    switch (tag.area) {
      case 'coil':
        return (await client.readCoils(address, 1)).data[0];
      case 'discrete':
        return (await client.readDiscreteInputs(address, 1)).data[0];
      case 'holding':
        return decodeRegisters(tag, (await client.readHoldingRegisters(address, width(tag))).data);
      case 'input':
        return decodeRegisters(tag, (await client.readInputRegisters(address, width(tag))).data);
      default:
        throw new Error(`tag ${tag.name}: no area`);
    }
  }

  async function expectAllTagsAgree(kind: string): Promise<void> {
    const profile = await loadProfile(kind);
    const client = await connect(kind);
    const values = sim.values(`${kind}-1`);
    for (const tag of profile.tags) {
      const decoded = await readTag(client, tag);
      const value = values[tag.name];
      if (typeof value === 'number') {
        expect(typeof decoded, `${kind}.${tag.name}`).toBe('number');
        expect(Math.abs((decoded as number) - value), `${kind}.${tag.name}: read ${decoded}, simulator ${value}`).toBeLessThanOrEqual(tolerance(tag, value));
      } else {
        expect(decoded, `${kind}.${tag.name}`).toEqual(value);
      }
    }
  }

  for (const kind of KINDS) {
    it(`${kind}: every tag decodes to values() at the first instant and after an hour`, async () => {
      await expectAllTagsAgree(kind);
      sim.step(3600);
      await expectAllTagsAgree(kind);
    });
  }

  it('a bool in a status register and the word it lives in agree', async () => {
    const ups = await connect('ups');
    sim.injectFault('ups-1', 'battery-ageing', 1, { rampSeconds: 0 });
    sim.step(3 * 3600); // battery warms past 30 °C
    const values = sim.values('ups-1');
    expect(values.battery_temp_high).toBe(true);
    const [word] = (await ups.readInputRegisters(30, 1)).data;
    expect(word).toBe(values.alarm_word);
    expect(word & 0b100).toBe(0b100);
    expect(word & 0b1000).toBe(0b1000); // battery replace
    sim.clearFault('ups-1', 'battery-ageing');
  });

  it('one long block read (getMultiple…) returns the same words as reads tag by tag', async () => {
    const client = await connect('transformer');
    const block = (await client.readInputRegisters(0, 48)).data;
    const profile = await loadProfile('transformer');
    const values = sim.values('transformer-1');
    for (const tag of profile.tags.filter((t) => t.area === 'input')) {
      const words = block.slice(tag.address as number, (tag.address as number) + width(tag));
      const decoded = decodeRegisters(tag, words);
      const value = values[tag.name];
      if (typeof value === 'number') expect(Math.abs((decoded as number) - value)).toBeLessThanOrEqual(tolerance(tag, value));
      else expect(decoded).toEqual(value);
    }
  });

  it('unmapped addresses answer exception 2 (illegal data address)', async () => {
    const client = await connect('chiller');
    await expect(client.readHoldingRegisters(0, 1)).rejects.toMatchObject({ modbusCode: 2 });
    await expect(client.readInputRegisters(38, 4)).rejects.toMatchObject({ modbusCode: 2 });
    await expect(client.readInputRegisters(1000, 125)).rejects.toMatchObject({ modbusCode: 2 });
    await expect(client.readCoils(9, 1)).rejects.toMatchObject({ modbusCode: 2 });
    // reserved words inside a mapped block read 0
    expect((await client.readInputRegisters(6, 4)).data).toEqual([0, 0, 0, 0]);
  });

  it('writes are refused: exception 1 for a mapped register, 2 for an unmapped one', async () => {
    const client = await connect('chiller');
    await expect(client.writeRegister(100, 65)).rejects.toMatchObject({ modbusCode: 1 });
    await expect(client.writeRegister(5000, 1)).rejects.toMatchObject({ modbusCode: 2 });
  });
});
