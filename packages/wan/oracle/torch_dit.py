#!/usr/bin/env python3
"""PyTorch implementation of the original Wan2.1 T2V DiT forward (`WanModel`, not diffusers): GPU oracle and speed
baseline (issue 9).

Written from shared/reference/wan21-architecture.md (sections quoted as §1.x; §1.1-1.7, 3.2, 5, 9) and checked
against wan_oracle.py (float64 numpy) by `--self-test`.

Precision (§1.7), "reference" mode (the default, CUDA):
  * GEMM-type ops (patch embedding, text MLP, every block Linear) run in bf16: bf16 inputs, bf16 weights and
    biases, bf16 outputs. This is what torch.autocast(bfloat16) does to the fp32 checkpoint; the reference wraps its
    whole sampling loop in one autocast context, so autocast's weight cache casts each fp32 weight to bf16 once and
    reuses it. We therefore keep only the bf16 copies of those weights (the fp32 masters are never read again):
    numerically identical, and the timing is the reference's steady state. The casts are written out explicitly
    instead of running under autocast because the same code must also run in float64 (self-test) and the fp32
    regions would otherwise need nested autocast(enabled=False) blocks.
  * fp32: sinusoid -> time_embedding -> time_projection, modulation adds, every LayerNorm/RMSNorm statistic,
    `norm(x)*(1+scale)+shift`, the residual stream, the head (LN, modulation, Linear) and the output.
  * float64 (complex128): sinusoid and RoPE, cast to fp32 afterwards.
  * Attention: torch.nn.functional.scaled_dot_product_attention on bf16 q, k, v [B, H, L, 128] (views of
    [B, L, H, 128]), backend cuDNN (SDPBackend.CUDNN_ATTENTION), falling back to FLASH; backends are probed on
    small problems first, a backend that refuses a real call is retried on contiguous copies and then replaced by
    the next one; the backend that ran is printed and written to the JSON. The reference uses flash-attn varlen;
    with seq_len == #tokens (§5: 32,760 / 75,600, no padding) and context_lens=None neither call has a mask, so
    plain SDPA is the same computation.
  "float64" mode: every op in float64 (the math of wan_oracle.py), used by --self-test and for debugging.

Parameter storage: fp32 for the fp32-region tensors (time_embedding.*, time_projection.*, head.*, every
modulation, norm_q/norm_k/norm3), bf16 for the GEMM weights. 1.3B: 2.7 GiB. 14B: ~27 GiB (holding the fp32
masters too, as the reference process does, would be 57 GB plus the 28.6 GB autocast cache: it would fit the
141 GB H200, but it changes nothing numerically, so it is not done).

As a speed baseline it times what the reference does per forward, with two known differences: RoPE is written
like the reference's rope_apply (per sample, float64 copies, cat/stack included), but the reference's
flash_attention wrapper also packs q/k/v into varlen form (extra copies) which SDPA does not need; and no weight
casts are timed (the reference's autocast cache makes them a one-off per sampling loop). A forward includes the
text MLP over textLen rows and the time MLPs, as every reference step does.

------------------------------------------------------------------------------------------------------------------
FILE FORMATS (written by the TypeScript side; keep them this simple)

Weights: a raw little-endian float32 blob F.f32bin plus a JSON manifest M.json:
  {
    "tensors": [ {"name": "patch_embedding.weight", "shape": [1536, 16, 1, 2, 2], "offset": 0},
                 {"name": "patch_embedding.bias",   "shape": [1536],             "offset": 98304}, ... ],
    "config":  {"dim": 1536, "ffnDim": 8960, "numHeads": 12, "numLayers": 30, "freqDim": 256, "inDim": 16,
                "outDim": 16, "textDim": 4096, "textLen": 512, "patchSize": [1, 2, 2], "eps": 1e-6}
  }
  * names and shapes: the original state-dict keys of §3.2 (e.g. "blocks.0.self_attn.q.weight" [dim, dim],
    Linear weights [out, in], all 15 + 27*numLayers tensors required; extra names are ignored with a warning);
  * offset: index of the tensor's first element in the blob, counted in float32 ELEMENTS (not bytes); data row-major;
  * config: optional; camelCase as above (snake_case ffn_dim/num_heads/... also accepted) or a preset name string
    ("wan-1.3b"); missing fields take --config's values. If absent, --config decides.
Inputs: a raw little-endian float32 blob I.f32bin plus IM.json:
  {
    "tensors": [ {"name": "latents",   "shape": [B, 16, F, H, W], "offset": 0},
                 {"name": "context.0", "shape": [L_0, textDim],   "offset": ...},   # unpadded T5 rows, L_b <= textLen
                 ... one "context.<b>" per sample b = 0..B-1 ],
    "timestep": 500          # int (all samples), or a list of B ints; a float is truncated toward zero (§9.6)
  }
  (latents [16, F, H, W] without the batch axis is taken as B = 1.)
Output (--forward-out O.f32bin): the velocity [B, 16, F, H, W] as raw little-endian float32, row-major; its shape is
printed on the TORCH_DIT_FORWARD line.

------------------------------------------------------------------------------------------------------------------
USAGE (all from the repository root; python3 with torch >= 2.3 and numpy; no safetensors/diffusers needed)

  # self-check against wan_oracle.py on wan-tiny (a few seconds); last line "N passed, M failed", exit 1 on failure:
  #   float64 on CPU (and CUDA) vs the oracle, rel. L2 < 1e-10; the f32bin loaders; the reference precision
  #   (CUDA + SDPA) vs the oracle, rel. L2 < 3e-2; on CUDA also the explicit casts vs a literal torch.autocast run
  python3 packages/wan/oracle/torch_dit.py --self-test

  # speed baseline: one full forward, batch 2 (CFG-style: same latents, two random 512-token contexts)
  python3 packages/wan/oracle/torch_dit.py --config wan-1.3b --bench --shape 480p --batch 2 --reps 3 \
      --json-out $OUT/torch-dit-1.3b-480p.json
  #   -> TORCH_DIT wan-1.3b 480p 2 <ms_median> CUDNN_ATTENTION <peak_mem_GiB>
  python3 packages/wan/oracle/torch_dit.py --config wan-1.3b --bench-attention-only --shape 720p --batch 2
  #   -> TORCH_DIT_ATTN wan-1.3b 720p 2 <ms_median for numLayers SDPA calls> CUDNN_ATTENTION <peak_mem_GiB>

  # golden forward for our CUDA forward, from the TypeScript side's files
  python3 packages/wan/oracle/torch_dit.py --weights-file W.f32bin --manifest W.json \
      --inputs I.f32bin --inputs-manifest I.json --forward-out $OUT/velocity.f32bin
  # same with random GPU weights/inputs: --weights random --seed 0 --shape 480p --batch 2 --forward-out ...

  Options: --config wan-tiny|wan-1.3b|wan-14b (default wan-1.3b), --shape 480p|720p|C,F,H,W (480p = [16,21,60,104],
  32,760 tokens; 720p = [16,21,90,160], 75,600 tokens; §5), --attention-backend auto|cudnn|flash|efficient|math,
  --precision reference|float64, --device cuda|cpu, --timestep, --context-len, --warmup (1), --reps (3).
  The 14B config at 720p needs ~29 GB of weights plus activations: it fits one H200.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wan_oracle as wo  # noqa: E402  (config table and §3.2 key list; the numpy forward only in --self-test)

WanConfig = wo.WanConfig
CONFIGS = wo.CONFIGS

# ----------------------------------------------------------------------------- precision


@dataclass(frozen=True)
class Precision:
    name: str
    lp: torch.dtype  # autocast dtype: GEMM inputs/weights/outputs and attention inputs (bf16 in the reference)
    hp: torch.dtype  # the fp32 regions of §1.7 (fp32 in the reference)


REFERENCE = Precision("reference", torch.bfloat16, torch.float32)
FLOAT64 = Precision("float64", torch.float64, torch.float64)
# fp32 params and no casts of our own: only meaningful under torch.autocast(bfloat16) (self-test cross-check).
AUTOCAST = Precision("autocast", torch.float32, torch.float32)

# Tensors the reference uses in fp32 (§1.7): everything else is only ever read through autocast's bf16 cast.
_HP_SUFFIXES = ("modulation", "norm_q.weight", "norm_k.weight", "norm3.weight", "norm3.bias")
_HP_PREFIXES = ("time_embedding.", "time_projection.", "head.")


def is_hp_param(name: str) -> bool:
    return name.startswith(_HP_PREFIXES) or name.endswith(_HP_SUFFIXES)


def param_dtype(name: str, prec: Precision) -> torch.dtype:
    return prec.hp if is_hp_param(name) else prec.lp


# ----------------------------------------------------------------------------- configs and manifests

_CFG_FIELDS = {  # manifest spelling (camelCase or snake_case) -> WanConfig field
    "dim": "dim", "ffnDim": "ffn_dim", "ffn_dim": "ffn_dim", "numHeads": "num_heads", "num_heads": "num_heads",
    "numLayers": "num_layers", "num_layers": "num_layers", "freqDim": "freq_dim", "freq_dim": "freq_dim",
    "inDim": "in_dim", "in_dim": "in_dim", "outDim": "out_dim", "out_dim": "out_dim", "textDim": "text_dim",
    "text_dim": "text_dim", "textLen": "text_len", "text_len": "text_len", "patchSize": "patch_size",
    "patch_size": "patch_size", "eps": "eps",
}


def config_from_manifest(obj, base: WanConfig) -> WanConfig:
    if obj is None:
        return base
    if isinstance(obj, str):
        if obj not in CONFIGS:
            raise ValueError(f"manifest config {obj!r} is not one of {sorted(CONFIGS)}")
        return CONFIGS[obj]
    kw = {}
    for k, v in obj.items():
        if k in _CFG_FIELDS:
            f = _CFG_FIELDS[k]
            kw[f] = tuple(int(p) for p in v) if f == "patch_size" else (float(v) if f == "eps" else int(v))
    cfg = replace(base, **kw)
    if cfg.dim % cfg.num_heads or cfg.head_dim % 2:
        raise ValueError(f"bad config: dim {cfg.dim} / heads {cfg.num_heads}")
    return cfg


def config_name(cfg: WanConfig) -> str:
    return next((n for n, c in CONFIGS.items() if c == cfg), f"custom-dim{cfg.dim}-L{cfg.num_layers}")


def _read_manifest_tensors(blob_path: str, manifest: dict) -> Tuple[np.memmap, Dict[str, Tuple[List[int], int]]]:
    blob = np.memmap(blob_path, dtype="<f4", mode="r")
    out = {}
    for t in manifest["tensors"]:
        shape = [int(s) for s in t["shape"]]
        off = int(t["offset"])
        n = math.prod(shape)
        if off < 0 or off + n > blob.size:
            raise ValueError(f"{blob_path}: tensor {t['name']} [{shape}] at element {off} runs past the blob "
                             f"({blob.size} float32 elements)")
        out[t["name"]] = (shape, off)
    return blob, out


def _tensor_from_blob(blob: np.memmap, shape: List[int], off: int) -> torch.Tensor:
    n = math.prod(shape)
    return torch.from_numpy(np.array(blob[off:off + n], dtype=np.float32)).reshape(shape)


def load_weights(path: str, manifest_path: str, base_cfg: WanConfig, device, prec: Precision):
    with open(manifest_path, encoding="utf-8") as f:
        manifest = json.load(f)
    cfg = config_from_manifest(manifest.get("config"), base_cfg)
    blob, index = _read_manifest_tensors(path, manifest)
    params = {}
    for name, shape in wo.key_shapes(cfg):
        if name not in index:
            raise ValueError(f"{manifest_path}: missing tensor {name} (config dim {cfg.dim}, {cfg.num_layers} layers)")
        got, off = index[name]
        if tuple(got) != tuple(shape):
            raise ValueError(f"{manifest_path}: {name} has shape {got}, expected {list(shape)}")
        params[name] = _tensor_from_blob(blob, got, off).to(device=device, dtype=param_dtype(name, prec))
    extra = sorted(set(index) - set(params))
    if extra:
        print(f"warning: {len(extra)} manifest tensors ignored (first: {extra[:3]})", file=sys.stderr)
    return cfg, params


def load_inputs(path: str, manifest_path: str, cfg: WanConfig, device):
    with open(manifest_path, encoding="utf-8") as f:
        manifest = json.load(f)
    blob, index = _read_manifest_tensors(path, manifest)
    if "latents" not in index:
        raise ValueError(f"{manifest_path}: no 'latents' tensor")
    lat = _tensor_from_blob(blob, *index["latents"])
    if lat.dim() == 4:
        lat = lat.unsqueeze(0)
    if lat.dim() != 5 or lat.shape[1] != cfg.in_dim:
        raise ValueError(f"latents must be [B, {cfg.in_dim}, F, H, W], got {list(lat.shape)}")
    b = lat.shape[0]
    ctx = []
    for i in range(b):
        if f"context.{i}" not in index:
            raise ValueError(f"{manifest_path}: no 'context.{i}' tensor (latents has batch {b})")
        ctx.append(_tensor_from_blob(blob, *index[f"context.{i}"]).to(device))
    ts = manifest.get("timestep")
    if ts is None:
        raise ValueError(f"{manifest_path}: no 'timestep'")
    ts = [ts] * b if not isinstance(ts, list) else ts
    if len(ts) != b:
        raise ValueError(f"{manifest_path}: {len(ts)} timesteps for batch {b}")
    t = torch.tensor([int(v) for v in ts], dtype=torch.int64, device=device)  # int() truncates (§9.6)
    return lat.to(device), ctx, t


def write_blob(path: str, tensors: Dict[str, torch.Tensor], extra: dict) -> None:
    """Writes tensors in the manifest format above (used by the self-test; the TS side writes its own)."""
    entries, off = [], 0
    with open(path, "wb") as f:
        for name, t in tensors.items():
            a = np.ascontiguousarray(t.detach().cpu().to(torch.float32).numpy(), dtype="<f4")
            f.write(a.tobytes())
            entries.append({"name": name, "shape": list(a.shape), "offset": off})
            off += a.size
    with open(path + ".json", "w", encoding="utf-8") as f:
        json.dump({"tensors": entries, **extra}, f)


# ----------------------------------------------------------------------------- random weights and inputs


def random_params(cfg: WanConfig, seed: int, device, prec: Precision) -> Dict[str, torch.Tensor]:
    """Synthetic weights drawn on `device` (seconds even for 14B): Linear/conv weights and all biases 0.02*N(0,1);
    norm weights 1 + 0.1*N(0,1); modulations N(0,1)/sqrt(dim), the model's own init (§1.1), so the gates are
    large enough for every block to matter."""
    g = torch.Generator(device=device).manual_seed(seed)
    params = {}
    for name, shape in wo.key_shapes(cfg):
        r = torch.randn(shape, generator=g, device=device, dtype=torch.float32)
        if name.endswith(("norm_q.weight", "norm_k.weight", "norm3.weight")):
            r = 1.0 + 0.1 * r
        elif name.endswith("modulation"):
            r = r / math.sqrt(cfg.dim)
        else:
            r = 0.02 * r
        params[name] = r.to(param_dtype(name, prec))
    return params


def random_inputs(cfg: WanConfig, seed: int, latent: Sequence[int], batch: int, context_len: int,
                  timestep: int, device):
    """CFG-style batch: the same latents for every sample, a different random context per sample."""
    g = torch.Generator(device=device).manual_seed(seed + 1_000_003)
    lat = torch.randn([1, *latent], generator=g, device=device).expand(batch, *latent).contiguous()
    ctx = [torch.randn(context_len, cfg.text_dim, generator=g, device=device) for _ in range(batch)]
    t = torch.full((batch,), int(timestep), dtype=torch.int64, device=device)
    return lat, ctx, t


# ----------------------------------------------------------------------------- attention


class Attention:
    """q, k, v [B, L, H, D] -> [B, L, H, D] in q's dtype. Inputs are cast to prec.lp first (the reference's
    flash_attention casts to bf16 and casts its output back to q's dtype, §8.1).

    `backends`: SDPBackend names to use, in order of preference (from pick_backend), or None for the explicit
    softmax formula (float64 mode, CPU, torch builds without SDPA). SDPA gets [B, H, L, D] transposed views; if a
    backend refuses a call, the same backend is retried on contiguous copies, then the next backend is taken for
    good (recorded in `notes`), so a long bench does not die on a shape the probe did not cover. `backend` is the
    one that ran the last call."""

    def __init__(self, prec: Precision, backends: Optional[List[str]]):
        self.prec = prec
        self.candidates = list(backends) if backends else []
        self.backend = self.candidates[0] if self.candidates else None
        self.contiguous = False
        self.notes: List[str] = []

    def _sdpa(self, q, k, v):
        from torch.nn.attention import SDPBackend, sdpa_kernel
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))
        if self.contiguous:
            q, k, v = (t.contiguous() for t in (q, k, v))
        with sdpa_kernel([getattr(SDPBackend, self.backend)]):
            return F.scaled_dot_product_attention(q, k, v).transpose(1, 2)

    def __call__(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        out_dtype = q.dtype
        q, k, v = (t.to(self.prec.lp) for t in (q, k, v))
        if self.backend is None:
            return _explicit_attention(q, k, v).to(out_dtype)
        while True:
            try:
                return self._sdpa(q, k, v).to(out_dtype)
            except RuntimeError as ex:
                why = str(ex).splitlines()[0][:160] if str(ex) else type(ex).__name__
                shape = f"q {list(q.shape)} k {list(k.shape)}"
                if not self.contiguous:
                    self.contiguous = True
                    self.notes.append(f"{self.backend} refused strided inputs at {shape} ({why}); using contiguous copies")
                    continue
                i = self.candidates.index(self.backend)
                if i + 1 >= len(self.candidates):
                    raise
                self.notes.append(f"{self.backend} failed at {shape} ({why}); falling back to {self.candidates[i + 1]}")
                self.backend, self.contiguous = self.candidates[i + 1], False


def _explicit_attention(q, k, v):
    """softmax(q k^T / sqrt(d)) v, computed in float32 at least (float64 stays float64), output in q's dtype."""
    cd = torch.float64 if q.dtype == torch.float64 else torch.float32
    qh, kh, vh = (t.to(cd).transpose(1, 2) for t in (q, k, v))  # [B, H, L, D]
    s = torch.matmul(qh, kh.transpose(-1, -2)) / math.sqrt(q.shape[-1])
    return torch.matmul(torch.softmax(s, dim=-1), vh).transpose(1, 2).to(q.dtype)


