/**
 * The status page's HTTP API against a running agent: plant simulator (Modbus TCP) → agent → aedes.
 * Every endpoint of docs/http.md: the page and its files, the JSON views, the live stream, login,
 * the alarm actions (which go through the same path as MQTT commands: audit table and outbox).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { recordingLogger } from '../helpers/recording-logger.js';
import { request, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { alarmStatePathFor, SqliteAlarmStateStore } from '../../agent/buffer/sqlite-alarm-state.js';
import { silentLogger } from '../../agent/core/logger.js';
import type { AlarmEventsPayload } from '../../agent/mqtt/json-encoder.js';
import { startAgent, type RunningAgent } from '../../agent/runtime.js';
import { StatusAuth } from '../../agent/status/auth.js';
import { hashPassword, writePasswordFile } from '../../agent/status/password-file.js';
import { STREAM_STALLED_TICKS, StatusServer, type StatusServerOptions, type StatusStateSource } from '../../agent/status/server.js';
import type { AlarmsView, DeviceHistoryView, DeviceSummary, DeviceValuesView, DeviceView, OverviewView } from '../../agent/state/live-state.js';
import { startPlantSimulator } from '../../simulators/index.js';
import { FakeClock } from '../fakes/fake-clock.js';
import { collect, startAedes, waitFor, waitForAsync } from '../helpers/brokers.js';
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
    // From the box itself (loopback) only the total cap applies, not the one per address.
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

// ---- the server's own limits, against a StatusServer alone (real sockets, a FakeClock for the stream ticks and sessions) ----

/** The views the server reads, small and fixed; `padBytes` makes each overview that large. */
function fixedState(padBytes = 0): StatusStateSource {
  const pad = 'x'.repeat(padBytes);
  return {
    overview: () => ({ id: 'test', pad }),
    device: () => null,
    deviceValues: () => null,
    deviceIds: () => [],
    history: () => null,
    alarmList: () => ({ enabled: true, nowMs: 0, version: 1, alarms: [] }),
  } as unknown as StatusStateSource;
}

interface Fixture {
  status: StatusServer;
  port: number;
  clock: FakeClock;
  auth: StatusAuth;
  passwordFile: string;
  logLines: string[];
}

async function startStatus(options: Partial<StatusServerOptions> = {}, readAccess: 'open' | 'login' = 'open', sessionIdleMs = 30 * 60_000): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'allbit-status-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const passwordFile = join(dir, 'status-password.json');
  writePasswordFile(passwordFile, hashPassword(PASSWORD));
  const clock = new FakeClock();
  const logLines: string[] = [];
  const auth = new StatusAuth({ passwordFile, clock, logger: silentLogger, readAccess, sessionIdleMs });
  auth.initialise();
  const status = new StatusServer({
    host: '127.0.0.1',
    port: 0,
    snapshot: () => ({}) as never,
    isReady: () => true,
    state: fixedState(),
    logger: recordingLogger(logLines),
    clock,
    auth,
    alarmAction: (c) => ({ ok: true, state: c.action === 'acknowledge' ? 'active-ack' : 'shelved' }),
    ...options,
  });
  const { port } = await status.start();
  cleanups.push(() => status.stop());
  return { status, port, clock, auth, passwordFile, logLines };
}

async function logIn(port: number, name = 'maria'): Promise<{ cookie: string; csrf: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password: PASSWORD }) });
  expect(res.status).toBe(200);
  const { csrf } = (await res.json()) as { csrf: string };
  return { cookie: res.headers.get('set-cookie')!.split(';')[0], csrf };
}

interface RawStream {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The server ended or dropped the stream. */
  ended: boolean;
  overviews(): number;
  close(): void;
}

/** `/api/events` over node:http, so a test sees the end of a stream (and any refusal's status). */
function openStream(port: number, headers: Record<string, string> = {}, localAddress?: string): Promise<RawStream> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/api/events', headers: { accept: 'text/event-stream', ...headers }, agent: false, localAddress }, (res) => {
      const stream: RawStream = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        text: '',
        ended: false,
        overviews: () => stream.text.split('event: overview\n').length - 1,
        close: () => req.destroy(),
      };
      res.setEncoding('utf8');
      res.on('data', (d: string) => (stream.text += d));
      res.on('end', () => (stream.ended = true));
      res.on('close', () => (stream.ended = true));
      res.on('error', () => (stream.ended = true));
      resolve(stream);
    });
    req.on('error', reject);
    req.end();
  });
}

