/**
 * The plant served over OPC UA, read by node-opcua-client over real TCP: the address space, values
 * equal to `plant.values()`, engineering units, subscriptions, status codes, user tokens, signed
 * and encrypted channels, restarts and certificate renewal.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

// node-opcua logs warnings (one at load time about RSA PKCS#1 v1.5 on this Node version) with its
// own logger, whose level is read from the environment when it loads: errors only in this file.
vi.hoisted(() => {
  process.env.NODEOPCUA_LOG_LEVEL ??= '3';
});

import { OPCUACertificateManager } from 'node-opcua-certificate-manager';
import {
  AttributeIds,
  BrowseDirection,
  DataType,
  MessageSecurityMode,
  OPCUAClient,
  SecurityPolicy,
  StatusCodes,
  TimestampsToReturn,
  UserTokenType,
  VariableTypeIds,
  type ClientSession,
  type DataValue,
  type OPCUAClientOptions,
  type UserIdentityInfo,
} from 'node-opcua-client';
import type { EUInformation, Range } from 'node-opcua-types';
import { startOpcUaSimulator, startPlantSimulator, type OpcUaSimulator, type PlantSimulator } from '../../simulators/index.js';
import { waitFor } from '../helpers/brokers.js';

const START = Date.UTC(2026, 6, 14, 14, 0, 0);
const USERS = { operator: 'op-secret-1' };

let dir: string;
let plant: PlantSimulator;
let sim: OpcUaSimulator;
let clientPki: OPCUACertificateManager;
const clients: OPCUAClient[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'allbit-opcua-'));
  plant = await startPlantSimulator({ autoRun: false, seed: 1, startTimeMs: START });
  plant.step(120);
  sim = await startOpcUaSimulator({ plant, pkiDir: join(dir, 'server-pki'), users: USERS });
  // the test client's own PKI; it trusts whatever server certificate it meets (test only)
  clientPki = new OPCUACertificateManager({ rootFolder: join(dir, 'client-pki'), automaticallyAcceptUnknownCertificate: true, disableFileWatchers: true });
  await clientPki.initialize();
}, 60_000);

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.disconnect()));
});

afterAll(async () => {
  await sim?.close();
  await plant?.close();
  await clientPki?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function newClient(options: Partial<OPCUAClientOptions> = {}): OPCUAClient {
  const client = OPCUAClient.create({
    applicationName: 'allbit-test-client',
    clientCertificateManager: clientPki,
    endpointMustExist: false,
    connectionStrategy: { maxRetry: 0, initialDelay: 50, maxDelay: 200 },
    ...options,
  });
  clients.push(client);
  return client;
}

async function connect(options: Partial<OPCUAClientOptions> = {}, identity?: UserIdentityInfo): Promise<{ client: OPCUAClient; session: ClientSession }> {
  const client = newClient(options);
  await client.connect(sim.endpointUrl);
  const session = await client.createSession(identity);
  return { client, session };
}

async function readValue(session: ClientSession, nodeId: string): Promise<DataValue> {
  return session.read({ nodeId, attributeId: AttributeIds.Value }, 0 /* maxAge: a fresh value */);
}

async function browseNames(session: ClientSession, nodeId: string): Promise<Map<string, string>> {
  const result = await session.browse({ nodeId, browseDirection: BrowseDirection.Forward, referenceTypeId: 'HierarchicalReferences', includeSubtypes: true, resultMask: 63 });
  expect(result.statusCode).toBe(StatusCodes.Good);
  return new Map((result.references ?? []).map((r) => [r.browseName.name ?? '', r.nodeId.toString()]));
}

