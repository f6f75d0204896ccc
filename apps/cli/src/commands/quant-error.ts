// `fpsattn quant-error`: FP8 fidelity of Q/K-style quantization per granularity (tensor, token, 3D tiles of several
// sizes), one scale per head always, on random, K-like outlier or supplied tensors.
import { mkdir } from 'node:fs/promises';
import { dequantize, errorStats, perGroup, perTensor, perToken, quantize, type Fp8Format, type QuantGranularity } from '@fpsattn/fp8';
import { createTileLayout, tileOfToken, type Dims3, type GridDims } from '@fpsattn/tiling';
import { openSafetensors } from '@fpsattn/wan';
import type { Command } from 'commander';
import { withExamples } from '../_command';
import { UsageError } from '../_errors';
import { formatTable, printJson } from '../_format';
import { parseChoice, parseDims3, parseIntegerFlag } from '../_parse';
import { createRng } from '../_random';
import { barChart } from '../render/bar-chart';
import { PICTURE_COLORS } from '../render/colors';
import { writePicture } from '../render/svg';

interface QuantErrorFlags {
  input: string;
  tensor?: string;
  grid?: string;
  heads?: string;
  headDim: string;
  tiles: string;
  format: string;
  seed: string;
  outDir?: string;
  json?: boolean;
}

/** A [tokens, heads * headDim] float32 tensor laid out on a token grid (raster order). */
export interface QuantInput {
  readonly description: string;
  readonly data: Float32Array;
  readonly tokens: number;
  readonly cols: number;
  readonly headDim: number;
  readonly grid: GridDims | null;
}

/**
 * Synthetic inputs. `random`: N(0, 1). `outlier`: K-like: N(0, 1) plus a per-channel offset N(0, 2), every 32nd
 * channel an outlier channel x8, and a bright region of the frame (amplitude up to x5 around one spot) that per-tensor
 * scales must cover and 3D tiles can isolate.
 */
export function syntheticInput(options: { kind: 'random' | 'outlier'; grid: GridDims; heads: number; headDim: number; seed: number }): QuantInput {
  const { kind, grid, heads, headDim, seed } = options;
  const rng = createRng(seed);
  const tokens = grid.frames * grid.height * grid.width;
  const cols = heads * headDim;
  const data = new Float32Array(tokens * cols);
  const offset = Float64Array.from({ length: cols }, () => (kind === 'outlier' ? 2 * rng.normal() : 0));
  const channelGain = Float64Array.from({ length: cols }, (_, c) => (kind === 'outlier' && c % 32 === 5 ? 8 : 1));
  const [h0, w0] = [grid.height * 0.3, grid.width * 0.7];
  const sigma2 = 2 * Math.max(1, (Math.min(grid.height, grid.width) / 6) ** 2);
  for (let r = 0; r < tokens; r++) {
    const w = r % grid.width;
    const h = Math.floor(r / grid.width) % grid.height;
    const amp = kind === 'outlier' ? 1 + 4 * Math.exp(-((h - h0) ** 2 + (w - w0) ** 2) / sigma2) : 1;
    for (let c = 0; c < cols; c++) data[r * cols + c] = amp * channelGain[c]! * (rng.normal() + offset[c]!);
  }
  const what = kind === 'random' ? 'N(0, 1)' : 'K-like: channel offsets N(0, 2), outlier channels x8 (1 in 32), a bright region up to x5';
  return { description: `${kind} ${what}, grid ${grid.frames}x${grid.height}x${grid.width}, ${heads} heads x ${headDim}, seed ${seed}`, data, tokens, cols, headDim, grid };
}

