#!/usr/bin/env python3
"""PyTorch oracle of Wan2.1's umT5-XXL text encoder (`T5Encoder` of `wan/modules/t5.py`, encoder only).

Written from shared/reference/wan21-architecture.md section 6.2 (structure, keys, shapes), 3.1 (the file users have)
and 1.7 (precision), with the reference's module and parameter names so that `state_dict()` has the checkpoint's keys:

    token_embedding.weight                         [vocab, dim]
    blocks.{i}.norm1.weight                        [dim]              T5LayerNorm before attention
    blocks.{i}.attn.{q,k,v}.weight                 [dimAttn, dim]     Linear, no bias
    blocks.{i}.attn.o.weight                       [dim, dimAttn]
    blocks.{i}.norm2.weight                        [dim]              T5LayerNorm before the feed-forward
    blocks.{i}.ffn.gate.0.weight                   [dimFfn, dim]      Sequential(Linear, GELU-tanh)
    blocks.{i}.ffn.fc1.weight                      [dimFfn, dim]
    blocks.{i}.ffn.fc2.weight                      [dim, dimFfn]
    blocks.{i}.pos_embedding.embedding.weight      [numBuckets, numHeads]   per-layer relative bias (shared_pos=False)
    norm.weight                                    [dim]              final T5LayerNorm

Forward (dropout is the identity at inference):
    x = token_embedding(ids)
    per block:  x = x + o(attn(norm1(x)))          logits = q.k (NO 1/sqrt(headDim)) + bias_i[h, bucket(j - i)],
                                                   padded keys masked with finfo(dtype).min, softmax in fp32
                x = x + fc2(fc1(norm2(x)) * gelu_tanh(gate(norm2(x))))
    x = norm(x)
    T5LayerNorm(x) = weight * (x * rsqrt(mean(x^2) + 1e-6))   statistics in fp32; cast to the weight's dtype first
                                                               when the weight is bf16/fp16
    relative bucket (bidirectional, 32 buckets, max distance 128): keys after the query get +16; n = |j - i|;
        n < 8: n; else min(15, 8 + trunc(log(n / 8) / log(128 / 8) * 8)), the log in float32 as torch computes it.
The encoder runs over the tokenizer's padded ids (text_len 512) with the attention mask; the caller keeps the first
`length` rows (`u[:seq_len]`, 6.2); the DiT zero-pads them back to text_len (1.6).

Dtypes (the fixtures hold all three runs): float64 and float32 run every op in that dtype (softmax and norm statistics
included: see `_stat_dtype`); bfloat16 is the reference's run (1.7): bf16 weights and activations, each op rounded
to bf16, fp32 GEMM accumulation, softmax and norm statistics, Python-float constants applied in fp32 as on CUDA
(`_times`).

Synthetic weights (deterministic, keyed by tensor name, the generator of wan_oracle.py / synthetic-weights.ts):
v_i in [-1, 1) from splitmix64(fnv1a64(name) ^ seed * golden + i), then
    1 + 0.1 v      1-D tensors (the three kinds of norm weights)
    v              token_embedding.weight, blocks.{i}.pos_embedding.embedding.weight
    v / sqrt(in)   every Linear weight [out, in]
each rounded to float32.

CLI (needs torch and numpy; /usr/bin/python3 on Debian): `--write-fixtures` (regenerates ../src/t5/fixtures/*.json),
`--check-fixtures` (exit 1 when the committed ones differ from a fresh run; the committed ones come from PyTorch
1.13 on the CPU, Debian's python3-torch), `--bench` (timing on a GPU: umT5-XXL widths,
random bf16 weights, `--bench-layers 24 --bench-lengths 512,128`), `--self-test` (checks
the key list against the module, the umT5-XXL parameter count 5,680,910,336, padded-vs-trimmed equality and the
bucket function against an exact integer formula).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from dataclasses import dataclass, replace
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wan_oracle import dumps_fixture, uniform_pm1  # noqa: E402  (the DiT oracle's generator and JSON writer)

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE_DIR = os.path.join(HERE, "..", "src", "t5", "fixtures")

# ----------------------------------------------------------------------------- config


@dataclass(frozen=True)
class Umt5Config:
    vocab_size: int
    dim: int
    dim_attn: int
    dim_ffn: int
    num_heads: int
    num_layers: int
    num_buckets: int = 32
    max_distance: int = 128
    eps: float = 1e-6
    text_len: int = 512

    @property
    def head_dim(self) -> int:
        return self.dim_attn // self.num_heads

    def to_json(self) -> dict:
        return {
            "vocabSize": self.vocab_size,
            "dim": self.dim,
            "dimAttn": self.dim_attn,
            "dimFfn": self.dim_ffn,
            "numHeads": self.num_heads,
            "numLayers": self.num_layers,
            "numBuckets": self.num_buckets,
            "maxDistance": self.max_distance,
            "eps": self.eps,
            "textLen": self.text_len,
        }


CONFIGS: Dict[str, Umt5Config] = {
    # Section 6.2: umt5_xxl, encoder only.
    "umt5-xxl": Umt5Config(vocab_size=256384, dim=4096, dim_attn=4096, dim_ffn=10240, num_heads=64, num_layers=24),
    # Tiny: dim = wan-tiny's textDim (32) and text_len = its textLen (16), so the two compose; dim_attn != dim and
    # dim_ffn not a multiple of dim, so a swapped shape cannot pass unnoticed.
    "umt5-tiny": Umt5Config(vocab_size=512, dim=32, dim_attn=64, dim_ffn=80, num_heads=4, num_layers=2, text_len=16),
}


def key_shapes(cfg: Umt5Config) -> List[Tuple[str, Tuple[int, ...]]]:
    """State-dict keys and shapes in the module's registration order (242 tensors for umT5-XXL)."""
    d, a, f = cfg.dim, cfg.dim_attn, cfg.dim_ffn
    out: List[Tuple[str, Tuple[int, ...]]] = [("token_embedding.weight", (cfg.vocab_size, d))]
    for i in range(cfg.num_layers):
        p = f"blocks.{i}."
        out += [
            (p + "norm1.weight", (d,)),
            (p + "attn.q.weight", (a, d)),
            (p + "attn.k.weight", (a, d)),
            (p + "attn.v.weight", (a, d)),
            (p + "attn.o.weight", (d, a)),
            (p + "norm2.weight", (d,)),
            (p + "ffn.gate.0.weight", (f, d)),
            (p + "ffn.fc1.weight", (f, d)),
            (p + "ffn.fc2.weight", (d, f)),
            (p + "pos_embedding.embedding.weight", (cfg.num_buckets, cfg.num_heads)),
        ]
    out.append(("norm.weight", (d,)))
    return out


