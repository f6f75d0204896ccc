import { readFileSync } from 'node:fs';

/** A tensor of fixtures/vae-golden.json (oracle/vae_decoder.py `encode_tensor`). */
export interface GoldenTensor {
  readonly shape: number[];
  readonly sum: number;
  readonly sumSquares: number;
  /** values[k] is element k * stride of the row-major tensor. */
  readonly stride: number;
  readonly values: Float32Array;
}

export interface VaeGolden {
  readonly config: string;
  readonly seed: number;
  readonly latentShape: number[];
  readonly keys: [string, number[]][];
  readonly conv2: GoldenTensor;
  readonly chunks: Record<string, GoldenTensor>[];
  readonly output: GoldenTensor;
  readonly float32RelL2: number;
  readonly generatorSamples: Record<string, number[]>;
}

function decodeTensor(raw: { shape: number[]; sum: number; sumSquares: number; stride: number; values: string }): GoldenTensor {
  const bytes = Buffer.from(raw.values, 'base64');
  const values = new Float32Array(bytes.length / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < values.length; i++) values[i] = view.getFloat32(4 * i, true);
  return { ...raw, values };
}

export function loadVaeGolden(): VaeGolden {
  const raw = JSON.parse(readFileSync(new URL('./fixtures/vae-golden.json', import.meta.url), 'utf8'));
  return {
    ...raw,
    conv2: decodeTensor(raw.conv2),
    output: decodeTensor(raw.output),
    chunks: raw.chunks.map((chunk: Record<string, never>) => Object.fromEntries(Object.entries(chunk).map(([k, v]) => [k, decodeTensor(v)]))),
  };
}

/** How `actual` (the whole tensor) differs from a golden tensor: relative L2 over the samples, sums over everything. */
export function compareGolden(actual: Float32Array, golden: GoldenTensor): { relL2: number; sumError: number; sumSquaresError: number; count: number } {
  let num = 0;
  let den = 0;
  for (let k = 0; k < golden.values.length; k++) {
    const a = actual[k * golden.stride] as number;
    const e = golden.values[k] as number;
    num += (a - e) ** 2;
    den += e * e;
  }
  let sum = 0;
  let sumSquares = 0;
  for (const v of actual) {
    sum += v;
    sumSquares += v * v;
  }
  return {
    relL2: Math.sqrt(num / (den > 0 ? den : 1)),
    // |sum| can cancel: measured against sqrt(n * sumSquares), its Cauchy-Schwarz bound.
    sumError: Math.abs(sum - golden.sum) / Math.sqrt(actual.length * golden.sumSquares),
    sumSquaresError: Math.abs(sumSquares - golden.sumSquares) / golden.sumSquares,
    count: actual.length,
  };
}
