import { describe, expect, it } from 'vitest';
import { noiseFixture } from './_fixtures.test-helpers';
import { referencePhilox4x32_10 } from './_gaussian-noise-reference.test-helpers';
import { philox4x32_10 } from './_philox4x32';

describe('philox4x32_10', () => {
  it.each(noiseFixture.philoxKat.map((kat) => [kat.counter.map((w) => w.toString(16)).join(' '), kat] as const))(
    "gives Random123's known answer for the counter %s",
    (_, kat) => {
      expect(Array.from(philox4x32_10({ counter: kat.counter, key: kat.key, out: new Uint32Array(4) }))).toEqual(kat.output);
    },
  );

  it('may write its output over its counter', () => {
    const counter = Uint32Array.of(0, 0, 0, 0);
    expect(philox4x32_10({ counter, key: [0, 0], out: counter })).toBe(counter);
    expect(Array.from(counter)).toEqual([0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
  });

  it('gives the words of the float-division implementation it replaced, for extreme and random counters and keys', () => {
    const words = [0, 1, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffeffff, 0xffffffff];
    let state = 7;
    const next = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0);
    const cases: number[][] = [];
    for (const a of words) for (const b of words) cases.push([a, b, b, a, a, b]);
    for (let k = 0; k < 2000; k++) cases.push([next(), next(), next(), next(), next(), next()]);
    for (const [c0, c1, c2, c3, k0, k1] of cases) {
      const counter = [c0!, c1!, c2!, c3!];
      const expected = new Uint32Array(4);
      referencePhilox4x32_10(counter, [k0!, k1!], expected);
      expect(Array.from(philox4x32_10({ counter, key: [k0!, k1!], out: new Uint32Array(4) })), counter.join(' ')).toEqual(Array.from(expected));
    }
  });
});
