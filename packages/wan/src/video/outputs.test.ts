import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WAN_VAE_CONFIG_PRESETS } from '../vae/config';
import { type WanVaeDecodeResult, wanVaeDecodeCpu } from '../vae/decode';
import { syntheticWanVaeLatents, syntheticWanVaeWeights } from '../vae/synthetic-weights';
import { decodePng, decodeWithFfmpeg, FFMPEG_SKIP_REASON, HAVE_FFMPEG, probeVideo } from './_video.test-helpers';
import { contactSheet } from './contact-sheet';
import { FFMPEG_MISSING_MESSAGE, WAN_VIDEO_ERROR_CODES, WanVideoError } from './errors';
import { writeVideoOutputs } from './outputs';
import { framesToRgb8 } from './rgb';

const root = mkdtempSync(join(tmpdir(), 'fpsattn-outputs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The tiny Wan-VAE on the CPU: latents [16, 3, 4, 6] decode to [3, 9, 32, 48]. */
let decoded: WanVaeDecodeResult;
beforeAll(() => {
  const config = WAN_VAE_CONFIG_PRESETS['wan-vae-tiny'];
  const latentShape = [16, 3, 4, 6];
  decoded = wanVaeDecodeCpu({
    weights: syntheticWanVaeWeights({ config, seed: 5 }),
    config,
    latents: syntheticWanVaeLatents({ latentShape, seed: 5 }),
    latentShape,
  });
});

async function caught(promise: Promise<unknown>): Promise<WanVideoError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(WanVideoError);
    return error as WanVideoError;
  }
  throw new Error('expected a rejection');
}

function expectPngs(dir: string, name: string): void {
  const rgb = framesToRgb8({ frames: decoded.frames, shape: decoded.shape });
  const first = decodePng(readFileSync(join(dir, `${name}.first.png`)));
  expect([first.width, first.height]).toEqual([48, 32]);
  expect(Buffer.from(first.rgb).equals(Buffer.from(rgb[0] as Uint8Array))).toBe(true);
  const sheet = decodePng(readFileSync(join(dir, `${name}.sheet.png`)));
  const want = contactSheet(rgb, { width: 48, height: 32 });
  expect([sheet.width, sheet.height]).toEqual([want.width, want.height]);
  expect(Buffer.from(sheet.rgb).equals(Buffer.from(want.rgb))).toBe(true);
}

