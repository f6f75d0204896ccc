// A fake CUDA backend (see fake-addon.ts) that also records the VAE decoder ops' native calls (convIm2col,
// channelRmsNorm, softmaxRows, clampToPlanar), so that their CUDA side's params are tested without a GPU.
import { fakeCudaBackend } from './fake-addon';

export const VAE_NATIVE_OPS = ['convIm2col', 'channelRmsNorm', 'softmaxRows', 'clampToPlanar'] as const;

export function fakeVaeBackend(): ReturnType<typeof fakeCudaBackend> {
  const fake = fakeCudaBackend();
  const addon = fake.addon as unknown as Record<string, unknown>;
  for (const name of VAE_NATIVE_OPS) {
    addon[name] ??= (params: Record<string, unknown>) => void fake.opCalls.push({ name, params });
  }
  return fake;
}
