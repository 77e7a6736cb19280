/**
 * OPC UA status codes → allbit quality. Pure: no node-opcua here (the driver hands in the code's
 * numeric value and the name node-opcua gives it), so it is unit-tested without the library.
 *
 * - Good…      → good.
 * - Uncertain… → uncertain / 'device-status' (the value is kept).
 * - Bad…       → bad, reason 'device-status' except the codes below; the value is dropped.
 * A non-good status always carries "Name (0xXXXXXXXX)" in the detail.
 *
 * The reason is chosen on the code without its info bits (the low 16 bits carry limit and
 * overflow flags, OPC 10000-4 §7.39), so "BadTimeout#Overflow" is still a timeout.
 */
import type { Quality, QualityReason } from '../../agent/core/quality.js';

/** A status code as node-opcua's StatusCode shows it: `value` (UInt32) and `name`. */
export interface OpcUaStatus {
  value: number;
  name: string;
}

export interface StatusQuality {
  quality: Quality;
  reason?: QualityReason;
  detail?: string;
}

/** Bad codes that mean something more specific than "the device marked the value bad". */
const BAD_REASONS: ReadonlyMap<number, QualityReason> = new Map<number, QualityReason>([
  [0x80340000, 'not-found'], // BadNodeIdUnknown
  [0x80330000, 'not-found'], // BadNodeIdInvalid
  [0x80050000, 'comm-lost'], // BadCommunicationError
  [0x808a0000, 'comm-lost'], // BadNotConnected
  [0x800d0000, 'comm-lost'], // BadServerNotConnected
  [0x80310000, 'comm-lost'], // BadNoCommunication
  [0x800a0000, 'timeout'], // BadTimeout
]);

export type StatusSeverity = 'good' | 'uncertain' | 'bad';

/** The severity bits (the top two): 00 good, 01 uncertain, 10 and 11 bad. */
export function severityOf(value: number): StatusSeverity {
  const severity = (value >>> 30) & 0b11;
  return severity === 0 ? 'good' : severity === 1 ? 'uncertain' : 'bad';
}

/** "0x40900000" */
export function statusHex(value: number): string {
  return `0x${(value >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
}

/** "UncertainLastUsableValue (0x40900000)"; an unnamed code is shown by its number alone. */
export function describeStatus(status: OpcUaStatus): string {
  const hex = statusHex(status.value);
  const name = status.name && status.name !== 'Unknown' ? status.name : '';
  return name ? `${name} (${hex})` : `status ${hex}`;
}

/** The quality a value delivered with this status has. */
export function qualityOfStatus(status: OpcUaStatus): StatusQuality {
  switch (severityOf(status.value)) {
    case 'good':
      return { quality: 'good' };
    case 'uncertain':
      return { quality: 'uncertain', reason: 'device-status', detail: describeStatus(status) };
    case 'bad': {
      const reason = BAD_REASONS.get((status.value & 0xffff0000) >>> 0) ?? 'device-status';
      return { quality: 'bad', reason, detail: describeStatus(status) };
    }
  }
}
