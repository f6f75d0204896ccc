import { silu } from '../model/activations';
import type { WanConfig } from '../model/config';
import { linear } from '../model/linear';
import { modulationVectors } from '../model/modulation';
import { timestepSinusoid } from '../model/timestep-embedding';

/** The modulation vectors of one forward, laid out for upload (WanDeviceDit). */
export interface HostModulations {
  /** Per block modulation + e0: [layer][k][item][dim], k = shift, scale, gate, shift', scale', gate'. */
  readonly blockModulation: Float32Array;
  /** The head's modulation + e: [k][item][dim], k = shift, scale. */
  readonly headModulation: Float32Array;
}

/**
 * Host side, fp32 (wan21-architecture.md 1.7): e = time_embedding(sinusoid(t)), e0 = time_projection(SiLU(e)); every
 * batch item shares the timestep, so each vector is repeated per item. `host(name)` returns a host weight tensor.
 */
export function hostModulations(options: {
  config: Pick<WanConfig, 'dim' | 'freqDim' | 'numLayers'>;
  host: (name: string) => Float32Array;
  timestep: number;
  batch: number;
}): HostModulations {
  const { config: { dim, freqDim, numLayers }, host, timestep, batch } = options;
  const dense = (input: Float32Array, module: string): Float32Array => {
    const bias = host(`${module}.bias`);
    return linear({ input, rows: 1, inFeatures: input.length, outFeatures: bias.length, weight: host(`${module}.weight`), bias });
  };
  const sinusoid = timestepSinusoid({ timestep, freqDim });
  const e = dense(silu({ input: dense(sinusoid, 'time_embedding.0') }), 'time_embedding.2');
  const e0 = dense(silu({ input: e }), 'time_projection.1');
  const blockModulation = new Float32Array(numLayers * 6 * batch * dim);
  for (let i = 0; i < numLayers; i++) {
    const vectors = modulationVectors({ modulation: host(`blocks.${i}.modulation`), embedding: e0 });
    for (let k = 0; k < 6; k++) for (let b = 0; b < batch; b++) blockModulation.set(vectors.subarray(k * dim, (k + 1) * dim), ((i * 6 + k) * batch + b) * dim);
  }
  const head = modulationVectors({ modulation: host('head.modulation'), embedding: Float32Array.from([...e, ...e]) });
  const headModulation = new Float32Array(2 * batch * dim);
  for (let k = 0; k < 2; k++) for (let b = 0; b < batch; b++) headModulation.set(head.subarray(k * dim, (k + 1) * dim), (k * batch + b) * dim);
  return { blockModulation, headModulation };
}
