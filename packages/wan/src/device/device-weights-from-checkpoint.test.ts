// WanDeviceWeights.fromCheckpoint (tensor by tensor from the file to the backend) against WanDeviceWeights.upload of
// loadWanWeights' host map: the same device tensors bit for bit, for every naming and stored dtype, the same forward;
// and its failures: each names the file and tensor, frees what was uploaded and closes the files.
import { readdirSync, truncateSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeBf16Array, encodeFp16Array, encodeFp8Array } from '@fpsattn/fp8';
import { type Backend, CpuBackend, type DType, type HostArrayOf, type Storage, type Tensor } from '@fpsattn/kernels';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WAN_CONFIG_PRESETS } from '../model/config';
import { wanConfigToJson } from '../model/config-json';
import { WanLoadAbortedError, WanTensorSetError, WanTensorShapeError } from '../model/errors';
import { type WanNaming, wanNameFromOriginal } from '../model/key-naming';
import { wanTensorSpecs } from '../model/keys';
import { loadWanWeights } from '../model/load-weights';
import { WAN_CHECKPOINT_FILE, writeSyntheticWanCheckpoint } from '../model/synthetic-checkpoint';
import { syntheticWanInputs } from '../model/synthetic-inputs';
import { syntheticWanWeights } from '../model/synthetic-weights';
import { CheckpointError, WAN_CHECKPOINT_ERROR_CODES } from '../safetensors/checkpoint-error';
import type { SafetensorsDtype } from '../safetensors/dtypes';
import { openCheckpoint } from '../safetensors/sharded';
import { type TensorToWrite, writeSafetensors } from '../safetensors/writer';
import { WanDeviceDit } from './device-forward';
import { WanDeviceWeights, wanTensorPlacement } from './device-weights';

const tiny = WAN_CONFIG_PRESETS['wan-tiny'];
const SEED = 4321;
const specs = wanTensorSpecs(tiny);

/** The CPU backend, counting live storages and recording the dtype of every upload. */
class CountingBackend extends CpuBackend {
  readonly storages: Storage[] = [];
  readonly uploads: { name: string; dtype: DType }[] = [];

  protected override createStorage(byteLength: number, name: string | undefined): Storage {
    const storage = super.createStorage(byteLength, name);
    this.storages.push(storage);
    return storage;
  }

  override fromArray<D extends DType>(data: HostArrayOf[D], shape: readonly number[], dtype: D, options?: { name?: string }): Tensor<D> {
    this.uploads.push({ name: options?.name ?? '', dtype });
    return super.fromArray(data, shape, dtype, options);
  }

  get live(): number {
    return this.storages.filter((s) => s.live).length;
  }
}

/** Open file descriptors of this process (Linux), to see that no file handle outlives a load. */
function openFds(): number | null {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return null;
  }
}

/** Stored dtypes cycled over the tensors of the mixed checkpoint: every conversion path of fromCheckpoint. */
const MIXED_DTYPES: readonly SafetensorsDtype[] = ['BF16', 'F16', 'F8_E4M3', 'F32', 'F8_E5M2', 'F64', 'BF16', 'F16'];

function encode(dtype: SafetensorsDtype, values: Float32Array): TensorToWrite['data'] {
  if (dtype === 'BF16') return encodeBf16Array({ input: values });
  if (dtype === 'F16') return encodeFp16Array({ input: values });
  if (dtype === 'F8_E4M3') return encodeFp8Array({ input: values, format: 'e4m3', saturate: true });
  if (dtype === 'F8_E5M2') return encodeFp8Array({ input: values, format: 'e5m2', saturate: true });
  if (dtype === 'F64') return Float64Array.from(values, (v) => v * (1 + 2 ** -40)); // F64 values that round in F32
  return values;
}

let dir: string;
const paths: Record<string, string> = {};

