/**
 * OPC UA values → allbit raw values. Pure: takes the shape of node-opcua's Variant (numeric
 * `dataType` and `arrayType`, and `value`) so it is unit-tested without the library.
 *
 * One value per tag: numbers, booleans and strings pass through (NaN and ±Infinity too —
 * normalize turns them into decode errors like any other non-finite number); Int64/UInt64 (which
 * node-opcua carries as [high, low] 32-bit words) become exact bigints; DateTime becomes ms since
 * the epoch; LocalizedText its text. Arrays, matrices, structures and the other built-in types
 * are decode errors naming what arrived.
 */
import type { RawValue } from '../../agent/core/tag.js';

/** The shape of node-opcua's Variant that matters here. */
export interface VariantLike {
  dataType: number;
  arrayType?: number;
  value: unknown;
}

export type ConvertResult = { ok: true; value: RawValue } | { ok: false; error: string };

/** OPC UA built-in type ids (OPC 10000-6 §5.1.2), as node-opcua's DataType enum numbers them. */
export const BUILT_IN_TYPE_NAMES: readonly string[] = [
  'Null',
  'Boolean',
  'SByte',
  'Byte',
  'Int16',
  'UInt16',
  'Int32',
  'UInt32',
  'Int64',
  'UInt64',
  'Float',
  'Double',
  'String',
  'DateTime',
  'Guid',
  'ByteString',
  'XmlElement',
  'NodeId',
  'ExpandedNodeId',
  'StatusCode',
  'QualifiedName',
  'LocalizedText',
  'ExtensionObject',
  'DataValue',
  'Variant',
  'DiagnosticInfo',
];

const T = {
  Null: 0,
  Boolean: 1,
  SByte: 2,
  Double: 11,
  Int64: 8,
  UInt64: 9,
  String: 12,
  DateTime: 13,
  Guid: 14,
  LocalizedText: 21,
  ExtensionObject: 22,
} as const;

const SCALAR = 0;

export function typeName(dataType: number): string {
  return BUILT_IN_TYPE_NAMES[dataType] ?? `type ${dataType}`;
}

export function convertVariant(variant: VariantLike): ConvertResult {
  const { dataType, value } = variant;
  const arrayType = variant.arrayType ?? SCALAR;
  if (arrayType !== SCALAR) {
    const length = Array.isArray(value) || ArrayBuffer.isView(value) ? (value as ArrayLike<unknown>).length : undefined;
    const shape = arrayType === 1 ? 'array' : 'matrix';
    return { ok: false, error: `${shape} of ${length ?? '?'} ${typeName(dataType)} values: a tag holds one value` };
  }
  if (dataType === T.Null || value === null || value === undefined) {
    if (dataType === T.String) return { ok: true, value: '' };
    return { ok: false, error: `no value (${typeName(dataType)} null)` };
  }
  if (dataType === T.Boolean) {
    return typeof value === 'boolean' ? { ok: true, value } : mismatch(dataType, value);
  }
  if (dataType === T.Int64 || dataType === T.UInt64) return convertInt64(dataType, value);
  if (dataType >= T.SByte && dataType <= T.Double) {
    return typeof value === 'number' ? { ok: true, value } : mismatch(dataType, value);
  }
  if (dataType === T.String) {
    return typeof value === 'string' ? { ok: true, value } : mismatch(dataType, value);
  }
  if (dataType === T.DateTime) {
    if (!(value instanceof Date) || Number.isNaN(value.getTime())) return mismatch(dataType, value);
    return { ok: true, value: value.getTime() };
  }
  if (dataType === T.Guid) {
    return typeof value === 'string' ? { ok: true, value } : mismatch(dataType, value);
  }
  if (dataType === T.LocalizedText) {
    const text = (value as { text?: unknown }).text;
    return { ok: true, value: typeof text === 'string' ? text : '' };
  }
  if (dataType === T.ExtensionObject) {
    const name = (value as { schema?: { name?: unknown } }).schema?.name;
    return { ok: false, error: `structure${typeof name === 'string' ? ` ${name}` : ''} (ExtensionObject): a tag holds one scalar value` };
  }
  return { ok: false, error: `unsupported data type ${typeName(dataType)}` };
}

/** node-opcua encodes a 64-bit integer as [high, low] unsigned 32-bit words. */
function convertInt64(dataType: number, value: unknown): ConvertResult {
  if (typeof value === 'bigint') return { ok: true, value };
  if (typeof value === 'number' && Number.isInteger(value)) return { ok: true, value: BigInt(value) };
  if (!Array.isArray(value) || value.length !== 2 || !value.every((w) => typeof w === 'number' && Number.isInteger(w))) {
    return mismatch(dataType, value);
  }
  const [high, low] = value as [number, number];
  const unsigned = (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0);
  return { ok: true, value: dataType === T.Int64 ? BigInt.asIntN(64, unsigned) : unsigned };
}

function mismatch(dataType: number, value: unknown): ConvertResult {
  return { ok: false, error: `${typeName(dataType)} carried an unexpected ${Array.isArray(value) ? 'array' : typeof value}` };
}

/** A DataValue timestamp as ms since the epoch; null for absent ones (null, or OPC UA's minimum date 1601-01-01). */
export function timestampMsOf(date: Date | null | undefined): number | null {
  if (!date) return null;
  const ms = date.getTime();
  return Number.isFinite(ms) && ms > 0 ? ms : null;
}
