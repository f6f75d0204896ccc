// `fpsattn generate` with the text encoder and the VAE on the run's backend (the path CUDA takes), run here on the CPU
// backend's twins of the device ops: prompt -> embeddings -> latents -> frames -> mp4, checked against the float32 host
// references (umt5EncodeCpu, wanVaeDecodeCpu) computed in the test from the run's own token ids and latents.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  UMT5_CONFIG_PRESETS,
  WAN_CONFIG_PRESETS,
  WAN_VAE_CONFIG_PRESETS,
  openSafetensors,
  syntheticUmt5Weights,
  syntheticWanVaeWeights,
  umt5EncodeCpu,
  umt5TensorSpecs,
  wanTensorSpecs,
  wanVaeDecodeCpu,
} from '@fpsattn/wan';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPng, runCli, useTmpDir } from './helpers';

// 96 x 64 pixels, 5 frames -> latents [16, 2, 8, 12] -> 5 frames; 2 steps: a few seconds on the CPU backend.
const SMALL = ['--width', '96', '--height', '64', '--frames', '5', '--steps', '2', '--backend', 'cpu'];
const PROMPT = 'a red fox running through snow';

const ffmpeg = spawnSync('ffmpeg', ['-hide_banner', '-version'], { encoding: 'utf8' });
const ffprobe = spawnSync('ffprobe', ['-hide_banner', '-version'], { encoding: 'utf8' });
const videoTools = ffmpeg.status === 0 && ffprobe.status === 0;
if (!videoTools) console.warn('generate-device.test.ts: ffmpeg/ffprobe not found on PATH (apt-get install -y ffmpeg): the device-path run without an mp4 check only');

/**
 * Tolerances, measured on this run (CPU backend twins vs the float32 host references; the built-in synthetic weights
 * are float32, rounded to BF16 on upload):
 * - embeddings: relative L2 3.4e-3 (prompt) and 3.2e-3 (Wan's default negative prompt), as the wan package's
 *   device-encoder test (2.1e-3..3.1e-3). Bar 1e-2, that test's: the BF16 level with margin.
 * - frames (the contact sheet's 8-bit pixels, read back as the middle of their bin, against the float32 frames):
 *   relative L2 1.6e-2 on the device path, 6.7e-3 on the host path (the 8-bit quantization alone). The wan package
 *   measures 1.6e-2..2e-2 for the device decoder in float32; bar 3e-2 (its GPU suite's BF16 level), 1e-2 for the host.
 */
const EMBEDDING_TOLERANCE = 1e-2;
const FRAME_TOLERANCE = 3e-2;

function relativeL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let e = 0;
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    e += ((a[i] as number) - (b[i] as number)) ** 2;
    n += (b[i] as number) ** 2;
  }
  return Math.sqrt(e / n);
}

/** The cached embeddings of a run: text -> { ids, values }. */
async function cachedEmbeddings(dir: string): Promise<Map<string, { ids: number[]; values: Float32Array; precision: string }>> {
  const out = new Map<string, { ids: number[]; values: Float32Array; precision: string }>();
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.safetensors'))) {
    const file = await openSafetensors(join(dir, name));
    try {
      out.set(file.metadata.text as string, { ids: JSON.parse(file.metadata.ids as string), values: await file.readAsFloat32('embedding'), precision: file.metadata.precision as string });
    } finally {
      await file.close();
    }
  }
  return out;
}

/** umt5EncodeCpu (float32) of the built-in encoder (umt5-tiny, synthetic seed 1) on these ids. */
function referenceEmbedding(ids: number[]): Float32Array {
  const config = UMT5_CONFIG_PRESETS['umt5-tiny'];
  const tokenIds = new Int32Array(config.textLen);
  tokenIds.set(ids);
  return umt5EncodeCpu({ weights: syntheticUmt5Weights({ config, seed: 1 }), config, tokenIds, length: ids.length, precision: 'float32' });
}