describe('writeVideoOutputs on the tiny VAE decoder output', () => {
  it('decodes to [3, 9, 32, 48] in [-1, 1]', () => {
    expect(decoded.shape).toEqual([3, 9, 32, 48]);
  });

  it.skipIf(!HAVE_FFMPEG)('writes <name>.mp4 (H.264 yuv420p, 16 fps, 9 frames), <name>.first.png and <name>.sheet.png', async () => {
    const dir = join(root, 'out', 'nested');
    const result = await writeVideoOutputs({ dir, name: 'tiny', frames: decoded.frames, shape: decoded.shape });
    expect(readdirSync(dir).sort()).toEqual(['tiny.first.png', 'tiny.mp4', 'tiny.sheet.png']);
    expect(result.firstFramePng).toBe(join(dir, 'tiny.first.png'));
    expect(result.contactSheetPng).toBe(join(dir, 'tiny.sheet.png'));
    expect(result.mp4).toMatchObject({ path: join(dir, 'tiny.mp4'), frames: 9, width: 48, height: 32, fps: 16 });
    expect(result.sheet).toMatchObject({ frameIndices: [0, 1, 2, 3, 4, 5, 6, 7, 8], columns: 3, rows: 3, tileWidth: 48, tileHeight: 32 });
    expect(probeVideo(result.mp4.path)).toEqual({ codec: 'h264', width: 48, height: 32, pixFmt: 'yuv420p', frameRate: '16/1', frames: 9 });
    expectPngs(dir, 'tiny');
    // The mp4 holds the frames, up to H.264 and 4:2:0 chroma losses (random weights give noisy frames).
    const video = decodeWithFfmpeg(result.mp4.path);
    const rgb = framesToRgb8({ frames: decoded.frames, shape: decoded.shape });
    expect(video.length).toBe(9 * 48 * 32 * 3);
    // Compare luma (full resolution in 4:2:0) per pixel, and against the wrong frame as a baseline.
    const luma = (bytes: Uint8Array, p: number): number => 0.299 * (bytes[p] as number) + 0.587 * (bytes[p + 1] as number) + 0.114 * (bytes[p + 2] as number);
    let err = 0;
    let baseline = 0;
    rgb.forEach((frame, t) => {
      const got = video.subarray(t * frame.length, (t + 1) * frame.length);
      const other = rgb[(t + 4) % rgb.length] as Uint8Array;
      for (let p = 0; p < frame.length; p += 3) {
        err += Math.abs(luma(got, p) - luma(frame, p));
        baseline += Math.abs(luma(other, p) - luma(frame, p));
      }
    });
    // Measured: 1.7 grey levels, against 28 for the wrong frame.
    expect(err / (video.length / 3)).toBeLessThan(4);
    expect(baseline).toBeGreaterThan(5 * err);
  });
  if (!HAVE_FFMPEG) console.warn(`outputs.test.ts: ${FFMPEG_SKIP_REASON}`);

  it('without ffmpeg: the PNGs are written, then the one clear error', async () => {
    const dir = join(root, 'no-ffmpeg');
    const empty = join(root, 'empty-path');
    mkdirSync(empty, { recursive: true });
    const saved = process.env.PATH;
    process.env.PATH = empty;
    let error: WanVideoError;
    try {
      error = await caught(writeVideoOutputs({ dir, name: 'tiny', frames: decoded.frames, shape: decoded.shape }));
    } finally {
      process.env.PATH = saved;
    }
    expect(error.code).toBe(WAN_VIDEO_ERROR_CODES.FFMPEG_MISSING);
    expect(error.message).toBe(FFMPEG_MISSING_MESSAGE);
    expect(readdirSync(dir).sort()).toEqual(['tiny.first.png', 'tiny.sheet.png']);
    expectPngs(dir, 'tiny');
  });

  it('checks every argument before writing anything', async () => {
    const dir = join(root, 'never');
    const bad = (overrides: Record<string, unknown>) => caught(writeVideoOutputs({ dir, name: 'x', frames: decoded.frames, shape: decoded.shape, ...overrides }));
    expect((await bad({ name: 'a/b' })).message).toMatch(/writeVideoOutputs: name is "a\/b": expected a file name without path separators/);
    expect((await bad({ name: '' })).code).toBe(WAN_VIDEO_ERROR_CODES.INVALID_INPUT);
    expect((await bad({ shape: [3, 9, 32, 47] })).message).toMatch(/framesToRgb8|frameToRgb8/);
    const odd = new Float32Array(3 * 2 * 3 * 5);
    expect((await bad({ frames: odd, shape: [3, 2, 3, 5] })).message).toBe(
      'writeVideoOutputs: width is 5: H.264 yuv420p needs an even width and height (crop or pad the frames by one pixel)',
    );
    expect((await bad({ sheet: { columns: 0 } })).message).toMatch(/contactSheet: columns is 0/);
    const controller = new AbortController();
    controller.abort();
    expect((await bad({ signal: controller.signal })).code).toBe(WAN_VIDEO_ERROR_CODES.ABORTED);
    expect(existsSync(dir)).toBe(false);
  });

  it.skipIf(!HAVE_FFMPEG)('an abort during the mp4 removes the PNGs too', async () => {
    const dir = join(root, 'aborted');
    const controller = new AbortController();
    const pending = writeVideoOutputs({ dir, name: 'tiny', frames: decoded.frames, shape: decoded.shape, signal: controller.signal });
    // The PNGs are written first; abort once they exist.
    while (!existsSync(join(dir, 'tiny.sheet.png'))) await new Promise((resolve) => setTimeout(resolve, 1));
    controller.abort();
    const error = await caught(pending);
    expect(error.code).toBe(WAN_VIDEO_ERROR_CODES.ABORTED);
    expect(readdirSync(dir)).toEqual([]);
  });
});
