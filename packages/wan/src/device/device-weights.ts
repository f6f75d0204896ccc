/**
 * The DiT's weights on a backend (CUDA or the CPU twin), in the dtypes the device forward uses (wan21-architecture.md
 * 1.7, the reference's precision map):
 * - every Linear weight of the blocks, the text MLP and the patch embedding (reshaped to [dim, inDim pt ph pw], the
 *   order patchify writes a token's features in) and the head Linear: BF16 (the reference's autocast GEMMs);
 * - the biases of BF16-output GEMMs: BF16 (autocast casts them too); the head's bias: F32 (its GEMM writes F32);
 * - RMSNorm weights and norm3's affine parameters: F32 (the norms run in fp32);
 * - the time MLPs, the block and head modulations: kept on the host in F32 (one [dim]-sized evaluation per step,
 *   fp32 in the reference: device-forward.ts computes them there).
 * `upload` takes F32 values from the host (a loaded map); `fromCheckpoint` reads a checkpoint tensor by tensor (one
 * positioned read of its bytes each) and uploads what castToBf16 converts in its stored dtype (F32, F16, BF16, FP8),
 * converting on the device; the F32 device tensors and the host ones are widened to F32 on the host (exactly, for every
 * stored dtype but F64, which rounds as torch's `.float()`). Either way one tensor is placed at a time, so the host
 * never holds more than one tensor's copy (two while `fromCheckpoint` reads the next one) beyond what the source keeps.
 */
import { type Backend, type CastSourceDType, type HostArrayOf, type Tensor, castToBf16 } from '@fpsattn/kernels';
import type { WanConfig } from '../model/config';
import { WanInputError, WanLoadAbortedError, WanTensorSetError, WanTensorShapeError } from '../model/errors';
import { type WanTensorSpec, wanTensorSpecs } from '../model/keys';
import { prepareWanCheckpoint } from '../model/load-weights';
import type { SafetensorsDtype } from '../safetensors/dtypes';
import { type Checkpoint, openCheckpoint } from '../safetensors/sharded';

/** Where the weights come from: a loaded map (loadWanWeights, syntheticWanWeights) or a lazy reader of a checkpoint. */
export interface WanWeightSource {
  get(name: string): Float32Array | undefined;
}

/** Tensors kept on the host: evaluated once per step on [dim]-sized vectors. */
const HOST_ONLY = /^(time_embedding\.|time_projection\.|head\.modulation$|blocks\.\d+\.modulation$)/;
/** F32 on the device: the norms' parameters and the head's bias (its GEMM writes F32). */
const DEVICE_F32 = /(\.norm_[qk]\.weight|\.norm3\.(weight|bias)|^head\.head\.bias)$/;

/** Where a tensor (by original name) lives: on the host in F32, on the device in F32, or on the device in BF16. */
export type WanTensorPlacement = 'host' | 'f32' | 'bf16';

export function wanTensorPlacement(name: string): WanTensorPlacement {
  return HOST_ONLY.test(name) ? 'host' : DEVICE_F32.test(name) ? 'f32' : 'bf16';
}

/** The stored dtypes castToBf16 converts on the device, and their kernel dtype. */
const CAST_SOURCE: Partial<Record<SafetensorsDtype, CastSourceDType>> = { F32: 'f32', F16: 'f16', BF16: 'bf16', F8_E4M3: 'e4m3', F8_E5M2: 'e5m2' };

/** One tensor's values on the host, in a dtype castToBf16 takes (F32 values, FP16 / BF16 bits, FP8 codes). */
type StagedValues = { [D in CastSourceDType]: { readonly dtype: D; readonly data: HostArrayOf[D] } }[CastSourceDType];

/** Called after each tensor: (tensors done, total, its original name, the bytes read or given for it). */
export type WanWeightsProgress = (done: number, total: number, name: string, bytes: number) => void;

export interface UploadWanWeightsOptions {
  backend: Backend;
  config: WanConfig;
  weights: WanWeightSource;
  /** Called after each tensor; `bytes` is its F32 byte length. */
  onProgress?: WanWeightsProgress;
}

interface FromCheckpointCommon {
  backend: Backend;
  /** The model; when given, a config.json next to the checkpoint (if any) must agree. Default: that config.json. */
  config?: WanConfig;
  /** Called after each tensor; `bytes` is what was read from the file for it (its stored size). */
  onProgress?: WanWeightsProgress;
  /** Checked before each tensor: when it has fired, what was uploaded is freed and a WanLoadAbortedError thrown. */
  signal?: AbortSignal;
}

/**
 * `path`: a `.safetensors` file, a `*.safetensors.index.json` or a folder holding one (opened and closed here); or
 * `checkpoint`: one opened by the caller with openCheckpoint (left open; its path locates config.json).
 */
export type WanDeviceWeightsFromCheckpointOptions = FromCheckpointCommon &
  ({ path: string; checkpoint?: undefined } | { checkpoint: Checkpoint; path?: undefined });

