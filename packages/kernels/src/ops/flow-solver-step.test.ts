import { describe, expect, it } from 'vitest';
import { fakeCudaBackend } from '../_test/fake-addon';
import { thrown } from '../_test/thrown';
import { CpuBackend } from '../cpu/backend';
import { bitsEqual, randomF32 } from '../testing';
import { FLOW_SOLVER_STEP, flowSolverStep, flowSolverStepCpu } from './flow-solver-step';

// Independent references, one named float64 step per line; f32 = Math.fround (round to nearest even, as a
// Float32Array store). Written from flow_solver_step.h's formulas, not from the twin.
const f32 = Math.fround;
function guidedRef(c: number, u: number, g: number): number {
  const diff = c - u;
  const scaled = g * diff;
  return f32(u + scaled);
}
function threeTermsRef(a: number, p: number, b: number, q: number, c: number, r: number): number {
  const first = a * p;
  const second = b * q;
  const third = c * r;
  return first - second - third;
}

const n = 37; // not a multiple of anything the kernel vectorizes by
const cond = randomF32(n, 1, 3);
const uncond = randomF32(n, 2, 3);
const sample = randomF32(n, 3, 2);
const lastBase = randomF32(n, 4, 2);
const previousX0 = randomF32(n, 5, 2);
const earlierX0 = randomF32(n, 6, 2);
const guidance = 5;
const predictor = { ratio: 0.93, alphaPhi1: -0.0123, alphaBh: -0.0121, rhoD: 0.61, landsOnX0: false };
const corrector = { ratio: 0.91, alphaPhi1: -0.0137, alphaBh: -0.0135, rhoD: 0.27, rhoLast: 0.55 };

describe('flowSolverStepCpu', () => {
  it('Euler: out = f32(x + dt v) with v = f32(u + g (c - u))', () => {
    const out = new Float32Array(n);
    const nonFinite = Int32Array.of(n);
    flowSolverStepCpu({ cond, uncond, guidance, sample, out, update: { kind: 'euler', dt: -0.0731 }, nonFinite });
    const expected = Float32Array.from(sample, (x, k) => f32(x + -0.0731 * guidedRef(cond[k]!, uncond[k]!, guidance)));
    expect(bitsEqual(out, expected)).toBe(-1);
    expect(nonFinite[0]).toBe(n);
  });

  it('UniPC without corrector: x0 = f32(x - sigma v), base = x, out by the order-1 predictor (or m when landing on x0)', () => {
    for (const landsOnX0 of [false, true]) {
      const [out, x0, base] = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
      flowSolverStepCpu({ cond, uncond, guidance, sample, out, update: { kind: 'unipc', sigma: 0.87, x0, base, predictor: { ...predictor, landsOnX0 } }, nonFinite: Int32Array.of(n) });
      for (let k = 0; k < n; k++) {
        const m = f32(sample[k]! - 0.87 * guidedRef(cond[k]!, uncond[k]!, guidance));
        expect(x0[k]).toBe(m);
        expect(base[k]).toBe(sample[k]);
        const expected = landsOnX0 ? m : f32(threeTermsRef(predictor.ratio, sample[k]!, predictor.alphaPhi1, m, predictor.alphaBh, predictor.rhoD * (m - m)));
        expect(Object.is(out[k], expected), `k ${k}`).toBe(true);
      }
    }
  });

  it('UniPC with corrector: the corrected x (rounded) feeds the order-2 predictor', () => {
    const [out, x0, base] = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
    flowSolverStepCpu({ cond, uncond, guidance, sample, out, update: { kind: 'unipc', sigma: 0.8, x0, base, predictor, corrector: { ...corrector, lastBase, previousX0, earlierX0 } }, nonFinite: Int32Array.of(n) });
    for (let k = 0; k < n; k++) {
      const m = f32(sample[k]! - 0.8 * guidedRef(cond[k]!, uncond[k]!, guidance));
      const m1 = previousX0[k]!;
      const correction = corrector.rhoD * (earlierX0[k]! - m1) + corrector.rhoLast * (m - m1);
      const x = f32(threeTermsRef(corrector.ratio, lastBase[k]!, corrector.alphaPhi1, m1, corrector.alphaBh, correction));
      expect(x0[k]).toBe(m);
      expect(base[k]).toBe(x);
      expect(out[k]).toBe(f32(threeTermsRef(predictor.ratio, x, predictor.alphaPhi1, m, predictor.alphaBh, predictor.rhoD * (m1 - m))));
    }
  });

  it('records the first non-finite guided velocity (NaN, infinity, or float32 overflow of the guidance), keeping a lower index', () => {
    const c = cond.slice();
    const u = uncond.slice();
    c[20] = Number.NaN;
    u[11] = Number.POSITIVE_INFINITY;
    const nonFinite = Int32Array.of(n);
    flowSolverStepCpu({ cond: c, uncond: u, guidance, sample, out: new Float32Array(n), update: { kind: 'euler', dt: -0.1 }, nonFinite });
    expect(nonFinite[0]).toBe(11);
    const big = Float32Array.of(3e38, 1);
    const overflow = Int32Array.of(2);
    flowSolverStepCpu({ cond: big, uncond: Float32Array.of(-3e38, 1), guidance: 5, sample: new Float32Array(2), out: new Float32Array(2), update: { kind: 'euler', dt: -0.1 }, nonFinite: overflow });
    expect(overflow[0]).toBe(0);
    const lower = Int32Array.of(5);
    flowSolverStepCpu({ cond: c, uncond: u, guidance, sample, out: new Float32Array(n), update: { kind: 'euler', dt: -0.1 }, nonFinite: lower });
    expect(lower[0]).toBe(5);
  });

  it('an unguided velocity is cond with guidance -1, -0 kept', () => {
    const v = Float32Array.of(-0, 1.5, -2.25);
    const out = new Float32Array(3);
    flowSolverStepCpu({ cond: v, uncond: v, guidance: -1, sample: new Float32Array(3), out, update: { kind: 'euler', dt: 1 }, nonFinite: Int32Array.of(3) });
    expect(Array.from(out)).toEqual([0, 1.5, -2.25]);
  });
});

