#!/usr/bin/env bash
# The DiT elementwise ops (layerNormModulate, rmsNormRope, gatedResidual, castToBf16) on a GPU machine in one call: the
# GPU suite gpu-test/dit-ops.test.mjs at the real size ([2 x 75600, 1536]) and the medium size (with
# FPSATTN_SYNC_CHECK=1), compute-sanitizer memcheck at the small size, then bench/dit-ops-bench.mjs (GB/s per op).
# The video-patch suite (patchify, unpatchify: gpu-test/video-patches.test.mjs) runs in the test (real) and sanitize
# (small) stages too.
# Needs (carried, git-ignored): .gpu/node.xz (../shared/gpu/pack-node.sh .gpu), native/build/Release,
# packages/fp8/dist, packages/kernels/dist. Logs and JSON go to $OUT (default /tmp/fpsattn-out).
# Usage: scripts/gpu/run-dit-ops.sh [all|test|sanitize|bench]...
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/fpsattn-out}
mkdir -p "$OUT"
stages=${*:-all}
has() { [[ " $stages " == *" all "* || " $stages " == *" $1 "* ]]; }

source scripts/gpu/_node-env.sh  # node, workspace links, SAN

{
  echo "date: $(date -u +%FT%TZ)"; node --version
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv
  node --input-type=module -e "import * as K from './packages/kernels/dist/index.js'; console.log(K.formatDoctor(K.doctor()))"
} 2>&1 | tee "$OUT/dit-ops-env.txt"

rc=0
if has test; then
  echo "== DiT ops GPU suite (real: [2 x 75600, 1536])"
  FPSATTN_GPU_TEST_SIZE=real timeout 400 node --test-reporter=spec packages/kernels/gpu-test/dit-ops.test.mjs 2>&1 | tee "$OUT/dit-ops-test.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
  echo "== DiT ops GPU suite (medium: [2 x 1560, 1536], FPSATTN_SYNC_CHECK=1)"
  FPSATTN_SYNC_CHECK=1 FPSATTN_GPU_TEST_SIZE=medium timeout 200 node --test-reporter=spec packages/kernels/gpu-test/dit-ops.test.mjs > "$OUT/dit-ops-test-medium.log" 2>&1 || rc=1
  tail -n 14 "$OUT/dit-ops-test-medium.log"
  echo "== video-patch GPU suite (patchify/unpatchify; real: latents [2, 16, 21, 90, 160])"
  FPSATTN_GPU_TEST_SIZE=real timeout 300 node --test-reporter=spec packages/kernels/gpu-test/video-patches.test.mjs 2>&1 | tee "$OUT/video-patches-test.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
fi
if has sanitize; then
  echo "== compute-sanitizer memcheck (small)"
  FPSATTN_GPU_TEST_SIZE=small FPSATTN_SYNC_CHECK=1 timeout 400 "$SAN" --tool memcheck --error-exitcode 3 --print-limit 50 \
    node packages/kernels/gpu-test/dit-ops.test.mjs > "$OUT/dit-ops-memcheck.log" 2>&1
  s=$?; echo "memcheck exit status: $s" | tee -a "$OUT/dit-ops-memcheck.log"; tail -n 8 "$OUT/dit-ops-memcheck.log"; [ $s -eq 0 ] || rc=1
  echo "== compute-sanitizer memcheck: video-patch suite (small)"
  FPSATTN_GPU_TEST_SIZE=small FPSATTN_SYNC_CHECK=1 timeout 400 "$SAN" --tool memcheck --error-exitcode 3 --print-limit 50 \
    node packages/kernels/gpu-test/video-patches.test.mjs > "$OUT/video-patches-memcheck.log" 2>&1
  s=$?; echo "memcheck exit status: $s" | tee -a "$OUT/video-patches-memcheck.log"; tail -n 8 "$OUT/video-patches-memcheck.log"; [ $s -eq 0 ] || rc=1
fi
if has bench; then
  echo "== DiT ops benchmark ([2 x 75600, 1536]; cast also at [8960, 1536])"
  timeout 300 node packages/kernels/bench/dit-ops-bench.mjs --out "$OUT/dit-ops-bench.json" 2>&1 | tee "$OUT/dit-ops-bench.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
fi
echo "run-dit-ops: exit $rc"
exit $rc
