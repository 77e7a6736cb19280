import { describe, expect, it } from 'vitest';
import type { DeviceSpec } from '../../../agent/core/device.js';
import { LiveState } from '../../../agent/state/live-state.js';

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
});
