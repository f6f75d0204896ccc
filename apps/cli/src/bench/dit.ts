// The DiT benchmark: one batch-2 forward (CFG: the same latents, two prompts of textLen tokens) at a Wan shape, for
// every distinct per-step plan set of each schedule preset, and the sample time each preset implies (the sum over its
// steps of the forward time of that step's plans; the sampler's own work is a few vectors per step and is not
// counted). Weights: random, Wan-shaped, generated per tensor on the host (xorshift, never all zeros) and converted
// to BF16 on the device.
import type { Backend } from '@fpsattn/kernels';
import { schedulePreset, type SchedulePresetName } from '@fpsattn/scheduler';
import { WAN_CONFIG_PRESETS, WanDeviceDit, WanDeviceWeights, defaultSamplerLoop, layerPlansAt, sample, sampleOnDevice, wanDeviceTensorModel, wanDeviceVelocityModel, wanTensorSpecs, type SamplerLoop } from '@fpsattn/wan';
import { median } from './timing';
import type { BenchShape } from './shapes';

export interface DitBenchPhase {
  readonly steps: number;
  readonly firstStep: number;
  readonly modes: string;
  readonly forwardMs: number;
  /** With `profile`: ms per part of one more forward, synchronised after each part (WanDeviceDit.forward's profile). */
  readonly profileMs?: Readonly<Record<string, number>>;
}

export interface DitBenchRow {
  readonly preset: SchedulePresetName;
  readonly steps: number;
  /** Sum over the steps of the forward time of each step's plans. */
  readonly sampleSeconds: number;
  /** The first preset's sampleSeconds / this preset's. */
  readonly speedup: number;
  readonly phases: readonly DitBenchPhase[];
  readonly peakBytes: number | null;
  /** With `sample`: a real sampling run of the preset (UniPC, CFG, seeded noise), the sampler's own work included. */
  readonly measured?: DitSampleRun;
}

export interface DitSampleRun {
  readonly seconds: number;
  /** 'host': `sample` (velocities downloaded, solver in JS); 'device': `sampleOnDevice` (latents stay on the device). */
  readonly sampler: SamplerLoop;
  /** Wall milliseconds of each step (forward, guidance and solver update). */
  readonly stepMs: readonly number[];
}

export interface DitBenchSetup {
  readonly latentShape: readonly number[];
  readonly weightBytes: number;
  readonly uploadSeconds: number;
  readonly textSeconds: number;
}

/** Deterministic pseudo-random floats in [-1, 1) (xorshift32), scaled and offset. */
function randomArray(n: number, seed: number, scale: number, offset = 0): Float32Array {
  const out = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = offset + scale * (s / 2147483648 - 1);
  }
  return out;
}

/** The DiT's latents for a token grid (patch 1x2x2): [16, T, 2H, 2W]. */
export const latentShapeOf = (grid: readonly number[]): number[] => [16, grid[0] as number, 2 * (grid[1] as number), 2 * (grid[2] as number)];

