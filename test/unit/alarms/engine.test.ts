import { describe, expect, it } from 'vitest';
import { AlarmEngine } from '../../../agent/alarms/engine.js';
import type { AlarmCondition, AlarmInput, AlarmRule, AlarmRuleState } from '../../../agent/alarms/types.js';

const T0 = Date.UTC(2026, 10, 28, 8, 0, 0);
const S = 1000;

function rule(over: Partial<AlarmRule> & { condition: AlarmCondition }): AlarmRule {
  return {
    id: over.id ?? 'chiller-1.chw_supply_temp.H',
    device: 'chiller-1',
    tag: 'chw_supply_temp',
    priority: 'high',
    message: '{device} {tag} {value} {unit} (limit {limit})',
    unit: '°C',
    onDelayMs: 0,
    offDelayMs: 0,
    chatter: { maxActivations: 100, windowMs: 60 * S, suppressMs: 60 * S },
    suppressOnCommLoss: over.condition.kind !== 'quality',
    ...over,
  };
}

const high = (over: Partial<AlarmRule> = {}) => rule({ condition: { kind: 'limit', level: 'H', limit: 18, deadband: 0.5 }, ...over });

function reading(value: AlarmInput['value'], tMs: number, over: Partial<AlarmInput> = {}): AlarmInput {
  return { device: 'chiller-1', tag: 'chw_supply_temp', value, quality: 'good', timestampMs: tMs, ...over };
}

/** Feeds values one second apart; returns the event types with their second. */
function feed(engine: AlarmEngine, values: (number | null)[], startMs = T0): string[] {
  const out: string[] = [];
  values.forEach((v, i) => {
    const t = startMs + i * S;
    const input = v === null ? reading(null, t, { quality: 'bad', reason: 'timeout' }) : reading(v, t);
    for (const e of engine.evaluate(input, t)) out.push(`${(t - T0) / S}:${e.type}`);
  });
  return out;
}

describe('alarm lifecycle (ISA-18.2 states)', () => {
  it('raises, is acknowledged, clears; the states follow', () => {
    const engine = new AlarmEngine([high()]);
    expect(feed(engine, [17, 18.2])).toEqual(['1:raised']);
    expect(engine.state('chiller-1.chw_supply_temp.H')!.state).toBe('active-unack');
    const ack = engine.act('chiller-1.chw_supply_temp.H', { type: 'acknowledge', by: 'maria', reason: 'chiller 2 starting' }, T0 + 5 * S);
    expect(ack.error).toBeUndefined();
    expect(ack.events).toEqual([expect.objectContaining({ type: 'acknowledged', state: 'active-ack', by: 'maria', reason: 'chiller 2 starting' })]);
    expect(feed(engine, [17], T0 + 6 * S)).toEqual(['6:cleared']);
    expect(engine.state('chiller-1.chw_supply_temp.H')!.state).toBe('normal');
  });

  it('returns unacknowledged, then normal on acknowledgement; comes back active-unack if the condition returns first', () => {
    const engine = new AlarmEngine([high()]);
    expect(feed(engine, [18.5, 17, 18.5, 17])).toEqual(['0:raised', '1:returned', '2:raised', '3:returned']);
    expect(engine.state('chiller-1.chw_supply_temp.H')!.state).toBe('returned-unack');
    const ack = engine.act('chiller-1.chw_supply_temp.H', { type: 'acknowledge', by: 'op', reason: '' }, T0 + 4 * S);
    expect(ack.events[0]).toMatchObject({ type: 'acknowledged', state: 'normal' });
    expect(engine.act('chiller-1.chw_supply_temp.H', { type: 'acknowledge', by: 'op', reason: '' }, T0 + 5 * S).error).toMatch(/is normal: nothing to acknowledge/);
  });

  it('fills the message with value, unit and limit, and keeps the value at the raise', () => {
    const engine = new AlarmEngine([high()]);
    const [raised] = engine.evaluate(reading(18.25, T0), T0);
    expect(raised).toMatchObject({ type: 'raised', message: 'chiller-1 chw_supply_temp 18.25 °C (limit 18)', value: 18.25, unit: '°C', priority: 'high', tsMs: T0 });
  });
});

