/**
 * The Wan-VAE decoder's weights on a backend (CUDA or the CPU twin), laid out for the device decoder: every
 * convolution as a BF16 GEMM operand [cout, kt kh kw cin] (PyTorch's [cout, cin, kt, kh, kw] permuted to the column
 * order of convIm2col) with an F32 bias (its GEMM writes F32: the residual stream); the head's 3 output channels padded
 * to 8 with zero rows (cuBLASLt needs N % 8 == 0); `time_conv` split into its two output halves (frame 2t and 2t + 1:
 * two GEMMs instead of an interleave); the attention's `to_qkv` split into q, k, v [C, C] with BF16 biases (their GEMMs
 * write BF16); the norms' gammas F32 [C]. `conv2` (1x1x1, 16 -> 16) stays on the host in F32: it runs there once per
 * video on the latents, in float64 like the CPU decoder. Uploaded once; `dispose` frees everything.
 */
import { type Backend, type Tensor } from '@fpsattn/kernels';
import { encodeBf16Array } from '@fpsattn/fp8';
import { WanConfigError } from '../../model/errors';
import { type WanVaeWeights, checkWanVaeWeights } from '../check-weights';
import { type WanVaeConfig, validateWanVaeConfig } from '../config';
import { type WanVaeAttentionSpec, type WanVaeDecoderLayout, type WanVaeResampleSpec, type WanVaeResidualSpec, wanVaeDecoderLayout } from '../layout';
import type { DeviceConv } from './conv';

/** GEMM operands need N and K multiples of 8 (16-byte BF16 rows): every width the device decoder multiplies by. */
export const WAN_VAE_DEVICE_WIDTH_MULTIPLE = 8;
/** The head's RGB output, padded to one GEMM-able width. */
export const WAN_VAE_HEAD_PADDED_CHANNELS = 8;

export interface DeviceResidualBlock {
  readonly inDim: number;
  readonly outDim: number;
  /** residual.0.gamma, residual.3.gamma: F32 [inDim], [outDim]. */
  readonly norm1: Tensor<'f32'>;
  readonly conv1: DeviceConv;
  readonly norm2: Tensor<'f32'>;
  readonly conv2: DeviceConv;
  /** 1x1x1 when the widths differ. */
  readonly shortcut: DeviceConv | null;
}

export interface DeviceAttentionBlock {
  readonly dim: number;
  readonly norm: Tensor<'f32'>;
  /** to_qkv split: BF16 [dim, dim] weights and BF16 [dim] biases. */
  readonly q: { readonly weight: Tensor<'bf16'>; readonly bias: Tensor<'bf16'> };
  readonly k: { readonly weight: Tensor<'bf16'>; readonly bias: Tensor<'bf16'> };
  readonly v: { readonly weight: Tensor<'bf16'>; readonly bias: Tensor<'bf16'> };
  /** 1x1: BF16 [dim, dim], F32 bias. */
  readonly proj: DeviceConv;
}

export interface DeviceResample {
  readonly mode: WanVaeResampleSpec['mode'];
  readonly dim: number;
  /** upsample3d: time_conv's two output halves, each (3,1,1) dim -> dim: frame 2t, frame 2t + 1. */
  readonly timeConv: readonly [DeviceConv, DeviceConv] | null;
  /** resample.1: 3x3 dim -> dim / 2 over the nearest 2x upsampling. */
  readonly conv: DeviceConv;
}

export interface DeviceStage {
  readonly residuals: readonly DeviceResidualBlock[];
  readonly resample: DeviceResample | null;
}

/** Rounds float32 values to BF16 bits (nearest even). */
function bf16(data: Float32Array): Uint16Array {
  return encodeBf16Array({ input: data });
}

/**
 * [cout, cin, taps] (PyTorch, taps = kt kh kw) to [coutPadded, taps, cin] BF16 bits, rows past cout zero.
 */
export function permuteConvWeight(options: { data: Float32Array; cout: number; cin: number; taps: number; coutPadded?: number }): Uint16Array {
  const { data, cout, cin, taps } = options;
  const rows = options.coutPadded ?? cout;
  const permuted = new Float32Array(rows * taps * cin);
  for (let o = 0; o < cout; o++) {
    for (let i = 0; i < cin; i++) {
      for (let t = 0; t < taps; t++) permuted[(o * taps + t) * cin + i] = data[(o * cin + i) * taps + t] as number;
    }
  }
  return bf16(permuted);
}

