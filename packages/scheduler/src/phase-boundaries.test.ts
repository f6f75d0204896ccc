import { InvalidArgumentError } from '@fpsattn/fp8';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { phaseBoundaries, phaseBoundary, stepPhase } from './phase-boundaries';
import { runs } from './_runs.test-helpers';
import { exactPhase, float64Phase } from './testing';

describe('phaseBoundary', () => {
  it.each([
    // alpha, steps, ceil(alpha * steps)
    [0, 50, 0],
    [1, 50, 50],
    [0.4, 50, 20],
    [0.41, 50, 21], // 20.5 -> 21
    [0.14, 50, 7], // 0.14 * 50 = 7.000000000000001 in float64: snapped to 7
    [0.28, 25, 7], // 7.000000000000001 -> 7
    [0.56, 50, 28], // 28.000000000000004 -> 28
    [0.1, 3, 1], // 0.30000000000000004 -> 1
    [0.57, 100, 57], // 56.99999999999999 -> 57
    [0.5, 1, 1],
    [0.49, 1, 1],
    [1 / 3, 3, 1],
    [2 / 3, 3, 2],
    // exact, whatever the number of steps: no tolerance snaps a value just above an integer down
    [0.1, 1e10 + 1, 1_000_000_001], // 1000000000.1 (float64: 1000000000.1000001)
    [0.4 + 1e-10, 50, 21], // 0.4000000001 * 50 = 20.000000005
    [0.3, 1e9 + 1, 300_000_001], // 300000000.3
    [0.5, 1e9 + 1, 500_000_001], // 500000000.5
    [0.9999999995, 1e9, 1_000_000_000], // 999999999.5
    [1e-7, 10_000, 1], // 0.001: String(alpha) is '1e-7'
    [Number.MIN_VALUE, 1, 1], // '5e-324': above 0, so one early step
  ])('alpha %s over %i steps puts the boundary at step %i', (alpha, steps, t) => {
    expect(phaseBoundary({ alpha: alpha, steps: steps })).toBe(t);
  });

  it.each(['0.14', '0.28', '0.56', '0.1', '0.7', '0.3', '0.4000000001', '0.999999999'])(
    'computes ceil(%s * D) exactly for the decimal alpha, D up to 10^10',
    (text) => {
      const [whole, fraction] = text.split('.') as [string, string];
      const num = BigInt(whole + fraction);
      const den = 10n ** BigInt(fraction.length);
      for (const steps of [7, 50, 1000, 9999, 123_456_789, 10_000_000_001]) {
        expect(BigInt(phaseBoundary({ alpha: Number(text), steps: steps }))).toBe((num * BigInt(steps) + den - 1n) / den);
      }
    },
  );

  it('differs from a literal float64 reading only where float64 rounds a decimal above an integer', () => {
    expect(0.14 * 50).toBeGreaterThan(7);
    expect(float64Phase({ step: 7, steps: 50, alpha1: 0.14, alpha2: 1 })).toBe('early'); // the rounding trap: 8 early steps
    expect(stepPhase({ step: 7, steps: 50, alpha1: 0.14, alpha2: 1 })).toBe('middle'); // 7 early steps: 0 .. 6
  });
});

