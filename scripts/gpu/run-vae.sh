#!/usr/bin/env bash
# The Wan-VAE device decoder (issue 10) on a GPU machine in one call, building nothing: the VAE ops' GPU suite
# (packages/kernels/gpu-test/vae-ops.test.mjs: convIm2col and clampToPlanar bit for bit, channelRmsNorm and softmaxRows
# within their declared tolerance; medium with FPSATTN_SYNC_CHECK=1, then at 720p), the decoder's GPU suite
# (packages/wan/gpu-test/vae-device.test.mjs: CUDA vs the CPU backend and the float32 CPU decoder, nothing leaked),
# compute-sanitizer memcheck on the ops suite (small), the decode benchmark at 480p and 720p (packages/wan/bench/
# vae-decode.mjs, one process per size so each peak is its own), and the PyTorch oracle's timing at the same shapes
# (packages/wan/oracle/vae_decoder.py --bench, float32 as the reference runs and bfloat16); then a summary table.
# Needs (carried, git-ignored): .gpu/node.xz (../shared/gpu/pack-node.sh .gpu), native/build/Release (built here with
# the VAE ops), packages/*/dist. PyTorch with CUDA on the machine for the oracle. Files in $OUT (default
# /tmp/fpsattn-out): vae-env.txt, vae-tests.log, vae-memcheck.log, vae-bench.log, vae-summary.json.
# Usage: scripts/gpu/run-vae.sh [all|test|sanitize|bench|oracle]...
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/fpsattn-out}
mkdir -p "$OUT"
PARTS=$(mktemp -d)
stages=${*:-all}
has() { [[ " $stages " == *" all "* || " $stages " == *" $1 "* ]]; }

source scripts/gpu/_node-env.sh  # node, workspace links, SAN
source scripts/gpu/_cublaslt-env.sh  # FPSATTN_CUBLASLT from python3's site-packages if the addon finds none

{
  echo "date: $(date -u +%FT%TZ)"; node --version; git log --oneline -1 2>/dev/null
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv
  node --input-type=module -e "import * as K from './packages/kernels/dist/index.js'; console.log(K.formatDoctor(K.doctor())); console.log('cuBLASLt loaded:', K.cublasLtStatus()?.loaded)"
  python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)" 2>&1
} 2>&1 | tee "$OUT/vae-env.txt"

rc=0
summary() { grep -E "^(ℹ|#) (tests|pass|fail) |^✖|^# " "$1" | grep -vE "^# Subtest" | head -n 40; }
: > "$OUT/vae-tests.log"
if has test; then
  echo "== VAE ops GPU suite (medium, FPSATTN_SYNC_CHECK=1)"
  FPSATTN_SYNC_CHECK=1 FPSATTN_GPU_TEST_SIZE=medium timeout 300 node --test --test-reporter=spec packages/kernels/gpu-test/vae-ops.test.mjs > "$PARTS/ops-medium.log" 2>&1 || rc=1
  summary "$PARTS/ops-medium.log"; cat "$PARTS/ops-medium.log" >> "$OUT/vae-tests.log"
  echo "== VAE ops GPU suite (real: 720p frame, C 96, a 1 GiB column chunk, 14,400-key softmax rows)"
  FPSATTN_GPU_TEST_SIZE=real timeout 500 node --test --test-reporter=spec packages/kernels/gpu-test/vae-ops.test.mjs > "$PARTS/ops-real.log" 2>&1 || rc=1
  summary "$PARTS/ops-real.log"; cat "$PARTS/ops-real.log" >> "$OUT/vae-tests.log"
  echo "== wan VAE device decoder GPU suite (tiny, real widths, larger latent)"
  timeout 500 node --test --test-reporter=spec packages/wan/gpu-test/vae-device.test.mjs > "$PARTS/device.log" 2>&1 || rc=1
  summary "$PARTS/device.log"; cat "$PARTS/device.log" >> "$OUT/vae-tests.log"
fi
if has sanitize; then
  echo "== compute-sanitizer memcheck on the VAE ops suite (small)"
  FPSATTN_GPU_TEST_SIZE=small FPSATTN_SYNC_CHECK=1 timeout 400 "$SAN" --tool memcheck --error-exitcode 3 --print-limit 50 \
    node packages/kernels/gpu-test/vae-ops.test.mjs > "$OUT/vae-memcheck.log" 2>&1
  s=$?; echo "memcheck exit status: $s" | tee -a "$OUT/vae-memcheck.log"; tail -n 6 "$OUT/vae-memcheck.log"; [ $s -eq 0 ] || rc=1
fi
: > "$OUT/vae-bench.log"
if has bench; then
  for shape in 480p 720p; do
    echo "== device decode benchmark, $shape (wan-vae, 21 latent frames -> 81 frames)"
    timeout 400 node packages/wan/bench/vae-decode.mjs --shape "$shape" --reps 2 --out "$PARTS/device-$shape.json" 2>&1 | tee -a "$OUT/vae-bench.log"
    [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
  done
fi
if has oracle; then
  for shape in 480p 720p; do
    echo "== PyTorch oracle timing, $shape (float32 as the reference runs, bfloat16)"
    PYTHONUNBUFFERED=1 timeout 500 python3 packages/wan/oracle/vae_decoder.py --config wan-vae --bench "$shape" --bench-out "$PARTS/torch-$shape.json" 2>&1 | tee -a "$OUT/vae-bench.log"
    [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
  done
fi

echo "== summary (ms for 21 latent frames -> 81 frames; peak device GiB)"
node --input-type=module - "$PARTS" "$OUT/vae-summary.json" <<'JS'
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
const [dir, out] = process.argv.slice(2);
const read = (f) => (existsSync(`${dir}/${f}`) ? JSON.parse(readFileSync(`${dir}/${f}`, 'utf8')) : null);
const rows = [];
for (const shape of ['480p', '720p']) {
  const ours = read(`device-${shape}.json`)?.results?.[0] ?? null;
  const torch = read(`torch-${shape}.json`) ?? [];
  const t = (dtype) => torch.find((r) => r.dtype === dtype) ?? null;
  rows.push({ shape, ours, torchFloat32: t('float32'), torchBfloat16: t('bfloat16') });
}
const f = (v, d = 0) => (v === null || v === undefined ? '-' : v.toFixed(d));
console.log('shape  ours_ms  TFLOP/s  peak_GiB | torch_f32_ms  peak_GiB | torch_bf16_ms  peak_GiB | torch_f32/ours  torch_bf16/ours');
for (const r of rows) {
  const o = r.ours;
  const a = r.torchFloat32;
  const b = r.torchBfloat16;
  console.log(`${r.shape}   ${f(o?.msMedian).padStart(6)}  ${f(o?.tflops, 1).padStart(7)}  ${f(o?.peakGiB, 2).padStart(8)} | ${f(a?.msMedian).padStart(12)}  ${f(a?.peakGiB, 2).padStart(8)} | ${f(b?.msMedian).padStart(13)}  ${f(b?.peakGiB, 2).padStart(8)} | ${o && a ? (a.msMedian / o.msMedian).toFixed(2).padStart(14) : '             -'}  ${o && b ? (b.msMedian / o.msMedian).toFixed(2).padStart(15) : '              -'}`);
}
writeFileSync(out, `${JSON.stringify(rows, null, 2)}\n`);
JS
rm -rf "$PARTS"
echo "run-vae: exit $rc"
exit $rc
