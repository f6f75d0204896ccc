// Argument checks shared by the video-patch ops (patchify, unpatchify): the patch size, the patch grid and the patch
// length limit of their kernels. Private (not exported from the package, except PATCH_MAX_LENGTH).
import { InvalidArgumentError, ShapeMismatchError } from '@fpsattn/fp8';

/** Longest patch vector (C pt ph pw values): a token's values are staged in shared memory (native kPatchMaxLength). */
export const PATCH_MAX_LENGTH = 8192;

/** [pt, ph, pw]: the patch's extent along frames, height and width (Wan2.1: [1, 2, 2]). */
export type PatchSize = readonly [number, number, number];

/** [F', H', W']: patches along frames, height and width (tokens = F' H' W', row-major over (f', h', w')). */
export type PatchGrid = readonly [number, number, number];

function isPositiveTriple(value: unknown, max: number): value is readonly [number, number, number] {
  return Array.isArray(value) && value.length === 3 && value.every((d) => Number.isSafeInteger(d) && d >= 1 && d <= max);
}

export function expectPatchSize(patchSize: unknown): asserts patchSize is PatchSize {
  if (!isPositiveTriple(patchSize, PATCH_MAX_LENGTH)) {
    throw new InvalidArgumentError({ argument: 'patchSize', value: patchSize, message: 'expected [pt, ph, pw]: three positive integers (Wan2.1: [1, 2, 2])' });
  }
}

export function expectPatchGrid(grid: unknown): asserts grid is PatchGrid {
  if (!isPositiveTriple(grid, Number.MAX_SAFE_INTEGER)) {
    throw new InvalidArgumentError({ argument: 'grid', value: grid, message: "expected [F', H', W']: three positive integers (patches along frames, height, width)" });
  }
}

/** C pt ph pw within PATCH_MAX_LENGTH; returns it. `what` names the channel count (C or outDim) in the message. */
export function patchLengthOf(channels: number, patchSize: PatchSize, tensor: string, what: string): number {
  const length = channels * patchSize[0] * patchSize[1] * patchSize[2];
  if (length > PATCH_MAX_LENGTH) {
    throw new ShapeMismatchError({
      tensor,
      expected: `${what} x pt x ph x pw at most ${PATCH_MAX_LENGTH} values per token (a token is staged in shared memory)`,
      actual: `${channels} x ${patchSize.join(' x ')} = ${length}`,
    });
  }
  return length;
}