export async function runDitBench(options: {
  backend: Backend;
  shape: BenchShape;
  presets: readonly SchedulePresetName[];
  steps: number;
  reps: number;
  /** Also attribute one forward per plan set to its parts (self-attention, projections, FFN, norms, host, ...). */
  profile?: boolean;
  /** Also run each preset's whole sampling loop (`steps` steps) and time it. */
  sample?: boolean;
  /** With `sample`: the loop ('device': `sampleOnDevice`, 'host': `sample`); default `defaultSamplerLoop(backend)`. */
  sampler?: SamplerLoop;
  onStep?: (preset: string, step: number, ms: number) => void;
  onSetup?: (setup: DitBenchSetup) => void;
  onPhase?: (preset: string, phase: DitBenchPhase) => void;
}): Promise<{ setup: DitBenchSetup; rows: DitBenchRow[] }> {
  const { backend, shape, steps, reps } = options;
  const config = WAN_CONFIG_PRESETS[shape.config];
  const latentShape = latentShapeOf(shape.grid);
  const specs = new Map(wanTensorSpecs(config).map((s) => [s.name, s]));
  const source = {
    get(name: string): Float32Array | undefined {
      const spec = specs.get(name);
      if (!spec) return undefined;
      const n = spec.shape.reduce((a, b) => a * b, 1);
      const seed = [...name].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
      if (/norm_[qk]\.weight|norm3\.weight/.test(name)) return randomArray(n, seed, 0.1, 1);
      if (/modulation/.test(name)) return randomArray(n, seed, 0.05);
      const fanIn = spec.shape.length > 1 ? n / (spec.shape[0] as number) : 1;
      return randomArray(n, seed, /bias/.test(name) ? 0.02 : Math.sqrt(3 / fanIn));
    },
  };
  let t0 = performance.now();
  const weights = WanDeviceWeights.upload({ backend, config, weights: source });
  const dit = new WanDeviceDit(weights);
  try {
    await backend.synchronize();
    const uploadSeconds = (performance.now() - t0) / 1000;
    const contexts = [0, 1].map((b) => ({ values: randomArray(config.textLen * config.textDim, 99 + b, 1), length: config.textLen }));
    t0 = performance.now();
    const text = dit.encodeText({ contexts });
    try {
      await backend.synchronize();
      const setup: DitBenchSetup = { latentShape, weightBytes: weights.deviceBytes, uploadSeconds, textSeconds: (performance.now() - t0) / 1000 };
      options.onSetup?.(setup);
      const latents = randomArray(latentShape.reduce((a, b) => a * b, 1), 5, 1.7);
      const forwardMs = new Map<string, number>();
      const profiles = new Map<string, Record<string, number>>();
      const timeForward = async (key: string, attention: Parameters<WanDeviceDit['forward']>[0]['attention']): Promise<number> => {
        const cached = forwardMs.get(key);
        if (cached !== undefined) return cached;
        const run = async () => {
          const t = performance.now();
          await dit.forward({ latents: [latents, latents], latentShape, timestep: 700, text, attention });
          return performance.now() - t;
        };
        await run(); // warm-up: geometry, cuBLASLt plans, pool
        const times: number[] = [];
        for (let r = 0; r < reps; r++) times.push(await run());
        const ms = median(times);
        forwardMs.set(key, ms);
        if (options.profile) {
          const parts = new Map<string, number>();
          await dit.forward({ latents: [latents, latents], latentShape, timestep: 700, text, attention, profile: parts });
          profiles.set(key, Object.fromEntries([...parts].map(([k, v]) => [k, Math.round(v * 10) / 10])));
        }
        return ms;
      };
      const rows: DitBenchRow[] = [];
      for (const preset of options.presets) {
        // The preset's plans per step (its windows and tiles are the resolution's; the attention op lays them on the
        // shape's own grid), for this model's layers and heads.
        const schedule = { ...schedulePreset({ name: preset, ...(preset === 'wan-480p' || preset === 'wan-720p' ? {} : { resolution: shape.resolution }), steps }), model: { layers: config.numLayers, heads: config.numHeads, headDim: 128 } };
        const groups = new Map<string, { plans: ReturnType<typeof layerPlansAt>; steps: number[] }>();
        for (let step = 0; step < steps; step++) {
          const plans = layerPlansAt(schedule, step);
          const key = JSON.stringify(plans);
          const g = groups.get(key) ?? { plans, steps: [] };
          g.steps.push(step);
          groups.set(key, g);
        }
        let total = 0;
        const phases: DitBenchPhase[] = [];
        for (const [key, g] of groups) {
          const ms = await timeForward(key, (layer: number) => g.plans[layer] as ReturnType<typeof layerPlansAt>[number]);
          total += ms * g.steps.length;
          const modes = [...new Set(g.plans.flat().map((p) => p.mode))].join('+');
          const profileMs = profiles.get(key);
          const phase = { steps: g.steps.length, firstStep: g.steps[0] as number, modes, forwardMs: ms, ...(profileMs ? { profileMs } : {}) };
          phases.push(phase);
          options.onPhase?.(preset, phase);
        }
        let measured: DitSampleRun | undefined;
        if (options.sample) {
          const stepMs: number[] = [];
          const t = performance.now();
          const loop = {
            latentShape,
            seed: 42,
            steps,
            onStep: ({ stepIndex, ms }: { stepIndex: number; ms: number }) => {
              stepMs.push(ms);
              options.onStep?.(preset, stepIndex, ms);
            },
          };
          const sampler = options.sampler ?? defaultSamplerLoop(backend);
          if (sampler === 'device') await sampleOnDevice({ ...loop, backend, model: wanDeviceTensorModel({ dit, text, latentShape, schedule }) });
          else await sample({ ...loop, model: wanDeviceVelocityModel({ dit, text, latentShape, schedule }) });
          measured = { seconds: (performance.now() - t) / 1000, sampler, stepMs };
        }
        const mem = backend.memoryStats();
        rows.push({ preset, steps, sampleSeconds: total / 1000, speedup: Number.NaN, phases, peakBytes: mem?.peakBytesInUse ?? null, ...(measured ? { measured } : {}) });
      }
      const base = rows[0]?.sampleSeconds ?? Number.NaN;
      return { setup, rows: rows.map((r) => ({ ...r, speedup: base / r.sampleSeconds })) };
    } finally {
      text.dispose();
    }
  } finally {
    dit.dispose();
    weights.dispose();
  }
}
