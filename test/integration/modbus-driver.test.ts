/**
 * ModbusTcpDriver against a real Modbus TCP server (modbus-serial's ServerTCP) over real TCP.
 * The register image is written by hand here; the driver's codec is not used to build it.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import ModbusSerial from 'modbus-serial';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceSpec } from '../../agent/core/device.js';
import { silentLogger } from '../../agent/core/logger.js';
import type { ModbusAddress, Tag } from '../../agent/core/tag.js';
import { systemClock } from '../../agent/scheduler/system-clock.js';
import { FakeClock } from '../fakes/fake-clock.js';
import { ModbusTcpDriver, modbusTcpDescriptor } from '../../drivers/modbus/index.js';

const ServerTCP = ModbusSerial.ServerTCP;
type Server = InstanceType<typeof ServerTCP>;

const HOLDING = new Map<number, number>([
  [0, 0x42f6], [1, 0xe979], // float32 123.456 ABCD
  [2, 0xfffe], [3, 0xffff], // int32 -2 CDAB
  [10, 0x0123], [11, 0x4567], [12, 0x89ab], [13, 0xcdef], // uint64 0x0123456789ABCDEF ABCD
  [20, 0x4142], [21, 0x2d31], [22, 0x3200], // "AB-12"
  [30, 0x8005], // bits 15, 2, 0
  [40, 0x1234], [41, 0x5678], // uint32 0x12345678; register 42..49 unmapped
  [50, 0x0007],
]);
const INPUT = new Map<number, number>([[5, 4321]]);
const COILS = new Map<number, boolean>([[3, true], [4, false]]);
const DISCRETE = new Map<number, boolean>([[7, true]]);

function lookup<T>(map: Map<number, T>, addr: number): T {
  const value = map.get(addr);
  if (value === undefined) throw { modbusErrorCode: 2, msg: `unmapped ${addr}` };
  return value;
}

const vector = {
  getHoldingRegister: (addr: number) => lookup(HOLDING, addr),
  getInputRegister: (addr: number) => lookup(INPUT, addr),
  getCoil: (addr: number) => lookup(COILS, addr),
  getDiscreteInput: (addr: number) => lookup(DISCRETE, addr),
};

/**
 * ServerTCP treats port 0 as "use 502", so an ephemeral port is first obtained from the OS
 * (listen on 0, read it, release it) and handed to the server.
 */
async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

async function startServer(port?: number, serverVector: object = vector): Promise<{ server: Server; port: number }> {
  const usePort = port ?? (await freePort());
  const server = new ServerTCP(serverVector, { host: '127.0.0.1', port: usePort, unitID: 255 });
  await new Promise<void>((resolve, reject) => {
    server.once('initialized', () => resolve());
    server.once('serverError', reject);
  });
  const bound = ((server as unknown as { _server: net.Server })._server.address() as net.AddressInfo).port;
  return { server, port: bound };
}

function stopServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function tag(name: string, source: Partial<ModbusAddress> & Pick<ModbusAddress, 'area' | 'address' | 'type'>): Tag {
  return {
    name,
    description: '',
    unit: '',
    source: { order: 'ABCD', ...source },
    scale: 1,
    offset: 0,
    deadband: 0,
    maxSilenceMs: 60_000,
  };
}

function device(port: number, tags: Tag[], overrides: Partial<DeviceSpec> = {}): DeviceSpec {
  return {
    id: 'chiller-1',
    name: 'Chiller 1',
    connection: { protocol: 'modbus-tcp', host: '127.0.0.1', port, unitId: 1 },
    pollIntervalMs: 1000,
    timeoutMs: 1000,
    maxGapRegisters: 16,
    maxGapBits: 64,
    maxRegistersPerRequest: 125,
    maxBitsPerRequest: 2000,
    backoffInitialMs: 100,
    backoffMaxMs: 1000,
    tags,
    ...overrides,
  };
}

const context = { clock: systemClock, logger: silentLogger };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function openDriver(spec: DeviceSpec, options = {}): Promise<ModbusTcpDriver> {
  const driver = new ModbusTcpDriver(spec, context, options);
  cleanups.push(() => driver.close());
  await driver.open();
  return driver;
}

