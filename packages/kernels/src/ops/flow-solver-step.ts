// flowSolverStep: one Euler or UniPC step of the flow-matching sampler on device-resident latents, elementwise over n
// values: the guided velocity, the x0 prediction, the UniC corrector and the UniP predictor, as @fpsattn/wan's host
// sampler forms them (src/sampler/euler-solver.ts, _unipc-passes.ts). Native op flowSolverStep, kernel
// native/src/kernels/flow_solver_step.cu. Bit-exact where the velocity is finite: float64 operations in the host's
// order, no FMA, one float32 rounding per stored value, on both sides.
import { InvalidArgumentError } from '@fpsattn/fp8';
import { defineOp } from '../core/define-op';
import { defineNativeOp } from '../core/native-op';
import type { Tensor } from '../core/tensor';
import { hostView } from '../cpu/host-storage';
import { backendOf, expectDType, expectShape, expectTensor } from './_checks';

/** Element indices are 32-bit (the non-finite index is an i32). */
export const FLOW_SOLVER_MAX_ELEMENTS = 2 ** 31 - 1;

export const FLOW_SOLVER_STEP = defineNativeOp({
  name: 'flowSolverStep',
  fields: {
    cond: 'tensor',
    uncond: 'tensor',
    sample: 'tensor',
    out: 'tensor',
    x0: 'tensor?',
    base: 'tensor?',
    lastBase: 'tensor?',
    previousX0: 'tensor?',
    earlierX0: 'tensor?',
    nonFinite: 'tensor',
    n: 'int',
    update: ['euler', 'unipc', 'unipc-corrected'],
    guidance: 'float',
    dt: 'float',
    sigma: 'float',
    pRatio: 'float',
    pAlphaPhi1: 'float',
    pAlphaBh: 'float',
    pRhoD: 'float',
    landsOnX0: 'bool',
    cRatio: 'float',
    cAlphaPhi1: 'float',
    cAlphaBh: 'float',
    cRhoD: 'float',
    cRhoLast: 'float',
  },
  result: null,
});

/** UniP: x_{i+1} = ratio x_i - alphaPhi1 m_i - alphaBh (rhoD (m_prev - m_i)), or m_i when landsOnX0. */
export interface FlowPredictorCoefficients {
  ratio: number;
  alphaPhi1: number;
  alphaBh: number;
  rhoD: number;
  landsOnX0: boolean;
}

/** UniC: x_i = ratio x_last - alphaPhi1 m_{i-1} - alphaBh (rhoD (m_{i-2} - m_{i-1}) + rhoLast (m_i - m_{i-1})). */
export interface FlowCorrectorCoefficients {
  ratio: number;
  alphaPhi1: number;
  alphaBh: number;
  rhoD: number;
  rhoLast: number;
}

/** The update of one step, by kind; the tensors it reads and writes besides the velocity, sample and out. */
export type FlowSolverUpdate<T> =
  | { kind: 'euler'; /** sigma_{i+1} - sigma_i */ dt: number }
  | {
      kind: 'unipc';
      /** sigma_i */
      sigma: number;
      /** receives m_i = f32(x_i - sigma_i v_i) */
      x0: T;
      /** receives x_i as the predictor used it (corrected or not) */
      base: T;
      predictor: FlowPredictorCoefficients;
      /** absent at the first and the last step */
      corrector?: FlowCorrectorCoefficients & {
        /** x_{i-1} as the last predictor used it */
        lastBase: T;
        /** m_{i-1} */
        previousX0: T;
        /** m_{i-2}, or m_{i-1} again at corrector order 1 */
        earlierX0: T;
      };
    };

export interface FlowSolverStepOptions {
  /** The model's velocities, guided element by element: v = f32(uncond + guidance (cond - uncond)). */
  cond: Tensor<'f32'>;
  /** May be `cond` itself with guidance -1: v = cond exactly (an unguided velocity). */
  uncond: Tensor<'f32'>;
  guidance: number;
  /** x_i, f32 with n elements (any shape; read as a flat vector). */
  sample: Tensor<'f32'>;
  /** x_{i+1}: `sample` itself (in place) or a tensor sharing no storage with the inputs. */
  out: Tensor<'f32'>;
  update: FlowSolverUpdate<Tensor<'f32'>>;
  /**
   * i32 [1]: lowered to the index of the first non-finite v (min over such indices); the caller sets it to a value
   * >= n (e.g. fillBytes(0x7f)) beforehand. Outputs at non-finite elements are unspecified.
   */
  nonFinite: Tensor<'i32'>;
}

