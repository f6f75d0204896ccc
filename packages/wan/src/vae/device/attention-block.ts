import { type Tensor, channelRmsNorm, gatedResidual, gemm, softmaxRows } from '@fpsattn/kernels';
import { type DeviceClip, disposeAll } from './clip';
import type { DeviceAttentionBlock } from './weights';

/** Key (and query) rows are padded to this for cuBLASLt (N and K multiples of 8). */
const TOKEN_MULTIPLE = 8;

/**
 * `AttentionBlock` on the device (vae.py; CPU: ../attention-block.ts), frame by frame (no cache): one head over the
 * n = h w pixels with C channels, as GEMMs and a row softmax, n padded to np (a multiple of 8) with zero rows:
 * ```
 * xn  = RMS_norm(x)                      BF16 [np, C], padding rows 0       channelRmsNorm into a zeroed buffer
 * q,k = xn Wq^T + bq, xn Wk^T + bk       BF16 [np, C]                       gemm (BF16 bias)
 * vT  = Wv xn^T                          BF16 [C, np] (V transposed, no bias) gemm with the operands swapped
 * S   = q k^T                            F32 [np, np]                       gemm
 * P   = softmax(S / sqrt(C))             BF16 [np, np], padded keys 0       softmaxRows
 * o   = P vT^T + bv                      BF16 [np, C]                       gemm (BF16 bias)
 * out = o[:n] Wp^T + bp + x              F32 [n, C]                         gemm, gatedResidual
 * ```
 * V's bias moves past the softmax: P (V0 + 1 bv^T) = P V0 + 1 bv^T, since each row of P sums to 1 (to within its BF16
 * rounding, about 2^-9 / sqrt(n) relative: far below the GEMMs' own error). That gives V transposed straight from a
 * GEMM, without a transpose kernel. Returns a new clip; `x` stays the caller's.
 */
export function attentionBlockDevice(options: { x: DeviceClip; block: DeviceAttentionBlock }): DeviceClip {
  const { x, block } = options;
  const { dim: c } = block;
  const n = x.height * x.width;
  const np = Math.ceil(n / TOKEN_MULTIPLE) * TOKEN_MULTIPLE;
  const backend = block.norm.backend;
  const scale = 1 / Math.sqrt(c);
  const out: Tensor<'f32'>[] = [];
  try {
    for (const frame of x.frames) {
      const made: Tensor[] = [];
      const keep = <T extends Tensor>(t: T): T => (made.push(t), t);
      try {
        const xn = keep(backend.empty([np, c], 'bf16', { name: 'vae.attn.xn' }).fillBytes(0));
        channelRmsNorm({ x: frame, gamma: block.norm, silu: false, out: keep(xn.sliceRows(0, n)) });
        const q = keep(gemm({ x: xn, w: block.q.weight, bias: block.q.bias, name: 'vae.attn.q' }) as Tensor<'bf16'>);
        const k = keep(gemm({ x: xn, w: block.k.weight, bias: block.k.bias, name: 'vae.attn.k' }) as Tensor<'bf16'>);
        const vT = keep(gemm({ x: block.v.weight, w: xn, name: 'vae.attn.vT' }) as Tensor<'bf16'>);
        const scores = keep(gemm({ x: q, w: k, outDtype: 'f32', name: 'vae.attn.scores' }) as Tensor<'f32'>);
        const p = keep(softmaxRows({ x: scores, scale, validCols: n, name: 'vae.attn.p' }));
        const o = keep(gemm({ x: p, w: vT, bias: block.v.bias, name: 'vae.attn.o' }) as Tensor<'bf16'>);
        const y = gemm({ x: keep(o.sliceRows(0, n)), w: block.proj.weight, bias: block.proj.bias, outDtype: 'f32', name: 'vae.attn.out' }) as Tensor<'f32'>;
        out.push(y);
        gatedResidual({ x: y, y: frame, rowsPerItem: n });
      } finally {
        disposeAll(made);
      }
    }
    return { channels: c, height: x.height, width: x.width, frames: out };
  } catch (e) {
    disposeAll(out);
    throw e;
  }
}
