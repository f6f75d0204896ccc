#!/usr/bin/env bash
# Same-run comparison of attention-kernel variants on the device machine: each .gpu/attention_harness* binary (built
# here with native/test/attention/build.sh and -D flags) checks the small cases (--quick, variants given in QUICK)
# and times the large shapes in SHAPES (fp8 by default); then the PyTorch peers (cuDNN SDPA etc.) unless PEERS=0.
#   BINS="attention_harness attention_harness_poly4" SHAPES=",720p,720p-tiles," ROUNDS=2 scripts/gpu/run-attention-variants.sh
# ROUNDS (default 1) alternates the binaries (ABAB); the GPU's clock, power, temperature and throttle reasons are logged
# before and after each timing (GPU-STATE lines).
set -uo pipefail
out="${OUT:-.gpu/out}"; mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv | tee "$out/gpu.txt"
for b in ${QUICK:-}; do
  timeout 150 ".gpu/$b" --quick > "$out/quick-$b.log" 2>&1
  echo "quick $b rc=$? $(grep -c PASS "$out/quick-$b.log") pass; $(grep FAIL "$out/quick-$b.log" | head -5)"
done
# The same binary's timing moved 8% between calls on one card in session 6: log the clock, power and throttle state
# next to every timing.
gpuState() { nvidia-smi --query-gpu=clocks.sm,clocks.mem,power.draw,temperature.gpu,clocks_throttle_reasons.active --format=csv,noheader 2>/dev/null | sed "s/^/GPU-STATE $1: /"; }
for round in $(seq 1 "${ROUNDS:-1}"); do
for b in ${BINS:-attention_harness}; do
  gpuState "before $b round $round"
  timeout 200 ".gpu/$b" --only "${SHAPES:-720p}" --dtype "${DTYPE:-fp8}" ${HARNESS_ARGS:---no-check} --reps "${REPS:-10}" > "$out/bench-$b-$round.log" 2>&1
  echo "== $b round $round rc=$?"; grep -E "BENCH|CHECK" "$out/bench-$b-$round.log"
  gpuState "after $b round $round"
done
done
if [ "${PEERS:-1}" = 1 ]; then
  PYTHONUNBUFFERED=1 timeout 300 python3 bench/attention/peers.py ${PEER_ARGS:---no-flex} 2>&1 | grep -v Warning | tee "$out/peers.log"
fi
