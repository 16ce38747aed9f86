"""LBP (paper Eqs. 1–2): bit-exact parity with scikit-image, the 3×3 variant against a naive loop.

Facts checked (DESIGN.md, "Facts to honour"): scikit-image's
``local_binary_pattern(P=8, R=1, method='default')`` interpolates the diagonal
neighbours bilinearly (bit 0 east, counter-clockwise), so an integer 3×3 LBP
differs from it on a large share of pixels; both variants are offered and the
interpolated one must match scikit-image on every pixel.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from skimage import data
from skimage.feature import local_binary_pattern

from smate_nb.preprocess.lbp import BIT_OFFSETS, lbp, lbp_image, rgb_to_gray


def sk_lbp(stack: np.ndarray) -> np.ndarray:
    """scikit-image reference, frame by frame, as uint8 codes."""
    flat = stack.reshape(-1, *stack.shape[-2:])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its float-input warning
        out = np.stack([local_binary_pattern(f, 8, 1, method="default") for f in flat])
    assert out.min() >= 0 and out.max() <= 255
    return out.astype(np.uint8).reshape(stack.shape)


def naive_3x3(img: np.ndarray) -> np.ndarray:
    """Eq. 1–2 on the 8 surrounding pixels, written as plainly as possible (zero outside)."""
    h, w = img.shape
    out = np.zeros((h, w), np.uint8)
    # bit p ↔ neighbour at angle 2πp/8 counter-clockwise from east (row up = north)
    offsets = [(0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1), (1, 0), (1, 1)]
    for r in range(h):
        for c in range(w):
            code = 0
            for p, (dr, dc) in enumerate(offsets):
                rr, cc = r + dr, c + dc
                g = img[rr, cc] if 0 <= rr < h and 0 <= cc < w else 0
                if g >= img[r, c]:
                    code += 2 ** p
            out[r, c] = code
    return out


RNG = np.random.default_rng(1234)


def _blocky(rng, n, h, w, block=(5, 7), levels=4) -> np.ndarray:
    coarse = rng.integers(0, levels, (n, -(-h // block[0]), -(-w // block[1])))
    big = np.kron(coarse, np.ones((1, *block), dtype=np.int64))[:, :h, :w]
    return (big * (255 // (levels - 1))).astype(np.uint8)


PARITY_CASES = {
    "random_uint8": RNG.integers(0, 256, (8, 48, 64), dtype=np.uint8),
    "random_low_contrast": RNG.integers(100, 104, (4, 40, 40), dtype=np.uint8),
    "flat_0": np.zeros((2, 17, 23), np.uint8),
    "flat_mid": np.full((2, 17, 23), 117, np.uint8),
    "flat_255": np.full((2, 17, 23), 255, np.uint8),
    "blocky": _blocky(RNG, 6, 45, 61),
    "odd_1x1": RNG.integers(0, 256, (3, 1, 1), dtype=np.uint8),
    "odd_1xN": RNG.integers(0, 256, (3, 1, 13), dtype=np.uint8),
    "odd_Nx1": RNG.integers(0, 256, (3, 11, 1), dtype=np.uint8),
    "odd_2x3": RNG.integers(0, 256, (3, 2, 3), dtype=np.uint8),
    "odd_37x53": RNG.integers(0, 256, (2, 37, 53), dtype=np.uint8),
    "tall_301x7": RNG.integers(0, 256, (1, 301, 7), dtype=np.uint8),
    "float32_unit": RNG.random((4, 29, 31)).astype(np.float32),
    "float64_flat": np.full((2, 19, 19), 0.3),
    "float64_blocky": _blocky(RNG, 3, 30, 30).astype(np.float64) / 255,
    "int16_wide_range": RNG.integers(-3000, 3000, (2, 21, 26)).astype(np.int16),
}


@pytest.mark.parametrize("name", sorted(PARITY_CASES))
def test_skimage_variant_matches_scikit_image_bit_for_bit(name):
    imgs = PARITY_CASES[name]
    ours = lbp(imgs, "skimage")
    assert ours.dtype == torch.uint8 and tuple(ours.shape) == imgs.shape
    ref = sk_lbp(imgs)
    mismatches = int((ours.numpy() != ref).sum())
    assert mismatches == 0, f"{mismatches} of {ref.size} pixels differ from scikit-image on {name}"


def test_skimage_parity_on_a_photograph_and_its_224_crops():
    gray = (rgb_to_gray(torch.from_numpy(data.astronaut()), channel_dim=-1)).numpy()
    crops = np.stack([gray[:224, :224], gray[100:324, 200:424], gray[288:, 288:]])
    batch = np.concatenate([gray[None, :224, :224], crops])
    assert int((lbp(gray).numpy() != sk_lbp(gray)).sum()) == 0
    assert int((lbp(batch).numpy() != sk_lbp(batch)).sum()) == 0


def test_batched_leading_dims_are_independent_images():
    x = RNG.integers(0, 256, (2, 3, 20, 24), dtype=np.uint8)  # B×T×H×W
    out = lbp(torch.from_numpy(x), "skimage")
    assert out.shape == (2, 3, 20, 24)
    for b in range(2):
        for t in range(3):
            assert torch.equal(out[b, t], lbp(x[b, t], "skimage"))


def test_chunked_path_equals_unchunked(monkeypatch):
    import smate_nb.preprocess.lbp as mod

    x = torch.from_numpy(RNG.integers(0, 256, (7, 33, 35), dtype=np.uint8))
    whole = {v: lbp(x, v) for v in ("skimage", "3x3")}
    monkeypatch.setattr(mod, "_CHUNK_PIXELS", {"skimage": 1, "3x3": 2 * 33 * 35})
    for v in ("skimage", "3x3"):
        assert torch.equal(lbp(x, v), whole[v])


@pytest.mark.parametrize("case", ["random", "flat", "blocky", "odd", "float"])
def test_3x3_variant_matches_naive_loop(case):
    imgs = {
        "random": RNG.integers(0, 256, (3, 13, 17), dtype=np.uint8),
        "flat": np.full((1, 6, 9), 42, np.uint8),
        "blocky": _blocky(RNG, 2, 14, 15, block=(3, 4)),
        "odd": RNG.integers(0, 256, (2, 1, 7), dtype=np.uint8),
        "float": RNG.random((2, 9, 11)).astype(np.float32),
    }[case]
    ours = lbp(imgs, "3x3").numpy()
    ref = np.stack([naive_3x3(f) for f in imgs])
    assert int((ours != ref).sum()) == 0


def test_bit_order_is_east_then_counter_clockwise():
    # One neighbour brighter than a dark centre, all others darker: only its bit is set.
    names = ["E", "NE", "N", "NW", "W", "SW", "S", "SE"]
    expected = [(0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1), (1, 0), (1, 1)]
    assert list(BIT_OFFSETS) == expected
    for p, (dr, dc) in enumerate(expected):
        diagonal = dr != 0 and dc != 0
        img = np.full((5, 5), 10, np.uint8)
        img[2, 2] = 50
        # skimage samples a diagonal at (±0.707, ±0.707): it sees 0.71² = 50 % of
        # a bright diagonal pixel (so make it bright), and 71 % of an axis
        # neighbour (so keep that one just above the centre, or it lifts the
        # two diagonals beside it over the threshold too).
        img[2 + dr, 2 + dc] = 200 if diagonal else 60
        for variant in ("3x3", "skimage"):
            code = int(lbp(img, variant)[2, 2])
            assert code == 1 << p, f"{variant}: {names[p]} neighbour gave code {code:08b}"


def test_variants_differ_on_natural_images_as_documented():
    gray = (rgb_to_gray(torch.from_numpy(data.astronaut()), channel_dim=-1))
    a, b = lbp(gray, "skimage"), lbp(gray, "3x3")
    frac = float((a != b).float().mean())
    assert 0.1 < frac < 0.6, frac
    # axis bits (0, 2, 4, 6) are identical: only interpolated diagonals differ
    axis = 0b01010101
    assert torch.equal(a & axis, b & axis)


def test_lbp_is_invariant_to_monotonic_brightness_for_3x3():
    x = torch.from_numpy(RNG.integers(0, 200, (2, 16, 16), dtype=np.uint8))
    assert torch.equal(lbp(x, "3x3")[:, 1:-1, 1:-1], lbp(x + 40, "3x3")[:, 1:-1, 1:-1])


def test_lbp_image_for_the_model():
    clips = torch.rand(2, 4, 3, 24, 20)  # B×T×C×H×W in [0, 1]
    img = lbp_image(clips, "skimage")
    assert img.shape == clips.shape and img.dtype == clips.dtype
    assert float(img.min()) >= 0 and float(img.max()) <= 1
    assert torch.equal(img[:, :, 0], img[:, :, 2])  # code map repeated on 3 channels
    gray_u8 = (rgb_to_gray(clips).clamp(0, 1) * 255 + 0.5).to(torch.uint8)
    codes = lbp(gray_u8, "skimage")
    assert torch.equal((img[:, :, 0] * 255).round().to(torch.uint8), codes)
    one = lbp_image((clips * 255).round().to(torch.uint8), "3x3", channels=1)
    assert one.shape == (2, 4, 1, 24, 20) and one.dtype == torch.float32


def test_rgb_to_gray_matches_opencv_within_one_level():
    import cv2

    rgb = data.astronaut()
    ours = rgb_to_gray(torch.from_numpy(rgb), channel_dim=-1).numpy().astype(int)
    ref = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(int)
    assert np.abs(ours - ref).max() <= 1


def test_bad_input_errors_name_the_problem():
    with pytest.raises(ValueError, match="variant"):
        lbp(np.zeros((4, 4), np.uint8), "lbp8")
    with pytest.raises(ValueError, match=r"\(\.\.\., H, W\)"):
        lbp(np.zeros(4, np.uint8))
    with pytest.raises(TypeError, match="numpy"):
        lbp([[1, 2], [3, 4]])
    with pytest.raises(ValueError, match="3, H, W"):
        lbp_image(torch.rand(2, 1, 8, 8))


def test_empty_batch():
    assert lbp(torch.zeros(0, 5, 6, dtype=torch.uint8)).shape == (0, 5, 6)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here; parity on GPU is checked where one exists")
def test_gpu_matches_cpu_bit_for_bit():
    x = torch.from_numpy(RNG.integers(0, 256, (4, 64, 64), dtype=np.uint8))
    for v in ("skimage", "3x3"):
        assert torch.equal(lbp(x.cuda(), v).cpu(), lbp(x, v))
    assert int((lbp(x.cuda()).cpu().numpy() != sk_lbp(x.numpy())).sum()) == 0


def test_skimage_parity_over_many_random_shapes_and_contents():
    rng = np.random.default_rng(7)
    total = 0
    for i in range(60):
        h, w = (int(v) for v in rng.integers(1, 70, 2))
        kind = i % 4
        if kind == 0:
            img = rng.integers(0, 256, (h, w), dtype=np.uint8)
        elif kind == 1:  # few levels → many ties with the centre
            img = (rng.integers(0, 3, (h, w)) * 100).astype(np.uint8)
        elif kind == 2:  # smooth ramp plus small noise
            yy, xx = np.mgrid[:h, :w]
            img = np.clip(xx * 3 + yy * 2 + rng.integers(0, 3, (h, w)), 0, 255).astype(np.uint8)
        else:
            img = _blocky(rng, 1, h, w, block=(int(rng.integers(1, 6)), int(rng.integers(1, 6))))[0]
        ours = lbp(img).numpy()
        assert int((ours != sk_lbp(img)).sum()) == 0, f"case {i}: {h}×{w} kind {kind}"
        total += img.size
    assert total > 50_000
