#!/usr/bin/env python3
"""Opcode histogram of each attention kernel in a cuobjdump --dump-sass listing (stdin): which instructions the
softmax spends its issue slots on. Usage: cuobjdump --dump-sass BIN | python3 sass-histogram.py [--top N]"""
import collections
import re
import sys

top = int(sys.argv[sys.argv.index("--top") + 1]) if "--top" in sys.argv else 40
funcs = collections.OrderedDict()
name = None
for line in sys.stdin:
    m = re.search(r"Function : (\S+)", line)
    if m:
        name = m.group(1)
        funcs[name] = collections.Counter()
        continue
    m = re.match(r"\s+/\*[0-9a-f]{4,}\*/\s+(@!?U?P\w+\s+)?([A-Z][A-Z0-9_]*)(\.[A-Z0-9_.]+)?", line)
    if name and m:
        funcs[name][m.group(2) + (m.group(3) or "")] += 1
for name, c in funcs.items():
    if "attentionKernel" not in name:
        continue
    print(f"== {name}  total {sum(c.values())}")
    print("   " + "  ".join(f"{k}:{v}" for k, v in c.most_common(top)))
