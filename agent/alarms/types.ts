/**
 * Alarm rules, their state and their events (ISA-18.2 / IEC 62682 style). Pure data: the engine
 * (rule.ts, engine.ts) turns (state, reading, now) into (state, events), the same way live and in a
 * backtest over history.
 */
import type { Quality, QualityReason } from '../core/quality.js';

export {
  ALARM_PRIORITIES,
  type ActiveAlarmSummary,
  type AlarmCondition,
  type AlarmEvent,
  type AlarmEventType,
  type AlarmExpectation,
  type AlarmModel,
  type AlarmPrediction,
  type AlarmPriority,
  type AlarmRule,
  type AlarmState,
  type LimitLevel,
} from '../core/alarm.js';
import type { AlarmExpectation, AlarmPrediction, AlarmState } from '../core/alarm.js';

export interface OperatorAction {
  type: 'acknowledge' | 'shelve' | 'unshelve' | 'remove-from-service' | 'return-to-service';
  /** Who did it (user name, or the MQTT client that sent the command). */
  by: string;
  /** Why (free text, recorded). */
  reason: string;
  /** shelve: until when (ms since epoch). */
  untilMs?: number;
}

/** Everything the engine keeps per rule; serialisable (kept in SQLite across restarts). */
export interface AlarmRuleState {
  state: AlarmState;
  /** The condition as last evaluated, before delays. */
  conditionNow: boolean;
  /** Since when `conditionNow` has differed from the alarm's active/clear side (for on/off delays); null if it agrees. */
  pendingSinceMs: number | null;
  /** When the alarm was last raised, and the value then. */
  activeSinceMs: number | null;
  activeValue: number | boolean | string | null;
  lastChangeMs: number | null;
  /** Last operator acknowledgement. */
  ackedBy: string | null;
  ackedMs: number | null;
  shelvedUntilMs: number | null;
  shelvedBy: string | null;
  outOfService: boolean;
  /** Raise times within the chatter window, and until when raises are suppressed for chattering. */
  recentRaisesMs: number[];
  chatterUntilMs: number | null;
  /** Raises swallowed by chatter suppression since start. */
  chatterSuppressed: number;
  /** Suppressed because the device's comm-loss alarm is active. */
  suppressedByCommLoss: boolean;
  /** Rate rules: recent good values in the window. */
  window: { tMs: number; value: number }[];
  /** The last good value seen (for messages). */
  lastValue: number | boolean | string | null;
  /** Predictive rules: the sampled trend points (bad ones marked) and the last prediction. */
  trend?: { tMs: number; value: number | null; good: boolean }[];
  prediction?: AlarmPrediction | null;
  /** Anomaly rules: the learned normal, when it last learned, the last z-score, and what it was learned on (rule.ts `normalBasis`; absent: the value). */
  normal?: { n: number; mean: number; variance: number; lastMs: number; z: number; basis?: string };
  /** Residual anomaly rules: what the model expected at the last judged sample, and at the raise. */
  expectation?: AlarmExpectation | null;
  activeExpectation?: AlarmExpectation | null;
}




/**
 * The latest reading of a model input (a tag a residual anomaly rule computes its expected value
 * from), as the engine remembers it for the rules that need it.
 */
export interface ModelInputReading {
  value: number | boolean | string | null;
  quality: Quality;
  timestampMs: number;
}

/** The reading an alarm rule looks at (a subset of core's Reading). */
export interface AlarmInput {
  device: string;
  tag: string;
  value: number | boolean | string | null;
  quality: Quality;
  reason?: QualityReason;
  timestampMs: number;
}