export interface FlowSolverStepCpuOptions {
  cond: Float32Array;
  uncond: Float32Array;
  guidance: number;
  sample: Float32Array;
  out: Float32Array;
  update: FlowSolverUpdate<Float32Array>;
  /** [1], lowered to the first non-finite index as the kernel's atomicMin does. */
  nonFinite: Int32Array;
}

/**
 * The CPU twin: the host sampler's expressions per element (JavaScript evaluates them in float64, left to right, each
 * Float32Array store and Math.fround rounding to nearest even: the kernel's __d*_rn and __double2float_rn), over every
 * element (the kernel cannot stop at the first non-finite value; it records its index).
 */
export function flowSolverStepCpu(o: FlowSolverStepCpuOptions): void {
  const { cond, uncond, guidance, sample, out, update, nonFinite } = o;
  const n = out.length;
  let firstBad = -1;
  const guided = (k: number): number => {
    const u = uncond[k]!;
    const v = Math.fround(u + guidance * (cond[k]! - u));
    if (v - v !== 0 && firstBad < 0) firstBad = k;
    return v;
  };
  if (update.kind === 'euler') {
    const { dt } = update;
    for (let k = 0; k < n; k++) {
      const v = guided(k);
      out[k] = sample[k]! + dt * v;
    }
  } else if (update.corrector === undefined) {
    const { sigma, x0, base } = update;
    const { ratio, alphaPhi1, alphaBh, rhoD, landsOnX0 } = update.predictor;
    for (let k = 0; k < n; k++) {
      const v = guided(k);
      const x = sample[k]!;
      const m = Math.fround(x - sigma * v);
      x0[k] = m;
      base[k] = x;
      out[k] = landsOnX0 ? m : ratio * x - alphaPhi1 * m - alphaBh * (rhoD * (m - m));
    }
  } else {
    const { sigma, x0, base, predictor: p, corrector: c } = update;
    for (let k = 0; k < n; k++) {
      const v = guided(k);
      const m = Math.fround(sample[k]! - sigma * v);
      const m1 = c.previousX0[k]!;
      const correction = c.rhoD * (c.earlierX0[k]! - m1) + c.rhoLast * (m - m1);
      const x = Math.fround(c.ratio * c.lastBase[k]! - c.alphaPhi1 * m1 - c.alphaBh * correction);
      x0[k] = m;
      base[k] = x;
      out[k] = p.ratio * x - p.alphaPhi1 * m - p.alphaBh * (p.rhoD * (m1 - m));
    }
  }
  if (firstBad >= 0 && firstBad < nonFinite[0]!) nonFinite[0] = firstBad;
}

function expectFiniteScalar(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new InvalidArgumentError({ argument: name, value, message: `expected a finite number` });
  return value;
}

