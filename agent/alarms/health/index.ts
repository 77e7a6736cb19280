/**
 * Equipment health and facility KPIs as calculated tags: pure functions of the latest values, and
 * small pure state machines (transformer thermal model, ageing accumulator, energy counters) whose
 * state is plain data, so the same code runs live and in a backtest.
 */
export type { MaybeNumber } from './numbers.js';
export type { IntegrationOptions } from './integrate.js';
export * from './chiller.js';
export * from './cooling-tower.js';
export * from './transformer.js';
export * from './ups.js';
export * from './facility.js';
