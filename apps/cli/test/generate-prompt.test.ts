// `fpsattn generate --prompt`: prompt -> tokenizer -> umT5 encoder (CPU) -> cached embeddings -> DiT -> VAE -> mp4, on the
// built-in tiny models and on a diffusers-layout tiny checkpoint folder; bad text inputs as one-line errors. The token
// ids are checked against the Python reference's (test/fixtures/tokenizer/reference-token-ids.json).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  UMT5_CONFIG_PRESETS,
  WAN_CONFIG_PRESETS,
  openSafetensors,
  syntheticUmt5Weights,
  umt5DiffusersNames,
  umt5EncodeCpu,
  umt5TensorSpecs,
  writeSafetensors,
  writeSyntheticWanCheckpoint,
} from '@fpsattn/wan';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WAN_NEGATIVE_PROMPT } from '../src/text/encode-prompts';
import { syntheticTokenizerJson } from '../src/text/synthetic-tokenizer';
import { FIXTURES, expectOneLineError, runCli, useTmpDir } from './helpers';

const SMALL = ['--width', '64', '--height', '64', '--frames', '5', '--steps', '2'];
const ffmpeg = spawnSync('ffmpeg', ['-hide_banner', '-version'], { encoding: 'utf8' }).status === 0;
const ffprobe = spawnSync('ffprobe', ['-hide_banner', '-version'], { encoding: 'utf8' }).status === 0;
const videoTools = ffmpeg && ffprobe;
if (!videoTools) console.warn('generate-prompt.test.ts: ffmpeg/ffprobe not found on PATH (apt-get install -y ffmpeg): the prompt-to-mp4 test is skipped');

const referencePath = join(FIXTURES, 'tokenizer', 'reference-token-ids.json');
const reference = existsSync(referencePath) ? (JSON.parse(readFileSync(referencePath, 'utf8')) as { cases: { prompt: string; variants: { base: { ids_16: number[] } } }[] }) : null;
if (reference === null) console.warn(`generate-prompt.test.ts: ${referencePath} is absent: the token ids are not compared with the Python reference`);
const referenceIds16 = (prompt: string) => reference?.cases.find((c) => c.prompt === prompt)?.variants.base.ids_16;

/** The embedding tensor and ids of each cache file in `dir`, by cleaned text. */
async function readCache(dir: string): Promise<Map<string, { ids: number[]; values: Float32Array; shape: readonly number[] }>> {
  const out = new Map<string, { ids: number[]; values: Float32Array; shape: readonly number[] }>();
  for (const name of readdirSync(dir)) {
    const file = await openSafetensors(join(dir, name));
    try {
      out.set(file.metadata.text as string, { ids: JSON.parse(file.metadata.ids as string), values: await file.readAsFloat32('embedding'), shape: file.tensors.get('embedding')?.shape ?? [] });
    } finally {
      await file.close();
    }
  }
  return out;
}

async function latentsOf(path: string): Promise<Float32Array> {
  const file = await openSafetensors(path);
  try {
    return await file.readAsFloat32('latents');
  } finally {
    await file.close();
  }
}

function probe(path: string): { width: number; height: number; r_frame_rate: string; nb_read_frames: string } {
  const r = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_frames', '-show_entries', 'stream=width,height,r_frame_rate,nb_read_frames', '-of', 'json', path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffprobe failed on ${path}: ${r.stderr}`);
  return JSON.parse(r.stdout).streams[0];
}

