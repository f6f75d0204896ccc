#!/usr/bin/env python3
"""PyTorch oracle of the Wan2.1 VAE decoder (`WanVAE_.decode` of wan/modules/vae.py), for tiny CPU fixtures.

Written from ../../../../shared/reference/wan21-architecture.md section 6.1 and the reference source
`Wan-Video/Wan2.1:wan/modules/vae.py` (HEAD 9737cba9c1c3). The module classes below follow the reference class by
class (CausalConv3d, RMS_norm, Resample, ResidualBlock, AttentionBlock, Decoder3d, and the decoder half of WanVAE_),
so the state-dict keys are the reference's (`conv2.*`, `decoder.*`): a real Wan2.1_VAE.pth maps 1:1 (its
`encoder.*` and `conv1.*` tensors are the encoder's, not needed here). Differences from the reference, none of which
changes the math:
  - einops.rearrange is written as permute/reshape; F.scaled_dot_product_attention (PyTorch >= 2.0) is written out
    (softmax(q k^T / sqrt(c)) v) when absent, so the script runs on PyTorch 1.13 (Debian's python3-torch);
  - Upsample casts to float32 and back (the reference's bfloat16 fix) only for bfloat16 input, so a float64 run stays
    float64;
  - only the decoder side (conv2 + Decoder3d) is built; `attn_scales` is [] as in every Wan config.

`--check-reference PATH/TO/vae.py` imports the reference file itself (with small shims for einops and SDPA), loads the
same synthetic weights into its WanVAE_ and checks that its decoder keys, shapes and float32 output equal this
oracle's.

Fixtures (`--out`) hold float64 results (weights and latents are float32 values used in float64) at checkpoints of
every latent chunk (conv1, middle, upsample0-3, head) plus conv2 and the clamped output; each tensor as
{shape, sum, sumSquares (float64, whole tensor), stride, values (base64 float32 LE of elements 0, stride, ...)},
stride 1 up to 4096 elements. Regenerate (about 6 s, run from this directory with Debian's python3-torch):

    /usr/bin/python3 vae_decoder.py --seed 1234 --latent 16,3,4,6 --out ../src/vae/fixtures/vae-golden.json
    /usr/bin/python3 vae_decoder.py --check-reference /path/to/Wan2.1/wan/modules/vae.py   # rel L2 must be 0

Timing on a GPU machine (the baseline of bench/vae-decode.mjs, same shapes: the real config, default random init,
21 latent frames -> 81 frames; float32 with PyTorch's defaults as the reference runs it, and bfloat16), one
`TORCH_VAE config shape latent dtype ms ms/latent-frame peak_GiB tf32=0|1` line per dtype:

    python3 vae_decoder.py --config wan-vae --bench 720p [--bench-dtypes float32,bfloat16] [--bench-out t.json]
"""

from __future__ import annotations

import argparse
import base64
import importlib.util
import json
import math
import os
import sys
import types
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wan_oracle import uniform_pm1  # noqa: E402  (the splitmix64 / fnv1a64 generator shared with TypeScript)

CACHE_T = 2

# WanVAE.__init__ (vae.py:621-662): per-channel latent statistics; decode divides by scale[1] = 1 / std.
LATENT_MEAN = [-0.7571, -0.7089, -0.9113, 0.1075, -0.1745, 0.9653, -0.1517, 1.5508,
               0.4134, -0.0715, 0.5517, -0.3632, -0.1922, -0.9497, 0.2503, -0.2921]
LATENT_STD = [2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743,
              3.2687, 2.1526, 2.8652, 1.5579, 1.6382, 1.1253, 2.8251, 1.9160]


# ----------------------------------------------------------------------------- config


@dataclass(frozen=True)
class VaeConfig:
    dim: int = 96
    z_dim: int = 16
    dim_mult: Tuple[int, ...] = (1, 2, 4, 4)
    num_res_blocks: int = 2
    temperal_downsample: Tuple[bool, ...] = (False, True, True)

    @property
    def temperal_upsample(self) -> Tuple[bool, ...]:
        return tuple(self.temperal_downsample[::-1])

    def to_json(self) -> dict:
        return {"dim": self.dim, "zDim": self.z_dim, "dimMult": list(self.dim_mult),
                "numResBlocks": self.num_res_blocks, "temperalDownsample": list(self.temperal_downsample)}


