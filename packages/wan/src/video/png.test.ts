import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { bitwiseCrc32, decodePng, decodeWithFfmpeg, decodeWithPil, FFMPEG_SKIP_REASON, HAVE_FFMPEG, HAVE_PIL } from './_video.test-helpers';
import { WAN_VIDEO_ERROR_CODES, WanVideoError } from './errors';
import { crc32, encodePng } from './png';

function randomImage(width: number, height: number, seed: number): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  let s = seed >>> 0;
  for (let i = 0; i < rgb.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    rgb[i] = s >>> 24;
  }
  return rgb;
}

/** Smooth content: gradients in x and y, so Sub, Up, Average and Paeth beat None on many rows. */
function gradientImage(width: number, height: number): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = 3 * (y * width + x);
      rgb[p] = (x * 7) & 0xff;
      rgb[p + 1] = (y * 5) & 0xff;
      rgb[p + 2] = (x * 3 + y * 2 + ((x * y) % 3)) & 0xff;
    }
  }
  return rgb;
}

describe('crc32', () => {
  it('gives the standard check value and matches a bitwise CRC-32 (and zlib.crc32 where Node has it)', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.from('IEND'))).toBe(0xae426082);
    expect(crc32(new Uint8Array(0))).toBe(0);
    const data = randomImage(50, 20, 7);
    expect(crc32(data)).toBe(bitwiseCrc32(data));
    expect(crc32(data.subarray(1000), crc32(data.subarray(0, 1000)))).toBe(crc32(data));
    const nodeCrc = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
    if (typeof nodeCrc === 'function') expect(crc32(data)).toBe(nodeCrc(data));
  });
});

describe('encodePng', () => {
  it('writes the signature, an exact IHDR, one IDAT and the standard IEND', () => {
    const png = encodePng({ width: 3, height: 2, rgb: randomImage(3, 2, 1) });
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    // IHDR: length 13, "IHDR", width 3, height 2, depth 8, colour type 2, compression 0, filter 0, interlace 0.
    expect([...png.subarray(8, 8 + 8 + 13)]).toEqual([0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 3, 0, 0, 0, 2, 8, 2, 0, 0, 0]);
    expect([...png.subarray(png.length - 12)]).toEqual([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);
    expect(decodePng(png).chunkTypes).toEqual(['IHDR', 'IDAT', 'IEND']);
  });

  it.each([
    ['random 37 x 23', 37, 23, randomImage(37, 23, 3)],
    ['gradient 64 x 40', 64, 40, gradientImage(64, 40)],
    ['1 x 1', 1, 1, new Uint8Array([255, 0, 128])],
    ['1 x 17 (one column)', 1, 17, randomImage(1, 17, 5)],
    ['29 x 1 (one row)', 29, 1, gradientImage(29, 1)],
  ])('round-trips %s through a decoder, adaptive and unfiltered', (_label, width, height, rgb) => {
    for (const filter of ['adaptive', 'none'] as const) {
      for (const level of [0, 6, 9]) {
        const decoded = decodePng(encodePng({ width, height, rgb, filter, level }));
        expect([decoded.width, decoded.height]).toEqual([width, height]);
        expect(Buffer.from(decoded.rgb).equals(Buffer.from(rgb))).toBe(true);
        if (filter === 'none') expect(decoded.filterTypes.every((t) => t === 0)).toBe(true);
      }
    }
  });

  it('chooses filters per row (smooth content gets Sub, Up, Average or Paeth rows and compresses better than unfiltered)', () => {
    const rgb = gradientImage(96, 64);
    const adaptive = encodePng({ width: 96, height: 64, rgb });
    const none = encodePng({ width: 96, height: 64, rgb, filter: 'none' });
    const types = new Set(decodePng(adaptive).filterTypes);
    expect([...types].some((t) => t !== 0)).toBe(true);
    expect(adaptive.length).toBeLessThan(none.length);
  });

  it('rejects bad sizes, data and options with WanVideoError INVALID_INPUT', () => {
    const rgb = new Uint8Array(12);
    const bad = (o: Record<string, unknown>) => () => encodePng({ width: 2, height: 2, rgb, ...o } as never);
    expect(bad({ width: 0 })).toThrow(WanVideoError);
    expect(bad({ width: 0 })).toThrow(/encodePng: width is 0: expected an integer in 1\.\.2147483647/);
    expect(bad({ height: 1.5 })).toThrow(/height is 1.5/);
    expect(bad({ rgb: new Uint8Array(11) })).toThrow(/rgb is a Uint8Array of 11 values: expected 12 bytes \(2 x 2 x 3\)/);
    expect(bad({ rgb: new Float32Array(12) })).toThrow(/expected a Uint8Array/);
    expect(bad({ filter: 'paeth' })).toThrow(/filter is "paeth"/);
    expect(bad({ level: 10 })).toThrow(/level is 10/);
    try {
      bad({ width: -1 })();
    } catch (error) {
      expect((error as WanVideoError).code).toBe(WAN_VIDEO_ERROR_CODES.INVALID_INPUT);
    }
  });
});

describe.skipIf(!HAVE_FFMPEG)('encodePng read by ffmpeg (an independent decoder)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fpsattn-png-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('decodes to the same pixels', () => {
    for (const [width, height, rgb] of [
      [37, 23, randomImage(37, 23, 11)],
      [64, 40, gradientImage(64, 40)],
    ] as const) {
      const path = join(dir, `${width}x${height}.png`);
      writeFileSync(path, encodePng({ width, height, rgb }));
      expect(decodeWithFfmpeg(path).equals(Buffer.from(rgb))).toBe(true);
    }
  });
});
if (!HAVE_FFMPEG) console.warn(`png.test.ts: ${FFMPEG_SKIP_REASON} (the PNG checks against ffmpeg's decoder too)`);

describe.skipIf(!HAVE_PIL)('encodePng read by PIL (/usr/bin/python3 with Pillow)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fpsattn-png-pil-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('decodes to an RGB image with the same pixels, adaptive and unfiltered', () => {
    for (const [width, height, rgb] of [
      [37, 23, randomImage(37, 23, 13)],
      [64, 40, gradientImage(64, 40)],
      [1, 1, new Uint8Array([1, 2, 3])],
    ] as const) {
      for (const filter of ['adaptive', 'none'] as const) {
        const path = join(dir, `${width}x${height}-${filter}.png`);
        writeFileSync(path, encodePng({ width, height, rgb, filter }));
        const read = decodeWithPil(path);
        expect([read.mode, read.width, read.height]).toEqual(['RGB', width, height]);
        expect(read.rgb.equals(Buffer.from(rgb))).toBe(true);
      }
    }
  });
});
if (!HAVE_PIL) console.warn('png.test.ts: /usr/bin/python3 with Pillow not found: the check against PIL is skipped');