/** The decoded frames of a run, read back from its contact sheet (every frame at full size): [3, T, H, W] in [-1, 1]. */
function framesFromSheet(path: string, layout: { frameIndices: number[]; columns: number; tileWidth: number; tileHeight: number; width: number }): Float32Array {
  const png = readPng(path);
  const { frameIndices, columns, tileWidth: w, tileHeight: h } = layout;
  const gap = columns > 1 ? (layout.width - columns * w) / (columns - 1) : 0;
  const t = frameIndices.length;
  const out = new Float32Array(3 * t * h * w);
  frameIndices.forEach((frame, k) => {
    const x0 = (k % columns) * (w + gap);
    const y0 = Math.floor(k / columns) * (h + gap);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const p = ((y0 + y) * png.width + x0 + x) * 4;
        for (let c = 0; c < 3; c++) out[((c * t + frame) * h + y) * w + x] = ((2 * (png.data[p + c] as number) + 1) / 255) - 1; // the middle of the floor(255 (x + 1) / 2) bin
      }
    }
  });
  return out;
}

/** wanVaeDecodeCpu (float32) of the built-in VAE (wan-vae-tiny, synthetic seed 1) on a run's latents file. */
async function referenceFrames(latentsPath: string): Promise<{ frames: Float32Array; shape: readonly number[] }> {
  const file = await openSafetensors(latentsPath);
  try {
    const latents = await file.readAsFloat32('latents');
    const latentShape = file.tensors.get('latents')?.shape as number[];
    const config = WAN_VAE_CONFIG_PRESETS['wan-vae-tiny'];
    return wanVaeDecodeCpu({ weights: syntheticWanVaeWeights({ config, seed: 1 }), config, latents, latentShape });
  } finally {
    await file.close();
  }
}

/** Bytes of the weights of a tensor list at 2 bytes per value at least (BF16 GEMM operands; F32 norms are more). */
const minBytes = (specs: readonly { shape: readonly number[] }[]) => specs.reduce((sum, s) => sum + s.shape.reduce((a, b) => a * b, 1) * 2, 0);

