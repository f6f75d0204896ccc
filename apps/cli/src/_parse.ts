// Flag values: each parser throws a UsageError naming the flag, the value and what is expected.
import { UsageError } from './_errors';

export function parseIntegerFlag(options: { flag: string; value: string; min: number; max?: number }): number {
  const { flag, value, min } = options;
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  const n = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError({ message: `${flag} ${JSON.stringify(value)} is not an integer in [${min}, ${max === Number.MAX_SAFE_INTEGER ? 'inf' : max}]`, fix: `pass e.g. ${flag} ${min}` });
  }
  return n;
}

export function parseNumberFlag(options: { flag: string; value: string; min?: number; max?: number }): number {
  const { flag, value } = options;
  const n = Number(value);
  const min = options.min ?? -Infinity;
  const max = options.max ?? Infinity;
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new UsageError({ message: `${flag} ${JSON.stringify(value)} is not a number in [${min}, ${max}]`, fix: `pass a finite number, e.g. ${flag} ${Number.isFinite(min) ? min : 1}` });
  }
  return n;
}

/** `TxHxW` (e.g. `3x5x8`) as three positive integers. */
export function parseDims3(options: { flag: string; value: string; min?: number }): [number, number, number] {
  const { flag, value } = options;
  const min = options.min ?? 1;
  const parts = value.trim().split(/[x,]/i);
  const nums = parts.map((p) => (/^\d+$/.test(p.trim()) ? Number(p) : Number.NaN));
  if (parts.length !== 3 || nums.some((n) => !Number.isSafeInteger(n) || n < min)) {
    const what = min === 0 ? 'three integers >= 0' : 'three positive integers';
    throw new UsageError({ message: `${flag} ${JSON.stringify(value)} is not ${what} TxHxW`, fix: `pass e.g. ${flag} ${min === 0 ? '0x1x2' : '3x5x8'}` });
  }
  return nums as [number, number, number];
}

export function parseChoice<T extends string>(options: { flag: string; value: string; choices: readonly T[] }): T {
  const { flag, value, choices } = options;
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError({ message: `${flag} ${JSON.stringify(value)} is not one of ${choices.join(', ')}`, fix: `pass e.g. ${flag} ${choices[0]}` });
  }
  return value as T;
}
