// The backoff rule lives in core: the scheduler (device reconnects) and shared-line drivers (reopening a serial port) use the same one.
export { backoffDelayMs } from '../core/backoff.js';
