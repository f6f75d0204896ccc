#!/usr/bin/env python3
"""Self-checks of wan_oracle.py. Plain asserts: `python3 test_wan_oracle.py`."""

from __future__ import annotations

import cmath
import json
import math
import os
import struct
import tempfile

import numpy as np

import wan_oracle as wo

TINY = wo.CONFIGS["wan-tiny"]
M64 = (1 << 64) - 1


# ----------------------------------------------------------------------------- generator, second way (ints only)


def splitmix64_int(x: int) -> int:
    z = (x + 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def fnv1a64_int(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & M64
    return h


def value_int(name: str, shape, dim: int, seed: int, i: int) -> float:
    base = fnv1a64_int(name.encode()) ^ ((seed * 0x9E3779B97F4A7C15) & M64)
    u = (splitmix64_int((base + i) & M64) >> 40) / 2.0 ** 24
    v = 2 * u - 1
    if len(shape) == 1 and (name.endswith("norm_q.weight") or name.endswith("norm_k.weight")
                            or name.endswith("norm3.weight")):
        val = 1 + 0.1 * v
    elif len(shape) == 1:
        val = 0.02 * v
    elif name.endswith("modulation"):
        val = v / math.sqrt(dim)
    else:
        val = v / math.sqrt(math.prod(shape[1:]))
    return struct.unpack("<f", struct.pack("<f", val))[0]  # round to float32


def test_known_hash_values():
    # Published reference values: SplitMix64 seeded with 0 gives 0xE220A8397B1DCDAF first;
    # FNV-1a 64 of "" is the offset basis, of "a" is 0xAF63DC4C8601EC8C.
    assert splitmix64_int(0) == 0xE220A8397B1DCDAF
    assert fnv1a64_int(b"") == 0xCBF29CE484222325
    assert fnv1a64_int(b"a") == 0xAF63DC4C8601EC8C
    assert wo.fnv1a64(b"a") == 0xAF63DC4C8601EC8C
    xs = [0, 1, 12345, M64, M64 - 0x9E3779B97F4A7C15, 0x0123456789ABCDEF]
    got = wo.splitmix64_np(np.array(xs, dtype=np.uint64))
    assert [int(g) for g in got] == [splitmix64_int(x) for x in xs]


def test_generator_matches_int_version():
    shapes = dict(wo.key_shapes(TINY))
    for seed in (0, 1234, 2 ** 40 + 7):
        wts = wo.make_weights(TINY, seed)
        for name in ("patch_embedding.weight", "patch_embedding.bias", "text_embedding.0.weight",
                     "time_projection.1.weight", "blocks.0.modulation", "blocks.0.self_attn.norm_q.weight",
                     "blocks.1.cross_attn.norm_k.weight", "blocks.1.norm3.weight", "blocks.1.norm3.bias",
                     "blocks.1.ffn.2.weight", "head.modulation", "head.head.weight", "head.head.bias"):
            flat = wts[name].reshape(-1)
            n = flat.size
            for i in list(range(6)) + [n // 2, n - 1]:
                want = value_int(name, shapes[name], TINY.dim, seed, i)
                assert flat[i] == want, (seed, name, i, flat[i], want)
    lat, ctx = wo.make_inputs(TINY, 1234, [16, 3, 8, 8], 7)
    for arr, name in ((lat, "input.latents"), (ctx, "input.context")):
        flat = arr.reshape(-1)
        for i in (0, 1, 2, flat.size - 1):
            base = fnv1a64_int(name.encode()) ^ ((1234 * 0x9E3779B97F4A7C15) & M64)
            v = 2 * ((splitmix64_int((base + i) & M64) >> 40) / 2.0 ** 24) - 1
            assert flat[i] == v  # 24-bit values: float32 rounding is exact
    # value ranges of the scaling rules
    w = wo.make_weights(TINY, 1234)
    assert np.all(np.abs(w["blocks.0.self_attn.norm_q.weight"] - 1) <= 0.1 + 1e-7)
    assert np.all(np.abs(w["blocks.0.self_attn.q.bias"]) <= 0.02 + 1e-9)
    assert np.all(np.abs(w["blocks.0.modulation"]) <= 1 / 16 + 1e-7)
    assert np.all(np.abs(w["patch_embedding.weight"]) <= 1 / 8 + 1e-7)  # fan-in 16*1*2*2 = 64
    assert np.all(np.abs(w["blocks.0.ffn.2.weight"]) <= 1 / math.sqrt(512) + 1e-7)


def test_key_list_counts():
    # Section 3.2: 825 tensors / 1,418,996,800 params (1.3B); 1,095 / 14,288,491,584 (14B).
    for name, tensors, params in (("wan-1.3b", 825, 1_418_996_800), ("wan-14b", 1095, 14_288_491_584)):
        ks = wo.key_shapes(wo.CONFIGS[name])
        assert len(ks) == tensors and len({k for k, _ in ks}) == tensors
        assert sum(math.prod(s) for _, s in ks) == params, name
    assert len(wo.key_shapes(TINY)) == 15 + 27 * 2


# ----------------------------------------------------------------------------- math pieces


def test_sinusoid_cos_first():
    t = 500
    s = wo.sinusoid(256, t)
    assert s.shape == (256,)
    for j in (0, 1, 64, 127):
        a = t * 10000.0 ** (-j / 128)
        assert abs(s[j] - math.cos(a)) < 1e-15 and abs(s[128 + j] - math.sin(a)) < 1e-15


def test_rope_split_and_complex_formula():
    assert wo.rope_axis_dims(128) == (44, 42, 42)
    assert wo.rope_pair_split(128) == (22, 21, 21)
    grid = (3, 4, 5)
    n = grid[0] * grid[1] * grid[2]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 256))
    got = wo.rope_apply(x, wo.rope_angles(grid, 128), 2)
    for s in (0, 1, 7, 23, n - 1):
        f, rem = divmod(s, grid[1] * grid[2])
        h, w = divmod(rem, grid[2])
        for head in range(2):
            for j in range(64):
                if j < 22:
                    ang = f * 10000.0 ** (-2 * j / 44)
                elif j < 43:
                    ang = h * 10000.0 ** (-2 * (j - 22) / 42)
                else:
                    ang = w * 10000.0 ** (-2 * (j - 43) / 42)
                o = head * 128 + 2 * j
                z = complex(x[s, o], x[s, o + 1]) * cmath.exp(1j * ang)
                assert abs(got[s, o] - z.real) < 1e-12 and abs(got[s, o + 1] - z.imag) < 1e-12
    # token (0,0,0) is not rotated; norms are preserved
    assert np.array_equal(got[0], x[0])
    assert np.allclose(np.linalg.norm(got, axis=1), np.linalg.norm(x, axis=1), rtol=1e-13)


def test_softmax_and_attention():
    rng = np.random.default_rng(1)
    p = wo.softmax(rng.standard_normal((5, 9)) * 30)
    assert np.all(p >= 0) and np.allclose(p.sum(axis=-1), 1.0, atol=1e-14)
    q, k, v = rng.standard_normal((4, 256)), rng.standard_normal((6, 256)), rng.standard_normal((6, 256))
    got = wo.attention(q, k, v, 2)
    for i in range(4):
        for h in range(2):
            sl = slice(h * 128, (h + 1) * 128)
            sc = [float(q[i, sl] @ k[j, sl]) / math.sqrt(128) for j in range(6)]
            m = max(sc)
            wts = [math.exp(a - m) for a in sc]
            z = sum(wts)
            want = sum((wts[j] / z) * v[j, sl] for j in range(6))
            assert np.allclose(got[i, sl], want, atol=1e-12)


def test_norms():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 256)) * 5 + 2
    y = wo.layer_norm(x, 1e-6)
    assert np.allclose(y.mean(-1), 0, atol=1e-12) and np.allclose((y ** 2).mean(-1), 1, atol=1e-6)
    r = wo.rms_norm(x, np.ones(256), 1e-6)
    assert np.allclose((r ** 2).mean(-1), 1, atol=1e-6)
    g = wo.gelu_tanh(np.array([0.0, 1.0, -3.0]))
    assert abs(g[1] - 0.5 * (1 + math.tanh(math.sqrt(2 / math.pi) * 1.044715))) < 1e-15 and g[0] == 0


