import { InvalidArgumentError } from './errors/invalid-argument-error';
import { type Fp8Format, type Fp8FormatSpec, fp8FormatSpec } from './formats';

function decodeWithSpec(code: number, spec: Fp8FormatSpec): number {
  const sign = code & 0x80 ? -1 : 1;
  const exponentField = (code & 0x7f) >> spec.mantissaBits;
  const mantissa = code & ((1 << spec.mantissaBits) - 1);
  const exponentMax = (1 << spec.exponentBits) - 1;
  if (spec.infinityCode === null) {
    // e4m3fn: only S.1111.111 is NaN; S.1111.xxx are ordinary normals up to 448.
    if ((code & 0x7f) === 0x7f) return Number.NaN;
  } else if (exponentField === exponentMax) {
    return mantissa === 0 ? sign * Infinity : Number.NaN;
  }
  if (exponentField === 0) return sign * mantissa * spec.minSubnormal;
  return sign * (1 + mantissa / (1 << spec.mantissaBits)) * 2 ** (exponentField - spec.bias);
}

function buildTable(spec: Fp8FormatSpec): Float32Array {
  const table = new Float32Array(256);
  // Stryker disable next-line EqualityOperator: with <= the extra iteration reads and writes one past the end of a typed array, which JavaScript ignores (equivalent)
  for (let code = 0; code < 256; code++) table[code] = decodeWithSpec(code, spec);
  return table;
}

const tables = new Map<Fp8Format, Float32Array>();

/** The 256 decoded values of a format, as float32 (every FP8 value is exact in float32). Do not mutate. */
export function fp8DecodeTable(format: Fp8Format): Float32Array {
  let table = tables.get(format);
  if (table === undefined) {
    table = buildTable(fp8FormatSpec(format));
    tables.set(format, table);
  }
  return table;
}

export interface DecodeFp8Options {
  /** An 8-bit code, an integer in 0..255. */
  code: number;
  format: Fp8Format;
}

/**
 * Decodes one 8-bit code to its value.
 *
 * @example decodeFp8({ code: 0x7e, format: 'e4m3' }) // 448
 */
export function decodeFp8(options: DecodeFp8Options): number {
  const { code } = options;
  if (!Number.isInteger(code) || code < 0 || code > 255) {
    throw new InvalidArgumentError({ argument: 'code', value: code, message: `expected an integer in 0..255, got ${code}` });
  }
  return fp8DecodeTable(options.format)[code] as number;
}
