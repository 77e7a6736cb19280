import { describe, expect, it } from 'vitest';
import type { DeviceSpec } from '../../../agent/core/device.js';
import type { ActiveAlarmSummary } from '../../../agent/core/alarm.js';
import type { OutboxStats } from '../../../agent/core/outbox.js';
import { LiveState } from '../../../agent/state/live-state.js';
import { MinuteHistory } from '../../../agent/state/minute-history.js';

const device: DeviceSpec = {
  id: 'ups-1',
  name: 'UPS A',
  connection: { protocol: 'modbus-tcp', host: '10.0.0.5', port: 502, unitId: 1 },
  pollIntervalMs: 1000,
  timeoutMs: 500,
  maxGapRegisters: 16,
  maxGapBits: 64,
  maxRegistersPerRequest: 125,
  maxBitsPerRequest: 2000,
  backoffInitialMs: 1000,
  backoffMaxMs: 60000,
  tags: [{ name: 'load_pct', description: 'Output load', unit: '%', source: { area: 'input', address: 0, type: 'uint16', order: 'ABCD' }, scale: 0.1, offset: 0, deadband: 0, maxSilenceMs: 0 }],
};

describe('LiveState', () => {
  it('overview counts a calculated value with no meaning now (not-applicable) apart from faults', () => {
    const state = new LiveState({ id: 'gw', name: 'gw', version: 't', startedMs: 0 }, () => 1000);
    const device = { ...calcDevice() };
    state.addDevice(device, 0);
    state.recordReadings('calc-1', [
      { device: 'calc-1', tag: 'kw_per_ton', value: null, unit: 'kW/TR', quality: 'bad', reason: 'not-applicable', timestampMs: 1000 },
      { device: 'calc-1', tag: 'cop', value: null, unit: '', quality: 'bad', reason: 'comm-lost', timestampMs: 1000 },
    ], 2);
    expect(state.overview().devices[0].quality).toEqual({ good: 0, uncertain: 0, bad: 2, notApplicable: 1 });
  });

  it('starts every tag bad (not-connected) and records the latest reading', () => {
    let now = 10_000;
    const state = new LiveState({ id: 'gw', name: 'gw', version: '1', startedMs: now }, () => now);
    state.addDevice(device, 1);
    expect(state.snapshot().devices[0].tags[0]).toMatchObject({ value: null, quality: 'bad', reason: 'not-connected', description: 'Output load' });
    state.recordReadings('ups-1', [{ device: 'ups-1', tag: 'load_pct', value: 42.5, unit: '%', quality: 'good', timestampMs: now }], 1);
    now += 1000;
    const view = state.snapshot();
    expect(view.devices[0].tags[0]).toMatchObject({ value: 42.5, quality: 'good' });
    expect(view.readingsIn).toBe(1);
    expect(view.devices[0].address).toBe('10.0.0.5:502 unit 1');
  });

  it('shows a value older than 3 poll intervals + 2 timeouts as uncertain / stale, never as a normal value', () => {
    let now = 10_000;
    const state = new LiveState({ id: 'gw', name: 'gw', version: '1', startedMs: now }, () => now);
    state.addDevice(device, 1);
    state.recordReadings('ups-1', [{ device: 'ups-1', tag: 'load_pct', value: 42.5, unit: '%', quality: 'good', timestampMs: now }], 1);
    now += 4000;
    expect(state.snapshot().devices[0].tags[0]).toMatchObject({ value: 42.5, quality: 'good' });
    now += 1;
    expect(state.snapshot().devices[0].tags[0]).toMatchObject({ value: 42.5, quality: 'uncertain', reason: 'stale', detail: 'no fresh value for 4 s' });
  });

  it('hands out copies: changing a snapshot does not change the state', () => {
    const state = new LiveState({ id: 'gw', name: 'gw', version: '1', startedMs: 0 }, () => 0);
    state.addDevice(device, 1);
    state.snapshot().devices[0].tags[0].value = 99;
    expect(state.snapshot().devices[0].tags[0].value).toBeNull();
  });

  it('overview: no tags, quality counted as shown (stale as uncertain), buffering while the broker is not connected', () => {
    let now = 10_000;
    const state = new LiveState({ id: 'gw', name: 'gw', version: '1', startedMs: now }, () => now);
    state.addDevice(device, 1);
    expect(state.overview()).toMatchObject({ buffering: true, broker: null, alarms: null, devices: [{ id: 'ups-1', tagCount: 1, quality: { good: 0, uncertain: 0, bad: 1 } }] });
    expect(state.overview().devices[0]).not.toHaveProperty('tags');
    state.setBroker({ state: 'connected', sinceMs: now, lastError: null, acked: 0 });
    state.recordReadings('ups-1', [{ device: 'ups-1', tag: 'load_pct', value: 42.5, unit: '%', quality: 'good', timestampMs: now }], 1);
    expect(state.overview()).toMatchObject({ buffering: false, devices: [{ quality: { good: 1, uncertain: 0, bad: 0 } }] });
    now += 4001;
    expect(state.overview().devices[0].quality).toEqual({ good: 0, uncertain: 1, bad: 0, notApplicable: 0 });
    state.setBroker({ state: 'disconnected', sinceMs: now, lastError: 'ECONNREFUSED', acked: 0 });
    expect(state.overview().buffering).toBe(true);
  });

  it('one device: a copy with stale values marked, null for an unknown id', () => {
    let now = 10_000;
    const state = new LiveState({ id: 'gw', name: 'gw', version: '1', startedMs: now }, () => now);
    state.addDevice(device, 1);
    state.recordReadings('ups-1', [{ device: 'ups-1', tag: 'load_pct', value: 42.5, unit: '%', quality: 'good', timestampMs: now }], 1);
    now += 5000;
    const view = state.device('ups-1')!;
    expect(view.tags[0]).toMatchObject({ value: 42.5, quality: 'uncertain', reason: 'stale' });
    view.tags[0].value = 1;
    expect(state.device('ups-1')!.tags[0].value).toBe(42.5);
    expect(state.snapshot().devices[0].tags[0].quality).toBe('uncertain');
    expect(state.device('nope')).toBeNull();
  });

  it('rates: readings/s in, reported and forwarded over the last 10 s, from counters sampled with the buffer stats', () => {
    let now = 0;
    const state = new LiveState({ id: 'gw', name: 'gw', version: '1', startedMs: now }, () => now);
    state.addDevice(device, 1);
    const buffer = (readings: number, dropped = 0): OutboxStats => ({ records: 0, readings, bytes: 0, maxBytes: 1, oldestCreatedMs: null, appendedRecords: 0, ackedRecords: 0, droppedRecords: 0, droppedReadings: dropped, nextSeq: 1, outboxId: 'x' });
    state.setBuffer(buffer(0));
    expect(state.rates()).toMatchObject({ inPerSec: 0, windowMs: 0 });
    const reading = { device: 'ups-1', tag: 'load_pct', value: 1, unit: '%', quality: 'good' as const, timestampMs: 0 };
    // 20 s: 100 readings in and 10 reported per second; the first 10 s nothing is forwarded (broker away).
    for (let s = 1; s <= 20; s++) {
      now = s * 1000;
      state.recordReadings('ups-1', Array(100).fill(reading), 10);
      state.setBuffer(buffer(s <= 10 ? s * 10 : 100 - (s - 10) * 10));
      if (s === 10) expect(state.rates()).toMatchObject({ windowMs: 10_000, inPerSec: 100, reportedPerSec: 10, forwardedPerSec: 0 });
    }
    // The backlog drains: forwarded is above reported.
    expect(state.rates()).toMatchObject({ windowMs: 10_000, inPerSec: 100, reportedPerSec: 10, forwardedPerSec: 20 });
    expect(state.overview().rates.inPerSec).toBe(100);
  });

  it('alarms: the active list as set, a new version only when it changed; no engine is not an empty list', () => {
    const state = new LiveState({ id: 'gw', name: 'gw', version: '1', startedMs: 0 }, () => 0);
    expect(state.alarmList()).toMatchObject({ enabled: false, alarms: [] });
    const alarm: ActiveAlarmSummary = { alarm: 'ups-1.load_pct.H', device: 'ups-1', tag: 'load_pct', priority: 'high', state: 'active-unack', message: 'load high', value: 95, unit: '%', sinceMs: 0, shelvedUntilMs: null, shelvedBy: null, outOfService: false };
    state.setAlarms([]);
    const empty = state.alarmList();
    expect(empty).toMatchObject({ enabled: true, alarms: [] });
    state.setAlarms([alarm]);
    const one = state.alarmList();
    expect(one.version).toBeGreaterThan(empty.version);
    state.setAlarms([{ ...alarm }]);
    expect(state.alarmList().version).toBe(one.version);
    state.setAlarms([{ ...alarm, state: 'active-ack' }, { ...alarm, alarm: 'b', priority: 'low', state: 'returned-unack' }]);
    expect(state.overview().alarms).toEqual({ total: 2, unacknowledged: 1, shelved: 0, byPriority: { critical: 0, high: 1, medium: 0, low: 1 } });
  });

  it('history: one point per minute (the mean of good and uncertain values), gaps as null, the minute in progress last', () => {
    let now = 60_000 * 1000;
    const state = new LiveState({ id: 'gw', name: 'gw', version: '1', startedMs: now }, () => now);
    state.addDevice(device, 1);
    const r = (value: number | null, quality: 'good' | 'uncertain' | 'bad' = 'good') => [{ device: 'ups-1', tag: 'load_pct', value, unit: '%', quality, timestampMs: now }];
    expect(state.history('ups-1')!.tags).toEqual([]); // nothing numeric seen yet
    state.recordReadings('ups-1', r(10), 1);
    state.recordReadings('ups-1', r(20, 'uncertain'), 1);
    state.recordReadings('ups-1', r(null, 'bad'), 1);
    now += 60_000; // the next minute: nothing but bad
    state.recordReadings('ups-1', r(null, 'bad'), 1);
    now += 60_000;
    state.recordReadings('ups-1', r(40), 1);
    const h = state.history('ups-1')!;
    expect(h.minutesMs).toHaveLength(60);
    expect(h.minutesMs.at(-1)).toBe(now);
    expect(h.tags).toEqual([{ tag: 'load_pct', unit: '%', values: [...Array(57).fill(null), 15, null, 40] }]);
    // An hour later the old minutes have left the ring.
    now += 61 * 60_000;
    state.recordReadings('ups-1', r(1), 1);
    expect(state.history('ups-1')!.tags[0].values).toEqual([...Array(59).fill(null), 1]);
    expect(state.history('nope')).toBeNull();
    expect(state.history('ups-1', ['nothing'])!.tags).toEqual([]);
  });

  it('history memory: about 253 bytes per tag, bounded whatever the poll rate', () => {
    const h = new MinuteHistory(10_000);
    expect(h.bytes).toBe(10_000 * (60 * 4 + 8 + 4 + 1) + 60 * 8);
    for (let m = 0; m < 180; m++) {
      h.advance(m * 60_000);
      for (let i = 0; i < 10_000; i += 7) h.add(i, m);
    }
    expect(h.bytes).toBe(10_000 * 253 + 480);
    expect(h.series(179 * 60_000, [0]).values.get(0)!.at(-1)).toBe(179);
  });
});

function calcDevice(): DeviceSpec {
  const tag = (name: string) => ({ name, description: '', unit: '', source: { output: name, type: 'float64' as const }, scale: 1, offset: 0, deadband: 0, maxSilenceMs: 0 });
  return {
    id: 'calc-1', name: 'calc-1', connection: { protocol: 'calc', calculation: { model: 'chiller', source: 'chiller-1', inputs: {}, params: { nominalCoolingKw: 1760 }, maxInputAgeMs: 10_000 } },
    pollIntervalMs: 1000, timeoutMs: 1000, maxGapRegisters: 0, maxGapBits: 0, maxRegistersPerRequest: 125, maxBitsPerRequest: 2000, backoffInitialMs: 1000, backoffMaxMs: 60_000,
    tags: [tag('kw_per_ton'), tag('cop')],
  };
}