/** config.json and the tensors (original names, with `edit` applied) in `naming`, in one file or two shards with an index. */
async function writeCheckpoint(options: {
  name: string;
  naming: WanNaming;
  dtypeOf: (i: number) => SafetensorsDtype;
  sharded?: boolean;
  edit?: (tensors: Map<string, TensorToWrite>) => void;
}): Promise<string> {
  const folder = join(dir, options.name);
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, 'config.json'), wanConfigToJson({ config: tiny, naming: options.naming === 'diffusers' ? 'diffusers' : 'original' }));
  const weights = syntheticWanWeights({ config: tiny, seed: SEED });
  const tensors = new Map<string, TensorToWrite>(
    specs.map((s, i) => {
      const dtype = options.dtypeOf(i);
      return [s.name, { dtype, shape: s.shape, data: encode(dtype, weights.get(s.name) as Float32Array) }];
    }),
  );
  options.edit?.(tensors);
  const renamed = [...tensors].map(([name, t]): [string, TensorToWrite] => [wanNameFromOriginal({ name, naming: options.naming }) ?? name, t]);
  if (options.sharded !== true) {
    await writeSafetensors({ path: join(folder, WAN_CHECKPOINT_FILE), tensors: new Map(renamed) });
    return folder;
  }
  const half = Math.ceil(renamed.length / 2);
  const shards = [renamed.slice(0, half), renamed.slice(half)];
  const weightMap: Record<string, string> = {};
  for (const [s, shard] of shards.entries()) {
    const file = `diffusion_pytorch_model-0000${s + 1}-of-00002.safetensors`;
    await writeSafetensors({ path: join(folder, file), tensors: new Map(shard) });
    for (const [name] of shard) weightMap[name] = file;
  }
  await writeFile(join(folder, 'diffusion_pytorch_model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
  return folder;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wan-device-load-'));
  paths.original = (await writeSyntheticWanCheckpoint({ directory: join(dir, 'original'), config: tiny, seed: SEED })).directory;
  paths.diffusers = (await writeSyntheticWanCheckpoint({ directory: join(dir, 'diffusers'), config: tiny, seed: SEED, naming: 'diffusers' })).directory;
  paths.bf16 = await writeCheckpoint({ name: 'bf16', naming: 'original', dtypeOf: () => 'BF16' });
  paths.mixed = await writeCheckpoint({ name: 'mixed', naming: 'diffusers', dtypeOf: (i) => MIXED_DTYPES[i % MIXED_DTYPES.length] as SafetensorsDtype, sharded: true });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The bits of a device or host tensor. */
async function bitsOf(model: WanDeviceWeights, name: string): Promise<Uint8Array> {
  const placement = wanTensorPlacement(name);
  const data = placement === 'host' ? model.host(name) : await (placement === 'f32' ? model.f32(name) : model.bf16(name)).download();
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

async function expectSameWeights(actual: WanDeviceWeights, expected: WanDeviceWeights): Promise<void> {
  expect(actual.config).toEqual(expected.config);
  expect(actual.deviceBytes).toBe(expected.deviceBytes);
  for (const spec of specs) {
    const placement = wanTensorPlacement(spec.name);
    if (placement !== 'host') {
      const [a, e] = placement === 'f32' ? [actual.f32(spec.name), expected.f32(spec.name)] : [actual.bf16(spec.name), expected.bf16(spec.name)];
      expect(a.shape, spec.name).toEqual(e.shape);
    }
    expect(Buffer.from(await bitsOf(actual, spec.name)).equals(Buffer.from(await bitsOf(expected, spec.name))), spec.name).toBe(true);
  }
}

describe('WanDeviceWeights.fromCheckpoint (CPU backend, wan-tiny)', () => {
  it.each(['original', 'diffusers', 'bf16', 'mixed'])('%s checkpoint: the device tensors of upload(loadWanWeights) bit for bit', async (which) => {
    const path = paths[which] as string;
    const backend = new CountingBackend();
    const loaded = await loadWanWeights({ path });
    using expected = WanDeviceWeights.upload({ backend, config: loaded.config, weights: loaded.weights });
    const progress: [number, number, string, number][] = [];
    const fds = openFds();
    using actual = await WanDeviceWeights.fromCheckpoint({ backend, path, onProgress: (...args) => progress.push(args) });
    expect(openFds()).toBe(fds);
    await expectSameWeights(actual, expected);
    expect(progress.map((p) => p[0])).toEqual(specs.map((_, i) => i + 1));
    expect(progress.every((p) => p[1] === specs.length)).toBe(true);
    expect(progress.map((p) => p[2])).toEqual(specs.map((s) => s.name));
    await using checkpoint = await openCheckpoint(path);
    const storedBytes = [...checkpoint.tensors.values()].reduce((sum, t) => sum + t.byteLength, 0);
    expect(progress.reduce((sum, p) => sum + p[3], 0)).toBe(storedBytes);
  });

  it('uploads BF16 tensors in their stored dtype (converted on the device), F32 and host tensors as F32, no staging left', async () => {
    const backend = new CountingBackend();
    using model = await WanDeviceWeights.fromCheckpoint({ backend, path: paths.mixed as string });
    const dtypes = new Map(backend.uploads.map((u) => [u.name.replace(/ \(\w+\)$/, ''), u.dtype]));
    await using checkpoint = await openCheckpoint(paths.mixed as string);
    specs.forEach((spec, i) => {
      const placement = wanTensorPlacement(spec.name);
      const storedDtype = checkpoint.tensors.get(wanNameFromOriginal({ name: spec.name, naming: 'diffusers' }) as string)?.dtype as string;
      expect(storedDtype, spec.name).toBe(MIXED_DTYPES[i % MIXED_DTYPES.length]);
      if (placement === 'host') expect(dtypes.has(spec.name), spec.name).toBe(false);
      else if (placement === 'f32') expect(dtypes.get(spec.name), spec.name).toBe('f32');
      else {
        const expected = { BF16: 'bf16', F16: 'f16', F8_E4M3: 'e4m3', F8_E5M2: 'e5m2', F32: 'f32', F64: 'f32' }[storedDtype];
        expect(dtypes.get(spec.name), `${spec.name} stored ${storedDtype}`).toBe(expected);
      }
    });
    expect(new Set(dtypes.values())).toEqual(new Set(['bf16', 'f16', 'e4m3', 'e5m2', 'f32']));
    const deviceTensors = specs.filter((s) => wanTensorPlacement(s.name) !== 'host').length;
    expect(backend.live).toBe(deviceTensors); // the staged copies were freed
    model.dispose();
    expect(backend.live).toBe(0);
  });

  it('takes an opened checkpoint (left open) and a config, checked against config.json', async () => {
    const backend = new CountingBackend();
    await using checkpoint = await openCheckpoint(paths.original as string);
    using model = await WanDeviceWeights.fromCheckpoint({ backend, checkpoint, config: tiny });
    expect(model.config).toEqual(tiny);
    await expect(checkpoint.readAsFloat32('head.head.bias')).resolves.toBeInstanceOf(Float32Array);
    await expect(WanDeviceWeights.fromCheckpoint({ backend, checkpoint, config: { ...tiny, ffnDim: 1024 } })).rejects.toThrow(/config\.json/);
    expect(backend.live).toBe(specs.filter((s) => wanTensorPlacement(s.name) !== 'host').length);
  });

  it('equals upload() in a forward of WanDeviceDit bit for bit (mixed dtypes)', async () => {
    const backend = new CpuBackend();
    const latentShape = [16, 3, 8, 10];
    const loaded = await loadWanWeights({ path: paths.mixed as string });
    using expected = WanDeviceWeights.upload({ backend, config: tiny, weights: loaded.weights });
    using actual = await WanDeviceWeights.fromCheckpoint({ backend, path: paths.mixed as string });
    const inputs = syntheticWanInputs({ config: tiny, seed: SEED, latentShape, contextLength: 5 });
    const run = async (weights: WanDeviceWeights): Promise<Float32Array> => {
      const dit = new WanDeviceDit(weights);
      const text = dit.encodeText({ contexts: [{ values: inputs.context, length: 5 }] });
      try {
        const [out] = await dit.forward({ latents: [inputs.latents], latentShape, timestep: 777, text });
        return out as Float32Array;
      } finally {
        text.dispose();
      }
    };
    const [a, e] = [await run(actual), await run(expected)];
    expect(a.length).toBe(16 * 3 * 8 * 10);
    expect(a.some((v) => v !== 0)).toBe(true);
    expect(Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(e.buffer, e.byteOffset, e.byteLength))).toBe(true);
  });
});

describe('WanDeviceWeights.fromCheckpoint failures', () => {
  /** Runs a load expected to fail; checks that nothing stays allocated and no file stays open; returns the error. */
  async function failure(options: { path: string; backend?: CountingBackend; signal?: AbortSignal; onProgress?: (done: number) => void }): Promise<Error> {
    const backend = options.backend ?? new CountingBackend();
    const fds = openFds();
    const error = await WanDeviceWeights.fromCheckpoint({ backend, path: options.path, signal: options.signal, onProgress: options.onProgress }).then(
      () => new Error('loaded'),
      (e: unknown) => e as Error,
    );
    expect(backend.live).toBe(0);
    expect(openFds()).toBe(fds);
    return error;
  }

  it('a missing tensor: WanTensorSetError naming the checkpoint and the tensor (diffusers name), before any upload', async () => {
    const path = await writeCheckpoint({ name: 'missing', naming: 'diffusers', dtypeOf: () => 'BF16', edit: (t) => t.delete('blocks.1.ffn.2.weight') });
    const backend = new CountingBackend();
    const error = await failure({ path, backend });
    expect(error).toBeInstanceOf(WanTensorSetError);
    expect(error.message).toContain(path);
    expect(error.message).toContain('blocks.1.ffn.net.2.weight');
    expect(backend.uploads).toEqual([]);
  });

  it('a wrong shape: WanTensorShapeError naming the file and the tensor, before any upload', async () => {
    const path = await writeCheckpoint({
      name: 'shape',
      naming: 'original',
      dtypeOf: () => 'F16',
      edit: (t) => t.set('blocks.0.norm3.weight', { dtype: 'F16', shape: [255], data: new Uint16Array(255) }),
    });
    const backend = new CountingBackend();
    const error = await failure({ path, backend });
    expect(error).toBeInstanceOf(WanTensorShapeError);
    expect(error.message).toContain(join(path, WAN_CHECKPOINT_FILE));
    expect(error.message).toContain('"blocks.0.norm3.weight" has shape [255], expected [256]');
    expect(backend.uploads).toEqual([]);
  });

  it('a truncated file at open: a CheckpointError naming the file', async () => {
    const path = await writeCheckpoint({ name: 'truncated-open', naming: 'original', dtypeOf: () => 'BF16' });
    const file = join(path, WAN_CHECKPOINT_FILE);
    await truncate(file, (await stat(file)).size - 100);
    const error = await failure({ path });
    expect(error).toBeInstanceOf(CheckpointError);
    expect(error.message).toContain(`${file}: tensor "${(error as CheckpointError).tensor}"`);
    expect(specs.map((s) => s.name)).toContain((error as CheckpointError).tensor);
  });

  it('a file truncated while loading: TRUNCATED naming the file and the tensor; what was uploaded is freed', async () => {
    const path = await writeCheckpoint({ name: 'truncated-load', naming: 'original', dtypeOf: () => 'BF16' });
    const file = join(path, WAN_CHECKPOINT_FILE);
    const backend = new CountingBackend();
    const error = await failure({
      path,
      backend,
      onProgress: (done) => {
        if (done === 10) truncateSync(file, 1024);
      },
    });
    expect(backend.uploads.length).toBeGreaterThan(5);
    expect(error).toBeInstanceOf(CheckpointError);
    const e = error as CheckpointError;
    expect(e.code).toBe(WAN_CHECKPOINT_ERROR_CODES.TRUNCATED);
    expect(e.file).toBe(file);
    expect(specs.slice(10).map((s) => s.name)).toContain(e.tensor);
    expect(e.message).toContain(`${file}: tensor "${e.tensor}"`);
  });

  it('an abort: WanLoadAbortedError naming the checkpoint and the next tensor; what was uploaded is freed', async () => {
    const controller = new AbortController();
    const backend = new CountingBackend();
    const error = await failure({
      path: paths.diffusers as string,
      backend,
      signal: controller.signal,
      onProgress: (done) => {
        if (done === 7) controller.abort(new Error('user cancelled'));
      },
    });
    expect(error).toBeInstanceOf(WanLoadAbortedError);
    const e = error as WanLoadAbortedError;
    expect(e).toMatchObject({ source: paths.diffusers, done: 7, total: specs.length, tensor: wanNameFromOriginal({ name: (specs[7] as { name: string }).name, naming: 'diffusers' }) });
    expect((e.cause as Error).message).toBe('user cancelled');
    expect(backend.uploads.length).toBeGreaterThan(0);

    const before = new CountingBackend();
    const aborted = await failure({ path: paths.original as string, backend: before, signal: AbortSignal.abort() });
    expect(aborted).toBeInstanceOf(WanLoadAbortedError);
    expect(before.uploads).toEqual([]);
  });

  it('needs exactly one of path and checkpoint', async () => {
    const backend: Backend = new CpuBackend();
    await expect(WanDeviceWeights.fromCheckpoint({ backend } as never)).rejects.toThrow(/exactly one of path and checkpoint/);
  });
});