/** A tensor of a safetensors file as [tokens, cols]: shapes [N, C], [1, N, C] or [1, N, heads, headDim]. */
async function fileInput(options: { path: string; tensor?: string; grid: GridDims | null; headDim: number }): Promise<QuantInput> {
  const { path, grid, headDim } = options;
  const file = await openSafetensors(path).catch((cause: unknown) => {
    throw new UsageError({ message: `cannot open ${path} as safetensors: ${(cause as Error).message.split('\n')[0]}`, fix: 'pass --input random, outlier or a .safetensors file', cause });
  });
  try {
    const names = [...file.tensors.keys()];
    const name = options.tensor ?? names[0];
    const info = name === undefined ? undefined : file.tensors.get(name);
    if (name === undefined || info === undefined) {
      throw new UsageError({ message: `${path} holds no tensor ${JSON.stringify(options.tensor ?? '')}`, fix: `pass --tensor with one of ${names.slice(0, 5).join(', ')}${names.length > 5 ? ', ...' : ''}` });
    }
    const shape = [...info.shape];
    while (shape.length > 2 && shape[0] === 1) shape.shift();
    if (shape.length === 3) shape.splice(1, 2, (shape[1] as number) * (shape[2] as number));
    if (shape.length !== 2) {
      throw new UsageError({ message: `tensor ${name} has shape [${info.shape.join(', ')}], expected [tokens, channels] (or [1, tokens, channels], [1, tokens, heads, headDim])`, fix: 'pass --tensor with a 2-D activation tensor' });
    }
    const [tokens, cols] = shape as [number, number];
    if (cols % headDim !== 0) throw new UsageError({ message: `tensor ${name} has ${cols} channels, not a multiple of --head-dim ${headDim}`, fix: 'pass the model\'s --head-dim' });
    if (grid && grid.frames * grid.height * grid.width !== tokens) {
      throw new UsageError({ message: `--grid ${grid.frames}x${grid.height}x${grid.width} holds ${grid.frames * grid.height * grid.width} tokens, tensor ${name} ${tokens}`, fix: 'pass the token grid the tensor was taken on' });
    }
    const data = await file.readAsFloat32(name);
    return { description: `${path} tensor ${name} [${info.shape.join(', ')}] (${info.dtype})`, data, tokens, cols, headDim, grid };
  } finally {
    await file.close();
  }
}

export interface QuantErrorRow {
  readonly granularity: string;
  readonly scales: number;
  /** Bytes of float32 scales per FP8 element. */
  readonly scaleOverhead: number;
  readonly relativeL2: number;
  readonly cosine: number;
  readonly snrDb: number;
  readonly maxAbsError: number;
}

function granularities(input: QuantInput, tiles: readonly Dims3[]): { label: string; granularity: QuantGranularity }[] {
  const columnsPerScale = input.headDim;
  const out = [
    { label: 'tensor', granularity: perTensor({ columnsPerScale }) },
    { label: 'token', granularity: perToken({ columnsPerScale }) },
  ];
  if (input.grid) {
    for (const tile of tiles) {
      const layout = createTileLayout({ grid: input.grid, tile });
      const groupOfRow = new Int32Array(input.tokens);
      for (let t = 0; t < input.tokens; t++) groupOfRow[t] = tileOfToken({ layout, token: t });
      out.push({ label: `tile ${tile.join('x')}`, granularity: perGroup({ groupOfRow, groupCount: layout.numTiles, columnsPerScale }) });
    }
  }
  return out;
}

export function quantErrorRows(options: { input: QuantInput; tiles: readonly Dims3[]; format: Fp8Format }): QuantErrorRow[] {
  const { input, format } = options;
  return granularities(input, options.tiles).map(({ label, granularity }) => {
    const q = quantize({ data: input.data, rows: input.tokens, cols: input.cols, format, granularity, nonFinite: 'ignore', tensor: 'input' });
    const s = errorStats({ reference: input.data, approx: dequantize({ quantized: q }) });
    return {
      granularity: label,
      scales: q.scales.length,
      scaleOverhead: (4 * q.scales.length) / input.data.length,
      relativeL2: s.relativeL2,
      cosine: s.cosine,
      snrDb: s.snrDb,
      maxAbsError: s.maxAbsError,
    };
  });
}

