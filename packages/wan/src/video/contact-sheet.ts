import { videoInputError } from './errors';
import type { Rgb8Image } from './png';

export interface ContactSheetOptions {
  /** The size of every frame. */
  readonly width: number;
  readonly height: number;
  /** Tiles per row (default `ceil(sqrt(n))` for n frames shown). */
  readonly columns?: number;
  /** Show frames 0, every, 2 every, ... (takes precedence over `count`). */
  readonly every?: number;
  /** Show `count` evenly spaced frames, the first and the last among them (default min(T, 9)). */
  readonly count?: number;
  /** Each tile is the frame shrunk by this integer factor (box average); default the smallest that makes tiles <= 480 pixels wide. */
  readonly shrink?: number;
  /** Pixels between tiles (default 4). */
  readonly gap?: number;
  /** The colour of the gaps and empty cells (default black). */
  readonly background?: readonly [number, number, number];
}

export interface ContactSheet extends Rgb8Image {
  /** The frames shown, left to right, top to bottom. */
  readonly frameIndices: readonly number[];
  readonly columns: number;
  readonly rows: number;
  readonly tileWidth: number;
  readonly tileHeight: number;
}

/** The frame indices a contact sheet of `total` frames shows: `every` k-th, or `count` evenly spaced (first and last included). */
export function contactSheetFrameIndices(options: { total: number; every?: number; count?: number }): number[] {
  const { total } = options;
  if (!Number.isSafeInteger(total) || total < 1) throw videoInputError('contactSheet', 'the number of frames', total, 'expected at least 1');
  if (options.every !== undefined) {
    const every = options.every;
    if (!Number.isSafeInteger(every) || every < 1) throw videoInputError('contactSheet', 'every', every, 'expected an integer >= 1');
    return Array.from({ length: Math.ceil(total / every) }, (_, i) => i * every);
  }
  const count = options.count ?? Math.min(total, 9);
  if (!Number.isSafeInteger(count) || count < 1) throw videoInputError('contactSheet', 'count', count, 'expected an integer >= 1');
  const n = Math.min(count, total);
  if (n === 1) return [0];
  return Array.from({ length: n }, (_, i) => Math.round((i * (total - 1)) / (n - 1)));
}

/**
 * One 8-bit RGB image of evenly spaced frames (8-bit RGB `[H, W, 3]` each, as framesToRgb8 returns them) in a grid,
 * each shrunk by an integer factor with a box average (edge boxes average the pixels they hold). Throws WanVideoError
 * (INVALID_INPUT) on bad sizes or options.
 */
export function contactSheet(frames: readonly Uint8Array[], options: ContactSheetOptions): ContactSheet {
  const bad = (input: string, value: unknown, rule: string): never => {
    throw videoInputError('contactSheet', input, value, rule);
  };
  const { width, height } = options;
  if (!Number.isSafeInteger(width) || width < 1) bad('width', width, 'expected an integer >= 1');
  if (!Number.isSafeInteger(height) || height < 1) bad('height', height, 'expected an integer >= 1');
  if (!Array.isArray(frames) || frames.length === 0) bad('frames', frames, 'expected a non-empty array of RGB8 frames');
  const indices = contactSheetFrameIndices({ total: frames.length, every: options.every, count: options.count });
  for (const i of indices) {
    const frame = frames[i];
    if (!(frame instanceof Uint8Array) || frame.length !== width * height * 3) bad(`frames[${i}]`, frame, `expected a Uint8Array of ${width * height * 3} bytes (${width} x ${height} x 3)`);
  }
  const n = indices.length;
  const columns = options.columns ?? Math.ceil(Math.sqrt(n));
  if (!Number.isSafeInteger(columns) || columns < 1) bad('columns', columns, 'expected an integer >= 1');
  const shrink = options.shrink ?? Math.max(1, Math.ceil(width / 480));
  if (!Number.isSafeInteger(shrink) || shrink < 1) bad('shrink', shrink, 'expected an integer >= 1');
  const gap = options.gap ?? 4;
  if (!Number.isSafeInteger(gap) || gap < 0) bad('gap', gap, 'expected an integer >= 0');
  const background = options.background ?? [0, 0, 0];
  if (!Array.isArray(background) || background.length !== 3 || !background.every((v) => Number.isInteger(v) && v >= 0 && v <= 255)) {
    bad('background', background, 'expected three integers in 0..255');
  }

  const cols = Math.min(columns, n);
  const rows = Math.ceil(n / cols);
  const tileWidth = Math.ceil(width / shrink);
  const tileHeight = Math.ceil(height / shrink);
  const sheetWidth = cols * tileWidth + (cols - 1) * gap;
  const sheetHeight = rows * tileHeight + (rows - 1) * gap;
  const rgb = new Uint8Array(sheetWidth * sheetHeight * 3);
  for (let p = 0; p < sheetWidth * sheetHeight; p++) rgb.set(background, 3 * p);

  indices.forEach((frameIndex, k) => {
    const frame = frames[frameIndex] as Uint8Array;
    const x0 = (k % cols) * (tileWidth + gap);
    const y0 = Math.floor(k / cols) * (tileHeight + gap);
    for (let ty = 0; ty < tileHeight; ty++) {
      const yEnd = Math.min(height, (ty + 1) * shrink);
      for (let tx = 0; tx < tileWidth; tx++) {
        const xEnd = Math.min(width, (tx + 1) * shrink);
        let r = 0;
        let g = 0;
        let b = 0;
        let count = 0;
        for (let y = ty * shrink; y < yEnd; y++) {
          for (let x = tx * shrink; x < xEnd; x++) {
            const src = 3 * (y * width + x);
            r += frame[src] as number;
            g += frame[src + 1] as number;
            b += frame[src + 2] as number;
            count++;
          }
        }
        const dst = 3 * ((y0 + ty) * sheetWidth + x0 + tx);
        const half = count >> 1;
        rgb[dst] = Math.floor((r + half) / count);
        rgb[dst + 1] = Math.floor((g + half) / count);
        rgb[dst + 2] = Math.floor((b + half) / count);
      }
    }
  });
  return { width: sheetWidth, height: sheetHeight, rgb, frameIndices: indices, columns: cols, rows, tileWidth, tileHeight };
}