describe('flowSolverStep', () => {
  const backend = new CpuBackend();
  const up = (a: Float32Array, name: string) => backend.fromArray(a, [n], 'f32', { name });

  it('runs the twin on the CPU backend, in place', () => {
    const x = up(sample, 'x');
    const [x0, base] = [backend.empty([n], 'f32', { name: 'x0' }), backend.empty([n], 'f32', { name: 'base' })];
    const nonFinite = backend.empty([1], 'i32', { name: 'nonFinite' }).fillBytes(0x7f);
    const update = { kind: 'unipc' as const, sigma: 0.8, predictor, corrector: { ...corrector, lastBase: up(lastBase, 'lb'), previousX0: up(previousX0, 'p'), earlierX0: up(earlierX0, 'e') } };
    flowSolverStep({ cond: up(cond, 'c'), uncond: up(uncond, 'u'), guidance, sample: x, out: x, update: { ...update, x0, base }, nonFinite });
    const expected = new Float32Array(n);
    flowSolverStepCpu({ cond, uncond, guidance, sample, out: expected, update: { ...update, x0: new Float32Array(n), base: new Float32Array(n), corrector: { ...corrector, lastBase, previousX0, earlierX0 } }, nonFinite: Int32Array.of(n) });
    expect(bitsEqual(x.downloadSync(), expected)).toBe(-1);
    expect(nonFinite.downloadSync()[0]).toBe(0x7f7f7f7f);
  });

  it('refuses bad inputs, naming the tensor and the rule', () => {
    const x = up(sample, 'x');
    const c = up(cond, 'c');
    const flag = backend.empty([1], 'i32');
    expect(thrown(() => flowSolverStep({ cond: c, uncond: c, guidance: 1, sample: x, out: x, update: { kind: 'euler', dt: -0.1 }, nonFinite: backend.empty([2], 'i32') }))).toMatchObject({ tensor: 'nonFinite', expected: '[1]' });
    expect(thrown(() => flowSolverStep({ cond: backend.empty([n + 1], 'f32'), uncond: c, guidance: 1, sample: x, out: x, update: { kind: 'euler', dt: -0.1 }, nonFinite: flag }))).toMatchObject({ tensor: 'cond' });
    expect(thrown(() => flowSolverStep({ cond: c, uncond: c, guidance: Number.NaN, sample: x, out: x, update: { kind: 'euler', dt: -0.1 }, nonFinite: flag }))).toMatchObject({ argument: 'guidance' });
    expect(thrown(() => flowSolverStep({ cond: c, uncond: c, guidance: 1, sample: x, out: c, update: { kind: 'euler', dt: -0.1 }, nonFinite: flag }))).toMatchObject({ argument: 'out' });
    const y = up(sample, 'y');
    expect(thrown(() => flowSolverStep({ cond: c, uncond: c, guidance: 1, sample: x, out: y, update: { kind: 'unipc', sigma: 0.5, x0: y, base: backend.empty([n], 'f32'), predictor }, nonFinite: flag }))).toMatchObject({ argument: 'update.x0' });
  });

  it('sends every declared field to the native op, the update by name', () => {
    const { backend: cuda, opCalls } = fakeCudaBackend();
    const t = (name: string) => cuda.empty([n], 'f32', { name });
    const x = t('x');
    const flag = cuda.empty([1], 'i32');
    flowSolverStep({ cond: t('c'), uncond: t('u'), guidance: 5, sample: x, out: x, update: { kind: 'euler', dt: -0.25 }, nonFinite: flag });
    flowSolverStep({ cond: t('c'), uncond: t('u'), guidance: 5, sample: x, out: x, update: { kind: 'unipc', sigma: 0.5, x0: t('m'), base: t('b'), predictor, corrector: { ...corrector, lastBase: t('l'), previousX0: t('p'), earlierX0: t('e') } }, nonFinite: flag });
    expect(opCalls.map((c) => c.name)).toEqual(['flowSolverStep', 'flowSolverStep']);
    for (const call of opCalls) expect(Object.keys(call.params)).toEqual(Object.keys(FLOW_SOLVER_STEP.fields));
    expect(opCalls[0]!.params).toMatchObject({ update: 'euler', dt: -0.25, guidance: 5, n, x0: null, lastBase: null, landsOnX0: false });
    expect(opCalls[1]!.params).toMatchObject({ update: 'unipc-corrected', sigma: 0.5, pRatio: predictor.ratio, pRhoD: predictor.rhoD, cRhoLast: corrector.rhoLast, dt: 0 });
  });
});
