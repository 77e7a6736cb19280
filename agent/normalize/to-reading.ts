import type { QualityReason } from '../core/quality.js';
import type { RawSample, Reading } from '../core/reading.js';
import type { EngineeringValue, RawValue, Tag } from '../core/tag.js';

/**
 * Raw sample → engineering reading: scale and offset, range check, quality.
 * A bad sample never carries a value; an out-of-range value is kept but marked uncertain.
 * Hot path (once per tag per poll): every reading is built with one object shape.
 */
export function toReading(deviceId: string, tag: Tag, sample: RawSample): Reading {
  const r = toReadingOnly(deviceId, tag, sample);
  return sample.serverTimestampMs === undefined ? r : withServerTimestamp(r, sample);
}

function toReadingOnly(deviceId: string, tag: Tag, sample: RawSample): Reading {
  if (sample.quality === 'bad' || sample.value === undefined) {
    return reading(deviceId, tag, sample.timestampMs, null, 'bad', sample.reason ?? 'decode-error', sample.detail);
  }
  const value = toEngineering(sample.value, tag);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return reading(deviceId, tag, sample.timestampMs, null, 'bad', 'decode-error', `not a finite number (${value})`);
    if ((tag.min !== undefined && value < tag.min) || (tag.max !== undefined && value > tag.max)) {
      const detail = `${value} outside ${tag.min ?? '-∞'}…${tag.max ?? '∞'} ${tag.unit}`.trimEnd();
      return reading(deviceId, tag, sample.timestampMs, value, 'uncertain', 'out-of-range', detail);
    }
  }
  return reading(deviceId, tag, sample.timestampMs, value, sample.quality, sample.reason, sample.detail);
}

function reading(
  device: string,
  tag: Tag,
  timestampMs: number,
  value: EngineeringValue | null,
  quality: Reading['quality'],
  reason: QualityReason | undefined,
  detail: string | undefined,
): Reading {
  const r: Reading = { device, tag: tag.name, value, unit: tag.unit, quality, timestampMs };
  if (reason !== undefined) r.reason = reason;
  if (detail !== undefined) r.detail = detail;
  return r;
}

/** OPC UA samples carry the server's timestamp too; it travels with the reading. */
function withServerTimestamp(r: Reading, sample: RawSample): Reading {
  if (sample.serverTimestampMs !== undefined) r.serverTimestampMs = sample.serverTimestampMs;
  return r;
}

function toEngineering(raw: RawValue, tag: Tag): EngineeringValue {
  if (typeof raw === 'boolean' || typeof raw === 'string') return raw;
  const n = typeof raw === 'bigint' ? Number(raw) : raw;
  if (tag.scale === 1 && tag.offset === 0) return n;
  return roundScaled(n * tag.scale + tag.offset);
}

/**
 * Removes the binary noise a scale factor adds (0.1 * 215 = 21.500000000000004) by rounding to
 * 12 significant digits — arithmetically, without a string round trip.
 */
function roundScaled(value: number): number {
  if (value === 0 || !Number.isFinite(value)) return value;
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  const factor = 10 ** (11 - magnitude);
  if (!Number.isFinite(factor) || factor === 0) return value;
  const rounded = Math.round(value * factor) / factor;
  return Number.isFinite(rounded) ? rounded : value;
}
