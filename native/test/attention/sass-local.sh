#!/usr/bin/env bash
# The FP8 per-block-scale kernel's WGMMA / wait / exponential order from SASS on this machine (no GPU, no CUDA 13
# disassembler): compiles attention.cu to a cubin with the given -D flags, rewrites the ELF header into the pre-CUDA-12.8
# form (ABI version 7, e_flags 0x005a055a = sm_90) that Debian's CUDA 11.8 nvdisasm reads, and disassembles it.
# nvdisasm 11.8 does not decode QGMMA: it drops them, leaving a gap in the addresses, which is counted as one
# WGMMA-class instruction per missing 16 bytes ("G" below; other undecoded instructions land there too, so G
# over-counts: 24 for the paired kernel's 12 QGMMA). Checked against cuobjdump on the H200 (session 7): the
# same DEPBAR and ARRIVE counts for the paired default (2, 4) and the first split schedule (20, 20: serialised).
# Needs: nvcc; nvdisasm from Debian non-free, without installing the toolkit: add a sources entry for bookworm with
# `Components: non-free contrib`, apt-get update, `apt-get download nvidia-cuda-toolkit` (84 MB), `dpkg -x` it into a
# folder, NVDISASM=<folder>/usr/bin/nvdisasm.
# Usage: NVDISASM=/tmp/cudadeb/x/usr/bin/nvdisasm native/test/attention/sass-local.sh [-DFPSATTN_ATTN_PIPELINE_FP8=3 ...]
# Prints counts and the sequence (A = WARPGROUP.ARRIVE, G = WGMMA, W = WARPGROUP.DEPBAR, [n ex2] = MUFU.EX2 runs):
# one W per QGMMA means ptxas serialised the WGMMAs (its C7514 / C7515 warnings in ptxas -v say the same).
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
nvdisasm="${NVDISASM:-nvdisasm}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
nvcc -gencode=arch=compute_90a,code=sm_90a --std=c++17 -O3 -prec-div=true -ftz=false -prec-sqrt=true --fmad=false \
  -I "$root/native/src" "$@" -cubin -o "$tmp/k.cubin" "$root/native/src/kernels/attention/attention.cu" 2>/dev/null
python3 - "$tmp/k.cubin" <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], 'rb').read())
b[8] = 7                                      # EI_ABIVERSION
struct.pack_into('<I', b, 0x30, 0x005a055a)   # e_flags: SM90, virtual SM90, 64-bit, unified texmode (old layout)
open(sys.argv[1], 'wb').write(b)
PY
"$nvdisasm" -c "$tmp/k.cubin" > "$tmp/k.sass"
python3 - "$tmp/k.sass" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().split('\n')
start = next(i for i, l in enumerate(lines) if l.startswith('//---') and 'attentionKernelILb1ELb0E' in l)
end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith('//---')), len(lines))
prev, seq = None, []
count = {'WGMMA (gaps)': 0, 'DEPBAR': 0, 'ARRIVE': 0, 'MUFU.EX2': 0}
for l in lines[start:end]:
    m = re.match(r'\s*/\*([0-9a-f]{4,})\*/\s+(.*)', l)
    if not m:
        continue
    a, ins = int(m.group(1), 16), m.group(2)
    if prev is not None and a - prev > 0x10:
        n = (a - prev) // 0x10 - 1
        count['WGMMA (gaps)'] += n
        seq += ['G'] * n
    prev = a
    for key, mark in (('WARPGROUP.DEPBAR', 'W'), ('WARPGROUP.ARRIVE', 'A'), ('MUFU.EX2', 'e')):
        if key in ins:
            count[key.split('.')[-1] if key != 'MUFU.EX2' else key] += 1
            seq.append(mark)
print('attentionKernel<1, 0>:', ', '.join(f'{v} {k}' for k, v in count.items()))
print(re.sub('e+', lambda m: f'[{len(m.group(0))} ex2]', ''.join(seq)))
PY
