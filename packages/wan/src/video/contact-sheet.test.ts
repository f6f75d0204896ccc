import { describe, expect, it } from 'vitest';
import { contactSheet, contactSheetFrameIndices } from './contact-sheet';
import { WanVideoError } from './errors';

/** T solid frames of W x H, frame t filled with the colour (t, 2t, 3t). */
function solidFrames(t: number, width: number, height: number): Uint8Array[] {
  return Array.from({ length: t }, (_, f) => {
    const rgb = new Uint8Array(width * height * 3);
    for (let p = 0; p < width * height; p++) rgb.set([f, 2 * f, 3 * f], 3 * p);
    return rgb;
  });
}

const pixel = (img: { width: number; rgb: Uint8Array }, x: number, y: number): number[] => [...img.rgb.subarray(3 * (y * img.width + x), 3 * (y * img.width + x) + 3)];

describe('contactSheetFrameIndices', () => {
  it('spaces frames evenly with the first and last included, or takes every k-th', () => {
    expect(contactSheetFrameIndices({ total: 81 })).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80]);
    expect(contactSheetFrameIndices({ total: 81, count: 4 })).toEqual([0, 27, 53, 80]);
    expect(contactSheetFrameIndices({ total: 5 })).toEqual([0, 1, 2, 3, 4]);
    expect(contactSheetFrameIndices({ total: 5, count: 1 })).toEqual([0]);
    expect(contactSheetFrameIndices({ total: 81, every: 16 })).toEqual([0, 16, 32, 48, 64, 80]);
    expect(contactSheetFrameIndices({ total: 10, every: 4, count: 2 })).toEqual([0, 4, 8]);
  });
});

describe('contactSheet', () => {
  it('places the chosen frames left to right, top to bottom, with gaps and background in empty cells', () => {
    const frames = solidFrames(9, 6, 4);
    const sheet = contactSheet(frames, { width: 6, height: 4, every: 2, columns: 3, gap: 2, background: [9, 9, 9] });
    expect(sheet.frameIndices).toEqual([0, 2, 4, 6, 8]);
    expect([sheet.columns, sheet.rows, sheet.tileWidth, sheet.tileHeight]).toEqual([3, 2, 6, 4]);
    expect([sheet.width, sheet.height]).toEqual([3 * 6 + 2 * 2, 2 * 4 + 2]);
    expect(sheet.rgb).toHaveLength(sheet.width * sheet.height * 3);
    sheet.frameIndices.forEach((f, k) => {
      const x0 = (k % 3) * 8;
      const y0 = Math.floor(k / 3) * 6;
      expect(pixel(sheet, x0, y0)).toEqual([f, 2 * f, 3 * f]);
      expect(pixel(sheet, x0 + 5, y0 + 3)).toEqual([f, 2 * f, 3 * f]);
    });
    expect(pixel(sheet, 6, 0)).toEqual([9, 9, 9]); // gap
    expect(pixel(sheet, 2 * 8 + 1, 6 + 1)).toEqual([9, 9, 9]); // empty sixth cell
  });

  it('shrinks by box averages (edge boxes average what they hold) and defaults to tiles <= 480 pixels wide', () => {
    // 5 x 3 frame with R = x * 10 + y, G = 0, B = 255: shrink 2 -> 3 x 2 tile.
    const frame = new Uint8Array(5 * 3 * 3);
    for (let y = 0; y < 3; y++) for (let x = 0; x < 5; x++) frame.set([x * 10 + y, 0, 255], 3 * (y * 5 + x));
    const sheet = contactSheet([frame], { width: 5, height: 3, shrink: 2 });
    expect([sheet.width, sheet.height]).toEqual([3, 2]);
    expect(pixel(sheet, 0, 0)).toEqual([Math.round((0 + 10 + 1 + 11) / 4), 0, 255]); // 5.5 -> 6
    expect(pixel(sheet, 2, 0)).toEqual([Math.round((40 + 41) / 2), 0, 255]); // 40.5 -> 41
    expect(pixel(sheet, 2, 1)).toEqual([42, 0, 255]);
    const wide = contactSheet(solidFrames(2, 832, 2), { width: 832, height: 2 });
    expect([wide.tileWidth, wide.tileHeight]).toEqual([416, 1]);
    const small = contactSheet(solidFrames(2, 48, 32), { width: 48, height: 32 });
    expect([small.tileWidth, small.columns, small.width]).toEqual([48, 2, 48 * 2 + 4]);
  });

  it('rejects bad frames and options', () => {
    const frames = solidFrames(3, 2, 2);
    expect(() => contactSheet([], { width: 2, height: 2 })).toThrow(WanVideoError);
    expect(() => contactSheet(frames, { width: 3, height: 2 })).toThrow(/contactSheet: frames\[0\] is a Uint8Array of 12 values: expected a Uint8Array of 18 bytes/);
    expect(() => contactSheet(frames, { width: 2, height: 2, every: 0 })).toThrow(/every is 0/);
    expect(() => contactSheet(frames, { width: 2, height: 2, columns: 0 })).toThrow(/columns is 0/);
    expect(() => contactSheet(frames, { width: 2, height: 2, shrink: 1.5 })).toThrow(/shrink is 1.5/);
    expect(() => contactSheet(frames, { width: 2, height: 2, background: [0, 0, 256] })).toThrow(/background is \[0,0,256\]/);
  });
});
