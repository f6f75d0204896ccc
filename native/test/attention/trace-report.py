#!/usr/bin/env python3
"""Summarises a timeline trace written by a -DFPSATTN_ATTN_TRACE=1 harness (`--trace PREFIX`; layout in
native/src/kernels/attention/trace.cuh). Usage: trace-report.py FILE.bin [CTAS]   (CTAS: CTAs launched; default:
every slot with an SM id and times)."""
import struct
import sys
from statistics import median

K_CTAS, K_SAMPLED, K_ITERS = 16384, 256, 160
EVERY = 64


def load(path):
    raw = open(path, 'rb').read()
    n = len(raw) // 8
    vals = struct.unpack('<%dQ' % n, raw)
    cta = [vals[i * 8:(i + 1) * 8] for i in range(K_CTAS)]
    it = vals[K_CTAS * 8:]

    def iter_ev(s, wg, i, e):
        return it[((s * 2 + wg) * K_ITERS + i) * 4 + e]
    return cta, iter_ev


def q(xs):
    xs = sorted(xs)
    if not xs:
        return 'n/a'
    return 'p10 %.0f  median %.0f  p90 %.0f' % (xs[len(xs) // 10], median(xs), xs[(len(xs) * 9) // 10])


def main():
    path = sys.argv[1]
    cta, ev = load(path)
    ctas = int(sys.argv[2]) if len(sys.argv) > 2 else sum(1 for r in cta if r[1] and r[4])
    rows = [(i, r) for i, r in enumerate(cta[:ctas]) if r[1] and r[4]]
    t0 = min(r[1] for _, r in rows)
    t1 = max(r[4] for _, r in rows)
    print('file %s: %d CTAs traced, kernel span %.3f ms' % (path, len(rows), (t1 - t0) / 1e6))
    ghz = median([(r[6] - r[5]) / (r[4] - r[1]) for _, r in rows if r[4] > r[1]])
    print('SM clock from clock64/globaltimer: %.3f GHz' % ghz)
    print('CTA (us): total %s' % q([(r[4] - r[1]) / 1e3 for _, r in rows]))
    print('  entry -> first S ready (prologue): %s' % q([(r[2] - r[1]) / 1e3 for _, r in rows]))
    print('  loop end -> output stored (epilogue): %s' % q([(r[4] - r[3]) / 1e3 for _, r in rows]))
    by_sm = {}
    for i, r in rows:
        by_sm.setdefault(r[0], []).append(r)
    gaps = []
    for sm, rs in by_sm.items():
        rs.sort(key=lambda r: r[1])
        for a, b in zip(rs, rs[1:]):
            gaps.append((b[1] - a[4]) / 1e3)
    print('  gap between a CTA\'s store and the next CTA\'s entry on the same SM (us): %s' % q(gaps))
    per_sm_busy = [sum(r[4] - r[1] for r in rs) for rs in by_sm.values()]
    print('  SMs used %d; CTA-time share of the span per SM: median %.3f' % (len(by_sm), median(per_sm_busy) / (t1 - t0)))
    # Iterations (cycles).
    soft, full, pair, period, phase, inph = [], [], [], [], [], []
    for s in range(K_SAMPLED):
        if ev(s, 0, 0, 0) == 0:
            continue
        n = 0
        while n < K_ITERS and ev(s, 0, n, 3) != 0 and ev(s, 1, n, 3) != 0:
            n += 1
        for wg in (0, 1):
            for i in range(4, n - 1):
                e = [ev(s, wg, i, k) for k in range(4)]
                soft.append(e[1] - e[0])
                full.append(e[2] - e[1])
                pair.append(e[3] - e[2])
                period.append(ev(s, wg, i + 1, 0) - e[0])
        for i in range(4, n - 1):
            per = ev(s, 0, i + 1, 0) - ev(s, 0, i, 0)
            d = (ev(s, 1, i, 0) - ev(s, 0, i, 0))
            phase.append(d / per if per else 0)
            # overlap of the two softmax intervals
            a0, a1 = ev(s, 0, i, 0), ev(s, 0, i, 1)
            b0, b1 = ev(s, 1, i, 0), ev(s, 1, i, 1)
            inph.append(max(0, min(a1, b1) - max(a0, b0)) / max(1, a1 - a0))
        if s < 3:
            print('sample CTA %d (blockIdx %d), first 12 blocks, cycles from block 0 (wg0 | wg1: S ready, soft done, '
                  'full passed, pair retired):' % (s, s * EVERY))
            base = ev(s, 0, 0, 0)
            for i in range(min(12, n)):
                print('  %3d  ' % i + ' '.join('%7d' % (ev(s, 0, i, k) - base) for k in range(4)) + '  |  ' +
                      ' '.join('%7d' % (ev(s, 1, i, k) - base) for k in range(4)))
    print('per block and warpgroup (cycles): softmax %s' % q(soft))
    print('  full-barrier wait %s' % q(full))
    print('  issue -> pair retired %s' % q(pair))
    print('  period %s' % q(period))
    print('  wg1 start - wg0 start, as a share of the period: %s' % q([100 * x for x in phase]))
    print('  overlap of the two softmaxes, %% of wg0\'s: %s' % q([100 * x for x in inph]))


if __name__ == '__main__':
    main()
