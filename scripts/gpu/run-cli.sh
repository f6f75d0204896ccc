#!/usr/bin/env bash
# Every `fpsattn` command once on the GPU machine (issue 11's acceptance: each listed command works there as it does
# on a machine without a GPU): doctor, demo (the README's main job), plan with its pictures, quant-error with its
# chart, inspect on a synthetic Wan checkpoint, bench attention and bench dit (wan-1.3b-480p, short), and generate on
# the built-in tiny model with the CUDA backend. Prints one CLI line per command (exit status, seconds, what it wrote)
# and checks every PNG's signature and size. Builds nothing: apps/cli/dist, packages/*/dist, the addon
# (FPSATTN_ADDON or native/build/Release) and the CLI's third-party modules (commander, @resvg/resvg-js,
# @huggingface/tokenizers) must be present, as for run-generate.sh. Logs and outputs under $OUT.
# Usage (repository root): bash scripts/gpu/run-cli.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
source scripts/gpu/_node-env.sh
source scripts/gpu/_ffmpeg-env.sh  # the carried static ffmpeg when the machine has none (generate writes the mp4)
OUT=${OUT:-$PWD/out}
mkdir -p "$OUT/cli"
CLI="node apps/cli/dist/cli.js"
fails=0

run() {  # run NAME EXPECTED_RC -- ARGS...
  local name=$1 want=$2; shift 3
  local t0; t0=$(date +%s%N)
  $CLI "$@" > "$OUT/cli/$name.out" 2> "$OUT/cli/$name.err"
  local rc=$?
  local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  local verdict=ok; [ "$rc" = "$want" ] || { verdict=FAIL; fails=$((fails + 1)); }
  printf 'CLI %-16s rc=%s (want %s) %8d ms  %s\n' "$name" "$rc" "$want" "$ms" "$verdict"
  [ "$verdict" = FAIL ] && tail -n 3 "$OUT/cli/$name.err" | sed 's/^/    /'
  return 0
}

png() {  # png FILE: PNG signature and IHDR size
  node --input-type=module -e "
    import { readFileSync } from 'node:fs';
    const b = readFileSync('$1');
    const sig = b.subarray(0, 8).equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]));
    console.log('PNG', '$1'.split('/').slice(-2).join('/'), sig ? 'valid' : 'NOT A PNG', b.readUInt32BE(16) + 'x' + b.readUInt32BE(20), b.length + ' bytes');
    if (!sig) process.exit(1);
  " || fails=$((fails + 1))
}

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
run doctor 0 -- doctor
head -n 30 "$OUT/cli/doctor.out"
run doctor-json 0 -- doctor --json
run demo 0 -- demo
tail -n 12 "$OUT/cli/demo.out"
run plan 0 -- plan --preset wan-720p --out-dir "$OUT/cli/plan"
for f in "$OUT"/cli/plan/*.png; do png "$f"; done
run plan-bad 2 -- plan --preset no-such-preset
run quant-error 0 -- quant-error --out-dir "$OUT/cli/quant"
for f in "$OUT"/cli/quant/*.png; do [ -f "$f" ] && png "$f"; done
node --input-type=module -e "
  import { WAN_CONFIG_PRESETS, writeSyntheticWanCheckpoint } from '@fpsattn/wan';
  await writeSyntheticWanCheckpoint({ directory: '$OUT/cli/ckpt', config: WAN_CONFIG_PRESETS['wan-tiny'], seed: 1 });
" 2> "$OUT/cli/ckpt.err" || echo "synthetic checkpoint: $(tail -n 1 "$OUT/cli/ckpt.err")"
run inspect 0 -- inspect "$OUT/cli/ckpt"
head -n 12 "$OUT/cli/inspect.out"
run inspect-missing 2 -- inspect "$OUT/cli/no-such-checkpoint"
run bench-attention 0 -- bench attention --shape wan-1.3b-480p --reps 3 --out-dir "$OUT/cli/bench-attention"
tail -n 12 "$OUT/cli/bench-attention.out"
for f in "$OUT"/cli/bench-attention/*.png; do [ -f "$f" ] && png "$f"; done
run bench-dit 0 -- bench dit --shape wan-1.3b-480p --presets dense,wan-480p --reps 1
tail -n 8 "$OUT/cli/bench-dit.out"
run generate-tiny 0 -- generate --backend cuda --progress lines --out "$OUT/cli/tiny/run.safetensors"
tail -n 6 "$OUT/cli/generate-tiny.err"
ls -la "$OUT/cli/tiny" 2>/dev/null
[ -f "$OUT/cli/tiny/run.mp4" ] && echo "MP4 $(wc -c < "$OUT/cli/tiny/run.mp4") bytes" || { echo "MP4 missing"; fails=$((fails + 1)); }
echo "run-cli: $fails failure(s)"
exit $((fails > 0))
