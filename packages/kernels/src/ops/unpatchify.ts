// unpatchify: the DiT head's token vectors f32 [items tokens, pt ph pw outDim] -> video f32 [items, outDim, F, H, W]
// (einsum('fhwpqrc->cfphqwr'): the channel runs fastest within a token vector). Native op unpatchify, kernel
// native/src/kernels/video_patches/unpatchify.cu. Bit-exact: a float32 copy in another order on both sides.
import { InvalidArgumentError, ShapeMismatchError } from '@fpsattn/fp8';
import { defineOp } from '../core/define-op';
import { defineNativeOp } from '../core/native-op';
import { type Tensor, formatShape } from '../core/tensor';
import { hostView } from '../cpu/host-storage';
import { type PatchGrid, type PatchSize, expectPatchGrid, expectPatchSize, patchLengthOf } from './_patch-checks';
import { backendOf, expectDType, expectOut, withOutputs } from './_checks';

export const UNPATCHIFY = defineNativeOp({
  name: 'unpatchify',
  fields: { tokens: 'tensor', out: 'tensor', items: 'int', channels: 'int', gridF: 'int', gridH: 'int', gridW: 'int', pt: 'int', ph: 'int', pw: 'int' },
  result: null,
});

export interface UnpatchifyOptions {
  /** f32 [items F' H' W', pt ph pw outDim], tokens row-major over (f', h', w') per item. */
  tokens: Tensor<'f32'>;
  /** The patch grid [F', H', W']. */
  grid: PatchGrid;
  /** [pt, ph, pw] (Wan2.1: [1, 2, 2]); pt ph pw outDim at most PATCH_MAX_LENGTH. */
  patchSize: PatchSize;
  /** Channels of the video (Wan2.1: 16). */
  outDim: number;
  /** f32 [items, outDim, F' pt, H' ph, W' pw]. */
  out?: Tensor<'f32'>;
  name?: string;
}

export interface UnpatchifyCpuOptions {
  /** float32 [items F' H' W', pt ph pw outDim]. */
  tokens: Float32Array;
  items: number;
  grid: PatchGrid;
  patchSize: PatchSize;
  outDim: number;
  /** float32 [items, outDim, F' pt, H' ph, W' pw], written in place when given. */
  out?: Float32Array;
}

/**
 * The CPU twin: out[b, c, f' pt + dt, h' ph + dh, w' pw + dw] = tokens[b tokens + (f' H' + h') W' + w',
 * ((dt ph + dh) pw + dw) outDim + c], moved as 32-bit words (NaN payloads kept, as the kernel's copy keeps them).
 * Writes the video in memory order; each output row reads pw-wide runs of consecutive tokens' vectors.
 */
export function unpatchifyCpu(o: UnpatchifyCpuOptions): Float32Array {
  const { items, grid, outDim } = o;
  const [pt, ph, pw] = o.patchSize;
  const [frames, height] = [grid[0] * pt, grid[1] * ph];
  const perToken = pt * ph * pw * outDim;
  const itemValues = outDim * frames * height * grid[2] * pw; // tokens x perToken
  const out = o.out ?? new Float32Array(items * itemValues);
  const src = new Uint32Array(o.tokens.buffer, o.tokens.byteOffset, o.tokens.length);
  const dst = new Uint32Array(out.buffer, out.byteOffset, out.length);
  let at = 0;
  for (let b = 0; b < items; b++) {
    const item = b * itemValues;
    for (let c = 0; c < outDim; c++) {
      for (let f = 0; f < frames; f++) {
        const tokenF = Math.floor(f / pt) * grid[1];
        for (let y = 0; y < height; y++) {
          const tokenRow = (tokenF + Math.floor(y / ph)) * grid[2];
          const feature = ((f % pt) * ph + (y % ph)) * pw * outDim + c;
          for (let tx = 0; tx < grid[2]; tx++) {
            const s = item + (tokenRow + tx) * perToken + feature;
            for (let d = 0; d < pw; d++) dst[at++] = src[s + d * outDim] as number;
          }
        }
      }
    }
  }
  return out;
}

/** Token vectors back to [items, outDim, F, H, W] videos; bit-identical on both backends. */
export const unpatchify = defineOp(
  { name: 'unpatchify', exactness: 'bit-exact', native: UNPATCHIFY },
  function unpatchify(o: UnpatchifyOptions): Tensor<'f32'> {
    const op = 'unpatchify';
    const be = backendOf(o.tokens, 'tokens', op);
    const { tokens, grid, patchSize, outDim } = o;
    expectDType(tokens, 'tokens', ['f32']);
    expectPatchGrid(grid);
    expectPatchSize(patchSize);
    if (!Number.isSafeInteger(outDim) || outDim < 1) {
      throw new InvalidArgumentError({ argument: 'outDim', value: outDim, message: 'expected a positive integer (the video channels; Wan2.1: 16)' });
    }
    const length = patchLengthOf(outDim, patchSize, 'tokens', 'outDim');
    const tokensPerItem = grid[0] * grid[1] * grid[2];
    const hint = `'${tokens.name}'`;
    const [rows, cols] = tokens.shape as [number, number];
    if (tokens.shape.length !== 2 || cols !== length || rows < 1 || rows % tokensPerItem !== 0) {
      throw new ShapeMismatchError({
        tensor: 'tokens',
        expected: `[items x ${tokensPerItem}, ${length}]: whole batch items of F' H' W' = ${grid.join(' x ')} tokens, pt ph pw outDim = ${patchSize.join(' x ')} x ${outDim} values each`,
        actual: formatShape(tokens.shape),
        hint,
      });
    }
    const items = rows / tokensPerItem;
    const outShape = [items, outDim, grid[0] * patchSize[0], grid[1] * patchSize[1], grid[2] * patchSize[2]];
    if (o.out !== undefined) expectOut(o.out, 'out', 'f32', outShape, be, op, [tokens]);
    return withOutputs(be, (outputs) => {
      const out = o.out ?? outputs.empty(outShape, 'f32', o.name ?? `${tokens.name}.video`);
      be.dispatch(op, {
        cpu: () => void unpatchifyCpu({ tokens: hostView(tokens), items, grid, patchSize, outDim, out: hostView(out) }),
        cuda: (device) =>
          device.call(UNPATCHIFY, {
            tokens: device.ref(tokens),
            out: device.ref(out),
            items,
            channels: outDim,
            gridF: grid[0],
            gridH: grid[1],
            gridW: grid[2],
            pt: patchSize[0],
            ph: patchSize[1],
            pw: patchSize[2],
          }),
      });
      return out;
    });
  },
);
