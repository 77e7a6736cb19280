import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { demoCommand } from '../../agent/demo.js';
import type { DataPayload } from '../../agent/mqtt/json-encoder.js';
import { collect, waitFor, waitForAsync } from '../helpers/brokers.js';

describe('allbit demo', () => {
  it('brings up simulator (Modbus TCP, RTU over TCP, OPC UA), broker, agent and status page; live data from all four devices; stops cleanly', async () => {
    const out = new PassThrough();
    let printed = '';
    out.on('data', (d) => (printed += d));
    let stop!: () => void;
    const until = new Promise<void>((resolve) => (stop = resolve));
    const dir = mkdtempSync(join(tmpdir(), 'allbit-demo-'));
    const exit = demoCommand({ brokerPort: 0, statusPort: 0, timeSpeed: 1, version: 'test', ephemeralPorts: true, bufferPath: join(dir, 'outbox.db'), until }, out, new PassThrough());

    await waitFor('the demo banner', () => printed.includes('Press Ctrl-C to stop.'), 20000);
    const brokerUrl = /MQTT broker\s+(mqtt:\/\/\S+)/.exec(printed)![1];
    const statusUrl = /status page\s+(http:\/\/\S+)/.exec(printed)![1];
    // The first OPC UA connection takes seconds on a fresh machine (loading node-opcua, creating
    // the client certificate); the demo's promise of data within 5 s is for a subscriber that
    // comes once the gateway is up, so wait until every device is connected first.
    await waitForAsync(
      'every device connected',
      async () => ((await (await fetch(`${statusUrl}/api/status`)).json()) as { devices: Array<{ health: { connected: boolean } }> }).devices.every((d) => d.health.connected),
      20_000,
    );
    const sub = await collect(brokerUrl, 'allbit/#');
    try {
      // Retained statuses arrive at once; live readings from every device within the demo's promise of 5 s.
      const devices = ['chiller-1', 'cooling-tower-1', 'transformer-1', 'ups-1'];
      await sub.until('statuses of all four devices', (ms) => devices.every((d) => ms.some((m) => m.topic === `allbit/demo-edge-01/devices/${d}/status`)), 5000);
      const subscribed = sub.messages.length;
      await sub.until(
        'live readings from all four devices within 5 s of subscribing',
        (ms) => devices.every((d) => ms.slice(subscribed).some((m) => m.topic === `allbit/demo-edge-01/devices/${d}/data`)),
        5000,
      );
      const health = (await (await fetch(`${statusUrl}/api/status`)).json()) as { devices: Array<{ id: string; protocol: string; health: { connected: boolean } }>; buses: Array<{ id: string; open: boolean; devices: string[] }> };
      expect(health.devices.map((d) => [d.id, d.protocol, d.health.connected])).toEqual([
        ['chiller-1', 'modbus-tcp', true],
        ['cooling-tower-1', 'modbus-rtu', true],
        ['ups-1', 'modbus-rtu', true],
        ['transformer-1', 'opcua', true],
        ['chiller-1-health', 'calc', true],
        ['cooling-tower-1-health', 'calc', true],
        ['transformer-1-health', 'calc', true],
        ['ups-1-health', 'calc', true],
        ['site', 'calc', true],
      ]);
      expect(health.buses).toEqual([expect.objectContaining({ id: 'plant-rs485', open: true, devices: ['cooling-tower-1', 'ups-1'] })]);
      const readings = sub.messages
        .filter((m) => m.topic.endsWith('/data'))
        .flatMap((m) => (JSON.parse(m.payload) as DataPayload).readings.map((r) => ({ device: m.topic.split('/')[3], ...r })));
      expect(readings.length).toBeGreaterThan(0);
      const calculated = new Set(['chiller-1-health', 'cooling-tower-1-health', 'transformer-1-health', 'ups-1-health', 'site']);
      expect(readings.filter((r) => !calculated.has(r.device) && r.quality !== 'good')).toEqual([]);
      // Calculated values: good, except the battery trend, which needs a week of hourly points.
      await sub.until('the site PUE', (ms) => ms.some((m) => m.topic === 'allbit/demo-edge-01/devices/site/data' && (JSON.parse(m.payload) as DataPayload).readings.some((r) => r.tag === 'pue' && r.quality === 'good')), 5000);
      const calcReadings = readings.filter((r) => calculated.has(r.device));
      expect(calcReadings.filter((r) => r.quality !== 'good' && !(r.device === 'ups-1-health' && r.tag.startsWith('battery_') && r.reason === 'not-applicable'))).toEqual([]);
      // OPC UA readings carry the server's timestamp too.
      expect(readings.filter((r) => r.device === 'transformer-1').every((r) => typeof r.serverTs === 'string')).toBe(true);
    } finally {
      stop();
    }
    expect(await exit).toBe(0);
    expect(printed).toContain('stopped cleanly');
    // The agent publishes its offline status before the embedded broker goes away.
    await sub.until('offline status', (ms) => ms.some((m) => m.topic === 'allbit/demo-edge-01/status' && JSON.parse(m.payload).state === 'offline'), 1000);
    await sub.close();
  }, 60_000);
});
