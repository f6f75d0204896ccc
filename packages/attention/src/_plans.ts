// Private: reads the plan (or the plans of the heads) of one attention call into what the geometry and the op need,
// and rejects combinations one kernel call cannot run.
import type { AttentionPlan } from '@fpsattn/scheduler';
import { type Dims3, type WindowSpec, toDims3, validateWindow, windowKey } from '@fpsattn/tiling';
import { AttentionPlanError } from './errors';

/** The kernel's operand type of a plan: BF16 modes run on BF16, FP8 modes on E4M3 codes. */
export type AttentionDType = 'bf16' | 'e4m3';

/** A plan's Q/K quantization granularity, its tile normalised to `[t, h, w]`. */
export type ResolvedGranularity = { readonly kind: 'tensor' } | { readonly kind: 'token' } | { readonly kind: 'tile'; readonly tile: Dims3 };

export interface ResolvedPlans {
  /** The plans as given: one for every head, or one per head. */
  readonly plans: readonly AttentionPlan[];
  readonly perHead: boolean;
  readonly dtype: AttentionDType;
  /** Whether any head is block-sparse (then every head runs on the attention-tile-major padded layout). */
  readonly sparse: boolean;
  /** The attention tile of the sparse heads (all equal), else null. */
  readonly attentionTile: Dims3 | null;
  /** Sparse calls: the window of each plan ('full' for a dense head). */
  readonly windows: readonly WindowSpec[] | null;
  /** FP8 calls: the Q/K granularity (all heads equal), else null. */
  readonly granularity: ResolvedGranularity | null;
  /** A stable key of everything above that shapes the geometry. */
  readonly key: string;
}

const MODES = ['dense-bf16', 'sparse-bf16', 'fp8-dense', 'fp8-sparse'] as const;
const OLD_GRANULARITY_NAMES: Record<string, string> = { 'per-tensor': 'tensor', 'per-token': 'token' };

const show = (value: unknown): string => {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
};

function readTile(field: string, value: unknown): Dims3 {
  try {
    return toDims3(value as Dims3);
  } catch (cause) {
    throw new AttentionPlanError({ field, actual: show(value), rule: 'a tile is [t, h, w] (or { frames, height, width }) of three positive integers' });
  }
}

function readGranularity(field: string, value: unknown): ResolvedGranularity {
  const kind = (value as { kind?: unknown } | null)?.kind;
  if (kind === 'tensor' || kind === 'token') return { kind };
  if (kind === 'tile') return { kind, tile: readTile(`${field}.tile`, (value as { tile: unknown }).tile) };
  const renamed = typeof kind === 'string' ? OLD_GRANULARITY_NAMES[kind] : undefined;
  throw new AttentionPlanError({
    field: `${field}.kind`,
    actual: show(kind),
    rule: renamed ? `the granularity '${kind}' is now called '${renamed}'` : "expected 'tensor', 'token' or 'tile'",
  });
}

function readWindow(field: string, value: unknown): WindowSpec {
  try {
    return validateWindow(value as WindowSpec);
  } catch (cause) {
    throw new AttentionPlanError({ field, actual: show(value), rule: `not a window: ${(cause as Error).message}` });
  }
}

const granularityKey = (g: ResolvedGranularity | null): string => (g === null ? 'none' : g.kind === 'tile' ? `tile:${g.tile.join('x')}` : g.kind);

/**
 * Reads `plan` (one for all heads) or `plans` (one per head). Throws an AttentionPlanError naming the field when a plan
 * is malformed or when the heads' plans cannot share one kernel call: BF16 and FP8 modes mixed, sparse heads with
 * different attention tiles, or FP8 heads with different granularities.
 */
export function resolvePlans(options: { plan?: AttentionPlan | undefined; plans?: readonly AttentionPlan[] | undefined }): ResolvedPlans {
  const perHead = options.plans !== undefined;
  if (perHead === (options.plan !== undefined)) {
    throw new AttentionPlanError({
      field: 'plan',
      actual: perHead ? 'given together with plans' : 'missing',
      rule: 'pass either plan (one plan for every head) or plans (one plan per head)',
    });
  }
  const plans = perHead ? options.plans : [options.plan as AttentionPlan];
  if (!Array.isArray(plans) || plans.length === 0) {
    throw new AttentionPlanError({ field: 'plans', actual: show(plans), rule: 'expected an array of one plan per head (at least one)' });
  }
  const fieldOf = (h: number) => (perHead ? `plans[${h}]` : 'plan');

  let dtype: AttentionDType | null = null;
  let granularity: ResolvedGranularity | null = null;
  let attentionTile: Dims3 | null = null;
  const sparseWindows: (WindowSpec | null)[] = [];
  plans.forEach((plan, h) => {
    const field = fieldOf(h);
    const mode = (plan as { mode?: unknown } | null)?.mode;
    if (!(MODES as readonly unknown[]).includes(mode)) {
      throw new AttentionPlanError({ field: `${field}.mode`, actual: show(mode), rule: `expected one of ${MODES.map((m) => `'${m}'`).join(', ')}` });
    }
    const planDType: AttentionDType = mode === 'dense-bf16' || mode === 'sparse-bf16' ? 'bf16' : 'e4m3';
    if (dtype !== null && planDType !== dtype) {
      throw new AttentionPlanError({
        field: `${field}.mode`,
        actual: `'${String(mode)}'`,
        rule: `one call runs on one operand type, and ${fieldOf(0)}.mode is ${dtype === 'bf16' ? 'a BF16' : 'an FP8'} mode: make every head BF16 or every head FP8`,
      });
    }
    dtype = planDType;
    if (plan.mode === 'fp8-dense' || plan.mode === 'fp8-sparse') {
      const g = readGranularity(`${field}.granularity`, plan.granularity);
      if (granularity !== null && granularityKey(g) !== granularityKey(granularity)) {
        throw new AttentionPlanError({
          field: `${field}.granularity`,
          actual: granularityKey(g),
          rule: `every head of one call quantizes Q and K alike (one group map), and ${fieldOf(0)} uses ${granularityKey(granularity)}`,
        });
      }
      granularity = g;
    }
    if (plan.mode === 'sparse-bf16' || plan.mode === 'fp8-sparse') {
      const sparsity = plan.sparsity as { tile?: unknown; window?: unknown } | undefined;
      const tile = readTile(`${field}.sparsity.tile`, sparsity?.tile);
      if (attentionTile !== null && tile.join('x') !== attentionTile.join('x')) {
        throw new AttentionPlanError({
          field: `${field}.sparsity.tile`,
          actual: `[${tile.join(', ')}]`,
          rule: `every sparse head of one call uses the same attention tile (one token order), and the first sparse head uses [${attentionTile.join(', ')}]`,
        });
      }
      attentionTile = tile;
      sparseWindows.push(readWindow(`${field}.sparsity.window`, (sparsity as { window?: unknown }).window)); // readTile passed: sparsity is an object
    } else {
      sparseWindows.push(null);
    }
  });
  const sparse = attentionTile !== null;
  const windows = sparse ? sparseWindows.map((w): WindowSpec => w ?? { kind: 'full' }) : null;
  const resolvedDType = dtype as unknown as AttentionDType;
  const tile = attentionTile as Dims3 | null;
  const g = granularity as ResolvedGranularity | null;
  const key = [resolvedDType, tile ? tile.join('x') : 'dense', granularityKey(g), windows ? windows.map(windowKey).join(',') : ''].join('|');
  return Object.freeze({ plans: Object.freeze([...plans]), perHead, dtype: resolvedDType, sparse, attentionTile: tile, windows, granularity: g, key });
}
