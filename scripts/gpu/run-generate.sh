#!/usr/bin/env bash
# fpsattn generate from a prompt on the GPU, every stage on the device: umT5 (text), the Wan2.1-T2V-1.3B DiT (4 steps
# with the wan-480p FPSAttention schedule) and the Wan-VAE decoder, 832x480, 81 frames, to an mp4 checked with ffprobe.
# Weights are real-shaped and random (scripts/gpu/make-generate-weights.mjs, BF16): the 1.3B DiT and the VAE at their
# real shapes; umT5 at umT5-XXL widths but UMT5_LAYERS layers (default 2 of 24: the full encoder is 11 GB to write and
# read), its real 256384 x 4096 embedding; the CLI's synthetic tokenizer (the real one is not in the repository).
# Prints each stage's time, device and peak device memory; writes the run (latents, mp4, PNGs, manifest) and the log
# under $OUT (weights under /tmp, not copied back). Builds nothing: apps/cli/dist and packages/*/dist, the native addon
# built with CUDA, and the CLI's third-party modules carried in node_modules (commander, @huggingface/tokenizers,
# @resvg/resvg-js with its linux-x64-gnu binding). Under 3 minutes on an H200 (weights about 40 s, the run the rest).
# Usage (repository root): bash scripts/gpu/run-generate.sh   [env: STEPS=4 FRAMES=81 UMT5_LAYERS=2]
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/gpu/_node-env.sh
OUT=${OUT:-$PWD/out}
mkdir -p "$OUT"
WEIGHTS=${WEIGHTS:-/tmp/fpsattn-generate-weights}
STEPS=${STEPS:-4}
FRAMES=${FRAMES:-81}
for m in commander @huggingface/tokenizers @resvg/resvg-js; do
  (cd apps/cli && node --input-type=module -e "await import('$m')") 2>/dev/null || { echo "run-generate.sh: node cannot import $m: carry node_modules/$m (and @resvg's binding)"; exit 1; }
done
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
source scripts/gpu/_ffmpeg-env.sh  # the carried static ffmpeg when the machine has none

t0=$(date +%s)
if [ ! -f "$WEIGHTS/dit/diffusion_pytorch_model.safetensors" ]; then
  node scripts/gpu/make-generate-weights.mjs "$WEIGHTS" 2>&1 | tee "$OUT/weights.log"
fi
echo "WEIGHTS $(( $(date +%s) - t0 )) s  $(du -sh "$WEIGHTS" | cut -f1)"

t1=$(date +%s)
set +e
node apps/cli/dist/cli.js generate \
  --checkpoint "$WEIGHTS/dit" --vae "$WEIGHTS/vae.safetensors" \
  --text-encoder "$WEIGHTS/text_encoder" --tokenizer "$WEIGHTS/tokenizer.json" --no-cache \
  --prompt "a red fox running through snow" \
  --width 832 --height 480 --frames "$FRAMES" --steps "$STEPS" --backend cuda \
  --progress lines --out "$OUT/run/fox.safetensors" > "$OUT/generate.out" 2> "$OUT/generate.err"
rc=$?
set -e
cat "$OUT/generate.err" "$OUT/generate.out"
echo "GENERATE rc=$rc $(( $(date +%s) - t1 )) s"
MANIFEST="$OUT/run/fox.manifest.json"
if [ -f "$MANIFEST" ]; then
  node --input-type=module -e "
    import { readFileSync } from 'node:fs';
    const m = JSON.parse(readFileSync('$MANIFEST', 'utf8'));
    const s = m.timing.stagesS, mem = m.deviceMemory, gib = (b) => b == null ? '-' : (b / 2 ** 30).toFixed(2) + ' GiB';
    console.log('STAGES (s): tokenize', s.tokenize, ' textEncode', s.textEncode, 'on', m.embeddings.encoder?.device, ' load', s.load, ' sample', s.sample, 'on', m.backend, ' decode', s.decode, 'on', m.decode.device, ' encode', s.encode, ' total', m.timing.totalS.toFixed(1));
    for (const k of ['text', 'sample', 'decode']) if (mem[k]) console.log('MEMORY', k, 'on', mem[k].device, 'peak', gib(mem[k].peakBytes), 'left', gib(mem[k].endBytes), 'allocator after', gib(mem[k].allocatorBytesAfter));
    console.log('LATENTS', JSON.stringify(m.latents), ' error', m.error);
  "
fi
if command -v ffprobe >/dev/null 2>&1 && [ -f "$OUT/run/fox.mp4" ]; then
  ffprobe -v error -select_streams v:0 -count_frames -show_entries stream=codec_name,pix_fmt,width,height,r_frame_rate,nb_read_frames -of csv=p=0 "$OUT/run/fox.mp4" | sed 's/^/FFPROBE /'
  echo "FFPROBE expected: h264,832,480,yuv420p,16/1,$FRAMES (fields in ffprobe's order)"
elif command -v ffmpeg >/dev/null 2>&1 && [ -f "$OUT/run/fox.mp4" ]; then
  # No ffprobe: decode the whole file with ffmpeg and report its stream and the frame count it decoded.
  ffmpeg -hide_banner -i "$OUT/run/fox.mp4" -map 0:v -f null - 2>&1 | tr '\r' '\n' | grep -E "Stream #0|frame=" | tail -2 | sed 's/^/FFMPEG-DECODE /'
  echo "FFMPEG-DECODE expected: h264 (wrapped_avframe after decoding), yuv420p, 832x480, 16 fps, frame= $FRAMES"
else
  echo "FFPROBE skipped (no ffprobe or no mp4)"
fi
echo "TOTAL $(( $(date +%s) - t0 )) s"
exit $rc
