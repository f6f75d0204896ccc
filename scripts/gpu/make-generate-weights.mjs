// Writes real-shaped random weights for scripts/gpu/run-generate.sh, all BF16 safetensors in the original naming:
//   <dir>/dit/            Wan2.1-T2V-1.3B DiT (config.json + diffusion_pytorch_model.safetensors, 1.42 B parameters)
//   <dir>/vae.safetensors the real Wan-VAE decoder shapes (wan-vae)
//   <dir>/text_encoder/   umT5-XXL widths with UMT5_LAYERS layers (default 2 of 24: the real 24 are 11 GB to write
//                         and read; the embedding [256384, 4096] is real) + a transformers config.json
//   <dir>/tokenizer.json  the CLI's synthetic tokenizer (512 pieces, real charsmap; the real umT5 one is not in the repo)
// Values: norm scales (`*norm*.weight`, `gamma`) 1, other 1-D tensors 0, the rest uniform in +-1/sqrt(fan_in) (xorshift32; not the packages'
// seeded synthetic weights, which take minutes at this size in JS). Usage: node make-generate-weights.mjs DIR
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UMT5_CONFIG_PRESETS, WAN_CONFIG_PRESETS, WAN_VAE_CONFIG_PRESETS, umt5TensorSpecs, wanConfigToJson, wanTensorSpecs, wanVaeTensorSpecs, writeSafetensors } from '@fpsattn/wan';

const dir = process.argv[2];
if (!dir) throw new Error('usage: node make-generate-weights.mjs DIR');
const tiny = process.env.TINY === '1'; // the tiny presets: a quick check of this script on a CPU machine
const layers = Number(process.env.UMT5_LAYERS ?? 2);
let state = 0x9e3779b9;
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function tensor({ name, shape }) {
  const n = shape.reduce((a, b) => a * b, 1);
  const bits = new Uint16Array(n);
  const isScale = name.endsWith('.gamma') || /norm[^.]*\.weight$/.test(name);
  if (isScale || shape.length === 1) {
    f32[0] = isScale ? 1 : 0;
    bits.fill(u32[0] >>> 16);
  } else {
    const a = 1 / Math.sqrt(n / shape[0]);
    for (let i = 0; i < n; i++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      f32[0] = ((state >>> 0) / 4294967296 * 2 - 1) * a;
      bits[i] = u32[0] >>> 16;
    }
  }
  return [name, { dtype: 'BF16', shape, data: bits }];
}

async function write(path, specs, metadata) {
  const t0 = performance.now();
  await writeSafetensors({ path, tensors: new Map(specs.map(tensor)), metadata });
  console.log(`wrote ${path} (${specs.length} tensors) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

const dit = WAN_CONFIG_PRESETS[tiny ? 'wan-tiny' : 'wan-1.3b'];
mkdirSync(join(dir, 'dit'), { recursive: true });
writeFileSync(join(dir, 'dit', 'config.json'), wanConfigToJson({ config: dit, naming: 'original' }));
await write(join(dir, 'dit', 'diffusion_pytorch_model.safetensors'), wanTensorSpecs(dit), { format: 'pt' });
await write(join(dir, 'vae.safetensors'), wanVaeTensorSpecs(WAN_VAE_CONFIG_PRESETS[tiny ? 'wan-vae-tiny' : 'wan-vae']), { format: 'pt' });
const t5 = tiny ? UMT5_CONFIG_PRESETS['umt5-tiny'] : { ...UMT5_CONFIG_PRESETS['umt5-xxl'], numLayers: layers };
mkdirSync(join(dir, 'text_encoder'), { recursive: true });
writeFileSync(join(dir, 'text_encoder', 'config.json'), JSON.stringify({
  architectures: ['UMT5EncoderModel'], model_type: 'umt5', vocab_size: t5.vocabSize, d_model: t5.dim, d_kv: t5.dimAttn / t5.numHeads, d_ff: t5.dimFfn,
  num_heads: t5.numHeads, num_layers: t5.numLayers, relative_attention_num_buckets: t5.numBuckets, relative_attention_max_distance: t5.maxDistance,
  layer_norm_epsilon: t5.eps, feed_forward_proj: 'gated-gelu',
}, null, 2));
await write(join(dir, 'text_encoder', 'model.safetensors'), umt5TensorSpecs(t5), { format: 'pt' });
copyFileSync(new URL('../../apps/cli/test/fixtures/tokenizer/synthetic-tokenizer.json', import.meta.url), join(dir, 'tokenizer.json'));
