// Private validation helpers: each reader records every problem in an IssueList and returns a typed value or
// undefined, so one pass reports all bad fields.
import { blockMaskNnz, type Dims3, type GridDims } from '@fpsattn/tiling';
import type { ConfigIssue } from './config-error';
import { SCHEDULE_LIMITS } from './limits';
import type { AttentionPlan, Granularity, ModelDims, OverrideRule, PhaseName, Sparsity, SparseWindow } from './types';

export const ATTENTION_MODES = ['dense-bf16', 'fp8-dense', 'sparse-bf16', 'fp8-sparse'] as const;
export const GRANULARITY_KINDS = ['tensor', 'token', 'tile'] as const;
/** Names used before the vocabulary was shared with @fpsattn/fp8, and the name that replaced each. */
export const RENAMED_GRANULARITY_KINDS: Readonly<Record<string, (typeof GRANULARITY_KINDS)[number]>> = Object.freeze({
  'per-tensor': 'tensor',
  'per-token': 'token',
});
export const SPARSE_WINDOW_KINDS = ['seed', 'clamped'] as const;
export const PHASE_NAMES = ['warmup', 'early', 'middle', 'late'] as const;

const quoteList = (values: readonly string[]) => values.map((v) => `'${v}'`).join(', ');

export class IssueList {
  readonly issues: ConfigIssue[] = [];
  add(path: string, value: unknown, message: string, allowed: string): void {
    this.issues.push({ path, value, message, allowed });
  }
}

export const child = (path: string, key: string): string => (path ? `${path}.${key}` : key);

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads an object, reporting a non-object and each field outside `known`. */
export function readObject(
  issues: IssueList,
  path: string,
  value: unknown,
  known: readonly string[],
  what: string,
): Record<string, unknown> | undefined {
  if (!isRecord(value)) {
    issues.add(path, value, `expected ${what}`, `an object with fields ${quoteList(known)}`);
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) issues.add(child(path, key), value[key], `unknown field '${key}'`, `fields ${quoteList(known)}`);
  }
  return value;
}

