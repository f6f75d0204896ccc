// The op registry: one line per op. Adding an op = its file in src/ops/ (options type, checks, CPU twin, CUDA call,
// defined with defineOp), one line here, and its exports in src/index.ts; on the native side its description/binding
// file in native/src/ops/ and one line in native/src/ops/op_list.h.
import type { KernelOp } from '../core/define-op';
import type { NativeOp } from '../core/native-op';
import { castToBf16 } from './cast-to-bf16';
import { channelMean } from './channel-mean';
import { dequantizeRows } from './dequantize-rows';
import { dequantizeV } from './dequantize-v';
import { gatedResidual } from './gated-residual';
import { gemm } from './gemm';
import { layerNormModulate } from './layer-norm-modulate';
import { gatherRows, scatterRows } from './permute-rows';
import { quantizeRows } from './quantize-rows';
import { quantizeV } from './quantize-v';
import { rmsNormRope } from './rms-norm-rope';
import { attentionForward } from './attention/attention-forward';
import { expandRowScales } from './attention/expand-row-scales';
import { patchify } from './patchify';
import { unpatchify } from './unpatchify';
import { convIm2col } from './conv-im2col';
import { channelRmsNorm } from './channel-rms-norm';
import { softmaxRows } from './softmax-rows';
import { clampToPlanar } from './clamp-to-planar';
import { flowSolverStep } from './flow-solver-step';

/** Every op of the package, with its `info` (name, exactness, native op). */
export const KERNEL_OPS: readonly KernelOp[] = Object.freeze([
  gatherRows,
  scatterRows,
  channelMean,
  quantizeRows,
  quantizeV,
  dequantizeRows,
  dequantizeV,
  expandRowScales,
  attentionForward,
  gemm,
  layerNormModulate,
  rmsNormRope,
  gatedResidual,
  castToBf16,
  patchify,
  unpatchify,
  convIm2col,
  channelRmsNorm,
  softmaxRows,
  clampToPlanar,
  flowSolverStep,
]);

/** The native ops the registered ops call (each once), in registration order. */
export function nativeOpsOf(ops: readonly KernelOp[] = KERNEL_OPS): NativeOp[] {
  const seen = new Set<NativeOp>();
  for (const op of ops) if (op.info.native !== null) seen.add(op.info.native);
  return [...seen];
}
