import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeWithFfmpeg, FFMPEG_SKIP_REASON, HAVE_FFMPEG, probeVideo } from './_video.test-helpers';
import { FFMPEG_MISSING_MESSAGE, WAN_VIDEO_ERROR_CODES, WanVideoError } from './errors';
import { ffmpegMp4Args, ffmpegStatus, formatFfmpegStatus, writeMp4 } from './ffmpeg';

const root = mkdtempSync(join(tmpdir(), 'fpsattn-mp4-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirCount = 0;
const freshDir = (): string => {
  const dir = join(root, `case-${dirCount++}`);
  mkdirSync(dir);
  return dir;
};

/** A moving smooth gradient (H.264 keeps it close): frame t, pixel (x, y). */
function gradientFrame(t: number, width: number, height: number): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = 3 * (y * width + x);
      rgb[p] = Math.round((255 * x) / (width - 1));
      rgb[p + 1] = Math.round((255 * y) / (height - 1));
      rgb[p + 2] = (t * 12) & 0xff;
    }
  }
  return rgb;
}

async function caught(promise: Promise<unknown>): Promise<WanVideoError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(WanVideoError);
    return error as WanVideoError;
  }
  throw new Error('expected a rejection');
}

async function withPath<T>(path: string, body: () => Promise<T>): Promise<T> {
  const saved = process.env.PATH;
  process.env.PATH = path;
  try {
    return await body();
  } finally {
    process.env.PATH = saved;
  }
}