const CALLER = 'WanVaeDeviceWeights';

/** Checks that every width the decoder multiplies by is a multiple of 8 (all Wan configs: 16, 96, 192, 384, ...). */
function checkWidths(config: WanVaeConfig, layout: WanVaeDecoderLayout): void {
  const widths = new Set<number>([layout.zDim, ...layout.dims]);
  for (const stage of layout.stages) if (stage.resample !== null) widths.add(stage.resample.dim / 2);
  const bad = [...widths].filter((w) => w % WAN_VAE_DEVICE_WIDTH_MULTIPLE !== 0);
  if (bad.length > 0) {
    throw new WanConfigError({
      source: `${CALLER} config`,
      field: 'dim',
      value: config.dim,
      rule: `the device decoder needs every channel width to be a multiple of ${WAN_VAE_DEVICE_WIDTH_MULTIPLE} (cuBLASLt's 16-byte BF16 rows); widths ${bad.join(', ')} are not`,
    });
  }
}

/** The decoder's weights on `backend`; made by {@link WanVaeDeviceWeights.upload}. */
export class WanVaeDeviceWeights implements Disposable {
  readonly backend: Backend;
  readonly config: WanVaeConfig;
  readonly layout: WanVaeDecoderLayout;
  /** conv2 on the host: F32 [zDim, zDim] and [zDim]. */
  readonly conv2: { readonly weight: Float32Array; readonly bias: Float32Array };
  readonly conv1: DeviceConv;
  readonly middle: readonly [DeviceResidualBlock, DeviceAttentionBlock, DeviceResidualBlock];
  readonly stages: readonly DeviceStage[];
  readonly headNorm: Tensor<'f32'>;
  /** 3x3x3 headDim -> 3, padded to 8 output channels (zero weights and biases). */
  readonly headConv: DeviceConv;
  readonly #tensors: Tensor[];

  private constructor(init: Omit<WanVaeDeviceWeights, 'dispose' | typeof Symbol.dispose | 'bytes'> & { tensors: Tensor[] }) {
    this.backend = init.backend;
    this.config = init.config;
    this.layout = init.layout;
    this.conv2 = init.conv2;
    this.conv1 = init.conv1;
    this.middle = init.middle;
    this.stages = init.stages;
    this.headNorm = init.headNorm;
    this.headConv = init.headConv;
    this.#tensors = init.tensors;
  }

  /** Device bytes the weights take. */
  get bytes(): number {
    return this.#tensors.reduce((sum, t) => sum + t.byteLength, 0);
  }