describe('stepPhase', () => {
  it.each([
    // step, steps, alpha1, alpha2, denseSteps, phase
    [0, 50, 0.4, 0.8, 0, 'early'],
    [19, 50, 0.4, 0.8, 0, 'early'],
    [20, 50, 0.4, 0.8, 0, 'middle'],
    [39, 50, 0.4, 0.8, 0, 'middle'],
    [40, 50, 0.4, 0.8, 0, 'late'],
    [49, 50, 0.4, 0.8, 0, 'late'],
    [4, 50, 0.4, 0.8, 5, 'warmup'],
    [5, 50, 0.4, 0.8, 5, 'early'],
    [0, 10, 0, 0, 0, 'late'], // alpha1 = alpha2 = 0: all late
    [9, 10, 1, 1, 0, 'early'], // alpha1 = 1: all early
    [5, 10, 0.5, 0.5, 0, 'late'], // alpha1 = alpha2: no middle phase
    [0, 1, 0.5, 0.5, 0, 'early'],
    [9, 10, 0.2, 0.9, 10, 'warmup'], // denseSteps = steps: all warmup
  ] as const)('step %i of %i (alpha %s, %s, dense %i) is %s', (step, steps, alpha1, alpha2, denseSteps, phase) => {
    expect(stepPhase({ step, steps, alpha1, alpha2, denseSteps })).toBe(phase);
  });

  it('agrees with exact rational arithmetic for every step, D in 1..100 and alpha in multiples of 0.05', () => {
    const alphas = Array.from({ length: 21 }, (_, k) => k);
    for (let steps = 1; steps <= runs(100); steps++) {
      for (const a1 of alphas) {
        for (const a2 of alphas) {
          if (a1 > a2) continue;
          const { t1, t2 } = phaseBoundaries({ steps, alpha1: a1 / 20, alpha2: a2 / 20 });
          expect(t1).toBe(Math.ceil((a1 * steps) / 20)); // integers: exact
          expect(t2).toBe(Math.ceil((a2 * steps) / 20));
          for (let step = 0; step < steps; step++) {
            const ours = stepPhase({ step, steps, alpha1: a1 / 20, alpha2: a2 / 20 });
            const exact = exactPhase({ step, steps, alpha1: [a1, 20], alpha2: [a2, 20] });
            if (ours !== exact) throw new Error(`step ${step} of ${steps}, alpha ${a1}/20 ${a2}/20: ${ours} vs ${exact}`);
          }
        }
      }
    }
  });

  it('agrees with exact rational arithmetic for random 6-digit decimal alphas, D up to 1000 and dense warmups', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 0, max: 20 }),
        (steps, x, y, dense) => {
          const [a1, a2] = x <= y ? [x, y] : [y, x];
          const denseSteps = Math.min(dense, steps);
          for (let step = 0; step < steps; step++) {
            const ours = stepPhase({ step, steps, alpha1: a1 / 1e6, alpha2: a2 / 1e6, denseSteps });
            const exact = exactPhase({ step, steps, alpha1: [a1, 1e6], alpha2: [a2, 1e6], denseSteps });
            if (ours !== exact) return false;
          }
          return true;
        },
      ),
      { numRuns: runs(500) },
    );
  });

  it('agrees with the literal float64 comparison when alpha * D is exact (dyadic alphas)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), fc.integer({ min: 0, max: 1024 }), fc.integer({ min: 0, max: 1024 }), (steps, x, y) => {
        const [a1, a2] = x <= y ? [x / 1024, y / 1024] : [y / 1024, x / 1024];
        for (let step = 0; step < steps; step++) {
          if (stepPhase({ step, steps, alpha1: a1, alpha2: a2 }) !== float64Phase({ step, steps, alpha1: a1, alpha2: a2 })) return false;
        }
        return true;
      }),
      { numRuns: runs(300) },
    );
  });

  it('counts exactly ceil(alpha1 * D) early steps and ceil(alpha2 * D) - ceil(alpha1 * D) middle steps', () => {
    const steps = 37;
    const counts = { warmup: 0, early: 0, middle: 0, late: 0 };
    for (let step = 0; step < steps; step++) counts[stepPhase({ step, steps, alpha1: 0.25, alpha2: 0.6 })]++;
    expect(counts).toEqual({ warmup: 0, early: 10, middle: 13, late: 14 });
  });

  it.each([-1, 50, 1.5, Number.NaN])('rejects step %s, naming it', (step) => {
    expect(() => stepPhase({ step, steps: 50, alpha1: 0.4, alpha2: 0.8 })).toThrow(InvalidArgumentError);
    expect(() => stepPhase({ step, steps: 50, alpha1: 0.4, alpha2: 0.8 })).toThrow(/'step'.*\[0, 50\)/);
  });
});

describe('phase validation', () => {
  const ok = { step: 0, steps: 50, alpha1: 0.4, alpha2: 0.8 };
  it.each([
    // patch, argument named
    [{ alpha1: Number.NaN }, 'alpha1'],
    [{ alpha2: Number.NaN }, 'alpha2'],
    [{ alpha1: -0.1 }, 'alpha1'],
    [{ alpha2: 1.5 }, 'alpha2'],
    [{ alpha1: Number.POSITIVE_INFINITY }, 'alpha1'],
    [{ alpha1: '0.4' as unknown as number }, 'alpha1'],
    [{ alpha1: 0.8, alpha2: 0.2 }, 'alpha1'], // alpha1 > alpha2
    [{ steps: -5 }, 'steps'],
    [{ steps: 0 }, 'steps'],
    [{ steps: 2.5 }, 'steps'],
    [{ steps: Number.NaN }, 'steps'],
  ] as const)('phaseBoundaries and stepPhase reject %o, naming %s', (patch, argument) => {
    const bad = { ...ok, ...patch };
    for (const call of [() => phaseBoundaries(bad), () => stepPhase(bad)]) {
      expect(call).toThrow(InvalidArgumentError);
      expect(call).toThrow(`'${argument}'`);
    }
  });

  it.each([
    [{ step: -1 }, 'step'],
    [{ step: 50 }, 'step'],
    [{ denseSteps: -1 }, 'denseSteps'],
    [{ denseSteps: 51 }, 'denseSteps'],
    [{ denseSteps: 0.5 }, 'denseSteps'],
  ] as const)('stepPhase rejects %o, naming %s', (patch, argument) => {
    expect(() => stepPhase({ ...ok, ...patch })).toThrow(new RegExp(`'${argument}'`));
  });

  it.each([
    [Number.NaN, 50, 'alpha'],
    [1.01, 50, 'alpha'],
    [0.5, 0, 'steps'],
    [0.5, 1.5, 'steps'],
  ])('phaseBoundary({ alpha: %s, steps: %s }) names %s', (alpha, steps, argument) => {
    expect(() => phaseBoundary({ alpha: alpha, steps: steps })).toThrow(`'${argument}'`);
  });
});
