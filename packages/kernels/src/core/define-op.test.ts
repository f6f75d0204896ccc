import { describe, expect, it } from 'vitest';
import { KERNEL_OPS, nativeOpsOf } from '../ops/index';
import { defineOp } from './define-op';
import { defineNativeOp } from './native-op';

describe('defineOp', () => {
  it('names the function after the op and freezes its info', () => {
    const op = defineOp({ name: 'twice', exactness: 'bit-exact', native: null }, (o: { n: number }) => 2 * o.n);
    expect(op({ n: 3 })).toBe(6);
    expect(op.name).toBe('twice');
    expect(op.info).toEqual({ name: 'twice', exactness: 'bit-exact', native: null });
    expect(Object.isFrozen(op.info)).toBe(true);
    expect(Object.keys(op)).toEqual(['info']);
  });

  it('declares exactness per op: data movement and quantization are bit-exact, others a numeric tolerance', () => {
    const exactness = new Map(KERNEL_OPS.map((op) => [op.name, op.info.exactness]));
    for (const name of ['gatherRows', 'scatterRows', 'channelMean', 'quantizeRows', 'quantizeV', 'dequantizeRows', 'dequantizeV']) {
      expect(exactness.get(name), name).toBe('bit-exact');
    }
    for (const op of KERNEL_OPS) {
      expect(op.info.name).toBe(op.name);
      const e = op.info.exactness;
      if (e !== 'bit-exact') {
        const t = e.tolerance;
        expect([t.referenceErrorFactor, t.atol, t.rtol].some((b) => typeof b === 'number' && b > 0), `${op.name}: a tolerance names a bound`).toBe(true);
      }
    }
    expect(new Set(KERNEL_OPS.map((op) => op.name)).size).toBe(KERNEL_OPS.length);
  });

  it('lists each native op once, in registration order', () => {
    expect(nativeOpsOf().map((n) => n.name).slice(0, 6)).toEqual(['permuteRows', 'channelMean', 'quantizeRows', 'quantizeV', 'dequantizeRows', 'dequantizeV']);
    expect(new Set(nativeOpsOf()).size).toBe(nativeOpsOf().length);
    const native = defineNativeOp({ name: 'n', fields: { a: 'int' }, result: null });
    const a = defineOp({ name: 'a', exactness: { tolerance: { atol: 1e-3 } }, native }, () => 0);
    const b = defineOp({ name: 'b', exactness: 'bit-exact', native }, () => 0);
    const c = defineOp({ name: 'c', exactness: 'bit-exact', native: null }, () => 0);
    expect(nativeOpsOf([a, c, b])).toEqual([native]);
  });
});
