# One Wan-1.3B 720p self-attention layer with PyTorch SDPA (B1 H12 S75600 D128 BF16, dense, non-causal):
# the reference time for the allocator budget (1,000 alloc/free cycles < 1% of one layer). Prints JSON.
import json
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

B, H, S, D = 1, 12, 75600, 128
flops = 4.0 * B * H * S * S * D
torch.manual_seed(0)
q, k, v = (torch.randn(B, H, S, D, device="cuda", dtype=torch.bfloat16) for _ in range(3))
out = {"shape": [B, H, S, D], "flops": flops, "device": torch.cuda.get_device_name(0), "torch": torch.__version__}
for name, backend in (("cudnn", SDPBackend.CUDNN_ATTENTION), ("flash2", SDPBackend.FLASH_ATTENTION)):
    try:
        with sdpa_kernel([backend]):
            for _ in range(2):
                torch.nn.functional.scaled_dot_product_attention(q, k, v)
            torch.cuda.synchronize()
            times = []
            for _ in range(5):
                s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                s.record()
                torch.nn.functional.scaled_dot_product_attention(q, k, v)
                e.record()
                e.synchronize()
                times.append(s.elapsed_time(e))
        times.sort()
        ms = times[len(times) // 2]
        out[name] = {"median_ms": ms, "tflops": flops / ms / 1e9, "times_ms": times}
    except Exception as exc:  # a backend may be unavailable
        out[name] = {"error": str(exc)[:300]}
print(json.dumps(out))