describe('fpsattn generate: text encoder and VAE on the backend (CPU backend twins)', () => {
  let tmp: ReturnType<typeof useTmpDir>;
  let device: { manifest: Record<string, any>; stderr: string; dir: string };
  let host: { manifest: Record<string, any>; dir: string };
  beforeAll(() => {
    tmp = useTmpDir();
    const run = (name: string, extra: string[]) => {
      const dir = join(tmp.dir, name);
      const r = runCli(['generate', '--prompt', PROMPT, ...SMALL, '--cache-dir', join(dir, 'cache'), '--out', join(dir, 'clip.safetensors'), '--progress', 'lines', '--json', ...extra], { env: { PATH: videoTools ? process.env.PATH : '/nonexistent' } });
      expect(r.stderr).not.toMatch(/^fpsattn generate: (?!no mp4)/m);
      expect(r.code).toBe(videoTools ? 0 : 1);
      return { manifest: JSON.parse(r.stdout), stderr: r.stderr, dir };
    };
    device = run('device', ['--text-encoder-device', 'backend', '--vae-device', 'backend']);
    host = run('host', []);
  }, 120_000);
  afterAll(() => tmp.remove());

  it('runs the encoder and the VAE on the backend, says so in the stage lines and the manifest, and writes the mp4', () => {
    const { manifest, stderr } = device;
    expect(manifest.backend).toBe('cpu');
    expect(manifest.embeddings.encoder).toMatchObject({ device: 'cpu', precision: 'bf16 (device encoder)' });
    expect(manifest.decode).toMatchObject({ status: 'done', device: 'cpu', implementation: 'WanVaeDeviceDecoder', frameShape: [3, 5, 64, 96] });
    expect(manifest.vae).toMatchObject({ name: 'wan-vae-tiny', device: 'cpu', runsOn: 'backend' });
    expect(stderr).toMatch(/^text: encoded the prompt \(\d+ tokens\) with built-in umt5-tiny \(synthetic\) on cpu \(device encoder\) in \d+\.\d+ s$/m);
    expect(stderr).toMatch(/^decoding 2 latent frames \(12x8\) to 5 frames of 96x64: the VAE runs on cpu \(device decoder\)$/m);
    for (const stage of ['text', 'sample', 'decode']) expect(stderr).toMatch(new RegExp(`^${stage}: peak device memory [\\d.]+ MiB on cpu`, 'm'));
    for (const stage of ['tokenize', 'textEncode', 'load', 'sample', 'decode']) expect(manifest.timing.stagesS[stage]).toBeGreaterThan(0);
    // The host path says where it ran too, and has no device memory for its text and decode stages.
    expect(host.manifest.embeddings.encoder).toMatchObject({ device: 'cpu', precision: 'float32' });
    expect(host.manifest.decode).toMatchObject({ device: 'cpu', implementation: 'wanVaeDecodeCpu (float32, worker thread)' });
    expect(host.manifest.deviceMemory.text).toBeNull();
    expect(host.manifest.deviceMemory.decode).toBeNull();
    if (!videoTools) return;
    const probe = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_frames', '-show_entries', 'stream=codec_name,pix_fmt,width,height,nb_read_frames', '-of', 'json', manifest.output.mp4], { encoding: 'utf8' });
    expect(probe.status).toBe(0);
    expect(JSON.parse(probe.stdout).streams[0]).toMatchObject({ codec_name: 'h264', pix_fmt: 'yuv420p', width: 96, height: 64, nb_read_frames: '5' });
    expect(readdirSync(device.dir).filter((n) => n.includes('.partial') || n.includes('.tmp'))).toEqual([]);
  });

  it('holds one stage at a time: each stage frees everything it allocated, and the text stage never sees the DiT', () => {
    const { text, sample, decode } = device.manifest.deviceMemory;
    const umt5 = minBytes(umt5TensorSpecs(UMT5_CONFIG_PRESETS['umt5-tiny']));
    const dit = minBytes(wanTensorSpecs(WAN_CONFIG_PRESETS['wan-tiny']));
    for (const stage of [text, sample, decode]) {
      expect(stage).toMatchObject({ device: 'cpu', endBytes: 0, allocatorBytesAfter: null });
    }
    expect(text.peakBytes).toBeGreaterThanOrEqual(umt5);
    expect(text.peakBytes).toBeLessThan(umt5 + dit);
    expect(sample.peakBytes).toBeGreaterThanOrEqual(dit);
    expect(decode.peakBytes).toBeGreaterThan(0);
  });

  it('makes embeddings within the BF16 level of umt5EncodeCpu (float32), which the host path reproduces exactly', async () => {
    const dev = await cachedEmbeddings(join(device.dir, 'cache'));
    const ref = await cachedEmbeddings(join(host.dir, 'cache'));
    expect([...dev.keys()].sort()).toEqual([...ref.keys()].sort());
    expect(dev.size).toBe(2);
    for (const [text, d] of dev) {
      const h = ref.get(text) as { ids: number[]; values: Float32Array };
      expect(d.ids).toEqual(h.ids);
      const reference = referenceEmbedding(d.ids);
      expect(h.values).toEqual(reference);
      const err = relativeL2(d.values, reference);
      console.log(`device-path embedding of ${JSON.stringify(text.slice(0, 20))}: relative L2 ${err.toExponential(2)} vs umt5EncodeCpu float32`);
      expect(err).toBeLessThan(EMBEDDING_TOLERANCE);
      expect(err).toBeGreaterThan(0); // BF16 GEMMs: the device path is not the host path
    }
  });

  it.skipIf(!videoTools)('decodes frames within the BF16 level of wanVaeDecodeCpu (float32) on the same latents', async () => {
    for (const [name, run, bar] of [['device', device, FRAME_TOLERANCE], ['host', host, 1e-2]] as const) {
      const reference = await referenceFrames(run.manifest.output.latents);
      expect(reference.shape).toEqual(run.manifest.decode.frameShape);
      const frames = framesFromSheet(run.manifest.output.contactSheetPng, run.manifest.decode.contactSheet);
      const err = relativeL2(frames, reference.frames);
      console.log(`${name}-path frames (8-bit sheet) vs wanVaeDecodeCpu float32: relative L2 ${err.toExponential(2)}`);
      expect(err).toBeLessThan(bar);
    }
  });
});
