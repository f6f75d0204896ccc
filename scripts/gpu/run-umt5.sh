#!/usr/bin/env bash
# The umT5 device encoder (issue 10) on a GPU machine in one call, building nothing (about 2 minutes): the strided
# batched gemm its attention uses (packages/kernels/gpu-test/gemm.test.mjs, the 'strided batch' test, real size:
# 64 heads of 64 at 512 tokens, FPSATTN_SYNC_CHECK=1), the encoder's
# GPU suite (packages/wan/gpu-test/umt5-device.test.mjs: CUDA vs the CPU backend and the float32 CPU encoder on the
# tiny umT5 and at the real head width with 512 tokens, nothing leaked), the encode benchmark at umT5-XXL widths
# (packages/wan/bench/umt5-encode.mjs: 24 blocks, random weights, prompts of 512 and 128 tokens: ms per prompt, peak
# device memory) and the PyTorch oracle's timing at the same shapes (packages/wan/oracle/umt5_encoder.py --bench, bf16);
# then a summary table. Needs (carried, git-ignored): .gpu/node.xz, native/build/Release, packages/*/dist; PyTorch
# with CUDA on the machine for the oracle. Files in $OUT (default /tmp/fpsattn-out): umt5-gemm-batched.log,
# umt5-tests.log, umt5-bench.log, umt5-summary.json.
# Usage: scripts/gpu/run-umt5.sh [all|test|bench|oracle]...   (UMT5_LAYERS=24 UMT5_LENGTHS=512,128 to change the shape;
# UMT5_PROFILE=1: the benchmark's --profile, part-by-part host / GPU-event / synchronised times, in umt5-bench.log)
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/fpsattn-out}
mkdir -p "$OUT"
PARTS=$(mktemp -d)
stages=${*:-all}
has() { [[ " $stages " == *" all "* || " $stages " == *" $1 "* ]]; }
LAYERS=${UMT5_LAYERS:-24}
LENGTHS=${UMT5_LENGTHS:-512,128}
PROFILE=()
[ "${UMT5_PROFILE:-0}" = 1 ] && PROFILE=(--profile)
PROFILE+=(--head-gemms "${UMT5_HEAD_GEMMS:-batched}")  # UMT5_HEAD_GEMMS=per-head: one GEMM per head (the reference path)

source scripts/gpu/_node-env.sh  # node, workspace links
source scripts/gpu/_cublaslt-env.sh  # FPSATTN_CUBLASLT from python3's site-packages if the addon finds none
{ git log --oneline -1 2>/dev/null; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)" 2>&1; } | tee "$OUT/umt5-env.txt"

rc=0
: > "$OUT/umt5-tests.log"
if has test; then
  echo "== strided batched gemm (64 heads of 64 at 512 tokens, FPSATTN_SYNC_CHECK=1)"
  FPSATTN_SYNC_CHECK=1 timeout 240 node --test --test-reporter=spec --test-name-pattern='cuBLASLt is loaded|strided batch' packages/kernels/gpu-test/gemm.test.mjs > "$OUT/umt5-gemm-batched.log" 2>&1 || rc=1
  grep -E "^# |^ℹ (tests|pass|fail) |✖" "$OUT/umt5-gemm-batched.log" | grep -v "^# Subtest" | head -n 20
  echo "== umT5 device encoder GPU suite (tiny at 1/7/16 tokens; 16 heads of 64 at 300/512 tokens)"
  timeout 240 node --test --test-reporter=spec packages/wan/gpu-test/umt5-device.test.mjs > "$OUT/umt5-tests.log" 2>&1 || rc=1
  grep -E "^# |^ℹ (tests|pass|fail) |✖" "$OUT/umt5-tests.log" | grep -v "^# Subtest" | head -n 30
fi
: > "$OUT/umt5-bench.log"
if has bench; then
  echo "== device encode benchmark (umT5-XXL widths, $LAYERS blocks, lengths $LENGTHS)"
  timeout 240 node packages/wan/bench/umt5-encode.mjs --layers "$LAYERS" --lengths "$LENGTHS" --reps 5 "${PROFILE[@]}" --out "$PARTS/device.json" 2>&1 | tee -a "$OUT/umt5-bench.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
fi
if has oracle; then
  echo "== PyTorch oracle timing (bf16, same shapes)"
  PYTHONUNBUFFERED=1 timeout 240 python3 packages/wan/oracle/umt5_encoder.py --bench --bench-layers "$LAYERS" --bench-lengths "$LENGTHS" --bench-out "$PARTS/torch.json" 2>&1 | tee -a "$OUT/umt5-bench.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
fi

echo "== summary (ms per prompt, peak device GiB; $LAYERS blocks of umT5-XXL)"
node --input-type=module - "$PARTS" "$OUT/umt5-summary.json" <<'JS'
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
const [dir, out] = process.argv.slice(2);
const read = (f) => (existsSync(`${dir}/${f}`) ? JSON.parse(readFileSync(`${dir}/${f}`, 'utf8')) : null);
const ours = read('device.json')?.results ?? [];
const torch = read('torch.json') ?? [];
const lengths = [...new Set([...ours, ...torch].map((r) => r.length))];
const f = (v, d = 1) => (v === null || v === undefined ? '-' : v.toFixed(d));
console.log('length  ours_ms  ours_device_ms  peak_GiB | torch_bf16_ms  peak_GiB | torch/ours  torch/ours_device');
const rows = lengths.map((length) => {
  const o = ours.find((r) => r.length === length) ?? null;
  const t = torch.find((r) => r.length === length) ?? null;
  const ratio = (ours) => (ours && t ? (t.msMedian / ours).toFixed(2) : '-');
  console.log(`${String(length).padStart(6)}  ${f(o?.msMedian).padStart(7)}  ${f(o?.msDeviceMedian).padStart(14)}  ${f(o?.peakGiB, 2).padStart(8)} | ${f(t?.msMedian).padStart(13)}  ${f(t?.peakGiB, 2).padStart(8)} | ${ratio(o?.msMedian).padStart(10)}  ${ratio(o?.msDeviceMedian).padStart(17)}`);
  return { length, ours: o, torchBfloat16: t };
});
writeFileSync(out, `${JSON.stringify(rows, null, 2)}\n`);
JS
rm -rf "$PARTS"
echo "run-umt5: exit $rc"
exit $rc
