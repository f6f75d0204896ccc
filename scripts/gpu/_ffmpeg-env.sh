# Sourced by scripts/gpu/run-generate.sh and run-cli.sh, from the repository root. The GPU machine has no ffmpeg: use a
# static build when one is carried (FFMPEG_XZ, default .gpu/ffmpeg.xz: e.g. the `ffmpeg` of npm's
# @ffmpeg-installer/linux-x64, xz-compressed), put first on PATH for this run only.
FFMPEG_XZ=${FFMPEG_XZ:-.gpu/ffmpeg.xz}
if ! command -v ffmpeg >/dev/null 2>&1 && [ -f "$FFMPEG_XZ" ]; then
  mkdir -p /tmp/fpsattn-ffmpeg && xz -dc "$FFMPEG_XZ" > /tmp/fpsattn-ffmpeg/ffmpeg && chmod +x /tmp/fpsattn-ffmpeg/ffmpeg
  export PATH=/tmp/fpsattn-ffmpeg:$PATH
fi
command -v ffmpeg >/dev/null 2>&1 && echo "FFMPEG $(ffmpeg -version | head -1)" || echo "FFMPEG none: generate will stop before the mp4 (exit 1)"
