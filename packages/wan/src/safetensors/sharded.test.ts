import { mkdir, open, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { expectAllClosed, rejection, tempDir } from './_test-helpers';
import { CheckpointError, WAN_CHECKPOINT_ERROR_CODES as CODES } from './checkpoint-error';
import { openCheckpoint } from './sharded';
import { type TensorToWrite, writeSafetensors } from './writer';

// Every FileHandle opened is recorded, so the tests can check that none leaks.
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return { ...actual, open: vi.fn(actual.open) };
});
const openMock = vi.mocked(open);

let dir: Awaited<ReturnType<typeof tempDir>>;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  await dir.remove();
});

const INDEX = 'diffusion_pytorch_model.safetensors.index.json';
const SHARD1 = 'diffusion_pytorch_model-00001-of-00002.safetensors';
const SHARD2 = 'diffusion_pytorch_model-00002-of-00002.safetensors';
const f32 = (...values: number[]): TensorToWrite => ({ dtype: 'F32', shape: [values.length], data: new Float32Array(values) });

/** Writes shards (name -> tensors) and an index (its weight_map by default the true one); returns the index path. */
async function sharded(options: { shards: Record<string, Record<string, TensorToWrite>>; weightMap?: Record<string, string>; index?: unknown; under?: string }): Promise<string> {
  const base = options.under === undefined ? dir.path : dir.file(options.under);
  await mkdir(base, { recursive: true });
  const weightMap: Record<string, string> = {};
  for (const [shard, tensors] of Object.entries(options.shards)) {
    await writeSafetensors({ path: `${base}/${shard}`, tensors });
    for (const name of Object.keys(tensors)) weightMap[name] = shard;
  }
  const index = `${base}/${INDEX}`;
  const content = options.index ?? { metadata: { total_size: 20 }, weight_map: options.weightMap ?? weightMap };
  await writeFile(index, typeof content === 'string' ? content : JSON.stringify(content));
  openMock.mockClear();
  return index;
}

const TWO_SHARDS = { [SHARD1]: { 'blocks.0.q': f32(1, 2), 'blocks.0.k': f32(3) }, [SHARD2]: { 'head.w': f32(4, 5) } };

