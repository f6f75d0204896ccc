#!/usr/bin/env bash
# GPU run of the fused attention kernel (issue 8) on the device machine. Expects .gpu/attention_harness built here by
# native/test/attention/build.sh (carried as `.gpu`). Writes logs under $OUT (or ./.gpu/out).
#   scripts/gpu/run-attention.sh [quick|full] [--peers] [--no-flex] [--sanitize] [--ncu] [--sass]
set -uo pipefail
mode="${1:-full}"; shift || true
out="${OUT:-.gpu/out}"; mkdir -p "$out"
peers=0; flex=1; sanitize=0; ncu=0; sass=0
for a in "$@"; do
  case "$a" in
    --peers) peers=1 ;; --no-flex) flex=0 ;; --sanitize) sanitize=1 ;; --ncu) ncu=1 ;; --sass) sass=1 ;;
  esac
done
bin=.gpu/attention_harness
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,temperature.gpu --format=csv | tee "$out/gpu.txt"
if [ "$sass" = 1 ]; then
  cuobjdump --dump-sass "$bin" > "$out/sass.txt" 2>&1
  echo "SASS counts (QGMMA = fp8 wgmma, HGMMA = bf16 wgmma, LDL/STL = local memory):"
  grep -oE "QGMMA\.[A-Z0-9_.]*|HGMMA\.[A-Z0-9_.]*|UTMALDG[.A-Z0-9]*|UBLKCP[.A-Z0-9]*|USETMAXREG[.A-Z0-9]*|\bLDL\b|\bSTL\b" "$out/sass.txt" | sort | uniq -c
  gzip -f "$out/sass.txt"
fi
if [ "$mode" = quick ]; then
  timeout 300 "$bin" --quick 2>&1 | tee "$out/harness.log"
else
  timeout 480 "$bin" 2>&1 | tee "$out/harness.log"
fi
rc=${PIPESTATUS[0]}
if [ "$sanitize" = 1 ]; then
  for tool in memcheck racecheck; do
    timeout 240 compute-sanitizer --tool "$tool" --print-limit 20 "$bin" --quick --only small > "$out/sanitize-$tool.log" 2>&1
    echo "compute-sanitizer $tool rc=$? : $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$out/sanitize-$tool.log" | tail -1)"
  done
fi
if [ "$ncu" = 1 ]; then
  timeout 240 ncu --clock-control none --launch-count 1 --kernel-name regex:attentionKernel \
    --section SpeedOfLight --section WarpStateStats --section ComputeWorkloadAnalysis --section Occupancy \
    "$bin" --only 480p --no-bench > "$out/ncu.log" 2>&1
  echo "ncu rc=$?"; grep -E "Duration|Throughput|Pipe|Stall|Issue|Registers|Warp Cycles" "$out/ncu.log" | head -40
fi
if [ "$peers" = 1 ]; then
  fl=""; [ "$flex" = 0 ] && fl="--no-flex"
  PYTHONUNBUFFERED=1 timeout 300 python3 bench/attention/peers.py $fl 2>&1 | grep -v Warning | tee "$out/peers.log"
fi
echo "harness rc=$rc"
exit $rc
