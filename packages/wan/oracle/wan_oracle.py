#!/usr/bin/env python3
"""Float64 numpy oracle of the original Wan2.1 T2V DiT forward (`WanModel`, not diffusers).

Written from ../../../../shared/reference/wan21-architecture.md, sections 1.1-1.7, 3.2 and 9
(section numbers are quoted in the comments). Everything is float64; the only float32 step is the
rounding of the synthetic weights and inputs, which are then used as float64 values. The golden is
the math, not the bf16/fp32 rounding of the reference run (section 1.7).

Run `python3 wan_oracle.py --help` for the CLI; README.md next to this file says how the fixtures
in packages/wan/src/model/fixtures/ are regenerated.
"""

from __future__ import annotations

import argparse
import json
import math
import struct
import sys
from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

import numpy as np

# ----------------------------------------------------------------------------- config


@dataclass(frozen=True)
class WanConfig:
    dim: int
    ffn_dim: int
    num_heads: int
    num_layers: int
    freq_dim: int = 256
    in_dim: int = 16
    out_dim: int = 16
    text_dim: int = 4096
    text_len: int = 512
    patch_size: Tuple[int, int, int] = (1, 2, 2)
    eps: float = 1e-6

    @property
    def head_dim(self) -> int:
        return self.dim // self.num_heads

    def to_json(self) -> dict:
        return {
            "dim": self.dim,
            "ffnDim": self.ffn_dim,
            "numHeads": self.num_heads,
            "numLayers": self.num_layers,
            "freqDim": self.freq_dim,
            "inDim": self.in_dim,
            "outDim": self.out_dim,
            "textDim": self.text_dim,
            "textLen": self.text_len,
            "patchSize": list(self.patch_size),
            "eps": self.eps,
        }


CONFIGS: Dict[str, WanConfig] = {
    # Tiny test config (head_dim 128, so the real RoPE split 22/21/21 of section 1.3 is exercised).
    "wan-tiny": WanConfig(dim=256, ffn_dim=512, num_heads=2, num_layers=2, freq_dim=256,
                          in_dim=16, out_dim=16, text_dim=32, text_len=16),
    # Section 2 (only used for the key list / parameter count checks).
    "wan-1.3b": WanConfig(dim=1536, ffn_dim=8960, num_heads=12, num_layers=30),
    "wan-14b": WanConfig(dim=5120, ffn_dim=13824, num_heads=40, num_layers=40),
}


def key_shapes(cfg: WanConfig) -> List[Tuple[str, Tuple[int, ...]]]:
    """Original state-dict keys and shapes (section 3.2), in the order listed there."""
    d, pt, ph, pw = cfg.dim, *cfg.patch_size
    out = [
        ("patch_embedding.weight", (d, cfg.in_dim, pt, ph, pw)),
        ("patch_embedding.bias", (d,)),
        ("text_embedding.0.weight", (d, cfg.text_dim)),
        ("text_embedding.0.bias", (d,)),
        ("text_embedding.2.weight", (d, d)),
        ("text_embedding.2.bias", (d,)),
        ("time_embedding.0.weight", (d, cfg.freq_dim)),
        ("time_embedding.0.bias", (d,)),
        ("time_embedding.2.weight", (d, d)),
        ("time_embedding.2.bias", (d,)),
        ("time_projection.1.weight", (6 * d, d)),
        ("time_projection.1.bias", (6 * d,)),
    ]
    for i in range(cfg.num_layers):
        p = f"blocks.{i}."
        out.append((p + "modulation", (1, 6, d)))
        for attn in ("self_attn", "cross_attn"):
            for lin in ("q", "k", "v", "o"):
                out.append((f"{p}{attn}.{lin}.weight", (d, d)))
                out.append((f"{p}{attn}.{lin}.bias", (d,)))
            out.append((f"{p}{attn}.norm_q.weight", (d,)))
            out.append((f"{p}{attn}.norm_k.weight", (d,)))
            if attn == "self_attn":
                out.append((p + "norm3.weight", (d,)))
                out.append((p + "norm3.bias", (d,)))
        out.append((p + "ffn.0.weight", (cfg.ffn_dim, d)))
        out.append((p + "ffn.0.bias", (cfg.ffn_dim,)))
        out.append((p + "ffn.2.weight", (d, cfg.ffn_dim)))
        out.append((p + "ffn.2.bias", (d,)))
    out += [
        ("head.modulation", (1, 2, d)),
        ("head.head.weight", (cfg.out_dim * pt * ph * pw, d)),
        ("head.head.bias", (cfg.out_dim * pt * ph * pw,)),
    ]
    return out