export function readInt(issues: IssueList, path: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const allowed = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer in [${min}, ${max}]`;
  // Stryker disable next-line ConditionalExpression: the typeof test only narrows the type: Number.isInteger is false for every non-number (equivalent)
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    issues.add(path, value, 'expected an integer', allowed);
    return undefined;
  }
  if (value < min || value > max) {
    issues.add(path, value, 'out of range', allowed);
    return undefined;
  }
  return value;
}

export function readUnit(issues: IssueList, path: string, value: unknown): number | undefined {
  // Stryker disable next-line ConditionalExpression: the typeof test only narrows the type: Number.isFinite is false for every non-number (equivalent)
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    issues.add(path, value, 'expected a finite number', 'a number in [0, 1]');
    return undefined;
  }
  if (value < 0 || value > 1) {
    issues.add(path, value, 'must be a fraction of the steps', 'a number in [0, 1]');
    return undefined;
  }
  return value;
}

const SIZE3_FIELDS = ['frames', 'height', 'width'] as const;
const SIZE3_ALLOWED = '[t, h, w] or { frames, height, width } with three positive integers';

/** Reads a 3D size written `[t, h, w]` or `{ frames, height, width }` (each a positive integer up to `max`). */
function readSize3(issues: IssueList, path: string, value: unknown, what: string, max?: number): [number, number, number] | undefined {
  let values: unknown[];
  let paths: string[];
  if (Array.isArray(value)) {
    if (value.length !== 3) {
      issues.add(path, value, `expected ${what} as [t, h, w] or { frames, height, width }`, SIZE3_ALLOWED);
      return undefined;
    }
    values = value;
    paths = [0, 1, 2].map((axis) => `${path}[${axis}]`);
  } else {
    if (!isRecord(value)) {
      issues.add(path, value, `expected ${what} as [t, h, w] or { frames, height, width }`, SIZE3_ALLOWED);
      return undefined;
    }
    const o = readObject(issues, path, value, SIZE3_FIELDS, `${what} as [t, h, w] or { frames, height, width }`)!;
    values = SIZE3_FIELDS.map((name) => o[name]);
    paths = SIZE3_FIELDS.map((name) => child(path, name));
  }
  const out = values.map((v, axis) => readInt(issues, paths[axis]!, v, 1, max));
  return out.every((v) => v !== undefined) ? (out as [number, number, number]) : undefined;
}

/** A tile or window size: `[t, h, w]` or `{ frames, height, width }`, returned as `[t, h, w]`. */
export function readDims3(issues: IssueList, path: string, value: unknown, what: string): Dims3 | undefined {
  return readSize3(issues, path, value, what);
}

/** A token grid: `{ frames, height, width }` or `[T, H, W]`, returned as `{ frames, height, width }`. */
export function readGrid(issues: IssueList, path: string, value: unknown): GridDims | undefined {
  const max = SCHEDULE_LIMITS.maxTokens;
  const size = readSize3(issues, path, value, 'a token grid', max);
  if (!size) return undefined;
  const [frames, height, width] = size;
  const tokens = frames * height * width;
  if (tokens > max) {
    issues.add(path, value, `${tokens} tokens (frames x height x width) do not fit Int32 index arrays`, `at most ${max} tokens (2^31 - 1)`);
    return undefined;
  }
  return { frames, height, width };
}

export function readModel(issues: IssueList, path: string, value: unknown): ModelDims | undefined {
  const o = readObject(issues, path, value, ['layers', 'heads', 'headDim'], 'model sizes');
  if (!o) return undefined;
  const layers = readInt(issues, child(path, 'layers'), o.layers, 1, SCHEDULE_LIMITS.maxLayers);
  const heads = readInt(issues, child(path, 'heads'), o.heads, 1, SCHEDULE_LIMITS.maxHeads);
  const headDim = readInt(issues, child(path, 'headDim'), o.headDim, 1, SCHEDULE_LIMITS.maxHeadDim);
  // Stryker disable next-line ConditionalExpression,LogicalOperator: a missing size has already added an issue, so the config is rejected whatever this returns (equivalent)
  return layers && heads && headDim ? { layers, heads, headDim } : undefined;
}

export function readGranularity(issues: IssueList, path: string, value: unknown): Granularity | undefined {
  if (!isRecord(value)) {
    issues.add(path, value, 'expected a granularity object', `{ kind: ${quoteList(GRANULARITY_KINDS)} }`);
    return undefined;
  }
  switch (value.kind) {
    case 'tile': {
      readObject(issues, path, value, ['kind', 'tile'], 'a tile granularity');
      const tile = readDims3(issues, child(path, 'tile'), value.tile, 'a quantization tile');
      return tile ? { kind: 'tile', tile } : undefined;
    }
    case 'token':
    case 'tensor':
      readObject(issues, path, value, ['kind'], `a ${value.kind} granularity`);
      return { kind: value.kind };
    default: {
      const kind = value.kind;
      // Stryker disable next-line ConditionalExpression: the typeof test only narrows the type: Object.hasOwn is false for a non-string kind here (equivalent)
      const renamed = typeof kind === 'string' && Object.hasOwn(RENAMED_GRANULARITY_KINDS, kind) ? RENAMED_GRANULARITY_KINDS[kind] : undefined;
      if (renamed !== undefined) {
        issues.add(child(path, 'kind'), value.kind, `granularity kind '${String(value.kind)}' was renamed: use '${renamed}'`, quoteList(GRANULARITY_KINDS));
      } else {
        issues.add(child(path, 'kind'), value.kind, 'unknown granularity kind', quoteList(GRANULARITY_KINDS));
      }
      return undefined;
    }
  }
}

const AXES = ['frames', 'height', 'width'] as const;

export function readWindow(issues: IssueList, path: string, value: unknown, grid?: GridDims, tile?: Dims3): SparseWindow | undefined {
  if (!isRecord(value)) {
    issues.add(path, value, 'expected a window object', `{ kind: ${quoteList(SPARSE_WINDOW_KINDS)} }`);
    return undefined;
  }
  const extents = grid ? [grid.frames, grid.height, grid.width] : undefined;
  switch (value.kind) {
    case 'seed': {
      readObject(issues, path, value, ['kind', 'tokens'], 'a seed window');
      const tokens = readDims3(issues, child(path, 'tokens'), value.tokens, 'a window in tokens');
      if (!tokens) return undefined;
      let ok = true;
      if (extents) {
        tokens.forEach((w, axis) => {
          if (w > extents[axis]!) {
            // Stryker disable next-line BooleanLiteral: the issue added below rejects the config whatever is returned (equivalent)
            ok = false;
            issues.add(`${path}.tokens[${axis}]`, w, `window is larger than the grid (${AXES[axis]} = ${extents[axis]} tokens)`, `an integer in [1, ${extents[axis]}]`);
          }
        });
      }
      return ok ? { kind: 'seed', tokens } : undefined;
    }
    case 'clamped': {
      readObject(issues, path, value, ['kind', 'tiles'], 'a clamped window');
      const tiles = readDims3(issues, child(path, 'tiles'), value.tiles, 'a window in tiles');
      if (!tiles) return undefined;
      let ok = true;
      if (extents && tile) {
        tiles.forEach((w, axis) => {
          const n = Math.ceil(extents[axis]! / tile[axis]!);
          if (w > n) {
            // Stryker disable next-line BooleanLiteral: the issue added below rejects the config whatever is returned (equivalent)
            ok = false;
            issues.add(`${path}.tiles[${axis}]`, w, `window is larger than the grid (${AXES[axis]}: ${n} tiles of ${tile[axis]})`, `an integer in [1, ${n}]`);
          }
        });
      }
      return ok ? { kind: 'clamped', tiles } : undefined;
    }
    default:
      issues.add(child(path, 'kind'), value.kind, 'unknown window kind', quoteList(SPARSE_WINDOW_KINDS));
      return undefined;
  }
}

export function readSparsity(issues: IssueList, path: string, value: unknown, grid?: GridDims): Sparsity | undefined {
  const o = readObject(issues, path, value, ['tile', 'window'], 'a sparsity object');
  if (!o) return undefined;
  const tile = readDims3(issues, child(path, 'tile'), o.tile, 'an attention tile');
  const window = readWindow(issues, child(path, 'window'), o.window, grid, tile);
  if (!(tile && window)) return undefined;
  if (grid) {
    // The mask's CSR colIdx must fit Int32: reject here (a ConfigError) rather than when explain/run builds it.
    const nnz = blockMaskNnz({ grid, tile, window });
    if (nnz > SCHEDULE_LIMITS.maxMaskKeyTiles) {
      issues.add(
        path,
        o,
        `the block mask would hold ${nnz} key tiles (tiles x window tiles), more than 2^31-1: use larger tiles or a smaller window`,
        `at most ${SCHEDULE_LIMITS.maxMaskKeyTiles} key tiles per mask`,
      );
      return undefined;
    }
  }
  return { tile, window };
}

/**
 * Whether a quantization tile `quant` lines up with the attention tile `attention` (both `[t, h, w]`): either it
 * divides the attention tile on every axis (finer: each attention block holds whole quantization tiles), or it is a
 * multiple of it on every axis (coarser: each quantization tile holds whole attention blocks; both tilings start at
 * the grid origin, so edge tiles clipped by the grid still hold whole, possibly partial, attention blocks). Anything
 * else (e.g. 2 against 3, or finer on one axis and coarser on another) would make one scale cover parts of blocks
 * that a kernel handles separately.
 */
export function quantTileFits(quant: Dims3, attention: Dims3): boolean {
  const finer = quant.every((q, axis) => attention[axis]! % q === 0);
  const coarser = quant.every((q, axis) => q % attention[axis]! === 0);
  return finer || coarser;
}

/** Reports an FP8 sparse plan whose tile-wise quantization tile cuts across its attention tile. */
function checkQuantTile(issues: IssueList, path: string, granularity: Granularity, sparsity: Sparsity): boolean {
  if (granularity.kind !== 'tile' || quantTileFits(granularity.tile, sparsity.tile)) return true;
  const a = sparsity.tile.join('x');
  issues.add(
    child(path, 'granularity.tile'),
    granularity.tile,
    `quantization tile ${granularity.tile.join('x')} cuts across the attention tile ${a} (sparsity.tile): a scale must cover whole attention blocks or whole parts of one`,
    `a tile that divides ${a} on every axis (finer) or a multiple of ${a} on every axis (coarser)`,
  );
  // Stryker disable next-line BooleanLiteral: the issue above rejects the config whatever is returned (equivalent)
  return false;
}

const PLAN_FIELDS: Record<(typeof ATTENTION_MODES)[number], readonly string[]> = {
  'dense-bf16': ['mode'],
  'fp8-dense': ['mode', 'granularity'],
  'sparse-bf16': ['mode', 'sparsity'],
  'fp8-sparse': ['mode', 'granularity', 'sparsity'],
};

export function readPlan(issues: IssueList, path: string, value: unknown, grid?: GridDims): AttentionPlan | undefined {
  if (!isRecord(value)) {
    issues.add(path, value, 'expected an attention plan object', `{ mode: ${quoteList(ATTENTION_MODES)} }`);
    return undefined;
  }
  const mode = value.mode;
  if (typeof mode !== 'string' || !(ATTENTION_MODES as readonly string[]).includes(mode)) {
    issues.add(child(path, 'mode'), mode, 'unknown attention mode', quoteList(ATTENTION_MODES));
    return undefined;
  }
  const m = mode as (typeof ATTENTION_MODES)[number];
  for (const key of Object.keys(value)) {
    if (!PLAN_FIELDS[m].includes(key)) {
      issues.add(child(path, key), value[key], `field '${key}' is not allowed for mode '${m}'`, `fields ${quoteList(PLAN_FIELDS[m])}`);
    }
  }
  const needsGranularity = m === 'fp8-dense' || m === 'fp8-sparse';
  const needsSparsity = m === 'sparse-bf16' || m === 'fp8-sparse';
  const granularity = needsGranularity ? readGranularity(issues, child(path, 'granularity'), value.granularity) : undefined;
  const sparsity = needsSparsity ? readSparsity(issues, child(path, 'sparsity'), value.sparsity, grid) : undefined;
  if ((needsGranularity && !granularity) || (needsSparsity && !sparsity)) return undefined;
  if (m === 'fp8-sparse' && !checkQuantTile(issues, path, granularity!, sparsity!)) return undefined;
  switch (m) {
    case 'dense-bf16':
      return { mode: m };
    case 'fp8-dense':
      return { mode: m, granularity: granularity! };
    case 'sparse-bf16':
      return { mode: m, sparsity: sparsity! };
    case 'fp8-sparse':
      return { mode: m, granularity: granularity!, sparsity: sparsity! };
  }
}

function readIndexList(issues: IssueList, path: string, value: unknown, count: number, what: string): number[] | undefined {
  if (!Array.isArray(value) || value.length === 0) {
    issues.add(path, value, `expected a non-empty array of ${what} indices`, `integers in [0, ${count - 1}]`);
    return undefined;
  }
  const out = value.map((v, i) => readInt(issues, `${path}[${i}]`, v, 0, count - 1));
  // Stryker disable next-line ConditionalExpression,MethodExpression: a bad index has already added an issue, so the rule is rejected whatever this returns (equivalent)
  return out.every((v) => v !== undefined) ? (out as number[]) : undefined;
}

export function readOverrides(
  issues: IssueList,
  path: string,
  value: unknown,
  context: { steps?: number; model?: ModelDims; grid?: GridDims },
): OverrideRule[] | undefined {
  if (!Array.isArray(value)) {
    issues.add(path, value, 'expected an array of override rules', 'an array of { layers?, heads?, phases?, steps?, plan }');
    return undefined;
  }
  const rules: OverrideRule[] = [];
  let ok = true;
  value.forEach((raw, i) => {
    const p = `${path}[${i}]`;
    const before = issues.issues.length;
    const o = readObject(issues, p, raw, ['layers', 'heads', 'phases', 'steps', 'plan'], 'an override rule');
    if (!o) {
      ok = false;
      return;
    }
    // Stryker disable next-line ObjectLiteral: the placeholder plan is always replaced (a rule without a valid plan is rejected) (equivalent)
    const rule: { -readonly [K in keyof OverrideRule]: OverrideRule[K] } = { plan: { mode: 'dense-bf16' } };
    if (o.layers !== undefined) rule.layers = readIndexList(issues, child(p, 'layers'), o.layers, context.model?.layers ?? SCHEDULE_LIMITS.maxLayers, 'layer');
    if (o.heads !== undefined) rule.heads = readIndexList(issues, child(p, 'heads'), o.heads, context.model?.heads ?? SCHEDULE_LIMITS.maxHeads, 'head');
    if (o.phases !== undefined) {
      if (!Array.isArray(o.phases) || o.phases.length === 0) {
        issues.add(child(p, 'phases'), o.phases, 'expected a non-empty array of phase names', quoteList(PHASE_NAMES));
      } else {
        o.phases.forEach((phase, j) => {
          if (!(PHASE_NAMES as readonly unknown[]).includes(phase)) issues.add(`${p}.phases[${j}]`, phase, 'unknown phase', quoteList(PHASE_NAMES));
        });
        rule.phases = o.phases as PhaseName[];
      }
    }
    if (o.steps !== undefined) {
      const s = readObject(issues, child(p, 'steps'), o.steps, ['from', 'to'], 'a step range { from, to }');
      if (s) {
        const max = context.steps ?? SCHEDULE_LIMITS.maxSteps;
        const from = readInt(issues, `${p}.steps.from`, s.from, 0, max - 1);
        const to = readInt(issues, `${p}.steps.to`, s.to, 1, max);
        // Stryker disable next-line ConditionalExpression,LogicalOperator: a bad bound has already added an issue, so the rule is rejected whatever is stored (equivalent)
        if (from !== undefined && to !== undefined) {
          if (from >= to) issues.add(`${p}.steps`, s, `empty step range (from ${from} >= to ${to})`, 'from < to (half-open [from, to))');
          else rule.steps = { from, to };
        }
      }
    }
    if (!('plan' in o)) issues.add(child(p, 'plan'), undefined, 'missing plan', 'an attention plan');
    else {
      const plan = readPlan(issues, child(p, 'plan'), o.plan, context.grid);
      // Stryker disable next-line ConditionalExpression: an invalid plan has already added an issue, so the rule is rejected (equivalent)
      if (plan) rule.plan = plan;
    }
    // Stryker disable next-line ConditionalExpression,BooleanLiteral: a rule with issues makes the whole table fail through the issue list as well (equivalent)
    if (issues.issues.length !== before) ok = false;
    else rules.push(rule);
  });
  return ok ? rules : undefined;
}
