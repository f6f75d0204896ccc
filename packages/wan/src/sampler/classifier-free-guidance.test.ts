import { describe, expect, it } from 'vitest';
import { expectSamplerError } from './_errors.test-helpers';
import { classifierFreeGuidance } from './classifier-free-guidance';

const cond = Float32Array.of(1, -2, 0.5, 3.25, 0);
const uncond = Float32Array.of(0.5, 1, 0.5, -1.75, 2);

describe('classifierFreeGuidance', () => {
  it('computes uncond + g (cond - uncond) with g = 5.0 by default (4.4)', () => {
    // exact in float32: 0.5 + 5*0.5, 1 + 5*(-3), 0.5 + 0, -1.75 + 5*5, 2 + 5*(-2)
    expect(Array.from(classifierFreeGuidance({ cond, uncond }))).toEqual([3, -14, 0.5, 23.25, -8]);
  });

  it.each([0, 1, 6, -1.5, 7.5])('rounds the float64 combination to float32 once (g = %d)', (guidance) => {
    const c = Float32Array.of(0.1, -0.7, 1e-3, 123.456);
    const u = Float32Array.of(0.3, 0.2, -4e-3, 120.5);
    const expected = Array.from(c, (ck, k) => Math.fround(u[k]! + guidance * (ck - u[k]!)));
    expect(Array.from(classifierFreeGuidance({ cond: c, uncond: u, guidance }))).toEqual(expected);
  });

  it('gives cond at g = 1 and uncond at g = 0, bit for bit, in a new array', () => {
    const atOne = classifierFreeGuidance({ cond, uncond, guidance: 1 });
    expect(atOne).toEqual(cond);
    expect(atOne).not.toBe(cond);
    expect(classifierFreeGuidance({ cond, uncond, guidance: 0 })).toEqual(uncond);
  });

  it('rejects a guidance that is not finite and tensors that do not match', async () => {
    for (const guidance of [Number.NaN, Infinity, -Infinity]) {
      await expectSamplerError(() => classifierFreeGuidance({ cond, uncond, guidance }), {
        name: 'SamplerOptionError',
        message: `sampler: guidance is ${guidance}: expected a finite number (Wan2.1 uses 5.0; 1 is no guidance)`,
      });
    }
    await expectSamplerError(() => classifierFreeGuidance({ cond, uncond: new Float32Array(4) }), {
      name: 'SamplerTensorError',
      message: 'sampler: uncond has 4 values: expected 5, the length of cond',
    });
    await expectSamplerError(() => classifierFreeGuidance({ cond: [1] as never, uncond }), {
      name: 'SamplerTensorError',
      message: 'sampler: cond is object: expected a Float32Array',
    });
  });
});
