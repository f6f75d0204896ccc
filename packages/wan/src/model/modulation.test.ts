import { describe, expect, it } from 'vitest';
import { gatedResidual, modulate, modulationVectors } from './modulation';

const f32 = Math.fround;

describe('modulate and gatedResidual', () => {
  it('round every float32 operation in the reference\'s order', () => {
    const normed = Float32Array.from([0.1, 0.2, 0.3, 0.4]);
    const shift = Float32Array.from([0.01, 0.02]);
    const scale = Float32Array.from([0.3, -0.7]);
    const out = modulate({ normed, dim: 2, shift, scale });
    expect(out[3]).toBe(f32(f32(f32(0.4) * f32(1 + f32(-0.7))) + f32(0.02)));
    expect(out[0]).toBe(f32(f32(f32(0.1) * f32(1 + f32(0.3))) + f32(0.01)));

    const x = Float32Array.from([1, 2, 3, 4]);
    const y = Float32Array.from([0.5, 0.25, 0.125, 1 / 3]);
    gatedResidual({ x, y, dim: 2, gate: Float32Array.from([0.1, 0.2]) });
    expect(x[3]).toBe(f32(4 + f32(f32(1 / 3) * f32(0.2))));
    gatedResidual({ x, y, dim: 2 });
    expect(x[0]).toBe(f32(f32(1 + f32(0.5 * f32(0.1))) + 0.5));
  });

  it('adds the modulation to the time projection in float32', () => {
    const sum = modulationVectors({ modulation: Float32Array.from([0.1, 0.2]), embedding: Float32Array.from([0.3, 0.4]) });
    expect(Array.from(sum)).toEqual([f32(f32(0.1) + f32(0.3)), f32(f32(0.2) + f32(0.4))]);
  });
});
