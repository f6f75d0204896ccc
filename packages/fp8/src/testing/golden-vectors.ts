import { readFileSync } from 'node:fs';

/** File magic of the golden-vector files written by packages/fp8/golden/gen-golden.cpp. */
export const GOLDEN_MAGIC = 'FPSG';

/**
 * Conversions computed by CUDA's own host functions (cuda_fp8.h, cuda_bf16.h, cuda_fp16.h) on a set of float32
 * inputs. Layout (little-endian): 'FPSG', u32 version (1), u32 count N, then
 *   decode tables: 256 x f32 for e4m3, 256 x f32 for e5m2 (via __nv_cvt_fp8_to_halfraw, widened);
 *   inputs: N x u32 float32 bits;
 *   fp8 codes: N x u8 for each of e4m3 SATFINITE, e4m3 NOSAT, e5m2 SATFINITE, e5m2 NOSAT;
 *   bf16: N x u16 (__float2bfloat16_rn); fp16: N x u16 (__float2half_rn).
 */
export interface GoldenVectors {
  readonly count: number;
  readonly decodeE4m3: Float32Array;
  readonly decodeE5m2: Float32Array;
  readonly inputs: Float32Array;
  readonly inputBits: Uint32Array;
  readonly e4m3Sat: Uint8Array;
  readonly e4m3NoSat: Uint8Array;
  readonly e5m2Sat: Uint8Array;
  readonly e5m2NoSat: Uint8Array;
  readonly bf16: Uint16Array;
  readonly fp16: Uint16Array;
}

export function readGoldenVectors(path: string): GoldenVectors {
  const file = readFileSync(path);
  // Copy into an aligned buffer so typed-array views need no per-element reads.
  const buffer = new ArrayBuffer(file.byteLength + 8);
  new Uint8Array(buffer).set(file);
  const magic = file.subarray(0, 4).toString('latin1');
  if (magic !== GOLDEN_MAGIC) throw new Error(`${path}: not a golden-vector file (magic '${magic}', expected '${GOLDEN_MAGIC}')`);
  const header = new DataView(buffer);
  const version = header.getUint32(4, true);
  if (version !== 1) throw new Error(`${path}: golden-vector version ${version}, this reader knows version 1`);
  const count = header.getUint32(8, true);
  let offset = 12;
  const take = <T>(make: (offset: number) => T, bytes: number): T => {
    const view = make(offset);
    offset += bytes;
    return view;
  };
  const decodeE4m3 = take((o) => new Float32Array(buffer, o, 256), 1024);
  const decodeE5m2 = take((o) => new Float32Array(buffer, o, 256), 1024);
  const inputBits = take((o) => new Uint32Array(buffer, o, count), 4 * count);
  const e4m3Sat = take((o) => new Uint8Array(buffer, o, count), count);
  const e4m3NoSat = take((o) => new Uint8Array(buffer, o, count), count);
  const e5m2Sat = take((o) => new Uint8Array(buffer, o, count), count);
  const e5m2NoSat = take((o) => new Uint8Array(buffer, o, count), count);
  // u16 sections start at 12 + 2048 + 8N: even, so aligned.
  const bf16 = take((o) => new Uint16Array(buffer, o, count), 2 * count);
  const fp16 = take((o) => new Uint16Array(buffer, o, count), 2 * count);
  if (offset !== file.byteLength) throw new Error(`${path}: ${file.byteLength} bytes, expected ${offset} for ${count} vectors`);
  return {
    count,
    decodeE4m3,
    decodeE5m2,
    inputs: new Float32Array(inputBits.buffer, inputBits.byteOffset, count),
    inputBits,
    e4m3Sat,
    e4m3NoSat,
    e5m2Sat,
    e5m2NoSat,
    bf16,
    fp16,
  };
}
