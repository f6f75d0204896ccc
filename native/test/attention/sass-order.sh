#!/usr/bin/env bash
# Prints the order of WGMMA issue/wait, exponentials and stage releases in the FP8 kernel's SASS (device machine:
# needs cuobjdump). Used to check that the P V wait stays below the softmax exponentials (intra-warpgroup overlap).
bin="${1:-.gpu/attention_harness}"
cuobjdump -sass "$bin" | awk '/Function : .*attentionKernelILb1E/{f=1;next} /Function :/{f=0} f' |
  grep -oE "QGMMA|WARPGROUP\.DEPBAR[^;]*|MUFU\.EX2|SYNCS\.ARRIVE[^ ]*|SYNCS\.PHASECHK[^ ]*|BAR\.[A-Z]*|MEMBAR[^ ;]*" |
  uniq -c | head -60
