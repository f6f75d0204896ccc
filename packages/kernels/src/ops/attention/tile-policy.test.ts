import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ATTENTION_TILE_POLICY } from './tile-policy';

const header = new URL('../../../../../native/src/kernels/attention/tile_policy.h', import.meta.url);

/** The value of `constexpr int <name> = <value>;` in the header text. */
function constexprInt(text: string, name: string): number {
  const match = new RegExp(`constexpr\\s+int\\s+${name}\\s*=\\s*(\\d+)\\s*;`).exec(text);
  if (!match) throw new Error(`${name} is not declared as 'constexpr int ${name} = <n>;' in tile_policy.h`);
  return Number(match[1]);
}

describe('ATTENTION_TILE_POLICY', () => {
  it('agrees with the CUDA kernel tile policy (native/src/kernels/attention/tile_policy.h)', () => {
    const text = readFileSync(header, 'utf8');
    expect({ blockM: constexprInt(text, 'kBlockM'), blockN: constexprInt(text, 'kBlockN') }).toEqual({ ...ATTENTION_TILE_POLICY });
  });

  it('uses equal query and key blocks, as the block lists (one id space for both) require', () => {
    expect(ATTENTION_TILE_POLICY.blockM).toBe(ATTENTION_TILE_POLICY.blockN);
  });
});
