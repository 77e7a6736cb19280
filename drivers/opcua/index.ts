/**
 * The OPC UA driver's entry for the runtime's registry. Importing it does not load node-opcua:
 * the driver loads it at its first `open()` (./library.ts), so a Modbus-only gateway never pays
 * for it.
 */
import type { DriverDescriptor } from '../../agent/core/driver.js';
import { OpcUaDriver } from './driver.js';

export { OpcUaDriver, OpcUaReadPlan, type OpcUaDriverOptions, type OpcUaDriverStats } from './driver.js';
export { describeStatus, qualityOfStatus, severityOf, statusHex, type OpcUaStatus, type StatusQuality } from './status.js';
export { convertVariant, timestampMsOf, type ConvertResult, type VariantLike } from './values.js';
export { resolveNamespaceUri, splitNamespaceUri } from './node-id.js';
export { leafCertificate, normalizeThumbprint, summarizeCertificate, thumbprintOf, trustCommand, type CertificateSummary } from './certificates.js';

/** The OPC UA entry for the runtime's driver registry. */
export const opcuaDescriptor: DriverDescriptor = {
  kind: 'opcua',
  create(device, context) {
    return new OpcUaDriver(device, context);
  },
};
