import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { access, rename, rm, stat } from 'node:fs/promises';
import { basename, delimiter, dirname, isAbsolute, join } from 'node:path';
import { FFMPEG_MISSING_MESSAGE, videoInputError, WAN_VIDEO_ERROR_CODES, WanVideoError } from './errors';

/** Wan2.1's `sample_fps`: the reference saves its videos at 16 frames per second. */
export const WAN_VIDEO_FPS = 16;
/**
 * The H.264 constant rate factor of the reference's videos: `cache_video` writes through imageio with `quality=8`,
 * which imageio-ffmpeg turns into `-crf int((1 - 8 / 10) * 51)` = 10 for libx264.
 */
export const WAN_VIDEO_CRF = 10;

export interface WriteMp4Options {
  /** The mp4 to write; it appears only when ffmpeg succeeded (written under a temporary name, then renamed). */
  readonly path: string;
  /** Frame size: both even (H.264 yuv420p halves the chroma). */
  readonly width: number;
  readonly height: number;
  /** Frames per second (default {@link WAN_VIDEO_FPS}, 16). */
  readonly fps?: number;
  /** 8-bit RGB frames `[H, W, 3]` (framesToRgb8), in order, consumed as ffmpeg takes them. */
  readonly frames: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  /** Aborting kills ffmpeg and removes the temporary file; the promise rejects with WanVideoError ABORTED. */
  readonly signal?: AbortSignal;
  /** The ffmpeg command (default `ffmpeg`, looked up on PATH). */
  readonly ffmpegPath?: string;
  /** libx264 constant rate factor 0-51 (default {@link WAN_VIDEO_CRF}, the reference's 10). */
  readonly crf?: number;
  /** libx264 preset (default `medium`, x264's own default and the reference's). */
  readonly preset?: string;
  /** Called after each frame has been handed to ffmpeg, with the number handed so far. */
  readonly onFrame?: (framesWritten: number) => void;
}

export interface WriteMp4Result {
  readonly path: string;
  readonly frames: number;
  readonly bytes: number;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
}

const X264_PRESETS = ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow', 'placebo'];
const STDERR_KEEP = 4096;

/** The ffmpeg arguments writeMp4 uses: raw RGB24 frames on stdin, H.264 yuv420p in an mp4 with the index up front. */
export function ffmpegMp4Args(options: { width: number; height: number; fps: number; crf: number; preset: string; output: string }): string[] {
  const { width, height, fps, crf, preset, output } = options;
  return [
    '-hide_banner', '-nostats', '-loglevel', 'error', '-y',
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', String(fps), '-i', '-',
    '-an', '-c:v', 'libx264', '-preset', preset, '-crf', String(crf), '-pix_fmt', 'yuv420p', '-movflags', '+faststart',
    '-f', 'mp4', output,
  ];
}

/** The error of a missing ffmpeg: the one clear message for the default command, the path otherwise. */
function missingError(command: string, cause: unknown): WanVideoError {
  const message =
    command === 'ffmpeg'
      ? FFMPEG_MISSING_MESSAGE
      : `ffmpeg was not found at ${JSON.stringify(command)} (ffmpegPath): install it (Debian/Ubuntu: apt-get install -y ffmpeg) or fix the path`;
  return new WanVideoError({ code: WAN_VIDEO_ERROR_CODES.FFMPEG_MISSING, message, cause });
}

/** Checks writeMp4's sizes (also used by writeVideoOutputs before it writes anything). */
export function checkMp4Size(caller: string, width: unknown, height: unknown): void {
  for (const [name, value] of [['width', width], ['height', height]] as const) {
    if (!Number.isSafeInteger(value) || (value as number) < 2) throw videoInputError(caller, name, value, 'expected an even integer >= 2');
    if ((value as number) % 2 !== 0) {
      throw videoInputError(caller, name, value, 'H.264 yuv420p needs an even width and height (crop or pad the frames by one pixel)');
    }
  }
}

type Exit = { readonly code: number | null; readonly signal: NodeJS.Signals | null };
type Step<T> = { readonly kind: 'value'; readonly value: T } | { readonly kind: 'exit'; readonly exit: Exit } | { readonly kind: 'abort' };