/** Waits for a condition by polling the event loop (no fixed sleeps). */
async function until(condition: () => boolean, what: string, limitMs = 5000): Promise<void> {
  const deadline = performance.now() + limitMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

describe('ModbusTcpDriver over real TCP', () => {
  it('reads every type from every table, in tag order', async () => {
    const { server, port } = await startServer();
    cleanups.push(() => stopServer(server));
    const tags = [
      tag('flow', { area: 'holding', address: 0, type: 'float32' }),
      tag('delta', { area: 'holding', address: 2, type: 'int32', order: 'CDAB' }),
      tag('energy', { area: 'holding', address: 10, type: 'uint64' }),
      tag('model', { area: 'holding', address: 20, type: 'string', length: 3 }),
      tag('alarm', { area: 'holding', address: 30, type: 'bool', bit: 15 }),
      tag('warning', { area: 'holding', address: 30, type: 'bool', bit: 1 }),
      tag('status', { area: 'holding', address: 30, type: 'uint16' }),
      tag('rpm', { area: 'input', address: 5, type: 'uint16' }),
      tag('pump', { area: 'coil', address: 3, type: 'bool' }),
      tag('fan', { area: 'coil', address: 4, type: 'bool' }),
      tag('door', { area: 'discrete', address: 7, type: 'bool' }),
    ];
    // No gaps bridged: every holding request reads mapped registers only.
    const driver = await openDriver(device(port, tags, { maxGapRegisters: 0 }));
    expect(driver.connected).toBe(true);
    const plan = driver.plan(tags);
    expect(plan.tagCount).toBe(tags.length);
    // holding 0..3, 10..13, 20..22, 30; input 5; coils 3..4; discrete 7
    expect(plan.requestCount).toBe(7);

    const before = Date.now();
    const samples = await driver.read(plan);
    const after = Date.now();
    expect(samples.map((s) => s.tagIndex)).toEqual(tags.map((_, i) => i));
    expect(samples.map((s) => s.quality)).toEqual(tags.map(() => 'good'));
    expect(samples.map((s) => s.value)).toEqual([
      Math.fround(123.456),
      -2,
      81985529216486895n,
      'AB-12',
      true,
      false,
      0x8005,
      4321,
      true,
      false,
      true,
    ]);
    for (const s of samples) {
      expect(s.timestampMs).toBeGreaterThanOrEqual(before);
      expect(s.timestampMs).toBeLessThanOrEqual(after);
    }
    const stats = driver.stats();
    expect(stats).toMatchObject({ connected: true, requests: 7, errors: { timeout: 0, exception: 0, comm: 0, decode: 0 } });
    expect(stats.lastLatencyMs).not.toBeNull();
  });

  it('stamps samples with the injected clock when the answer arrives', async () => {
    const { server, port } = await startServer();
    cleanups.push(() => stopServer(server));
    const clock = new FakeClock();
    await clock.advance(12_345);
    const tags = [tag('rpm', { area: 'input', address: 5, type: 'uint16' })];
    const driver = new ModbusTcpDriver(device(port, tags), { clock, logger: silentLogger });
    cleanups.push(() => driver.close());
    await driver.open();
    expect(clock.pendingTimers()).toBe(0); // the connect timeout is cleared: no timers between calls
    const [sample] = await driver.read(driver.plan(tags));
    expect(sample).toEqual({ tagIndex: 0, value: 4321, quality: 'good', timestampMs: clock.now() });
    expect(driver.stats().lastLatencyMs).toBe(0); // the fake clock did not move during the request
    expect(clock.pendingTimers()).toBe(0);
  });

  it('an unmapped address makes only the tags of that request bad with reason exception', async () => {
    const { server, port } = await startServer();
    cleanups.push(() => stopServer(server));
    const tags = [
      tag('ok-before', { area: 'holding', address: 0, type: 'float32' }),
      tag('missing', { area: 'holding', address: 45, type: 'uint16' }), // alone in its request (gap 0)
      tag('ok-after', { area: 'holding', address: 50, type: 'uint16' }),
      tag('ok-input', { area: 'input', address: 5, type: 'uint16' }),
    ];
    const driver = await openDriver(device(port, tags, { maxGapRegisters: 0 }));
    const plan = driver.plan(tags);
    expect(plan.requestCount).toBe(4);
    const samples = await driver.read(plan);
    expect(samples.map((s) => s.quality)).toEqual(['good', 'bad', 'good', 'good']);
    expect(samples[1]).toMatchObject({ tagIndex: 1, reason: 'exception' });
    expect(samples[1].value).toBeUndefined();
    expect(samples[1].detail).toMatch(/exception 2 \(illegal data address\) reading holding 45\.\.45/);
    expect(samples[2].value).toBe(7);
    expect(driver.connected).toBe(true);
    expect(driver.stats().errors.exception).toBe(1);
  });

  it('a merged read over unmapped registers is split so that only unmapped tags are bad, and the split is kept', async () => {
    const { server, port } = await startServer();
    cleanups.push(() => stopServer(server));
    // 40..41 mapped, 42..49 unmapped, 50 mapped: merged into one request 40..50 (maxGap 16)
    const tags = [
      tag('a', { area: 'holding', address: 40, type: 'uint32' }),
      tag('missing', { area: 'holding', address: 45, type: 'uint16' }),
      tag('b', { area: 'holding', address: 50, type: 'uint16' }),
      tag('c', { area: 'input', address: 5, type: 'uint16' }),
    ];
    const driver = await openDriver(device(port, tags));
    const plan = driver.plan(tags);
    expect(plan.requestCount).toBe(2);
    const samples = await driver.read(plan);
    expect(samples.map((s) => [s.quality, s.reason])).toEqual([
      ['good', undefined],
      ['bad', 'exception'],
      ['good', undefined],
      ['good', undefined],
    ]);
    expect(samples.map((s) => s.value)).toEqual([0x12345678, undefined, 7, 4321]);
    expect(samples[1].detail).toContain('reading holding 45..45');
    // 40..50 failed, then 40..41, 45, 50 were read; input 5
    expect(driver.stats()).toMatchObject({ requests: 5, errors: { exception: 2 } });
    expect(plan.requestCount).toBe(4);

    const next = await driver.read(plan);
    expect(next.map((s) => s.quality)).toEqual(['good', 'bad', 'good', 'good']);
    expect(driver.stats()).toMatchObject({ requests: 9, errors: { exception: 3 } });
  });

  it('a device that refuses long reads with exception 3 is read in smaller pieces, and a configured limit avoids it', async () => {
    // A device that accepts at most 2 registers per read, as some meters do.
    const short = {
      ...vector,
      getMultipleHoldingRegisters: (addr: number, length: number) => {
        if (length > 2) throw { modbusErrorCode: 3, msg: 'too long' };
        return Array.from({ length }, (_, i) => lookup(HOLDING, addr + i));
      },
    };
    const { server, port } = await startServer(undefined, short);
    cleanups.push(() => stopServer(server));
    const tags = [tag('f', { area: 'holding', address: 0, type: 'float32' }), tag('i', { area: 'holding', address: 2, type: 'int32', order: 'CDAB' })];
    const driver = await openDriver(device(port, tags));
    const plan = driver.plan(tags);
    expect(plan.requestCount).toBe(1);
    const samples = await driver.read(plan);
    expect(samples.map((s) => s.quality)).toEqual(['good', 'good']);
    expect(samples[0].value).toBeCloseTo(123.456, 3);
    expect(samples[1].value).toBe(-2);
    expect(plan.requestCount).toBe(2);

    const limited = await openDriver(device(port, tags, { maxRegistersPerRequest: 2 }));
    const limitedPlan = limited.plan(tags);
    expect(limitedPlan.requestCount).toBe(2);
    expect((await limited.read(limitedPlan)).map((s) => s.quality)).toEqual(['good', 'good']);
    expect(limited.stats().errors.exception).toBe(0);
  });

  it('a device that never answers gives bad timeout within about timeoutMs, then the connection is dropped', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => {
      sockets.add(socket); // accept and stay silent
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          silent.close(() => resolve());
        }),
    );
    const port = (silent.address() as net.AddressInfo).port;
    const timeoutMs = 200;
    const tags = [tag('a', { area: 'holding', address: 0, type: 'uint16' }), tag('b', { area: 'input', address: 0, type: 'uint16' }), tag('c', { area: 'coil', address: 0, type: 'bool' })];
    const driver = await openDriver(device(port, tags, { timeoutMs }), { maxConsecutiveTimeouts: 2 });

    // One request: one timeout, connection kept.
    const single = driver.plan(tags.slice(0, 1));
    const started = performance.now();
    const [sample] = await driver.read(single);
    const elapsedMs = performance.now() - started;
    expect(sample).toMatchObject({ tagIndex: 0, quality: 'bad', reason: 'timeout' });
    expect(elapsedMs).toBeLessThan(timeoutMs * 10); // returns; generous bound, not a timing assertion
    expect(driver.connected).toBe(true);

    // Requests go coil, holding, input: the coil read is the second consecutive timeout, so the
    // connection is closed and the other two are not sent.
    const samples = await driver.read(driver.plan(tags));
    expect(samples.map((s) => s.reason)).toEqual(['comm-lost', 'comm-lost', 'timeout']);
    expect(driver.connected).toBe(false);
    expect(driver.stats()).toMatchObject({ requests: 2, errors: { timeout: 2, comm: 0 } });
    expect(driver.stats().lastError).toMatch(/2 consecutive timeouts/);
  });

  it('notices a server that goes away, reports comm-lost, and reconnects when it is back', async () => {
    let { server, port } = await startServer();
    const tags = [tag('flow', { area: 'holding', address: 0, type: 'float32' }), tag('rpm', { area: 'input', address: 5, type: 'uint16' })];
    const driver = await openDriver(device(port, tags));
    const plan = driver.plan(tags);
    expect((await driver.read(plan)).every((s) => s.quality === 'good')).toBe(true);

    await stopServer(server);
    await until(() => !driver.connected, 'the driver to notice the closed connection');
    const samples = await driver.read(plan);
    expect(samples.map((s) => [s.tagIndex, s.quality, s.reason])).toEqual([
      [0, 'bad', 'comm-lost'],
      [1, 'bad', 'comm-lost'],
    ]);
    expect(driver.stats().connected).toBe(false);
    await expect(driver.open()).rejects.toThrow(`127.0.0.1:${port}`);

    ({ server } = await startServer(port));
    cleanups.push(() => stopServer(server));
    await driver.open();
    expect(driver.connected).toBe(true);
    const again = await driver.read(plan);
    expect(again.map((s) => s.value)).toEqual([Math.fround(123.456), 4321]);
  });

  it('a connection lost while a request is in flight fails that request at once as comm-lost', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('data', () => socket.destroy()); // reset the connection when the request arrives
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => silent.close(() => resolve())));
    const port = (silent.address() as net.AddressInfo).port;
    const tags = [tag('a', { area: 'holding', address: 0, type: 'uint16' }), tag('b', { area: 'input', address: 0, type: 'uint16' })];
    // A long request timeout: the test only passes quickly if the close is noticed, not the timeout.
    const driver = await openDriver(device(port, tags, { timeoutMs: 20_000 }));
    const samples = await driver.read(driver.plan(tags));
    expect(samples.map((s) => s.reason)).toEqual(['comm-lost', 'comm-lost']);
    expect(driver.connected).toBe(false);
    expect(driver.stats().errors.comm).toBe(1);
  });

  it('open() to a closed port rejects with an error naming host and port', async () => {
    const port = await freePort();
    const driver = new ModbusTcpDriver(device(port, []), context);
    await expect(driver.open()).rejects.toThrow(new RegExp(`chiller-1.*127\\.0\\.0\\.1:${port}`));
    expect(driver.connected).toBe(false);
    // Reads before any connection are bad 'not-connected', never a rejection.
    const tags = [tag('a', { area: 'holding', address: 0, type: 'uint16' })];
    const samples = await driver.read(driver.plan(tags));
    expect(samples).toEqual([expect.objectContaining({ tagIndex: 0, quality: 'bad', reason: 'not-connected' })]);
    await driver.close();
    await driver.close(); // idempotent
  });

  it('a connect that does not complete within the connect timeout rejects and leaves no socket behind', async () => {
    let open = 0;
    const listener = net.createServer((socket) => {
      open++;
      socket.on('close', () => open--);
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => listener.close(() => resolve())));
    const port = (listener.address() as net.AddressInfo).port;
    const clock = new FakeClock();
    const driver = new ModbusTcpDriver(device(port, [], { timeoutMs: 500 }), { clock, logger: silentLogger });
    cleanups.push(() => driver.close());
    const outcome = driver.open().then(
      () => null,
      (error: Error) => error,
    );
    // The connect timer fires before the event loop can deliver the TCP handshake.
    await clock.advance(500);
    expect((await outcome)?.message).toBe(`device chiller-1: connect to 127.0.0.1:${port} timed out after 500 ms`);
    expect(driver.connected).toBe(false);
    expect(clock.pendingTimers()).toBe(0);
    await until(() => open === 0, 'the abandoned socket to be closed');
    await driver.open(); // and a later open works
    expect(driver.connected).toBe(true);
  });

  it('the descriptor creates a working driver and read() refuses foreign plans', async () => {
    const { server, port } = await startServer();
    cleanups.push(() => stopServer(server));
    const tags = [tag('rpm', { area: 'input', address: 5, type: 'uint16' })];
    expect(modbusTcpDescriptor.kind).toBe('modbus-tcp');
    const driver = modbusTcpDescriptor.create(device(port, tags), context);
    cleanups.push(() => driver.close());
    await driver.open();
    expect((await driver.read(driver.plan(tags)))[0].value).toBe(4321);
    await expect(driver.read({ requestCount: 1, tagCount: 1 })).rejects.toThrow(/plan/);
  });
});