describe('plant simulator over OPC UA', () => {
  it('is browsable as Objects/Plant/<kind folder>/<device>/<point>, with stable string node ids', async () => {
    const { session } = await connect();
    const namespaces = await session.readNamespaceArray();
    const ns = namespaces.indexOf(sim.namespaceUri);
    expect(ns).toBeGreaterThan(0);
    expect(sim.nodeIdOf('chiller-1', 'chw_supply_temp')).toBe(`ns=${ns};s=chiller-1.chw_supply_temp`);
    expect(sim.expandedNodeIdOf('chiller-1', 'chw_supply_temp')).toBe(`nsu=${sim.namespaceUri};s=chiller-1.chw_supply_temp`);

    const objects = await browseNames(session, 'i=85');
    expect(objects.get('Plant')).toBe(`ns=${ns};s=Plant`);
    const folders = await browseNames(session, `ns=${ns};s=Plant`);
    expect([...folders.keys()].sort()).toEqual(['Chillers', 'CoolingTowers', 'Transformers', 'UPS']);
    const expected = { Chillers: 'chiller-1', CoolingTowers: 'cooling-tower-1', Transformers: 'transformer-1', UPS: 'ups-1' };
    for (const [folder, deviceId] of Object.entries(expected)) {
      const devices = await browseNames(session, folders.get(folder)!);
      expect([...devices.keys()]).toEqual([deviceId]);
      const points = await browseNames(session, devices.get(deviceId)!);
      for (const p of plant.pointMap(deviceId)) expect(points.get(p.name), `${deviceId}.${p.name}`).toBe(sim.nodeIdOf(deviceId, p.name));
    }
    expect(() => sim.nodeIdOf('chiller-1', 'no_such_point')).toThrow(/no point "no_such_point"/);
  });

  it('serves exactly the values plant.values() holds, typed, with the simulated time as source timestamp', async () => {
    const { session } = await connect();
    plant.step(30);
    for (const device of plant.devices) {
      const values = plant.values(device.id);
      const points = plant.pointMap(device.id);
      const read = await session.read(points.map((p) => ({ nodeId: sim.nodeIdOf(device.id, p.name), attributeId: AttributeIds.Value })), 0);
      points.forEach((p, i) => {
        const dv = read[i];
        const where = `${device.id}.${p.name}`;
        expect(dv.statusCode, where).toBe(StatusCodes.Good);
        expect(dv.value.value, where).toBe(values[p.name]);
        const type = p.type === 'bool' ? DataType.Boolean : p.type === 'string' ? DataType.String : p.name === 'alarm_word' ? DataType.UInt32 : DataType.Double;
        expect(dv.value.dataType, where).toBe(type);
        expect(dv.sourceTimestamp?.getTime(), where).toBe(plant.timeMs);
      });
    }
  });

  it('analog points are AnalogItems with UNECE EngineeringUnits and an EURange', async () => {
    const { session } = await connect();
    const properties = async (deviceId: string, point: string) => browseNames(session, sim.nodeIdOf(deviceId, point));
    const read = async (nodeId: string) => (await readValue(session, nodeId)).value.value as unknown;

    const supply = await properties('chiller-1', 'chw_supply_temp');
    const refs = await session.browse({ nodeId: sim.nodeIdOf('chiller-1', 'chw_supply_temp'), browseDirection: BrowseDirection.Forward, referenceTypeId: 'HasTypeDefinition', resultMask: 63 });
    expect(refs.references?.[0].nodeId.value).toBe(VariableTypeIds.AnalogItemType);
    const celsius = (await read(supply.get('EngineeringUnits')!)) as EUInformation;
    expect(celsius.unitId).toBe(4408652); // UNECE "CEL"
    expect(celsius.displayName.text).toBe('°C');
    expect(celsius.namespaceUri).toBe('http://www.opcfoundation.org/UA/units/un/cefact');
    const range = (await read(supply.get('EURange')!)) as Range;
    expect({ low: range.low, high: range.high }).toEqual({ low: 0, high: 20 });

    const units = async (deviceId: string, point: string) => ((await read((await properties(deviceId, point)).get('EngineeringUnits')!)) as EUInformation).displayName.text;
    expect(await units('transformer-1', 'active_power_kw')).toBe('kW');
    expect(await units('ups-1', 'battery_current')).toBe('A');
    expect(await units('cooling-tower-1', 'fan_speed_pct')).toBe('%');
    expect(await units('chiller-1', 'evap_pressure')).toBe('kPa');
    const perTon = (await read((await properties('chiller-1', 'kw_per_ton')).get('EngineeringUnits')!)) as EUInformation;
    expect({ unitId: perTon.unitId, text: perTon.displayName.text }).toEqual({ unitId: -1, text: 'kW/TR' }); // no UNECE code

    expect((await properties('chiller-1', 'running')).has('EngineeringUnits')).toBe(false);
  });

  it('a subscription receives a data change when the plant steps', async () => {
    const { session } = await connect();
    const subscription = await session.createSubscription2({ requestedPublishingInterval: 50, requestedMaxKeepAliveCount: 20, publishingEnabled: true });
    const item = await subscription.monitor(
      { nodeId: sim.nodeIdOf('transformer-1', 'active_power_kw'), attributeId: AttributeIds.Value },
      { samplingInterval: 0, queueSize: 10, discardOldest: true },
      TimestampsToReturn.Both,
    );
    const changes: DataValue[] = [];
    item.on('changed', (dv: DataValue) => changes.push(dv));
    await waitFor('the initial value', () => changes.length >= 1);
    expect(changes[0].value.value).toBe(plant.values('transformer-1').active_power_kw);

    const steppedAt = Date.now();
    plant.step(60);
    const expected = plant.values('transformer-1').active_power_kw;
    await waitFor('a data change after plant.step', () => changes.some((c) => c.sourceTimestamp?.getTime() === plant.timeMs));
    const change = changes.find((c) => c.sourceTimestamp?.getTime() === plant.timeMs)!;
    expect(change.value.value).toBe(expected);
    expect(change.value.value).not.toBe(changes[0].value.value);
    // source: the simulated time of the step; server: when the server took the value (a Read with
    // maxAge 0 would restamp it, a notification carries it as it was set)
    expect(change.serverTimestamp?.getTime()).toBeGreaterThanOrEqual(steppedAt);
    await subscription.terminate();
  });

  it('setPointStatus: Uncertain keeps the value, Bad nulls it, Good restores it', async () => {
    const { session } = await connect();
    const nodeId = sim.nodeIdOf('ups-1', 'battery_temp');
    const value = plant.values('ups-1').battery_temp;

    sim.setPointStatus('ups-1', 'battery_temp', 'UncertainLastUsableValue');
    let dv = await readValue(session, nodeId);
    expect(dv.statusCode).toBe(StatusCodes.UncertainLastUsableValue);
    expect(dv.value.value).toBe(value);

    sim.setPointStatus('ups-1', 'battery_temp', 'BadSensorFailure');
    plant.step(10); // the status holds for later values too
    dv = await readValue(session, nodeId);
    expect(dv.statusCode).toBe(StatusCodes.BadSensorFailure);
    expect(dv.value.value).toBeNull();
    expect((await readValue(session, sim.nodeIdOf('ups-1', 'battery_voltage'))).statusCode).toBe(StatusCodes.Good);

    sim.setPointStatus('ups-1', 'battery_temp', 'Good');
    dv = await readValue(session, nodeId);
    expect(dv.statusCode).toBe(StatusCodes.Good);
    expect(dv.value.value).toBe(plant.values('ups-1').battery_temp);
    expect(() => sim.setPointStatus('ups-1', 'battery_temp', 'NotAStatus')).toThrow(/unknown status code name/);
  });

  it('a device stopped in the plant (or taken offline here) reports BadCommunicationError, not a stale Good value', async () => {
    const { session } = await connect();
    const nodeId = sim.nodeIdOf('cooling-tower-1', 'basin_temp');
    await plant.stopDevice('cooling-tower-1');
    try {
      const dv = await readValue(session, nodeId);
      expect(dv.statusCode).toBe(StatusCodes.BadCommunicationError);
      expect(dv.value.value).toBeNull();
      expect((await readValue(session, sim.nodeIdOf('chiller-1', 'chw_supply_temp'))).statusCode).toBe(StatusCodes.Good);
    } finally {
      await plant.startDevice('cooling-tower-1');
    }
    expect((await readValue(session, nodeId)).value.value).toBe(plant.values('cooling-tower-1').basin_temp);

    sim.setDeviceOnline('cooling-tower-1', false);
    expect((await readValue(session, nodeId)).statusCode).toBe(StatusCodes.BadCommunicationError);
    sim.setDeviceOnline('cooling-tower-1', true);
    expect((await readValue(session, nodeId)).statusCode).toBe(StatusCodes.Good);
  });

  it('accepts a known user and password and refuses a wrong password', async () => {
    const { session } = await connect({}, { type: UserTokenType.UserName, userName: 'operator', password: USERS.operator });
    expect((await readValue(session, sim.nodeIdOf('chiller-1', 'power_kw'))).statusCode).toBe(StatusCodes.Good);

    const client = newClient();
    await client.connect(sim.endpointUrl);
    await expect(client.createSession({ type: UserTokenType.UserName, userName: 'operator', password: 'wrong' })).rejects.toThrow(/BadUserAccessDenied/);
  });

  it.each([
    ['Sign', 'Basic256Sha256'],
    ['SignAndEncrypt', 'Basic256Sha256'],
    ['Sign', 'Aes256_Sha256_RsaPss'],
    ['SignAndEncrypt', 'Aes256_Sha256_RsaPss'],
  ] as const)('connects with %s and %s', async (mode, policy) => {
    const securityMode = MessageSecurityMode[mode];
    const securityPolicy = SecurityPolicy[policy];
    const { session } = await connect({ securityMode, securityPolicy }, { type: UserTokenType.UserName, userName: 'operator', password: USERS.operator });
    const dv = await readValue(session, sim.nodeIdOf('chiller-1', 'cooling_load_kw'));
    expect(dv.statusCode).toBe(StatusCodes.Good);
    expect(dv.value.value).toBe(plant.values('chiller-1').cooling_load_kw);
  });

  it('stop() drops the session; start() serves the same address space on the same port', async () => {
    const { client, session } = await connect({ connectionStrategy: { maxRetry: 100, initialDelay: 50, maxDelay: 200 } });
    const oldSessionId = session.sessionId.toString();
    const { endpointUrl, port } = sim;
    let lost = false;
    let reestablished = false;
    client.on('connection_lost', () => (lost = true));
    client.on('after_reconnection', () => (reestablished = true));

    await sim.stop();
    await waitFor('the client to lose its connection', () => lost);

    await sim.start();
    expect(sim.port).toBe(port);
    expect(sim.endpointUrl).toBe(endpointUrl);
    await waitFor('the client to reconnect', () => reestablished, 20_000);
    // the restarted server did not know the old session: the client had to create a new one
    await waitFor('a new session', () => session.sessionId.toString() !== oldSessionId, 20_000);

    plant.step(5);
    const { session: fresh } = await connect();
    const dv = await readValue(fresh, sim.nodeIdOf('ups-1', 'output_power_kw'));
    expect(dv.value.value).toBe(plant.values('ups-1').output_power_kw);
    expect(dv.sourceTimestamp?.getTime()).toBe(plant.timeMs);
  }, 60_000);

  it('renewCertificate: a new certificate is presented after the next restart', async () => {
    const thumbprintSeen = async (): Promise<string> => {
      const client = newClient();
      await client.connect(sim.endpointUrl);
      const endpoints = await client.getEndpoints();
      return createHash('sha1').update(endpoints[0].serverCertificate).digest('hex');
    };
    const before = sim.certificateThumbprint;
    expect(before).toMatch(/^[0-9a-f]{40}$/);
    expect(await thumbprintSeen()).toBe(before);

    const renewed = await sim.renewCertificate();
    expect(renewed).toMatch(/^[0-9a-f]{40}$/);
    expect(renewed).not.toBe(before);
    expect(sim.certificateThumbprint).toBe(before); // still running with the old one

    await sim.stop();
    await sim.start();
    expect(sim.certificateThumbprint).toBe(renewed);
    expect(await thumbprintSeen()).toBe(renewed);

    // and a signed, encrypted channel works with the new key
    const { session } = await connect({ securityMode: MessageSecurityMode.SignAndEncrypt, securityPolicy: SecurityPolicy.Basic256Sha256 });
    expect((await readValue(session, sim.nodeIdOf('chiller-1', 'power_kw'))).statusCode).toBe(StatusCodes.Good);
  }, 60_000);
});

