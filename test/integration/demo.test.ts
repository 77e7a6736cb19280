import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { demoCommand } from '../../agent/demo.js';
import type { DataPayload } from '../../agent/mqtt/json-encoder.js';
import { collect, waitFor } from '../helpers/brokers.js';

describe('allbit demo', () => {
  it('brings up simulator, broker, agent and status page; live data from all four devices; stops cleanly', async () => {
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
      const health = (await (await fetch(`${statusUrl}/api/status`)).json()) as { devices: Array<{ health: { connected: boolean } }> };
      expect(health.devices).toHaveLength(4);
      expect(health.devices.every((d: { health: { connected: boolean } }) => d.health.connected)).toBe(true);
      const good = sub.messages.filter((m) => m.topic.endsWith('/data')).flatMap((m) => (JSON.parse(m.payload) as DataPayload).readings);
      expect(good.length).toBeGreaterThan(0);
      expect(good.every((r) => r.quality === 'good')).toBe(true);
    } finally {
      stop();
    }
    expect(await exit).toBe(0);
    expect(printed).toContain('stopped cleanly');
    // The agent publishes its offline status before the embedded broker goes away.
    await sub.until('offline status', (ms) => ms.some((m) => m.topic === 'allbit/demo-edge-01/status' && JSON.parse(m.payload).state === 'offline'), 1000);
    await sub.close();
  });
});
