/** A seeded PRNG (mulberry32): reproducible test inputs without a dependency. Returns floats in [0, 1). */
export interface Rng {
  (): number;
  readonly seed: number;
}

export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Object.assign(next, { seed });
}

export interface RandomFloat32Options {
  /** The generator to draw from (see {@link createRng}). */
  rng: Rng;
  /** Number of values. */
  length: number;
  /** Standard deviation of the normal values (default 1). */
  std?: number;
  /** Fraction of values multiplied by `outlierScale`, like the activation outliers of real attention inputs. */
  outlierFraction?: number;
  outlierScale?: number;
  /** Round every value to BF16 (GPU tensors travel as BF16). */
  bf16?: boolean;
}

/** Normal random values (Box-Muller), never exactly zero, with optional outliers. */
export function randomFloat32(options: RandomFloat32Options): Float32Array {
  const { rng, length } = options;
  const std = options.std ?? 1;
  const outlierFraction = options.outlierFraction ?? 0;
  const outlierScale = options.outlierScale ?? 20;
  const out = new Float32Array(length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < length; i++) {
    const u = 1 - rng();
    const v = rng();
    let x = std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    if (x === 0) x = std * 1e-3;
    if (outlierFraction > 0 && rng() < outlierFraction) x *= outlierScale;
    out[i] = x;
    if (options.bf16) {
      const w = bits[i] as number;
      bits[i] = ((w + 0x7fff + ((w >>> 16) & 1)) >>> 16) << 16;
    }
  }
  return out;
}