describe('openCheckpoint', () => {
  it('opens a single .safetensors file', async () => {
    const path = dir.file('model.safetensors');
    await writeSafetensors({ path, tensors: { w: f32(1, 2) }, metadata: { format: 'pt' } });
    openMock.mockClear();
    const ckpt = await openCheckpoint(path);
    expect(ckpt).toMatchObject({ path, index: null, indexMetadata: {} });
    expect(ckpt.files.map((f) => f.path)).toEqual([path]);
    expect(ckpt.files[0]?.metadata).toEqual({ format: 'pt' });
    expect(ckpt.tensors.get('w')).toEqual({ dtype: 'F32', shape: [2], dataOffsets: [0, 8], byteLength: 8, file: path });
    expect(await ckpt.readAsFloat32('w')).toEqual(new Float32Array([1, 2]));
    await ckpt.close();
    expect(await expectAllClosed(openMock)).toBe(1);
  });

  it('opens a directory holding one .safetensors file', async () => {
    await writeSafetensors({ path: dir.file('only.safetensors'), tensors: { w: f32(7) } });
    await using ckpt = await openCheckpoint(dir.path);
    expect(ckpt.files.map((f) => f.path)).toEqual([dir.file('only.safetensors')]);
    expect(await ckpt.read('w')).toEqual(new Float32Array([7]));
  });

  it('opens the shards of an index and reads each tensor from its shard', async () => {
    const index = await sharded({ shards: TWO_SHARDS });
    const ckpt = await openCheckpoint(index);
    expect(ckpt).toMatchObject({ path: index, index, indexMetadata: { total_size: 20 } });
    expect(ckpt.files.map((f) => f.path)).toEqual([dir.file(SHARD1), dir.file(SHARD2)]);
    expect([...ckpt.tensors.keys()]).toEqual(['blocks.0.k', 'blocks.0.q', 'head.w']);
    expect(ckpt.tensors.get('head.w')?.file).toBe(dir.file(SHARD2));
    expect(await ckpt.readAsFloat32('blocks.0.q')).toEqual(new Float32Array([1, 2]));
    expect(await ckpt.read('head.w')).toEqual(new Float32Array([4, 5]));
    expect(await ckpt.readBytes('blocks.0.k')).toEqual(new Uint8Array(new Float32Array([3]).buffer));
    await ckpt.close();
    expect(await expectAllClosed(openMock)).toBe(2);
  });

  it('opens a directory through its index, even with another .safetensors file beside it', async () => {
    await sharded({ shards: TWO_SHARDS, under: 'transformer' });
    await writeSafetensors({ path: dir.file('transformer/stray.safetensors'), tensors: { x: f32(0) } });
    await using ckpt = await openCheckpoint(dir.file('transformer'));
    expect(ckpt.index).toBe(dir.file(`transformer/${INDEX}`));
    expect(ckpt.tensors.size).toBe(3);
  });

  it('takes shard names with ./ in the index', async () => {
    const index = await sharded({ shards: TWO_SHARDS, weightMap: { 'blocks.0.q': `./${SHARD1}`, 'blocks.0.k': SHARD1, 'head.w': SHARD2 } });
    await using ckpt = await openCheckpoint(index);
    expect(ckpt.files).toHaveLength(2);
  });

  it('rejects reads of unknown tensors and reads after close', async () => {
    const index = await sharded({ shards: TWO_SHARDS });
    const ckpt = await openCheckpoint(index);
    expect(await rejection(ckpt.read('nope'))).toMatchObject({ code: CODES.UNKNOWN_TENSOR, message: `${index}: tensor "nope" is not in the checkpoint (it holds 3 tensors)` });
    await ckpt[Symbol.asyncDispose]();
    await ckpt.close();
    expect(await rejection(ckpt.readAsFloat32('head.w'))).toMatchObject({ code: CODES.CLOSED, message: `${index}: tensor "head.w" cannot be read: the checkpoint was closed` });
    expect(await expectAllClosed(openMock)).toBe(2);
  });
});

