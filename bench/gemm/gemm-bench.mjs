// GEMM benchmark: @fpsattn/kernels' gemm (cuBLASLt loaded by the addon at run time) at the Wan2.1 DiT's linear shapes
// (bench/gemm/shapes.json: 1.3B and 14B, 480p and 720p, batch 2 for CFG; q/k/v/o, FFN up with GELU, FFN down), in
// three variants: 'mm' (BF16, no epilogue: the "within 5% of torch.mm"), 'linear' (BF16 with the layer's bias
// and GELU fused in cuBLASLt's epilogue) and 'fp8' (E4M3 inputs, per-tensor scales, same epilogue, BF16 out).
// Timing: warm-up, then --reps calls back to back with a CUDA event recorded between consecutive calls, median (as
// bench/gemm/torch_mm.py does); outputs preallocated, so a call is the op's checks plus one cublasLtMatmul.
// With --torch FILE (torch_mm.py's JSON from the same card, same run) each line also shows PyTorch and ours/PyTorch.
// Usage (GPU machine, after the build): node bench/gemm/gemm-bench.mjs [--torch torch_mm.json] [--out gemm.json]
//        [--reps 20] [--models 1.3b,14b] [--res 480p,720p] [--dry-run]
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as K from '@fpsattn/kernels';
import * as T from '@fpsattn/kernels/testing';

const { values: args } = parseArgs({
  options: {
    torch: { type: 'string' },
    out: { type: 'string' },
    reps: { type: 'string', default: '20' },
    models: { type: 'string', default: '1.3b,14b' },
    res: { type: 'string', default: '480p,720p' },
    'dry-run': { type: 'boolean' },
  },
});
// --dry-run: the same script on the CPU backend at tiny shapes with host timers, to check it before spending GPU time.
const DRY = args['dry-run'] === true;
const REPS = Number(args.reps);
const spec = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'shapes.json'), 'utf8'));
if (DRY) {
  spec.resolutions = { '480p': 24, '720p': 40 };
  spec.models = { '1.3b': { dim: 64, ffn: 128 }, '14b': { dim: 96, ffn: 160 } };
}
const torch = args.torch ? JSON.parse(readFileSync(args.torch, 'utf8')) : null;

let backend;
try {
  ({ backend } = K.loadBackend({ backend: DRY ? 'cpu' : 'cuda' }));
} catch (error) {
  if (error?.code !== 'FPSATTN_BACKEND_UNAVAILABLE') throw error;
  console.log(`gemm-bench: skipped, no usable CUDA device here:\n  ${error.tried.join('\n  ')}`);
  process.exit(0);
}
const lt = DRY ? { loaded: true, versionString: 'n/a (dry run)', path: 'none' } : K.cublasLtStatus();
if (!lt?.loaded) {
  console.error(`gemm-bench: cuBLASLt not loaded:\n${lt?.error ?? 'the addon has no cuBLASLt loader: rebuild native/'}`);
  process.exit(1);
}
const addon = backend.addon;
const dev = DRY ? { name: 'CPU (dry run)', smCount: 0, driverVersion: 'none', runtimeVersion: 'none' } : backend.device;
console.log(`device: ${dev.name} (${dev.smCount} SMs), driver ${dev.driverVersion}, runtime ${dev.runtimeVersion}; cuBLASLt ${lt.versionString} from ${lt.path}`);
if (torch) console.log(`torch: ${JSON.stringify(torch.info)}`);

/** Median ms of `reps` back-to-back calls, an event between consecutive calls. */
function time(fn, reps = REPS, warmup = 3) {
  for (let i = 0; i < warmup; i++) fn();
  if (DRY) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    return (performance.now() - t0) / reps;
  }
  const events = Array.from({ length: reps + 1 }, () => addon.eventCreate());
  addon.eventRecord(events[0]);
  for (let i = 0; i < reps; i++) {
    fn();
    addon.eventRecord(events[i + 1]);
  }
  const ms = [];
  for (let i = 0; i < reps; i++) ms.push(addon.eventElapsed(events[i], events[i + 1]));
  for (const e of events) addon.eventDestroy(e);
  ms.sort((a, b) => a - b);
  return ms[Math.floor(reps / 2)];
}

