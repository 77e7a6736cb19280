import { describe, expect, it } from 'vitest';
import { convertVariant, timestampMsOf } from '../../../../drivers/opcua/values.js';

/** Built-in type ids from OPC 10000-6 §5.1.2; variants shaped as node-opcua delivers them. */
const DT = { Null: 0, Boolean: 1, SByte: 2, Byte: 3, Int16: 4, UInt16: 5, Int32: 6, UInt32: 7, Int64: 8, UInt64: 9, Float: 10, Double: 11, String: 12, DateTime: 13, Guid: 14, ByteString: 15, LocalizedText: 21, ExtensionObject: 22 };
const scalar = (dataType: number, value: unknown) => ({ dataType, arrayType: 0, value });

describe('OPC UA value conversion', () => {
  it('passes numbers, booleans and strings through', () => {
    expect(convertVariant(scalar(DT.Double, 7.25))).toEqual({ ok: true, value: 7.25 });
    expect(convertVariant(scalar(DT.Float, -1.5))).toEqual({ ok: true, value: -1.5 });
    expect(convertVariant(scalar(DT.Int32, -42))).toEqual({ ok: true, value: -42 });
    expect(convertVariant(scalar(DT.UInt32, 4294967295))).toEqual({ ok: true, value: 4294967295 });
    expect(convertVariant(scalar(DT.SByte, -128))).toEqual({ ok: true, value: -128 });
    expect(convertVariant(scalar(DT.Boolean, true))).toEqual({ ok: true, value: true });
    expect(convertVariant(scalar(DT.String, 'ALB-CVX500'))).toEqual({ ok: true, value: 'ALB-CVX500' });
    expect(convertVariant(scalar(DT.String, null))).toEqual({ ok: true, value: '' });
    // Non-finite numbers are normalize's to judge (decode-error there, like every other driver's).
    expect(convertVariant(scalar(DT.Double, Number.NaN))).toEqual({ ok: true, value: Number.NaN });
  });

  it('turns Int64/UInt64 [high, low] words into exact bigints', () => {
    // 0x0123456789ABCDEF = 81985529216486895
    expect(convertVariant(scalar(DT.UInt64, [0x01234567, 0x89abcdef]))).toEqual({ ok: true, value: 81985529216486895n });
    expect(convertVariant(scalar(DT.UInt64, [0xffffffff, 0xffffffff]))).toEqual({ ok: true, value: 18446744073709551615n });
    // two's complement: 0xFFFFFFFFFFFFFFFE = -2
    expect(convertVariant(scalar(DT.Int64, [0xffffffff, 0xfffffffe]))).toEqual({ ok: true, value: -2n });
    expect(convertVariant(scalar(DT.Int64, [0x80000000, 0]))).toEqual({ ok: true, value: -9223372036854775808n });
    expect(convertVariant(scalar(DT.Int64, [0, 5]))).toEqual({ ok: true, value: 5n });
  });

  it('turns DateTime into ms since the epoch and LocalizedText into its text', () => {
    expect(convertVariant(scalar(DT.DateTime, new Date(Date.UTC(2026, 6, 14, 14))))).toEqual({ ok: true, value: Date.UTC(2026, 6, 14, 14) });
    expect(convertVariant(scalar(DT.LocalizedText, { locale: 'en', text: 'Running' }))).toEqual({ ok: true, value: 'Running' });
  });

  it('refuses arrays, matrices, structures and other types with a detail (one value per tag)', () => {
    expect(convertVariant({ dataType: DT.Double, arrayType: 1, value: new Float64Array([1, 2, 3]) })).toEqual({ ok: false, error: 'array of 3 Double values: a tag holds one value' });
    expect(convertVariant({ dataType: DT.Int32, arrayType: 2, value: [1, 2, 3, 4] })).toMatchObject({ ok: false, error: expect.stringMatching(/^matrix of 4 Int32/) });
    expect(convertVariant(scalar(DT.ExtensionObject, { schema: { name: 'Range' } }))).toEqual({ ok: false, error: 'structure Range (ExtensionObject): a tag holds one scalar value' });
    expect(convertVariant(scalar(DT.ByteString, Buffer.from([1, 2])))).toEqual({ ok: false, error: 'unsupported data type ByteString' });
    expect(convertVariant(scalar(DT.Null, null))).toEqual({ ok: false, error: 'no value (Null null)' });
    expect(convertVariant(scalar(DT.Double, null))).toEqual({ ok: false, error: 'no value (Double null)' });
    expect(convertVariant(scalar(DT.Double, 'seven'))).toEqual({ ok: false, error: 'Double carried an unexpected string' });
  });

  it('treats absent timestamps (null, or the 1601 minimum date) as absent', () => {
    expect(timestampMsOf(null)).toBeNull();
    expect(timestampMsOf(undefined)).toBeNull();
    expect(timestampMsOf(new Date(Date.UTC(1601, 0, 1)))).toBeNull();
    expect(timestampMsOf(new Date(1_784_037_770_000))).toBe(1_784_037_770_000);
  });
});
