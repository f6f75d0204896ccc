import { crc32 as zlibCrc32, deflateSync } from 'node:zlib';
import { videoInputError } from './errors';

/** An 8-bit RGB image, rows top to bottom, pixels left to right, `rgb[3 * (y * width + x) + c]`. */
export interface Rgb8Image {
  readonly width: number;
  readonly height: number;
  readonly rgb: Uint8Array;
}

export interface EncodePngOptions extends Rgb8Image {
  /**
   * `adaptive` (default): each row gets the filter (None, Sub, Up, Average, Paeth) whose output has the smallest sum of
   * absolute values as signed bytes, the heuristic the PNG specification recommends; `none`: every row unfiltered.
   */
  readonly filter?: 'adaptive' | 'none';
  /** zlib compression level 0-9 (default 6). */
  readonly level?: number;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** The PNG specification's limit on a width, a height and a chunk's length. */
const MAX_U31 = 0x7fffffff;

/** CRC-32 (ISO 3309, polynomial 0xEDB88320, the one PNG and zlib use) of `bytes`, continuing from `crc` (zlib's). */
export function crc32(bytes: Uint8Array, crc = 0): number {
  return zlibCrc32(bytes, crc);
}

/** One chunk: length, type, data, CRC-32 of type and data. */
function chunk(type: string, data: Uint8Array): Buffer {
  if (data.length > MAX_U31) throw videoInputError('encodePng', `${type} chunk`, data.length, `a PNG chunk holds at most ${MAX_U31} bytes`);
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/**
 * Writes filter type `type` (0-4) of `row` (with `prev` the row above, zeros for the first) into `out` after the type
 * byte, and returns the sum of the filtered bytes as signed magnitudes.
 */
function filterRow(type: number, row: Uint8Array, prev: Uint8Array | null, out: Uint8Array): number {
  const bpp = 3;
  out[0] = type;
  let sum = 0;
  for (let i = 0; i < row.length; i++) {
    const x = row[i] as number;
    const a = i >= bpp ? (row[i - bpp] as number) : 0;
    const b = prev === null ? 0 : (prev[i] as number);
    const c = prev === null || i < bpp ? 0 : (prev[i - bpp] as number);
    let predictor: number;
    switch (type) {
      case 0:
        predictor = 0;
        break;
      case 1:
        predictor = a;
        break;
      case 2:
        predictor = b;
        break;
      case 3:
        predictor = (a + b) >>> 1;
        break;
      default:
        predictor = paeth(a, b, c);
    }
    const v = (x - predictor) & 0xff;
    out[i + 1] = v;
    sum += v < 128 ? v : 256 - v;
  }
  return sum;
}

/**
 * Encodes an 8-bit RGB image as a PNG (colour type 2, no interlace, one zlib-compressed IDAT chunk, a CRC-32 on every
 * chunk). Throws WanVideoError (INVALID_INPUT) when the sizes are not integers in 1..2^31-1 or `rgb` does not hold
 * `width * height * 3` bytes.
 */
export function encodePng(options: EncodePngOptions): Buffer {
  const { width, height, rgb } = options;
  const filter = options.filter ?? 'adaptive';
  const level = options.level ?? 6;
  const bad = (input: string, value: unknown, rule: string): never => {
    throw videoInputError('encodePng', input, value, rule);
  };
  if (!Number.isSafeInteger(width) || width < 1 || width > MAX_U31) bad('width', width, `expected an integer in 1..${MAX_U31}`);
  if (!Number.isSafeInteger(height) || height < 1 || height > MAX_U31) bad('height', height, `expected an integer in 1..${MAX_U31}`);
  if (!(rgb instanceof Uint8Array)) bad('rgb', rgb, 'expected a Uint8Array of RGB bytes');
  if (rgb.length !== width * height * 3) bad('rgb', rgb, `expected ${width * height * 3} bytes (${width} x ${height} x 3)`);
  if (filter !== 'adaptive' && filter !== 'none') bad('filter', filter, "expected 'adaptive' or 'none'");
  if (!Number.isInteger(level) || level < 0 || level > 9) bad('level', level, 'expected an integer in 0..9');

  const stride = width * 3;
  const raw = new Uint8Array(height * (stride + 1));
  const scratch = filter === 'adaptive' ? new Uint8Array(stride + 1) : null;
  for (let y = 0; y < height; y++) {
    const row = rgb.subarray(y * stride, (y + 1) * stride);
    const prev = y === 0 ? null : rgb.subarray((y - 1) * stride, y * stride);
    const out = raw.subarray(y * (stride + 1), (y + 1) * (stride + 1));
    if (scratch === null) {
      filterRow(0, row, prev, out);
      continue;
    }
    let best = filterRow(0, row, prev, out);
    for (let type = 1; type <= 4; type++) {
      const sum = filterRow(type, row, prev, scratch);
      if (sum < best) {
        best = sum;
        out.set(scratch);
      }
    }
  }

  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: truecolour (RGB)
  ihdr[10] = 0; // compression: deflate
  ihdr[11] = 0; // filter method: adaptive (the five row filters)
  ihdr[12] = 0; // no interlace
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level })), chunk('IEND', new Uint8Array(0))]);
}
