/**
 * The simulated RTU bus on an in-memory Duplex stream, answering from the plant's real register
 * images: replies, exceptions, silence for unknown units and bad CRCs, fault hooks. Silence is
 * proven without waiting: a link answers in order, so a later request's reply arriving first means
 * the earlier one got none.
 */
import { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createRtuBus, hasValidCrc, startPlantSimulator, withCrc, type PlantSimulator, type RtuBus } from '../../../simulators/index.js';

const START = Date.UTC(2026, 6, 14, 14, 0, 0);
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const request = (unit: number, fc: number, address: number, quantity: number): Buffer => {
  const body = Buffer.alloc(6);
  body.writeUInt8(unit, 0);
  body.writeUInt8(fc, 1);
  body.writeUInt16BE(address, 2);
  body.writeUInt16BE(quantity, 4);
  return withCrc(body);
};

/** Two connected in-memory streams: what one writes, the other reads. */
function duplexPair(): [Duplex, Duplex] {
  const make = (peer: () => Duplex): Duplex =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        peer().push(chunk);
        callback();
      },
    });
  const a: Duplex = make(() => b);
  const b: Duplex = make(() => a);
  return [a, b];
}

/** The master's end: reads reply frames of known lengths off the stream. */
class Master {
  private buf = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  constructor(readonly stream: Duplex) {
    stream.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      this.waiter?.();
    });
  }
  send(frame: Buffer): void {
    this.stream.write(frame);
  }
  /** The next reply: exception replies are 5 bytes, read replies 5 + byte count. */
  async reply(): Promise<Buffer> {
    for (;;) {
      const need = this.buf.length < 3 ? Infinity : this.buf[1] & 0x80 ? 5 : 5 + this.buf[2];
      if (this.buf.length >= need) {
        const frame = this.buf.subarray(0, need);
        this.buf = this.buf.subarray(need);
        return frame;
      }
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }
}