describe('fpsattn generate --prompt', () => {
  let tmp: ReturnType<typeof useTmpDir>;
  beforeAll(() => {
    tmp = useTmpDir();
  });
  afterAll(() => tmp.remove());

  it.skipIf(!videoTools)('turns a prompt into an mp4 on the tiny models (CPU), then reuses the cached embeddings', async () => {
    const cache = join(tmp.dir, 'cache');
    const out = join(tmp.dir, 'fox', 'fox.safetensors');
    const r = runCli(['generate', ...SMALL, '--prompt', 'a red fox', '--cache-dir', cache, '--out', out, '--progress', 'lines', '--json'], { env: { FPSATTN_CACHE_DIR: '' } });
    expect(r.code, r.stderr).toBe(0);
    const manifest = JSON.parse(r.stdout);
    expect(manifest.embeddings).toMatchObject({
      source: 'prompt',
      prompt: 'a red fox',
      negativePrompt: WAN_NEGATIVE_PROMPT,
      negativeSource: 'default (Wan)',
      maxLength: WAN_CONFIG_PRESETS['wan-tiny'].textLen,
      tokenizer: { found: 'built-in', vocabSize: 512 },
      encoder: { kind: 'built-in', name: 'umt5-tiny', device: 'cpu' },
      cache: { dir: cache, prompt: 'miss', negative: 'miss' },
      truncated: { prompt: 0 },
    });
    for (const stage of ['tokenize', 'textEncode', 'load', 'sample', 'decode', 'encode']) expect(manifest.timing.stagesS[stage], stage).toBeGreaterThan(0);
    // Progress: one line per text stage with its time.
    const n = manifest.embeddings.promptTokens as number;
    expect(r.stderr).toMatch(new RegExp(`^text: tokenized the prompt \\(${n} tokens\\) and the default negative prompt \\(Wan's\\) \\(16 tokens\\) with .* in \\d+\\.\\d{3} s$`, 'm'));
    expect(r.stderr).toMatch(new RegExp(`^text: encoded the prompt \\(${n} tokens\\) with built-in umt5-tiny \\(synthetic\\) on the CPU in \\d+\\.\\d+ s$`, 'm'));
    expect(r.stderr).toMatch(/^text: the negative prompt is \d+ tokens past the model's 16: truncated to 16/m);

    // The cache holds each text's ids (the Python reference's) and the encoder's output for them.
    const cached = await readCache(cache);
    expect(cached.size).toBe(2);
    const fox = cached.get('a red fox');
    expect(fox?.ids).toHaveLength(manifest.embeddings.promptTokens);
    const refIds = referenceIds16('a red fox');
    if (refIds) expect(fox?.ids).toEqual(refIds);
    const negative = [...cached.values()].find((e) => e !== fox);
    const refNegative = referenceIds16(WAN_NEGATIVE_PROMPT);
    if (refNegative) expect(negative?.ids).toEqual(refNegative);
    expect(negative?.ids.at(-1)).toBe(1); // </s> kept by the truncation
    const config = UMT5_CONFIG_PRESETS['umt5-tiny'];
    const expected = umt5EncodeCpu({ weights: syntheticUmt5Weights({ config, seed: 1 }), config, tokenIds: Int32Array.from(fox?.ids ?? []), length: fox?.ids.length ?? 0 });
    expect(fox?.shape).toEqual([fox?.ids.length, config.dim]);
    expect(fox?.values).toEqual(expected);

    const stream = probe(join(tmp.dir, 'fox', 'fox.mp4'));
    expect(stream).toMatchObject({ width: 64, height: 64, r_frame_rate: '16/1', nb_read_frames: '5' });

    // Second run: both texts from the cache, the same latents.
    const out2 = join(tmp.dir, 'fox', 'again.safetensors');
    const r2 = runCli(['generate', ...SMALL, '--prompt', '  a   red fox ', '--cache-dir', cache, '--out', out2, '--no-decode', '--json']);
    expect(r2.code, r2.stderr).toBe(0);
    expect(JSON.parse(r2.stdout).embeddings.cache).toEqual({ dir: cache, prompt: 'hit', negative: 'hit' });
    expect(await latentsOf(out2)).toEqual(await latentsOf(out));
    expect(readdirSync(cache)).toHaveLength(2);

    // A new prompt: its own entry, the default negative prompt still cached; a given negative prompt is used.
    const r3 = runCli(['generate', ...SMALL, '--prompt', 'the quick brown fox', '--negative-prompt', 'blurry, static', '--cache-dir', cache, '--out', join(tmp.dir, 'q.safetensors'), '--no-decode', '--json']);
    expect(r3.code, r3.stderr).toBe(0);
    const m3 = JSON.parse(r3.stdout).embeddings;
    expect(m3).toMatchObject({ negativePrompt: 'blurry, static', negativeSource: '--negative-prompt', cache: { prompt: 'miss', negative: 'miss' } });
    expect(await latentsOf(join(tmp.dir, 'q.safetensors'))).not.toEqual(await latentsOf(out));
    const r4 = runCli(['generate', ...SMALL, '--prompt', 'the quick brown fox', '--negative-prompt', '', '--cache-dir', cache, '--out', join(tmp.dir, 'q2.safetensors'), '--no-decode', '--json']);
    expect(JSON.parse(r4.stdout).embeddings).toMatchObject({ negativeSource: 'default (Wan)', cache: { prompt: 'hit', negative: 'hit' } });
  });

  it('--no-cache writes no cache; the prompt changes the latents', async () => {
    const cache = join(tmp.dir, 'unused-cache');
    const a = runCli(['generate', ...SMALL, '--prompt', 'a red fox', '--no-cache', '--no-decode', '--out', join(tmp.dir, 'nc-a.safetensors'), '--json'], { env: { FPSATTN_CACHE_DIR: cache } });
    const b = runCli(['generate', ...SMALL, '--prompt', 'a blue cat', '--no-cache', '--no-decode', '--out', join(tmp.dir, 'nc-b.safetensors'), '--json'], { env: { FPSATTN_CACHE_DIR: cache } });
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(JSON.parse(a.stdout).embeddings.cache).toEqual({ dir: null, prompt: 'off', negative: 'off' });
    expect(existsSync(cache)).toBe(false);
    expect(await latentsOf(join(tmp.dir, 'nc-a.safetensors'))).not.toEqual(await latentsOf(join(tmp.dir, 'nc-b.safetensors')));
  });

  it('runs a diffusers-layout checkpoint folder from a prompt: tokenizer/ and text_encoder/ found next to transformer/', async () => {
    const root = join(tmp.dir, 'Wan-tiny-Diffusers');
    await writeSyntheticWanCheckpoint({ directory: join(root, 'transformer'), config: WAN_CONFIG_PRESETS['wan-tiny'], seed: 1, naming: 'diffusers' });
    mkdirSync(join(root, 'tokenizer'), { recursive: true });
    writeFileSync(join(root, 'tokenizer', 'tokenizer.json'), JSON.stringify(syntheticTokenizerJson()));
    const config = UMT5_CONFIG_PRESETS['umt5-tiny'];
    const weights = syntheticUmt5Weights({ config, seed: 3 });
    const names = umt5DiffusersNames(config);
    mkdirSync(join(root, 'text_encoder'), { recursive: true });
    await writeSafetensors({
      path: join(root, 'text_encoder', 'model.safetensors'),
      tensors: Object.fromEntries(umt5TensorSpecs(config).map(({ name, shape }) => [names.get(name) as string, { dtype: 'F32' as const, shape, data: weights.get(name) as Float32Array }])),
    });
    writeFileSync(
      join(root, 'text_encoder', 'config.json'),
      JSON.stringify({ d_model: config.dim, d_kv: config.dimAttn / config.numHeads, d_ff: config.dimFfn, num_heads: config.numHeads, num_layers: config.numLayers, vocab_size: config.vocabSize, feed_forward_proj: 'gated-gelu', relative_attention_num_buckets: 32, relative_attention_max_distance: 128, layer_norm_epsilon: 1e-6 }),
    );
    const cache = join(tmp.dir, 'ckpt-cache');
    const r = runCli(['generate', '--checkpoint', join(root, 'transformer'), ...SMALL, '--prompt', 'a red fox', '--cache-dir', cache, '--out', join(tmp.dir, 'ckpt.safetensors'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const m = JSON.parse(r.stdout);
    expect(m.embeddings.tokenizer).toMatchObject({ path: join(root, 'tokenizer', 'tokenizer.json'), found: 'next to the checkpoint' });
    expect(m.embeddings.encoder).toMatchObject({ kind: 'file', path: join(root, 'text_encoder'), config: expect.objectContaining({ dim: 32 }) });
    const fox = (await readCache(cache)).get('a red fox');
    expect(fox?.values).toEqual(umt5EncodeCpu({ weights, config, tokenIds: Int32Array.from(fox?.ids ?? []), length: fox?.ids.length ?? 0 }));
    expect(m.decode.status).toBe('skipped');
  });

  it.each([
    [['--prompt', '   '], 2, /--prompt "   " is empty after Wan's cleaning/],
    [['--prompt', 'x', '--embeddings', 'e.safetensors'], 2, /--prompt and --embeddings both given/],
    [['--negative-prompt', 'x'], 2, /--negative-prompt needs --prompt/],
    [['--prompt', 'x', '--tokenizer', 'no-such-tokenizer.json'], 2, /tokenizer no-such-tokenizer\.json does not exist/],
  ])('rejects %j with exit %i and one line', (args, code, message) => {
    const r = runCli(['generate', ...SMALL, '--no-decode', '--no-cache', '--out', join(tmp.dir, 'bad.safetensors'), ...args]);
    expect(r.code).toBe(code);
    expect(expectOneLineError(r, 'generate')).toMatch(message);
  });

  it('a corrupt tokenizer.json is one line naming the file, exit 1', () => {
    const bad = join(tmp.dir, 'bad-tokenizer');
    mkdirSync(bad, { recursive: true });
    writeFileSync(join(bad, 'tokenizer.json'), '{"model": {"type": "Unigram", "vocab": [["a", -1.0]], "unk_id": 5}');
    const notJson = runCli(['generate', ...SMALL, '--no-decode', '--no-cache', '--prompt', 'x', '--tokenizer', join(bad, 'tokenizer.json'), '--out', join(tmp.dir, 'bad.safetensors')]);
    expect(notJson.code).toBe(1);
    expect(expectOneLineError(notJson, 'generate')).toMatch(/tokenizer .*tokenizer\.json: is not valid JSON/);
    writeFileSync(join(bad, 'tokenizer.json'), JSON.stringify({ ...syntheticTokenizerJson(), normalizer: { type: 'Precompiled', precompiled_charsmap: 'AAAAAA==' } }));
    const badCharsmap = runCli(['generate', ...SMALL, '--no-decode', '--no-cache', '--prompt', 'x', '--tokenizer', bad, '--out', join(tmp.dir, 'bad.safetensors')]);
    expect(badCharsmap.code).toBe(1);
    expect(expectOneLineError(badCharsmap, 'generate')).toMatch(/normalizer\.precompiled_charsmap: the charsmap's trie size 0/);
    expect(existsSync(join(tmp.dir, 'bad.safetensors'))).toBe(false);
  });

  it('a checkpoint without a tokenizer next to it names where it looked', async () => {
    const root = join(tmp.dir, 'bare-ckpt');
    await writeSyntheticWanCheckpoint({ directory: root, config: WAN_CONFIG_PRESETS['wan-tiny'], seed: 1 });
    const r = runCli(['generate', '--checkpoint', root, ...SMALL, '--no-decode', '--prompt', 'x', '--out', join(tmp.dir, 'bare.safetensors')]);
    expect(r.code).toBe(2);
    expect(expectOneLineError(r, 'generate')).toMatch(/no umT5 tokenizer next to the checkpoint \(looked for .*google\/umt5-xxl\/tokenizer\.json/);
  });
});