/**
 * Encodes frames to an H.264 (yuv420p) mp4 with ffmpeg: `ffmpeg -f rawvideo -pix_fmt rgb24 -s WxH -r 16 -i - -c:v
 * libx264 -preset medium -crf 10 -pix_fmt yuv420p -movflags +faststart` into a temporary file next to `path`, each
 * frame written to ffmpeg's stdin as it comes (waiting for the pipe to drain), then renamed to `path`. On any failure
 * or abort ffmpeg is killed and the temporary file removed, and the promise rejects with a WanVideoError:
 * FFMPEG_MISSING (`ffmpeg was not found on PATH: install it (Debian/Ubuntu: apt-get install -y ffmpeg)`),
 * FFMPEG_FAILED (with ffmpeg's stderr), INVALID_INPUT (odd sizes, a frame of the wrong length, no frames), ABORTED
 * or IO_ERROR (the directory is missing or not writable). An error thrown by `frames` itself propagates unchanged.
 */
export async function writeMp4(options: WriteMp4Options): Promise<WriteMp4Result> {
  const caller = 'writeMp4';
  const { path, width, height, frames, signal } = options;
  const fps = options.fps ?? WAN_VIDEO_FPS;
  const crf = options.crf ?? WAN_VIDEO_CRF;
  const preset = options.preset ?? 'medium';
  const command = options.ffmpegPath ?? 'ffmpeg';
  if (typeof path !== 'string' || path.length === 0) throw videoInputError(caller, 'path', path, 'expected a file path');
  checkMp4Size(caller, width, height);
  if (typeof fps !== 'number' || !Number.isFinite(fps) || fps <= 0 || fps > 1000) throw videoInputError(caller, 'fps', fps, 'expected a number in (0, 1000]');
  if (!Number.isInteger(crf) || crf < 0 || crf > 51) throw videoInputError(caller, 'crf', crf, 'expected an integer in 0..51');
  if (!X264_PRESETS.includes(preset)) throw videoInputError(caller, 'preset', preset, `expected one of ${X264_PRESETS.join(', ')}`);
  if (typeof command !== 'string' || command.length === 0) throw videoInputError(caller, 'ffmpegPath', command, 'expected a command or path');
  const iterable = frames as unknown;
  const isAsync = typeof iterable === 'object' && iterable !== null && Symbol.asyncIterator in iterable;
  const isSync = typeof iterable === 'object' && iterable !== null && Symbol.iterator in iterable;
  if (!isAsync && !isSync) throw videoInputError(caller, 'frames', frames, 'expected an array or (async) iterable of RGB8 frames');
  const abortedError = (): WanVideoError =>
    new WanVideoError({ code: WAN_VIDEO_ERROR_CODES.ABORTED, message: `${caller}: aborted writing ${path}`, path, cause: signal?.reason });
  if (signal?.aborted) throw abortedError();

  const dir = dirname(path);
  try {
    await access(dir, fsConstants.W_OK);
  } catch (cause) {
    throw new WanVideoError({ code: WAN_VIDEO_ERROR_CODES.IO_ERROR, message: `${caller}: cannot write into ${dir} (${(cause as Error).message})`, path, cause });
  }
  const temporary = join(dir, `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.partial`);
  const frameBytes = width * height * 3;

  let stderr = '';
  const child: ChildProcess = spawn(command, ffmpegMp4Args({ width, height, fps, crf, preset, output: temporary }), {
    stdio: ['pipe', 'ignore', 'pipe'],
    windowsHide: true,
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    stderr = (stderr + text).slice(-STDERR_KEEP);
  });
  child.stdin?.on('error', () => {
    // EPIPE when ffmpeg exits early: reported through its exit status and stderr below.
  });
  const exited = new Promise<Exit>((resolve) => {
    child.once('close', (code, sig) => resolve({ code, signal: sig }));
  });
  const started = await new Promise<{ ok: true } | { ok: false; error: NodeJS.ErrnoException }>((resolve) => {
    child.once('spawn', () => resolve({ ok: true }));
    child.once('error', (error: NodeJS.ErrnoException) => resolve({ ok: false, error }));
  });
  if (!started.ok) {
    await rm(temporary, { force: true });
    if (started.error.code === 'ENOENT') throw missingError(command, started.error);
    throw new WanVideoError({
      code: WAN_VIDEO_ERROR_CODES.FFMPEG_FAILED,
      message: `${caller}: could not run ${command} (${started.error.message})`,
      path,
      cause: started.error,
    });
  }
  child.on('error', () => {
    // A kill() failure after the spawn: the exit promise still settles.
  });

  let removeAbortListener = (): void => {};
  const abortStep = new Promise<Step<never>>((resolve) => {
    if (signal === undefined) return;
    if (signal.aborted) {
      resolve({ kind: 'abort' }); // aborted while ffmpeg was starting
      return;
    }
    const onAbort = (): void => resolve({ kind: 'abort' });
    signal.addEventListener('abort', onAbort, { once: true });
    removeAbortListener = () => signal.removeEventListener('abort', onAbort);
  });
  const exitStep = exited.then((exit): Step<never> => ({ kind: 'exit', exit }));
  const race = <T>(promise: Promise<T>): Promise<Step<T>> => {
    promise.catch(() => {}); // a pending next() or drain left behind by an abort must not become unhandled
    return Promise.race([promise.then((value): Step<T> => ({ kind: 'value', value })), abortStep, exitStep]);
  };
  const failed = (exit: Exit, when: string): WanVideoError => {
    const lines = stderr.trim().split('\n').filter((line) => line.trim().length > 0);
    const last = lines.length > 0 ? `: ${(lines.at(-1) as string).trim().slice(0, 300)}` : '';
    const how = exit.signal !== null ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    return new WanVideoError({ code: WAN_VIDEO_ERROR_CODES.FFMPEG_FAILED, message: `${caller}: ffmpeg ${how} ${when} writing ${path}${last}`, path, stderr });
  };

  const iterator = isAsync
    ? (frames as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]()
    : ((frames as Iterable<Uint8Array>)[Symbol.iterator]() as Iterator<Uint8Array> & Partial<AsyncIterator<Uint8Array>>);
  let iteratorDone = false;
  let written = 0;
  try {
    const stdin = child.stdin;
    if (stdin === null) throw new Error('ffmpeg has no stdin');
    for (;;) {
      const step = await race(Promise.resolve(iterator.next()));
      if (step.kind === 'abort') throw abortedError();
      if (step.kind === 'exit') throw failed(step.exit, `after ${written} frame${written === 1 ? '' : 's'}`);
      if (step.value.done === true) {
        iteratorDone = true;
        break;
      }
      const frame = step.value.value as unknown;
      if (!(frame instanceof Uint8Array) || frame.length !== frameBytes) {
        throw videoInputError(caller, `frame ${written}`, frame, `expected a Uint8Array of ${frameBytes} bytes (${width} x ${height} x 3 RGB)`);
      }
      // A copy: the caller may reuse its buffer once we ask for the next frame, while the pipe still queues this one.
      if (!stdin.write(Buffer.from(frame))) {
        const drained = await race(new Promise<void>((resolve) => stdin.once('drain', resolve)));
        if (drained.kind === 'abort') throw abortedError();
        if (drained.kind === 'exit') throw failed(drained.exit, `after ${written} frame${written === 1 ? '' : 's'}`);
      }
      written++;
      options.onFrame?.(written);
    }
    if (written === 0) throw videoInputError(caller, 'frames', frames, 'expected at least one frame');
    stdin.end();
    const end = await race(exited);
    if (end.kind === 'abort') throw abortedError();
    const exit = end.kind === 'value' ? end.value : end.exit;
    if (exit.code !== 0 || exit.signal !== null) throw failed(exit, `at the end (${written} frames)`);
    try {
      await rename(temporary, path);
    } catch (cause) {
      throw new WanVideoError({ code: WAN_VIDEO_ERROR_CODES.IO_ERROR, message: `${caller}: cannot move the finished video to ${path} (${(cause as Error).message})`, path, cause });
    }
    const { size } = await stat(path);
    return { path, frames: written, bytes: size, width, height, fps };
  } catch (error) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    await rm(temporary, { force: true });
    if (!iteratorDone && typeof iterator.return === 'function') {
      // Let a generator run its finally blocks. Not awaited: an async generator still inside a next() that never
      // settles would hold return() (and us) forever; its own failure there must not hide ours either.
      void Promise.resolve()
        .then(() => iterator.return?.())
        .catch(() => {});
    }
    throw error;
  } finally {
    removeAbortListener();
  }
}

