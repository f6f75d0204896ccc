// The tokenizer and text encoder of a checkpoint are found in the layouts Wan2.1 ships: the original folder
// (google/umt5-xxl/tokenizer.json, models_t5_umt5-xxl-enc-bf16.pth) and the diffusers one (tokenizer/, text_encoder/).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/_errors';
import { findTextEncoder, findTokenizer } from '../../src/text/find-text-files';
import { useTmpDir } from '../helpers';

const tmp = useTmpDir();
afterAll(() => tmp.remove());
const touch = (path: string) => {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, '');
};

describe('findTokenizer / findTextEncoder', () => {
  it('finds google/umt5-xxl/tokenizer.json and the .pth in the original Wan2.1 folder, from the folder or its checkpoint file', async () => {
    const root = join(tmp.dir, 'Wan2.1-T2V-1.3B');
    touch(join(root, 'diffusion_pytorch_model.safetensors'));
    touch(join(root, 'google', 'umt5-xxl', 'tokenizer.json'));
    touch(join(root, 'models_t5_umt5-xxl-enc-bf16.pth'));
    for (const checkpoint of [root, join(root, 'diffusion_pytorch_model.safetensors')]) {
      expect(await findTokenizer({ checkpoint, tokenizer: undefined })).toEqual({ path: join(root, 'google', 'umt5-xxl', 'tokenizer.json'), found: 'next to the checkpoint' });
      expect(await findTextEncoder({ checkpoint, textEncoder: undefined })).toEqual({ path: join(root, 'models_t5_umt5-xxl-enc-bf16.pth'), found: 'next to the checkpoint' });
    }
  });

  it('finds tokenizer/tokenizer.json and text_encoder/ of a diffusers folder, given the folder or its transformer/', async () => {
    const root = join(tmp.dir, 'Wan2.1-T2V-1.3B-Diffusers');
    touch(join(root, 'transformer', 'config.json'));
    touch(join(root, 'tokenizer', 'tokenizer.json'));
    touch(join(root, 'text_encoder', 'config.json'));
    for (const checkpoint of [root, join(root, 'transformer')]) {
      expect((await findTokenizer({ checkpoint, tokenizer: undefined })).path).toBe(join(root, 'tokenizer', 'tokenizer.json'));
      expect((await findTextEncoder({ checkpoint, textEncoder: undefined })).path).toBe(join(root, 'text_encoder'));
    }
  });

  it('prefers --tokenizer / --text-encoder, and names every place it looked when nothing is there', async () => {
    const root = join(tmp.dir, 'bare');
    touch(join(root, 'diffusion_pytorch_model.safetensors'));
    touch(join(tmp.dir, 'elsewhere', 'tokenizer.json'));
    expect(await findTokenizer({ checkpoint: root, tokenizer: join(tmp.dir, 'elsewhere', 'tokenizer.json') })).toEqual({ path: join(tmp.dir, 'elsewhere', 'tokenizer.json'), found: '--tokenizer' });
    const error = await findTokenizer({ checkpoint: root, tokenizer: undefined }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toContain(join(root, 'google', 'umt5-xxl', 'tokenizer.json'));
    expect((error as Error).message).toContain(join(root, 'tokenizer', 'tokenizer.json'));
    await expect(findTextEncoder({ checkpoint: root, textEncoder: join(root, 'nope.pth') })).rejects.toThrow(/does not exist/);
  });
});