/** A raw TCP client; `received` and `closed` say what the server did. */
function rawSocket(port: number): Promise<{ socket: Socket; received: () => string; closed: () => boolean }> {
  return new Promise((resolve, reject) => {
    let text = '';
    let closed = false;
    const socket = connect({ host: '127.0.0.1', port }, () => resolve({ socket, received: () => text, closed: () => closed }));
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (text += d));
    socket.on('error', () => undefined);
    socket.on('close', () => (closed = true));
    socket.once('error', reject);
    cleanups.push(async () => void socket.destroy());
  });
}

describe('status server: live streams end with their session', () => {
  it('ends a stream at the next tick after a logout, an idle expiry or an unusable password file; other sessions\' streams go on', async () => {
    const { port, clock, passwordFile, status } = await startStatus({ streamIntervalMs: 1000 }, 'login', 60_000);
    expect((await openStream(port)).status).toBe(401);
    const maria = await logIn(port, 'maria');
    const jan = await logIn(port, 'jan');
    const mariaStream = await openStream(port, { cookie: maria.cookie });
    const janStream = await openStream(port, { cookie: jan.cookie });
    expect([mariaStream.status, janStream.status]).toEqual([200, 200]);
    await waitFor('both streams have their first overview', () => mariaStream.overviews() === 1 && janStream.overviews() === 1);

    const logout = await fetch(`http://127.0.0.1:${port}/api/logout`, { method: 'POST', headers: { cookie: maria.cookie, 'x-csrf-token': maria.csrf } });
    expect(logout.status).toBe(200);
    await clock.advance(1000);
    await waitFor('the logged-out stream ended', () => mariaStream.ended, 5000);
    await waitFor('the other stream got the tick', () => janStream.overviews() === 2);
    expect(janStream.ended).toBe(false);

    // jan never acted: 60 s after the login his session is over, and so is his stream.
    await clock.advance(59_000);
    await waitFor('the idle session\'s stream ended', () => janStream.ended, 5000);
    expect(status.streamCount).toBe(0);

    const ana = await logIn(port, 'ana');
    const anaStream = await openStream(port, { cookie: ana.cookie });
    await waitFor('first overview', () => anaStream.overviews() === 1);
    writeFileSync(passwordFile, 'garbage');
    await clock.advance(1000);
    await waitFor('the stream ended with the unusable password file', () => anaStream.ended, 5000);
  });
});