const BLOCK_ROWS = 256;
/** A device tensor [rows, cols] filled with a random host block of BLOCK_ROWS rows repeated (never zeros). */
function filled(rows, cols, dtype, seed) {
  const block = Math.min(rows, BLOCK_ROWS);
  const host = dtype === 'e4m3' ? randomE4m3(block * cols, seed) : T.randomBf16(block * cols, seed, { cols });
  const t = backend.empty([rows, cols], dtype);
  for (let r = 0; r < rows; r += block) {
    const count = Math.min(block, rows - r);
    const view = t.sliceRows(r, count);
    view.upload(count === block ? host : host.subarray(0, count * cols));
    view.dispose();
  }
  return t;
}

function randomE4m3(length, seed) {
  const rnd = T.seededRandom(seed);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const c = Math.floor(rnd() * 256);
    out[i] = (c & 0x7f) === 0x7f || (c & 0x7f) === 0 ? 0x38 : c;
  }
  return out;
}

const results = {};
const header = `${'shape'.padEnd(30)} ${'M'.padStart(6)} ${'N'.padStart(5)} ${'K'.padStart(5)}  ${'ours ms'.padStart(9)} ${'TFLOP/s'.padStart(8)}` + (torch ? `  ${'torch ms'.padStart(9)} ${'ours/torch'.padStart(10)}  torch impl` : '');
console.log(header);
for (const model of args.models.split(',')) {
  const dims = spec.models[model];
  for (const res of args.res.split(',')) {
    const m = spec.batch * spec.resolutions[res];
    for (const layer of spec.layers) {
      const n = dims[layer.n];
      const k = dims[layer.k];
      const flops = 2 * m * n * k;
      const gelu = layer.activation === 'gelu';
      const x = filled(m, k, 'bf16', 1);
      const w = filled(n, k, 'bf16', 2);
      const bias = backend.fromArray(T.randomBf16(n, 3), [n], 'bf16');
      const y = backend.empty([m, n], 'bf16');
      const x8 = filled(m, k, 'e4m3', 4);
      const w8 = filled(n, k, 'e4m3', 5);
      const xScale = backend.fromArray(Float32Array.of(2 ** -6), [1], 'f32');
      const wScale = backend.fromArray(Float32Array.of(2 ** -9), [1], 'f32');
      const variants = {
        mm: () => K.gemm({ x, w, out: y }),
        linear: () => K.gemm({ x, w, bias, activation: gelu ? 'gelu' : 'none', out: y }),
        fp8: () => K.gemm({ x: x8, w: w8, xScale, wScale, bias, activation: gelu ? 'gelu' : 'none', out: y }),
      };
      for (const [variant, fn] of Object.entries(variants)) {
        const key = `${model}/${res}/${layer.name}/${variant}`;
        const ms = time(fn);
        const entry = { ms, tflops: flops / ms / 1e9, m, n, k };
        // PyTorch's best for the same work: for FFN up's 'linear', the faster of unfused F.linear + F.gelu and the fused
        // _addmm_activation.
        const peers = torch ? [torch.results[key], variant === 'linear' ? torch.results[`${key}-lt`] : undefined].filter(Boolean) : [];
        const peer = peers.sort((a, b) => a.ms - b.ms)[0];
        if (peer) Object.assign(entry, { torchMs: peer.ms, torchImpl: peer.impl, ratio: ms / peer.ms });
        results[key] = entry;
        const line = `${key.padEnd(30)} ${String(m).padStart(6)} ${String(n).padStart(5)} ${String(k).padStart(5)}  ${ms.toFixed(3).padStart(9)} ${entry.tflops.toFixed(1).padStart(8)}`;
        console.log(peer ? `${line}  ${peer.ms.toFixed(3).padStart(9)} ${entry.ratio.toFixed(3).padStart(10)}  ${peer.impl}` : line);
      }
      for (const t of [x, w, bias, y, x8, w8, xScale, wScale]) t.dispose();
      backend.emptyCache();
    }
  }
}
// The goal: BF16 GEMMs within 5% of torch.mm at these shapes ('mm': same work on both sides).
if (torch) {
  const mm = Object.entries(results).filter(([key, r]) => key.endsWith('/mm') && r.ratio !== undefined);
  const worst = mm.reduce((a, b) => (b[1].ratio > a[1].ratio ? b : a), mm[0]);
  if (worst) {
    const within = mm.filter(([, r]) => r.ratio <= 1.05).length;
    console.log(`mm vs torch.mm: ${within}/${mm.length} within 5%; worst ${worst[0]} at ${worst[1].ratio.toFixed(3)}x`);
  }
}
if (args.out) writeFileSync(args.out, JSON.stringify({ device: dev, cublasLt: lt, reps: REPS, torch: torch?.info ?? null, results }, null, 1));
