/**
 * Deterministic pseudo-random functions of (seed, time). Every stochastic-looking signal in the
 * plant is a pure function of the seed and the simulated time, so a run is reproducible whatever
 * step sizes drive it.
 */

/** A 32-bit integer hash of a seed and up to two integers, mapped to [0, 1). */
export function hash01(seed: number, a: number, b = 0): number {
  let h = (seed | 0) ^ 0x9e3779b9;
  h = Math.imul(h ^ (a | 0), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h ^ (b | 0), 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x27d4eb2d);
  h ^= h >>> 15;
  return (h >>> 0) / 4294967296;
}

/**
 * Smooth value noise in [-1, 1]: random values on a lattice every `periodS` seconds, blended with
 * a smoothstep. `channel` separates independent signals sharing a seed.
 */
export function smoothNoise(seed: number, channel: number, tS: number, periodS: number): number {
  const x = tS / periodS;
  const i = Math.floor(x);
  const f = x - i;
  const u = f * f * (3 - 2 * f);
  const a = hash01(seed + channel * 7919, i) * 2 - 1;
  const b = hash01(seed + channel * 7919, i + 1) * 2 - 1;
  return a + (b - a) * u;
}

/** Two octaves of value noise, in about [-1, 1]. */
export function fractalNoise(seed: number, channel: number, tS: number, periodS: number): number {
  return 0.7 * smoothNoise(seed, channel, tS, periodS) + 0.3 * smoothNoise(seed, channel + 101, tS, periodS / 3.7);
}

/** Exact first-order lag step: moves `value` toward `target` with time constant `tauS` over `dtS`. */
export function lag(value: number, target: number, dtS: number, tauS: number): number {
  if (tauS <= 0) return target;
  return target + (value - target) * Math.exp(-dtS / tauS);
}

export function clamp(value: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, value));
}
