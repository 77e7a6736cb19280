/**
 * allbit's one quality model, carried from the driver to the MQTT payload.
 *
 * - good: the value was read from the device just now and passed every check.
 * - uncertain: a value exists but should not be trusted blindly (for example out of the tag's
 *   plausible range). Replayed history keeps the quality it was read with; the MQTT payload
 *   marks it `historical: true`.
 * - bad: there is no trustworthy value; `value` is null and `reason` says why.
 */
export type Quality = 'good' | 'uncertain' | 'bad';

export const QUALITY_REASONS = [
  'comm-lost', // the connection to the device is down
  'timeout', // the device did not answer within the request timeout
  'exception', // the device answered with a protocol exception (for example Modbus illegal address)
  'out-of-range', // the value decoded but lies outside the tag's configured min/max
  'stale', // no fresh value for longer than the tag allows
  'decode-error', // the raw bytes could not be turned into the tag's type
  'not-connected', // the device has not been reached yet since start
  'frame-error', // a serial-line reply was damaged or not ours: bad CRC, short frame, wrong unit id or function
  'device-status', // the device itself marked the value bad or uncertain (an OPC UA status code, in the detail)
  'not-found', // the address does not exist on the device (for example an unknown OPC UA NodeId)
  'not-applicable', // a calculated value that has no meaning now (an idle chiller has no kW/ton) or lacks a good input (see detail)
] as const;
export type QualityReason = (typeof QUALITY_REASONS)[number];

export interface QualityInfo {
  quality: Quality;
  reason?: QualityReason;
  /** Human-readable detail: "Modbus exception 2 (illegal data address) at holding 40100". */
  detail?: string;
}
