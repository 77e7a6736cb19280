import { describe, expect, it } from 'vitest';
import type { DeviceSpec } from '../../../agent/core/device.js';
import { silentLogger } from '../../../agent/core/logger.js';
import { backoffDelayMs } from '../../../agent/scheduler/backoff.js';
import { PollLoop, type PollCycle } from '../../../agent/scheduler/poll-loop.js';
import { FakeClock } from '../../fakes/fake-clock.js';
import { ScriptedDriver } from '../../fakes/scripted-driver.js';

const device: DeviceSpec = {
  id: 'chiller-1',
  name: 'Chiller 1',
  connection: { protocol: 'modbus-tcp', host: '127.0.0.1', port: 15020, unitId: 1 },
  pollIntervalMs: 1000,
  timeoutMs: 500,
  maxGapRegisters: 16,
  maxGapBits: 64,
  maxRegistersPerRequest: 125,
  maxBitsPerRequest: 2000,
  backoffInitialMs: 1000,
  backoffMaxMs: 8000,
  tags: [
    { name: 'a', description: '', unit: '', source: { area: 'holding', address: 0, type: 'uint16', order: 'ABCD' }, scale: 1, offset: 0, deadband: 0, maxSilenceMs: 0 },
    { name: 'b', description: '', unit: '', source: { area: 'holding', address: 1, type: 'uint16', order: 'ABCD' }, scale: 1, offset: 0, deadband: 0, maxSilenceMs: 0 },
  ],
};

function setup(over: Partial<DeviceSpec> = {}) {
  const clock = new FakeClock();
  const driver = new ScriptedDriver(() => clock.now());
  const cycles: PollCycle[] = [];
  // random() = 1 → the full backoff step, so delays are exact.
  const loop = new PollLoop({ device: { ...device, ...over }, driver, clock, logger: silentLogger, onCycle: (c) => cycles.push(c), random: () => 1 });
  return { clock, driver, cycles, loop };
}

describe('backoff', () => {
  it('doubles up to the maximum and jitters within [half, full]', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelayMs(n, 1000, 8000, () => 1))).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
    expect(backoffDelayMs(3, 1000, 8000, () => 0)).toBe(2000);
  });
});