CONFIGS: Dict[str, VaeConfig] = {
    # _video_vae (vae.py:592-616)
    "wan-vae": VaeConfig(dim=96),
    # Same structure, channels [32, 32, 32, 16, 8].
    "wan-vae-tiny": VaeConfig(dim=8),
}


# ----------------------------------------------------------------------------- modules (reference structure)


class CausalConv3d(nn.Conv3d):
    """Causal 3d convolution: spatial padding symmetric, temporal padding 2 * padding[0] frames in front only."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._padding = (self.padding[2], self.padding[2], self.padding[1],
                         self.padding[1], 2 * self.padding[0], 0)
        self.padding = (0, 0, 0)

    def forward(self, x, cache_x=None):
        padding = list(self._padding)
        if cache_x is not None and self._padding[4] > 0:
            cache_x = cache_x.to(x.device)
            x = torch.cat([cache_x, x], dim=2)
            padding[4] -= cache_x.shape[2]
        x = F.pad(x, padding)
        return super().forward(x)


class RMS_norm(nn.Module):
    def __init__(self, dim, channel_first=True, images=True, bias=False):
        super().__init__()
        broadcastable_dims = (1, 1, 1) if not images else (1, 1)
        shape = (dim, *broadcastable_dims) if channel_first else (dim,)
        self.channel_first = channel_first
        self.scale = dim ** 0.5
        self.gamma = nn.Parameter(torch.ones(shape))
        self.bias = nn.Parameter(torch.zeros(shape)) if bias else 0.

    def forward(self, x):
        return F.normalize(x, dim=(1 if self.channel_first else -1)) * self.scale * self.gamma + self.bias


class Upsample(nn.Upsample):
    # The reference casts to float32 and back (a bfloat16 fix); nearest-exact copies values, so that changes nothing:
    # done for bfloat16 only (the --bench runs), so a float64 run stays float64.
    def forward(self, x):
        if x.dtype == torch.bfloat16:
            return super().forward(x.float()).type_as(x)
        return super().forward(x)


def _frames_to_batch(x):  # rearrange(x, 'b c t h w -> (b t) c h w')
    b, c, t, h, w = x.shape
    return x.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)


def _batch_to_frames(x, t):  # rearrange(x, '(b t) c h w -> b c t h w', t=t)
    bt, c, h, w = x.shape
    return x.reshape(bt // t, t, c, h, w).permute(0, 2, 1, 3, 4)


class Resample(nn.Module):
    def __init__(self, dim, mode):
        assert mode in ('none', 'upsample2d', 'upsample3d')
        super().__init__()
        self.dim = dim
        self.mode = mode
        if mode == 'upsample2d':
            self.resample = nn.Sequential(Upsample(scale_factor=(2., 2.), mode='nearest-exact'),
                                          nn.Conv2d(dim, dim // 2, 3, padding=1))
        elif mode == 'upsample3d':
            self.resample = nn.Sequential(Upsample(scale_factor=(2., 2.), mode='nearest-exact'),
                                          nn.Conv2d(dim, dim // 2, 3, padding=1))
            self.time_conv = CausalConv3d(dim, dim * 2, (3, 1, 1), padding=(1, 0, 0))
        else:
            self.resample = nn.Identity()

    def forward(self, x, feat_cache=None, feat_idx=[0]):
        b, c, t, h, w = x.size()
        if self.mode == 'upsample3d':
            if feat_cache is not None:
                idx = feat_idx[0]
                if feat_cache[idx] is None:
                    # First chunk: no time upsampling (one latent frame -> one frame), remember that.
                    feat_cache[idx] = 'Rep'
                    feat_idx[0] += 1
                else:
                    cache_x = x[:, :, -CACHE_T:, :, :].clone()
                    # The reference tests `feat_cache[idx] != 'Rep'`, which is True for a tensor: same as isinstance.
                    if cache_x.shape[2] < 2 and not isinstance(feat_cache[idx], str):
                        cache_x = torch.cat([feat_cache[idx][:, :, -1, :, :].unsqueeze(2), cache_x], dim=2)
                    if cache_x.shape[2] < 2 and isinstance(feat_cache[idx], str):
                        cache_x = torch.cat([torch.zeros_like(cache_x), cache_x], dim=2)
                    if isinstance(feat_cache[idx], str):  # 'Rep': zero causal padding
                        x = self.time_conv(x)
                    else:
                        x = self.time_conv(x, feat_cache[idx])
                    feat_cache[idx] = cache_x
                    feat_idx[0] += 1
                    # Channels [0, c) are frame 2t, [c, 2c) frame 2t + 1.
                    x = x.reshape(b, 2, c, t, h, w)
                    x = torch.stack((x[:, 0, :, :, :, :], x[:, 1, :, :, :, :]), 3)
                    x = x.reshape(b, c, t * 2, h, w)
        t = x.shape[2]
        x = _frames_to_batch(x)
        x = self.resample(x)
        x = _batch_to_frames(x, t)
        return x


class ResidualBlock(nn.Module):
    def __init__(self, in_dim, out_dim, dropout=0.0):
        super().__init__()
        self.in_dim = in_dim
        self.out_dim = out_dim
        self.residual = nn.Sequential(
            RMS_norm(in_dim, images=False), nn.SiLU(),
            CausalConv3d(in_dim, out_dim, 3, padding=1),
            RMS_norm(out_dim, images=False), nn.SiLU(), nn.Dropout(dropout),
            CausalConv3d(out_dim, out_dim, 3, padding=1))
        self.shortcut = CausalConv3d(in_dim, out_dim, 1) if in_dim != out_dim else nn.Identity()

    def forward(self, x, feat_cache=None, feat_idx=[0]):
        h = self.shortcut(x)
        for layer in self.residual:
            if isinstance(layer, CausalConv3d) and feat_cache is not None:
                idx = feat_idx[0]
                cache_x = x[:, :, -CACHE_T:, :, :].clone()
                if cache_x.shape[2] < 2 and feat_cache[idx] is not None:
                    cache_x = torch.cat([feat_cache[idx][:, :, -1, :, :].unsqueeze(2), cache_x], dim=2)
                x = layer(x, feat_cache[idx])
                feat_cache[idx] = cache_x
                feat_idx[0] += 1
            else:
                x = layer(x)
        return x + h


def _explicit_sdpa(q, k, v):
    s = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
    return torch.matmul(torch.softmax(s, dim=-1), v)


_sdpa = getattr(F, 'scaled_dot_product_attention', _explicit_sdpa)


class AttentionBlock(nn.Module):
    """Single-head self-attention over the h*w positions of each frame."""

    def __init__(self, dim):
        super().__init__()
        self.dim = dim
        self.norm = RMS_norm(dim)
        self.to_qkv = nn.Conv2d(dim, dim * 3, 1)
        self.proj = nn.Conv2d(dim, dim, 1)

    def forward(self, x):
        identity = x
        b, c, t, h, w = x.size()
        x = _frames_to_batch(x)
        x = self.norm(x)
        q, k, v = self.to_qkv(x).reshape(b * t, 1, c * 3, -1).permute(0, 1, 3, 2).contiguous().chunk(3, dim=-1)
        x = _sdpa(q, k, v)
        x = x.squeeze(1).permute(0, 2, 1).reshape(b * t, c, h, w)
        x = self.proj(x)
        x = _batch_to_frames(x, t)
        return x + identity


def _cached_conv(layer, x, feat_cache, feat_idx):
    idx = feat_idx[0]
    cache_x = x[:, :, -CACHE_T:, :, :].clone()
    if cache_x.shape[2] < 2 and feat_cache[idx] is not None:
        cache_x = torch.cat([feat_cache[idx][:, :, -1, :, :].unsqueeze(2), cache_x], dim=2)
    x = layer(x, feat_cache[idx])
    feat_cache[idx] = cache_x
    feat_idx[0] += 1
    return x


class Decoder3d(nn.Module):
    def __init__(self, dim=128, z_dim=4, dim_mult=(1, 2, 4, 4), num_res_blocks=2, attn_scales=(),
                 temperal_upsample=(False, True, True), dropout=0.0):
        super().__init__()
        assert len(attn_scales) == 0, 'attn_scales is [] in every Wan config'
        self.dim = dim
        self.z_dim = z_dim
        self.dim_mult = list(dim_mult)
        self.num_res_blocks = num_res_blocks
        self.temperal_upsample = list(temperal_upsample)

        dims = [dim * u for u in [dim_mult[-1]] + list(dim_mult[::-1])]
        self.conv1 = CausalConv3d(z_dim, dims[0], 3, padding=1)
        self.middle = nn.Sequential(ResidualBlock(dims[0], dims[0], dropout), AttentionBlock(dims[0]),
                                    ResidualBlock(dims[0], dims[0], dropout))
        upsamples = []
        self.stage_ends = []  # index of the last module of each upsample stage (for checkpoints)
        for i, (in_dim, out_dim) in enumerate(zip(dims[:-1], dims[1:])):
            if i == 1 or i == 2 or i == 3:
                in_dim = in_dim // 2
            for _ in range(num_res_blocks + 1):
                upsamples.append(ResidualBlock(in_dim, out_dim, dropout))
                in_dim = out_dim
            if i != len(dim_mult) - 1:
                mode = 'upsample3d' if temperal_upsample[i] else 'upsample2d'
                upsamples.append(Resample(out_dim, mode=mode))
            self.stage_ends.append(len(upsamples) - 1)
        self.upsamples = nn.Sequential(*upsamples)
        self.head = nn.Sequential(RMS_norm(out_dim, images=False), nn.SiLU(), CausalConv3d(out_dim, 3, 3, padding=1))

    def forward(self, x, feat_cache=None, feat_idx=[0], trace=None):
        def record(name, value):
            if trace is not None:
                trace[name] = value.detach().clone()

        x = _cached_conv(self.conv1, x, feat_cache, feat_idx) if feat_cache is not None else self.conv1(x)
        record('conv1', x)
        for layer in self.middle:
            if isinstance(layer, ResidualBlock) and feat_cache is not None:
                x = layer(x, feat_cache, feat_idx)
            else:
                x = layer(x)
        record('middle', x)
        for j, layer in enumerate(self.upsamples):
            x = layer(x, feat_cache, feat_idx) if feat_cache is not None else layer(x)
            if j in self.stage_ends:
                record(f'upsample{self.stage_ends.index(j)}', x)
        for layer in self.head:
            if isinstance(layer, CausalConv3d) and feat_cache is not None:
                x = _cached_conv(layer, x, feat_cache, feat_idx)
            else:
                x = layer(x)
        record('head', x)
        return x


def count_conv3d(model):
    return sum(1 for m in model.modules() if isinstance(m, CausalConv3d))


class WanVaeDecoder(nn.Module):
    """The decoder half of WanVAE_: `conv2` and `decoder`, with WanVAE_.decode and WanVAE.decode's clamp."""

    def __init__(self, cfg: VaeConfig):
        super().__init__()
        self.cfg = cfg
        self.z_dim = cfg.z_dim
        self.conv2 = CausalConv3d(cfg.z_dim, cfg.z_dim, 1)
        self.decoder = Decoder3d(cfg.dim, cfg.z_dim, cfg.dim_mult, cfg.num_res_blocks, (),
                                 cfg.temperal_upsample, 0.0)

    def clear_cache(self):
        self._conv_num = count_conv3d(self.decoder)
        self._conv_idx = [0]
        self._feat_map = [None] * self._conv_num

    def decode(self, z, traces: Optional[List[dict]] = None):
        """z: [1, z_dim, F, H, W] normalised latents -> [1, 3, 1 + 4 (F - 1), 8 H, 8 W] (not clamped)."""
        self.clear_cache()
        # WanVAE.__init__: scale = [mean, 1.0 / std] as float32 tensors; decode: z / scale[1] + scale[0].
        mean = torch.tensor(LATENT_MEAN, dtype=torch.float32)
        inv_std = 1.0 / torch.tensor(LATENT_STD, dtype=torch.float32)
        z = (z / inv_std.to(device=z.device, dtype=z.dtype).view(1, self.z_dim, 1, 1, 1)
             + mean.to(device=z.device, dtype=z.dtype).view(1, self.z_dim, 1, 1, 1))
        x = self.conv2(z)
        if traces is not None:
            traces.append({'conv2': x.detach().clone()})
        outs = []
        for i in range(z.shape[2]):
            self._conv_idx = [0]
            trace = {} if traces is not None else None
            outs.append(self.decoder(x[:, :, i:i + 1, :, :], feat_cache=self._feat_map, feat_idx=self._conv_idx,
                                     trace=trace))
            if traces is not None:
                traces.append(trace)
        self.clear_cache()
        return torch.cat(outs, 2)


