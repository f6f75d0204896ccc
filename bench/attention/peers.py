#!/usr/bin/env python3
"""Peer baselines for the fused attention kernel, on the same card in the same run (issue 8).

SDPA cuDNN and FlashAttention-2 backends (BF16 dense) at Wan 480p/720p shapes (B=1, H=12, D=128; 720p also with
B=2 and with H=40, the 14B model), FlexAttention BF16
with the same clamped-window block lists as the harness's sparse case (BlockMask.from_kv_blocks, 128-row blocks),
and torch._scaled_mm 8192^3 FP8 as the card's FP8 matrix ceiling. Prints one PEER line per figure.
Usage: python3 bench/attention/peers.py [--no-flex] [--no-gemm] [--shapes 480p,720p,720p-b2,14b-720p] [--reps N]
"""
import argparse
import math
import sys
import time

import torch
import torch.nn.functional as F


def bench(fn, reps):
    for _ in range(2):
        fn()
    torch.cuda.synchronize()
    ts = []
    for _ in range(reps):
        a = torch.cuda.Event(enable_timing=True)
        b = torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        ts.append(a.elapsed_time(b))
    ts.sort()
    return ts[len(ts) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-flex", action="store_true")
    ap.add_argument("--no-gemm", action="store_true", help="skip the FP8/BF16 GEMM ceilings")
    ap.add_argument("--shapes", default="480p,720p,720p-b2,14b-720p", help="SDPA shapes (comma list)")
    ap.add_argument("--reps", type=int, default=10)
    args = ap.parse_args()
    dev = torch.device("cuda")
    print(f"PEER device {torch.cuda.get_device_name(0)} torch {torch.__version__}", flush=True)
    from torch.nn.attention import SDPBackend, sdpa_kernel

    if not args.no_gemm:  # the FP8 GEMM ceiling (and BF16)
        try:
            n = 8192
            a = torch.randn(n, n, device=dev).to(torch.float8_e4m3fn)
            b = torch.randn(n, n, device=dev).to(torch.float8_e4m3fn).t()
            one = torch.tensor(1.0, device=dev)
            ms = bench(lambda: torch._scaled_mm(a, b, scale_a=one, scale_b=one, out_dtype=torch.bfloat16), args.reps * 2)
            print(f"PEER scaled_mm fp8 8192^3 {ms:.3f} ms {2 * n ** 3 / ms / 1e9:.1f} TFLOP/s", flush=True)
            a16 = torch.randn(n, n, device=dev, dtype=torch.bfloat16)
            b16 = torch.randn(n, n, device=dev, dtype=torch.bfloat16)
            ms = bench(lambda: a16 @ b16, args.reps * 2)
            print(f"PEER mm bf16 8192^3 {ms:.3f} ms {2 * n ** 3 / ms / 1e9:.1f} TFLOP/s", flush=True)
            del a, b, a16, b16
        except Exception as e:  # noqa: BLE001
            print(f"PEER scaled_mm failed: {e}", flush=True)

    # The harness's shapes: Wan-1.3B 480p / 720p (12 heads), 720p with batch 2 (CFG), Wan-14B 720p (40 heads).
    for name, B, H, S in (("480p", 1, 12, 32760), ("720p", 1, 12, 75600), ("720p-b2", 2, 12, 75600), ("14b-720p", 1, 40, 75600)):
        if name not in args.shapes.split(","):
            continue
        D = 128
        q = torch.randn(B, H, S, D, device=dev, dtype=torch.bfloat16)
        k = torch.randn(B, H, S, D, device=dev, dtype=torch.bfloat16)
        v = torch.randn(B, H, S, D, device=dev, dtype=torch.bfloat16)
        flops = 4 * D * S * S * H * B
        for bname, backend in (("cudnn", SDPBackend.CUDNN_ATTENTION), ("flash2", SDPBackend.FLASH_ATTENTION)):
            try:
                with sdpa_kernel(backend):
                    ms = bench(lambda: F.scaled_dot_product_attention(q, k, v), args.reps)
                print(f"PEER sdpa-{bname} {name} dense bf16 {ms:.3f} ms {flops / ms / 1e9:.1f} TFLOP/s", flush=True)
            except Exception as e:  # noqa: BLE001
                print(f"PEER sdpa-{bname} {name} failed: {e}", flush=True)
        del q, k, v
        torch.cuda.empty_cache()

    if args.no_flex:
        return
    try:
        from torch.nn.attention.flex_attention import BlockMask, flex_attention

        flex = torch.compile(flex_attention, dynamic=False)
        for name, S_real in (("720p", 75600),):
            H, D = 12, 128
            nb = math.ceil(S_real / 128)
            S = nb * 128
            w = round(0.2 * nb)
            idx = torch.zeros(nb, nb, dtype=torch.int32)
            for qb in range(nb):
                start = max(0, min(qb - w // 2, nb - w))
                idx[qb, :w] = torch.arange(start, start + w, dtype=torch.int32)
            kv_num = torch.full((1, 1, nb), w, dtype=torch.int32, device=dev)
            kv_idx = idx.view(1, 1, nb, nb).to(dev)
            bm = BlockMask.from_kv_blocks(kv_num, kv_idx, BLOCK_SIZE=128)
            q = torch.randn(1, H, S, D, device=dev, dtype=torch.bfloat16)
            k = torch.randn(1, H, S, D, device=dev, dtype=torch.bfloat16)
            v = torch.randn(1, H, S, D, device=dev, dtype=torch.bfloat16)
            t0 = time.time()
            flex(q, k, v, block_mask=bm)
            torch.cuda.synchronize()
            ms = bench(lambda: flex(q, k, v, block_mask=bm), args.reps)
            pairs = nb * w * 128 * 128 * H  # executed (padded) pairs; harness counts real pairs
            print(f"PEER flex {name} window{w}/{nb} bf16 {ms:.3f} ms {4 * D * pairs / ms / 1e9:.1f} TFLOP/s(executed)"
                  f" compile+first {time.time() - t0:.1f}s", flush=True)
    except Exception as e:  # noqa: BLE001
        print(f"PEER flex failed: {type(e).__name__}: {e}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
