/**
 * The Wan2.1 T2V DiT forward on a backend (CUDA, or the CPU backend's float64 twins of the same ops), batched:
 * classifier-free guidance runs the conditional and unconditional samples as one batch of 2 (wan21-architecture.md
 * 1.4-1.7 for the math and the precision map; model/cpu-forward.ts is the float32 reference it is tested against).
 *
 * Per forward (B batch items of L tokens, dim = heads x 128; activations [B L, dim], raster token order):
 * ```
 * host    e = time_embedding(sinusoid(t)), e0 = time_projection(SiLU(e)), block and head modulations   (fp32, 1.7)
 * device  patchify(latents F32 [B, inDim, F, H, W]) -> BF16 [B L, inDim pt ph pw]    CFG: one upload, both items
 *         x = f32(patch_embedding GEMM, BF16 out)                         first block input is BF16 (1.7)
 *         per block:  h = layerNormModulate(x, shift, scale)                                   BF16
 *                     (each residual update x += gate * y is fused into the norm that follows it)
 *                     q, k = rmsNormRope(GEMM(h) + b, norm_q/k, RoPE) ; v = GEMM(h) + b
 *                     x += gate * GEMM_o(attention(q, k, v, plan of this layer))               @fpsattn/attention
 *                     h = layerNorm3(x) (affine) ; q = rmsNorm(GEMM(h) + b)
 *                     x += GEMM_o(crossAttention(q, K_text, V_text))                           K, V per prompt
 *                     h = layerNormModulate(x, shift', scale') ; x += gate' * GEMM(GELU(GEMM(h) + b1)) + b2
 *         head: layerNormModulate(x, head shift, scale) -> GEMM -> F32 [B L, pt ph pw outDim]
 *         unpatchify -> velocity F32 [B, outDim, F, H, W], downloaded once
 * ```
 * Deviations from the reference's numerics, each below BF16 resolution: RMSNorm multiplies its weight before the one
 * BF16 rounding (the reference rounds, then multiplies in fp32); RoPE runs in fp32 from float64 tables (the reference
 * in float64); the head's Linear is a BF16 GEMM with F32 output (the reference runs it in fp32).
 */
import { attention } from '@fpsattn/attention';
import type { AttentionPlan } from '@fpsattn/scheduler';
import { type Backend, type Tensor, castToBf16, gemm, layerNormModulate, patchify, rmsNormRope, unpatchify } from '@fpsattn/kernels';
import { type WanConfig, validateWanConfig } from '../model/config';
import { WanInputError } from '../model/errors';
import { latentGridOf } from '../model/latent-grid';
import { ropeTable } from '../model/rope';
import { CROSS_BLOCK_ROWS, PaddedRows, crossAttention, withViews } from './cross-attention';
import type { WanDeviceWeights } from './device-weights';
import { type HostModulations, hostModulations } from './_host-modulations';

/** The self-attention of one layer: one plan for every head, or one per head. */
export type LayerAttention = AttentionPlan | readonly AttentionPlan[];

/** The prompts of one batch, encoded for every block: text MLP output and each block's cross-attention K and V. */
export class WanDeviceText implements Disposable {
  readonly batch: number;
  readonly keys: PaddedRows;
  /** Per layer: BF16 [batch, keyNpad, dim] each. */
  readonly k: readonly Tensor<'bf16'>[];
  readonly v: readonly Tensor<'bf16'>[];

  constructor(batch: number, keys: PaddedRows, k: Tensor<'bf16'>[], v: Tensor<'bf16'>[]) {
    this.batch = batch;
    this.keys = keys;
    this.k = k;
    this.v = v;
  }

