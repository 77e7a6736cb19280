/** Deterministic noise for tests: mulberry32 uniform and Box–Muller Gaussian. */

export type Uniform = () => number;

export function mulberry32(seed: number): Uniform {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal generator from a seed. */
export function gaussian(seed: number): () => number {
  const uniform = mulberry32(seed);
  return () => {
    let u = 0;
    while (u === 0) u = uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  };
}

export const MINUTE_MS = 60_000;
/** An arbitrary epoch time, so the tests exercise realistic magnitudes of tMs. */
export const T0_MS = 1_764_000_000_000;