# ----------------------------------------------------------------------------- generator

MASK64 = (1 << 64) - 1
GOLDEN64 = 0x9E3779B97F4A7C15
_U64 = np.uint64


def splitmix64_np(x: np.ndarray) -> np.ndarray:
    """splitmix64 on a uint64 array (numpy uint64 arithmetic wraps mod 2^64)."""
    z = x + _U64(GOLDEN64)
    z = (z ^ (z >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> _U64(27))) * _U64(0x94D049BB133111EB)
    return z ^ (z >> _U64(31))


def fnv1a64(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & MASK64
    return h


def tensor_base(name: str, seed: int) -> int:
    return fnv1a64(name.encode("utf-8")) ^ ((seed * GOLDEN64) & MASK64)


def uniform_pm1(name: str, n: int, seed: int) -> np.ndarray:
    """v_i = 2*u_i - 1, u_i = (splitmix64(base + i) >> 40) / 2^24, i = 0..n-1 (float64, exact)."""
    base = tensor_base(name, seed)
    with np.errstate(over="ignore"):
        idx = np.arange(n, dtype=np.uint64) + _U64(base)  # wraps mod 2^64
        z = splitmix64_np(idx)
    u = (z >> _U64(40)).astype(np.float64) / float(1 << 24)
    return 2.0 * u - 1.0


def synthetic_tensor(name: str, shape: Sequence[int], cfg: WanConfig, seed: int) -> np.ndarray:
    """Deterministic synthetic weight, rounded to float32 and returned as float64 (row-major)."""
    n = int(np.prod(shape))
    v = uniform_pm1(name, n, seed)
    if len(shape) == 1 and name.endswith(("norm_q.weight", "norm_k.weight", "norm3.weight")):
        val = 1.0 + 0.1 * v
    elif len(shape) == 1:
        val = 0.02 * v
    elif name.endswith("modulation"):
        val = v / math.sqrt(cfg.dim)
    else:
        val = v / math.sqrt(int(np.prod(shape[1:])))
    return val.astype(np.float32).astype(np.float64).reshape(tuple(shape))


def make_weights(cfg: WanConfig, seed: int) -> Dict[str, np.ndarray]:
    return {name: synthetic_tensor(name, shape, cfg, seed) for name, shape in key_shapes(cfg)}


def make_inputs(cfg: WanConfig, seed: int, latent_shape: Sequence[int],
                context_length: int) -> Tuple[np.ndarray, np.ndarray]:
    """`input.latents` [in_dim, F, H, W] and `input.context` [L, text_dim] (unpadded), float32-rounded."""
    if len(latent_shape) != 4 or latent_shape[0] != cfg.in_dim:
        raise ValueError(f"latent shape must be [{cfg.in_dim}, F, H, W], got {list(latent_shape)}")
    if not 1 <= context_length <= cfg.text_len:
        raise ValueError(f"context length must be in 1..{cfg.text_len}, got {context_length}")
    lat = uniform_pm1("input.latents", int(np.prod(latent_shape)), seed)
    ctx = uniform_pm1("input.context", context_length * cfg.text_dim, seed)
    lat = lat.astype(np.float32).astype(np.float64).reshape(tuple(latent_shape))
    ctx = ctx.astype(np.float32).astype(np.float64).reshape(context_length, cfg.text_dim)
    return lat, ctx


# ----------------------------------------------------------------------------- primitives


def linear(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """PyTorch Linear, weight [out, in]."""
    return x @ w.T + b


def silu(x: np.ndarray) -> np.ndarray:
    return x / (1.0 + np.exp(-x))


def gelu_tanh(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def layer_norm(x: np.ndarray, eps: float, weight=None, bias=None) -> np.ndarray:
    """Standard LayerNorm over the last axis, biased variance (section 1.1)."""
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    y = (x - mu) / np.sqrt(var + eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


def rms_norm(x: np.ndarray, weight: np.ndarray, eps: float) -> np.ndarray:
    """WanRMSNorm over the last axis (the FULL dim for q/k, section 1.1)."""
    return x / np.sqrt((x * x).mean(axis=-1, keepdims=True) + eps) * weight


def softmax(s: np.ndarray, axis: int = -1) -> np.ndarray:
    m = s.max(axis=axis, keepdims=True)
    p = np.exp(s - m)
    return p / p.sum(axis=axis, keepdims=True)


def attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, num_heads: int) -> np.ndarray:
    """Non-causal softmax attention, no mask. q [Lq, dim], k/v [Lk, dim] -> [Lq, dim].

    Head h owns columns h*d..(h+1)*d-1 (`view(b, s, n, d)`), scale 1/sqrt(d)."""
    lq, dim = q.shape
    d = dim // num_heads
    qh = q.reshape(lq, num_heads, d).transpose(1, 0, 2)
    kh = k.reshape(k.shape[0], num_heads, d).transpose(1, 0, 2)
    vh = v.reshape(v.shape[0], num_heads, d).transpose(1, 0, 2)
    p = softmax(qh @ kh.transpose(0, 2, 1) / math.sqrt(d), axis=-1)
    return (p @ vh).transpose(1, 0, 2).reshape(lq, dim)


def sinusoid(freq_dim: int, t: float) -> np.ndarray:
    """Section 1.2: [cos(t*f_0..), sin(t*f_0..)], f_j = 10000^(-j/half)."""
    half = freq_dim // 2
    f = np.power(10000.0, -np.arange(half, dtype=np.float64) / half)
    arg = float(t) * f
    return np.concatenate([np.cos(arg), np.sin(arg)])


def rope_axis_dims(head_dim: int) -> Tuple[int, int, int]:
    """Per-axis table dims (section 1.3): d - 4*(d//6), 2*(d//6), 2*(d//6)."""
    d = head_dim
    return d - 4 * (d // 6), 2 * (d // 6), 2 * (d // 6)


def rope_pair_split(head_dim: int) -> Tuple[int, int, int]:
    """Pair split used by rope_apply (section 1.3): [c - 2*(c//3), c//3, c//3], c = d/2."""
    c = head_dim // 2
    return c - 2 * (c // 3), c // 3, c // 3


def rope_angles(grid: Tuple[int, int, int], head_dim: int) -> np.ndarray:
    """Angle of every pair j (0..d/2-1) for every token s = (f*H' + h)*W' + w: [N, d/2]."""
    ft, fh, fw = grid
    dt, dh, dw = rope_axis_dims(head_dim)
    nt, nh, nw = rope_pair_split(head_dim)
    assert (nt, nh, nw) == (dt // 2, dh // 2, dw // 2)

    def inv_freq(axis_dim: int) -> np.ndarray:  # rope_params: 1 / theta^(arange(0, dim, 2) / dim)
        return 1.0 / np.power(10000.0, np.arange(0, axis_dim, 2, dtype=np.float64) / axis_dim)

    f, h, w = np.meshgrid(np.arange(ft), np.arange(fh), np.arange(fw), indexing="ij")
    f, h, w = (a.reshape(-1, 1).astype(np.float64) for a in (f, h, w))
    return np.concatenate([f * inv_freq(dt), h * inv_freq(dh), w * inv_freq(dw)], axis=1)


def rope_apply(x: np.ndarray, angles: np.ndarray, num_heads: int) -> np.ndarray:
    """Rotate interleaved pairs (x[2j], x[2j+1]) of every head. x [N, dim], angles [N, d/2]."""
    n, dim = x.shape
    d = dim // num_heads
    xr = x.reshape(n, num_heads, d // 2, 2)
    x0, x1 = xr[..., 0], xr[..., 1]
    c = np.cos(angles)[:, None, :]
    s = np.sin(angles)[:, None, :]
    out = np.stack([x0 * c - x1 * s, x0 * s + x1 * c], axis=-1)
    return out.reshape(n, dim)


def patchify(latents: np.ndarray, w: np.ndarray, b: np.ndarray,
             patch: Tuple[int, int, int]) -> Tuple[np.ndarray, Tuple[int, int, int]]:
    """Conv3d with kernel = stride = patch (section 1.5): tokens [F'*H'*W', dim], row-major (f, h, w)."""
    c, fr, hh, ww = latents.shape
    pt, ph, pw = patch
    if fr % pt or hh % ph or ww % pw:
        raise ValueError(f"latent [*, {fr}, {hh}, {ww}] is not divisible by the patch {patch}")
    g = (fr // pt, hh // ph, ww // pw)
    x = latents.reshape(c, g[0], pt, g[1], ph, g[2], pw)
    x = x.transpose(1, 3, 5, 0, 2, 4, 6).reshape(g[0] * g[1] * g[2], c * pt * ph * pw)  # (c, p, q, r)
    return x @ w.reshape(w.shape[0], -1).T + b, g


def unpatchify(tokens: np.ndarray, grid: Tuple[int, int, int], patch: Tuple[int, int, int],
               out_dim: int) -> np.ndarray:
    """Section 1.5: view(F', H', W', pt, ph, pw, c); einsum 'fhwpqrc->cfphqwr'; reshape."""
    g0, g1, g2 = grid
    pt, ph, pw = patch
    u = tokens.reshape(g0, g1, g2, pt, ph, pw, out_dim)
    u = np.einsum("fhwpqrc->cfphqwr", u)
    return u.reshape(out_dim, g0 * pt, g1 * ph, g2 * pw)


# ----------------------------------------------------------------------------- forward


def block_forward(x: np.ndarray, wts: Dict[str, np.ndarray], i: int, e0: np.ndarray,
                  ctx: np.ndarray, angles: np.ndarray, cfg: WanConfig) -> np.ndarray:
    """One WanAttentionBlock (section 1.4), exact order. x [N, dim], e0 [6, dim], ctx [text_len, dim]."""
    p = f"blocks.{i}."
    W = lambda k: wts[p + k]  # noqa: E731
    e = W("modulation")[0] + e0  # [6, dim]
    shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp = e

    # 1) self-attention
    h = layer_norm(x, cfg.eps) * (1.0 + scale_msa) + shift_msa
    q = rms_norm(linear(h, W("self_attn.q.weight"), W("self_attn.q.bias")), W("self_attn.norm_q.weight"), cfg.eps)
    k = rms_norm(linear(h, W("self_attn.k.weight"), W("self_attn.k.bias")), W("self_attn.norm_k.weight"), cfg.eps)
    v = linear(h, W("self_attn.v.weight"), W("self_attn.v.bias"))
    q = rope_apply(q, angles, cfg.num_heads)
    k = rope_apply(k, angles, cfg.num_heads)
    a = attention(q, k, v, cfg.num_heads)  # seq_len == #tokens: no padded keys (section 1.6)
    y = linear(a, W("self_attn.o.weight"), W("self_attn.o.bias"))
    x = x + y * gate_msa

    # 2) cross-attention: norm3 affine, no modulation, no gate, no RoPE, no key mask
    h = layer_norm(x, cfg.eps, W("norm3.weight"), W("norm3.bias"))
    q = rms_norm(linear(h, W("cross_attn.q.weight"), W("cross_attn.q.bias")), W("cross_attn.norm_q.weight"), cfg.eps)
    k = rms_norm(linear(ctx, W("cross_attn.k.weight"), W("cross_attn.k.bias")), W("cross_attn.norm_k.weight"), cfg.eps)
    v = linear(ctx, W("cross_attn.v.weight"), W("cross_attn.v.bias"))
    a = attention(q, k, v, cfg.num_heads)  # all text_len slots attended (context_lens = None)
    x = x + linear(a, W("cross_attn.o.weight"), W("cross_attn.o.bias"))

    # 3) FFN
    h = layer_norm(x, cfg.eps) * (1.0 + scale_mlp) + shift_mlp
    y = linear(gelu_tanh(linear(h, W("ffn.0.weight"), W("ffn.0.bias"))), W("ffn.2.weight"), W("ffn.2.bias"))
    return x + y * gate_mlp


def forward(cfg: WanConfig, wts: Dict[str, np.ndarray], latents: np.ndarray, timestep: float,
            context: np.ndarray) -> Tuple[np.ndarray, Dict[str, np.ndarray]]:
    """Whole-model forward (section 1.6), batch 1.

    latents [in_dim, F, H, W]; timestep (integer-valued); context [L, text_dim] UNPADDED (L <= text_len).
    Returns (velocity [out_dim, F, H, W], intermediates)."""
    if context.shape[0] > cfg.text_len or context.shape[1] != cfg.text_dim:
        raise ValueError(f"context must be [<= {cfg.text_len}, {cfg.text_dim}], got {list(context.shape)}")
    inter: Dict[str, np.ndarray] = {}

    x, grid = patchify(latents, wts["patch_embedding.weight"], wts["patch_embedding.bias"], cfg.patch_size)
    inter["patchEmbedding"] = x

    # time: e = time_embedding(sinusoid(t)); e0 = time_projection(e) = Linear(SiLU(e)) -> [6, dim]
    s = sinusoid(cfg.freq_dim, timestep)
    e = linear(silu(linear(s, wts["time_embedding.0.weight"], wts["time_embedding.0.bias"])),
               wts["time_embedding.2.weight"], wts["time_embedding.2.bias"])
    e0 = linear(silu(e), wts["time_projection.1.weight"], wts["time_projection.1.bias"])
    inter["timeEmbedding"] = e
    inter["e0"] = e0
    e0 = e0.reshape(6, cfg.dim)

    # text: zero-pad to text_len BEFORE the MLP (padded rows become non-zero)
    padded = np.zeros((cfg.text_len, cfg.text_dim), dtype=np.float64)
    padded[: context.shape[0]] = context
    ctx = linear(gelu_tanh(linear(padded, wts["text_embedding.0.weight"], wts["text_embedding.0.bias"])),
                 wts["text_embedding.2.weight"], wts["text_embedding.2.bias"])
    inter["context"] = ctx

    angles = rope_angles(grid, cfg.head_dim)
    for i in range(cfg.num_layers):
        x = block_forward(x, wts, i, e0, ctx, angles, cfg)
        inter[f"block{i}"] = x
    inter["beforeHead"] = x

    # head: modulation + e (raw time embedding, no SiLU); chunk2 -> (shift, scale)
    shift, scale = wts["head.modulation"][0] + e
    out = linear(layer_norm(x, cfg.eps) * (1.0 + scale) + shift, wts["head.head.weight"], wts["head.head.bias"])
    inter["headOutput"] = out
    return unpatchify(out, grid, cfg.patch_size, cfg.out_dim), inter


# ----------------------------------------------------------------------------- output files


def _num(x: float) -> float:
    x = float(x)
    if not math.isfinite(x):
        raise ValueError("non-finite value in the oracle output")
    return x


def _first(a: np.ndarray, n: int = 16) -> List[float]:
    return [_num(v) for v in np.asarray(a).reshape(-1)[:n]]


GENERATOR_SAMPLES = (
    "patch_embedding.weight",
    "text_embedding.0.bias",
    "time_projection.1.weight",
    "blocks.0.modulation",
    "blocks.0.self_attn.norm_q.weight",
    "blocks.1.norm3.weight",
    "blocks.1.norm3.bias",
    "head.modulation",
    "head.head.weight",
)


def build_fixture(cfg: WanConfig, seed: int, latent_shape: Sequence[int], context_length: int,
                  timestep: int) -> dict:
    wts = make_weights(cfg, seed)
    lat, ctx = make_inputs(cfg, seed, latent_shape, context_length)
    out, inter = forward(cfg, wts, lat, timestep, ctx)
    return {
        "description": "Wan2.1 DiT forward, float64 numpy oracle (packages/wan/oracle/wan_oracle.py); "
                       "synthetic weights and inputs from the splitmix64/fnv1a64 generator in its README.",
        "config": cfg.to_json(),
        "seed": seed,
        "latentShape": list(latent_shape),
        "contextLength": context_length,
        "timestep": timestep,
        "output": {"shape": list(out.shape), "values": [_num(v) for v in out.reshape(-1)]},
        "checkpoints": {k: _first(inter[k]) for k in
                        ("patchEmbedding", "timeEmbedding", "e0", "context", "block0", "beforeHead")},
        # Extra (not part of the forward): first 8 float32-rounded values per tensor, to test the generator alone.
        "generatorSamples": {
            "input.latents": _first(lat, 8),
            "input.context": _first(ctx, 8),
            **{name: _first(wts[name], 8) for name in GENERATOR_SAMPLES if name in wts},
        },
    }


def dumps_fixture(obj: dict) -> str:
    """JSON with one key per line and long arrays on one line (numbers in repr precision)."""
    def enc(v, indent):
        pad = "  " * indent
        if isinstance(v, dict):
            items = [f'{pad}  {json.dumps(k)}: {enc(val, indent + 1)}' for k, val in v.items()]
            return "{\n" + ",\n".join(items) + "\n" + pad + "}"
        return json.dumps(v, separators=(", ", ": "), allow_nan=False)
    return enc(obj, 0) + "\n"


def write_safetensors(path: str, tensors: Dict[str, np.ndarray], metadata: Dict[str, str] | None = None) -> None:
    """Minimal F32 safetensors writer: u64 LE header length, JSON header (keys sorted), data in key order."""
    names = sorted(tensors)
    header: Dict[str, object] = {}
    if metadata:
        header["__metadata__"] = dict(sorted(metadata.items()))
    blobs = []
    off = 0
    for name in names:
        data = np.ascontiguousarray(tensors[name], dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    hj = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    hj += b" " * ((-len(hj)) % 8)  # pad the header with spaces to an 8-byte boundary
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hj)))
        f.write(hj)
        for b in blobs:
            f.write(b)


# ----------------------------------------------------------------------------- CLI


def _ints(s: str) -> List[int]:
    return [int(p) for p in s.split(",") if p.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="wan-tiny", choices=["wan-tiny"])
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--latent", type=_ints, default=[16, 3, 8, 8], help="C,F,H,W (default 16,3,8,8)")
    ap.add_argument("--context-length", type=int, default=7)
    ap.add_argument("--timestep", type=int, default=500)
    ap.add_argument("--out", help="write the golden fixture JSON here")
    ap.add_argument("--safetensors", help="write the synthetic checkpoint (F32, original key names) here")
    args = ap.parse_args(argv)
    if args.seed < 0:
        ap.error("--seed must be >= 0")
    cfg = CONFIGS[args.config]
    if not args.out and not args.safetensors:
        ap.error("nothing to do: give --out and/or --safetensors")
    if args.out:
        fx = build_fixture(cfg, args.seed, args.latent, args.context_length, args.timestep)
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(dumps_fixture(fx))
        print(f"wrote {args.out} (output {fx['output']['shape']})", file=sys.stderr)
    if args.safetensors:
        write_safetensors(args.safetensors, make_weights(cfg, args.seed),
                          {"format": "pt", "generator": "wan_oracle splitmix64/fnv1a64",
                           "config": args.config, "seed": str(args.seed)})
        print(f"wrote {args.safetensors}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
