/**
 * OpcUaDriver against the plant's OPC UA simulator (node-opcua-server) over real TCP: values equal
 * to `plant.values()`, subscriptions and onData, 'read' tags, status codes, refused nodes, nsu=
 * NodeIds, a server restart (new monitored items), a wrong password (one connection per open(),
 * counted by a TCP relay in front of the server), and Aes256_Sha256_RsaPss SignAndEncrypt with a
 * user name. Certificate trust with the real CLI is in opcua-cli.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

// node-opcua's load-time warning (RSA PKCS#1 v1.5 on this Node version) is printed before any
// logger can be installed; its level is read from the environment when it loads.
vi.hoisted(() => {
  process.env.NODEOPCUA_LOG_LEVEL ??= '3';
});

import type { DeviceSpec, OpcUaConnection, OpcUaIdentity } from '../../agent/core/device.js';
import { silentLogger } from '../../agent/core/logger.js';
import type { RawSample } from '../../agent/core/reading.js';
import type { OpcUaNode, Tag } from '../../agent/core/tag.js';
import type { PollCycle } from '../../agent/core/reading.js';
import { PollLoop } from '../../agent/scheduler/poll-loop.js';
import { systemClock } from '../../agent/scheduler/system-clock.js';
import { OpcUaDriver, opcuaDescriptor, type OpcUaReadPlan } from '../../drivers/opcua/index.js';
import { startOpcUaSimulator, startPlantSimulator, type OpcUaSimulator, type PlantSimulator } from '../../simulators/index.js';
import { waitFor, waitForAsync } from '../helpers/brokers.js';

const START = Date.UTC(2026, 6, 14, 14, 0, 0);
const USERS = { operator: 'op-secret-1' };
const DEVICE = 'chiller-1';

let dir: string;
let plant: PlantSimulator;
let sim: OpcUaSimulator;
const drivers: OpcUaDriver[] = [];
const relays: Relay[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'allbit-opcua-driver-'));
  plant = await startPlantSimulator({ autoRun: false, seed: 1, startTimeMs: START });
  plant.step(120);
  sim = await startOpcUaSimulator({ plant, pkiDir: join(dir, 'server-pki'), users: USERS, devices: [DEVICE, 'ups-1'] });
}, 60_000);

afterEach(async () => {
  await Promise.all(drivers.splice(0).map((d) => d.close()));
  await Promise.all(relays.splice(0).map((r) => r.close()));
});

afterAll(async () => {
  await sim?.close();
  await plant?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function uaTag(name: string, nodeId: string, source: Partial<OpcUaNode> = {}): Tag {
  return {
    name,
    description: '',
    unit: '',
    source: { nodeId, mode: 'subscribe', samplingIntervalMs: -1, queueSize: 10, serverDeadband: 0, ...source },
    scale: 1,
    offset: 0,
    deadband: 0,
    maxSilenceMs: 0,
  };
}

function point(name: string, source: Partial<OpcUaNode> = {}): Tag {
  return uaTag(name, sim.nodeIdOf(DEVICE, name), source);
}

function device(tags: Tag[], connection: Partial<OpcUaConnection> = {}, pkiDir = join(dir, 'client-pki')): DeviceSpec {
  return {
    id: 'chiller-ua',
    name: 'Chiller over OPC UA',
    connection: {
      protocol: 'opcua',
      endpointUrl: sim.endpointUrl,
      securityMode: 'None',
      securityPolicy: 'None',
      identity: { type: 'anonymous' },
      pkiDir,
      publishingIntervalMs: 50,
      sessionTimeoutMs: 30_000,
      ...connection,
    },
    pollIntervalMs: 100,
    timeoutMs: 3000,
    maxGapRegisters: 0,
    maxGapBits: 0,
    maxRegistersPerRequest: 125,
    maxBitsPerRequest: 2000,
    backoffInitialMs: 100,
    backoffMaxMs: 1000,
    tags,
  };
}

function newDriver(spec: DeviceSpec): OpcUaDriver {
  const driver = new OpcUaDriver(spec, { clock: systemClock, logger: silentLogger });
  drivers.push(driver);
  return driver;
}

function password(value: string): OpcUaIdentity {
  return { type: 'username', username: 'operator', password: { reveal: () => value } };
}

/** Reads until `predicate` holds for the samples (values arrive with publish responses). */
async function readUntil(driver: OpcUaDriver, plan: OpcUaReadPlan, what: string, predicate: (samples: RawSample[]) => boolean): Promise<RawSample[]> {
  let last: RawSample[] = [];
  let pending: Promise<void> | null = null;
  try {
    await waitFor(what, () => {
      if (!pending) {
        pending = driver.read(plan).then((samples) => {
          last = samples;
          pending = null;
        });
      }
      return last.length > 0 && predicate(last);
    });
  } catch (err) {
    throw new Error(`${(err as Error).message}; last samples: ${JSON.stringify(last, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`);
  }
  return last;
}