# ----------------------------------------------------------------------------- synthetic weights


def synthetic_tensor(name: str, shape: Sequence[int], seed: int) -> np.ndarray:
    v = uniform_pm1(name, int(np.prod(shape)), seed)
    if len(shape) == 1:
        val = 1.0 + 0.1 * v
    elif name == "token_embedding.weight" or name.endswith("pos_embedding.embedding.weight"):
        val = v
    else:
        val = v / math.sqrt(int(shape[1]))
    return val.astype(np.float32).reshape(tuple(shape))


def make_weights(cfg: Umt5Config, seed: int) -> Dict[str, np.ndarray]:
    return {name: synthetic_tensor(name, shape, seed) for name, shape in key_shapes(cfg)}


# ----------------------------------------------------------------------------- model


def _stat_dtype(x: torch.Tensor) -> torch.dtype:
    """The reference computes softmax and norm statistics with `.float()`: fp32 for bf16/fp16/fp32, and we keep
    float64 in the float64 run (the math, not fp32 rounding)."""
    return torch.float64 if x.dtype == torch.float64 else torch.float32


def _times(c: float, t: torch.Tensor) -> torch.Tensor:
    """`c * t` for a Python float c as PyTorch on CUDA computes it (the reference's device): for a bf16/fp16 t in
    fp32 with c as an fp32 constant (opmath), rounded once. PyTorch 1.13 on the CPU rounds c to bf16 first."""
    if t.dtype in (torch.float16, torch.bfloat16):
        return (t.float() * c).to(t.dtype)
    return c * t


def gelu_tanh(x: torch.Tensor) -> torch.Tensor:
    """The reference's GELU: 0.5 * x * (1.0 + tanh(sqrt(2 / pi) * (x + 0.044715 * pow(x, 3.0)))), op by op (bf16:
    each op rounded; `pow(x, 3)` is (x * x) * x with the square rounded, on both devices)."""
    return 0.5 * x * (1.0 + torch.tanh(_times(math.sqrt(2.0 / math.pi), x + _times(0.044715, torch.pow(x, 3.0)))))


