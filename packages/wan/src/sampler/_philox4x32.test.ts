import { describe, expect, it } from 'vitest';
import { noiseFixture } from './_fixtures.test-helpers';
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
});