describe('openCheckpoint rejects', () => {
  async function expectRejected(path: string, code: string, message: string | RegExp, handles = 0): Promise<CheckpointError> {
    openMock.mockClear();
    const error = await rejection(openCheckpoint(path));
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as CheckpointError).code).toBe(code);
    if (typeof message === 'string') expect(error.message).toBe(message);
    else expect(error.message).toMatch(message);
    expect(await expectAllClosed(openMock)).toBe(handles);
    return error as CheckpointError;
  }

  it('a path that does not exist', async () => {
    const path = dir.file('nothing');
    await expectRejected(path, CODES.NOT_FOUND, `${path}: cannot open the checkpoint: no such file`);
  });

  it('a directory with no checkpoint', async () => {
    await expectRejected(dir.path, CODES.NOT_FOUND, `${dir.path}: the directory holds no .safetensors file and no *.safetensors.index.json`);
  });

  it('a directory with several .safetensors files and no index', async () => {
    await writeSafetensors({ path: dir.file(SHARD1), tensors: {} });
    await writeSafetensors({ path: dir.file(SHARD2), tensors: {} });
    await expectRejected(
      dir.path,
      CODES.NOT_FOUND,
      `${dir.path}: the directory holds 2 .safetensors files and no *.safetensors.index.json mapping tensors to them: pass one file, or add the index`,
    );
  });

  it('a directory with two indexes', async () => {
    await writeFile(dir.file('a.safetensors.index.json'), '{}');
    await writeFile(dir.file('b.safetensors.index.json'), '{}');
    await expectRejected(dir.path, CODES.NOT_FOUND, `${dir.path}: the directory holds 2 indexes (a.safetensors.index.json, b.safetensors.index.json): pass the path of one`);
  });

  it('a shard the index names but that is absent, closing the shards it opened', async () => {
    const index = await sharded({ shards: { [SHARD1]: TWO_SHARDS[SHARD1] }, weightMap: { 'blocks.0.q': SHARD1, 'blocks.0.k': SHARD1, 'head.w': SHARD2 } });
    const error = await expectRejected(index, CODES.SHARD_MISSING, `${index}: the shard "${SHARD2}" is absent (weight_map puts 1 tensor in it)`, 1);
    expect((error.cause as CheckpointError).code).toBe(CODES.NOT_FOUND);
  });

  it('a tensor the index lists but its shard lacks', async () => {
    const index = await sharded({ shards: TWO_SHARDS, weightMap: { 'blocks.0.q': SHARD1, 'blocks.0.k': SHARD1, 'blocks.0.v': SHARD1, 'head.w': SHARD2 } });
    await expectRejected(index, CODES.TENSOR_MISSING, `${dir.file(SHARD1)}: tensor "blocks.0.v" is missing: ${INDEX} lists it in this shard`, 2);
  });

  it('a tensor the index puts in the wrong shard', async () => {
    const index = await sharded({ shards: TWO_SHARDS, weightMap: { 'blocks.0.q': SHARD1, 'blocks.0.k': SHARD2, 'head.w': SHARD2 } });
    await expectRejected(index, CODES.TENSOR_MISSING, `${dir.file(SHARD2)}: tensor "blocks.0.k" is missing: ${INDEX} lists it in this shard (it is in ${dir.file(SHARD1)})`, 2);
  });

  it('a tensor present in two shards', async () => {
    const index = await sharded({
      shards: { [SHARD1]: TWO_SHARDS[SHARD1], [SHARD2]: { ...TWO_SHARDS[SHARD2], 'blocks.0.q': f32(1, 2) } },
      weightMap: { 'blocks.0.q': SHARD1, 'blocks.0.k': SHARD1, 'head.w': SHARD2 },
    });
    await expectRejected(index, CODES.DUPLICATE_TENSOR, `${dir.file(SHARD2)}: tensor "blocks.0.q" is also in ${dir.file(SHARD1)}: a tensor must be in one shard only`, 2);
  });

  it('a shard holding a tensor the index does not list', async () => {
    const index = await sharded({ shards: TWO_SHARDS, weightMap: { 'blocks.0.q': SHARD1, 'head.w': SHARD2 } });
    await expectRejected(index, CODES.INVALID_INDEX, `${index}: tensor "blocks.0.k" of shard ${dir.file(SHARD1)} is not in weight_map`, 2);
  });

  it('a corrupt shard, naming it, and closes the others', async () => {
    const index = await sharded({ shards: TWO_SHARDS });
    await writeFile(dir.file(SHARD2), new Uint8Array(3));
    openMock.mockClear();
    await expectRejected(index, CODES.TRUNCATED, `${dir.file(SHARD2)}: truncated: the file holds 3 bytes, fewer than the 8-byte header length every safetensors file starts with`, 2);
  });

  it.each([
    ['not JSON', '{"weight_map":', /: the index is not valid JSON \(.+\)$/],
    ['not an object', '[1]', ': the index is [1], expected an object with a weight_map'],
    ['without a weight_map', '{"metadata":{}}', ': weight_map is undefined, expected an object mapping tensor names to shard files'],
    ['with a metadata that is not an object', '{"metadata":1,"weight_map":{}}', ': metadata is 1, expected an object'],
    ['mapping a tensor to a number', '{"weight_map":{"a":3}}', ': tensor "a" maps to 3 in weight_map, expected a shard file name'],
    ['mapping a tensor outside its directory', '{"weight_map":{"a":"../x.safetensors"}}', ': tensor "a" maps to "../x.safetensors" in weight_map, outside the index\'s directory'],
    ['mapping a tensor to an absolute path', '{"weight_map":{"a":"/etc/x.safetensors"}}', ': tensor "a" maps to "/etc/x.safetensors" in weight_map, outside the index\'s directory'],
    ['listing a tensor twice', '{"weight_map":{"a":"x.safetensors","a":"y.safetensors"}}', ': the index repeats the key "a" in weight_map'],
  ])('an index %s', async (_, content, rule) => {
    const index = await sharded({ shards: {}, index: content });
    await expectRejected(index, CODES.INVALID_INDEX, typeof rule === 'string' ? `${index}${rule}` : new RegExp(`^${index.replace(/[.]/g, '\\.')}${rule.source}`));
  });
});