class GeluTanh(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return gelu_tanh(x)


class T5LayerNorm(nn.Module):
    """RMSNorm without mean subtraction and without bias."""

    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean_square = x.to(_stat_dtype(x)).pow(2).mean(dim=-1, keepdim=True)
        y = x * torch.rsqrt(mean_square + self.eps)  # promotes a bf16 x to fp32
        if self.weight.dtype in (torch.float16, torch.bfloat16):
            y = y.to(self.weight.dtype)
        return self.weight * y


def relative_position_bucket(rel: torch.Tensor, num_buckets: int, max_distance: int, bidirectional: bool) -> torch.Tensor:
    """Bucket of each relative position rel = key index - query index (section 6.2)."""
    if bidirectional:
        half = num_buckets // 2
        bucket = (rel > 0).long() * half
        n = rel.abs()
    else:
        half = num_buckets
        bucket = torch.zeros_like(rel)
        n = (-rel).clamp(min=0)
    exact = half // 2
    # float32 log as in the reference (rel_pos.float()); n < exact never reaches this value (log(0) = -inf).
    scaled = torch.log(n.float() / exact) / math.log(max_distance / exact) * (half - exact)
    large = (exact + scaled.long()).clamp(max=half - 1)
    return bucket + torch.where(n < exact, n, large)


class T5RelativeEmbedding(nn.Module):
    def __init__(self, num_buckets: int, num_heads: int, max_distance: int):
        super().__init__()
        self.num_buckets = num_buckets
        self.max_distance = max_distance
        self.embedding = nn.Embedding(num_buckets, num_heads)

    def forward(self, lq: int, lk: int) -> torch.Tensor:
        device = self.embedding.weight.device  # the buckets index the table where it lives (CUDA in --bench)
        rel = torch.arange(lk, device=device).unsqueeze(0) - torch.arange(lq, device=device).unsqueeze(1)  # [lq, lk], key - query
        buckets = relative_position_bucket(rel, self.num_buckets, self.max_distance, bidirectional=True)
        return self.embedding(buckets).permute(2, 0, 1).unsqueeze(0)  # [1, heads, lq, lk]


class T5Attention(nn.Module):
    def __init__(self, dim: int, dim_attn: int, num_heads: int):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim_attn // num_heads
        self.q = nn.Linear(dim, dim_attn, bias=False)
        self.k = nn.Linear(dim, dim_attn, bias=False)
        self.v = nn.Linear(dim, dim_attn, bias=False)
        self.o = nn.Linear(dim_attn, dim, bias=False)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None, pos_bias: torch.Tensor) -> torch.Tensor:
        b, length = x.shape[0], x.shape[1]
        n, c = self.num_heads, self.head_dim
        q = self.q(x).view(b, length, n, c)
        k = self.k(x).view(b, length, n, c)
        v = self.v(x).view(b, length, n, c)
        bias = x.new_zeros(b, n, length, length) + pos_bias
        if mask is not None:
            bias = bias.masked_fill(mask.view(b, 1, 1, length) == 0, torch.finfo(x.dtype).min)
        logits = torch.einsum("binc,bjnc->bnij", q, k) + bias  # no 1/sqrt(head_dim): T5 folds it into the weights
        probs = torch.softmax(logits.to(_stat_dtype(logits)), dim=-1).to(logits.dtype)
        out = torch.einsum("bnij,bjnc->binc", probs, v).reshape(b, length, n * c)
        return self.o(out)


class T5FeedForward(nn.Module):
    def __init__(self, dim: int, dim_ffn: int):
        super().__init__()
        self.gate = nn.Sequential(nn.Linear(dim, dim_ffn, bias=False), GeluTanh())
        self.fc1 = nn.Linear(dim, dim_ffn, bias=False)
        self.fc2 = nn.Linear(dim_ffn, dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.fc1(x) * self.gate(x))