def pick_backend(requested: str, device) -> Tuple[Optional[List[str]], List[str]]:
    """Probes SDPA backends on small bf16 problems (a self- and a cross-attention shape, head dim 128) against fp32
    math. Returns (the working candidates in order of preference, notes); (None, ...) off CUDA."""
    if torch.device(device).type != "cuda":
        return None, ["not on CUDA: explicit softmax attention"]
    order = {"auto": ["CUDNN_ATTENTION", "FLASH_ATTENTION"], "cudnn": ["CUDNN_ATTENTION"],
             "flash": ["FLASH_ATTENTION"], "efficient": ["EFFICIENT_ATTENTION"], "math": ["MATH"]}[requested]
    notes, ok = [], []
    g = torch.Generator(device=device).manual_seed(7)
    for name in order:
        try:
            attn = Attention(REFERENCE, [name])
            errs = []
            for lq, lk in ((333, 333), (333, 512)):
                q, k, v = (torch.randn(2, lq if i == 0 else lk, 3, 128, generator=g, device=device,
                                       dtype=torch.float32).to(torch.bfloat16) for i in range(3))
                o = attn(q, k, v).float()
                ref = _explicit_attention(q.float(), k.float(), v.float())
                errs.append(float((o - ref).abs().max()))
            notes += attn.notes
            if not all(math.isfinite(e) and e < 2e-2 for e in errs):
                notes.append(f"{name}: max abs error {errs} vs fp32 math, not used")
                continue
            notes.append(f"{name}: probe max abs error vs fp32 math {max(errs):.2e}")
            ok.append(name)
        except Exception as ex:  # noqa: BLE001  (an unavailable kernel raises RuntimeError with the reason)
            notes.append(f"{name}: unavailable ({str(ex).splitlines()[0][:160]})")
    if not ok:
        raise RuntimeError("no usable SDPA backend: " + "; ".join(notes))
    return ok, notes


