// A fake CUDA backend (see fake-addon.ts) that also records the DiT ops' native calls (layerNormModulate, rmsNormRope,
// gatedResidual, castToBf16, patchify, unpatchify), so that their CUDA side's params are tested without a GPU.
import { fakeCudaBackend } from './fake-addon';

export const DIT_NATIVE_OPS = ['layerNormModulate', 'rmsNormRope', 'gatedResidual', 'castToBf16', 'patchify', 'unpatchify'] as const;

export function fakeDitBackend(): ReturnType<typeof fakeCudaBackend> {
  const fake = fakeCudaBackend();
  const addon = fake.addon as unknown as Record<string, unknown>;
  for (const name of DIT_NATIVE_OPS) {
    addon[name] ??= (params: Record<string, unknown>) => void fake.opCalls.push({ name, params });
  }
  return fake;
}

/** The recorded params carry exactly the declared fields, in order, and tensors as {handle, byteOffset, byteLength}. */
export function handleOf(t: { storage: unknown }): number {
  return (t.storage as { handle: number }).handle;
}