export function registerQuantError(program: Command): void {
  const command = program
    .command('quant-error')
    .description('FP8 fidelity per quantization granularity (tensor, token, 3D tiles; one scale per head) on random, K-like outlier or supplied tensors')
    .option('--input <source>', 'random, outlier (K-like, outlier channels) or a .safetensors file', 'random')
    .option('--tensor <name>', 'the tensor of the .safetensors file (default: its first)')
    .option('--grid <TxHxW>', 'token grid (default 6x10x16 for random/outlier; for a file: needed for tile granularities)')
    .option('--heads <n>', 'heads of the synthetic tensor', '2')
    .option('--head-dim <n>', 'channels per head (one scale per head)', '128')
    .option('--tiles <list>', 'comma-separated 3D tile sizes TxHxW', '1x5x8,3x5x8,3x10x16')
    .option('--format <fmt>', 'FP8 format: e4m3 or e5m2', 'e4m3')
    .option('--seed <n>', 'seed of the synthetic tensor', '1')
    .option('--out-dir <dir>', 'write a chart of SNR per granularity (quant-error.svg and .png)')
    .option('--json', 'print the rows as JSON')
    .action(async (flags: QuantErrorFlags) => {
      const headDim = parseIntegerFlag({ flag: '--head-dim', value: flags.headDim, min: 1, max: 1024 });
      const format = parseChoice({ flag: '--format', value: flags.format, choices: ['e4m3', 'e5m2'] as const });
      const tiles = flags.tiles
        .split(',')
        .filter((t) => t.trim() !== '')
        .map((t) => parseDims3({ flag: '--tiles', value: t }));
      const gridDims = flags.grid === undefined ? null : parseDims3({ flag: '--grid', value: flags.grid });
      const grid = gridDims ? { frames: gridDims[0], height: gridDims[1], width: gridDims[2] } : null;
      let input: QuantInput;
      if (flags.input === 'random' || flags.input === 'outlier') {
        const heads = parseIntegerFlag({ flag: '--heads', value: flags.heads ?? '2', min: 1, max: 64 });
        const seed = parseIntegerFlag({ flag: '--seed', value: flags.seed, min: 0, max: 2 ** 32 - 1 });
        const g = grid ?? { frames: 6, height: 10, width: 16 };
        if (g.frames * g.height * g.width * heads * headDim > 64 * 2 ** 20) {
          throw new UsageError({ message: `--grid and --heads give ${g.frames * g.height * g.width * heads * headDim} values, more than 64 Mi`, fix: 'use a smaller grid or fewer heads' });
        }
        input = syntheticInput({ kind: flags.input, grid: g, heads, headDim, seed });
      } else {
        if (!flags.input.endsWith('.safetensors')) {
          throw new UsageError({ message: `--input ${JSON.stringify(flags.input)} is not random, outlier or a .safetensors file`, fix: 'pass --input random, --input outlier or --input path/to/tensors.safetensors' });
        }
        input = await fileInput({ path: flags.input, ...(flags.tensor ? { tensor: flags.tensor } : {}), grid, headDim });
      }
      const rows = quantErrorRows({ input, tiles, format });
      let chart = null;
      if (flags.outDir !== undefined) {
        await mkdir(flags.outDir, { recursive: true });
        const top = Math.max(10, Math.ceil(Math.max(...rows.map((r) => (Number.isFinite(r.snrDb) ? r.snrDb : 0))) / 10) * 10);
        chart = await writePicture(
          flags.outDir,
          barChart({
            name: 'quant-error',
            title: `FP8 ${format.toUpperCase()} SNR per granularity (higher is better): ${flags.input}`,
            labels: rows.map((r) => r.granularity),
            values: rows.map((r) => (Number.isFinite(r.snrDb) ? r.snrDb : top)),
            colors: rows.map(() => PICTURE_COLORS.bar),
            yMax: top,
            yLabel: (v) => `${v.toFixed(0)} dB`,
          }),
        );
      }
      if (flags.json) {
        printJson({ input: input.description, format, tokens: input.tokens, cols: input.cols, headDim, rows, chart });
        return;
      }
      const table = formatTable({
        header: ['granularity', 'scales', 'scale bytes/elem', 'rel L2', 'cosine', 'SNR dB', 'max abs err'],
        rows: rows.map((r) => [r.granularity, String(r.scales), r.scaleOverhead.toFixed(4), r.relativeL2.toExponential(2), r.cosine.toFixed(6), r.snrDb.toFixed(2), r.maxAbsError.toExponential(2)]),
        right: [1, 2, 3, 4, 5, 6],
      });
      const notes = input.grid ? [] : ['(no --grid: tile granularities skipped)'];
      const out = [`${input.description}; FP8 ${format}, one scale per head of ${headDim} channels`, table, ...notes];
      if (chart) out.push('', `wrote ${chart.svg} and ${chart.png} (${chart.width}x${chart.height})`);
      process.stdout.write(`${out.join('\n')}\n`);
    });
  withExamples(command, [
    'fpsattn quant-error',
    'fpsattn quant-error --input outlier --tiles 1x5x8,3x5x8,3x15x16 --out-dir pictures',
    'fpsattn quant-error --input k.safetensors --tensor k --grid 21x45x80 --json',
  ]);
}