describe('PollLoop', () => {
  it('polls on a fixed-rate grid, one cycle per interval', async () => {
    const { clock, cycles, loop } = setup();
    loop.start();
    await clock.advance(0);
    await clock.advance(4000);
    expect(cycles.map((c) => c.cycleMs - clock.now() + 4000)).toEqual([0, 1000, 2000, 3000, 4000]);
    expect(cycles.every((c) => c.connected && c.samples.every((s) => s.quality === 'good'))).toBe(true);
    await loop.stop();
  });

  it('starts at its phase within the interval and stays on that grid', async () => {
    const clock = new FakeClock();
    const driver = new ScriptedDriver(() => clock.now());
    const cycles: PollCycle[] = [];
    const loop = new PollLoop({ device, driver, clock, logger: silentLogger, onCycle: (c) => cycles.push(c), phaseMs: 250 });
    const t0 = clock.now();
    loop.start();
    await clock.advance(249);
    expect(cycles).toHaveLength(0);
    await clock.advance(1);
    await clock.advance(2000);
    expect(cycles.map((c) => c.cycleMs - t0)).toEqual([250, 1250, 2250]);
    await loop.stop();
  });

  it('never overlaps cycles; a long read skips missed slots and counts an overrun', async () => {
    const { clock, driver, cycles, loop } = setup();
    loop.start();
    await clock.advance(0);
    driver.holdReads = true;
    await clock.advance(1000); // second cycle starts and hangs
    await clock.advance(2500); // slots at 2000 and 3000 pass while it hangs
    expect(driver.reads).toBe(2);
    driver.holdReads = false;
    driver.releaseReads();
    await clock.advance(0);
    expect(cycles).toHaveLength(2);
    expect(loop.snapshot().overruns).toBe(1);
    await clock.advance(500); // next slot is 4000
    expect(cycles).toHaveLength(3);
    expect(cycles[2].cycleMs - cycles[0].cycleMs).toBe(4000);
    await loop.stop();
  });

  it('reports every tag bad while unreachable and retries with exponential backoff', async () => {
    const { clock, driver, cycles, loop } = setup();
    driver.refuseConnect = true;
    loop.start();
    await clock.advance(0);
    expect(driver.opens).toBe(1);
    expect(cycles[0].samples.every((s) => s.quality === 'bad' && s.reason === 'not-connected')).toBe(true);
    expect(loop.snapshot()).toMatchObject({ connected: false, connectFailures: 1, backoffMs: 1000, lastError: expect.stringContaining('ECONNREFUSED') });
    await clock.advance(1000); // retry after 1 s → fails, next in 2 s
    expect(driver.opens).toBe(2);
    await clock.advance(1000);
    expect(driver.opens).toBe(2);
    await clock.advance(1000);
    expect(driver.opens).toBe(3); // then 4 s
    await clock.advance(3000);
    expect(driver.opens).toBe(3);
    driver.refuseConnect = false;
    await clock.advance(1000);
    expect(driver.opens).toBe(4);
    expect(cycles.at(-1)?.samples.every((s) => s.quality === 'good')).toBe(true);
    expect(loop.snapshot()).toMatchObject({ connected: true, connectFailures: 0, backoffMs: 0 });
    expect(cycles).toHaveLength(8); // the rhythm never stopped
    await loop.stop();
  });

  it('notices a connection lost during a read and reconnects after the first backoff step', async () => {
    const { clock, driver, cycles, loop } = setup({ backoffInitialMs: 2000 });
    loop.start();
    await clock.advance(0);
    driver.dropOnNextRead = true;
    await clock.advance(1000);
    expect(cycles.at(-1)?.connected).toBe(false);
    expect(cycles.at(-1)?.samples.every((s) => s.reason === 'comm-lost')).toBe(true);
    await clock.advance(1000); // still in backoff: comm-lost without I/O
    expect(driver.opens).toBe(1);
    expect(cycles.at(-1)?.samples.every((s) => s.reason === 'comm-lost')).toBe(true);
    await clock.advance(1000);
    expect(driver.opens).toBe(2);
    expect(cycles.at(-1)?.connected).toBe(true);
    await loop.stop();
  });

  it('stop waits for the cycle in flight, closes the driver and leaves no timer', async () => {
    const { clock, driver, cycles, loop } = setup();
    driver.holdReads = true;
    loop.start();
    await clock.advance(0);
    let stopped = false;
    const stopping = loop.stop().then(() => (stopped = true));
    await clock.advance(0);
    expect(stopped).toBe(false);
    driver.releaseReads();
    await stopping;
    expect(cycles).toHaveLength(1);
    expect(driver.closes).toBe(1);
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe('PollLoop with a driver that announces data (subscriptions)', () => {
  it('runs a cycle as soon as the driver announces data, without moving the grid', async () => {
    const { clock, driver, cycles, loop } = setup();
    const t0 = clock.now();
    loop.start();
    await clock.advance(0);
    await clock.advance(300);
    driver.announceData();
    await clock.advance(0);
    await clock.advance(1700);
    expect(cycles.map((c) => c.cycleMs - t0)).toEqual([0, 300, 1000, 2000]);
    await loop.stop();
  });

  it('coalesces announcements during a running cycle into one cycle right after it', async () => {
    const { clock, driver, cycles, loop } = setup();
    const t0 = clock.now();
    driver.holdReads = true;
    loop.start();
    await clock.advance(0);
    await clock.advance(100);
    driver.announceData();
    driver.announceData();
    driver.announceData();
    driver.holdReads = false;
    driver.releaseReads();
    await clock.advance(0);
    await clock.advance(0);
    expect(cycles.map((c) => c.cycleMs - t0)).toEqual([0, 100]);
    await clock.advance(900);
    expect(cycles.map((c) => c.cycleMs - t0)).toEqual([0, 100, 1000]);
    expect(loop.snapshot().overruns).toBe(0);
    await loop.stop();
  });

  it('runs the grid cycle when its slot fell due during an announced one', async () => {
    const { clock, driver, cycles, loop } = setup();
    const t0 = clock.now();
    loop.start();
    await clock.advance(0);
    await clock.advance(900);
    driver.holdReads = true;
    driver.announceData();
    await clock.advance(0);
    // The announced cycle is still reading when the slot at 1000 falls due; another announcement waits too.
    await clock.advance(200);
    driver.announceData();
    driver.holdReads = false;
    driver.releaseReads();
    await clock.advance(0);
    await clock.advance(0);
    expect(cycles.map((c) => c.cycleMs - t0)).toEqual([0, 900, 1100]);
    await clock.advance(900);
    expect(cycles.map((c) => c.cycleMs - t0)).toEqual([0, 900, 1100, 2000]);
    await loop.stop();
  });

  it('asks for just the changed tags in a cycle run for announced data, and for everything on the grid', async () => {
    const { clock, driver, loop } = setup();
    loop.start();
    await clock.advance(0);
    await clock.advance(300);
    driver.announceData();
    await clock.advance(0);
    await clock.advance(700);
    expect(driver.readOptions).toEqual([undefined, { changedOnly: true }, undefined]);
    await loop.stop();
  });

  it('ignores announcements once stopped', async () => {
    const { clock, driver, cycles, loop } = setup();
    loop.start();
    await clock.advance(0);
    await loop.stop();
    driver.announceData();
    await clock.advance(5000);
    expect(cycles).toHaveLength(1);
  });
});

describe('PollLoop when a driver announces a lost connection between cycles', () => {
  it('reports one comm-lost cycle without reopening, then reconnects after the first backoff step', async () => {
    const { clock, driver, cycles, loop } = setup();
    const t0 = clock.now();
    loop.start();
    await clock.advance(0);
    expect(driver.opens).toBe(1);
    await clock.advance(300);
    // The link goes down between cycles and the driver says so at once (as an OPC UA subscription does).
    driver.connected = false;
    driver.announceData();
    await clock.advance(0);
    expect(cycles.map((c) => [c.cycleMs - t0, c.connected])).toEqual([
      [0, true],
      [300, false],
    ]);
    expect(cycles[1].samples.every((s) => s.quality === 'bad' && s.reason === 'comm-lost')).toBe(true);
    expect(driver.opens).toBe(1);
    expect(loop.snapshot()).toMatchObject({ connected: false, backoffMs: 1000 });
    // The grid slot at 1000 comes before the backoff has passed (300 + 1000): still no reopen.
    await clock.advance(700);
    expect(driver.opens).toBe(1);
    expect(cycles.at(-1)).toMatchObject({ connected: false });
    await clock.advance(1000);
    expect(driver.opens).toBe(2);
    expect(cycles.at(-1)).toMatchObject({ connected: true });
    await loop.stop();
  });

  it('backs off further when the link drops again soon after every reconnect', async () => {
    const { clock, driver, loop } = setup({ backoffInitialMs: 1000, backoffMaxMs: 8000 });
    loop.start();
    await clock.advance(0);
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      driver.connected = false;
      driver.announceData();
      await clock.advance(0);
      delays.push(loop.snapshot().backoffMs);
      const opens = driver.opens;
      while (driver.opens === opens) await clock.advance(500);
    }
    expect(delays).toEqual([1000, 2000, 4000]);
    await loop.stop();
  });
});
