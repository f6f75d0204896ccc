// `fpsattn generate` on to frames and an mp4: the tiny model and the tiny synthetic VAE on the CPU, end to end.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WAN_CONFIG_PRESETS, WAN_VAE_CONFIG_PRESETS, syntheticWanInputs, syntheticWanVaeWeights, wanVaeTensorSpecs, writeSafetensors, writeSyntheticWanCheckpoint, writeTextEmbeddings } from '@fpsattn/wan';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, readPng, runCli, startCli, useTmpDir } from './helpers';

// 96 x 64 pixels, 5 frames -> latents [16, 2, 8, 12] -> 5 video frames: a few seconds with 2 steps and the tiny VAE.
const SMALL = ['--width', '96', '--height', '64', '--frames', '5', '--steps', '2'];

const ffmpeg = spawnSync('ffmpeg', ['-hide_banner', '-version'], { encoding: 'utf8' });
const ffprobe = spawnSync('ffprobe', ['-hide_banner', '-version'], { encoding: 'utf8' });
const videoTools = ffmpeg.status === 0 && ffprobe.status === 0;
if (!videoTools) console.warn('generate-video.test.ts: ffmpeg/ffprobe not found on PATH (apt-get install -y ffmpeg): the mp4 tests are skipped');

/** ffprobe's view of the first video stream, its frames counted. */
function probe(path: string): { codec_name: string; pix_fmt: string; width: number; height: number; r_frame_rate: string; nb_read_frames: string } {
  const r = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_frames', '-show_entries', 'stream=codec_name,pix_fmt,width,height,r_frame_rate,nb_read_frames', '-of', 'json', path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffprobe failed on ${path}: ${r.stderr}`);
  return JSON.parse(r.stdout).streams[0];
}

/** Files of `dir` that are temporary names (`.partial`, `.tmp`). */
const leftovers = (dir: string) => readdirSync(dir).filter((n) => n.includes('.partial') || n.includes('.tmp'));