describe('status server: connection limits', () => {
  it('keeps a lasting error listener on the server: a later server error is logged, not thrown', async () => {
    const { status, logLines } = await startStatus();
    const server = (status as unknown as { server: Server }).server;
    expect(() => {
      server.emit('error', Object.assign(new Error('accept EMFILE'), { code: 'EMFILE' }));
      server.emit('error', Object.assign(new Error('accept EMFILE'), { code: 'EMFILE' }));
    }).not.toThrow();
    expect(logLines.filter((l) => l.startsWith('status page: server error') && l.includes('EMFILE'))).toHaveLength(2);
  });

  it('closes a client that does not finish its headers in time (408) while a stream lives on past the request timeout', async () => {
    const { port, clock } = await startStatus({ headersTimeoutMs: 150, requestTimeoutMs: 150, timeoutCheckIntervalMs: 20 });
    const stream = await openStream(port);
    await waitFor('first overview', () => stream.overviews() === 1);
    const slow = await rawSocket(port);
    slow.socket.write('GET /api/overview HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    await waitFor('the slow client closed by the server', () => slow.closed(), 5000);
    expect(slow.received()).toMatch(/^HTTP\/1\.1 408/);
    // The stream was opened before the slow client and is still served.
    expect(stream.ended).toBe(false);
    await clock.advance(1000);
    await waitFor('the stream got a tick after the timeout', () => stream.overviews() === 2);
  });

  it('refuses connections above maxConnections and accepts again when one closes', async () => {
    const { port } = await startStatus({ maxConnections: 2 });
    const a = await rawSocket(port);
    await rawSocket(port);
    const third = await rawSocket(port);
    await waitFor('the third connection dropped', () => third.closed(), 5000);
    a.socket.destroy();
    await waitForAsync('a connection accepted again', async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.status === 200);
  });
});

describe('status server: stream slots', () => {
  it('caps streams per remote address (429 with Retry-After); another address still gets one', async () => {
    // The test's clients are all on loopback, which is not capped by default (a reverse proxy on the box).
    const { port, status } = await startStatus({ maxStreamsPerAddress: 2, uncappedAddress: () => false });
    const first = await openStream(port);
    const second = await openStream(port);
    expect([first.status, second.status]).toEqual([200, 200]);
    const third = await openStream(port);
    expect(third.status).toBe(429);
    expect(third.headers['retry-after']).toBe('10');
    await waitFor('the refusal read', () => third.ended);
    expect(JSON.parse(third.text)).toEqual({ error: 'too many live streams from your address (2); close another browser tab or try again later' });
    const other = await openStream(port, {}, '127.0.0.2');
    expect(other.status).toBe(200);
    first.close();
    await waitFor('the closed stream gave its slot back', () => status.streamCount === 2);
    const again = await openStream(port);
    expect(again.status).toBe(200);
  });

  it('drops a stream whose client stopped reading after a few ticks above the backlog limit; a reading client keeps its stream', async () => {
    const { port, clock, status, logLines } = await startStatus({ state: fixedState(256 * 1024), streamBacklogBytes: 64 * 1024 });
    const reader = await openStream(port);
    await waitFor('first overview', () => reader.overviews() === 1);
    // A client that asks for the stream and never reads a byte.
    const stalled = await rawSocket(port);
    stalled.socket.pause();
    stalled.socket.write('GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n');
    await waitFor('two streams', () => status.streamCount === 2);
    // The kernel's socket buffers take some megabytes first; then the backlog grows.
    let ticks = 0;
    while (status.streamCount === 2 && ticks < 200) {
      await clock.advance(1000);
      ticks++;
      await waitFor(`the reader read tick ${ticks}`, () => reader.overviews() === ticks + 1);
    }
    expect(status.streamCount).toBe(1);
    expect(ticks).toBeGreaterThanOrEqual(STREAM_STALLED_TICKS);
    expect(reader.ended).toBe(false);
    expect(logLines.join('\n')).toMatch(/live stream dropped \(its client stopped reading\)/);
    // What the kernel already held still arrives; then the connection is over.
    stalled.socket.resume();
    await waitFor('the stalled client\'s connection closed', () => stalled.closed(), 5000);
  });
});

describe('status server: action bodies', () => {
  it('answers a body over the limit with 413 and closes the connection: a chunked upload still going, a whole body already received', async () => {
    const { port } = await startStatus();
    const { cookie, csrf } = await logIn(port);
    const result = await new Promise<{ status: number; headers: IncomingHttpHeaders; body: string; socketClosed: Promise<void> }>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/api/alarms/a1/acknowledge',
          headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked', cookie, 'x-csrf-token': csrf },
          agent: false,
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, socketClosed }));
        },
      );
      const socketClosed = new Promise<void>((done) => req.on('socket', (socket) => socket.once('close', () => done())));
      req.on('error', () => undefined);
      req.on('close', () => undefined);
      // More than the limit, and the upload still going: the request is never ended by the client.
      req.write(`{"reason":"${'x'.repeat(9000)}`);
      req.on('response', () => undefined);
      req.once('error', reject);
    });
    expect(result.status).toBe(413);
    expect(result.headers.connection).toBe('close');
    expect(JSON.parse(result.body)).toEqual({ ok: false, error: 'the request body is larger than 8192 bytes' });
    await result.socketClosed;

    // Announced by Content-Length and already received whole (one write): node itself would keep
    // this connection; the server's 413 closes it all the same — one rule for every 413.
    const whole = await rawSocket(port);
    const body = `{"reason":"${'x'.repeat(9000)}"}`;
    whole.socket.write(
      `POST /api/alarms/a1/acknowledge HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nCookie: ${cookie}\r\nX-CSRF-Token: ${csrf}\r\n\r\n${body}`,
    );
    await waitFor('the answer', () => whole.received().includes('larger than 8192 bytes'));
    expect(whole.received()).toMatch(/^HTTP\/1\.1 413 /);
    expect(whole.received().toLowerCase()).toContain('\r\nconnection: close\r\n');
    await waitFor('the connection closed', () => whole.closed(), 5000);
  });
});