describe('limits, deadband and delays', () => {
  it('clears a high alarm only below limit − deadband', () => {
    const engine = new AlarmEngine([high()]);
    expect(feed(engine, [18, 17.8, 17.6, 17.49])).toEqual(['0:raised', '3:returned']);
  });

  it('mirrors the deadband for low limits', () => {
    const engine = new AlarmEngine([rule({ id: 'lo', condition: { kind: 'limit', level: 'LL', limit: 5, deadband: 1 } })]);
    expect(feed(engine, [6, 5, 5.9, 6.01])).toEqual(['1:raised', '3:returned']);
  });

  it('raises only after the condition held for the on-delay, and returns only after the off-delay', () => {
    const engine = new AlarmEngine([high({ onDelayMs: 3 * S, offDelayMs: 2 * S })]);
    // A 2-second excursion is not an alarm; a 4-second one is, raised 3 s after it began.
    expect(feed(engine, [17, 19, 19, 17, 19, 19, 19, 19, 17, 17, 19, 17, 17, 17])).toEqual(['7:raised', '13:returned']);
  });

  it('completes a delay by time alone (tick), without another reading', () => {
    const engine = new AlarmEngine([high({ onDelayMs: 5 * S })]);
    expect(engine.evaluate(reading(19, T0), T0)).toEqual([]);
    expect(engine.tick(T0 + 4 * S)).toEqual([]);
    expect(engine.tick(T0 + 5 * S)).toEqual([expect.objectContaining({ type: 'raised', value: 19 })]);
  });

  it('holds the condition through bad-quality readings of its own tag', () => {
    const engine = new AlarmEngine([high()]);
    expect(feed(engine, [19, null, null, 17])).toEqual(['0:raised', '3:returned']);
  });
});

describe('rate of change and discrete alarms', () => {
  it('raises on a rise faster than the limit over the window, not on a slow one', () => {
    const engine = new AlarmEngine([rule({ id: 'roc', condition: { kind: 'rate', windowMs: 60 * S, maxRisePerMin: 2 } })]);
    const slow = Array.from({ length: 120 }, (_, i) => 10 + i * (1 / 60)); // 1 K/min
    expect(feed(engine, slow)).toEqual([]);
    const fast = Array.from({ length: 60 }, (_, i) => 12 + i * (3 / 60)); // 3 K/min
    expect(feed(engine, fast, T0 + 120 * S)[0]).toMatch(/^1\d\d:raised$/);
  });

  it('watches one named bit of an alarm word, and a bool status', () => {
    const word = new AlarmEngine([rule({ id: 'hp', tag: 'alarm_word', condition: { kind: 'discrete', bit: 1 } })]);
    const w = (v: number, s: number) => word.evaluate(reading(v, T0 + s * S, { tag: 'alarm_word' }), T0 + s * S).map((e) => e.type);
    expect([w(0b0001, 0), w(0b0011, 1), w(0b0010, 2), w(0b0101, 3)]).toEqual([[], ['raised'], [], ['returned']]);
    const status = new AlarmEngine([rule({ id: 'flow', tag: 'chw_flow_ok', condition: { kind: 'discrete', alarmWhen: false } })]);
    const f = (v: boolean, s: number) => status.evaluate(reading(v, T0 + s * S, { tag: 'chw_flow_ok' }), T0 + s * S).map((e) => e.type);
    expect([f(true, 0), f(false, 1), f(true, 2)]).toEqual([[], ['raised'], ['returned']]);
  });
});

