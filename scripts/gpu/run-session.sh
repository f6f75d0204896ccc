#!/usr/bin/env bash
# One GPU call for a session's acceptance checks: the kernels suite, sanitizers and benchmark (run-kernels.sh), the
# composed attention op's GPU suite (small and medium) with compute-sanitizer memcheck, and the composed-vs-kernel
# benchmark at Wan 720p (`fpsattn bench attention`). Needs (carried, git-ignored): .gpu/node.xz, native/build/Release,
# packages/*/dist, apps/cli/dist, and the CLI's third-party runtime packages node_modules/commander and
# node_modules/@resvg (4.3 MB; the CLI loads it at start).
# Usage: [SKIP_KERNELS=1] scripts/gpu/run-session.sh   (logs under $OUT)
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/fpsattn-out}
mkdir -p "$OUT"
source scripts/gpu/_node-env.sh  # node, workspace links, SAN
rc=0
if [ "${SKIP_KERNELS:-0}" != 1 ]; then  # SKIP_KERNELS=1: only the attention op's suite, memcheck and benchmark
  OUT=$OUT scripts/gpu/run-kernels.sh test sanitize bench > "$OUT/kernels.log" 2>&1 || rc=1
  grep -E "^# (tests|pass|fail)|exit status|run-kernels: exit|== " "$OUT/kernels.log"
fi
echo "== attention GPU suite (small, medium)"
for size in small medium; do
  FPSATTN_GPU_TEST_SIZE=$size node --test --test-reporter=spec packages/attention/gpu-test/attention.test.mjs > "$OUT/attention-$size.log" 2>&1 || rc=1
  grep -E "^ℹ (tests|pass|fail)|✖" "$OUT/attention-$size.log" | head -20
done
echo "== compute-sanitizer memcheck on the attention GPU suite (small)"
FPSATTN_GPU_TEST_SIZE=small FPSATTN_SYNC_CHECK=1 "$SAN" --tool memcheck --error-exitcode 3 --print-limit 20 \
  node --test packages/attention/gpu-test/attention.test.mjs > "$OUT/attention-memcheck.log" 2>&1
s=$?; echo "attention memcheck exit status: $s"; tail -n 4 "$OUT/attention-memcheck.log"; [ $s -eq 0 ] || rc=1
echo "== composed op vs kernel alone (720p)"
node apps/cli/dist/cli.js bench attention --shape wan-1.3b-720p --reps 10 --json > "$OUT/composed.json" 2> "$OUT/composed.log" || rc=1
echo "run-session: exit $rc"
exit $rc