const allGood = (samples: RawSample[]) => samples.every((s) => s.quality === 'good');

/** A TCP relay in front of the server: counts connections, can cut them all or freeze them (a dead link without FIN). */
interface Relay {
  port: number;
  connections: number;
  cut(): void;
  freeze(): void;
  close(): Promise<void>;
}

async function startRelay(targetPort: number): Promise<Relay> {
  const sockets = new Set<net.Socket>();
  const relay: Relay = {
    port: 0,
    connections: 0,
    cut() {
      for (const s of sockets) s.destroy();
    },
    freeze() {
      for (const s of sockets) {
        s.unpipe();
        s.pause();
      }
    },
    async close() {
      relay.cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = net.createServer((inbound) => {
    relay.connections++;
    const outbound = net.connect(targetPort, '127.0.0.1');
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        inbound.destroy();
        outbound.destroy();
      });
    }
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  relay.port = (server.address() as net.AddressInfo).port;
  relays.push(relay);
  return relay;
}

describe('OpcUaDriver', () => {
  it('is created by its descriptor and reports not-connected before the first open()', async () => {
    expect(opcuaDescriptor.kind).toBe('opcua');
    const driver = opcuaDescriptor.create(device([point('chw_supply_temp')]), { clock: systemClock, logger: silentLogger });
    expect(driver).toBeInstanceOf(OpcUaDriver);
    expect(driver.connected).toBe(false);
    const plan = driver.plan(device([point('chw_supply_temp')]).tags);
    expect(plan).toMatchObject({ requestCount: 0, tagCount: 1 });
    const samples = await driver.read(plan);
    expect(samples).toEqual([expect.objectContaining({ tagIndex: 0, quality: 'bad', reason: 'not-connected' })]);
    await driver.close();
  });

  it('delivers subscribed values equal to plant.values(), with source and server timestamps, and fires onData', async () => {
    const names = ['chw_supply_temp', 'power_kw', 'running', 'model', 'alarm_word', 'run_hours'];
    const spec = device(names.map((n) => point(n)));
    const driver = newDriver(spec);
    let notified = 0;
    driver.onData(() => notified++);
    const plan = driver.plan(spec.tags);
    expect(plan.requestCount).toBe(0);
    await driver.open();
    expect(driver.connected).toBe(true);
    expect(driver.stats().monitoredItems).toBe(names.length);

    const expected = () => names.map((n) => plant.values(DEVICE)[n]);
    let samples = await readUntil(driver, plan, 'the first values', allGood);
    expect(samples.map((s) => s.value)).toEqual(expected());
    expect(samples[0].timestampMs).toBe(plant.timeMs);
    expect(samples[0].serverTimestampMs).toEqual(expect.any(Number));

    const before = notified;
    const previous = plant.values(DEVICE).power_kw;
    plant.step(30);
    expect(plant.values(DEVICE).power_kw).not.toBe(previous);
    await waitFor('onData after a plant step', () => notified > before);
    // power_kw changed: its source timestamp is the plant's time of the step. (An unchanged value
    // is not sent again and keeps the source timestamp of its last change.)
    samples = await readUntil(driver, plan, 'the stepped values', (s) => s[1].timestampMs === plant.timeMs && s.every((x, i) => x.value === expected()[i]));
    expect(samples.map((s) => s.value)).toEqual(expected());
    expect(driver.stats()).toMatchObject({ requests: 0, connected: true });
    expect(driver.stats().publishResponses).toBeGreaterThan(0);
  });

  it('returns only what changed since the last read when asked (changedOnly), without a Read call', async () => {
    const names = ['chw_supply_temp', 'power_kw', 'model'];
    const spec = device([...names.map((n) => point(n)), point('run_hours', { mode: 'read' })]);
    const driver = newDriver(spec);
    const plan = driver.plan(spec.tags);
    await driver.open();
    await readUntil(driver, plan, 'the first values', allGood);
    // A full read reports everything, so nothing is pending afterwards.
    expect(await driver.read(plan, { changedOnly: true })).toEqual([]);
    const requests = driver.stats().requests;
    const previous = plant.values(DEVICE).power_kw;
    plant.step(30);
    expect(plant.values(DEVICE).power_kw).not.toBe(previous);
    let changed: Awaited<ReturnType<typeof driver.read>> = [];
    await waitForAsync('power_kw to arrive as a change', async () => {
      changed = [...changed, ...(await driver.read(plan, { changedOnly: true }))];
      return changed.some((s) => s.tagIndex === 1);
    });
    // The model string did not change; the polled run_hours is left to full reads.
    expect(changed.map((s) => s.tagIndex)).not.toContain(2);
    expect(changed.map((s) => s.tagIndex)).not.toContain(3);
    expect(changed.find((s) => s.tagIndex === 1)).toMatchObject({ quality: 'good', value: plant.values(DEVICE).power_kw });
    expect(driver.stats().requests).toBe(requests);
  });

  it('reads "read" tags with one Read call per cycle, and mixes them with subscribed tags', async () => {
    const spec = device([point('power_kw', { mode: 'read' }), point('chw_supply_temp'), point('model', { mode: 'read' })]);
    const driver = newDriver(spec);
    const plan = driver.plan(spec.tags);
    expect(plan).toMatchObject({ requestCount: 1, tagCount: 3 });
    await driver.open();
    let samples = await readUntil(driver, plan, 'all three', allGood);
    const requestsBefore = driver.stats().requests;
    for (const seconds of [10, 10]) {
      const previous = samples[0].value;
      plant.step(seconds);
      samples = await driver.read(plan);
      // Read with maxAge 0: each cycle's value is the one after this step, not a cached one.
      expect(samples[0]).toMatchObject({ quality: 'good', value: plant.values(DEVICE).power_kw, timestampMs: plant.timeMs });
      expect(samples[0].value).not.toBe(previous);
      expect(samples[2]).toMatchObject({ quality: 'good', value: plant.values(DEVICE).model });
    }
    expect(driver.stats().requests).toBe(requestsBefore + 2);
    expect(driver.stats().lastLatencyMs).toEqual(expect.any(Number));
  });

  it('marks only the tags whose node is unknown as not-found, in both modes, and resolves nsu= NodeIds', async () => {
    const spec = device([
      point('chw_supply_temp'),
      uaTag('ghost', `${sim.nodeIdOf(DEVICE, 'chw_supply_temp')}_nope`),
      uaTag('ghost_read', 'ns=1;s=NoSuchNode', { mode: 'read' }),
      uaTag('by_uri', sim.expandedNodeIdOf(DEVICE, 'power_kw')),
      uaTag('unknown_uri', 'nsu=urn:nobody:here;s=x'),
      point('model', { mode: 'read' }),
    ]);
    const driver = newDriver(spec);
    const plan = driver.plan(spec.tags);
    await driver.open();
    const samples = await readUntil(driver, plan, 'the good tags', (s) => s[0].quality === 'good' && s[3].quality === 'good');
    expect(samples[0]).toMatchObject({ quality: 'good', value: plant.values(DEVICE).chw_supply_temp });
    expect(samples[1]).toMatchObject({ quality: 'bad', reason: 'not-found' });
    expect(samples[1].detail).toMatch(/chw_supply_temp_nope.*BadNodeIdUnknown \(0x80340000\)/);
    expect(samples[2]).toMatchObject({ quality: 'bad', reason: 'not-found', detail: 'ns=1;s=NoSuchNode: refused by the server: BadNodeIdUnknown (0x80340000)' });
    expect(samples[3]).toMatchObject({ quality: 'good', value: plant.values(DEVICE).power_kw });
    expect(samples[4]).toMatchObject({ quality: 'bad', reason: 'not-found' });
    expect(samples[4].detail).toMatch(/urn:nobody:here.*NamespaceArray/);
    expect(samples[5]).toMatchObject({ quality: 'good', value: plant.values(DEVICE).model });
    // Refused once per connection: the unknown 'read' node is not asked for again.
    const requests = driver.stats().requests;
    expect((await driver.read(plan))[2]).toMatchObject({ reason: 'not-found' });
    expect(driver.stats().requests).toBe(requests + 1);
    expect(driver.stats().errors).toMatchObject({ config: 3, status: 0 });
  });

  it('reports a Read the server refuses as a whole (ServiceFault) as exception, and keeps the connection', async () => {
    // node-opcua's server allows 10000 nodes per Read (OperationLimits/MaxNodesPerRead).
    const tags = Array.from({ length: 10_001 }, (_, i) => uaTag(`p${i}`, sim.nodeIdOf(DEVICE, 'power_kw'), { mode: 'read' }));
    const spec = device(tags);
    const driver = newDriver(spec);
    const plan = driver.plan(spec.tags);
    await driver.open();
    const samples = await driver.read(plan);
    expect(samples[0]).toMatchObject({ quality: 'bad', reason: 'exception' });
    expect(samples[0].detail).toMatch(/BadTooManyOperations \(0x80100000\)/);
    expect(driver.connected).toBe(true);
    expect(driver.stats().errors).toMatchObject({ exception: 1, comm: 0 });
  });

  it('maps status codes the server sets on values to quality', async () => {
    const names = ['chw_supply_temp', 'power_kw', 'cond_pressure', 'kw_per_ton'];
    const spec = device(names.map((n) => point(n)));
    const driver = newDriver(spec);
    const plan = driver.plan(spec.tags);
    await driver.open();
    await readUntil(driver, plan, 'all good', allGood);
    sim.setPointStatus(DEVICE, 'chw_supply_temp', 'UncertainLastUsableValue');
    sim.setPointStatus(DEVICE, 'power_kw', 'BadSensorFailure');
    sim.setPointStatus(DEVICE, 'cond_pressure', 'BadCommunicationError');
    sim.setPointStatus(DEVICE, 'kw_per_ton', 'BadTimeout');
    try {
      const samples = await readUntil(driver, plan, 'the statuses', (s) => s.every((x) => x.quality !== 'good'));
      expect(samples[0]).toMatchObject({ quality: 'uncertain', reason: 'device-status', detail: 'UncertainLastUsableValue (0x40900000)', value: plant.values(DEVICE).chw_supply_temp });
      expect(samples[1]).toMatchObject({ quality: 'bad', reason: 'device-status', detail: 'BadSensorFailure (0x808C0000)' });
      expect(samples[1].value).toBeUndefined();
      expect(samples[2]).toMatchObject({ quality: 'bad', reason: 'comm-lost', detail: 'BadCommunicationError (0x80050000)' });
      expect(samples[3]).toMatchObject({ quality: 'bad', reason: 'timeout', detail: 'BadTimeout (0x800A0000)' });
      expect(driver.stats().errors.status).toBeGreaterThanOrEqual(3);
    } finally {
      for (const n of names) sim.setPointStatus(DEVICE, n, 'Good');
    }
    await readUntil(driver, plan, 'good again', allGood);
  });

  it('loses the connection when the server stops, and after a restart recreates the subscription and its items', async () => {
    const spec = device([point('power_kw'), point('chw_supply_temp', { mode: 'read' })]);
    const driver = newDriver(spec);
    let notified = 0;
    driver.onData(() => notified++);
    const plan = driver.plan(spec.tags);
    await driver.open();
    await readUntil(driver, plan, 'values before the restart', allGood);
    const commBefore = driver.stats().errors.comm;

    await sim.stop();
    try {
      await waitFor('the driver to notice the server is gone', () => !driver.connected);
      const down = await driver.read(plan);
      expect(down.map((s) => s.reason)).toEqual(['comm-lost', 'comm-lost']);
      expect(down[0].detail).toMatch(/chiller-ua/);
      expect(driver.stats().errors.comm).toBe(commBefore + 1);
      await expect(driver.open()).rejects.toThrow(/^device chiller-ua: cannot connect to opc\.tcp:\/\/127\.0\.0\.1:\d+\/allbit\/plant: connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
    } finally {
      await sim.start();
    }
    await driver.open();
    expect(driver.connected).toBe(true);
    // A value that changed after the restart arrives through the new monitored item.
    const before = plant.values(DEVICE).power_kw;
    plant.step(30);
    const changed = plant.values(DEVICE).power_kw;
    expect(changed).not.toBe(before);
    const afterNotified = notified;
    const samples = await readUntil(driver, plan, 'a value changed after the restart', (s) => s[0].quality === 'good' && s[0].value === changed && s[0].timestampMs === plant.timeMs);
    expect(samples[1]).toMatchObject({ quality: 'good', value: plant.values(DEVICE).chw_supply_temp });
    expect(notified).toBeGreaterThan(afterNotified);
    expect(driver.stats().monitoredItems).toBe(1);
  });

  it('notices a connection cut under it (relay) and reports comm-lost at once through onData', async () => {
    const relay = await startRelay(sim.port);
    const spec = device([point('chw_supply_temp')], { endpointUrl: `opc.tcp://127.0.0.1:${relay.port}/allbit/plant` });
    const driver = newDriver(spec);
    let notified = 0;
    driver.onData(() => notified++);
    const plan = driver.plan(spec.tags);
    await driver.open();
    await readUntil(driver, plan, 'a value', allGood);
    const before = notified;
    relay.cut();
    await waitFor('connected to turn false', () => !driver.connected);
    await waitFor('onData for the loss', () => notified > before);
    expect((await driver.read(plan))[0]).toMatchObject({ quality: 'bad', reason: 'comm-lost' });
    await driver.open();
    await readUntil(driver, plan, 'values again', allGood);
  });

  it('declares a frozen link (no FIN, nothing answers) dead', async () => {
    const relay = await startRelay(sim.port);
    const spec = { ...device([point('chw_supply_temp')], { endpointUrl: `opc.tcp://127.0.0.1:${relay.port}/allbit/plant` }), timeoutMs: 500 };
    const driver = newDriver(spec);
    const plan = driver.plan(spec.tags);
    await driver.open();
    await readUntil(driver, plan, 'a value', allGood);
    relay.freeze();
    // No FIN, no RST: only the silence tells. Each read checks it.
    const samples = await readUntil(driver, plan, 'the silent link to be declared lost', (s) => s[0].reason === 'comm-lost');
    expect(driver.connected).toBe(false);
    // node-opcua's Publish requests time out and it drops the channel ('connection_lost'); the
    // driver's own check (no publish response for 2 × keep-alive + timeout) is the backstop.
    expect(samples[0].detail).toMatch(/connection to .* lost|no publish response/);
    expect(driver.stats().errors.comm).toBe(1);
  });

  it('rejects a wrong password with a clear message, once per open() and without retrying', async () => {
    const relay = await startRelay(sim.port);
    const spec = device([point('chw_supply_temp')], { endpointUrl: `opc.tcp://127.0.0.1:${relay.port}/allbit/plant`, identity: password('wrong') });
    const driver = newDriver(spec);
    driver.plan(spec.tags);
    for (const attempt of [1, 2]) {
      const error = await driver.open().then(
        () => null,
        (e: Error) => e,
      );
      expect(error?.message).toMatch(/^device chiller-ua: opc\.tcp:\/\/127\.0\.0\.1:\d+\/allbit\/plant refused user "operator": BadUserAccessDenied \(0x801f0000\)/);
      expect(driver.connected).toBe(false);
      // One TCP connection per open(): node-opcua does not retry behind the scheduler's back.
      expect(relay.connections).toBe(attempt);
    }
    expect(driver.stats().lastError).toMatch(/BadUserAccessDenied/);
  });

  it('connects with SignAndEncrypt Aes256_Sha256_RsaPss and a user name once the server certificate is trusted', async () => {
    const pkiDir = join(dir, 'client-pki-secure');
    const spec = device([point('chw_supply_temp')], { securityMode: 'SignAndEncrypt', securityPolicy: 'Aes256_Sha256_RsaPss', identity: password(USERS.operator) }, pkiDir);
    const driver = newDriver(spec);
    const plan = driver.plan(spec.tags);
    await expect(driver.open()).rejects.toThrow(new RegExp(`not trusted.*${sim.certificateThumbprint}`));
    // Trust it the way an administrator's tool would: the server's certificate file into trusted/.
    const { OPCUACertificateManager } = await import('node-opcua-certificate-manager');
    const { X509Certificate } = await import('node:crypto');
    const manager = new OPCUACertificateManager({ rootFolder: pkiDir, automaticallyAcceptUnknownCertificate: false, disableFileWatchers: true });
    await manager.initialize();
    await manager.trustCertificate(new X509Certificate(readFileSync(join(dir, 'server-pki', 'own', 'certs', 'certificate.pem'))).raw);
    await manager.dispose();
    await driver.open();
    const samples = await readUntil(driver, plan, 'a value over the encrypted channel', allGood);
    expect(samples[0].value).toBe(plant.values(DEVICE).chw_supply_temp);
  });

  it('authenticates with an X509 user certificate (PEM file and private key)', async () => {
    const certificateFile = join(dir, 'user.pem');
    const keyFile = join(dir, 'user.key');
    // node-opcua-crypto restores OPENSSL_CONF after reading a key with `process.env.OPENSSL_CONF = backup`,
    // which turns an unset variable into the string "undefined"; openssl would then fail to start.
    const env = { ...process.env };
    if (env.OPENSSL_CONF === 'undefined') delete env.OPENSSL_CONF;
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certificateFile, '-subj', '/CN=allbit operator', '-days', '30'], { encoding: 'utf8', env });
    expect(made.status, made.stderr).toBe(0);
    const key = readFileSync(keyFile, 'utf8');
    const spec = device([point('power_kw', { mode: 'read' })], { identity: { type: 'certificate', certificateFile, privateKey: { reveal: () => key } } });
    const driver = newDriver(spec);
    const plan = driver.plan(spec.tags);
    await driver.open();
    expect((await driver.read(plan))[0]).toMatchObject({ quality: 'good', value: plant.values(DEVICE).power_kw });
  });

  it('under the PollLoop: values flow, a server restart shows as comm-lost, and the loop reconnects by itself', async () => {
    const spec = { ...device([point('power_kw'), point('model', { mode: 'read' })]), backoffInitialMs: 50, backoffMaxMs: 200 };
    const driver = newDriver(spec);
    const cycles: PollCycle[] = [];
    const loop = new PollLoop({ device: spec, driver, clock: systemClock, logger: silentLogger, onCycle: (c) => cycles.push(c) });
    const last = () => cycles[cycles.length - 1];
    loop.start();
    try {
      await waitFor('a good cycle', () => cycles.length > 0 && last().connected && allGood(last().samples));
      expect(last().samples[0].value).toBe(plant.values(DEVICE).power_kw);
      await sim.stop();
      try {
        await waitFor('a comm-lost cycle', () => cycles.length > 0 && !last().connected && last().samples.every((x) => x.reason === 'comm-lost'));
      } finally {
        await sim.start();
      }
      plant.step(30);
      const power = plant.values(DEVICE).power_kw;
      await waitFor('the loop to reconnect and deliver the new value', () => last().connected && last().samples[0].value === power && last().samples[1].quality === 'good');
      expect(loop.snapshot().connected).toBe(true);
    } finally {
      await loop.stop();
    }
  });

  it('close() is safe to repeat and while open() is in flight', async () => {
    const spec = device([point('chw_supply_temp')]);
    const driver = newDriver(spec);
    const plan = driver.plan(spec.tags);
    const opening = driver.open();
    const closing = driver.close();
    await Promise.all([opening.catch(() => undefined), closing]);
    expect(driver.connected).toBe(false);
    await driver.close();
    await driver.open();
    await readUntil(driver, plan, 'a value after reopening', allGood);
    await driver.close();
    await driver.close();
    expect(driver.connected).toBe(false);
  });
});