# ----------------------------------------------------------------------------- synthetic weights and inputs


def key_shapes(cfg: VaeConfig) -> List[Tuple[str, Tuple[int, ...]]]:
    """The state-dict keys (reference names) and shapes of conv2 + decoder, in state-dict order."""
    with torch.no_grad():
        model = WanVaeDecoder(cfg)
        return [(k, tuple(v.shape)) for k, v in model.state_dict().items()]


def synthetic_tensor(name: str, shape: Sequence[int], seed: int) -> np.ndarray:
    """Float32 values (as float64): `*.gamma` 1 + 0.1 v; other 1-D (biases) 0.02 v; weights v / sqrt(fan-in)."""
    n = int(np.prod(shape))
    v = uniform_pm1(name, n, seed)
    if name.endswith('gamma'):
        val = 1.0 + 0.1 * v
    elif len(shape) == 1:
        val = 0.02 * v
    else:
        val = v / math.sqrt(int(np.prod(shape[1:])))
    return val.astype(np.float32).astype(np.float64).reshape(tuple(shape))


def make_weights(cfg: VaeConfig, seed: int) -> Dict[str, np.ndarray]:
    return {name: synthetic_tensor(name, shape, seed) for name, shape in key_shapes(cfg)}


def make_latents(cfg: VaeConfig, seed: int, latent_shape: Sequence[int]) -> np.ndarray:
    """`vae.latents` [z_dim, F, H, W]: 2 v, uniform in [-2, 2) (exact in float32)."""
    if len(latent_shape) != 4 or latent_shape[0] != cfg.z_dim:
        raise ValueError(f'latent shape must be [{cfg.z_dim}, F, H, W], got {list(latent_shape)}')
    return (2.0 * uniform_pm1('vae.latents', int(np.prod(latent_shape)), seed)).reshape(tuple(latent_shape))