class T5SelfAttentionBlock(nn.Module):
    def __init__(self, cfg: Umt5Config):
        super().__init__()
        self.norm1 = T5LayerNorm(cfg.dim, cfg.eps)
        self.attn = T5Attention(cfg.dim, cfg.dim_attn, cfg.num_heads)
        self.norm2 = T5LayerNorm(cfg.dim, cfg.eps)
        self.ffn = T5FeedForward(cfg.dim, cfg.dim_ffn)
        self.pos_embedding = T5RelativeEmbedding(cfg.num_buckets, cfg.num_heads, cfg.max_distance)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        bias = self.pos_embedding(x.shape[1], x.shape[1])
        x = x + self.attn(self.norm1(x), mask, bias)
        return x + self.ffn(self.norm2(x))


class T5Encoder(nn.Module):
    def __init__(self, cfg: Umt5Config):
        super().__init__()
        self.token_embedding = nn.Embedding(cfg.vocab_size, cfg.dim)
        self.blocks = nn.ModuleList([T5SelfAttentionBlock(cfg) for _ in range(cfg.num_layers)])
        self.norm = T5LayerNorm(cfg.dim, cfg.eps)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor | None = None, stages: Dict[str, torch.Tensor] | None = None) -> torch.Tensor:
        x = self.token_embedding(ids)
        if stages is not None:
            stages["embedding"] = x
        for i, block in enumerate(self.blocks):
            x = block(x, mask)
            if stages is not None:
                stages[f"blocks.{i}"] = x
        return self.norm(x)


def build_encoder(cfg: Umt5Config, weights: Dict[str, np.ndarray], dtype: torch.dtype) -> T5Encoder:
    model = T5Encoder(cfg)
    model.load_state_dict({name: torch.from_numpy(np.ascontiguousarray(w)) for name, w in weights.items()}, strict=True)
    return model.to(dtype).eval().requires_grad_(False)


def encode(model: T5Encoder, ids: Sequence[int], length: int, stages: Dict[str, torch.Tensor] | None = None) -> torch.Tensor:
    """The reference's T5EncoderModel.__call__ for one prompt: padded ids and mask in, the first `length` rows out."""
    ids_t = torch.tensor([list(ids)], dtype=torch.long)
    mask = torch.zeros_like(ids_t)
    mask[0, :length] = 1
    with torch.no_grad():
        out = model(ids_t, mask, stages)
    return out[0, :length]


# ----------------------------------------------------------------------------- fixtures


def token_ids(name: str, length: int, text_len: int, vocab: int, seed: int) -> List[int]:
    """`length` real ids (the last one `</s>` = 1, the others in [2, vocab)) then pad ids 0 up to text_len."""
    v = uniform_pm1(f"input.token_ids.{name}", length, seed)
    ids = [2 + int((x + 1.0) / 2.0 * (vocab - 2)) for x in v[: length - 1]] + [1]
    return ids + [0] * (text_len - length)


def _num(x: float) -> float:
    x = float(x)
    if not math.isfinite(x):
        raise ValueError("non-finite value in the oracle output")
    return x


def build_fixture(cfg: Umt5Config, cfg_name: str, seed: int, cases: Sequence[Tuple[str, int]], description: str) -> dict:
    weights = make_weights(cfg, seed)
    dtypes = (("float64", torch.float64), ("float32", torch.float32), ("bfloat16", torch.bfloat16))
    models = {name: build_encoder(cfg, weights, dtype) for name, dtype in dtypes}
    out_cases = []
    for case_name, length in cases:
        ids = token_ids(case_name, length, cfg.text_len, cfg.vocab_size, seed)
        entry: dict = {"name": case_name, "length": length, "tokenIds": ids}
        for prec, model in models.items():
            stages: Dict[str, torch.Tensor] = {}
            out = encode(model, ids, length, stages)
            flat = out.reshape(-1).to(torch.float64).numpy()
            # float32 values as their shortest float32 string (parses back to the same float32 after rounding).
            values = [_num(x) for x in flat.tolist()] if prec == "float64" else [_num(float(repr(x))) for x in flat]
            entry[prec] = {"shape": list(out.shape), "values": values}
            if prec == "float64":
                entry["stages"] = {k: [_num(x) for x in v[0, :length].reshape(-1)[:16].tolist()] for k, v in stages.items()}
        out_cases.append(entry)
    samples = [name for name, _ in key_shapes(cfg)][:12] + ["norm.weight"]
    return {
        "description": description,
        "config": cfg.to_json(),
        "configName": cfg_name,
        "seed": seed,
        "cases": out_cases,
        "generatorSamples": {name: [_num(x) for x in weights[name].reshape(-1)[:8].tolist()] for name in samples},
    }