  dispose(): void {
    for (const t of [...this.k, ...this.v]) t.dispose();
    this.keys.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

export interface WanDeviceTextOptions {
  /** One per batch item (CFG: the prompt, then the negative prompt): [length, textDim] row-major, length <= textLen. */
  contexts: readonly { values: Float32Array; length: number }[];
}

export interface WanDeviceForwardOptions {
  /** One per batch item: [inDim, F, H, W] row-major (CFG: the same Float32Array twice, uploaded once). */
  latents: readonly Float32Array[];
  latentShape: readonly number[];
  /** The integer timestep every item embeds (trunc(sigma * 1000), 9.6). */
  timestep: number;
  /** The encoded prompts (encodeText), one per latent. */
  text: WanDeviceText;
  /** Self-attention plan(s): one for every layer, or per layer. Default dense BF16. */
  attention?: LayerAttention | ((layer: number) => LayerAttention);
  /**
   * Accumulates milliseconds per part of the forward (`host`: time embedding, modulations and JS between parts;
   * `patchify`: the uploads (latents, modulation vectors) and device patchify; `norms`, `projections` (the patch
   * embedding included), `self-attention`, `cross-attention`, `ffn`, `head`; `unpatchify`: device unpatchify and the
   * one download). Each part then waits for the device, so the forward runs slower: for attributing time, not for
   * timing.
   */
  profile?: Map<string, number>;
}

/** `forward`'s options with the latents already on the device (the device sampler's path). */
export interface WanDeviceForwardTensorOptions extends Omit<WanDeviceForwardOptions, 'latents'> {
  /** f32 [items, inDim, F, H, W] on the DiT's backend (CFG: one item and `repeat` 2); read only. */
  latents: Tensor<'f32'>;
  /** Batch item b is latents item b % items; items x repeat must be the text's batch. Default 1. */
  repeat?: number;
}

type Grid = readonly [number, number, number];

const DENSE: AttentionPlan = Object.freeze({ mode: 'dense-bf16' });
/** Timesteps whose host modulations a WanDeviceDit keeps: the current one and the one before. */
const MODULATION_MEMO_SIZE = 2;

/** Disposes, at the end of a forward, every tensor it made. */
class Scope {
  readonly #tensors: Tensor[] = [];
  t<T extends Tensor>(x: T): T {
    this.#tensors.push(x);
    return x;
  }
  dispose(): void {
    for (const x of this.#tensors.splice(0)) x.dispose();
  }
}

/** The RoPE angles of one grid on the device: cos and sin, F32 [tokens, headDim / 2] each. */
interface DeviceRope {
  readonly cos: Tensor<'f32'>;
  readonly sin: Tensor<'f32'>;
}

/**
 * The DiT on one backend: weights uploaded once (WanDeviceWeights), prompts encoded once per sample (encodeText), and
 * what depends only on the latent grid (RoPE tables, the padded query layout) or the timestep (the host modulations
 * of the last two) cached across forwards; `dispose()` frees those caches (the weights belong to the caller).
 */
export class WanDeviceDit implements Disposable {
  readonly weights: WanDeviceWeights;
  readonly config: WanConfig;
  readonly backend: Backend;
  readonly #ropes = new Map<string, DeviceRope>();
  readonly #queries = new Map<string, PaddedRows>();
  readonly #modulationMemo: { timestep: number; batch: number; value: HostModulations }[] = [];

  constructor(weights: WanDeviceWeights) {
    this.weights = weights;
    this.config = validateWanConfig({ config: weights.config });
    this.backend = weights.backend;
  }

  /** The text MLP over each zero-padded context (1.6: padded rows are attended) and each block's K, V of it. */
  encodeText(options: WanDeviceTextOptions): WanDeviceText {
    const { contexts } = options;
    const { textLen, textDim, dim, numLayers, eps } = this.config;
    const w = this.weights;
    if (!Array.isArray(contexts) || contexts.length < 1) throw new WanInputError({ caller: 'WanDeviceDit.encodeText', input: 'contexts', value: contexts, rule: 'expected at least one context' });
    const batch = contexts.length;
    const padded = new Float32Array(batch * textLen * textDim);
    contexts.forEach((c, b) => {
      const bad = (rule: string): never => {
        throw new WanInputError({ caller: 'WanDeviceDit.encodeText', input: `contexts[${b}]`, value: c?.length, rule });
      };
      if (!Number.isSafeInteger(c?.length) || c.length < 0 || c.length > textLen) bad(`expected a length in [0, ${textLen}] (textLen)`);
      if (!(c.values instanceof Float32Array) || c.values.length !== c.length * textDim) bad(`expected values: a Float32Array of length x textDim = ${c.length * textDim}`);
      padded.set(c.values, b * textLen * textDim);
    });
    const scope = new Scope();
    const keys = new PaddedRows({ backend: this.backend, batch, tokens: textLen, blockRows: CROSS_BLOCK_ROWS, name: 'text keys' });
    const k: Tensor<'bf16'>[] = [];
    const v: Tensor<'bf16'>[] = [];
    try {
      const f32 = scope.t(this.backend.fromArray(padded, [batch * textLen, textDim], 'f32', { name: 'context (f32)' }));
      const context = scope.t(castToBf16({ src: f32, name: 'context' }));
      const hidden = scope.t(gemm({ x: context, w: w.bf16('text_embedding.0.weight'), bias: w.bf16('text_embedding.0.bias'), activation: 'gelu', name: 'text hidden' }));
      const ctx = scope.t(gemm({ x: hidden as Tensor<'bf16'>, w: w.bf16('text_embedding.2.weight'), bias: w.bf16('text_embedding.2.bias'), name: 'text embedding' }) as Tensor<'bf16'>);
      const raw = scope.t(this.backend.empty([batch * textLen, dim], 'bf16', { name: 'cross k/v' }));
      const normed = scope.t(this.backend.empty([batch * textLen, dim], 'bf16', { name: 'cross k normed' }));
      for (let i = 0; i < numLayers; i++) {
        const m = (s: string) => `blocks.${i}.cross_attn.${s}`;
        gemm({ x: ctx, w: w.bf16(m('k.weight')), bias: w.bf16(m('k.bias')), out: raw });
        rmsNormRope({ x: raw, weight: w.f32(m('norm_k.weight')), eps, out: normed });
        k.push(this.backend.empty([batch, keys.npad, dim], 'bf16', { name: `blocks.${i} cross K` }));
        keys.pad(normed, k[i] as Tensor<'bf16'>);
        gemm({ x: ctx, w: w.bf16(m('v.weight')), bias: w.bf16(m('v.bias')), out: raw });
        v.push(this.backend.empty([batch, keys.npad, dim], 'bf16', { name: `blocks.${i} cross V` }));
        keys.pad(raw, v[i] as Tensor<'bf16'>);
      }
    } catch (error) {
      for (const t of [...k, ...v]) t.dispose();
      keys.dispose();
      throw error;
    } finally {
      scope.dispose();
    }
    return new WanDeviceText(batch, keys, k, v);
  }

  /** The velocity of every batch item, [outDim, F, H, W] each (views into one downloaded buffer). */
  async forward(options: WanDeviceForwardOptions): Promise<Float32Array[]> {
    const checked = this.#checkInputs(options);
    const batch = options.latents.length;
    return this.#run({
      options,
      checked,
      batch,
      // CFG gives both items the same Float32Array: it is uploaded once and patchified for every item (repeat).
      latents: (scope) => {
        const shared = options.latents.every((l) => l === options.latents[0]);
        const uploads = shared ? options.latents.slice(0, 1) : options.latents;
        const latents = scope.t(this.backend.empty([uploads.length, ...checked.latentShape], 'f32', { name: 'latents' }));
        uploads.forEach((l, b) => scope.t(latents.sliceRows(b, 1)).upload(l));
        return { latents, repeat: batch / uploads.length };
      },
      finish: async (velocity) => {
        const values = await velocity.download();
        const perItem = values.length / batch;
        return { result: options.latents.map((_, b) => values.subarray(b * perItem, (b + 1) * perItem)), keepVelocity: false };
      },
    });
  }

  /**
   * `forward` with the latents on the device, returning the velocity tensor f32 [items x repeat, outDim, F, H, W]
   * (the caller disposes it) without any download: the same forward, the same bits, minus the latents' upload and the
   * velocity's download.
   */
  async forwardDevice(options: WanDeviceForwardTensorOptions): Promise<Tensor<'f32'>> {
    const repeat = options.repeat ?? 1;
    const checked = this.#checkDeviceInputs(options, repeat);
    return this.#run({
      options,
      checked,
      batch: options.latents.shape[0]! * repeat,
      latents: () => ({ latents: options.latents, repeat }),
      finish: (velocity) => ({ result: velocity, keepVelocity: true }),
    });
  }

  async #run<R>(run: {
    options: Omit<WanDeviceForwardOptions, 'latents'>;
    checked: { latentShape: readonly [number, number, number, number]; grid: Grid };
    batch: number;
    latents: (scope: Scope) => { latents: Tensor<'f32'>; repeat: number };
    finish: (velocity: Tensor<'f32'>) => Promise<{ result: R; keepVelocity: boolean }> | { result: R; keepVelocity: boolean };
  }): Promise<R> {
    const { config, backend } = this;
    const w = this.weights;
    const { dim, ffnDim, numHeads, numLayers, eps, patchSize, outDim } = config;
    const headDim = dim / numHeads;
    const { options, batch } = run;
    const { latentShape, grid } = run.checked;
    const tokens = grid[0] * grid[1] * grid[2];
    const rows = batch * tokens;
    const planOf = typeof options.attention === 'function' ? options.attention : () => (options.attention as LayerAttention | undefined) ?? DENSE;
    const { profile } = options;
    let mark = performance.now();
    /** Charges the time since the last mark to `part` (waiting for the device first) when profiling. */
    const charge = async (part: string): Promise<void> => {
      if (!profile) return;
      await backend.synchronize();
      const now = performance.now();
      profile.set(part, (profile.get(part) ?? 0) + now - mark);
      mark = now;
    };

    // Host: time embedding, modulations.
    const { blockModulation, headModulation } = this.#modulations(options.timestep, batch);
    const { cos, sin } = this.#rope(grid);
    const queries = this.#paddedQueries(batch, tokens);

    await charge('host');
    const scope = new Scope();
    try {
      const t = <D extends 'bf16' | 'f32'>(shape: number[], dtype: D, name: string) => scope.t(backend.empty(shape, dtype, { name }));
      const mods = scope.t(backend.fromArray(blockModulation, [numLayers * 6 * batch, dim], 'f32', { name: 'block modulations' }));
      const headMods = scope.t(backend.fromArray(headModulation, [2 * batch, dim], 'f32', { name: 'head modulation' }));
      const ropeTables = { cos, sin, headDim };
      /** Modulation vector `k` (shift, scale, gate, shift', scale', gate') of layer i: f32 [batch, dim]. */
      const mod = (i: number, k: number) => scope.t(mods.sliceRows((i * 6 + k) * batch, batch));

      // Patch embedding: the first block's input is the BF16 GEMM output (1.7), widened to the F32 stream by the first
      // norm's fused residual (x = 0 + y).
      const x = t([rows, dim], 'f32', 'x (residual stream)');
      const h = t([rows, dim], 'bf16', 'h');
      const y = t([rows, dim], 'bf16', 'y');
      {
        const { latents, repeat } = run.latents(scope);
        const patches = scope.t(patchify({ latents, patchSize, repeat, name: 'patches' }));
        await charge('patchify');
        gemm({ x: patches, w: w.bf16('patch_embedding.weight'), bias: w.bf16('patch_embedding.bias'), out: y });
        x.fillBytes(0);
        await charge('projections');
      }
      const q = t([batch, tokens, dim], 'bf16', 'q');
      const k = t([batch, tokens, dim], 'bf16', 'k');
      const v = t([batch, tokens, dim], 'bf16', 'v');
      const a = t([batch, tokens, dim], 'bf16', 'attention out');
      const raw = t([rows, dim], 'bf16', 'projection');
      const hidden = t([rows, ffnDim], 'bf16', 'ffn hidden');
      const crossScratch = { q: t([batch, queries.npad, dim], 'bf16', 'cross q (padded)'), out: t([batch, queries.npad, dim], 'bf16', 'cross out (padded)') };
      const [q2, k2, v2, a2] = [q, k, v, a].map((u) => scope.t(u.reshape([rows, dim]))) as [Tensor<'bf16'>, Tensor<'bf16'>, Tensor<'bf16'>, Tensor<'bf16'>];

      // Each part's residual update x += y * gate is fused into the next norm, which reads the stream anyway (y is not
      // written again before that norm).
      let pending: { y: Tensor<'bf16'>; gate?: Tensor<'f32'> } = { y };
      for (let i = 0; i < numLayers; i++) {
        const m = (s: string) => `blocks.${i}.${s}`;
        const linear = (input: Tensor<'bf16'>, module: string, out: Tensor<'bf16'>) =>
          gemm({ x: input, w: w.bf16(m(`${module}.weight`)), bias: w.bf16(m(`${module}.bias`)), out });

        // 1) self-attention
        await charge('host');
        layerNormModulate({ x, rowsPerItem: tokens, eps, shift: mod(i, 0), scale: mod(i, 1), residual: pending, out: h });
        await charge('norms');
        linear(h, 'self_attn.q', raw);
        rmsNormRope({ x: raw, weight: w.f32(m('self_attn.norm_q.weight')), eps, rope: ropeTables, out: q2 });
        linear(h, 'self_attn.k', raw);
        rmsNormRope({ x: raw, weight: w.f32(m('self_attn.norm_k.weight')), eps, rope: ropeTables, out: k2 });
        linear(h, 'self_attn.v', v2);
        await charge('projections');
        const plan = planOf(i);
        attention({ q, k, v, grid, headDim, ...(isPlanList(plan) ? { plans: plan } : { plan }), out: a });
        await charge('self-attention');
        linear(a2, 'self_attn.o', y);
        await charge('projections');

        // 2) cross-attention: affine norm3, no modulation, no gate (1.4); x += gate_msa * y fused first
        layerNormModulate({ x, rowsPerItem: tokens, eps, weight: w.f32(m('norm3.weight')), bias: w.f32(m('norm3.bias')), residual: { y, gate: mod(i, 2) }, out: h });
        await charge('norms');
        linear(h, 'cross_attn.q', raw);
        rmsNormRope({ x: raw, weight: w.f32(m('cross_attn.norm_q.weight')), eps, out: q2 });
        await charge('projections');
        crossAttention({ q: q2, queries, k: options.text.k[i] as Tensor<'bf16'>, v: options.text.v[i] as Tensor<'bf16'>, keys: options.text.keys, headDim, out: a2, scratch: crossScratch });
        await charge('cross-attention');
        linear(a2, 'cross_attn.o', y);
        await charge('projections');

        // 3) FFN; x += y (cross-attention, no gate) fused first; its own gated residual goes to the next norm
        layerNormModulate({ x, rowsPerItem: tokens, eps, shift: mod(i, 3), scale: mod(i, 4), residual: { y }, out: h });
        await charge('norms');
        gemm({ x: h, w: w.bf16(m('ffn.0.weight')), bias: w.bf16(m('ffn.0.bias')), activation: 'gelu', out: hidden });
        linear(hidden, 'ffn.2', y);
        await charge('ffn');
        pending = { y, gate: mod(i, 5) };
      }

      // Head: modulation from the raw e (1.5), F32 output.
      const headShift = scope.t(headMods.sliceRows(0, batch));
      const headScale = scope.t(headMods.sliceRows(batch, batch));
      layerNormModulate({ x, rowsPerItem: tokens, eps, shift: headShift, scale: headScale, residual: pending, out: h });
      const out = scope.t(gemm({ x: h, w: w.bf16('head.head.weight'), bias: w.f32('head.head.bias'), outDtype: 'f32', name: 'head' }) as Tensor<'f32'>);
      await charge('head');
      const velocity = unpatchify({ tokens: out, grid, patchSize, outDim, name: 'velocity' });
      let keep = false;
      try {
        const { result, keepVelocity } = await run.finish(velocity);
        keep = keepVelocity;
        await charge('unpatchify');
        return result;
      } finally {
        if (!keep) velocity.dispose();
      }
    } finally {
      scope.dispose();
    }
  }

  /** The grid's RoPE tables on the device (float64 angles rounded to F32, 1.3), made once per grid. */
  #rope(grid: Grid): DeviceRope {
    const key = grid.join('x');
    let rope = this.#ropes.get(key);
    if (!rope) {
      const headDim = this.config.dim / this.config.numHeads;
      const table = ropeTable({ headDim, grid });
      const shape = [table.tokens, table.pairs];
      const cos = this.backend.fromArray(Float32Array.from(table.cos), shape, 'f32', { name: `rope cos ${key}` });
      const sin = this.backend.fromArray(Float32Array.from(table.sin), shape, 'f32', { name: `rope sin ${key}` });
      rope = { cos, sin };
      this.#ropes.set(key, rope);
    }
    return rope;
  }

  /** The padded query layout of the cross-attention for `batch` items of `tokens` tokens, made once per shape. */
  #paddedQueries(batch: number, tokens: number): PaddedRows {
    const key = `${batch}x${tokens}`;
    let rows = this.#queries.get(key);
    if (!rows) {
      rows = new PaddedRows({ backend: this.backend, batch, tokens, blockRows: CROSS_BLOCK_ROWS, name: 'video queries' });
      this.#queries.set(key, rows);
    }
    return rows;
  }

  /** Frees the per-grid caches (RoPE tables, query layouts). The weights stay the caller's. */
  dispose(): void {
    for (const r of this.#ropes.values()) {
      r.cos.dispose();
      r.sin.dispose();
    }
    for (const q of this.#queries.values()) q.dispose();
    this.#ropes.clear();
    this.#queries.clear();
    this.#modulationMemo.length = 0;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /**
   * The host modulations (hostModulations) of a timestep and batch size, memoized for the last MODULATION_MEMO_SIZE
   * pairs: they depend on nothing else (the weights are fixed for this DiT's life), so a forward that repeats a
   * timestep (benchmarks, `fpsattn bench dit`, a retried step) skips the time MLP (~10-20 ms at Wan-1.3B on a CPU
   * core). The arrays are only ever uploaded (copied), never written, so they can be shared between forwards.
   */
  #modulations(timestep: number, batch: number): HostModulations {
    const memo = this.#modulationMemo;
    const hit = memo.findIndex((m) => m.timestep === timestep && m.batch === batch);
    if (hit >= 0) return memo[hit]!.value;
    const value = hostModulations({ config: this.config, host: (name) => this.weights.host(name), timestep, batch });
    memo.unshift({ timestep, batch, value });
    memo.length = Math.min(memo.length, MODULATION_MEMO_SIZE);
    return value;
  }

  #checkDeviceInputs(options: WanDeviceForwardTensorOptions, repeat: number): { latentShape: readonly [number, number, number, number]; grid: Grid } {
    const bad = (input: string, value: unknown, rule: string): never => {
      throw new WanInputError({ caller: 'WanDeviceDit.forwardDevice', input, value, rule });
    };
    const { latents, timestep, text } = options;
    const { latentShape: shape, grid } = latentGridOf({ config: this.config, latentShape: options.latentShape, caller: 'WanDeviceDit.forwardDevice' });
    const isTensor = typeof latents === 'object' && latents !== null && typeof (latents as Tensor).dispose === 'function' && Array.isArray(latents.shape);
    if (!isTensor || latents.dtype !== 'f32' || latents.backend !== this.backend) bad('latents', isTensor ? latents.toString() : latents, "expected an f32 tensor on the DiT's backend");
    const items = latents.shape[0]!;
    if (latents.shape.length !== 5 || items < 1 || shape.some((d, k) => latents.shape[k + 1] !== d)) {
      bad('latents', `[${latents.shape.join(', ')}]`, `expected [items, ${shape.join(', ')}]`);
    }
    if (!Number.isSafeInteger(repeat) || repeat < 1) bad('repeat', repeat, 'expected an integer >= 1');
    if (typeof timestep !== 'number' || !Number.isFinite(timestep)) bad('timestep', timestep, 'expected a finite number (the integer timestep, 0..999)');
    if (!(text instanceof WanDeviceText) || text.batch !== items * repeat) {
      bad('text', text instanceof WanDeviceText ? text.batch : text, `expected the WanDeviceText of ${items * repeat} prompts (encodeText), one per latent item x repeat`);
    }
    return { latentShape: shape, grid };
  }

  #checkInputs(options: WanDeviceForwardOptions): { latentShape: readonly [number, number, number, number]; grid: Grid } {
    const { config } = this;
    const bad = (input: string, value: unknown, rule: string): never => {
      throw new WanInputError({ caller: 'WanDeviceDit.forward', input, value, rule });
    };
    const { latents, timestep, text } = options;
    const { latentShape: shape, grid } = latentGridOf({ config, latentShape: options.latentShape, caller: 'WanDeviceDit.forward' });
    const numel = shape[0] * shape[1] * shape[2] * shape[3];
    if (!Array.isArray(latents) || latents.length < 1) bad('latents', latents, 'expected one Float32Array per batch item');
    latents.forEach((l, b) => {
      if (!(l instanceof Float32Array) || l.length !== numel) bad(`latents[${b}]`, l?.length, `expected a Float32Array of ${numel} values [${shape.join(', ')}]`);
    });
    if (typeof timestep !== 'number' || !Number.isFinite(timestep)) bad('timestep', timestep, 'expected a finite number (the integer timestep, 0..999)');
    if (!(text instanceof WanDeviceText) || text.batch !== latents.length) {
      bad('text', text instanceof WanDeviceText ? text.batch : text, `expected the WanDeviceText of ${latents.length} prompts (encodeText), one per latent`);
    }
    return { latentShape: shape, grid };
  }
}

function isPlanList(plan: LayerAttention): plan is readonly AttentionPlan[] {
  return Array.isArray(plan);
}
