/**
 * The attention kernel's tile policy as the TypeScript side sees it: `blockM` query rows and `blockN` key rows per
 * block. Operands of the attention op are padded to whole blocks of `blockM` rows, block lists count in these blocks,
 * and the composed op (@fpsattn/attention) reads the block size from here instead of writing 128 itself.
 *
 * Mirrored by native/src/kernels/attention/tile_policy.h (the CUDA kernel's own policy); tile-policy.test.ts reads that
 * header and fails when the two disagree.
 */
export const ATTENTION_TILE_POLICY = { blockM: 128, blockN: 128 } as const;

export type AttentionTilePolicy = typeof ATTENTION_TILE_POLICY;