/** Reads one tensor for its placement: in its stored dtype when it goes to BF16 and castToBf16 takes that dtype, else as F32. */
async function readStaged(checkpoint: Checkpoint, stored: string, placement: WanTensorPlacement): Promise<StagedValues> {
  const info = checkpoint.tensors.get(stored);
  const dtype = placement === 'bf16' && info !== undefined ? CAST_SOURCE[info.dtype] : undefined;
  if (dtype === undefined || dtype === 'f32') return { dtype: 'f32', data: await checkpoint.readAsFloat32(stored) };
  return { dtype, data: await checkpoint.read(stored) } as StagedValues;
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
        model.#place(spec, { dtype: 'f32', data: values });
        onProgress?.(i + 1, specs.length, spec.name, values.byteLength);
      });
    } catch (error) {
      model.dispose();
      throw error;
    }
    return model;
  }

  /**
   * Loads a checkpoint straight to `backend` without holding the model on the host. First, before any data is read,
   * the config (`config`, or the config.json next to the checkpoint), the naming (original, diffusers, ComfyUI), every
   * tensor's name, shape and dtype are checked (`prepareWanCheckpoint`, as loadWanWeights does); then each tensor is
   * read with one positioned read of its bytes (the next one read while the current one is placed) and placed as
   * `upload` places it: BF16 tensors uploaded in their stored dtype and converted on the device (F64: rounded to F32 on
   * the host first), F32 device tensors and host tensors widened to F32 on the host. The result equals `upload` of
   * loadWanWeights' map bit for bit. Any failure (a read error names the file and tensor) or an abort frees what was
   * uploaded and closes the files opened here.
   */
  static async fromCheckpoint(options: WanDeviceWeightsFromCheckpointOptions): Promise<WanDeviceWeights> {
    const caller = 'WanDeviceWeights.fromCheckpoint';
    if ((options.path === undefined) === (options.checkpoint === undefined)) {
      throw new WanInputError({ input: 'path', value: options.path, rule: 'expected exactly one of path and checkpoint', caller });
    }
    const checkpoint = options.checkpoint ?? (await openCheckpoint(options.path as string));
    const close = options.checkpoint === undefined ? () => checkpoint.close() : () => Promise.resolve();
    let model: WanDeviceWeights;
    try {
      model = await WanDeviceWeights.#load(checkpoint, options);
    } catch (error) {
      await close().catch(() => undefined); // the first error is the one to report
      throw error;
    }
    try {
      await close();
    } catch (error) {
      model.dispose();
      throw error;
    }
    return model;
  }

  static async #load(checkpoint: Checkpoint, options: FromCheckpointCommon): Promise<WanDeviceWeights> {
    const { backend, onProgress, signal } = options;
    const source = checkpoint.path;
    const { config, checked } = await prepareWanCheckpoint({ checkpoint, path: source, config: options.config });
    const { specs, names } = checked;
    const storedName = (i: number): string => names.get((specs[i] as WanTensorSpec).name) as string;
    const read = (i: number): Promise<StagedValues> => {
      const pending = readStaged(checkpoint, storedName(i), wanTensorPlacement((specs[i] as WanTensorSpec).name));
      pending.catch(() => undefined); // awaited below (or dropped after another error): never an unhandled rejection
      return pending;
    };
    const model = new WanDeviceWeights(backend, config);
    let next = specs.length > 0 ? read(0) : null;
    try {
      for (let i = 0; i < specs.length; i++) {
        if (signal?.aborted) throw new WanLoadAbortedError({ source, tensor: storedName(i), done: i, total: specs.length, reason: signal.reason });
        const values = await (next as Promise<StagedValues>);
        next = i + 1 < specs.length ? read(i + 1) : null;
        const spec = specs[i] as WanTensorSpec;
        model.#place(spec, values);
        onProgress?.(i + 1, specs.length, spec.name, checkpoint.tensors.get(storedName(i))?.byteLength ?? values.data.byteLength);
      }
    } catch (error) {
      model.dispose();
      throw error;
    } finally {
      await next?.catch(() => undefined); // no read outlives the call (the caller may close the files next)
    }
    return model;
  }

  /** Places one tensor (see the file comment); the maps own what it allocates before anything else can throw. */
  #place(spec: WanTensorSpec, values: StagedValues): void {
    const placement = wanTensorPlacement(spec.name);
    if (placement !== 'bf16' && values.dtype !== 'f32') throw new Error(`WanDeviceWeights: ${spec.name} must be staged as F32, got ${values.dtype}`);
    if (placement === 'host') {
      this.#host.set(spec.name, values.data as Float32Array);
      return;
    }
    // Linear weights are [out, in]; the patch embedding's 5-D weight is one [dim, inDim pt ph pw] GEMM operand.
    const numel = spec.shape.reduce((a, b) => a * b, 1);
    const shape = spec.shape.length > 2 ? [spec.shape[0] as number, numel / (spec.shape[0] as number)] : spec.shape;
    const staged = this.backend.fromArray(values.data, shape, values.dtype, { name: `${spec.name} (${values.dtype})` }) as Tensor<CastSourceDType>;
    if (placement === 'f32') {
      this.#f32.set(spec.name, staged as Tensor<'f32'>);
      return;
    }
    try {
      this.#bf16.set(spec.name, castToBf16({ src: staged, name: spec.name }));
    } finally {
      staged.dispose();
    }
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