describe('OPC UA simulator options', () => {
  it('serves only the devices asked for, plus N bench variables that change at every step', async () => {
    const bench = await startOpcUaSimulator({ plant, pkiDir: join(dir, 'bench-pki'), devices: ['chiller-1'], extraVariables: 3, securityModes: ['None'], securityPolicies: ['None'] });
    try {
      expect(bench.port).not.toBe(sim.port);
      expect(bench.benchNodeIds).toHaveLength(3);
      const client = newClient();
      await client.connect(bench.endpointUrl);
      const session = await client.createSession();
      const ns = (await session.readNamespaceArray()).indexOf(bench.namespaceUri);
      expect([...(await browseNames(session, `ns=${ns};s=Plant`)).keys()].sort()).toEqual(['Bench', 'Chillers']);
      expect(() => bench.nodeIdOf('ups-1', 'load_pct')).toThrow(/not served/);

      const readBench = async () => (await session.read(bench.benchNodeIds.map((nodeId) => ({ nodeId, attributeId: AttributeIds.Value })), 0)).map((dv) => dv.value.value as number);
      const first = await readBench();
      expect(new Set(first).size).toBe(3);
      plant.step(1);
      const second = await readBench();
      second.forEach((v, i) => expect(v).not.toBe(first[i]));
    } finally {
      await bench.close();
    }
  }, 60_000);
});