  /**
   * Checks `weights` against `config` (checkWanVaeWeights: every decoder tensor, reference names, F32) and that its
   * widths are multiples of 8, then uploads them in the device layout. On an error nothing stays on the device.
   */
  static upload(options: { backend: Backend; config: WanVaeConfig; weights: WanVaeWeights; source?: string }): WanVaeDeviceWeights {
    const { backend, weights } = options;
    const config = validateWanVaeConfig({ config: options.config, source: `${CALLER} config` });
    checkWanVaeWeights({ config, weights, source: options.source ?? 'weights' });
    const layout = wanVaeDecoderLayout(config);
    checkWidths(config, layout);
    const tensors: Tensor[] = [];
    const host = (name: string): Float32Array => weights.get(name) as Float32Array;
    const place = <D extends 'bf16' | 'f32'>(data: D extends 'bf16' ? Uint16Array : Float32Array, shape: number[], dtype: D, name: string): Tensor<D> => {
      const t = backend.fromArray(data as never, shape, dtype, { name }) as Tensor<D>;
      tensors.push(t);
      return t;
    };
    const conv = (o: { weight: Float32Array; bias: Float32Array; cout: number; cin: number; kernel: [number, number, number]; name: string; coutPadded?: number }): DeviceConv => {
      const taps = o.kernel[0] * o.kernel[1] * o.kernel[2];
      const rows = o.coutPadded ?? o.cout;
      const bias = new Float32Array(rows);
      bias.set(o.bias);
      return {
        weight: place(permuteConvWeight({ data: o.weight, cout: o.cout, cin: o.cin, taps, coutPadded: rows }), [rows, taps * o.cin], 'bf16', `${o.name}.weight`),
        bias: place(bias, [rows], 'f32', `${o.name}.bias`),
        kernel: o.kernel,
        cin: o.cin,
        cout: rows,
      };
    };
    const named = (name: string, cout: number, cin: number, kernel: [number, number, number]): DeviceConv =>
      conv({ weight: host(`${name}.weight`), bias: host(`${name}.bias`), cout, cin, kernel, name });
    const gamma = (name: string, dim: number): Tensor<'f32'> => place(host(name), [dim], 'f32', name);
    const residual = (spec: WanVaeResidualSpec): DeviceResidualBlock => {
      const p = spec.prefix;
      return {
        inDim: spec.inDim,
        outDim: spec.outDim,
        norm1: gamma(`${p}.residual.0.gamma`, spec.inDim),
        conv1: named(`${p}.residual.2`, spec.outDim, spec.inDim, [3, 3, 3]),
        norm2: gamma(`${p}.residual.3.gamma`, spec.outDim),
        conv2: named(`${p}.residual.6`, spec.outDim, spec.outDim, [3, 3, 3]),
        shortcut: spec.inDim === spec.outDim ? null : named(`${p}.shortcut`, spec.outDim, spec.inDim, [1, 1, 1]),
      };
    };
    const attention = (spec: WanVaeAttentionSpec): DeviceAttentionBlock => {
      const { prefix: p, dim } = spec;
      const qkv = host(`${p}.to_qkv.weight`);
      const qkvBias = host(`${p}.to_qkv.bias`);
      const part = (i: number, what: string) => ({
        weight: place(bf16(qkv.subarray(i * dim * dim, (i + 1) * dim * dim)), [dim, dim], 'bf16', `${p}.to_qkv.${what}.weight`),
        bias: place(bf16(qkvBias.subarray(i * dim, (i + 1) * dim)), [dim], 'bf16', `${p}.to_qkv.${what}.bias`),
      });
      return { dim, norm: gamma(`${p}.norm.gamma`, dim), q: part(0, 'q'), k: part(1, 'k'), v: part(2, 'v'), proj: named(`${p}.proj`, dim, dim, [1, 1, 1]) };
    };
    const resample = (spec: WanVaeResampleSpec): DeviceResample => {
      const { prefix: p, dim } = spec;
      let timeConv: [DeviceConv, DeviceConv] | null = null;
      if (spec.mode === 'upsample3d') {
        const w = host(`${p}.time_conv.weight`);
        const b = host(`${p}.time_conv.bias`);
        const half = (i: number): DeviceConv =>
          conv({ weight: w.subarray(i * dim * dim * 3, (i + 1) * dim * dim * 3), bias: b.subarray(i * dim, (i + 1) * dim), cout: dim, cin: dim, kernel: [3, 1, 1], name: `${p}.time_conv.${i}` });
        timeConv = [half(0), half(1)];
      }
      return { mode: spec.mode, dim, timeConv, conv: named(`${p}.resample.1`, dim / 2, dim, [1, 3, 3]) };
    };
    try {
      const d0 = layout.dims[0] as number;
      return new WanVaeDeviceWeights({
        backend,
        config,
        layout,
        conv2: { weight: host('conv2.weight').slice(), bias: host('conv2.bias').slice() },
        conv1: named('decoder.conv1', d0, layout.zDim, [3, 3, 3]),
        middle: [residual(layout.middle[0]), attention(layout.middle[1]), residual(layout.middle[2])],
        stages: layout.stages.map((stage) => ({ residuals: stage.residuals.map(residual), resample: stage.resample === null ? null : resample(stage.resample) })),
        headNorm: gamma('decoder.head.0.gamma', layout.headDim),
        headConv: conv({ weight: host('decoder.head.2.weight'), bias: host('decoder.head.2.bias'), cout: 3, cin: layout.headDim, kernel: [3, 3, 3], name: 'decoder.head.2', coutPadded: WAN_VAE_HEAD_PADDED_CHANNELS }),
        tensors,
      });
    } catch (e) {
      for (const t of tensors) t.dispose();
      throw e;
    }
  }

  dispose(): void {
    for (const t of this.#tensors) t.dispose();
    this.#tensors.length = 0;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
