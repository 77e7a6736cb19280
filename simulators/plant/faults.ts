/**
 * Injectable faults. A fault has a target severity (0..1) set by the test or operator; the
 * effective severity ramps toward it at 1/rampSeconds per simulated second, so a fault develops
 * over time and trend-based (predictive) alarms have something to see. Clearing a fault models a
 * repair: the effective severity drops to 0 at once.
 */
export type FaultName = 'condenser-fouling' | 'fan-failure' | 'battery-ageing' | 'overload';

/** Faults each device kind accepts, with the default time a fault takes to develop from 0 to 1. */
export const FAULTS_BY_KIND = {
  chiller: { 'condenser-fouling': 3600 },
  'cooling-tower': { 'fan-failure': 120 },
  transformer: { overload: 300 },
  ups: { 'battery-ageing': 3600 },
} as const satisfies Record<string, Partial<Record<FaultName, number>>>;

export interface FaultState {
  target: number;
  severity: number;
  rampSeconds: number;
}

export class FaultBook {
  private readonly faults = new Map<FaultName, FaultState>();

  set(fault: FaultName, target: number, rampSeconds: number): void {
    if (!Number.isFinite(target) || target < 0 || target > 1) {
      throw new RangeError(`fault ${fault}: severity must be within 0..1, got ${target}`);
    }
    if (!Number.isFinite(rampSeconds) || rampSeconds < 0) {
      throw new RangeError(`fault ${fault}: rampSeconds must be ≥ 0, got ${rampSeconds}`);
    }
    const current = this.faults.get(fault)?.severity ?? 0;
    this.faults.set(fault, { target, rampSeconds, severity: rampSeconds === 0 ? target : current });
  }

  clear(fault: FaultName): void {
    this.faults.delete(fault);
  }

  severity(fault: FaultName): number {
    return this.faults.get(fault)?.severity ?? 0;
  }

  advance(dtS: number): void {
    for (const state of this.faults.values()) {
      if (state.rampSeconds === 0) {
        state.severity = state.target;
        continue;
      }
      const stepMax = dtS / state.rampSeconds;
      const delta = state.target - state.severity;
      state.severity += Math.sign(delta) * Math.min(Math.abs(delta), stepMax);
    }
  }
}
