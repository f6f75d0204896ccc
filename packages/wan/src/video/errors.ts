import { FpsAttnError } from '@fpsattn/fp8';
import { show } from '../model/_show';

/** The codes of the errors the video output of @fpsattn/wan (PNG, contact sheet, mp4 through ffmpeg) throws. */
export const WAN_VIDEO_ERROR_CODES = Object.freeze({
  /** ffmpeg (or the `ffmpegPath` given) was not found: install it (Debian/Ubuntu: `apt-get install -y ffmpeg`). */
  FFMPEG_MISSING: 'FPSATTN_WAN_VIDEO_FFMPEG_MISSING',
  /** ffmpeg ran and failed (a non-zero exit, killed by a signal, or it closed its input early): `stderr` holds its last lines. */
  FFMPEG_FAILED: 'FPSATTN_WAN_VIDEO_FFMPEG_FAILED',
  /** An argument breaks a rule: a size (odd for yuv420p, not an integer), a frame of the wrong length, a non-finite pixel, ... */
  INVALID_INPUT: 'FPSATTN_WAN_VIDEO_INVALID_INPUT',
  /** Writing was aborted through an `AbortSignal`; `cause` is the signal's reason. Nothing is left on disk. */
  ABORTED: 'FPSATTN_WAN_VIDEO_ABORTED',
  /** The file system failed (a missing directory, permissions, a full disk): `cause` holds Node's error. */
  IO_ERROR: 'FPSATTN_WAN_VIDEO_IO_ERROR',
} as const);

export type WanVideoErrorCode = (typeof WAN_VIDEO_ERROR_CODES)[keyof typeof WAN_VIDEO_ERROR_CODES];

/** The message of {@link WAN_VIDEO_ERROR_CODES.FFMPEG_MISSING} for the default command. */
export const FFMPEG_MISSING_MESSAGE = 'ffmpeg was not found on PATH: install it (Debian/Ubuntu: apt-get install -y ffmpeg)';

/**
 * An error of the video output, e.g. `ffmpeg was not found on PATH: install it (Debian/Ubuntu: apt-get install -y
 * ffmpeg)`, `writeMp4: width is 33: H.264 yuv420p needs an even width and height`, or `writeMp4: ffmpeg exited with
 * code 1 writing out/video.mp4: <its last stderr line>`.
 */
export class WanVideoError extends FpsAttnError {
  declare readonly code: WanVideoErrorCode;
  /** The file being written, or null. */
  readonly path: string | null;
  /** ffmpeg's standard error (its last 4 KiB), for FFMPEG_FAILED; otherwise null. */
  readonly stderr: string | null;

  constructor(options: { code: WanVideoErrorCode; message: string; path?: string | null; stderr?: string | null; cause?: unknown }) {
    super({ code: options.code, message: options.message, cause: options.cause });
    this.name = 'WanVideoError';
    this.path = options.path ?? null;
    this.stderr = options.stderr ?? null;
  }
}

/** `caller: input is value: rule` as an INVALID_INPUT error. */
export function videoInputError(caller: string, input: string, value: unknown, rule: string): WanVideoError {
  return new WanVideoError({ code: WAN_VIDEO_ERROR_CODES.INVALID_INPUT, message: `${caller}: ${input} is ${show(value)}: ${rule}` });
}