/** What {@link ffmpegStatus} finds, for a doctor command. */
export interface FfmpegStatus {
  /** ffmpeg runs and has the libx264 encoder: writeMp4 will work. */
  readonly ok: boolean;
  /** The command looked for, and where PATH resolves it (null when not found, or when the command is a path). */
  readonly command: string;
  readonly path: string | null;
  /** `5.1.6-0+deb12u1` from `ffmpeg -version`, or null. */
  readonly version: string | null;
  /** Whether `ffmpeg -encoders` lists libx264 (null when ffmpeg did not run). */
  readonly libx264: boolean | null;
  /** ffprobe (used by the tests and for checking outputs): its version, or null when absent. */
  readonly ffprobeVersion: string | null;
  /** Why `ok` is false, in words with the fix, or null. */
  readonly problem: string | null;
}

function run(command: string, args: string[]): Promise<{ ok: true; stdout: string } | { ok: false; error: NodeJS.ErrnoException }> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 15_000, maxBuffer: 4 << 20, windowsHide: true }, (error, stdout) => {
      resolve(error === null ? { ok: true, stdout: String(stdout) } : { ok: false, error: error as NodeJS.ErrnoException });
    });
  });
}

/** The first executable `command` in PATH's directories, or null (a command with a slash is returned as it is when executable). */
async function whichCommand(command: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  const candidates = command.includes('/') || isAbsolute(command) ? [command] : (env.PATH ?? '').split(delimiter).filter((d) => d.length > 0).map((d) => join(d, command));
  for (const candidate of candidates) {
    try {
      await access(candidate, fsConstants.X_OK);
      if ((await stat(candidate)).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

const versionOf = (stdout: string): string | null => /version\s+(\S+)/.exec(stdout)?.[1] ?? null;

/**
 * Whether writeMp4 can work here: ffmpeg found on PATH (or at `ffmpegPath`), its version, whether it has libx264, and
 * ffprobe's version. Never throws; `problem` says what is wrong and how to fix it.
 */
export async function ffmpegStatus(options: { ffmpegPath?: string; ffprobePath?: string } = {}): Promise<FfmpegStatus> {
  const command = options.ffmpegPath ?? 'ffmpeg';
  const path = await whichCommand(command, process.env);
  const probe = await run(options.ffprobePath ?? 'ffprobe', ['-hide_banner', '-version']);
  const ffprobeVersion = probe.ok ? versionOf(probe.stdout) : null;
  const base = { command, path, ffprobeVersion };
  const version = await run(command, ['-hide_banner', '-version']);
  if (!version.ok) {
    const problem = version.error.code === 'ENOENT' ? missingError(command, version.error).message : `${command} -version failed: ${version.error.message}`;
    return { ...base, ok: false, version: null, libx264: null, problem };
  }
  const encoders = await run(command, ['-hide_banner', '-encoders']);
  const libx264 = encoders.ok && /\slibx264\s/.test(encoders.stdout);
  return {
    ...base,
    ok: libx264,
    version: versionOf(version.stdout),
    libx264,
    problem: libx264 ? null : `${command} has no libx264 encoder: install a build with it (Debian/Ubuntu: apt-get install -y ffmpeg)`,
  };
}

/** One line for a doctor command: `ffmpeg 5.1.6-0+deb12u1 (/usr/bin/ffmpeg, libx264)` or the problem. */
export function formatFfmpegStatus(status: FfmpegStatus): string {
  if (!status.ok) return `ffmpeg: ${status.problem}`;
  return `ffmpeg ${status.version ?? '(unknown version)'} (${status.path ?? status.command}, libx264)`;
}