describe('fpsattn generate: decode and video', () => {
  let tmp: ReturnType<typeof useTmpDir>;
  beforeAll(() => {
    tmp = useTmpDir();
  });
  afterAll(() => tmp.remove());

  it.skipIf(!videoTools)('decodes the tiny model with the tiny VAE on the CPU to an mp4 (1 + 4 (F - 1) frames, 16 fps, H.264 yuv420p), PNGs and a manifest', () => {
    const dir = join(tmp.dir, 'video');
    const out = join(dir, 'clip.safetensors');
    const r = runCli(['generate', ...SMALL, '--out', out, '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const manifest = JSON.parse(r.stdout);
    expect(manifest.latentShape).toEqual([16, 2, 8, 12]);
    expect(manifest.vae).toMatchObject({ source: 'built-in', name: 'wan-vae-tiny', device: 'cpu' });
    expect(manifest.decode).toMatchObject({ status: 'done', device: 'cpu', frameShape: [3, 5, 64, 96], fps: 16 });
    expect(manifest.decode.latentFrameMs).toHaveLength(2);
    for (const stage of ['load', 'sample', 'decode', 'encode']) expect(manifest.timing.stagesS[stage]).toBeGreaterThan(0);
    expect(manifest.error).toBeNull();
    const paths = { mp4: join(dir, 'clip.mp4'), first: join(dir, 'clip.first.png'), sheet: join(dir, 'clip.sheet.png'), manifest: join(dir, 'clip.manifest.json') };
    expect(manifest.output).toMatchObject({ latents: out, mp4: paths.mp4, firstFramePng: paths.first, contactSheetPng: paths.sheet, manifest: paths.manifest });
    expect(manifest.output.files.map((f: { kind: string; path: string }) => [f.kind, f.path])).toEqual([
      ['latents', out],
      ['first-frame-png', paths.first],
      ['contact-sheet-png', paths.sheet],
      ['mp4', paths.mp4],
      ['manifest', paths.manifest],
    ]);
    expect(readdirSync(dir).sort()).toEqual(['clip.first.png', 'clip.manifest.json', 'clip.mp4', 'clip.safetensors', 'clip.sheet.png']);
    expect(JSON.parse(readFileSync(paths.manifest, 'utf8'))).toEqual(manifest);

    const stream = probe(paths.mp4);
    const latentFrames = manifest.latentShape[1] as number;
    expect(stream).toMatchObject({ codec_name: 'h264', pix_fmt: 'yuv420p', width: 96, height: 64, r_frame_rate: '16/1' });
    expect(Number(stream.nb_read_frames)).toBe(1 + 4 * (latentFrames - 1));

    const first = readPng(paths.first);
    expect([first.width, first.height]).toEqual([96, 64]);
    const sheet = readPng(paths.sheet);
    expect(manifest.decode.contactSheet).toMatchObject({ width: sheet.width, height: sheet.height, frameIndices: [0, 1, 2, 3, 4], tileWidth: 96, tileHeight: 64 });
    expect(sheet.width).toBeGreaterThanOrEqual(manifest.decode.contactSheet.columns * 96);
    expect(sheet.height).toBeGreaterThanOrEqual(manifest.decode.contactSheet.rows * 64);
  });

  it('--no-decode writes the latents and the manifest only', () => {
    const dir = join(tmp.dir, 'latents-only');
    const r = runCli(['generate', ...SMALL, '--no-decode', '--out', join(dir, 'x.safetensors'), '--json']);
    expect(r.code).toBe(0);
    const manifest = JSON.parse(r.stdout);
    expect(manifest.vae).toBeNull();
    expect(manifest.decode).toMatchObject({ status: 'skipped', reason: '--no-decode', frameShape: null });
    expect(manifest.timing.stagesS).toMatchObject({ decode: null, encode: null });
    expect(manifest.output).toMatchObject({ mp4: null, firstFramePng: null, contactSheetPng: null });
    expect(readdirSync(dir).sort()).toEqual(['x.manifest.json', 'x.safetensors']);
  });

  it('without ffmpeg: the latents, PNGs and manifest are written, then one line naming the fix, exit 1', () => {
    const emptyBin = join(tmp.dir, 'empty-bin');
    mkdirSync(emptyBin, { recursive: true });
    const dir = join(tmp.dir, 'no-ffmpeg');
    const r = runCli(['generate', ...SMALL, '--out', join(dir, 'v.safetensors')], { env: { PATH: emptyBin } });
    expect(r.code).toBe(1);
    const line = expectOneLineError(r, 'generate');
    expect(line).toContain('no mp4: ffmpeg was not found on PATH [FPSATTN_WAN_VIDEO_FFMPEG_MISSING]');
    expect(line).toContain('fix: apt-get install -y ffmpeg');
    expect(r.stdout).toContain(`pngs -> ${join(dir, 'v.first.png')}, ${join(dir, 'v.sheet.png')}`);
    expect(readdirSync(dir).sort()).toEqual(['v.first.png', 'v.manifest.json', 'v.safetensors', 'v.sheet.png']);
    expect([readPng(join(dir, 'v.first.png')).width, readPng(join(dir, 'v.first.png')).height]).toEqual([96, 64]);
    const manifest = JSON.parse(readFileSync(join(dir, 'v.manifest.json'), 'utf8'));
    expect(manifest.output.mp4).toBeNull();
    expect(manifest.output.files.map((f: { kind: string }) => f.kind)).toEqual(['latents', 'first-frame-png', 'contact-sheet-png', 'manifest']);
    expect(manifest.error).toContain('ffmpeg was not found');

    // FPSATTN_FFMPEG (as doctor reads it) naming a missing binary.
    const named = runCli(['generate', ...SMALL, '--out', join(tmp.dir, 'named', 'v.safetensors')], { env: { FPSATTN_FFMPEG: '/nonexistent/ffmpeg' } });
    expect(named.code).toBe(1);
    expect(expectOneLineError(named, 'generate')).toContain('ffmpeg was not found at FPSATTN_FFMPEG=/nonexistent/ffmpeg');
  });

  it.each([
    [['--vae', '/nonexistent/Wan2.1_VAE.pth'], 2, 'VAE /nonexistent/Wan2.1_VAE.pth does not exist'],
    [['--vae', '/nonexistent/Wan2.1_VAE.pth', '--no-decode'], 2, '--vae and --no-decode both given'],
  ])('exits with one line for %j', (args, code, message) => {
    const out = join(tmp.dir, 'bad-vae', 'x.safetensors');
    const r = runCli(['generate', ...SMALL, ...args, '--out', out]);
    expect(r.code).toBe(code);
    expect(expectOneLineError(r, 'generate')).toContain(message);
    expect(existsSync(out)).toBe(false);
  });

  it('exits 1 with one line for a --vae that is not a Wan-VAE, before sampling', () => {
    const notVae = join(tmp.dir, 'not-a-vae.pth');
    writeFileSync(notVae, 'not a torch.save file');
    const out = join(tmp.dir, 'not-vae-run', 'x.safetensors');
    const r = runCli(['generate', ...SMALL, '--vae', notVae, '--out', out]);
    expect(r.code).toBe(1);
    expect(expectOneLineError(r, 'generate')).toContain(notVae);
    expect(existsSync(out)).toBe(false);
  });

  describe('with a checkpoint', () => {
    let checkpoint: string;
    let embeddings: string;
    beforeAll(async () => {
      const config = WAN_CONFIG_PRESETS['wan-tiny'];
      const root = join(tmp.dir, 'models');
      checkpoint = (await writeSyntheticWanCheckpoint({ directory: join(root, 'transformer'), config, seed: 3 })).directory;
      embeddings = join(root, 'prompt.safetensors');
      const text = (seed: number, length: number) => ({ values: syntheticWanInputs({ config, seed, latentShape: [16, 1, 2, 2], contextLength: length }).context, length });
      await writeTextEmbeddings({ path: embeddings, textDim: config.textDim, prompt: text(5, 6), negative: text(6, 3) });
      // A diffusers-style vae/ folder next to transformer/: the tiny VAE's decoder in the reference naming + config.json.
      const vaeConfig = WAN_VAE_CONFIG_PRESETS['wan-vae-tiny'];
      const weights = syntheticWanVaeWeights({ config: vaeConfig, seed: 4 });
      const vaeDir = join(root, 'vae-elsewhere');
      mkdirSync(vaeDir, { recursive: true });
      const shapes = new Map(wanVaeTensorSpecs(vaeConfig).map((s) => [s.name, s.shape]));
      await writeSafetensors({
        path: join(vaeDir, 'diffusion_pytorch_model.safetensors'),
        tensors: new Map([...weights].map(([name, data]) => [name, { dtype: 'F32' as const, shape: shapes.get(name) as number[], data }])),
      });
      writeFileSync(join(vaeDir, 'config.json'), JSON.stringify({ _class_name: 'AutoencoderKLWan', base_dim: 8, z_dim: 16 }));
    });

    it('writes latents only when no VAE is next to it, and --decode asks for one (exit 2)', () => {
      const r = runCli(['generate', '--checkpoint', checkpoint, '--embeddings', embeddings, ...SMALL, '--out', join(tmp.dir, 'ck', 'a.safetensors')]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('video: none (no VAE next to the checkpoint');
      expect(readdirSync(join(tmp.dir, 'ck')).sort()).toEqual(['a.manifest.json', 'a.safetensors']);
      const decode = runCli(['generate', '--checkpoint', checkpoint, '--embeddings', embeddings, ...SMALL, '--decode', '--out', join(tmp.dir, 'ck', 'b.safetensors')]);
      expect(decode.code).toBe(2);
      expect(expectOneLineError(decode, 'generate')).toContain('--decode: no VAE next to the checkpoint');
    });

    it.skipIf(!videoTools)('decodes with --vae FOLDER, printing per-latent-frame progress that says the VAE is on the CPU', () => {
      const out = join(tmp.dir, 'ck-vae', 'v.safetensors');
      const r = runCli(['generate', '--checkpoint', checkpoint, '--embeddings', embeddings, ...SMALL, '--vae', join(tmp.dir, 'models', 'vae-elsewhere'), '--out', out, '--progress', 'lines']);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain('the VAE runs on the CPU (float32 reference, in a worker thread)');
      expect(r.stderr).toMatch(/decode latent frame 1\/2 .* ETA /);
      expect(r.stderr).toMatch(/decode latent frame 2\/2 .* 4 frames/);
      expect(r.stdout).toContain(`mp4 -> ${join(tmp.dir, 'ck-vae', 'v.mp4')}`);
      const manifest = JSON.parse(readFileSync(join(tmp.dir, 'ck-vae', 'v.manifest.json'), 'utf8'));
      expect(manifest.vae).toMatchObject({ source: 'file', found: '--vae', naming: 'original', name: 'wan-vae-tiny' });
      expect(Number(probe(join(tmp.dir, 'ck-vae', 'v.mp4')).nb_read_frames)).toBe(5);
    });

    it.skipIf(!videoTools)('finds a diffusers vae/ next to the transformer/ folder', () => {
      const root = join(tmp.dir, 'pipeline');
      cpSync(checkpoint, join(root, 'transformer'), { recursive: true });
      cpSync(join(tmp.dir, 'models', 'vae-elsewhere'), join(root, 'vae'), { recursive: true });
      const r = runCli(['generate', '--checkpoint', join(root, 'transformer'), '--embeddings', embeddings, ...SMALL, '--out', join(root, 'out', 'v.safetensors'), '--json']);
      expect(r.code).toBe(0);
      const manifest = JSON.parse(r.stdout);
      expect(manifest.vae).toMatchObject({ source: 'file', found: 'next to the checkpoint', path: join(root, 'vae'), name: 'wan-vae-tiny' });
      expect(manifest.output.mp4).toBe(join(root, 'out', 'v.mp4'));
    });
  });

  it('stops cleanly on Ctrl-C during the decode: exit 130, latents and manifest kept, no video file or temporary', async () => {
    const dir = join(tmp.dir, 'interrupted-decode');
    const out = join(dir, 'v.safetensors');
    // 9 frames: 3 latent frames, a few seconds of decoding.
    const child = startCli(['generate', '--width', '64', '--height', '64', '--frames', '9', '--steps', '1', '--out', out, '--progress', 'lines']);
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!sent && stderr.includes('decoding 3 latent frames')) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(130);
    expect(stderr).toMatch(/fpsattn generate: stopped by Ctrl-C while decoding \(after [0-2] of 3 latent frames\)/);
    expect(readdirSync(dir).sort()).toEqual(['v.manifest.json', 'v.safetensors']);
    expect(leftovers(dir)).toEqual([]);
    expect(JSON.parse(readFileSync(join(dir, 'v.manifest.json'), 'utf8')).decode.status).toBe('interrupted');
  });
});
