import {
  ATTENTION_HEAD_DIMS,
  type Backend,
  type DType,
  type GroupMap,
  Tensor,
  attentionForward,
  channelMean,
  expandRowScales,
  gatherRows,
  quantizeRows,
  quantizeV,
  scatterRows,
} from '@fpsattn/kernels';
import type { AttentionPlan } from '@fpsattn/scheduler';
import { type Size3, createTokenGrid } from '@fpsattn/tiling';
import { type AttentionGeometry, type AttentionGeometryCache, attentionGeometry } from './attention-geometry';
import { AttentionInputError, AttentionPlanError } from './errors';

export interface AttentionOptions {
  /** BF16 [batch, tokens, heads * headDim], tokens in the grid's raster order (w fastest, then h, then t). */
  q: Tensor<'bf16'>;
  k: Tensor<'bf16'>;
  v: Tensor<'bf16'>;
  /** The token grid: `{ frames, height, width }` or `[T, H, W]`; frames * height * width = tokens. */
  grid: Size3;
  /** One plan for every head... */
  plan?: AttentionPlan;
  /** ...or one plan per head (plans.length = heads). */
  plans?: readonly AttentionPlan[];
  /** Default: columns / plans.length with per-head plans, else 128 (64 runs on the CPU backend; the CUDA kernel
   * implements 128). */
  headDim?: number;
  /** Default 1 / sqrt(headDim). */
  softmaxScale?: number;
  /**
   * FP8 modes: subtract K's per-channel mean (over the batch item's tokens) before quantizing K. Softmax does not
   * change (every score of a query row moves by the same q . mean), but K's outlier channels stop setting the scale.
   * Ignored by BF16 modes. Default false.
   */
  kSmoothing?: boolean;
  /** Where geometries are cached (default: the package's `defaultAttentionGeometryCache`). */
  cache?: AttentionGeometryCache;
  /** BF16 [batch, tokens, heads * headDim] to write the output into. */
  out?: Tensor<'bf16'>;
  name?: string;
}

const show = (shape: readonly number[]) => `[${shape.join(', ')}]`;

function expectOperand(t: unknown, name: string, backend: Backend | null): asserts t is Tensor<'bf16'> {
  if (!(t instanceof Tensor)) throw new AttentionInputError({ tensor: name, dimension: null, actual: String(t), rule: 'expected a BF16 Tensor of @fpsattn/kernels' });
  if (t.dtype !== 'bf16') throw new AttentionInputError({ tensor: name, dimension: null, actual: `of dtype ${t.dtype}`, rule: 'q, k and v are BF16 ([batch, tokens, heads * headDim])' });
  if (t.shape.length !== 3) {
    throw new AttentionInputError({ tensor: name, dimension: null, actual: `of shape ${show(t.shape)}`, rule: 'expected 3 dimensions [batch, tokens, heads * headDim]' });
  }
  if (backend !== null && t.backend !== backend) {
    throw new AttentionInputError({ tensor: name, dimension: null, actual: `on another ${t.device} backend`, rule: 'q, k, v (and out) live on one backend' });
  }
}