def test_patchify_unpatchify_formulas():
    rng = np.random.default_rng(3)
    lat = rng.standard_normal((16, 2, 4, 6))
    w = rng.standard_normal((8, 16, 1, 2, 2))
    b = rng.standard_normal(8)
    tok, grid = wo.patchify(lat, w, b, (1, 2, 2))
    assert grid == (2, 2, 3)
    for f in range(2):
        for h in range(2):
            for ww in range(3):
                s = (f * 2 + h) * 3 + ww
                want = b + sum(w[:, c, 0, ph, pw] * lat[c, f, 2 * h + ph, 2 * ww + pw]
                               for c in range(16) for ph in range(2) for pw in range(2))
                assert np.allclose(tok[s], want, atol=1e-12)
    out_tok = rng.standard_normal((12, 64))
    vid = wo.unpatchify(out_tok, grid, (1, 2, 2), 16)
    assert vid.shape == (16, 2, 4, 6)
    for c in (0, 5, 15):
        for f in range(2):
            for y in range(4):
                for x in range(6):
                    s = (f * 2 + y // 2) * 3 + x // 2
                    assert vid[c, f, y, x] == out_tok[s, ((y % 2) * 2 + (x % 2)) * 16 + c]


# ----------------------------------------------------------------------------- whole forward


def _run(wts=None, t=500, L=7, latent=(16, 3, 8, 8)):
    wts = wts if wts is not None else wo.make_weights(TINY, 1234)
    lat, ctx = wo.make_inputs(TINY, 1234, latent, L)
    return wo.forward(TINY, wts, lat, t, ctx)


def test_forward_deterministic_finite():
    out1, inter1 = _run()
    out2, _ = _run()
    assert out1.shape == (16, 3, 8, 8)
    assert np.array_equal(out1, out2)
    assert np.all(np.isfinite(out1))
    assert inter1["patchEmbedding"].shape == (48, 256)
    assert inter1["e0"].shape == (6 * 256,)
    assert inter1["context"].shape == (16, 256)
    # padded text rows are identical and non-zero (W2 gelu(b1) + b2), section 1.6
    ctx = inter1["context"]
    assert np.allclose(ctx[7:], ctx[7], atol=0) and np.abs(ctx[7]).max() > 1e-3
    # the output is not trivially small and depends on the timestep
    assert np.abs(out1).max() > 1e-2
    out3, _ = _run(t=999)
    assert not np.allclose(out1, out3)


def test_head_weight_matters():
    wts = wo.make_weights(TINY, 1234)
    out1, _ = _run(wts)
    wts2 = dict(wts)
    wts2["head.head.weight"] = wts["head.head.weight"].copy()
    wts2["head.head.weight"][3, 10] += 0.5
    out2, _ = _run(wts2)
    diff = out2 != out1
    assert diff.any()
    # row 3 of the head = (ph, pw, c) = (0, 0, 3): only channel 3 at even (y, x) changes
    assert diff[3, :, ::2, ::2].all() and diff.sum() == 3 * 4 * 4
    # zero head weight (the reference init) gives a constant-per-channel output = bias
    wts2["head.head.weight"] = np.zeros_like(wts["head.head.weight"])
    out0, _ = _run(wts2)
    assert out0[5, 1, 2, 3] == wts["head.head.bias"][((2 % 2) * 2 + 3 % 2) * 16 + 5]


def test_cross_attention_sees_padding():
    # Context rows beyond L are zero *before* the text MLP and are attended (no mask): appending a
    # real all-zero row must give exactly the same output as padding (L=7 plus a zero row == L=7).
    wts = wo.make_weights(TINY, 1234)
    lat, ctx = wo.make_inputs(TINY, 1234, (16, 1, 4, 4), 7)
    a, _ = wo.forward(TINY, wts, lat, 500, ctx)
    b, _ = wo.forward(TINY, wts, lat, 500, np.vstack([ctx, np.zeros((1, TINY.text_dim))]))
    assert np.array_equal(a, b)
    c, _ = wo.forward(TINY, wts, lat, 500, ctx[:6])
    assert not np.allclose(a, c)


def test_safetensors_and_fixture_roundtrip():
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "w.safetensors")
        wts = wo.make_weights(TINY, 1234)
        wo.write_safetensors(p, wts, {"seed": "1234"})
        raw = open(p, "rb").read()
        (hl,) = struct.unpack("<Q", raw[:8])
        assert hl % 8 == 0
        header = json.loads(raw[8:8 + hl])
        names = [k for k in header if k != "__metadata__"]
        assert names == sorted(wts) and list(header) == sorted(header)
        data = raw[8 + hl:]
        end = 0
        for k in names:
            a, b = header[k]["data_offsets"]
            assert a == end and header[k]["dtype"] == "F32"
            end = b
            arr = np.frombuffer(data[a:b], dtype="<f4").reshape(header[k]["shape"])
            assert np.array_equal(arr.astype(np.float64), wts[k])
        assert end == len(data)

        fx = os.path.join(d, "g.json")
        assert wo.main(["--seed", "1234", "--latent", "16,1,4,4", "--context-length", "3",
                        "--timestep", "10", "--out", fx]) == 0
        obj = json.load(open(fx))
        assert obj["output"]["shape"] == [16, 1, 4, 4] and len(obj["output"]["values"]) == 256
        assert set(obj["checkpoints"]) == {"patchEmbedding", "timeEmbedding", "e0", "context", "block0",
                                           "beforeHead"}
        assert all(len(v) == 16 for v in obj["checkpoints"].values())
        out, _ = _run(t=10, L=3, latent=(16, 1, 4, 4))
        assert obj["output"]["values"] == [float(v) for v in out.reshape(-1)]  # repr round-trips exactly


def test_committed_fixtures_current():
    here = os.path.dirname(os.path.abspath(__file__))
    fdir = os.path.join(here, "..", "src", "model", "fixtures")
    for fname in ("dit-golden.json", "dit-golden-t999-ctx16.json"):
        path = os.path.join(fdir, fname)
        if not os.path.exists(path):
            print(f"  (skip: {fname} not generated yet)")
            continue
        obj = json.load(open(path))
        out, _ = _run(t=obj["timestep"], L=obj["contextLength"], latent=tuple(obj["latentShape"]))
        assert obj["seed"] == 1234 and obj["config"] == TINY.to_json()
        assert obj["output"]["values"] == [float(v) for v in out.reshape(-1)], fname


if __name__ == "__main__":
    tests = [(k, v) for k, v in sorted(globals().items()) if k.startswith("test_") and callable(v)]
    for name, fn in tests:
        fn()
        print(f"ok  {name}")
    print(f"{len(tests)} tests passed")
