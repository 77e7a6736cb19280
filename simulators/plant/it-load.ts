/**
 * The site's IT load (kW): three AI workload classes, each a pure function of seed and time.
 *
 * - training: large synchronous jobs, steady near 600 kW with slow drift and a short dip every
 *   ~40 minutes while the job writes a checkpoint;
 * - reasoning: batch/agentic inference that swings over minutes, busier in the daytime;
 * - inference: latency-critical serving with a diurnal base and short (10–40 s) spikes.
 *
 * The site total stays within roughly 800–1400 kW.
 */
import { clamp, fractalNoise, hash01, smoothNoise } from './noise.js';

export interface ItLoad {
  trainingKw: number;
  reasoningKw: number;
  inferenceKw: number;
  totalKw: number;
}

const CHECKPOINT_PERIOD_S = 40 * 60;
const CHECKPOINT_DIP_S = 90;
const SPIKE_SLOT_S = 60;

/** 0 at night … 1 in the afternoon (UTC hour of day is taken as site local time). */
export function diurnalActivity(timeMs: number): number {
  const hour = ((timeMs / 3_600_000) % 24 + 24) % 24;
  return 0.5 - 0.5 * Math.cos((2 * Math.PI * (hour - 3)) / 24);
}

function trainingKw(seed: number, tS: number): number {
  const base = 680 + 25 * fractalNoise(seed, 1, tS, 1800);
  // checkpoint: the GPUs idle while state is written, power falls to ~70 % for a minute and a half
  const phase = ((tS + hash01(seed, 11) * CHECKPOINT_PERIOD_S) % CHECKPOINT_PERIOD_S + CHECKPOINT_PERIOD_S) % CHECKPOINT_PERIOD_S;
  let dip = 0;
  if (phase < CHECKPOINT_DIP_S) dip = 0.3 * Math.sin((Math.PI * phase) / CHECKPOINT_DIP_S);
  return base * (1 - dip);
}

function reasoningKw(seed: number, tS: number, activity: number): number {
  const swing = 0.5 + 0.5 * fractalNoise(seed, 2, tS, 240); // 0..1, swings over minutes
  return (150 + 160 * activity) * (0.55 + 0.9 * clamp(swing, 0, 1));
}

/** A spike may start in each one-minute slot; a spike lasting into the next slot is still seen. */
function spikeKw(seed: number, tS: number, activity: number): number {
  const slot = Math.floor(tS / SPIKE_SLOT_S);
  let kw = 0;
  for (const s of [slot - 1, slot]) {
    const chance = 0.15 + 0.25 * activity;
    if (hash01(seed, s, 1) >= chance) continue;
    const start = s * SPIKE_SLOT_S + hash01(seed, s, 2) * SPIKE_SLOT_S;
    const duration = 10 + 30 * hash01(seed, s, 3);
    const height = 60 + 110 * hash01(seed, s, 4);
    const x = (tS - start) / duration;
    if (x >= 0 && x <= 1) kw += height * Math.sin(Math.PI * x) ** 0.5;
  }
  return kw;
}

function inferenceKw(seed: number, tS: number, activity: number): number {
  const base = (100 + 140 * activity) * (1 + 0.1 * smoothNoise(seed, 3, tS, 120));
  return base + spikeKw(seed, tS, activity);
}

export function itLoadAt(seed: number, timeMs: number): ItLoad {
  const tS = timeMs / 1000;
  const activity = diurnalActivity(timeMs);
  const training = trainingKw(seed, tS);
  const reasoning = reasoningKw(seed, tS, activity);
  const inference = inferenceKw(seed, tS, activity);
  return { trainingKw: training, reasoningKw: reasoning, inferenceKw: inference, totalKw: training + reasoning + inference };
}
