/**
 * Just enough of WebAssembly's binary format (https://webassembly.github.io/spec/core/binary/) to write the attention
 * twin's three SIMD loops by hand (block-kernels.ts): one imported memory, imported functions, exported functions of
 * i32 parameters, named locals, and the instructions below. Why by hand: the twin needs float64 SIMD (f64x2) without
 * a toolchain or a runtime dependency, and three short loop nests are less to read than a compiler's output. Nothing
 * is validated here: `new WebAssembly.Module` validates the bytes.
 */

export type Bytes = number[];

/** Unsigned LEB128 (counts, indices, offsets). */
export function uleb(value: number): Bytes {
  const out: Bytes = [];
  let n = value >>> 0;
  do {
    const byte = n & 0x7f;
    n >>>= 7;
    out.push(n === 0 ? byte : byte | 0x80);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (i32.const). */
export function sleb(value: number): Bytes {
  const out: Bytes = [];
  let n = value | 0;
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

function f64Bytes(x: number): Bytes {
  return Array.from(new Uint8Array(Float64Array.of(x).buffer)); // little-endian on every host Node runs on
}

function i32Bytes(n: number): Bytes {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

const simd = (code: number): Bytes => [0xfd, ...uleb(code)];
/** memarg: alignment hint (log2 bytes; loads and stores here are at least 8-byte aligned) and a constant offset. */
const memarg = (alignLog2: number, offset: number): Bytes => [alignLog2, ...uleb(offset)];

/** The instructions the kernels use, named as in the text format (f64x2.mul -> f64x2Mul). */
export const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  else: [0x05],
  end: [0x0b],
  br: (depth: number): Bytes => [0x0c, ...uleb(depth)],
  brIf: (depth: number): Bytes => [0x0d, ...uleb(depth)],
  call: (func: number): Bytes => [0x10, ...uleb(func)],
  localGet: (i: number): Bytes => [0x20, ...uleb(i)],
  localSet: (i: number): Bytes => [0x21, ...uleb(i)],
  localTee: (i: number): Bytes => [0x22, ...uleb(i)],
  f64Load: (offset = 0): Bytes => [0x2b, ...memarg(3, offset)],
  f64Store: (offset = 0): Bytes => [0x39, ...memarg(3, offset)],
  select: [0x1b],
  i32Const: (n: number): Bytes => [0x41, ...sleb(n)],
  f64Const: (x: number): Bytes => [0x44, ...f64Bytes(x)],
  i32Eqz: [0x45],
  f64Gt: [0x64],
  i32GeS: [0x4e],
  i32Add: [0x6a],
  i32Mul: [0x6c],
  f64Add: [0xa0],
  f64Sub: [0xa1],
  f64Mul: [0xa2],
  v128Load: (offset = 0): Bytes => [...simd(0x00), ...memarg(3, offset)],
  v128Store: (offset = 0): Bytes => [...simd(0x0b), ...memarg(3, offset)],
  /** Both lanes x: v128.const of two f64. */
  f64x2Const: (x: number): Bytes => [...simd(0x0c), ...f64Bytes(x), ...f64Bytes(x)],
  f64x2Splat: simd(0x14),
  f64x2ExtractLane: (lane: number): Bytes => [...simd(0x21), lane],
  f64x2ReplaceLane: (lane: number): Bytes => [...simd(0x22), lane],
  i32x4LtU: simd(0x3a),
  i32x4GtU: simd(0x3c),
  f64x2Gt: simd(0x4a),
  f64x2Le: simd(0x4b),
  f64x2Ge: simd(0x4c),
  v128And: simd(0x4e),
  v128Or: simd(0x50),
  v128Bitselect: simd(0x52),
  f32x4DemoteF64x2Zero: simd(0x5e),
  f64x2PromoteLowF32x4: simd(0x5f),
  i32x4ShrU: simd(0xad),
  i32x4Add: simd(0xae),
  i64x2AllTrue: simd(0xc3),
  i64x2ExtendLowI32x4S: simd(0xc7),
  i64x2Shl: simd(0xcb),
  i64x2Add: simd(0xce),
  f64x2Add: simd(0xf0),
  f64x2Sub: simd(0xf1),
  f64x2Mul: simd(0xf2),
  f64x2Div: simd(0xf3),
  i32x4TruncSatF64x2SZero: simd(0xfc),
  f64x2ConvertLowI32x4S: simd(0xfe),
} as const;

/** Value types: i32, f64, v128. */
export const I32 = 0x7f;
export const F64 = 0x7c;
export const V128 = 0x7b;

/**
 * A function's locals by name: parameters first (i32 ones, then f64 ones), then i32, f64 and v128 locals in that
 * order.
 */
export class Frame {
  readonly index: Record<string, number> = {};
  readonly counts: { i32: number; f64: number; v128: number };
  readonly paramTypes: number[];

  constructor(o: { params: string[]; f64Params?: string[]; i32?: string[]; f64?: string[]; v128?: string[] }) {
    const names = [...o.params, ...(o.f64Params ?? []), ...(o.i32 ?? []), ...(o.f64 ?? []), ...(o.v128 ?? [])];
    names.forEach((name, i) => {
      if (name in this.index) throw new Error(`wasm-asm: local '${name}' declared twice`);
      this.index[name] = i;
    });
    this.paramTypes = [...o.params.map(() => I32), ...(o.f64Params ?? []).map(() => F64)];
    this.counts = { i32: o.i32?.length ?? 0, f64: o.f64?.length ?? 0, v128: o.v128?.length ?? 0 };
  }

  private at(name: string): number {
    const i = this.index[name];
    if (i === undefined) throw new Error(`wasm-asm: no local '${name}'`);
    return i;
  }
  get(name: string): Bytes {
    return op.localGet(this.at(name));
  }
  set(name: string): Bytes {
    return op.localSet(this.at(name));
  }
  tee(name: string): Bytes {
    return op.localTee(this.at(name));
  }

  /** `for (name = 0; name < limit; name += step) body` with `limit` a local (signed compare). */
  forUp(name: string, limit: string, step: number, body: Bytes): Bytes {
    return [
      ...op.i32Const(0), ...this.set(name),
      ...op.block, ...op.loop,
      ...this.get(name), ...this.get(limit), ...op.i32GeS, ...op.brIf(1),
      ...body,
      ...this.get(name), ...op.i32Const(step), ...op.i32Add, ...this.set(name),
      ...op.br(0),
      ...op.end, ...op.end,
    ]; // prettier-ignore
  }
}

export interface WasmImport {
  module: string;
  name: string;
  params: number[];
  results: number[];
}

export interface WasmFunction {
  name: string;
  frame: Frame;
  results: number[];
  body: Bytes;
}

function vec(items: Bytes[]): Bytes {
  return [...uleb(items.length), ...items.flat()];
}
function section(id: number, items: Bytes[]): Bytes {
  const content = vec(items);
  return [id, ...uleb(content.length), ...content];
}
function name(s: string): Bytes {
  return [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
}
function funcType(params: number[], results: number[]): Bytes {
  return [0x60, ...uleb(params.length), ...params, ...uleb(results.length), ...results];
}

/**
 * 16-byte SIMD constants kept in memory (a data segment at address 0, `bytes` long at most) and read with v128.load:
 * V8 rebuilds a v128.const from immediates at every use (three instructions per constant per loop iteration, also
 * when it sits in a local), while a load from a constant address folds into the instruction that uses it.
 */
export class ConstPool {
  private readonly data: Bytes = [];
  private readonly at = new Map<string, number>();

  constructor(readonly bytes: number) {}

  private load(lanes: Bytes): Bytes {
    const key = lanes.join(',');
    let address = this.at.get(key);
    if (address === undefined) {
      address = this.data.length;
      if (address + 16 > this.bytes) throw new Error(`wasm-asm: more than ${this.bytes / 16} pooled constants`);
      this.data.push(...lanes);
      this.at.set(key, address);
    }
    return [...op.i32Const(0), ...op.v128Load(address)];
  }
  /** Both lanes x (float64). */
  f64x2(x: number): Bytes {
    return this.load([...f64Bytes(x), ...f64Bytes(x)]);
  }
  /** Four lanes of the 32 bits n. */
  i32x4(n: number): Bytes {
    return this.load([0, 1, 2, 3].flatMap(() => i32Bytes(n)));
  }
  /** Both lanes the 64 bits hi:lo. */
  i64x2(hi: number, lo: number): Bytes {
    return this.load([0, 1].flatMap(() => [...i32Bytes(lo), ...i32Bytes(hi)]));
  }
  /** The data segment's bytes (memory from address 0). */
  segment(): Bytes {
    return this.data.slice();
  }
}

/**
 * A module importing `env.memory` (at least `minPages` 64 KiB pages) and the given functions (indices 0..n-1),
 * exporting the given functions under their names (indices n..), with `data` written at address 0 when instantiated.
 * One type per function, in that order.
 */
export function assembleModule(o: { imports: WasmImport[]; functions: WasmFunction[]; minPages?: number; data?: Bytes }): Uint8Array {
  const types = [
    ...o.imports.map((f) => funcType(f.params, f.results)),
    ...o.functions.map((f) => funcType(f.frame.paramTypes, f.results)),
  ];
  const imports = [
    ...o.imports.map((f, i) => [...name(f.module), ...name(f.name), 0x00, ...uleb(i)]),
    [...name('env'), ...name('memory'), 0x02, 0x00, ...uleb(o.minPages ?? 1)],
  ];
  const n = o.imports.length;
  const bodies = o.functions.map((f) => {
    const { i32, f64, v128 } = f.frame.counts;
    const groups = [
      [...uleb(i32), I32],
      [...uleb(f64), F64],
      [...uleb(v128), V128],
    ];
    const code = [...vec(groups), ...f.body, ...op.end];
    return [...uleb(code.length), ...code];
  });
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // "\0asm", version 1
    ...section(1, types),
    ...section(2, imports),
    ...section(3, o.functions.map((_, i) => uleb(n + i))),
    ...section(7, o.functions.map((f, i) => [...name(f.name), 0x00, ...uleb(n + i)])),
    ...section(10, bodies),
    ...(o.data && o.data.length > 0 ? section(11, [[0x00, ...op.i32Const(0), ...op.end, ...uleb(o.data.length), ...o.data]]) : []),
  ]);
}