# ----------------------------------------------------------------------------- model pieces


def sinusoid(freq_dim: int, t: torch.Tensor) -> torch.Tensor:
    """§1.2: float64, [cos(t f_j), sin(t f_j)] (COS first), f_j = 10000^(-j/half); t is the integer timestep."""
    half = freq_dim // 2
    pos = t.to(torch.float64)
    arg = torch.outer(pos, torch.pow(10000, -torch.arange(half, device=t.device).to(pos).div(half)))
    return torch.cat([torch.cos(arg), torch.sin(arg)], dim=1)


def rope_params(max_len: int, dim: int, theta: float = 10000.0) -> torch.Tensor:
    freqs = torch.outer(torch.arange(max_len), 1.0 / torch.pow(theta, torch.arange(0, dim, 2).to(torch.float64).div(dim)))
    return torch.polar(torch.ones_like(freqs), freqs)  # complex128 [max_len, dim/2]


_ROPE_FREQS: Dict[Tuple[int, str], torch.Tensor] = {}


def rope_freqs(head_dim: int, device) -> torch.Tensor:
    """§1.3: the reference's `freqs` attribute, complex128 [1024, d/2] = axis tables 44/42/42 wide (22/21/21
    pairs for t, h, w). Built on the CPU and moved to the device once, as WanModel.forward does."""
    key = (head_dim, str(device))
    if key not in _ROPE_FREQS:
        d = head_dim
        freqs = torch.cat([rope_params(1024, d - 4 * (d // 6)), rope_params(1024, 2 * (d // 6)),
                           rope_params(1024, 2 * (d // 6))], dim=1)
        _ROPE_FREQS[key] = freqs.to(device)
    return _ROPE_FREQS[key]


def rope_apply(x: torch.Tensor, grid: Tuple[int, int, int], freqs: torch.Tensor, out_dtype: torch.dtype) -> torch.Tensor:
    """§1.3, written like the reference's rope_apply (per sample, per call; its float64 copies are part of the
    baseline's cost): INTERLEAVED pairs (x[2j], x[2j+1]) rotated in complex128 by the angles of token
    s = (f*H' + h)*W' + w, then cast (to fp32 in the reference). x [B, L, H, D]."""
    n, c = x.size(2), x.size(3) // 2
    ft, fh, fw = freqs.split([c - 2 * (c // 3), c // 3, c // 3], dim=1)
    f, h, w = grid
    if max(grid) > freqs.shape[0]:
        raise ValueError(f"grid {grid} exceeds the {freqs.shape[0]}-position RoPE tables")
    seq_len = f * h * w
    output = []
    for i in range(x.size(0)):
        x_i = torch.view_as_complex(x[i, :seq_len].to(torch.float64).reshape(seq_len, n, -1, 2))
        freqs_i = torch.cat([ft[:f].view(f, 1, 1, -1).expand(f, h, w, -1),
                             fh[:h].view(1, h, 1, -1).expand(f, h, w, -1),
                             fw[:w].view(1, 1, w, -1).expand(f, h, w, -1)], dim=-1).reshape(seq_len, 1, -1)
        x_i = torch.view_as_real(x_i * freqs_i).flatten(2)
        output.append(torch.cat([x_i, x[i, seq_len:].to(x_i.dtype)]))  # padding tokens (none here, §5) unrotated
    return torch.stack(output).to(out_dtype)


class WanDiT:
    """Functional WanModel forward over a name -> tensor dict with the §3.2 keys."""

    def __init__(self, cfg: WanConfig, params: Dict[str, torch.Tensor], prec: Precision, attention: Attention):
        self.cfg, self.P, self.prec, self.attn = cfg, params, prec, attention

    # -- helpers: explicit versions of what autocast + the Wan modules do (§1.1, §1.7)
    def lin(self, x: torch.Tensor, name: str) -> torch.Tensor:
        """Block/embedding Linear under autocast: input cast to lp, lp weights and bias, lp output."""
        return F.linear(x.to(self.prec.lp), self.P[name + ".weight"], self.P[name + ".bias"])

    def lin_hp(self, x: torch.Tensor, name: str) -> torch.Tensor:
        """Linear inside the reference's autocast(dtype=float32) regions (time MLPs, head). Autocast is disabled here
        so the AUTOCAST cross-check runs these in fp32 like the reference; a no-op otherwise."""
        with torch.autocast(x.device.type, enabled=False):
            return F.linear(x.to(self.prec.hp), self.P[name + ".weight"], self.P[name + ".bias"])

    def layer_norm(self, x: torch.Tensor, affine: Optional[str] = None) -> torch.Tensor:
        """WanLayerNorm: LN(x.float()).type_as(x). The cast back matters only in block 0, whose input is the bf16
        patch embedding (§1.7 last-but-two row); later the residual stream is fp32 already."""
        w = self.P[affine + ".weight"] if affine else None
        b = self.P[affine + ".bias"] if affine else None
        return F.layer_norm(x.to(self.prec.hp), (self.cfg.dim,), w, b, self.cfg.eps).to(x.dtype)

    def rms_norm(self, x: torch.Tensor, name: str) -> torch.Tensor:
        """WanRMSNorm over the FULL dim (all heads, §1.1/§9.3): the normalised value is rounded to x's dtype (bf16)
        BEFORE the fp32 weight multiply, so the result is fp32 (§1.7)."""
        xf = x.to(self.prec.hp)
        y = (xf * torch.rsqrt(xf.pow(2).mean(dim=-1, keepdim=True) + self.cfg.eps)).to(x.dtype)
        return y * self.P[name]

    def heads(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(x.shape[0], x.shape[1], self.cfg.num_heads, self.cfg.head_dim)

    # -- forward
    def block(self, x, i: int, e0, ctx, grid, freqs) -> torch.Tensor:
        p = f"blocks.{i}."
        hp = self.prec.hp
        # §1.4/§9.1: chunk order shift, scale, gate (MSA), then shift, scale, gate (FFN); fp32.
        e = (self.P[p + "modulation"] + e0).chunk(6, dim=1)

        # 1) self-attention: LN1 (no affine), modulate, q/k RMSNorm, RoPE on q and k only, no key mask (§1.6).
        h = self.layer_norm(x).to(hp) * (1 + e[1]) + e[0]
        q = self.rms_norm(self.lin(h, p + "self_attn.q"), p + "self_attn.norm_q.weight")
        k = self.rms_norm(self.lin(h, p + "self_attn.k"), p + "self_attn.norm_k.weight")
        v = self.lin(h, p + "self_attn.v")
        q = rope_apply(self.heads(q), grid, freqs, hp)
        k = rope_apply(self.heads(k), grid, freqs, hp)
        a = self.attn(q, k, self.heads(v)).flatten(2)
        x = x + self.lin(a, p + "self_attn.o") * e[2]  # bf16 y * fp32 gate -> fp32 residual (§1.7)

        # 2) cross-attention: affine norm3, NO modulation, NO gate, NO RoPE; all textLen slots attended (§1.4, §9.5).
        h = self.layer_norm(x, p + "norm3")
        q = self.rms_norm(self.lin(h, p + "cross_attn.q"), p + "cross_attn.norm_q.weight")
        k = self.rms_norm(self.lin(ctx, p + "cross_attn.k"), p + "cross_attn.norm_k.weight")
        v = self.lin(ctx, p + "cross_attn.v")
        a = self.attn(self.heads(q), self.heads(k), self.heads(v)).flatten(2)
        x = x + self.lin(a, p + "cross_attn.o")

        # 3) FFN: LN2 (no affine; named norm2 in the original), modulate, GELU(tanh) on the bf16 Linear output.
        h = self.layer_norm(x).to(hp) * (1 + e[4]) + e[3]
        y = self.lin(F.gelu(self.lin(h, p + "ffn.0"), approximate="tanh"), p + "ffn.2")
        return x + y * e[5]

    def forward(self, latents: torch.Tensor, t: torch.Tensor, context: Sequence[torch.Tensor]) -> torch.Tensor:
        """latents [B, in_dim, F, H, W] fp32; t [B] int64; context: B tensors [L_b <= textLen, textDim] (unpadded).
        Returns the velocity [B, out_dim, F, H, W] in prec.hp."""
        cfg, P, hp = self.cfg, self.P, self.prec.hp
        if len(context) != latents.shape[0]:
            raise ValueError(f"{len(context)} contexts for batch {latents.shape[0]}")
        # Patch embedding: Conv3d with kernel = stride = patch, bf16 under autocast; tokens row-major (f, h, w) (§1.5).
        x = F.conv3d(latents.to(self.prec.lp), P["patch_embedding.weight"], P["patch_embedding.bias"],
                     stride=cfg.patch_size)
        grid = tuple(x.shape[2:])
        x = x.flatten(2).transpose(1, 2)  # [B, N, dim], lp; seq_len == N on one GPU (§5), no token padding

        # Time path in fp32 (§1.2, §1.6): e = time_embedding(sinusoid), e0 = time_projection(e) -> [B, 6, dim].
        s = sinusoid(cfg.freq_dim, t).to(hp)
        e = self.lin_hp(F.silu(self.lin_hp(s, "time_embedding.0")), "time_embedding.2")
        e0 = self.lin_hp(F.silu(e), "time_projection.1").unflatten(1, (6, cfg.dim))

        # Text: ZERO-PAD the raw T5 rows to textLen BEFORE the MLP (padded rows become non-zero; §1.6, §9.5).
        padded = torch.zeros(len(context), cfg.text_len, cfg.text_dim, device=latents.device, dtype=hp)
        for b, c in enumerate(context):
            if c.shape[0] > cfg.text_len or c.shape[1] != cfg.text_dim:
                raise ValueError(f"context {b} must be [<= {cfg.text_len}, {cfg.text_dim}], got {list(c.shape)}")
            padded[b, : c.shape[0]] = c.to(hp)
        ctx = self.lin(F.gelu(self.lin(padded, "text_embedding.0"), approximate="tanh"), "text_embedding.2")

        freqs = rope_freqs(cfg.head_dim, latents.device)
        for i in range(cfg.num_layers):
            x = self.block(x, i, e0, ctx, grid, freqs)

        # Head in fp32 (§1.5, §9.2): modulation + the RAW time embedding e (no SiLU, no projection); chunk2 = shift, scale.
        shift, scale = (P["head.modulation"] + e.unsqueeze(1)).chunk(2, dim=1)
        out = self.lin_hp(self.layer_norm(x.to(hp)) * (1 + scale) + shift, "head.head")

        # Unpatchify: token (f,h,w) channel (ph*2 + pw)*16 + c -> out[c, f, 2h+ph, 2w+pw] (§1.5, §9.8).
        bsz = out.shape[0]
        pt, ph, pw = cfg.patch_size
        u = out.view(bsz, *grid, pt, ph, pw, cfg.out_dim)
        u = torch.einsum("bfhwpqrc->bcfphqwr", u)
        return u.reshape(bsz, cfg.out_dim, grid[0] * pt, grid[1] * ph, grid[2] * pw)


# ----------------------------------------------------------------------------- bench helpers

SHAPES = {"480p": [16, 21, 60, 104], "720p": [16, 21, 90, 160]}  # §5: 32,760 and 75,600 tokens


def parse_shape(s: str, cfg: WanConfig) -> Tuple[str, List[int]]:
    if s in SHAPES:
        return s, SHAPES[s]
    dims = [int(p) for p in s.split(",")]
    if len(dims) != 4 or dims[0] != cfg.in_dim:
        raise ValueError(f"--shape must be 480p, 720p or {cfg.in_dim},F,H,W; got {s}")
    return "x".join(map(str, dims)), dims


def time_cuda(fn, warmup: int, reps: int) -> List[float]:
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        torch.cuda.synchronize()
        times.append(a.elapsed_time(b))
    return times


def env_info(device) -> dict:
    info = {"torch": torch.__version__, "cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None}
    if torch.device(device).type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


# ----------------------------------------------------------------------------- self-test


def rel_l2(a, b) -> float:
    a = torch.as_tensor(a, dtype=torch.float64).cpu()
    b = torch.as_tensor(b, dtype=torch.float64).cpu()
    return float(torch.linalg.norm((a - b).reshape(-1)) / torch.linalg.norm(b.reshape(-1)))


def self_test(seed: int = 1234) -> int:
    """wan-tiny: torch float64 (CPU, and CUDA when present) vs wan_oracle.forward at rel. L2 < 1e-10, batch 2 with
    different context lengths (7 of 16 rows padded, and 16 = none) and timesteps (500, 999); the file formats round
    trip; the reference-precision path (CUDA + SDPA when present, else CPU) within bf16 tolerance."""
    cfg = CONFIGS["wan-tiny"]
    results: List[Tuple[str, bool, str]] = []

    def check(name: str, ok: bool, detail: str) -> None:
        results.append((name, ok, detail))
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}", flush=True)

    t0 = time.time()
    wts = wo.make_weights(cfg, seed)
    lat, ctx0 = wo.make_inputs(cfg, seed, [16, 3, 8, 8], 7)
    _, ctx1 = wo.make_inputs(cfg, seed + 1, [16, 3, 8, 8], cfg.text_len)
    steps = [500, 999]
    gold = [wo.forward(cfg, wts, lat, steps[0], ctx0)[0], wo.forward(cfg, wts, lat, steps[1], ctx1)[0]]
    gold_t = torch.from_numpy(np.stack(gold))
    print(f"oracle: 2 wan-tiny forwards in {time.time() - t0:.1f}s, output {list(gold_t.shape)}", flush=True)

    check("key list", len(wo.key_shapes(CONFIGS["wan-1.3b"])) == 825 and len(wo.key_shapes(cfg)) == 69,
          "825 tensors for 1.3B, 69 for wan-tiny (§3.2)")

    def run(device, prec: Precision, params=None, inputs=None, autocast=False):
        p = params if params is not None else {n: torch.from_numpy(a).to(device=device, dtype=param_dtype(n, prec))
                                               for n, a in wts.items()}
        if inputs is None:
            lat_t = torch.from_numpy(np.stack([lat, lat])).to(device=device, dtype=torch.float32)
            c = [torch.from_numpy(c).to(device=device, dtype=torch.float32) for c in (ctx0, ctx1)]
            inputs = (lat_t, c, torch.tensor(steps, dtype=torch.int64, device=device))
        backends = pick_backend("auto", device)[0] if prec is not FLOAT64 else None
        attn = Attention(prec, backends)
        model = WanDiT(cfg, p, prec, attn)
        lat_t, c, ts = inputs
        with torch.inference_mode(), torch.autocast(torch.device(device).type, torch.bfloat16, enabled=autocast):
            return model.forward(lat_t, ts, c), attn.backend

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    f64_out = {}
    for dev in devices:
        out, _ = run(dev, FLOAT64)
        f64_out[dev] = out.cpu()
        errs = [rel_l2(out[b], gold_t[b]) for b in range(2)]
        check(f"float64 {dev} vs wan_oracle", max(errs) < 1e-10, f"rel L2 per sample {errs[0]:.2e}, {errs[1]:.2e}")

    # File formats: the weights and inputs through the f32bin + manifest loaders give bit-identical results.
    with tempfile.TemporaryDirectory() as tmp:
        wpath, ipath = os.path.join(tmp, "w.f32bin"), os.path.join(tmp, "i.f32bin")
        write_blob(wpath, {n: torch.from_numpy(a) for n, a in wts.items()}, {"config": cfg.to_json()})
        write_blob(ipath, {"latents": torch.from_numpy(np.stack([lat, lat])), "context.0": torch.from_numpy(ctx0),
                           "context.1": torch.from_numpy(ctx1)}, {"timestep": steps})
        lcfg, lp = load_weights(wpath, wpath + ".json", CONFIGS["wan-1.3b"], "cpu", FLOAT64)
        linputs = load_inputs(ipath, ipath + ".json", lcfg, "cpu")
        out, _ = run("cpu", FLOAT64, lp, (linputs[0].double(), [c.double() for c in linputs[1]], linputs[2]))
        check("f32bin round trip", lcfg == cfg and torch.equal(out, f64_out["cpu"]),
              "config from the manifest; output bit-identical to the in-memory run")

    # Reference precision (bf16 GEMMs / attention, fp32 elsewhere): same math within bf16 rounding.
    dev = devices[-1]
    try:
        ref_out, backend = run(dev, REFERENCE)
        errs = [rel_l2(ref_out[b].float(), gold_t[b]) for b in range(2)]
        check(f"reference precision {dev} ({backend or 'explicit softmax'}) vs wan_oracle",
              max(errs) < 3e-2 and ref_out.dtype == torch.float32, f"rel L2 {errs[0]:.2e}, {errs[1]:.2e} (< 3e-2)")
    except (RuntimeError, NotImplementedError) as ex:  # e.g. a CPU build without bf16 conv3d
        ref_out = None
        check(f"reference precision {dev}", dev == "cpu", f"could not run here: {str(ex).splitlines()[0][:200]}")

    # The explicit casts against the reference's mechanism: fp32 params, no casts of our own, the forward under
    # torch.autocast(bfloat16) with autocast disabled only in the fp32 regions (as the reference's nested
    # autocast(dtype=float32)). CUDA only: CPU autocast has different op lists. Not bit-identical: on an H200 the two
    # differ by rel. L2 1.7e-3 (session 4), i.e. some op rounds to bf16 at a different point under autocast's op
    # lists than in the explicit path. Both are bf16-precision runs of the same math, so the check holds them to
    # bf16 agreement (< 1e-2, a third of the 3e-2 the reference precision is held to against float64 above).
    if dev == "cuda" and ref_out is not None:
        try:
            ac_out, backend = run(dev, AUTOCAST, autocast=True)
            err = rel_l2(ac_out.float(), ref_out.float())
            check(f"explicit casts vs torch.autocast(bf16) on {dev} ({backend})", err < 1e-2,
                  f"rel L2 {err:.2e}{' (bit-identical)' if torch.equal(ac_out, ref_out) else ''} (< 1e-2)")
        except RuntimeError as ex:
            check(f"explicit casts vs torch.autocast(bf16) on {dev}", False, f"raised: {str(ex).splitlines()[0][:200]}")

    failed = sum(1 for _, ok, _ in results if not ok)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


# ----------------------------------------------------------------------------- CLI


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description="Wan2.1 T2V DiT forward in PyTorch (GPU oracle and speed baseline); "
                                 "see the header of this file for the formats")
    ap.add_argument("--self-test", action="store_true", help="check against wan_oracle.py on wan-tiny and exit")
    ap.add_argument("--config", default="wan-1.3b", choices=sorted(CONFIGS))
    ap.add_argument("--weights", default="random", choices=["random"],
                    help="random weights drawn on the device (ignored when --weights-file is given)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--weights-file", help="raw float32 blob (see the file header)")
    ap.add_argument("--manifest", help="JSON manifest of --weights-file")
    ap.add_argument("--inputs", help="raw float32 blob with latents and context.<b>")
    ap.add_argument("--inputs-manifest", help="JSON manifest of --inputs (with 'timestep')")
    ap.add_argument("--shape", default=None, help="random inputs' latent: 480p, 720p or C,F,H,W "
                    "(default 480p; 16,3,8,8 for wan-tiny)")
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--context-len", type=int, default=None, help="random contexts' rows (default textLen)")
    ap.add_argument("--timestep", type=int, default=999, help="random inputs' timestep")
    ap.add_argument("--forward-out", help="write the velocity [B, 16, F, H, W] here as raw float32")
    ap.add_argument("--bench", action="store_true", help="time the full forward")
    ap.add_argument("--bench-attention-only", action="store_true",
                    help="time numLayers self-attention SDPA calls at the shape")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--json-out", help="write the bench result here")
    ap.add_argument("--attention-backend", default="auto", choices=["auto", "cudnn", "flash", "efficient", "math"])
    ap.add_argument("--precision", default="reference", choices=["reference", "float64"])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args(argv)

    if args.self_test:
        return self_test()
    if not (args.forward_out or args.bench or args.bench_attention_only):
        ap.error("nothing to do: give --self-test, --forward-out, --bench or --bench-attention-only")
    if bool(args.weights_file) != bool(args.manifest) or bool(args.inputs) != bool(args.inputs_manifest):
        ap.error("--weights-file needs --manifest, --inputs needs --inputs-manifest")

    device = torch.device(args.device)
    prec = FLOAT64 if args.precision == "float64" else REFERENCE
    cfg = CONFIGS[args.config]
    if args.weights_file:  # the manifest's config wins (the TS side knows what it wrote)
        with open(args.manifest, encoding="utf-8") as f:
            cfg = config_from_manifest(json.load(f).get("config"), cfg)
    shape_name, latent = parse_shape(args.shape or ("16,3,8,8" if cfg == CONFIGS["wan-tiny"] else "480p"), cfg)
    cname = config_name(cfg)

    backends, notes = pick_backend(args.attention_backend, device) if prec is REFERENCE else (None, ["float64"])
    print(f"attention candidates: {backends or 'explicit softmax'} ({'; '.join(notes)})", file=sys.stderr)
    is_cuda = device.type == "cuda"
    peak = lambda: torch.cuda.max_memory_allocated(device) / 2**30 if is_cuda else float("nan")  # noqa: E731
    result = {"config": cname, "shape": shape_name, "precision": prec.name, "attention_probe": notes,
              **env_info(device)}

    def attention_report(attn: Attention) -> str:
        for n in attn.notes:
            print(f"attention: {n}", file=sys.stderr)
        result["attention_backend"] = attn.backend or "explicit"
        result["attention_notes"] = attn.notes
        return attn.backend or "explicit"

    if args.bench_attention_only:
        if not is_cuda:
            ap.error("--bench-attention-only needs CUDA")
        n_tok = math.prod(d // p for d, p in zip(latent[1:], cfg.patch_size))
        g = torch.Generator(device=device).manual_seed(args.seed)
        # [B, L, H, D] like the forward's q/k/v; the timed calls see the same transposed views as in the model.
        qkv = [torch.randn(args.batch, n_tok, cfg.num_heads, cfg.head_dim, generator=g, device=device,
                           dtype=torch.bfloat16) for _ in range(3)]
        attn = Attention(prec, backends)
        torch.cuda.reset_peak_memory_stats(device)

        def layers():
            for _ in range(cfg.num_layers):
                attn(*qkv)
        with torch.inference_mode():
            ms = time_cuda(layers, args.warmup, args.reps)
        med = statistics.median(ms)
        flops = 4.0 * args.batch * cfg.num_heads * n_tok * n_tok * cfg.head_dim * cfg.num_layers
        backend = attention_report(attn)
        result.update({"kind": "attention-only", "batch": args.batch, "tokens": n_tok, "calls": cfg.num_layers,
                       "ms": ms, "ms_median": med, "tflops": flops / (med * 1e-3) / 1e12, "peak_mem_GiB": peak()})
        print(f"TORCH_DIT_ATTN {cname} {shape_name} {args.batch} {med:.2f} {backend} {peak():.2f}")
        print(f"  ({cfg.num_layers} calls of [{args.batch}, {cfg.num_heads}, {n_tok}, {cfg.head_dim}] bf16, "
              f"{result['tflops']:.0f} TFLOP/s; reps {[round(m, 2) for m in ms]})", file=sys.stderr)
        del qkv

    if args.bench or args.forward_out:
        if args.bench and not is_cuda:
            ap.error("--bench needs CUDA")
        t_load = time.time()
        if args.weights_file:
            cfg, params = load_weights(args.weights_file, args.manifest, cfg, device, prec)
            result["weights"] = args.weights_file
        else:
            params = random_params(cfg, args.seed, device, prec)
            result["weights"] = f"random seed {args.seed}"
        if args.inputs:
            lat, ctx, t = load_inputs(args.inputs, args.inputs_manifest, cfg, device)
            shape_name = "x".join(map(str, lat.shape[1:]))
            result["shape"] = shape_name
        else:
            lat, ctx, t = random_inputs(cfg, args.seed, latent, args.batch,
                                        args.context_len or cfg.text_len, args.timestep, device)
        if is_cuda:
            torch.cuda.synchronize(device)
        gib = sum(p.numel() * p.element_size() for p in params.values()) / 2**30
        print(f"weights ({sum(p.numel() for p in params.values()):,} params, {gib:.2f} GiB as stored) and inputs "
              f"{list(lat.shape)} ready in {time.time() - t_load:.1f}s", file=sys.stderr)
        attn = Attention(prec, backends)
        model = WanDiT(cfg, params, prec, attn)
        run = lambda: model.forward(lat, t, ctx)  # noqa: E731
        if is_cuda:
            torch.cuda.reset_peak_memory_stats(device)
        with torch.inference_mode():
            if args.bench:
                ms = time_cuda(run, args.warmup, args.reps)
                med = statistics.median(ms)
                backend = attention_report(attn)
                result.update({"kind": "forward", "batch": lat.shape[0], "latent": list(lat.shape[1:]),
                               "tokens": math.prod(d // p for d, p in zip(lat.shape[2:], cfg.patch_size)),
                               "context_lens": [c.shape[0] for c in ctx], "timestep": t.tolist(), "ms": ms,
                               "ms_median": med, "peak_mem_GiB": peak(), "weights_GiB": gib})
                print(f"TORCH_DIT {cname} {shape_name} {lat.shape[0]} {med:.2f} {backend} {peak():.2f}")
                print(f"  (reps {[round(m, 2) for m in ms]}; peak includes the {gib:.2f} GiB of weights)",
                      file=sys.stderr)
            if args.forward_out:
                t0 = time.time()
                out = run()
                if is_cuda:
                    torch.cuda.synchronize(device)
                ms1 = (time.time() - t0) * 1e3
                backend = attention_report(attn)
                a = np.ascontiguousarray(out.detach().to(torch.float32).cpu().numpy(), dtype="<f4")
                a.tofile(args.forward_out)
                finite = bool(np.isfinite(a).all())
                print(f"TORCH_DIT_FORWARD {cname} shape={list(a.shape)} backend={backend} ms={ms1:.1f} "
                      f"finite={finite} rms={float(np.sqrt(np.mean(a.astype(np.float64) ** 2))):.6g} "
                      f"-> {args.forward_out}")
                result["forward_out"] = {"path": args.forward_out, "shape": list(a.shape), "finite": finite,
                                         "ms": ms1}

    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
