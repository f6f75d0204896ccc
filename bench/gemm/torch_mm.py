#!/usr/bin/env python3
"""PyTorch baseline for the gemm benchmark: torch.mm / F.linear / torch._scaled_mm at the Wan2.1 DiT's linear shapes.

Same shapes (bench/gemm/shapes.json), same data layout (x [M, K] row-major, w [N, K] as nn.Linear stores it, so
x @ w.t() is cuBLAS's TN case, like ours) and the same timing as gemm-bench.mjs: warm-up, then --reps calls back to
back with a CUDA event recorded between consecutive calls, median. Inputs are random (never zeros), BF16.
Variants (keys model/res/layer/variant):
  mm         torch.mm(x, w.t(), out=y)                                     no bias
  linear     F.linear(x, w, b), then F.gelu(approximate='tanh') for FFN up  what Wan's PyTorch code runs
  linear-lt  torch._addmm_activation(b, x, w.t(), use_gelu=True)           cuBLASLt's fused GELU epilogue (FFN up)
  fp8        torch._scaled_mm(x8, w8.t(), scales, bias, BF16 out), then F.gelu for FFN up
Prints a table and writes JSON (--out) that gemm-bench.mjs reads with --torch.
Usage: python3 bench/gemm/torch_mm.py [--reps 20] [--out torch_mm.json] [--models 1.3b,14b] [--res 480p,720p]
"""
import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


def time_ms(fn, reps, warmup=3):
    """Median of `reps` back-to-back calls, an event recorded between consecutive calls (as gemm-bench.mjs does)."""
    for _ in range(warmup):
        fn()
    events = [torch.cuda.Event(enable_timing=True) for _ in range(reps + 1)]
    events[0].record()
    for i in range(reps):
        fn()
        events[i + 1].record()
    events[-1].synchronize()
    ms = sorted(events[i].elapsed_time(events[i + 1]) for i in range(reps))
    return ms[reps // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--out")
    ap.add_argument("--models", default="1.3b,14b")
    ap.add_argument("--res", default="480p,720p")
    args = ap.parse_args()
    with open(os.path.join(HERE, "shapes.json")) as f:
        spec = json.load(f)
    dev = torch.device("cuda")
    # The TF32/reduced-precision switches do not touch BF16 GEMMs; state them so the run is reproducible.
    info = {
        "device": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "allow_bf16_reduced_precision_reduction": torch.backends.cuda.matmul.allow_bf16_reduced_precision_reduction,
    }
    print(f"torch_mm: {info}", flush=True)
    results = {}
    has_act = hasattr(torch, "_addmm_activation")
    for model in args.models.split(","):
        dims = spec["models"][model]
        for res in args.res.split(","):
            m = spec["batch"] * spec["resolutions"][res]
            for layer in spec["layers"]:
                n, k = dims[layer["n"]], dims[layer["k"]]
                gelu = layer["activation"] == "gelu"
                flops = 2.0 * m * n * k
                x = torch.randn(m, k, device=dev, dtype=torch.bfloat16)
                w = torch.randn(n, k, device=dev, dtype=torch.bfloat16) * (k ** -0.5)
                b = torch.randn(n, device=dev, dtype=torch.bfloat16)
                y = torch.empty(m, n, device=dev, dtype=torch.bfloat16)
                wt = w.t()

                def record(variant, fn, impl):
                    key = f"{model}/{res}/{layer['name']}/{variant}"
                    try:
                        ms = time_ms(fn, args.reps)
                    except Exception as e:  # noqa: BLE001 - report and go on (e.g. an FP8 path this build lacks)
                        print(f"{key:32s} failed: {e}", flush=True)
                        return
                    results[key] = {"ms": ms, "tflops": flops / ms / 1e9, "m": m, "n": n, "k": k, "impl": impl}
                    print(f"{key:32s} M {m:6d} N {n:5d} K {k:5d}  {ms:8.3f} ms  {flops / ms / 1e9:6.1f} TFLOP/s  ({impl})", flush=True)

                record("mm", lambda: torch.mm(x, wt, out=y), "torch.mm(x, w.t(), out=y)")
                if gelu:
                    record("linear", lambda: F.gelu(F.linear(x, w, b), approximate="tanh"), "F.gelu(F.linear(x, w, b), 'tanh')")
                    if has_act:
                        record("linear-lt", lambda: torch._addmm_activation(b, x, wt, use_gelu=True), "torch._addmm_activation(use_gelu)")
                else:
                    record("linear", lambda: F.linear(x, w, b), "F.linear(x, w, b)")
                try:
                    x8 = x.to(torch.float8_e4m3fn)
                    w8 = w.mul(16).to(torch.float8_e4m3fn)
                    sa = torch.tensor(1.0, device=dev)
                    sb = torch.tensor(1.0 / 16, device=dev)
                    w8t = w8.t()
                    if gelu:
                        fn8 = lambda: F.gelu(torch._scaled_mm(x8, w8t, scale_a=sa, scale_b=sb, bias=b, out_dtype=torch.bfloat16), approximate="tanh")  # noqa: E731
                    else:
                        fn8 = lambda: torch._scaled_mm(x8, w8t, scale_a=sa, scale_b=sb, bias=b, out_dtype=torch.bfloat16)  # noqa: E731
                    record("fp8", fn8, "torch._scaled_mm(bias)" + (" + F.gelu" if gelu else ""))
                    del x8, w8, w8t
                except Exception as e:  # noqa: BLE001
                    print(f"{model}/{res}/{layer['name']}/fp8 failed: {e}", flush=True)
                del x, w, b, y, wt
                torch.cuda.empty_cache()
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"info": info, "reps": args.reps, "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
