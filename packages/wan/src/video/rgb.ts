import { videoInputError } from './errors';

/**
 * How a value in [0, 1] becomes a byte. `truncate` (the default) is Wan's `cache_video` (wan/utils/utils.py, the
 * video the reference's generate.py saves): `make_grid(normalize=True, value_range=(-1, 1))` then
 * `(x * 255).type(torch.uint8)`, i.e. `floor(255 (x + 1) / 2)` in float32, so only 1.0 maps to 255. `round` is
 * torchvision's `save_image` (Wan's `cache_image`): `floor(255 (x + 1) / 2 + 0.5)`.
 */
export type Rgb8Rounding = 'truncate' | 'round';

export interface FramesToRgb8Options {
  /** `[3, T, H, W]` row-major RGB in [-1, 1] (values outside are clamped), as wanVaeDecodeCpu returns it. */
  readonly frames: Float32Array;
  readonly shape: readonly number[];
  readonly rounding?: Rgb8Rounding;
}

function validate(caller: string, options: FramesToRgb8Options): [number, number, number] {
  const { frames, shape } = options;
  const bad = (input: string, value: unknown, rule: string): never => {
    throw videoInputError(caller, input, value, rule);
  };
  if (!Array.isArray(shape) || shape.length !== 4 || !shape.every((d) => Number.isSafeInteger(d) && d >= 1)) {
    bad('shape', shape, 'expected four integers >= 1 ([3, T, H, W])');
  }
  if (shape[0] !== 3) bad('shape[0]', shape[0], 'expected 3 channels (RGB)');
  if (!(frames instanceof Float32Array)) bad('frames', frames, 'expected a Float32Array');
  const [, t, h, w] = shape as [number, number, number, number];
  if (frames.length !== 3 * t * h * w) bad('frames', frames, `expected ${3 * t * h * w} values ([${shape.join(', ')}])`);
  const rounding = options.rounding ?? 'truncate';
  if (rounding !== 'truncate' && rounding !== 'round') bad('rounding', rounding, "expected 'truncate' or 'round'");
  return [t, h, w];
}

function convert(caller: string, frames: Float32Array, t: number, h: number, w: number, index: number, rounding: Rgb8Rounding): Uint8Array {
  const hw = h * w;
  const out = new Uint8Array(hw * 3);
  const half = rounding === 'round' ? 0.5 : 0;
  for (let c = 0; c < 3; c++) {
    const base = (c * t + index) * hw;
    for (let p = 0; p < hw; p++) {
      const x = frames[base + p] as number;
      if (Number.isNaN(x)) throw videoInputError(caller, `frames[${base + p}]`, x, 'expected numbers (channel ' + c + ' of frame ' + index + ' is NaN)');
      const clamped = x < -1 ? -1 : x > 1 ? 1 : x;
      // float32 throughout, as torch computes it: (x - low) / (high - low), then * 255 (+ 0.5), then the uint8 cast.
      const unit = Math.fround(Math.fround(clamped + 1) / 2);
      const scaled = Math.fround(Math.fround(unit * 255) + half);
      out[3 * p + c] = Math.min(255, Math.floor(scaled));
    }
  }
  return out;
}

/** Frame `index` of `[3, T, H, W]` float RGB in [-1, 1] as 8-bit RGB `[H, W, 3]` (see {@link Rgb8Rounding}). */
export function frameToRgb8(options: FramesToRgb8Options & { readonly index: number }): Uint8Array {
  const [t, h, w] = validate('frameToRgb8', options);
  const { index } = options;
  if (!Number.isSafeInteger(index) || index < 0 || index >= t) throw videoInputError('frameToRgb8', 'index', index, `expected an integer in 0..${t - 1}`);
  return convert('frameToRgb8', options.frames, t, h, w, index, options.rounding ?? 'truncate');
}

/**
 * Every frame of `[3, T, H, W]` float RGB in [-1, 1] as 8-bit RGB `[H, W, 3]` (T arrays of H * W * 3 bytes), clamped
 * to [-1, 1] first; NaN is an error (WanVideoError INVALID_INPUT). See {@link Rgb8Rounding} for the byte mapping.
 */
export function framesToRgb8(options: FramesToRgb8Options): Uint8Array[] {
  const [t, h, w] = validate('framesToRgb8', options);
  const rounding = options.rounding ?? 'truncate';
  return Array.from({ length: t }, (_, i) => convert('framesToRgb8', options.frames, t, h, w, i, rounding));
}