def bucket_tables(lo: int, hi: int) -> dict:
    rel = torch.arange(lo, hi + 1)
    return {
        "description": "relative_position_bucket(key - query) as the reference's float32 torch code computes it, "
                       "32 buckets, max distance 128 (packages/wan/oracle/umt5_encoder.py)",
        "min": lo,
        "max": hi,
        "bidirectional": relative_position_bucket(rel, 32, 128, True).tolist(),
        "unidirectional": relative_position_bucket(rel, 32, 128, False).tolist(),
    }


FIXTURES = {
    "umt5-golden.json": ("umt5-tiny", None, [("full", 16), ("padded", 7), ("single", 1)]),
    # Past max distance 128: every bucket and the saturation at 15 / 31 are reached.
    "umt5-golden-long.json": ("umt5-tiny", 144, [("long", 140), ("medium", 37)]),
}


def fixture_texts(seed: int) -> Dict[str, str]:
    """File name -> JSON text of every fixture (what --write-fixtures writes and --check-fixtures compares)."""
    texts: Dict[str, str] = {}
    for file, (cfg_name, text_len, cases) in FIXTURES.items():
        cfg = CONFIGS[cfg_name] if text_len is None else replace(CONFIGS[cfg_name], text_len=text_len)
        desc = (f"umT5 encoder ({cfg_name}{'' if text_len is None else f', text_len {text_len}'}), PyTorch oracle "
                "packages/wan/oracle/umt5_encoder.py run in float64, float32 and bfloat16 (the reference's numerics: bf16 "
                "weights and activations, fp32 softmax and norm statistics) on padded ids with the mask; "
                "outputs trimmed to `length` rows; synthetic weights from the splitmix64/fnv1a64 generator")
        texts[file] = dumps_fixture(build_fixture(cfg, cfg_name, seed, cases, desc))
    texts["relative-position-buckets.json"] = dumps_fixture(bucket_tables(-600, 600))
    return texts


def write_fixtures(seed: int) -> None:
    os.makedirs(FIXTURE_DIR, exist_ok=True)
    for file, text in fixture_texts(seed).items():
        path = os.path.join(FIXTURE_DIR, file)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        print(f"wrote {os.path.relpath(path)}", file=sys.stderr)


def check_fixtures(seed: int) -> bool:
    """Whether the committed fixtures are what this oracle writes now (the bf16 runs may depend on the PyTorch build)."""
    ok = True
    for file, text in fixture_texts(seed).items():
        path = os.path.join(FIXTURE_DIR, file)
        same = os.path.exists(path) and open(path, encoding="utf-8").read() == text
        print(f"{'same' if same else 'DIFFERENT'}: {os.path.relpath(path)}", file=sys.stderr)
        ok = ok and same
    return ok


# ----------------------------------------------------------------------------- self-test


def exact_bucket(rel: int, num_buckets: int = 32, max_distance: int = 128) -> int:
    """Bidirectional bucket in integer arithmetic: 8 + max{j : n^2 >= 64 * 2^j} for n >= 8 (max distance 128 =
    8 * 16, so log(n / 8) / log(16) * 8 = 2 log2(n / 8))."""
    assert num_buckets == 32 and max_distance == 128
    base = 16 if rel > 0 else 0
    n = abs(rel)
    if n < 8:
        return base + n
    j = 0
    while j + 1 <= 7 and n * n >= 64 * 2 ** (j + 1):
        j += 1
    return base + 8 + j