/** Disposes, at the end of a call, every tensor (allocation or view) it made; views hold their storage too. */
class Scope {
  readonly #tensors: Tensor[] = [];
  t<T extends Tensor>(x: T): T {
    this.#tensors.push(x);
    return x;
  }
  dispose(keep?: Tensor): void {
    for (const x of this.#tensors) if (x !== keep) x.dispose();
  }
}

/**
 * Rows [b * rows, (b + 1) * rows) of a 2-D tensor, as a view owned by `scope`.
 */
const slice = <D extends DType>(scope: Scope, t: Tensor<D>, b: number, rows: number): Tensor<D> => scope.t(t.sliceRows(b * rows, rows));

/**
 * FPSAttention for one layer: raster-order BF16 Q, K, V [batch, tokens, heads * headDim] and a plan (or one per head)
 * in, BF16 [batch, tokens, heads * headDim] out, in raster order. Goes plan -> geometry (cached) -> gather (with V's
 * channel amax) -> Q/K quantization per the plan's granularity (optional K smoothing) -> per-row scales (K's per key
 * block when each block's real rows share one group: `geometry.kBlockGroups`) -> V quantization -> `attentionForward`
 * -> scatter; BF16 modes skip the quantization. Runs on the backend of q.
 */
export function attention(options: AttentionOptions): Tensor<'bf16'> {
  const { q, k, v } = options;
  expectOperand(q, 'q', null);
  const backend = q.backend;
  expectOperand(k, 'k', backend);
  expectOperand(v, 'v', backend);
  const [batch, tokens, cols] = q.shape as [number, number, number];
  for (const [name, t] of [['k', k], ['v', v]] as const) {
    t.shape.forEach((d, i) => {
      if (d !== q.shape[i]) {
        throw new AttentionInputError({ tensor: name, dimension: i, actual: String(d), rule: `expected ${q.shape[i]} like q ${show(q.shape)}: q, k and v have one shape` });
      }
    });
  }
  if (batch < 1) throw new AttentionInputError({ tensor: 'q', dimension: 0, actual: String(batch), rule: 'the batch holds at least one item' });
  // Per-head plans say how many heads there are; otherwise the head dim defaults to 128 (the kernel's).
  const headDim = options.headDim ?? (Array.isArray(options.plans) && options.plans.length > 0 ? cols / options.plans.length : 128);
  if (!(ATTENTION_HEAD_DIMS as readonly number[]).includes(headDim)) {
    throw new AttentionInputError({ tensor: 'q', dimension: 2, actual: `split into heads of ${headDim}`, rule: `headDim is one of ${ATTENTION_HEAD_DIMS.join(', ')}` });
  }
  if (cols < headDim || cols % headDim !== 0) {
    throw new AttentionInputError({ tensor: 'q', dimension: 2, actual: String(cols), rule: `expected heads * headDim columns, a positive multiple of headDim ${headDim}` });
  }
  const heads = cols / headDim;
  const grid = createTokenGrid(options.grid); // checked before any geometry is built for it
  if (tokens !== grid.numTokens) {
    throw new AttentionInputError({
      tensor: 'q',
      dimension: 1,
      actual: String(tokens),
      rule: `expected ${grid.numTokens} tokens, one per token of the grid ${grid.frames}x${grid.height}x${grid.width}`,
    });
  }
  const geometry = attentionGeometry({ backend, grid, plan: options.plan, plans: options.plans, cache: options.cache });
  if (geometry.planHeads !== null && geometry.planHeads !== heads) {
    throw new AttentionPlanError({ field: 'plans', actual: `${geometry.planHeads} plans`, rule: `expected one plan per head: q has ${heads} heads of ${headDim}` });
  }
  if (options.out !== undefined) {
    expectOperand(options.out, 'out', backend);
    options.out.shape.forEach((d, i) => {
      if (d !== q.shape[i]) throw new AttentionInputError({ tensor: 'out', dimension: i, actual: String(d), rule: `expected ${q.shape[i]}: out has q's shape ${show(q.shape)}` });
    });
  }
  const softmaxScale = options.softmaxScale ?? 1 / Math.sqrt(headDim);

  const scope = new Scope();
  let result: Tensor<'bf16'> | undefined;
  try {
    result = run({ ...options, softmaxScale, geometry, scope, batch, tokens, cols, heads, headDim });
    return result;
  } catch (e) {
    if (result !== undefined && result !== options.out) result.dispose();
    throw e;
  } finally {
    scope.dispose(result);
  }
}

interface RunContext extends AttentionOptions {
  geometry: AttentionGeometry;
  scope: Scope;
  batch: number;
  tokens: number;
  cols: number;
  heads: number;
  headDim: number;
  softmaxScale: number;
}

function run(c: RunContext): Tensor<'bf16'> {
  const { geometry: g, scope, batch, tokens, cols, heads, headDim, softmaxScale } = c;
  const backend = g.backend;
  const npad = g.npad;
  // Stryker disable next-line StringLiteral,ObjectLiteral,LogicalOperator: a tensor's name labels errors and debugging; no result depends on it
  const name = c.name ?? 'attention';
  const fp8 = g.dtype === 'e4m3';
  const raster = (t: Tensor<'bf16'>) => scope.t(t.reshape([batch * tokens, cols]));
  const [q2, k2, v2] = [raster(c.q), raster(c.k), raster(c.v)];

  // Tile-major padded operands [batch * npad, cols] (the raster tensors themselves when the order is the identity),
  // V's per-channel amax [batch, cols] computed by the gather.
  // Stryker disable next-line StringLiteral,ObjectLiteral: a tensor's name labels errors and debugging; no result depends on it
  const vAmax = fp8 && g.rowMap !== null ? scope.t(backend.empty([batch, cols], 'f32', { name: `${name}.vAmax` })) : null;
  const pad = (x2: Tensor<'bf16'>, label: string, amax: Tensor<'f32'> | null): Tensor<'bf16'> => {
    if (g.rowMap === null) return x2;
    // Stryker disable next-line StringLiteral,ObjectLiteral: a tensor's name labels errors and debugging; no result depends on it
    const dst = scope.t(backend.empty([batch * npad, cols], 'bf16', { name: `${name}.${label}` }));
    for (let b = 0; b < batch; b++) {
      gatherRows({
        src: slice(scope, x2, b, tokens),
        map: g.rowMap,
        out: slice(scope, dst, b, npad),
        amax: amax === null ? undefined : scope.t(slice(scope, amax, b, 1).reshape([cols])),
      });
    }
    return dst;
  };
  // Stryker disable next-line StringLiteral,ObjectLiteral: a tensor's name labels errors and debugging; no result depends on it
  const qp = pad(q2, 'qTiled', null);
  // Stryker disable next-line StringLiteral,ObjectLiteral: a tensor's name labels errors and debugging; no result depends on it
  const kp = pad(k2, 'kTiled', null);
  // Stryker disable next-line StringLiteral,ObjectLiteral: a tensor's name labels errors and debugging; no result depends on it
  const vp = pad(v2, 'vTiled', vAmax);
  const as3 = <D extends 'bf16' | 'e4m3'>(t: Tensor<D>, rows: number) => scope.t(t.reshape([batch, rows, t.shape[1] as number]));

  let attended: Tensor<'bf16'>;
  const lists = g.blockLists;
  const toRaster = g.rowMap === null ? c.out : undefined; // the identity order writes the caller's out directly
  // What both operand types hand the kernel: the geometry's blocks and lists, and where the output goes.
  const common = {
    blockValidRows: g.blockValidRows,
    rowPtr: lists?.rowPtr ?? null,
    colIdx: lists?.colIdx ?? null,
    headDim,
    softmaxScale,
    out: toRaster === undefined ? undefined : scope.t(toRaster.reshape([batch, npad, cols])),
    // Stryker disable next-line StringLiteral,ObjectLiteral: a tensor's name labels errors and debugging; no result depends on it
    name: `${name}.out`,
  };
  if (!fp8) {
    attended = attentionForward({
      q: as3(qp, npad),
      k: as3(kp, npad),
      v: as3(vp, npad),
      ...common,
    });
  } else {
    const groups = g.quantGroups;
    if (groups === null) throw new Error('internal: an FP8 geometry without quantization groups');
    const G = groups.groupCount;
    // K smoothing: the per-channel mean of each batch item's real tokens (raster rows, no padding).
    // Stryker disable next-line StringLiteral,ObjectLiteral: a tensor's name labels errors and debugging; no result depends on it
    const means = c.kSmoothing ? Array.from({ length: batch }, (_, b) => scope.t(channelMean({ x: slice(scope, k2, b, tokens), name: `${name}.kMean${b}` }))) : null;
    // Q's scales go one per (batch, head, row). K's go one per (batch, head, key block) when every block's real rows
    // share a group (kBlockGroups: the kernel's faster kBlockScale path), else one per row too.
    const quantizeQK = (xp: Tensor<'bf16'>, label: string, mean: (Tensor<'f32'> | null)[] | null, scaleGroups: GroupMap) => {
      // Stryker disable next-line StringLiteral,ObjectLiteral: a tensor's name labels errors and debugging; no result depends on it
      const codes = scope.t(backend.empty([batch * npad, cols], 'e4m3', { name: `${name}.${label}Codes` }));
      // Stryker disable next-line StringLiteral,ObjectLiteral: a tensor's name labels errors and debugging; no result depends on it
      const table = scope.t(backend.empty([batch * G, heads], 'f32', { name: `${name}.${label}Scales` }));
      for (let b = 0; b < batch; b++) {
        quantizeRows({
          x: slice(scope, xp, b, npad),
          groups,
          headDim,
          format: 'e4m3',
          mean: mean?.[b] ?? undefined,
          out: { codes: slice(scope, codes, b, npad), scales: slice(scope, table, b, G) },
        });
      }
      // Stryker disable next-line StringLiteral,ObjectLiteral: a tensor's name labels errors and debugging; no result depends on it
      const scales = scope.t(expandRowScales({ scales: table, groups: scaleGroups, name: `${name}.${label}Scale` }));
      return { codes: as3(codes, npad), scales };
    };
    // Stryker disable next-line StringLiteral,ObjectLiteral: a tensor's name labels errors and debugging; no result depends on it
    const qq = quantizeQK(qp, 'q', null, groups);
    // Stryker disable next-line StringLiteral,ObjectLiteral: a tensor's name labels errors and debugging; no result depends on it
    const kq = quantizeQK(kp, 'k', means, g.kBlockGroups ?? groups);
    // Stryker disable next-line StringLiteral,ObjectLiteral: a tensor's name labels errors and debugging; no result depends on it
    const vCodes = scope.t(backend.empty([batch * cols, npad], 'e4m3', { name: `${name}.vCodesT` }));
    // Stryker disable next-line StringLiteral,ObjectLiteral: a tensor's name labels errors and debugging; no result depends on it
    const vScales = scope.t(backend.empty([batch, cols], 'f32', { name: `${name}.vScales` }));
    for (let b = 0; b < batch; b++) {
      quantizeV({
        v: slice(scope, vp, b, npad),
        format: 'e4m3',
        amax: vAmax === null ? undefined : scope.t(slice(scope, vAmax, b, 1).reshape([cols])),
        tokenStride: npad,
        out: { codesT: slice(scope, vCodes, b, cols), scales: scope.t(slice(scope, vScales, b, 1).reshape([cols])) },
      });
    }
    attended = attentionForward({
      q: qq.codes,
      k: kq.codes,
      v: scope.t(vCodes.reshape([batch, cols, npad])),
      qScale: qq.scales,
      ...(g.kBlockGroups === null ? { kScale: kq.scales } : { kBlockScale: kq.scales }),
      vScale: vScales,
      ...common,
    });
  }
  if (g.rowMap === null) {
    if (c.out !== undefined) {
      scope.t(attended);
      return c.out;
    }
    const result = attended.reshape([batch, tokens, cols], name);
    attended.dispose();
    return result;
  }
  scope.t(attended);
  const padded2 = scope.t(attended.reshape([batch * npad, cols]));
  // Stryker disable next-line StringLiteral,ObjectLiteral: a tensor's name labels errors and debugging; no result depends on it
  const result = c.out ?? backend.empty([batch, tokens, cols], 'bf16', { name });
  try {
    const result2 = scope.t(result.reshape([batch * tokens, cols]));
    for (let b = 0; b < batch; b++) scatterRows({ src: slice(scope, padded2, b, npad), map: g.rowMap, out: slice(scope, result2, b, tokens) });
  } catch (e) {
    if (result !== c.out) result.dispose();
    throw e;
  }
  return result;
}