/** A stand-in for ffmpeg: a shell script (runs without ffmpeg installed). */
function fakeFfmpeg(body: string): string {
  const path = join(root, `fake-ffmpeg-${dirCount++}.sh`);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

describe('writeMp4 without a working ffmpeg (always runs)', () => {
  it('a missing ffmpeg is one clear error, and nothing is left behind', async () => {
    const dir = freshDir();
    const empty = freshDir();
    const error = await withPath(empty, () => caught(writeMp4({ path: join(dir, 'v.mp4'), width: 4, height: 2, frames: [new Uint8Array(24)] })));
    expect(error.code).toBe(WAN_VIDEO_ERROR_CODES.FFMPEG_MISSING);
    expect(error.code).toBe('FPSATTN_WAN_VIDEO_FFMPEG_MISSING');
    expect(error.message).toBe('ffmpeg was not found on PATH: install it (Debian/Ubuntu: apt-get install -y ffmpeg)');
    expect(error.message).toBe(FFMPEG_MISSING_MESSAGE);
    expect(readdirSync(dir)).toEqual([]);
    const custom = await caught(writeMp4({ path: join(dir, 'v.mp4'), width: 4, height: 2, frames: [new Uint8Array(24)], ffmpegPath: join(empty, 'ffmpeg') }));
    expect(custom.code).toBe(WAN_VIDEO_ERROR_CODES.FFMPEG_MISSING);
    expect(custom.message).toMatch(/^ffmpeg was not found at ".*ffmpeg" \(ffmpegPath\): install it \(Debian\/Ubuntu: apt-get install -y ffmpeg\)/);
  });

  it('rejects odd sizes for yuv420p and other bad arguments before starting ffmpeg', async () => {
    const path = join(freshDir(), 'v.mp4');
    const frames = [new Uint8Array(33 * 2 * 3)];
    const odd = await caught(writeMp4({ path, width: 33, height: 2, frames }));
    expect(odd.code).toBe(WAN_VIDEO_ERROR_CODES.INVALID_INPUT);
    expect(odd.message).toBe('writeMp4: width is 33: H.264 yuv420p needs an even width and height (crop or pad the frames by one pixel)');
    expect((await caught(writeMp4({ path, width: 4, height: 5, frames }))).message).toMatch(/height is 5: H\.264 yuv420p needs an even/);
    expect((await caught(writeMp4({ path, width: 0, height: 2, frames }))).message).toMatch(/width is 0: expected an even integer >= 2/);
    expect((await caught(writeMp4({ path, width: 4, height: 2, fps: 0, frames }))).message).toMatch(/fps is 0/);
    expect((await caught(writeMp4({ path, width: 4, height: 2, crf: 52, frames }))).message).toMatch(/crf is 52/);
    expect((await caught(writeMp4({ path, width: 4, height: 2, preset: 'quick', frames }))).message).toMatch(/preset is "quick"/);
    expect((await caught(writeMp4({ path, width: 4, height: 2, frames: 3 as never }))).message).toMatch(/frames is 3: expected an array or \(async\) iterable/);
  });

  it('an already aborted signal and a missing directory fail before ffmpeg starts', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    const aborted = await caught(writeMp4({ path: join(freshDir(), 'v.mp4'), width: 4, height: 2, frames: [], signal: controller.signal }));
    expect(aborted.code).toBe(WAN_VIDEO_ERROR_CODES.ABORTED);
    expect((aborted.cause as Error).message).toBe('stop');
    const io = await caught(writeMp4({ path: join(root, 'no', 'such', 'dir', 'v.mp4'), width: 4, height: 2, frames: [new Uint8Array(24)] }));
    expect(io.code).toBe(WAN_VIDEO_ERROR_CODES.IO_ERROR);
    expect(io.message).toMatch(/writeMp4: cannot write into .*no\/such\/dir/);
  });

  it('an abort while ffmpeg is starting is not missed', async () => {
    const dir = freshDir();
    const controller = new AbortController();
    const pending = caught(writeMp4({ path: join(dir, 'v.mp4'), width: 4, height: 2, frames: [new Uint8Array(24)], signal: controller.signal, ffmpegPath: fakeFfmpeg('cat > /dev/null') }));
    controller.abort(); // after the synchronous checks, before the spawn completes
    expect((await pending).code).toBe(WAN_VIDEO_ERROR_CODES.ABORTED);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('reports ffmpeg failing (early, or at the end) with its stderr, and removes the temporary file', async () => {
    const dir = freshDir();
    const early = await caught(
      writeMp4({ path: join(dir, 'v.mp4'), width: 4, height: 2, frames: [new Uint8Array(24)], ffmpegPath: fakeFfmpeg('echo "Unknown encoder libx264" >&2; exit 1') }),
    );
    expect(early.code).toBe(WAN_VIDEO_ERROR_CODES.FFMPEG_FAILED);
    expect(early.message).toMatch(/^writeMp4: ffmpeg exited with code 1 .*writing .*v\.mp4: Unknown encoder libx264$/);
    expect(early.stderr).toContain('Unknown encoder libx264');
    // Writes its output (the last argument) and fails only after reading all input.
    const late = await caught(
      writeMp4({
        path: join(dir, 'v.mp4'),
        width: 4,
        height: 2,
        frames: [new Uint8Array(24), new Uint8Array(24)],
        ffmpegPath: fakeFfmpeg('for last; do :; done; cat > "$last"; echo "muxer failed" >&2; exit 3'),
      }),
    );
    expect(late.message).toMatch(/ffmpeg exited with code 3 at the end \(2 frames\) writing .*: muxer failed$/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('ffmpegStatus reports a missing ffmpeg with the fix', async () => {
    const status = await withPath(freshDir(), () => ffmpegStatus());
    expect(status).toMatchObject({ ok: false, path: null, version: null, libx264: null, ffprobeVersion: null, problem: FFMPEG_MISSING_MESSAGE });
    expect(formatFfmpegStatus(status)).toBe(`ffmpeg: ${FFMPEG_MISSING_MESSAGE}`);
  });

  it('builds the documented ffmpeg command', () => {
    expect(ffmpegMp4Args({ width: 832, height: 480, fps: 16, crf: 10, preset: 'medium', output: 'o.partial' }).join(' ')).toBe(
      '-hide_banner -nostats -loglevel error -y -f rawvideo -pix_fmt rgb24 -s 832x480 -r 16 -i - -an -c:v libx264 -preset medium -crf 10 -pix_fmt yuv420p -movflags +faststart -f mp4 o.partial',
    );
  });
});

if (!HAVE_FFMPEG) console.warn(`mp4.test.ts: ${FFMPEG_SKIP_REASON}`);

describe.skipIf(!HAVE_FFMPEG)('writeMp4 with ffmpeg (checked with ffprobe)', () => {
  it('streams frames from an async generator into an H.264 yuv420p mp4 at 16 fps', async () => {
    const dir = freshDir();
    const [w, h, n] = [64, 48, 20];
    async function* frames(): AsyncGenerator<Uint8Array> {
      for (let t = 0; t < n; t++) {
        await new Promise((resolve) => setImmediate(resolve));
        yield gradientFrame(t, w, h);
      }
    }
    const progress: number[] = [];
    const result = await writeMp4({ path: join(dir, 'clip.mp4'), width: w, height: h, frames: frames(), onFrame: (k) => progress.push(k) });
    expect(result).toMatchObject({ path: join(dir, 'clip.mp4'), frames: n, width: w, height: h, fps: 16 });
    expect(result.bytes).toBeGreaterThan(0);
    expect(progress).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(readdirSync(dir)).toEqual(['clip.mp4']);
    expect(probeVideo(result.path)).toEqual({ codec: 'h264', width: w, height: h, pixFmt: 'yuv420p', frameRate: '16/1', frames: n });
    // Lossy, but close on smooth content at crf 10.
    const decoded = decodeWithFfmpeg(result.path);
    expect(decoded.length).toBe(n * w * h * 3);
    for (const t of [0, n - 1]) {
      const want = gradientFrame(t, w, h);
      let err = 0;
      for (let i = 0; i < want.length; i++) err += Math.abs((decoded[t * want.length + i] as number) - (want[i] as number));
      expect(err / want.length, `mean absolute error of frame ${t}`).toBeLessThan(3);
    }
  });

  it('takes an array, a 24 fps rate, and large frames that fill the pipe (backpressure), replacing an existing file', async () => {
    const dir = freshDir();
    const [w, h] = [640, 360];
    const path = join(dir, 'big.mp4');
    writeFileSync(path, 'old');
    const frames = Array.from({ length: 6 }, (_, t) => gradientFrame(t, w, h));
    const result = await writeMp4({ path, width: w, height: h, fps: 24, frames, preset: 'ultrafast' });
    expect(result.frames).toBe(6);
    expect(probeVideo(path)).toEqual({ codec: 'h264', width: w, height: h, pixFmt: 'yuv420p', frameRate: '24/1', frames: 6 });
    expect(readdirSync(dir)).toEqual(['big.mp4']);
  });

  it('a frame of the wrong length, an error from the frames, or an abort kill ffmpeg and leave nothing behind', async () => {
    const dir = freshDir();
    const path = join(dir, 'v.mp4');
    const finallyRan: string[] = [];
    async function* frames(label: string, bad: 'length' | 'throw' | 'none'): AsyncGenerator<Uint8Array> {
      try {
        for (let t = 0; ; t++) {
          await new Promise((resolve) => setTimeout(resolve, 5));
          if (t === 3 && bad === 'length') yield new Uint8Array(5);
          if (t === 3 && bad === 'throw') throw new Error('decoder failed');
          yield gradientFrame(t, 32, 16);
        }
      } finally {
        finallyRan.push(label);
      }
    }
    const wrong = await caught(writeMp4({ path, width: 32, height: 16, frames: frames('length', 'length') }));
    expect(wrong.code).toBe(WAN_VIDEO_ERROR_CODES.INVALID_INPUT);
    expect(wrong.message).toBe('writeMp4: frame 3 is a Uint8Array of 5 values: expected a Uint8Array of 1536 bytes (32 x 16 x 3 RGB)');

    await expect(writeMp4({ path, width: 32, height: 16, frames: frames('throw', 'throw') })).rejects.toThrow(/^decoder failed$/);

    const controller = new AbortController();
    const aborted = caught(writeMp4({ path, width: 32, height: 16, frames: frames('abort', 'none'), signal: controller.signal, onFrame: (k) => k === 4 && controller.abort('user') }));
    const error = await aborted;
    expect(error.code).toBe(WAN_VIDEO_ERROR_CODES.ABORTED);
    expect(error.message).toBe(`writeMp4: aborted writing ${path}`);
    expect(error.cause).toBe('user');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(finallyRan.sort()).toEqual(['abort', 'length', 'throw']);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('an abort while the frames are stuck still ends at once', async () => {
    const dir = freshDir();
    const controller = new AbortController();
    const stuck: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => ({ next: () => new Promise<IteratorResult<Uint8Array>>(() => {}) }),
    };
    setTimeout(() => controller.abort(), 100);
    const error = await caught(writeMp4({ path: join(dir, 'v.mp4'), width: 4, height: 2, frames: stuck, signal: controller.signal }));
    expect(error.code).toBe(WAN_VIDEO_ERROR_CODES.ABORTED);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('no frames is an error', async () => {
    const dir = freshDir();
    const error = await caught(writeMp4({ path: join(dir, 'v.mp4'), width: 4, height: 2, frames: [] }));
    expect(error.message).toMatch(/writeMp4: frames is \[\]: expected at least one frame/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('ffmpegStatus finds ffmpeg, its version, libx264 and ffprobe', async () => {
    const status = await ffmpegStatus();
    expect(status.ok).toBe(true);
    expect(status.libx264).toBe(true);
    expect(status.path).toMatch(/ffmpeg$/);
    expect(status.version).toMatch(/^\S+$/);
    expect(status.ffprobeVersion).toMatch(/^\S+$/);
    expect(status.problem).toBeNull();
    expect(formatFfmpegStatus(status)).toMatch(/^ffmpeg \S+ \(.*ffmpeg, libx264\)$/);
  });
});
