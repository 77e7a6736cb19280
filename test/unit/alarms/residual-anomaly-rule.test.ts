/**
 * Residual anomaly alarms: a chiller's compressor power against the power its performance curve
 * expects at the current cooling load. The load swings all day (an AI workload); the relation holds
 * until the condenser fouls (more kW for the same load).
 */
import { describe, expect, it } from 'vitest';
import { AlarmEngine } from '../../../agent/alarms/engine.js';
import type { AlarmEvent, AlarmInput, AlarmModel, AlarmRule } from '../../../agent/alarms/types.js';
import { T0_MS, gaussian } from '../../helpers/seeded-noise.js';

const STEP_MS = 10_000;
/** The chiller's curve: kW = 30 + 0.15·load + 0.00003·load² (load in kW of cooling). */
const CURVE = [30, 0.15, 0.00003];
const curve = (load: number): number => CURVE[0] + CURVE[1] * load + CURVE[2] * load * load;
const model: AlarmModel = { from: 'cooling_load_kw', fromUnit: 'kW', coefficients: CURVE, maxInputAgeMs: 20_000 };

function anomalyRule(expected?: AlarmModel): AlarmRule {
  return {
    id: expected ? 'chiller-1.power_kw.residual' : 'chiller-1.power_kw.anomaly',
    device: 'chiller-1',
    tag: 'power_kw',
    unit: 'kW',
    priority: 'medium',
    message: expected
      ? '{device} {tag} is {value} {unit}, expected {expected} {unit} from {from} {fromValue} {fromUnit} (more than {z} standard deviations off)'
      : '{device} {tag} departs from its normal: {value} {unit} (more than {z} standard deviations)',
    onDelayMs: 0,
    offDelayMs: 0,
    chatter: { maxActivations: 5, windowMs: 600_000, suppressMs: 600_000 },
    suppressOnCommLoss: true,
    condition: { kind: 'anomaly', alpha: 0.01, warmupSamples: 200, zThreshold: 6, sampleEveryMs: STEP_MS, minStd: 0, ...(expected ? { expected } : {}) },
  };
}

const power = (value: number | null, tMs: number, over: Partial<AlarmInput> = {}): AlarmInput => ({ device: 'chiller-1', tag: 'power_kw', value, quality: 'good', timestampMs: tMs, ...over });
const load = (value: number | null, tMs: number, over: Partial<AlarmInput> = {}): AlarmInput => ({ device: 'chiller-1', tag: 'cooling_load_kw', value, quality: 'good', timestampMs: tMs, ...over });

/** One poll cycle every 10 s: the load, then the power (the input first unless told otherwise). */
interface Step {
  load: number;
  /** Added to the curve's power: a fault. */
  extraKw?: number;
  /** Overrides of the load reading (quality, timestamp); null: no load reading this cycle. */
  loadReading?: Partial<AlarmInput> | null;
}

function run(engine: AlarmEngine, steps: (i: number) => Step, count: number, seed: number, from = 0): { i: number; event: AlarmEvent }[] {
  const noise = gaussian(seed);
  const out: { i: number; event: AlarmEvent }[] = [];
  for (let i = from; i < from + count; i++) {
    const t = T0_MS + i * STEP_MS;
    const s = steps(i);
    if (s.loadReading !== null) for (const event of engine.evaluate(load(s.load, t, s.loadReading ?? {}), t)) out.push({ i, event });
    for (const event of engine.evaluate(power(curve(s.load) + (s.extraKw ?? 0) + 3 * noise(), t), t)) out.push({ i, event });
  }
  return out;
}

/** A day of AI workload: ~1000 kW of cooling at first, then training jobs swing it between 500 and 1700 kW. */
const swinging = (i: number): number => (i < 300 ? 1000 + 15 * Math.sin(i / 7) : 1100 + 600 * Math.sin((2 * Math.PI * (i - 300)) / 360) * (i % 1000 < 500 ? 1 : 0.4));

