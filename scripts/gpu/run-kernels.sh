#!/usr/bin/env bash
# Runs the @fpsattn/kernels GPU suite, compute-sanitizer (memcheck, racecheck) and the benchmark on a GPU machine
# that has CUDA but no Node. Needs (carried, git-ignored): .gpu/node.xz, native/build, packages/{fp8,tiling,kernels}/dist
# (the suite and the benchmark take tile permutations and padded layouts from @fpsattn/tiling).
# Usage: scripts/gpu/run-kernels.sh [all|test|sanitize|bench|profile]...   (profile: Nsight Compute, not part of all)   Logs and JSON go to $OUT (default /tmp/fpsattn-out).
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
} 2>&1 | tee "$OUT/env.txt"

rc=0
if has test; then
  echo "== GPU suite (real sizes)"
  FPSATTN_GPU_TEST_SIZE=real node --test-reporter=spec packages/kernels/gpu-test/kernels.test.mjs 2>&1 | tee "$OUT/gpu-test.log" || rc=1
  echo "== GPU suite (medium, FPSATTN_SYNC_CHECK=1)"
  FPSATTN_SYNC_CHECK=1 FPSATTN_GPU_TEST_SIZE=medium node --test-reporter=spec packages/kernels/gpu-test/kernels.test.mjs 2>&1 | tail -n 15 | tee -a "$OUT/gpu-test.log" || rc=1
fi
if has sanitize; then
  for tool in memcheck racecheck; do
    echo "== compute-sanitizer --tool $tool (small sizes)"
    FPSATTN_GPU_TEST_SIZE=small FPSATTN_GPU_TEST_NO_OOM=1 FPSATTN_SYNC_CHECK=1 \
      "$SAN" --tool $tool --error-exitcode 3 --print-limit 50 \
      node packages/kernels/gpu-test/kernels.test.mjs > "$OUT/$tool.log" 2>&1
    s=$?; echo "$tool exit status: $s" | tee -a "$OUT/$tool.log"; tail -n 12 "$OUT/$tool.log"; [ $s -eq 0 ] || rc=1
  done
fi
if has bench; then
  echo "== attention layer reference (PyTorch SDPA, 720p)"
  PYTHONUNBUFFERED=1 python3 packages/kernels/bench/sdpa_720p.py > "$OUT/sdpa.json" 2> "$OUT/sdpa.err" || echo "sdpa failed: $(tail -n 3 "$OUT/sdpa.err")"
  cat "$OUT/sdpa.json"; rm -f "$OUT/sdpa.err"
  echo "== kernel benchmark"
  node packages/kernels/bench/gpu-bench.mjs --sdpa "$OUT/sdpa.json" --out "$OUT/bench.json" 2>&1 | tee "$OUT/bench.log" || rc=1
fi
if [[ " $stages " == *" profile "* ]]; then
  NCU=$(command -v ncu || echo /usr/local/cuda/bin/ncu)
  echo "== Nsight Compute: one launch of each kernel at 720p size"
  "$NCU" --section SpeedOfLight --csv --log-file "$OUT/ncu.csv" node packages/kernels/bench/profile-kernels.mjs > "$OUT/ncu.log" 2>&1 || { rc=1; tail -n 20 "$OUT/ncu.log"; }
  python3 - "$OUT/ncu.csv" <<'PY' || true
import csv, sys
rows = [r for r in csv.DictReader(l for l in open(sys.argv[1]) if l.startswith('"'))]
want = ('Duration', 'DRAM Throughput', 'Memory Throughput', 'Compute (SM) Throughput')
seen = {}
for r in rows:
    if r['Metric Name'] in want:
        seen.setdefault((r['ID'], r['Kernel Name'][:60]), {})[r['Metric Name']] = r['Metric Value'] + ' ' + r['Metric Unit']
for (i, k), m in seen.items():
    print(f"{i:>3} {k:60s} " + '  '.join(f"{n}={m.get(n, '?')}" for n in want))
PY
fi
echo "run-kernels: exit $rc"
exit $rc