def self_test() -> None:
    xxl = CONFIGS["umt5-xxl"]
    specs = key_shapes(xxl)
    assert len(specs) == 242, len(specs)
    assert sum(int(np.prod(s)) for _, s in specs) == 5_680_910_336
    tiny = CONFIGS["umt5-tiny"]
    model = T5Encoder(tiny)
    assert [(k, tuple(v.shape)) for k, v in model.state_dict().items()] == key_shapes(tiny)
    rel = torch.arange(-2000, 2001)
    got = relative_position_bucket(rel, 32, 128, True).tolist()
    assert got == [exact_bucket(r) for r in range(-2000, 2001)]
    # Trimming: the masked padded run equals the run on the real tokens alone (padded keys get exactly zero weight).
    m = build_encoder(tiny, make_weights(tiny, 7), torch.float64)
    ids = token_ids("self-test", 9, tiny.text_len, tiny.vocab_size, 7)
    padded = encode(m, ids, 9)
    with torch.no_grad():
        alone = m(torch.tensor([ids[:9]]))[0]
    assert torch.equal(padded, alone), (padded - alone).abs().max()
    # bf16 (the reference's run) stays close to float64.
    mb = build_encoder(tiny, make_weights(tiny, 7), torch.bfloat16)
    rel_l2 = float((encode(mb, ids, 9).double() - padded).norm() / padded.norm())
    assert rel_l2 < 2e-2, rel_l2
    print(f"self-test passed (bf16 vs float64 relative L2 {rel_l2:.2e})", file=sys.stderr)


# ----------------------------------------------------------------------------- timing (--bench)


def bench(layers: int, lengths: Sequence[int], reps: int) -> List[dict]:
    """umT5-XXL widths with `layers` blocks, random bf16 weights made on the GPU (PyTorch's default init), one prompt of
    each length (the real tokens only, full mask: the rows the device encoder computes), as the reference runs it:
    bf16 modules, fp32 softmax and norm statistics. The baseline of bench/umt5-encode.mjs."""
    if not torch.cuda.is_available():
        raise SystemExit("--bench needs a CUDA device")
    cfg = replace(CONFIGS["umt5-xxl"], num_layers=layers)
    torch.manual_seed(0)
    with torch.device("cuda"):  # float32 init on the GPU (23 GiB at 24 blocks), then bf16 as the checkpoint
        model = T5Encoder(cfg).to(torch.bfloat16).eval().requires_grad_(False)
    weights_gib = sum(p.numel() * p.element_size() for p in model.parameters()) / 2**30
    rows = []
    for length in lengths:
        ids = torch.randint(2, cfg.vocab_size, (1, length), device="cuda")
        mask = torch.ones_like(ids)
        with torch.no_grad():
            model(ids, mask)  # warm-up
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            times = []
            for _ in range(reps):
                start = torch.cuda.Event(enable_timing=True)
                end = torch.cuda.Event(enable_timing=True)
                start.record()
                out = model(ids, mask)
                end.record()
                torch.cuda.synchronize()
                times.append(start.elapsed_time(end))
        assert out.shape == (1, length, cfg.dim)
        row = {"layers": layers, "length": length, "msMedian": sorted(times)[len(times) // 2], "peakGiB": torch.cuda.max_memory_allocated() / 2**30, "weightsGiB": weights_gib}
        print(f"UMT5_TORCH layers {layers} length {length} {row['msMedian']:.2f} ms  peak {row['peakGiB']:.2f} GiB  weights {weights_gib:.2f} GiB  (torch {torch.__version__}, bf16)", flush=True)
        rows.append(row)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--write-fixtures", action="store_true", help="write ../src/t5/fixtures/*.json")
    ap.add_argument("--self-test", action="store_true")
    ap.add_argument("--check-fixtures", action="store_true", help="compare the committed fixtures with a fresh run")
    ap.add_argument("--bench", action="store_true", help="time umT5-XXL widths in bf16 on the GPU (random weights)")
    ap.add_argument("--bench-layers", type=int, default=24, help="blocks of --bench (default 24, the real encoder)")
    ap.add_argument("--bench-lengths", default="512,128", help="comma-separated prompt lengths of --bench")
    ap.add_argument("--bench-reps", type=int, default=5)
    ap.add_argument("--bench-out", help="write the --bench rows as JSON here")
    args = ap.parse_args(argv)
    if args.bench:
        rows = bench(args.bench_layers, [int(v) for v in args.bench_lengths.split(",")], args.bench_reps)
        if args.bench_out:
            with open(args.bench_out, "w") as f:
                json.dump(rows, f, indent=2)
        return 0
    if not (args.write_fixtures or args.self_test or args.check_fixtures):
        ap.error("nothing to do: give --write-fixtures, --check-fixtures, --self-test and/or --bench")
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    if args.self_test:
        self_test()
    if args.write_fixtures:
        write_fixtures(args.seed)
    if args.check_fixtures and not check_fixtures(args.seed):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