describe('residual anomaly alarm (actual against an equipment model)', () => {
  it('raises a residual that departs after the warm-up, saying actual and expected, and does not learn the fault as normal', () => {
    const engine = new AlarmEngine([anomalyRule(model)]);
    // Condenser fouling from sample 600 to 1400: +30 kW (10 σ of the 3 kW noise) at whatever load.
    const events = run(engine, (i) => ({ load: swinging(i), extraKw: i >= 600 && i < 1400 ? 30 : 0 }), 2000, 11);
    expect(events.map(({ i, event }) => [i, event.type])).toEqual([
      [600, 'raised'],
      [1400, 'returned'],
    ]);
    const raised = events[0].event;
    expect(raised.expected).toMatchObject({ from: 'cooling_load_kw', fromValue: swinging(600) });
    expect(raised.expected!.value).toBeCloseTo(curve(swinging(600)), 9);
    expect(raised.value as number).toBeGreaterThan(raised.expected!.value + 20);
    expect(raised.message).toMatch(/^chiller-1 power_kw is \d+(\.\d+)? kW, expected \d+(\.\d+)? kW from cooling_load_kw \d+(\.\d+)? kW \(more than 6 standard deviations off\)$/);
    expect(raised.message).toContain(`expected ${Math.round(raised.expected!.value * 1000) / 1000} kW`);
    // Returned but not acknowledged: the active list shows the values of the raise.
    expect(engine.activeSummaries()).toMatchObject([{ alarm: 'chiller-1.power_kw.residual', state: 'returned-unack', value: raised.value, message: raised.message }]);
    // The learned normal is the residual's: near 0 kW with the noise's σ, not the power's.
    const normal = engine.state('chiller-1.power_kw.residual')!.normal!;
    expect(Math.abs(normal.mean)).toBeLessThan(1.5);
    expect(Math.sqrt(normal.variance)).toBeGreaterThan(2);
    expect(Math.sqrt(normal.variance)).toBeLessThan(4);
  });

  it('says nothing while learning, even when the relation breaks', () => {
    const engine = new AlarmEngine([anomalyRule(model)]);
    const events = run(engine, (i) => ({ load: swinging(i), extraKw: i >= 100 ? 30 : 0 }), 190, 12);
    expect(events).toEqual([]);
  });

  it('raises nothing while both tags swing widely and the relation holds — where the tag form raises', () => {
    const residual = new AlarmEngine([anomalyRule(model)]);
    const tagForm = new AlarmEngine([anomalyRule()]);
    const residualEvents = run(residual, (i) => ({ load: swinging(i) }), 8640, 13);
    const tagEvents = run(tagForm, (i) => ({ load: swinging(i) }), 8640, 13);
    expect(residualEvents).toEqual([]);
    // The raw power learned at a steady load departs as soon as the load swings.
    expect(tagEvents.filter(({ event }) => event.type === 'raised').length).toBeGreaterThan(0);
    expect(tagEvents[0].i).toBeGreaterThanOrEqual(300);
    expect(tagEvents[0].i).toBeLessThan(400);
    expect(residual.state('chiller-1.power_kw.residual')!.normal!.n).toBe(8640);
  });

  describe('a bad or stale input neither raises nor clears', () => {
    const warmedUp = (seed: number): AlarmEngine => {
      const engine = new AlarmEngine([anomalyRule(model)]);
      expect(run(engine, (i) => ({ load: swinging(i) }), 400, seed)).toEqual([]);
      return engine;
    };
    const learned = (engine: AlarmEngine): number => engine.state('chiller-1.power_kw.residual')!.normal!.n;

    it('does not raise while the input is bad, uncertain, missing or stale, and learns nothing meanwhile', () => {
      const engine = warmedUp(21);
      const n = learned(engine);
      // The power departs from the curve at the REAL load, but the load reading cannot be trusted:
      // the controller reports the load as bad, as uncertain (out of range), not at all, or with an old timestamp.
      const cases: Step['loadReading'][] = [
        { quality: 'bad', reason: 'exception', value: null },
        { quality: 'uncertain', reason: 'out-of-range' },
        null,
      ];
      let i = 400;
      for (const loadReading of cases) {
        expect(run(engine, () => ({ load: 1200, extraKw: 40, loadReading }), 30, 22, i)).toEqual([]);
        i += 30;
      }
      // A load read 25 s before the power (the bound is 20 s): stale.
      expect(run(engine, (j) => ({ load: 1200, extraKw: 40, loadReading: { timestampMs: T0_MS + j * STEP_MS - 25_000 } }), 30, 23, i)).toEqual([]);
      i += 30;
      expect(learned(engine)).toBe(n);
      expect(engine.state('chiller-1.power_kw.residual')!.conditionNow).toBe(false);
      // A load read 15 s before (the previous cycle, when the power is read first): fresh, judged, raised.
      const events = run(engine, (j) => ({ load: 1200, extraKw: 40, loadReading: { timestampMs: T0_MS + j * STEP_MS - 15_000 } }), 1, 24, i);
      expect(events.map(({ event }) => event.type)).toEqual(['raised']);
      expect(learned(engine)).toBe(n);
    });

    it('does not clear an active alarm while the input is bad or stale; a good input then clears it', () => {
      const engine = warmedUp(31);
      const raised = run(engine, (i) => ({ load: swinging(i), extraKw: 40 }), 5, 32, 400);
      expect(raised.map(({ i, event }) => [i, event.type])).toEqual([[400, 'raised']]);
      const n = learned(engine);
      // The fault is repaired (the power follows the curve again), but the load reading is bad, then 30 s old (a stuck source timestamp).
      expect(run(engine, (i) => ({ load: swinging(i), loadReading: { quality: 'bad', reason: 'decode-error', value: null } }), 20, 33, 405)).toEqual([]);
      expect(run(engine, (i) => ({ load: swinging(i), loadReading: { timestampMs: T0_MS + i * STEP_MS - 30_000 } }), 20, 34, 425)).toEqual([]);
      expect(engine.state('chiller-1.power_kw.residual')!.state).toBe('active-unack');
      expect(learned(engine)).toBe(n);
      // The load is read properly again: judged normal, the alarm returns.
      const back = run(engine, (i) => ({ load: swinging(i) }), 5, 35, 445);
      expect(back.map(({ i, event }) => [i, event.type])).toEqual([[445, 'returned']]);
      expect(back[0].event.expected).toMatchObject({ from: 'cooling_load_kw', fromValue: swinging(445) });
    });
  });

  it('routes one input to every rule that needs it and leaves other tags alone', () => {
    const other: AlarmRule = { ...anomalyRule({ ...model, coefficients: [0, 0.2] }), id: 'chiller-1.compressor_current.residual', tag: 'compressor_current', unit: 'A' };
    const engine = new AlarmEngine([anomalyRule(model), other]);
    const t = T0_MS;
    expect(engine.evaluate(load(1000, t), t)).toEqual([]);
    engine.evaluate(power(curve(1000), t), t);
    engine.evaluate({ device: 'chiller-1', tag: 'compressor_current', value: 200, quality: 'good', timestampMs: t }, t);
    expect(engine.state('chiller-1.power_kw.residual')!.expectation).toEqual({ value: curve(1000), from: 'cooling_load_kw', fromValue: 1000 });
    expect(engine.state('chiller-1.compressor_current.residual')!.expectation).toEqual({ value: 200, from: 'cooling_load_kw', fromValue: 1000 });
    // The same load on another device is another tag.
    engine.evaluate({ device: 'chiller-2', tag: 'cooling_load_kw', value: 5, quality: 'good', timestampMs: t + STEP_MS }, t + STEP_MS);
    engine.evaluate(power(curve(1000), t + STEP_MS), t + STEP_MS);
    expect(engine.state('chiller-1.power_kw.residual')!.expectation!.fromValue).toBe(1000);
  });

  it('learns afresh when restarted with a normal learned on another basis (the raw value, another curve)', () => {
    // The tag form learned the raw power (mean ≈ 210 kW); then the technician adds the model, same alarm id.
    const tagForm = new AlarmEngine([{ ...anomalyRule(), id: 'chiller-1.power_kw.residual' }]);
    run(tagForm, () => ({ load: 1000 }), 300, 61);
    expect(tagForm.state('chiller-1.power_kw.residual')!.normal).toMatchObject({ n: 300, basis: 'value' });
    const residual = new AlarmEngine([anomalyRule(model)], tagForm.states());
    expect(residual.state('chiller-1.power_kw.residual')!.normal).toBeUndefined();
    // A residual near 0 against a normal of 210 kW would be raised at once and never learned; learned afresh, nothing.
    expect(run(residual, (i) => ({ load: swinging(i) }), 600, 62, 300)).toEqual([]);
    const learnedBasis = residual.state('chiller-1.power_kw.residual')!.normal!.basis;
    expect(learnedBasis).toBe('residual cooling_load_kw [30, 0.15, 0.00003]');
    // The same model restarts where it stopped; a refitted curve starts again.
    expect(new AlarmEngine([anomalyRule(model)], residual.states()).state('chiller-1.power_kw.residual')!.normal!.n).toBe(600);
    expect(new AlarmEngine([anomalyRule({ ...model, coefficients: [28, 0.16] })], residual.states()).state('chiller-1.power_kw.residual')!.normal).toBeUndefined();
  });

  it('is replayable: the same readings give the same events and states', () => {
    const steps = (i: number): Step => ({ load: swinging(i), extraKw: i >= 500 && i < 700 ? 25 : 0, loadReading: i % 97 === 0 ? { quality: 'bad', reason: 'timeout', value: null } : {} });
    const a = new AlarmEngine([anomalyRule(model)]);
    const b = new AlarmEngine([anomalyRule(model)]);
    const ea = run(a, steps, 1000, 41);
    expect(ea.length).toBeGreaterThan(0);
    expect(run(b, steps, 1000, 41)).toEqual(ea);
    expect(b.states()).toEqual(a.states());
  });
});