const sims: PlantSimulator[] = [];
const buses: RtuBus[] = [];
afterEach(async () => {
  await Promise.all(buses.splice(0).map((b) => b.close()));
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

async function setup(): Promise<{ sim: PlantSimulator; bus: RtuBus; master: Master }> {
  const sim = await startPlantSimulator({ autoRun: false, seed: 1, startTimeMs: START });
  sims.push(sim);
  sim.step(60);
  const bus = createRtuBus(sim, { units: { 1: 'chiller-1', 2: 'cooling-tower-1' } });
  buses.push(bus);
  const [slaveEnd, masterEnd] = duplexPair();
  bus.attach(slaveEnd);
  return { sim, bus, master: new Master(masterEnd) };
}

describe('RtuBus on a Duplex stream', () => {
  it('answers FC 4 from the chiller (unit 1) and FC 3 from the tower (unit 2) with the plant values', async () => {
    const { sim, master } = await setup();
    master.send(request(1, 4, 0, 2));
    const chiller = await master.reply();
    expect(hasValidCrc(chiller)).toBe(true);
    expect([...chiller.subarray(0, 3)]).toEqual([1, 4, 4]);
    const values = sim.values('chiller-1');
    expect(chiller.readInt16BE(3)).toBe(Math.round((values.chw_supply_temp as number) / 0.1));
    expect(chiller.readInt16BE(5)).toBe(Math.round((values.chw_return_temp as number) / 0.1));

    master.send(request(2, 3, 14, 1));
    const tower = await master.reply();
    expect(hasValidCrc(tower)).toBe(true);
    expect([...tower.subarray(0, 3)]).toEqual([2, 3, 2]);
    expect(tower.readUInt16BE(3)).toBe(Math.round((sim.values('cooling-tower-1').fan_speed_pct as number) / 0.1));
  });

  it('packs coils and discrete inputs least significant bit first (FC 1 and 2)', async () => {
    const { sim, master } = await setup();
    master.send(request(1, 2, 0, 3));
    const reply = await master.reply();
    const v = sim.values('chiller-1');
    const expected = (v.chw_flow_ok ? 1 : 0) | (v.cw_flow_ok ? 2 : 0) | (v.general_alarm ? 4 : 0);
    expect([...reply.subarray(0, 4)]).toEqual([1, 2, 1, expected]);
    master.send(request(1, 1, 0, 1));
    expect([...(await master.reply()).subarray(0, 4)]).toEqual([1, 1, 1, v.enable ? 1 : 0]);
  });

  it('answers exceptions: illegal function (1), illegal address (2), quantity out of range (3)', async () => {
    const { master } = await setup();
    const cases: [Buffer, number, number][] = [
      [withCrc(hex('01 06 00 64 00 46')), 0x86, 1], // write single register: the simulator is read-only
      [withCrc(hex('01 2B 0E 01 00')), 0xab, 1], // an unsupported function with no fixed length
      [request(1, 3, 50, 1), 0x83, 2], // chiller has no holding register 50
      [request(1, 4, 38, 4), 0x84, 2], // runs past the end of input block 0–39
      [request(1, 4, 0xfff0, 0x20), 0x84, 2], // beyond address 65535
      [request(1, 3, 100, 0), 0x83, 3],
      [request(1, 4, 0, 126), 0x84, 3],
      [request(1, 1, 0, 2001), 0x81, 3],
    ];
    for (const [frame, fc, code] of cases) {
      master.send(frame);
      const reply = await master.reply();
      expect([...reply.subarray(0, 3)], frame.toString('hex')).toEqual([1, fc, code]);
      expect(hasValidCrc(reply)).toBe(true);
    }
  });

  it('stays silent for an unknown unit, a broadcast and a bad CRC, and keeps answering after them', async () => {
    const { bus, master } = await setup();
    const bad = request(1, 4, 0, 1);
    bad[6] ^= 0xff;
    master.send(request(7, 4, 0, 1));
    master.send(request(0, 4, 0, 1));
    master.send(bad);
    master.send(request(2, 3, 0, 2));
    const reply = await master.reply();
    expect(reply[0]).toBe(2);
    expect(bus.stats).toMatchObject({ requests: 3, replies: 1, unanswered: 2, crcErrors: 1 });
  });

  it('answers requests split across chunks and concatenated in one chunk, in order', async () => {
    const { master } = await setup();
    const both = Buffer.concat([request(1, 4, 0, 1), request(2, 3, 0, 2)]);
    master.send(both.subarray(0, 3));
    master.send(both.subarray(3, 11));
    master.send(both.subarray(11));
    expect((await master.reply())[0]).toBe(1);
    expect((await master.reply())[0]).toBe(2);
  });

  it('garbleNext spoils exactly the next reply of that unit', async () => {
    const { bus, master } = await setup();
    bus.garbleNext(1);
    master.send(request(1, 4, 0, 2));
    const garbled = await master.reply();
    expect([...garbled.subarray(0, 3)]).toEqual([1, 4, 4]); // framing intact, so the master sees a CRC error
    expect(hasValidCrc(garbled)).toBe(false);
    master.send(request(1, 4, 0, 2));
    expect(hasValidCrc(await master.reply())).toBe(true);
  });

  it('a delayed unit holds the bus: replies keep request order', async () => {
    const { bus, master } = await setup();
    bus.setResponseDelayMs(1, 30);
    master.send(request(1, 4, 0, 1));
    master.send(request(2, 3, 0, 2));
    expect((await master.reply())[0]).toBe(1);
    expect((await master.reply())[0]).toBe(2);
    expect(() => bus.setResponseDelayMs(9, 10)).toThrow(/no unit 9/);
  });

  it('a stopped device falls silent on the bus and answers again once started', async () => {
    const { sim, bus, master } = await setup();
    await sim.stopDevice('cooling-tower-1');
    master.send(request(2, 3, 0, 2));
    master.send(request(1, 4, 0, 1));
    expect((await master.reply())[0]).toBe(1);
    expect(bus.stats.unanswered).toBe(1);
    await sim.startDevice('cooling-tower-1');
    master.send(request(2, 3, 0, 2));
    expect((await master.reply())[0]).toBe(2);
  });

  it('rejects unit ids outside 1..247', () => {
    expect(() => createRtuBus({ registers: () => ({ readRegisters: () => [], readBit: () => false }) }, { units: { 0: 'x' } })).toThrow(/1\.\.247/);
  });
});
