// patchify: latent video f32 [items, C, F, H, W] -> BF16 patch rows [items tokens, C pt ph pw], the input of the
// DiT's patch-embedding GEMM (Conv3d with kernel = stride = patch size as one GEMM). Native op patchify, kernel
// native/src/kernels/video_patches/patchify.cu. Bit-exact: the same bits moved, one BF16 rounding per value on both
// sides.
import { InvalidArgumentError, ShapeMismatchError, encodeBf16Array } from '@fpsattn/fp8';
import { defineOp } from '../core/define-op';
import { defineNativeOp } from '../core/native-op';
import { type Tensor, formatShape } from '../core/tensor';
import { hostView } from '../cpu/host-storage';
import { type PatchSize, expectPatchSize, patchLengthOf } from './_patch-checks';
import { backendOf, expectDType, expectOut, withOutputs } from './_checks';

export const PATCHIFY = defineNativeOp({
  name: 'patchify',
  fields: { latents: 'tensor', out: 'tensor', items: 'int', channels: 'int', gridF: 'int', gridH: 'int', gridW: 'int', pt: 'int', ph: 'int', pw: 'int', repeat: 'int' },
  result: null,
});

export interface PatchifyOptions {
  /** f32 [items, C, F, H, W]; F, H, W multiples of the patch size. */
  latents: Tensor<'f32'>;
  /** [pt, ph, pw] (Wan2.1: [1, 2, 2]); C pt ph pw at most PATCH_MAX_LENGTH. */
  patchSize: PatchSize;
  /**
   * Batch copies: the output holds repeat x items items, item b the patches of latents item b % items (torch's
   * `repeat` along the batch). CFG uploads its one latent video once and patchifies it for both items. Default 1.
   */
  repeat?: number;
  /** bf16 [repeat items F' H' W', C pt ph pw]. */
  out?: Tensor<'bf16'>;
  name?: string;
}

export interface PatchifyCpuOptions {
  /** float32 [items, C, F, H, W], row-major. */
  latents: Float32Array;
  /** [items, C, F, H, W]; F, H, W multiples of the patch size. */
  shape: readonly [number, number, number, number, number];
  patchSize: PatchSize;
  /** As the op's option. Default 1. */
  repeat?: number;
  /** BF16 bits [repeat items tokens, C pt ph pw], written in place when given. */
  out?: Uint16Array;
}

/**
 * The CPU twin: token (f', h', w') of item b, value ((c pt + dt) ph + dh) pw + dw = BF16 (encodeBf16Array: round to
 * nearest even, overflow to infinity, every NaN to 0x7fff) of latents[b % items, c, f' pt + dt, h' ph + dh, w' pw + dw].
 * Walks each item's video in memory order, one rounded row at a time, writing pw-wide runs of each token's patch.
 */
export function patchifyCpu(o: PatchifyCpuOptions): Uint16Array {
  const { latents } = o;
  const [items, channels, frames, height, width] = o.shape;
  const [pt, ph, pw] = o.patchSize;
  const repeat = o.repeat ?? 1;
  const [gh, gw] = [height / ph, width / pw];
  const length = channels * pt * ph * pw;
  const itemValues = channels * frames * height * width; // tokens x length
  const out = o.out ?? new Uint16Array(repeat * items * itemValues);
  const row = new Uint16Array(width);
  let at = 0;
  for (let b = 0; b < items; b++) {
    const item = b * itemValues;
    for (let c = 0; c < channels; c++) {
      for (let f = 0; f < frames; f++) {
        const tokenF = Math.floor(f / pt) * gh;
        const featureF = (c * pt + (f % pt)) * ph;
        for (let y = 0; y < height; y++) {
          const tokenRow = (tokenF + Math.floor(y / ph)) * gw;
          const feature = (featureF + (y % ph)) * pw;
          encodeBf16Array({ input: latents.subarray(at, at + width), out: row });
          at += width;
          for (let tx = 0; tx < gw; tx++) {
            const dst = item + (tokenRow + tx) * length + feature;
            for (let dx = 0; dx < pw; dx++) out[dst + dx] = row[tx * pw + dx] as number;
          }
        }
      }
    }
  }
  for (let rep = 1; rep < repeat; rep++) out.copyWithin(rep * items * itemValues, 0, items * itemValues);
  return out;
}

/** BF16 patch rows of latent videos, tokens row-major over (f', h', w'), each patch in Conv3d order (c, dt, dh, dw). */
export const patchify = defineOp(
  { name: 'patchify', exactness: 'bit-exact', native: PATCHIFY },
  function patchify(o: PatchifyOptions): Tensor<'bf16'> {
    const op = 'patchify';
    const be = backendOf(o.latents, 'latents', op);
    const { latents } = o;
    expectDType(latents, 'latents', ['f32']);
    const hint = `'${latents.name}'`;
    if (latents.shape.length !== 5 || latents.shape.some((d) => d < 1)) {
      throw new ShapeMismatchError({ tensor: 'latents', expected: '[items, C, F, H, W]: 5-D, every dimension at least 1', actual: formatShape(latents.shape), hint });
    }
    const { patchSize } = o;
    expectPatchSize(patchSize);
    const [items, channels, ...video] = latents.shape as [number, number, number, number, number];
    const grid = video.map((size, a) => {
      const patch = patchSize[a] as number;
      if (size % patch !== 0) {
        throw new ShapeMismatchError({ tensor: 'latents', expected: `${'FHW'[a]} (dimension ${a + 2}) a multiple of ${['pt', 'ph', 'pw'][a]} = ${patch}`, actual: formatShape(latents.shape), hint });
      }
      return size / patch;
    }) as [number, number, number];
    const length = patchLengthOf(channels, patchSize, 'latents', 'C');
    const repeat = o.repeat ?? 1;
    if (!Number.isSafeInteger(repeat) || repeat < 1) {
      throw new InvalidArgumentError({ argument: 'repeat', value: repeat, message: 'expected a positive integer (batch copies of the latents; default 1)' });
    }
    const outShape = [repeat * items * grid[0] * grid[1] * grid[2], length];
    if (o.out !== undefined) expectOut(o.out, 'out', 'bf16', outShape, be, op, [latents]);
    return withOutputs(be, (outputs) => {
      const out = o.out ?? outputs.empty(outShape, 'bf16', o.name ?? `${latents.name}.patches`);
      be.dispatch(op, {
        cpu: () => void patchifyCpu({ latents: hostView(latents), shape: latents.shape as PatchifyCpuOptions['shape'], patchSize, repeat, out: hostView(out) }),
        cuda: (device) =>
          device.call(PATCHIFY, {
            latents: device.ref(latents),
            out: device.ref(out),
            items,
            channels,
            gridF: grid[0],
            gridH: grid[1],
            gridW: grid[2],
            pt: patchSize[0],
            ph: patchSize[1],
            pw: patchSize[2],
            repeat,
          }),
      });
      return out;
    });
  },
);
