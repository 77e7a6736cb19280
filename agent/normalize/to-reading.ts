import type { RawSample, Reading } from '../core/reading.js';
import type { EngineeringValue, RawValue, Tag } from '../core/tag.js';

/**
 * Raw sample → engineering reading: scale and offset, range check, quality.
 * A bad sample never carries a value; an out-of-range value is kept but marked uncertain.
 */
export function toReading(deviceId: string, tag: Tag, sample: RawSample): Reading {
  const base = { device: deviceId, tag: tag.name, unit: tag.unit, timestampMs: sample.timestampMs };
  if (sample.quality === 'bad' || sample.value === undefined) {
    return {
      ...base,
      value: null,
      quality: 'bad',
      reason: sample.reason ?? 'decode-error',
      ...(sample.detail !== undefined ? { detail: sample.detail } : {}),
    };
  }
  const value = toEngineering(sample.value, tag);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) {
      return { ...base, value: null, quality: 'bad', reason: 'decode-error', detail: `not a finite number (${value})` };
    }
    if ((tag.min !== undefined && value < tag.min) || (tag.max !== undefined && value > tag.max)) {
      return {
        ...base,
        value,
        quality: 'uncertain',
        reason: 'out-of-range',
        detail: `${value} outside ${tag.min ?? '-∞'}…${tag.max ?? '∞'} ${tag.unit}`.trimEnd(),
      };
    }
  }
  return {
    ...base,
    value,
    quality: sample.quality,
    ...(sample.reason !== undefined ? { reason: sample.reason } : {}),
    ...(sample.detail !== undefined ? { detail: sample.detail } : {}),
  };
}

function toEngineering(raw: RawValue, tag: Tag): EngineeringValue {
  if (typeof raw === 'boolean' || typeof raw === 'string') return raw;
  const n = typeof raw === 'bigint' ? Number(raw) : raw;
  if (tag.scale === 1 && tag.offset === 0) return n;
  // Round away binary noise from the scale factor (0.1 * 215 = 21.500000000000004) without losing precision that exists.
  return roundSignificant(n * tag.scale + tag.offset, 12);
}

function roundSignificant(value: number, digits: number): number {
  if (value === 0 || !Number.isFinite(value)) return value;
  return Number(value.toPrecision(digits));
}
