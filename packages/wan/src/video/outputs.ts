import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { type ContactSheet, type ContactSheetOptions, contactSheet, contactSheetFrameIndices } from './contact-sheet';
import { videoInputError, WAN_VIDEO_ERROR_CODES, WanVideoError } from './errors';
import { checkMp4Size, WAN_VIDEO_FPS, writeMp4, type WriteMp4Result } from './ffmpeg';
import { encodePng } from './png';
import { frameToRgb8, type Rgb8Rounding } from './rgb';

export interface WriteVideoOutputsOptions {
  /** The directory (created when missing). */
  readonly dir: string;
  /** The base name: `<name>.mp4`, `<name>.first.png`, `<name>.sheet.png` (no path separators). */
  readonly name: string;
  /** `[3, T, H, W]` RGB in [-1, 1], as wanVaeDecodeCpu returns it (H and W even). */
  readonly frames: Float32Array;
  readonly shape: readonly number[];
  /** Default 16 (Wan2.1's sample_fps). */
  readonly fps?: number;
  readonly signal?: AbortSignal;
  /** Byte mapping (default `truncate`, the reference's cache_video). */
  readonly rounding?: Rgb8Rounding;
  /** Contact sheet layout (default: 9 evenly spaced frames, 3 columns, tiles <= 480 pixels wide). */
  readonly sheet?: Omit<ContactSheetOptions, 'width' | 'height'>;
  readonly ffmpegPath?: string;
  readonly crf?: number;
  readonly preset?: string;
}

export interface WriteVideoOutputsResult {
  readonly mp4: WriteMp4Result;
  readonly firstFramePng: string;
  readonly contactSheetPng: string;
  readonly sheet: Omit<ContactSheet, 'rgb'>;
}

async function writeAtomically(path: string, data: Uint8Array): Promise<void> {
  const temporary = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.partial`;
  try {
    await writeFile(temporary, data);
    await rename(temporary, path);
  } catch (cause) {
    await rm(temporary, { force: true });
    throw new WanVideoError({ code: WAN_VIDEO_ERROR_CODES.IO_ERROR, message: `writeVideoOutputs: cannot write ${path} (${(cause as Error).message})`, path, cause });
  }
}

/**
 * Writes a decoded video's three outputs into `dir`: `<name>.first.png` (frame 0), `<name>.sheet.png` (a contact sheet
 * of evenly spaced frames) and `<name>.mp4` (H.264 yuv420p at 16 fps through ffmpeg, writeMp4), each under a
 * temporary name first. Every argument is checked before anything is written. The PNGs come first and stay when the
 * mp4 then fails (ffmpeg missing or failing), so a long generation leaves something to look at; an abort removes them.
 * Rejects with the WanVideoError of the step that failed.
 */
export async function writeVideoOutputs(options: WriteVideoOutputsOptions): Promise<WriteVideoOutputsResult> {
  const caller = 'writeVideoOutputs';
  const { dir, name, frames, shape, signal } = options;
  if (typeof dir !== 'string' || dir.length === 0) throw videoInputError(caller, 'dir', dir, 'expected a directory path');
  if (typeof name !== 'string' || name.length === 0 || /[/\\\0]/.test(name) || name === '.' || name === '..') {
    throw videoInputError(caller, 'name', name, 'expected a file name without path separators');
  }
  const rounding = options.rounding ?? 'truncate';
  // Validates frames, shape and rounding.
  const first = frameToRgb8({ frames, shape, rounding, index: 0 });
  const [, t, height, width] = shape as [number, number, number, number];
  checkMp4Size(caller, width, height);
  const sheetOptions = { ...options.sheet, width, height };
  // contactSheet reads only the frames it shows: a sparse array holding just those.
  const sheetFrames = new Array<Uint8Array>(t);
  for (const index of contactSheetFrameIndices({ total: t, every: sheetOptions.every, count: sheetOptions.count })) {
    sheetFrames[index] = index === 0 ? first : frameToRgb8({ frames, shape, rounding, index });
  }
  const sheet = contactSheet(sheetFrames, sheetOptions);
  if (signal?.aborted) {
    throw new WanVideoError({ code: WAN_VIDEO_ERROR_CODES.ABORTED, message: `${caller}: aborted before writing into ${dir}`, cause: signal.reason });
  }

  try {
    await mkdir(dir, { recursive: true });
  } catch (cause) {
    throw new WanVideoError({ code: WAN_VIDEO_ERROR_CODES.IO_ERROR, message: `${caller}: cannot create ${dir} (${(cause as Error).message})`, path: dir, cause });
  }
  const firstFramePng = join(dir, `${name}.first.png`);
  const contactSheetPng = join(dir, `${name}.sheet.png`);
  await writeAtomically(firstFramePng, encodePng({ width, height, rgb: first }));
  await writeAtomically(contactSheetPng, encodePng(sheet));

  function* rgbFrames(): Generator<Uint8Array> {
    for (let index = 0; index < t; index++) yield index === 0 ? first : frameToRgb8({ frames, shape, rounding, index });
  }
  let mp4: WriteMp4Result;
  try {
    mp4 = await writeMp4({
      path: join(dir, `${name}.mp4`),
      width,
      height,
      fps: options.fps ?? WAN_VIDEO_FPS,
      frames: rgbFrames(),
      signal,
      ffmpegPath: options.ffmpegPath,
      crf: options.crf,
      preset: options.preset,
    });
  } catch (error) {
    if (error instanceof WanVideoError && error.code === WAN_VIDEO_ERROR_CODES.ABORTED) {
      await rm(firstFramePng, { force: true });
      await rm(contactSheetPng, { force: true });
    }
    throw error;
  }
  const { rgb: _rgb, ...layout } = sheet;
  return { mp4, firstFramePng, contactSheetPng, sheet: layout };
}
