import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WAN_CONFIG_PRESETS, openSafetensors, syntheticWanInputs, writeSyntheticWanCheckpoint, writeTextEmbeddings } from '@fpsattn/wan';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, runCli, startCli, useTmpDir } from './helpers';

// 64 x 64 pixels, 5 frames -> latents [16, 2, 8, 8] -> a 2 x 4 x 4 token grid: under a second per step on the CPU.
const SMALL = ['--width', '64', '--height', '64', '--frames', '5'];

describe('fpsattn generate', () => {
  let tmp: ReturnType<typeof useTmpDir>;
  let checkpoint: string;
  let embeddings: string;
  beforeAll(async () => {
    tmp = useTmpDir();
    const config = WAN_CONFIG_PRESETS['wan-tiny'];
    checkpoint = (await writeSyntheticWanCheckpoint({ directory: join(tmp.dir, 'ckpt'), config, seed: 3 })).directory;
    embeddings = join(tmp.dir, 'prompt.safetensors');
    const text = (seed: number, length: number) => ({ values: syntheticWanInputs({ config, seed, latentShape: [16, 1, 2, 2], contextLength: length }).context, length });
    await writeTextEmbeddings({ path: embeddings, textDim: config.textDim, prompt: text(5, 10), negative: text(6, 3), metadata: { prompt: 'a cat' } });
  });
  afterAll(() => tmp.remove());

  it('samples the built-in tiny model with the FPSAttention schedule and writes the latents and a manifest (--no-decode)', async () => {
    const out = join(tmp.dir, 'run', 'tiny.safetensors');
    const r = runCli(['generate', ...SMALL, '--steps', '3', '--no-decode', '--out', out, '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(''); // not a TTY: no progress bar
    const manifest = JSON.parse(r.stdout);
    expect(manifest).toMatchObject({
      format: 'fpsattn-run-manifest',
      backend: 'cpu',
      model: { source: 'built-in', name: 'wan-tiny' },
      embeddings: { source: 'synthetic' },
      video: { width: 64, height: 64, frames: 5 },
      latentShape: [16, 2, 8, 8],
      tokenGrid: { frames: 2, height: 4, width: 4 },
      // The CPU backend's default loop is the host sampler (device is CUDA's default).
      sampling: { steps: 3, solver: 'unipc', sampler: 'host', seed: 42 },
    });
    expect(manifest.schedule.name).toBe('fpsattn (grid 2x4x4)');
    expect(manifest.timing.modes).toEqual(['fp8-sparse', 'fp8-sparse', 'fp8-sparse']);
    expect(manifest.latents.nonFinite).toBe(0);
    expect(JSON.parse(readFileSync(join(tmp.dir, 'run', 'tiny.manifest.json'), 'utf8'))).toEqual(manifest);
    const file = await openSafetensors(out);
    try {
      expect(file.tensors.get('latents')?.shape).toEqual([16, 2, 8, 8]);
      expect(file.metadata.schedule).toContain('fp8-sparse');
    } finally {
      await file.close();
    }
    expect(readdirSync(join(tmp.dir, 'run')).sort()).toEqual(['tiny.manifest.json', 'tiny.safetensors']);
  });

  it('--sampler device runs the device-resident loop on the CPU backend: the same latents bit for bit, recorded in the manifest and the file', async () => {
    const run = async (sampler: string) => {
      const out = join(tmp.dir, `sampler-${sampler}.safetensors`);
      const r = runCli(['generate', ...SMALL, '--steps', '2', '--no-decode', '--sampler', sampler, '--out', out, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const file = await openSafetensors(out);
      try {
        return { manifest: JSON.parse(r.stdout), metadata: file.metadata, latents: await file.readAsFloat32('latents') };
      } finally {
        await file.close();
      }
    };
    const device = await run('device');
    const host = await run('host');
    expect([device.manifest.sampling.sampler, device.metadata.sampler]).toEqual(['device', 'device']);
    expect([host.manifest.sampling.sampler, host.metadata.sampler]).toEqual(['host', 'host']);
    expect(Buffer.from(device.latents.buffer).equals(Buffer.from(host.latents.buffer))).toBe(true);
    const summary = runCli(['generate', ...SMALL, '--steps', '1', '--no-decode', '--sampler', 'device', '--out', join(tmp.dir, 'sampler-summary.safetensors')]);
    expect(summary.code, summary.stderr).toBe(0);
    expect(summary.stdout).toMatch(/on cpu: 1 steps \(.+\) with the device sampler in /);
  });

  it('loads a checkpoint folder with an embeddings file, dense, and prints progress lines with an ETA', () => {
    const out = join(tmp.dir, 'ckpt-run.safetensors');
    const r = runCli(['generate', '--checkpoint', checkpoint, '--embeddings', embeddings, ...SMALL, '--steps', '2', '--schedule', 'dense', '--solver', 'euler', '--out', out, '--progress', 'lines']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${checkpoint} on cpu: 2 steps (dense)`);
    expect(r.stderr).toMatch(/step 1\/2 .* ETA /);
    expect(r.stderr).toMatch(/step 2\/2 .* ETA 0\.0s/);
    const manifest = JSON.parse(readFileSync(join(tmp.dir, 'ckpt-run.manifest.json'), 'utf8'));
    expect(manifest.model).toMatchObject({ source: 'checkpoint', name: 'wan-tiny' });
    expect(manifest.embeddings).toMatchObject({ source: 'file', promptTokens: 10, negativeTokens: 3 });
    expect(manifest.timing.modes).toEqual(['dense-bf16', 'dense-bf16']);
  });

  it('runs a JSON schedule, taking its steps', () => {
    const schedule = join(tmp.dir, 'schedule.json');
    const sparse = { tile: [1, 2, 2], window: { kind: 'clamped', tiles: [1, 1, 1] } };
    writeFileSync(
      schedule,
      JSON.stringify({
        steps: 2,
        alpha1: 0.5,
        alpha2: 1,
        denseSteps: 1,
        grid: { frames: 2, height: 4, width: 4 },
        model: { layers: 2, heads: 2, headDim: 128 },
        phases: { early: { mode: 'sparse-bf16', sparsity: sparse }, middle: { mode: 'sparse-bf16', sparsity: sparse }, late: { mode: 'dense-bf16' } },
      }),
    );
    const out = join(tmp.dir, 'json-run.safetensors');
    const r = runCli(['generate', ...SMALL, '--schedule', schedule, '--no-decode', '--out', out, '--json']);
    expect(r.code).toBe(0);
    const manifest = JSON.parse(r.stdout);
    expect(manifest.sampling.steps).toBe(2);
    expect(manifest.timing.modes).toEqual(['dense-bf16', 'sparse-bf16']);
  });

  it.each([['host'], ['device']])('stops cleanly on Ctrl-C with the %s sampler: exit 130, one line, nothing under the final name', async (sampler) => {
    const dir = join(tmp.dir, `interrupted-${sampler}`);
    const out = join(dir, 'latents.safetensors');
    const child = startCli(['generate', ...SMALL, '--steps', '40', '--sampler', sampler, '--out', out, '--progress', 'lines']);
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!sent && stderr.includes('step 1/40')) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(130);
    expect(stderr).toMatch(/fpsattn generate: stopped by Ctrl-C after \d+ of 40 steps; nothing was written to /);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
  });

  it.each([
    [['--width', '65'], 'width is 65: expected a multiple of 16'],
    [['--frames', '6'], 'frames is 6: expected 4k + 1 frames'],
    [['--steps', 'many'], '--steps "many" is not an integer'],
    [['--solver', 'dpm'], '--solver "dpm" is not one of unipc, euler'],
    [['--sampler', 'gpu'], '--sampler "gpu" is not one of host, device'],
    [['--device-sampler'], "unknown option '--device-sampler'"],
    [['--model', 'wan-14b'], '--model "wan-14b" is not a built-in model'],
    [['--schedule', 'wan-720p'], 'schedule preset wan-720p is for the 21x45x80 token grid'],
    [['--schedule', 'fast'], '--schedule "fast" is not dense, fpsattn, a preset'],
    [['--out', 'latents.npy'], 'does not end in .safetensors'],
    [['--checkpoint', '/nonexistent/ckpt', '--embeddings', '/nonexistent/e.safetensors'], 'checkpoint /nonexistent/ckpt does not exist'],
  ])('exits 2 with one line for %j', (args, message) => {
    const r = runCli(['generate', ...SMALL, '--steps', '1', ...args], { cwd: tmp.dir });
    expect(r.code).toBe(2);
    expect(expectOneLineError(r, 'generate')).toContain(message);
  });

  it('exits 2 when a checkpoint comes without embeddings, and 1 for a checkpoint that does not load', () => {
    const noEmbeddings = runCli(['generate', '--checkpoint', checkpoint]);
    expect(noEmbeddings.code).toBe(2);
    expect(expectOneLineError(noEmbeddings, 'generate')).toContain('needs --prompt TEXT or --embeddings FILE');
    const notWan = runCli(['generate', '--checkpoint', embeddings, '--embeddings', embeddings, ...SMALL, '--steps', '1', '--out', join(tmp.dir, 'x.safetensors')]);
    expect(notWan.code).toBe(1);
    expectOneLineError(notWan, 'generate');
    expect(existsSync(join(tmp.dir, 'x.safetensors'))).toBe(false);
  });
});
