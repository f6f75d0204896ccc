import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WAN_CONFIG_PRESETS, writeSafetensors, writeSyntheticWanCheckpoint } from '@fpsattn/wan';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, expectOneLineError, runCli, useTmpDir } from './helpers';

const TINY_PARAMETERS = 2_218_816; // wan-tiny: 69 tensors

describe('fpsattn inspect', () => {
  let tmp: ReturnType<typeof useTmpDir>;
  beforeAll(async () => {
    tmp = useTmpDir();
    const config = WAN_CONFIG_PRESETS['wan-tiny'];
    await writeSyntheticWanCheckpoint({ directory: join(tmp.dir, 'original'), config, seed: 1 });
    const diffusers = await writeSyntheticWanCheckpoint({ directory: join(tmp.dir, 'diffusers'), config, seed: 1, naming: 'diffusers' });
    rmSync(diffusers.configFile); // no config.json: matched by shapes
    const mismatch = await writeSyntheticWanCheckpoint({ directory: join(tmp.dir, 'mismatch'), config, seed: 1 });
    writeFileSync(mismatch.configFile, JSON.stringify({ dim: 256, ffn_dim: 512, num_heads: 2, num_layers: 3, text_dim: 32, text_len: 16 }));
    await writeSafetensors({ path: join(tmp.dir, 'other.safetensors'), tensors: { 'encoder.weight': { dtype: 'F16', shape: [4, 4], data: new Uint16Array(16) } } });
    writeFileSync(join(tmp.dir, 'garbage.safetensors'), 'not a safetensors file at all');
  });
  afterAll(() => tmp.remove());

  it('reports a synthetic Wan checkpoint folder: format, dtypes, parameters, naming and config match', () => {
    const r = runCli(['inspect', join(tmp.dir, 'original')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('format:      safetensors (1 file)');
    expect(r.stdout).toContain(`tensors:     69, 2.22 M parameters (${TINY_PARAMETERS})`);
    expect(r.stdout).toMatch(/naming:\s+original/);
    expect(r.stdout).toMatch(/config:\s+.*config\.json \(original fields\): wan-tiny; tensors match config\.json/);
    expect(r.stdout).toMatch(/F32\s+69\s+2218816/);
    expect(r.stdout).toContain('problems:    none');
  });

  it('prints JSON, and matches a checkpoint without config.json to a preset by its shapes', () => {
    const r = runCli(['inspect', join(tmp.dir, 'diffusers', 'diffusion_pytorch_model.safetensors'), '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.naming.naming).toBe('diffusers');
    expect(report.parameters).toBe(TINY_PARAMETERS);
    expect(report.dtypes).toEqual([{ dtype: 'F32', tensors: 69, parameters: TINY_PARAMETERS }]);
    expect(report.config).toMatchObject({ file: null, preset: 'wan-tiny', matches: true });
    expect(report.problems).toEqual([]);
  });

  it('exits 1 listing the problem when config.json and the tensors disagree', () => {
    const r = runCli(['inspect', join(tmp.dir, 'mismatch'), '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.config.matches).toBe(false);
    expect(report.problems[0]).toContain('tensors do not match');
    expect(expectOneLineError(r, 'inspect')).toContain('1 problem(s) found');
  });

  it('exits 1 for a safetensors file that is not a Wan DiT', () => {
    const r = runCli(['inspect', join(tmp.dir, 'other.safetensors'), '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.dtypes).toEqual([{ dtype: 'F16', tensors: 1, parameters: 16 }]);
    expect(report.problems[0]).toContain('not a Wan2.1 DiT checkpoint');
  });

  it('reads a .pth archive: format, dtypes with counts, parameters', () => {
    const r = runCli(['inspect', join(FIXTURES, 'state-dict.pth'), '--json']);
    expect(r.code).toBe(1); // not a Wan DiT
    const report = JSON.parse(r.stdout);
    expect(report.format).toContain('PyTorch zip archive');
    expect(report.tensors).toBe(21);
    expect(report.parameters).toBe(180);
    expect(report.dtypes.find((d: { dtype: string }) => d.dtype === 'BF16')).toEqual({ dtype: 'BF16', tensors: 1, parameters: 24 });
  });

  it('exits 2 for a path that does not exist, and when the argument is missing', () => {
    const missing = runCli(['inspect', join(tmp.dir, 'nope')]);
    expect(missing.code).toBe(2);
    expect(expectOneLineError(missing, 'inspect')).toContain('does not exist');
    const none = runCli(['inspect']);
    expect(none.code).toBe(2);
    expect(expectOneLineError(none, 'inspect')).toContain("missing required argument 'checkpoint'");
  });

  it('exits 1 with one line for a corrupt file', () => {
    const garbage = runCli(['inspect', join(tmp.dir, 'garbage.safetensors')]);
    expect(garbage.code).toBe(1);
    expect(expectOneLineError(garbage, 'inspect')).toContain('garbage.safetensors');
    const truncated = runCli(['inspect', join(FIXTURES, 'truncated.pth')]);
    expect(truncated.code).toBe(1);
    expect(expectOneLineError(truncated, 'inspect')).toContain('[FPSATTN_WAN_PTH_INVALID_ZIP]');
  });

  it('prints the stack with --verbose', () => {
    const r = runCli(['inspect', join(tmp.dir, 'garbage.safetensors'), '--verbose']);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n').length).toBeGreaterThan(3);
    expect(r.stderr).toMatch(/\n\s+at /);
  });
});
