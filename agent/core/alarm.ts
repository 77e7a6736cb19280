/**
 * Alarm rules as configured (ISA-18.2 / IEC 62682 style): a domain type, so that config/ can build
 * them and agent/alarms/ can run them. Their state and events live in agent/alarms/types.ts.
 */
export const ALARM_PRIORITIES = ['critical', 'high', 'medium', 'low'] as const;
export type AlarmPriority = (typeof ALARM_PRIORITIES)[number];

/** ISA-18.2 alarm states (the "normal" state is both: condition clear and acknowledged). */
export type AlarmState = 'normal' | 'active-unack' | 'active-ack' | 'returned-unack';

export type LimitLevel = 'HH' | 'H' | 'L' | 'LL';

export type AlarmCondition =
  /** High (HH, H): value ≥ limit raises, value < limit − deadband clears. Low (L, LL) mirrored. */
  | { kind: 'limit'; level: LimitLevel; limit: number; deadband: number }
  /** Rate of change over `windowMs`, in units per minute: rising faster than `maxRisePerMin` or falling faster than `maxFallPerMin` (both positive numbers). */
  | { kind: 'rate'; windowMs: number; maxRisePerMin?: number; maxFallPerMin?: number }
  /** A status: a bool tag (alarm when it equals `alarmWhen`, default true) or one bit of an alarm word. */
  | { kind: 'discrete'; bit?: number; alarmWhen?: boolean }
  /** From quality: comm-lost (the device is unreachable) or stale (no fresh value). */
  | { kind: 'quality'; on: 'comm-lost' | 'stale' | 'bad' }
  /**
   * Predictive: the robust trend over `windowMs` (Theil–Sen; one point kept per `sampleEveryMs`)
   * will cross `threshold` within `horizonMs`, with at least `minConfidence` that the trend is real.
   * Never on noise, on bad-quality values or on a flattening trend (agent/alarms/predict).
   */
  | { kind: 'predict'; threshold: number; direction: 'rising' | 'falling'; windowMs: number; horizonMs: number; sampleEveryMs: number; minConfidence: number }
  /**
   * Anomaly: the value departs from its learned normal (EWMA mean and variance, one sample per
   * `sampleEveryMs`, memory ≈ 1/alpha samples) by more than `zThreshold` standard deviations; no
   * alarm while the first `warmupSamples` are learned; anomalous values are not learned as normal.
   * With `expected` (a relation, not a tag) the detector learns the residual actual − expected instead.
   */
  | { kind: 'anomaly'; alpha: number; warmupSamples: number; zThreshold: number; sampleEveryMs: number; minStd: number; expected?: AlarmModel };

/**
 * A residual anomaly's equipment model (for example a chiller's performance curve): the watched tag
 * is expected to be c0 + c1·x + c2·x² + c3·x³, x the latest reading of `from` (another numeric tag of
 * the same device). A sample is judged only when the watched reading and the input are both good
 * and their source timestamps lie at most `maxInputAgeMs` apart; otherwise it is skipped (neither
 * learned nor judged), so a stale or bad input never raises or clears the alarm by itself.
 */
export interface AlarmModel {
  from: string;
  /** The input's unit (for messages). */
  fromUnit: string;
  /** c0, c1, …: 1 to 4 finite numbers, in the watched tag's unit per power of the input's unit. */
  coefficients: readonly number[];
  maxInputAgeMs: number;
}

export interface AlarmRule {
  /** Unique in the gateway: "chiller-1.chw_supply_temp.H". */
  id: string;
  device: string;
  tag: string;
  condition: AlarmCondition;
  priority: AlarmPriority;
  /** Shown to operators; `{value}`, `{limit}`, `{unit}`, `{device}`, `{tag}` are filled in (and `{eta}`, `{confidence}`, `{z}`, `{expected}`, `{from}`, `{fromValue}`, `{fromUnit}` where they apply). */
  message: string;
  unit: string;
  /** The condition must hold this long before the alarm is raised (0: at once). */
  onDelayMs: number;
  /** The condition must be clear this long before the alarm returns (0: at once). */
  offDelayMs: number;
  /** Chatter: more than `maxActivations` raises within `windowMs` suppress new raises for `suppressMs`. */
  chatter: { maxActivations: number; windowMs: number; suppressMs: number };
  /** Suppressed while the device's comm-loss alarm is active (its values mean nothing then). Default true, except for quality rules. */
  suppressOnCommLoss: boolean;
}


/** What a predictive alarm expects, carried in its events. */
export interface AlarmPrediction {
  /** When the trend reaches the threshold, ms since epoch. */
  crossingMs: number;
  inMs: number;
  /** 0..1: how sure the trend heads for the threshold. */
  confidence: number;
  slopePerMin: number;
  earliestMs: number;
  latestMs: number;
}

/** What a residual anomaly alarm expected when it judged its last sample, carried in its events. */
export interface AlarmExpectation {
  /** The expected value of the watched tag, in its unit. */
  value: number;
  /** The model input and its value the expectation was computed from. */
  from: string;
  fromValue: number;
}

export type AlarmEventType =
  | 'raised'
  | 'acknowledged'
  | 'returned'
  | 'cleared'
  | 'shelved'
  | 'unshelved'
  | 'removed-from-service'
  | 'returned-to-service'
  | 'chatter-suppressed';

/** One thing that happened to an alarm, published on the alarm event topic and kept in the outbox. */
export interface AlarmEvent {
  type: AlarmEventType;
  ruleId: string;
  device: string;
  tag: string;
  priority: AlarmPriority;
  /** The alarm's state after the event. */
  state: AlarmState;
  message: string;
  value: number | boolean | string | null;
  unit: string;
  tsMs: number;
  /** Operator actions: who and why. */
  by?: string;
  reason?: string;
  /** shelve: until when. */
  untilMs?: number;
  /** Predictive alarms: the prediction behind the event. */
  prediction?: AlarmPrediction;
  /** Residual anomaly alarms, with `raised`, `returned` and `cleared`: what the equipment model expected (at the raise; at the last judged sample). */
  expected?: AlarmExpectation;
}

/** An alarm that is not normal (or is shelved or out of service), as the active list shows it. */
export interface ActiveAlarmSummary {
  alarm: string;
  device: string;
  tag: string;
  priority: AlarmPriority;
  state: AlarmState;
  message: string;
  value: number | boolean | string | null;
  unit: string;
  sinceMs: number | null;
  shelvedUntilMs: number | null;
  shelvedBy: string | null;
  outOfService: boolean;
}
