/**
 * The status page's HTTP API against a running agent: plant simulator (Modbus TCP) → agent → aedes.
 * Every endpoint of docs/http.md: the page and its files, the JSON views, the live stream, login,
 * the alarm actions (which go through the same path as MQTT commands: audit table and outbox).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { alarmStatePathFor, SqliteAlarmStateStore } from '../../agent/buffer/sqlite-alarm-state.js';
import { silentLogger } from '../../agent/core/logger.js';
import type { AlarmEventsPayload } from '../../agent/mqtt/json-encoder.js';
import { startAgent, type RunningAgent } from '../../agent/runtime.js';
import { hashPassword, writePasswordFile } from '../../agent/status/password-file.js';
import type { AlarmsView, DeviceHistoryView, DeviceSummary, DeviceValuesView, DeviceView, OverviewView } from '../../agent/state/live-state.js';
import { startPlantSimulator } from '../../simulators/index.js';
import { collect, startAedes, waitForAsync } from '../helpers/brokers.js';
import { plantConfig } from '../helpers/plant-config.js';
import { openEventStream } from '../helpers/sse.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const PASSWORD = 'correct horse battery staple';

describe('status API', () => {
  it('serves the page, every view, the live stream, login and alarm actions', async () => {
    const sim = await startPlantSimulator({ autoRun: false, seed: 5 });
    cleanups.push(() => sim.close());
    sim.step(600);
    const broker = await startAedes();
    cleanups.push(() => broker.close());
    const supply = sim.values('chiller-1').chw_supply_temp as number;
    const { config } = plantConfig(sim, {
      brokerUrl: broker.url,
      alarms: { 'chiller-1': [{ type: 'high', tag: 'chw_supply_temp', limit: Math.floor(supply) - 1, priority: 'high', message: 'supply {value} {unit} above {limit}' }] },
    });
    writePasswordFile(config.status.passwordFile, hashPassword(PASSWORD));
    const sub = await collect(broker.url, 'allbit/test-edge/alarms/events');
    cleanups.push(() => sub.close());
    let agent: RunningAgent | null = await startAgent({ config, logger: silentLogger, version: 'test' });
    cleanups.push(async () => void (await agent?.stop()));
    const base = `http://127.0.0.1:${agent.statusAddress!.port}`;
    const get = async (path: string, init?: RequestInit) => fetch(base + path, init);
    const json = async <T>(path: string): Promise<T> => {
      const res = await get(path);
      expect(res.status, path).toBe(200);
      return (await res.json()) as T;
    };

    // The page: no inline script, files from the gateway itself, long-lived caching of versioned assets.
    const pageRes = await get('/');
    expect(pageRes.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = pageRes.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await pageRes.text();
    expect(html).not.toMatch(/<script>(?!<\/script>)/);
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
    expect(assets.map((a) => a.split('?')[0]).sort()).toEqual(['/assets/app.css', '/assets/app.js', '/assets/uPlot.iife.min.js', '/assets/uPlot.min.css']);
    for (const asset of assets) {
      const res = await get(asset);
      expect(res.status, asset).toBe(200);
      expect(res.headers.get('content-type'), asset).toMatch(asset.includes('.js') ? /^text\/javascript/ : /^text\/css/);
      expect(res.headers.get('cache-control'), asset).toContain('immutable');
      expect(asset).toMatch(/\?v=[0-9a-f]{12}$/);
    }
    expect((await get('/assets/nothing.js')).status).toBe(404);
    expect(await (await get('/healthz')).json()).toEqual({ status: 'ok' });
    await waitForAsync('ready', async () => (await get('/readyz')).status === 200);

    // Overview: small, rates from the counters, the broker connected, nothing buffered for long.
    await waitForAsync('readings flowing and rates computed', async () => (await json<OverviewView>('/api/overview')).rates.inPerSec > 0, 15_000);
    const overview = await json<OverviewView>('/api/overview');
    expect(overview).toMatchObject({ id: 'test-edge', ready: true, buffering: false, broker: { state: 'connected' } });
    expect(overview.devices.map((d) => d.id)).toEqual(sim.devices.map((d) => d.id));
    expect(overview.devices[0]).not.toHaveProperty('tags');
    expect(overview.devices[0].quality.good).toBe(overview.devices[0].tagCount);
    expect(overview.alarms).toMatchObject({ total: 1, unacknowledged: 1 });
    expect(overview.buffer).toHaveProperty('oldestAgeMs');
    expect(overview.rates.windowMs).toBeGreaterThan(0);
    expect(JSON.stringify(overview).length).toBeLessThan(20_000);

    const { devices } = await json<{ devices: DeviceSummary[] }>('/api/devices');
    expect(devices.every((d) => d.health.connected && d.tagCount > 0)).toBe(true);

    // One device: the values the simulator serves (the plant does not move: autoRun is off).
    const chiller = await json<DeviceView>('/api/devices/chiller-1');
    const tag = chiller.tags.find((t) => t.tag === 'chw_supply_temp')!;
    expect(tag).toMatchObject({ quality: 'good', unit: '°C' });
    expect(tag.value as number).toBeCloseTo(supply, 1);
    expect((await get('/api/devices/no-such-device')).status).toBe(404);
    expect(await (await get('/api/devices/no-such-device')).json()).toEqual({ error: 'no device "no-such-device"' });

    // The hour, one point per minute: the minute in progress already has the mean of what arrived.
    const history = await json<DeviceHistoryView>('/api/devices/chiller-1/history');
    expect(history.stepMs).toBe(60_000);
    expect(history.minutesMs).toHaveLength(60);
    const series = history.tags.find((t) => t.tag === 'chw_supply_temp')!;
    expect(series.unit).toBe('°C');
    expect(series.values.at(-1)!).toBeCloseTo(supply, 1);
    expect(series.values.slice(0, 50).every((v) => v === null)).toBe(true);
    const one = await json<DeviceHistoryView>('/api/devices/chiller-1/history?tags=chw_supply_temp');
    expect(one.tags.map((t) => t.tag)).toEqual(['chw_supply_temp']);

    const alarms = await json<AlarmsView & { actions: boolean }>('/api/alarms');
    expect(alarms).toMatchObject({ enabled: true, actions: true });
    expect(alarms.alarms.map((a) => [a.alarm, a.state, a.priority])).toEqual([['chiller-1.chw_supply_temp.high', 'active-unack', 'high']]);

    // The old snapshot and /metrics stay.
    expect((await json<{ devices: unknown[] }>('/api/status')).devices).toHaveLength(4);
    const metrics = await get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    expect((await get('/api/overview', { method: 'POST' })).status).toBe(405);
    expect((await get('/api/nothing')).status).toBe(404);

    // The live stream: retry hint, overview, alarms; a device's tags only when asked for.
    const plain = await openEventStream(`${base}/api/events`);
    cleanups.push(async () => plain.close());
    await plain.until('overview and alarms', (s) => s.events.some((e) => e.event === 'overview') && s.events.some((e) => e.event === 'alarms'));
    expect(plain.retryMs).toBe(2000);
    expect(plain.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    await plain.until('a second overview from the shared tick', (s) => s.events.filter((e) => e.event === 'overview').length >= 2, 5000);
    expect(plain.events.some((e) => e.event === 'device')).toBe(false);
    const withDevice = await openEventStream(`${base}/api/events?device=chiller-1`);
    cleanups.push(async () => withDevice.close());
    await withDevice.until('the device, then its values from the tick', (s) => s.events.some((e) => e.event === 'device') && s.events.some((e) => e.event === 'values'), 5000);
    const streamed = JSON.parse(withDevice.events.find((e) => e.event === 'device')!.data) as DeviceView;
    expect(streamed.id).toBe('chiller-1');
    expect(streamed.tags.length).toBe(chiller.tags.length);
    const values = JSON.parse(withDevice.events.find((e) => e.event === 'values')!.data) as DeviceValuesView;
    expect(values.values).toHaveLength(chiller.tags.length);
    const i = streamed.tags.findIndex((t) => t.tag === 'chw_supply_temp');
    expect(values.values[i][0] as number).toBeCloseTo(supply, 1);
    expect(values.values[i][1]).toBe('good');
    expect(plain.events.some((e) => e.event === 'values')).toBe(false);
    expect((await get('/api/events?device=nope')).status).toBe(404);

    // The cap on concurrent streams, and closed streams are cleaned up (32 by default; two are open).
    const more = [];
    for (let i = 0; i < 30; i++) more.push(await openEventStream(`${base}/api/events`));
    const refused = await get('/api/events');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('10');
    for (const s of more) s.close();
    await waitForAsync('room for a stream again after the browsers left', async () => {
      const res = await get('/api/events');
      const ok = res.status === 200;
      await res.body?.cancel();
      return ok;
    });

    // Actions: login first; then session cookie + CSRF token.
    const ackPath = '/api/alarms/chiller-1.chw_supply_temp.high/acknowledge';
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      get(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    expect((await post(ackPath, {})).status).toBe(401);
    expect(await (await get('/api/session')).json()).toMatchObject({ authenticated: false });
    expect((await post('/api/login', { name: 'maria', password: 'wrong password!' })).status).toBe(401);
    const login = await post('/api/login', { name: 'maria', password: PASSWORD });
    expect(login.status).toBe(200);
    const { csrf } = (await login.json()) as { csrf: string };
    const cookie = login.headers.get('set-cookie')!.split(';')[0];
    expect(cookie).toMatch(/^allbit_session=/);
    expect(await (await get('/api/session', { headers: { cookie } })).json()).toMatchObject({ authenticated: true, name: 'maria' });
    expect((await post(ackPath, {}, { cookie })).status).toBe(403);
    expect((await post(ackPath, {}, { cookie, 'x-csrf-token': csrf, origin: 'http://evil.example' })).status).toBe(403);
    const ack = await post(ackPath, { reason: 'second chiller starting' }, { cookie, 'x-csrf-token': csrf });
    expect(ack.status).toBe(200);
    expect(await ack.json()).toMatchObject({ ok: true, state: 'active-ack', by: 'maria' });
    const again = await post(ackPath, {}, { cookie, 'x-csrf-token': csrf });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ ok: false, error: expect.stringMatching(/nothing to acknowledge/) });
    expect((await post('/api/alarms/no.such.alarm/acknowledge', {}, { cookie, 'x-csrf-token': csrf })).status).toBe(404);
    const shelvePath = '/api/alarms/chiller-1.chw_supply_temp.high/shelve';
    expect((await post(shelvePath, { reason: 'sensor work' }, { cookie, 'x-csrf-token': csrf })).status).toBe(400);
    const shelved = await post(shelvePath, { reason: 'sensor work', minutes: 30 }, { cookie, 'x-csrf-token': csrf });
    expect(shelved.status).toBe(200);
    expect(((await shelved.json()) as { shelvedUntilMs: number }).shelvedUntilMs).toBeGreaterThan(Date.now() + 29 * 60_000);
    const unshelved = await post('/api/alarms/chiller-1.chw_supply_temp.high/unshelve', {}, { cookie, 'x-csrf-token': csrf });
    expect(unshelved.status).toBe(200);
    expect((await get(ackPath, { headers: { cookie } })).status).toBe(405);

    // The list and the stream see the acknowledgement; the events went through the outbox with who and why.
    expect((await json<AlarmsView>('/api/alarms')).alarms[0].state).toBe('active-ack');
    await plain.until('an alarms event with the acknowledgement', (s) => s.events.some((e) => e.event === 'alarms' && (JSON.parse(e.data) as AlarmsView).alarms.some((a) => a.state === 'active-ack')), 5000);
    const events = () => sub.messages.flatMap((m) => (JSON.parse(m.payload) as AlarmEventsPayload).events);
    await sub.until('acknowledged, shelved and unshelved events', () => ['acknowledged', 'shelved', 'unshelved'].every((t) => events().some((e) => e.type === t)));
    expect(events().find((e) => e.type === 'acknowledged')).toMatchObject({ by: 'maria', reason: 'second chiller starting', seq: expect.any(Number) });

    plain.close();
    withDevice.close();
    await agent.stop();
    agent = null;
    const store = new SqliteAlarmStateStore(alarmStatePathFor(config.buffer.path));
    cleanups.push(async () => store.close());
    expect(store.auditLog().map((a) => [a.action, a.by, a.error === null, (a.requestId ?? '').startsWith('status-page-')])).toEqual([
      ['unshelve', 'maria', true, true],
      ['shelve', 'maria', true, true],
      ['acknowledge', 'maria', false, true],
      ['acknowledge', 'maria', false, true],
      ['acknowledge', 'maria', true, true],
    ]);
  });
});