def build_model(cfg: VaeConfig, weights: Dict[str, np.ndarray], dtype) -> WanVaeDecoder:
    model = WanVaeDecoder(cfg).to(dtype).eval()
    model.load_state_dict({k: torch.from_numpy(v).to(dtype) for k, v in weights.items()}, strict=True)
    return model


def run(cfg: VaeConfig, seed: int, latent_shape: Sequence[int], dtype=torch.float64, traces=None):
    wts = make_weights(cfg, seed)
    lat = make_latents(cfg, seed, latent_shape)
    model = build_model(cfg, wts, dtype)
    with torch.no_grad():
        out = model.decode(torch.from_numpy(lat).to(dtype).unsqueeze(0), traces)
    return out.squeeze(0)


# ----------------------------------------------------------------------------- reference cross-check


def _rearrange(x, pattern, **sizes):
    pattern = ' '.join(pattern.split())
    if pattern == 'b c t h w -> (b t) c h w':
        return _frames_to_batch(x)
    if pattern in ('(b t) c h w -> b c t h w', '(b t) c h w-> b c t h w'):
        return _batch_to_frames(x, sizes['t'])
    raise NotImplementedError(pattern)


def load_reference(path: str):
    if 'einops' not in sys.modules:
        sys.modules['einops'] = types.SimpleNamespace(rearrange=_rearrange)
    if not hasattr(F, 'scaled_dot_product_attention'):
        F.scaled_dot_product_attention = _explicit_sdpa
    spec = importlib.util.spec_from_file_location('wan_reference_vae', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def check_reference(path: str, cfg: VaeConfig, seed: int, latent_shape: Sequence[int]) -> float:
    ref = load_reference(path)
    model = ref.WanVAE_(dim=cfg.dim, z_dim=cfg.z_dim, dim_mult=list(cfg.dim_mult),
                        num_res_blocks=cfg.num_res_blocks, attn_scales=[],
                        temperal_downsample=list(cfg.temperal_downsample), dropout=0.0).eval()
    ref_keys = [(k, tuple(v.shape)) for k, v in model.state_dict().items()
                if k.startswith('decoder.') or k.startswith('conv2.')]
    ours = key_shapes(cfg)
    if sorted(ref_keys) != sorted(ours):
        raise SystemExit(f'key mismatch: reference-only {sorted(set(ref_keys) - set(ours))[:5]}, '
                         f'oracle-only {sorted(set(ours) - set(ref_keys))[:5]}')
    wts = make_weights(cfg, seed)
    missing, unexpected = model.load_state_dict({k: torch.from_numpy(v).float() for k, v in wts.items()},
                                                strict=False)
    assert not unexpected and all(k.startswith(('encoder.', 'conv1.')) for k in missing), (missing, unexpected)
    lat = torch.from_numpy(make_latents(cfg, seed, latent_shape)).float().unsqueeze(0)
    scale = [torch.tensor(LATENT_MEAN, dtype=torch.float32), 1.0 / torch.tensor(LATENT_STD, dtype=torch.float32)]
    with torch.no_grad():
        want = model.decode(lat, scale).clamp(-1, 1).squeeze(0).double()
    got = run(cfg, seed, latent_shape, torch.float32).clamp(-1, 1).double()
    return rel_l2(got, want)


# ----------------------------------------------------------------------------- timing (GPU)


LATENT_SIZES = {'480p': (60, 104), '720p': (90, 160)}


def bench(cfg_name: str, shape: str, frames: int, dtypes: Sequence[str], reps: int) -> List[dict]:
    """Times `decode` (+ clamp) on CUDA at the real shapes with the modules' default random init (the values do not
    change the time), after a warm-up decode of 2 latent frames (cuDNN's algorithm choice). float32 runs with PyTorch's
    defaults, as the reference does (cuDNN convolutions may use TF32: torch.backends.cudnn.allow_tf32); bfloat16 runs
    the whole decoder in bfloat16 (Upsample through float32, as the reference's fix). Prints one line
    `TORCH_VAE config shape latent dtype ms_median ms_per_latent_frame peak_GiB tf32` per dtype."""
    if not torch.cuda.is_available():
        raise SystemExit('--bench needs a CUDA device')
    cfg = CONFIGS[cfg_name]
    h, w = LATENT_SIZES[shape]
    dev = torch.device('cuda')
    torch.backends.cudnn.benchmark = True
    rows = []
    for name in dtypes:
        dtype = {'float32': torch.float32, 'bfloat16': torch.bfloat16}[name]
        torch.manual_seed(0)
        model = WanVaeDecoder(cfg).to(device=dev, dtype=dtype).eval()
        gen = torch.Generator(device=dev).manual_seed(1)
        z = torch.rand((1, cfg.z_dim, frames, h, w), generator=gen, device=dev, dtype=torch.float32).mul_(4).sub_(2).to(dtype)
        with torch.no_grad():
            model.decode(z[:, :, :2]).clamp_(-1, 1)
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            times = []
            for _ in range(reps):
                start = torch.cuda.Event(enable_timing=True)
                end = torch.cuda.Event(enable_timing=True)
                start.record()
                out = model.decode(z).clamp_(-1, 1)
                end.record()
                torch.cuda.synchronize()
                times.append(start.elapsed_time(end))
                del out
        times.sort()
        ms = times[len(times) // 2]
        peak = torch.cuda.max_memory_allocated() / 2 ** 30
        tf32 = torch.backends.cudnn.allow_tf32 if dtype == torch.float32 else False
        print(f'TORCH_VAE {cfg_name} {shape} 16x{frames}x{h}x{w} {name} {ms:.0f} {ms / frames:.1f} {peak:.2f} '
              f'tf32={int(tf32)}  (ms, ms/latent frame, peak GiB)', flush=True)
        rows.append({'config': cfg_name, 'shape': shape, 'latent': [16, frames, h, w], 'dtype': name, 'msMedian': ms,
                     'msMin': times[0], 'peakGiB': peak, 'cudnnTf32': bool(tf32)})
        del model, z
        torch.cuda.empty_cache()
    return rows


# ----------------------------------------------------------------------------- fixtures


def rel_l2(a, b) -> float:
    a = torch.as_tensor(a, dtype=torch.float64).reshape(-1)
    b = torch.as_tensor(b, dtype=torch.float64).reshape(-1)
    den = float(torch.linalg.norm(b))
    return float(torch.linalg.norm(a - b)) / (den if den > 0 else 1.0)


FULL_LIMIT = 4096
SAMPLES = 2048


def encode_tensor(t: torch.Tensor) -> dict:
    """`{shape, sum, sumSquares, stride, values}`: values = base64 float32 LE of elements 0, stride, 2 stride, ...
    (stride 1: the whole tensor when it has at most 4096 elements; else an odd stride giving at most 2048 samples).
    sum and sumSquares are over every element, in float64."""
    flat = t.detach().to(torch.float64).reshape(-1).numpy()
    n = flat.size
    stride = 1 if n <= FULL_LIMIT else (math.ceil(n / SAMPLES) | 1)
    vals = flat[::stride].astype('<f4')
    if not np.all(np.isfinite(vals)):
        raise ValueError('non-finite value in the oracle output')
    return {'shape': list(t.shape), 'sum': float(flat.sum()), 'sumSquares': float((flat * flat).sum()),
            'stride': stride, 'values': base64.b64encode(vals.tobytes()).decode('ascii')}


def build_fixture(cfg_name: str, seed: int, latent_shape: Sequence[int]) -> dict:
    cfg = CONFIGS[cfg_name]
    traces: List[dict] = []
    out = run(cfg, seed, latent_shape, torch.float64, traces)
    out32 = run(cfg, seed, latent_shape, torch.float32)
    clamped = out.clamp(-1, 1)
    wts = make_weights(cfg, seed)
    lat = make_latents(cfg, seed, latent_shape)
    chunks = [{k: encode_tensor(v.squeeze(0)) for k, v in tr.items()} for tr in traces[1:]]
    samples = ['conv2.weight', 'decoder.conv1.bias', 'decoder.middle.0.residual.0.gamma',
               'decoder.middle.1.to_qkv.weight', 'decoder.upsamples.3.time_conv.weight', 'decoder.head.2.weight']
    return {
        'description': 'Wan2.1 VAE decoder (WanVAE_.decode + clamp), float64 PyTorch oracle '
                       '(packages/wan/oracle/vae_decoder.py); synthetic weights and latents from the '
                       'splitmix64/fnv1a64 generator; tensors as base64 float32 little-endian (see the oracle README).',
        'config': cfg_name,
        'configFields': cfg.to_json(),
        'seed': seed,
        'latentShape': list(latent_shape),
        'keys': [[k, list(s)] for k, s in key_shapes(cfg)],
        'conv2': encode_tensor(traces[0]['conv2'].squeeze(0)),
        'chunks': chunks,
        'output': encode_tensor(clamped),
        'clampedFraction': float(((out.abs() > 1).sum() / out.numel())),
        'float32RelL2': rel_l2(out32.clamp(-1, 1), clamped),
        'generatorSamples': {
            'vae.latents': [float(v) for v in lat.reshape(-1)[:8]],
            **{n: [float(v) for v in wts[n].reshape(-1)[:8]] for n in samples if n in wts},
        },
    }


def dumps_fixture(obj: dict) -> str:
    def enc(v, indent):
        pad = '  ' * indent
        if isinstance(v, list) and v and isinstance(v[0], list):
            return '[\n' + ',\n'.join(f'{pad}  {json.dumps(x, separators=(", ", ": "))}' for x in v) + '\n' + pad + ']'
        if isinstance(v, dict) and not ('values' in v and 'shape' in v):
            items = [f'{pad}  {json.dumps(k)}: {enc(val, indent + 1)}' for k, val in v.items()]
            return '{\n' + ',\n'.join(items) + '\n' + pad + '}'
        if isinstance(v, list) and v and isinstance(v[0], dict):
            return '[\n' + ',\n'.join(f'{pad}  {enc(x, indent + 1)}' for x in v) + '\n' + pad + ']'
        return json.dumps(v, separators=(', ', ': '), allow_nan=False)
    return enc(obj, 0) + '\n'


def _ints(s: str) -> List[int]:
    return [int(p) for p in s.split(',') if p.strip()]


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--config', default='wan-vae-tiny', choices=sorted(CONFIGS))
    ap.add_argument('--seed', type=int, default=1234)
    ap.add_argument('--latent', type=_ints, default=[16, 3, 4, 6], help='C,F,H,W (default 16,3,4,6)')
    ap.add_argument('--out', help='write the golden fixture JSON here')
    ap.add_argument('--keys', action='store_true', help='print the key list (name shape) and the parameter count')
    ap.add_argument('--check-reference', metavar='VAE_PY',
                    help="import the reference wan/modules/vae.py and compare keys and float32 output")
    ap.add_argument('--bench', choices=sorted(LATENT_SIZES),
                    help='time the decoder on CUDA at this size (with --config wan-vae: the real shapes)')
    ap.add_argument('--bench-frames', type=int, default=21, help='latent frames of --bench (default 21: 81 frames)')
    ap.add_argument('--bench-dtypes', default='float32,bfloat16', help='comma-separated: float32, bfloat16')
    ap.add_argument('--bench-reps', type=int, default=1)
    ap.add_argument('--bench-out', help='write the --bench rows as JSON here')
    args = ap.parse_args(argv)
    if args.seed < 0:
        ap.error('--seed must be >= 0')
    cfg = CONFIGS[args.config]
    torch.set_num_threads(max(1, min(8, os.cpu_count() or 1)))
    if args.keys:
        ks = key_shapes(cfg)
        for k, s in ks:
            print(k, list(s))
        print(f'{len(ks)} tensors, {sum(int(np.prod(s)) for _, s in ks):,} parameters', file=sys.stderr)
    if args.check_reference:
        err = check_reference(args.check_reference, cfg, args.seed, args.latent)
        print(f'reference check: keys equal, float32 output rel L2 {err:.3e}', file=sys.stderr)
        if err > 1e-6:
            return 1
    if args.out:
        fx = build_fixture(args.config, args.seed, args.latent)
        with open(args.out, 'w', encoding='utf-8') as f:
            f.write(dumps_fixture(fx))
        print(f"wrote {args.out} (output {fx['output']['shape']}, float32 rel L2 {fx['float32RelL2']:.2e}, "
              f"clamped {fx['clampedFraction']:.3f})", file=sys.stderr)
    if args.bench:
        rows = bench(args.config, args.bench, args.bench_frames, [d for d in args.bench_dtypes.split(',') if d],
                     args.bench_reps)
        if args.bench_out:
            with open(args.bench_out, 'w', encoding='utf-8') as f:
                json.dump(rows, f, indent=2)
    if not (args.keys or args.check_reference or args.out or args.bench):
        ap.error('nothing to do: give --out, --keys, --check-reference and/or --bench')
    return 0


if __name__ == '__main__':
    sys.exit(main())
