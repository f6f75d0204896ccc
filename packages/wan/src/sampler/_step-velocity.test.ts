import { describe, expect, it } from 'vitest';
import { guidedValue, velocityOperands } from './_step-velocity';

/** float32 values where rounding and signs are easy to get wrong: zeros, subnormals, extremes, and ordinary values. */
const SPECIAL = Float32Array.of(0, -0, 1.4e-45, -1.4e-45, 1e-40, -3e-39, 1.1754944e-38, 1, -1, 0.1, -2.5e-8, 123.456, 1e30, -3.4028235e38, 3.4028235e38);

describe('velocityOperands', () => {
  it('reads a velocity as its own guidance -1, which gives back every finite float32 bit for bit, -0 included', () => {
    const values = Float32Array.from([...SPECIAL, ...Array.from({ length: 2000 }, (_, k) => Math.sin(k * 12.9898) * 10 ** ((k % 78) - 40))]);
    const { cond, uncond, guidance } = velocityOperands({ velocity: values });
    const read = Float32Array.from(values, (_, k) => guidedValue(cond[k]!, uncond[k]!, guidance));
    expect(new Uint32Array(read.buffer)).toEqual(new Uint32Array(values.buffer));
    expect(Object.is(guidedValue(-0, -0, guidance), -0)).toBe(true);
    expect(Object.is(guidedValue(-0, -0, 1), 0)).toBe(true); // why guidance is -1 and not +1
  });

  it('turns NaN and the infinities of a velocity into NaN, which the passes still catch as non-finite', () => {
    for (const value of [Number.NaN, Infinity, -Infinity]) expect(guidedValue(value, value, -1)).toBeNaN();
  });

  it('passes cond, uncond and guidance through unchanged', () => {
    const cond = new Float32Array(2);
    const uncond = new Float32Array(2);
    expect(velocityOperands({ cond, uncond, guidance: 5 })).toEqual({ cond, uncond, guidance: 5 });
  });
});

describe('guidedValue', () => {
  it('is non-finite wherever cond or uncond is, for any finite guidance (so one test finds every bad input)', () => {
    for (const bad of [Number.NaN, Infinity, -Infinity]) {
      for (const other of [...SPECIAL, Number.NaN, Infinity, -Infinity]) {
        for (const guidance of [5, 1, 0, -1, -0, 7.5, -1.5, 1e-300]) {
          expect(Number.isFinite(guidedValue(bad, other, guidance)), `cond ${bad}, uncond ${other}, g ${guidance}`).toBe(false);
          expect(Number.isFinite(guidedValue(other, bad, guidance)), `cond ${other}, uncond ${bad}, g ${guidance}`).toBe(false);
        }
      }
    }
  });
});
