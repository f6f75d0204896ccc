// The Wan-VAE device decoder at the real config (wan-vae: widths 384/192/96, synthetic random weights of the real
// shapes) on 21 latent frames -> 81 frames at 480p (832 x 480) and 720p (1280 x 720), on the CUDA backend: wall time of
// a whole decode (host conv2, uploads, every kernel and GEMM, the frames downloaded), time per latent frame, the
// convolutions' and attention's FLOPs and the TFLOP/s they imply, and device memory (the allocator's peak, which counts
// the weights, and what the weights take). A warm-up decode of 2 latent frames first (cuBLASLt's heuristics per GEMM
// shape, the first cudaMallocs), then `--reps` timed decodes. Compare with oracle/vae_decoder.py --bench (PyTorch) at
// the same shapes, in the same GPU run (scripts/gpu/run-vae.sh).
// Usage: node bench/vae-decode.mjs [--shape 480p|720p] [--frames 21] [--reps 1] [--im2col-mib 1024] [--out vae.json]
// Prints one line `VAE_DEVICE shape latent ms_median ms_per_latent_frame tflops peak_GiB weights_GiB` per shape.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadBackend } from '@fpsattn/kernels';
import { WAN_VAE_CONFIG_PRESETS, WanVaeDeviceDecoder, WanVaeDeviceWeights, syntheticWanVaeWeights, wanVaeDecoderLayout } from '../dist/index.js';

const { values: args } = parseArgs({
  options: {
    shape: { type: 'string', multiple: true },
    frames: { type: 'string', default: '21' },
    reps: { type: 'string', default: '1' },
    'im2col-mib': { type: 'string', default: '1024' },
    out: { type: 'string' },
  },
});
/** Latent sizes (8x smaller than the video) of Wan's two resolutions. */
const SHAPES = { '480p': [60, 104], '720p': [90, 160] };
const shapes = args.shape ?? ['480p', '720p'];
for (const s of shapes) if (!SHAPES[s]) throw new Error(`--shape must be 480p or 720p, got ${s}`);
const LATENT_FRAMES = Number(args.frames);
const REPS = Number(args.reps);
const IM2COL_BYTES = Number(args['im2col-mib']) * 2 ** 20;

let backend;
try {
  ({ backend } = loadBackend({ backend: 'cuda' }));
} catch (error) {
  if (error?.code !== 'FPSATTN_BACKEND_UNAVAILABLE') throw error;
  console.log(`vae-decode bench: skipped, no usable CUDA device here:\n  ${error.tried.join('\n  ')}`);
  process.exit(0);
}

/**
 * Multiply-add FLOPs (2 per MAC) of one decode as the reference computes it: every convolution (3x3x3, the time
 * convolutions, the 3x3 upsampling convolutions, 1x1 shortcuts), the attention's four matrix products; the head's 3
 * real output channels (the device computes 8). Frames per chunk as the caches make them: 1 for the first latent frame,
 * then doubled by each upsample3d.
 */
function decoderFlops(config, [f, h, w]) {
  const layout = wanVaeDecoderLayout(config);
  const conv = (pixels, cin, cout, taps) => 2 * pixels * cin * cout * taps;
  let total = 0;
  for (let chunk = 0; chunk < f; chunk++) {
    let t = 1;
    let px = h * w;
    const d0 = layout.dims[0];
    total += t * conv(px, layout.zDim, d0, 27);
    const res = (spec) => {
      total += t * (conv(px, spec.inDim, spec.outDim, 27) + conv(px, spec.outDim, spec.outDim, 27));
      if (spec.inDim !== spec.outDim) total += t * conv(px, spec.inDim, spec.outDim, 1);
    };
    res(layout.middle[0]);
    total += t * (conv(px, d0, 3 * d0, 1) + 2 * (2 * px * px * d0) + conv(px, d0, d0, 1));
    res(layout.middle[2]);
    for (const stage of layout.stages) {
      stage.residuals.forEach(res);
      const r = stage.resample;
      if (r === null) continue;
      if (r.mode === 'upsample3d' && chunk > 0) {
        total += t * conv(px, r.dim, 2 * r.dim, 3);
        t *= 2;
      }
      px *= 4;
      total += t * conv(px, r.dim, r.dim / 2, 9);
    }
    total += t * conv(px, layout.headDim, 3, 27);
  }
  return total;
}

const GiB = 2 ** 30;
const config = WAN_VAE_CONFIG_PRESETS['wan-vae'];
let t0 = performance.now();
const hostWeights = syntheticWanVaeWeights({ config, seed: 7 });
const weights = WanVaeDeviceWeights.upload({ backend, config, weights: hostWeights });
await backend.synchronize();
console.log(`# weights: ${(weights.bytes / GiB).toFixed(3)} GiB on ${backend.device.name} (made and uploaded in ${(performance.now() - t0).toFixed(0)} ms)`);
const decoder = new WanVaeDeviceDecoder({ weights, im2colBytes: IM2COL_BYTES });

/** Deterministic latents in [-2, 2) (values do not change the time). */
function latentsOf(latentShape) {
  const n = latentShape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 4294967296) * 4 - 2;
  }
  return out;
}

const results = [];
for (const name of shapes) {
  const [h, w] = SHAPES[name];
  const warm = [16, 2, h, w];
  await decoder.decode({ latents: latentsOf(warm), latentShape: warm });
  const latentShape = [16, LATENT_FRAMES, h, w];
  const latents = latentsOf(latentShape);
  const times = [];
  let perFrame = [];
  for (let r = 0; r < REPS; r++) {
    const frames = [];
    t0 = performance.now();
    const out = await decoder.decode({ latents, latentShape, onFrame: (e) => frames.push(e.ms) });
    times.push(performance.now() - t0);
    perFrame = frames;
    if (r === 0) console.log(`# ${name}: output [${out.shape.join(', ')}]; first latent frame ${frames[0].toFixed(0)} ms, later ones ${Math.min(...frames.slice(1)).toFixed(0)}..${Math.max(...frames.slice(1)).toFixed(0)} ms`);
  }
  times.sort((a, b) => a - b);
  const ms = times[Math.floor(times.length / 2)];
  const flops = decoderFlops(config, [LATENT_FRAMES, h, w]);
  const stats = backend.memoryStats();
  const row = {
    shape: name,
    latentShape,
    msMedian: ms,
    msMin: times[0],
    msPerLatentFrame: perFrame,
    tflop: flops / 1e12,
    tflops: flops / (ms * 1e9),
    peakGiB: stats.peakBytesInUse / GiB,
    weightsGiB: weights.bytes / GiB,
    im2colMiB: IM2COL_BYTES / 2 ** 20,
  };
  results.push(row);
  console.log(`VAE_DEVICE ${name} ${latentShape.join('x')} ${ms.toFixed(0)} ${(ms / LATENT_FRAMES).toFixed(1)} ${row.tflops.toFixed(1)} ${row.peakGiB.toFixed(2)} ${row.weightsGiB.toFixed(3)}  (ms, ms/latent frame, TFLOP/s of ${row.tflop.toFixed(1)} TFLOP, peak GiB since start, weights GiB)`);
}
weights.dispose();
if (args.out) writeFileSync(args.out, `${JSON.stringify({ device: backend.device.name, results }, null, 2)}\n`);
