#!/usr/bin/env bash
# Builds the standalone attention harness into .gpu/attention_harness (git-ignored; carried to the GPU machine).
# Same CUDA flags as native/CMakeLists.txt (sm_90a, no fast math), static CUDA runtime, no libcuda link.
# Variants: NAME=attention_harness_x ./build.sh -DFPSATTN_ATTN_PINGPONG=1 ... (extra arguments go to nvcc).
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
mkdir -p "$root/.gpu"
flags=(-gencode=arch=compute_90a,code=sm_90a --std=c++17 -O3 -prec-div=true -ftz=false -prec-sqrt=true --fmad=false
       -lineinfo -Xptxas=-warn-spills -I "$root/native/src")
nvcc "${flags[@]}" -Xptxas -v -o "$root/.gpu/${NAME:-attention_harness}" \
  "$root/native/test/attention/harness.cu" "$root/native/src/kernels/attention/attention.cu" -lpthread "$@"
echo "built $root/.gpu/${NAME:-attention_harness}"