/** One sampler step on the backend of its tensors; bit-identical on both backends where the velocity is finite. */
export const flowSolverStep = defineOp(
  { name: 'flowSolverStep', exactness: 'bit-exact', native: FLOW_SOLVER_STEP },
  function flowSolverStep(o: FlowSolverStepOptions): void {
    const op = 'flowSolverStep';
    const be = backendOf(o.sample, 'sample', op);
    const { cond, uncond, sample, out, update, nonFinite } = o;
    const n = sample.numel;
    const vector = (t: unknown, name: string): Tensor<'f32'> => {
      expectTensor(t, name, be, op);
      expectDType(t, name, ['f32']);
      if (t.numel !== n) expectShape(t, name, sample.shape);
      return t as Tensor<'f32'>;
    };
    vector(sample, 'sample');
    if (n > FLOW_SOLVER_MAX_ELEMENTS) throw new InvalidArgumentError({ argument: 'sample', value: n, message: `expected at most ${FLOW_SOLVER_MAX_ELEMENTS} elements (32-bit indices)` });
    const inputs = [vector(cond, 'cond'), vector(uncond, 'uncond'), sample];
    expectTensor(nonFinite, 'nonFinite', be, op);
    expectDType(nonFinite, 'nonFinite', ['i32']);
    expectShape(nonFinite, 'nonFinite', [1]);
    const guidance = expectFiniteScalar(o.guidance, 'guidance');
    const kinds = ['euler', 'unipc'];
    if (typeof update !== 'object' || update === null || !kinds.includes((update as { kind: string }).kind)) {
      throw new InvalidArgumentError({ argument: 'update', value: (update as { kind?: unknown } | null)?.kind, message: `expected { kind: 'euler' } or { kind: 'unipc' }` });
    }
    const scalars = { dt: 0, sigma: 0, pRatio: 0, pAlphaPhi1: 0, pAlphaBh: 0, pRhoD: 0, landsOnX0: false, cRatio: 0, cAlphaPhi1: 0, cAlphaBh: 0, cRhoD: 0, cRhoLast: 0 };
    const written: [Tensor<'f32'>, string][] = [];
    let stateReads: Tensor<'f32'>[] = [];
    if (update.kind === 'euler') {
      scalars.dt = expectFiniteScalar(update.dt, 'update.dt');
    } else {
      scalars.sigma = expectFiniteScalar(update.sigma, 'update.sigma');
      const { predictor: p, corrector: c } = update;
      scalars.pRatio = expectFiniteScalar(p?.ratio, 'update.predictor.ratio');
      scalars.pAlphaPhi1 = expectFiniteScalar(p.alphaPhi1, 'update.predictor.alphaPhi1');
      scalars.pAlphaBh = expectFiniteScalar(p.alphaBh, 'update.predictor.alphaBh');
      scalars.pRhoD = expectFiniteScalar(p.rhoD, 'update.predictor.rhoD');
      scalars.landsOnX0 = p.landsOnX0 === true;
      written.push([vector(update.x0, 'update.x0'), 'update.x0'], [vector(update.base, 'update.base'), 'update.base']);
      if (c !== undefined) {
        scalars.cRatio = expectFiniteScalar(c.ratio, 'update.corrector.ratio');
        scalars.cAlphaPhi1 = expectFiniteScalar(c.alphaPhi1, 'update.corrector.alphaPhi1');
        scalars.cAlphaBh = expectFiniteScalar(c.alphaBh, 'update.corrector.alphaBh');
        scalars.cRhoD = expectFiniteScalar(c.rhoD, 'update.corrector.rhoD');
        scalars.cRhoLast = expectFiniteScalar(c.rhoLast, 'update.corrector.rhoLast');
        stateReads = [vector(c.lastBase, 'update.corrector.lastBase'), vector(c.previousX0, 'update.corrector.previousX0'), vector(c.earlierX0, 'update.corrector.earlierX0')];
      }
    }
    // out may be sample itself (each element is read before it is written); nothing else may share storage with what
    // the step writes.
    vector(out, 'out');
    const inPlace = out.storage === sample.storage && out.byteOffset === sample.byteOffset;
    const reads = [...inputs, ...stateReads];
    const targets: [Tensor, string][] = [...written, ...(inPlace ? [] : ([[out, 'out']] as [Tensor, string][]))];
    targets.forEach(([t, name], index) => {
      for (const other of [...reads, ...targets.filter((_, j) => j !== index).map(([u]) => u), nonFinite]) {
        if (other.storage === t.storage) {
          throw new InvalidArgumentError({ argument: name, value: t.name, message: `${op} writes ${name} and cannot share its storage with '${other.name}' (out may be sample itself, nothing else)` });
        }
      }
    });
    if (inPlace) {
      for (const other of [cond, uncond, ...stateReads, ...written.map(([t]) => t), nonFinite]) {
        if (other.storage === out.storage) throw new InvalidArgumentError({ argument: 'out', value: out.name, message: `${op} writes out (= sample) and cannot share its storage with '${other.name}'` });
      }
    }
    be.dispatch(op, {
      cpu: () => {
        const h = hostView;
        const c = update.kind === 'unipc' ? update.corrector : undefined;
        const hostUpdate: FlowSolverUpdate<Float32Array> =
          update.kind === 'euler'
            ? update
            : {
                kind: 'unipc',
                sigma: update.sigma,
                x0: h(update.x0),
                base: h(update.base),
                predictor: update.predictor,
                ...(c === undefined ? {} : { corrector: { ...c, lastBase: h(c.lastBase), previousX0: h(c.previousX0), earlierX0: h(c.earlierX0) } }),
              };
        flowSolverStepCpu({ cond: h(cond), uncond: h(uncond), guidance, sample: h(sample), out: h(out), update: hostUpdate, nonFinite: h(nonFinite) });
      },
      cuda: (device) => {
        const c = update.kind === 'unipc' ? update.corrector : undefined;
        device.call(FLOW_SOLVER_STEP, {
          cond: device.ref(cond),
          uncond: device.ref(uncond),
          sample: device.ref(sample),
          out: device.ref(out),
          x0: device.optionalRef(update.kind === 'unipc' ? update.x0 : null),
          base: device.optionalRef(update.kind === 'unipc' ? update.base : null),
          lastBase: device.optionalRef(c?.lastBase ?? null),
          previousX0: device.optionalRef(c?.previousX0 ?? null),
          earlierX0: device.optionalRef(c?.earlierX0 ?? null),
          nonFinite: device.ref(nonFinite),
          n,
          update: update.kind === 'euler' ? 'euler' : c === undefined ? 'unipc' : 'unipc-corrected',
          guidance,
          ...scalars,
        });
      },
    });
  },
);
