#!/usr/bin/env bash
# The GEMM layer (issue 9) on a GPU machine in one call: the gemm GPU suite (real and medium sizes, the medium run with
# FPSATTN_SYNC_CHECK=1), compute-sanitizer memcheck at the small size, then PyTorch's baseline (bench/gemm/torch_mm.py)
# and our gemm (bench/gemm/gemm-bench.mjs, reading the former's JSON for ours/torch) at the Wan DiT's shapes.
# Needs (carried, git-ignored): .gpu/node.xz (../shared/gpu/pack-node.sh .gpu), native/build/Release,
# packages/fp8/dist, packages/kernels/dist. cuBLASLt is found by the addon (CUDA_HOME, /usr/local/cuda,
# LD_LIBRARY_PATH, pip wheels); if it finds none, this script asks python3 where pip put the wheel and sets
# FPSATTN_CUBLASLT. Logs and JSON go to $OUT (default /tmp/fpsattn-out).
# Usage: scripts/gpu/run-gemm.sh [all|test|sanitize|bench]...
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/fpsattn-out}
mkdir -p "$OUT"
stages=${*:-all}
has() { [[ " $stages " == *" all "* || " $stages " == *" $1 "* ]]; }

source scripts/gpu/_node-env.sh  # node, workspace links, SAN
source scripts/gpu/_cublaslt-env.sh  # FPSATTN_CUBLASLT from python3's site-packages if the addon finds none

{
  echo "date: $(date -u +%FT%TZ)"; node --version
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv
  node --input-type=module -e "import * as K from './packages/kernels/dist/index.js'; console.log(K.formatDoctor(K.doctor())); console.log(JSON.stringify(K.cublasLtStatus(), null, 1))"
} 2>&1 | tee "$OUT/gemm-env.txt"

rc=0
if has test; then
  echo "== gemm GPU suite (real: M 1000, K 1536, N 8960)"
  FPSATTN_GPU_TEST_SIZE=real timeout 300 node --test-reporter=spec packages/kernels/gpu-test/gemm.test.mjs 2>&1 | tee "$OUT/gemm-test.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
  echo "== gemm GPU suite (medium, FPSATTN_SYNC_CHECK=1)"
  FPSATTN_SYNC_CHECK=1 FPSATTN_GPU_TEST_SIZE=medium timeout 120 node --test-reporter=spec packages/kernels/gpu-test/gemm.test.mjs > "$OUT/gemm-test-medium.log" 2>&1 || rc=1
  tail -n 12 "$OUT/gemm-test-medium.log"
fi
if has sanitize; then
  echo "== compute-sanitizer memcheck (small)"
  FPSATTN_GPU_TEST_SIZE=small FPSATTN_SYNC_CHECK=1 timeout 300 "$SAN" --tool memcheck --error-exitcode 3 --print-limit 50 \
    node packages/kernels/gpu-test/gemm.test.mjs > "$OUT/gemm-memcheck.log" 2>&1
  s=$?; echo "memcheck exit status: $s" | tee -a "$OUT/gemm-memcheck.log"; tail -n 8 "$OUT/gemm-memcheck.log"; [ $s -eq 0 ] || rc=1
fi
if has bench; then
  echo "== PyTorch baseline (torch.mm, F.linear, _scaled_mm)"
  PYTHONUNBUFFERED=1 timeout 300 python3 bench/gemm/torch_mm.py --out "$OUT/torch_mm.json" 2>&1 | tee "$OUT/torch_mm.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
  echo "== gemm benchmark (ours, ours/torch)"
  TORCH_ARG=(); [ -s "$OUT/torch_mm.json" ] && TORCH_ARG=(--torch "$OUT/torch_mm.json")
  timeout 300 node bench/gemm/gemm-bench.mjs "${TORCH_ARG[@]}" --out "$OUT/gemm-bench.json" 2>&1 | tee "$OUT/gemm-bench.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
fi
echo "run-gemm: exit $rc"
exit $rc
