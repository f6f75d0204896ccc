/**
 * The DiT's weights on a backend (CUDA or the CPU twin), in the dtypes the device forward uses (wan21-architecture.md
 * 1.7, the reference's precision map):
 * - every Linear weight of the blocks, the text MLP and the patch embedding (reshaped to [dim, inDim pt ph pw], the
 *   order patchify writes a token's features in) and the head Linear: BF16 (the reference's autocast GEMMs);
 * - the biases of BF16-output GEMMs: BF16 (autocast casts them too); the head's bias: F32 (its GEMM writes F32);
 * - RMSNorm weights and norm3's affine parameters: F32 (the norms run in fp32);
 * - the time MLPs, the block and head modulations: kept on the host in F32 (one [dim]-sized evaluation per step,
 *   fp32 in the reference: device-forward.ts computes them there).
 * Each tensor is uploaded as F32 and converted on the device (castToBf16), one at a time, so the host never holds more
 * than one tensor's F32 copy beyond what the source keeps.
 */
import { type Backend, type Tensor, castToBf16 } from '@fpsattn/kernels';
import type { WanConfig } from '../model/config';
import { WanTensorSetError, WanTensorShapeError } from '../model/errors';
import { wanTensorSpecs } from '../model/keys';

/** Where the weights come from: a loaded map (loadWanWeights, syntheticWanWeights) or a lazy reader of a checkpoint. */
export interface WanWeightSource {
  get(name: string): Float32Array | undefined;
}

/** Tensors kept on the host: evaluated once per step on [dim]-sized vectors. */
const HOST_ONLY = /^(time_embedding\.|time_projection\.|head\.modulation$|blocks\.\d+\.modulation$)/;
/** F32 on the device: the norms' parameters and the head's bias (its GEMM writes F32). */
const DEVICE_F32 = /(\.norm_[qk]\.weight|\.norm3\.(weight|bias)|^head\.head\.bias)$/;

export interface UploadWanWeightsOptions {
  backend: Backend;
  config: WanConfig;
  weights: WanWeightSource;
  /** Called after each tensor: (tensors done, total, its name). */
  onProgress?: (done: number, total: number, name: string) => void;
}

/** The DiT's weights on one backend. `dispose()` frees every device tensor. */
export class WanDeviceWeights implements Disposable {
  readonly backend: Backend;
  readonly config: WanConfig;
  readonly #bf16 = new Map<string, Tensor<'bf16'>>();
  readonly #f32 = new Map<string, Tensor<'f32'>>();
  readonly #host = new Map<string, Float32Array>();
  #disposed = false;

  private constructor(backend: Backend, config: WanConfig) {
    this.backend = backend;
    this.config = config;
  }

  /** Checks every tensor's presence and element count against `config`, then uploads them (see the file comment). */
  static upload(options: UploadWanWeightsOptions): WanDeviceWeights {
    const { backend, config, weights, onProgress } = options;
    const specs = wanTensorSpecs(config);
    const model = new WanDeviceWeights(backend, config);
    try {
      specs.forEach((spec, i) => {
        const values = weights.get(spec.name);
        if (values === undefined) throw new WanTensorSetError({ source: 'uploadWanWeights', what: 'the config', missing: [spec.name], unexpected: [] });
        const numel = spec.shape.reduce((a, b) => a * b, 1);
        if (!(values instanceof Float32Array) || values.length !== numel) {
          throw new WanTensorShapeError({
            source: 'uploadWanWeights',
            tensor: spec.name,
            expected: spec.shape,
            actual: [values instanceof Float32Array ? values.length : -1],
            rule: `${spec.symbolicShape}: a Float32Array of ${numel} values`,
          });
        }
        if (HOST_ONLY.test(spec.name)) model.#host.set(spec.name, values);
        else {
          // Linear weights are [out, in]; the patch embedding's 5-D weight is one [dim, inDim pt ph pw] GEMM operand.
          const shape = spec.shape.length > 2 ? [spec.shape[0] as number, numel / (spec.shape[0] as number)] : spec.shape;
          const staged = backend.fromArray(values, shape, 'f32', { name: `${spec.name} (f32)` });
          if (DEVICE_F32.test(spec.name)) model.#f32.set(spec.name, staged);
          else {
            try {
              model.#bf16.set(spec.name, castToBf16({ src: staged, name: spec.name }));
            } finally {
              staged.dispose();
            }
          }
        }
        onProgress?.(i + 1, specs.length, spec.name);
      });
    } catch (error) {
      model.dispose();
      throw error;
    }
    return model;
  }

  bf16(name: string): Tensor<'bf16'> {
    return this.#get(this.#bf16, name, 'a BF16 device');
  }

  f32(name: string): Tensor<'f32'> {
    return this.#get(this.#f32, name, 'an F32 device');
  }

  host(name: string): Float32Array {
    return this.#get(this.#host, name, 'a host');
  }

  /** Device bytes held. */
  get deviceBytes(): number {
    let bytes = 0;
    for (const t of [...this.#bf16.values(), ...this.#f32.values()]) bytes += t.byteLength;
    return bytes;
  }

  #get<T>(map: Map<string, T>, name: string, kind: string): T {
    if (this.#disposed) throw new Error(`WanDeviceWeights: used after dispose() (tensor ${name})`);
    const t = map.get(name);
    if (t === undefined) throw new Error(`WanDeviceWeights: ${name} is not ${kind} tensor of this model`);
    return t;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const t of this.#bf16.values()) t.dispose();
    for (const t of this.#f32.values()) t.dispose();
    this.#bf16.clear();
    this.#f32.clear();
    this.#host.clear();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