describe('shelving, out of service, chatter', () => {
  it('announces nothing while shelved, and the alarm as it stands when the shelving expires', () => {
    const engine = new AlarmEngine([high()]);
    const shelve = engine.act('chiller-1.chw_supply_temp.H', { type: 'shelve', by: 'op', reason: 'sensor work', untilMs: T0 + 10 * S }, T0);
    expect(shelve.events).toEqual([expect.objectContaining({ type: 'shelved', untilMs: T0 + 10 * S, by: 'op' })]);
    expect(feed(engine, [19, 19])).toEqual([]);
    expect(engine.state('chiller-1.chw_supply_temp.H')!.state).toBe('active-unack');
    expect(engine.tick(T0 + 9 * S)).toEqual([]);
    expect(engine.tick(T0 + 10 * S)).toEqual([expect.objectContaining({ type: 'unshelved', state: 'active-unack', reason: 'shelving expired' })]);
    expect(engine.act('chiller-1.chw_supply_temp.H', { type: 'shelve', by: 'op', reason: '', untilMs: T0 }, T0 + 11 * S).error).toMatch(/end in the future/);
  });

  it('evaluates nothing while out of service, and starts afresh when returned', () => {
    const engine = new AlarmEngine([high()]);
    feed(engine, [19]);
    const out = engine.act('chiller-1.chw_supply_temp.H', { type: 'remove-from-service', by: 'tech', reason: 'sensor replaced' }, T0 + S);
    expect(out.events[0]).toMatchObject({ type: 'removed-from-service', state: 'normal' });
    expect(feed(engine, [25, 17, 25], T0 + 2 * S)).toEqual([]);
    engine.act('chiller-1.chw_supply_temp.H', { type: 'return-to-service', by: 'tech', reason: '' }, T0 + 5 * S);
    expect(feed(engine, [25], T0 + 6 * S)).toEqual(['6:raised']);
  });

  it('suppresses a chattering alarm after too many raises in the window, counts what it swallowed, and lets it raise again later', () => {
    const engine = new AlarmEngine([high({ chatter: { maxActivations: 3, windowMs: 60 * S, suppressMs: 120 * S } })]);
    const chatter = Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? 19 : 17));
    expect(feed(engine, chatter)).toEqual(['0:raised', '1:returned', '2:raised', '3:returned', '4:raised', '5:returned', '6:chatter-suppressed']);
    expect(engine.state('chiller-1.chw_supply_temp.H')!.chatterSuppressed).toBe(3);
    expect(feed(engine, [17, 19], T0 + 200 * S)).toEqual(['201:raised']);
  });
});

describe('flood protection and restart', () => {
  const commLoss = rule({ id: 'chiller-1.comm', tag: 'chw_supply_temp', priority: 'critical', condition: { kind: 'quality', on: 'comm-lost' }, message: '{device} unreachable' });

  it('raises one comm-loss alarm and suppresses the device\'s value alarms while it lasts', () => {
    const other = rule({ id: 'chiller-1.power.H', tag: 'power_kw', condition: { kind: 'limit', level: 'H', limit: 500, deadband: 10 } });
    const engine = new AlarmEngine([high(), commLoss, other]);
    const lost = (tag: string, s: number) => engine.evaluate(reading(null, T0 + s * S, { tag, quality: 'bad', reason: 'comm-lost' }), T0 + s * S);
    expect(lost('chw_supply_temp', 0).map((e) => `${e.ruleId}:${e.type}`)).toEqual(['chiller-1.comm:raised']);
    expect(lost('power_kw', 0)).toEqual([]);
    expect(engine.state('chiller-1.power.H')!.suppressedByCommLoss).toBe(true);
    // The link is back with the temperature high: the value alarm raises once the suppression ends.
    const back = engine.evaluate(reading(19, T0 + 5 * S), T0 + 5 * S).map((e) => `${e.ruleId}:${e.type}`);
    expect(back).toEqual(['chiller-1.comm:returned', 'chiller-1.chw_supply_temp.H:raised']);
  });

  it('continues where it stopped when rebuilt from saved states (restart)', () => {
    const first = new AlarmEngine([high({ offDelayMs: 5 * S })]);
    feed(first, [19, 17]);
    const saved = JSON.parse(JSON.stringify([...first.states()])) as [string, AlarmRuleState][];
    const second = new AlarmEngine([high({ offDelayMs: 5 * S })], new Map(saved));
    expect(second.state('chiller-1.chw_supply_temp.H')).toEqual(first.state('chiller-1.chw_supply_temp.H'));
    // The off-delay that began before the restart completes after it, without a second raise.
    expect(second.tick(T0 + 6 * S)).toEqual([expect.objectContaining({ type: 'returned' })]);
  });

  it('lists active alarms by priority, then age', () => {
    const low = rule({ id: 'low', priority: 'low', condition: { kind: 'limit', level: 'H', limit: 10, deadband: 0 } });
    const engine = new AlarmEngine([low, high(), commLoss]);
    engine.evaluate(reading(11, T0), T0);
    engine.evaluate(reading(19, T0 + S), T0 + S);
    expect(engine.activeAlarms().map((a) => a.rule.id)).toEqual(['chiller-1.chw_supply_temp.H', 'low']);
  });
});
