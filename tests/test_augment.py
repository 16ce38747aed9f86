"""Clip augmentation (paper §3.1.2, Fig. 4): each transform alone, then the seeded per-clip pipeline."""
from __future__ import annotations

import colorsys

import numpy as np
import pytest
import torch

from smate_nb.preprocess import augment as A


def clips(b=2, t=3, c=3, h=32, w=32, seed=0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(b, t, c, h, w, generator=g)


def smooth_clips(b=2, t=3, h=64, w=64) -> torch.Tensor:
    """Low-frequency content: bilinear resampling errors stay small, so geometric round trips are checkable."""
    yy, xx = torch.meshgrid(torch.linspace(0, 1, h), torch.linspace(0, 1, w), indexing="ij")
    base = torch.stack([0.5 + 0.4 * torch.sin(3 * xx + 2 * yy), 0.5 + 0.4 * torch.cos(2 * xx - 3 * yy),
                        0.5 + 0.3 * torch.sin(4 * yy)])
    return base.expand(b, t, 3, h, w).clone()


# ----------------------------------------------------------------- geometry, one at a time


def test_hflip_twice_is_identity_and_mask_selects_clips():
    x = clips()
    assert torch.equal(A.hflip(A.hflip(x)), x)
    y = A.hflip(x, torch.tensor([True, False]))
    assert torch.equal(y[0], x[0].flip(-1)) and torch.equal(y[1], x[1])


def test_rotation_by_theta_then_minus_theta_restores_the_centre():
    x = smooth_clips()
    for angle in (2.0, 5.0, 7.0, -7.0, 30.0):
        back = A.rotate(A.rotate(x, angle), -angle)
        centre = (slice(None),) * 3 + (slice(16, 48), slice(16, 48))
        err = (back[centre] - x[centre]).abs().max().item()
        assert err < 0.01, (angle, err)


def test_rotation_direction_and_exact_quarter_turn():
    x = clips(h=16, w=16)
    assert torch.allclose(A.rotate(x, 90.0), torch.rot90(x, 1, dims=(-2, -1)), atol=1e-5)
    assert torch.allclose(A.rotate(x, 0.0), x, atol=1e-6)
    # a dot right of centre moves *up* (counter-clockwise on screen) for +30°
    img = torch.zeros(1, 1, 1, 33, 33)
    img[..., 16, 28] = 1
    r, c = divmod(int(A.rotate(img, 30.0)[0, 0, 0].argmax()), 33)
    assert (r, c) == (10, 26)  # 12 px at 30°: (16 − 6, 16 + 10.4)


def test_rotation_per_clip_angles_and_non_square_frames():
    x = smooth_clips(b=2, h=40, w=64)
    y = A.rotate(x, torch.tensor([5.0, 0.0]))
    assert torch.allclose(y[1], x[1], atol=1e-6) and not torch.allclose(y[0], x[0], atol=1e-3)
    back = A.rotate(y, torch.tensor([-5.0, 0.0]))
    assert (back[0, :, :, 12:28, 20:44] - x[0, :, :, 12:28, 20:44]).abs().max() < 0.01


def test_center_crop_and_per_clip_crop_copy_pixels_exactly():
    x = clips(h=10, w=12)
    cc = A.center_crop(x, 6)
    assert torch.equal(cc, x[..., 2:8, 3:9])
    y = A.crop(x, torch.tensor([0, 4]), torch.tensor([5, 1]), 6)
    assert torch.equal(y[0], x[0, ..., 0:6, 5:11]) and torch.equal(y[1], x[1, ..., 4:10, 1:7])
    parts = A.crop(x, torch.tensor([0, 1]), torch.tensor([0, 1]), torch.tensor([5, 7]))
    assert [tuple(p.shape[-2:]) for p in parts] == [(5, 5), (7, 7)]
    with pytest.raises(ValueError, match="leaves"):
        A.crop(x, torch.tensor([6, 0]), torch.tensor([0, 0]), 6)
    with pytest.raises(ValueError, match="larger than frames"):
        A.center_crop(x, 11)


def test_resize_keeps_constants_and_test_transform_sizes():
    x = torch.full((1, 2, 3, 40, 30), 0.25)
    y = A.resize(x, 17)
    assert y.shape == (1, 2, 3, 17, 17) and torch.allclose(y, torch.full_like(y, 0.25), atol=1e-6)
    assert A.resize_short(torch.rand(1, 1, 3, 40, 30), 15).shape[-2:] == (20, 15)
    assert A.test_transform(torch.rand(1, 2, 3, 256, 256), 224).shape[-2:] == (224, 224)
    # resize 256 → crop 224 scaled: crop 64 implies resize round(64·256/224) = 73
    x = torch.rand(1, 1, 3, 100, 100)
    assert torch.equal(A.test_transform(x, 64), A.center_crop(A.resize(x, 73), 64))
    assert A.test_transform(x, 32, 36).shape[-2:] == (32, 32)
    u8 = (x * 255).to(torch.uint8)
    assert A.test_transform(u8, 64).dtype == torch.float32


# ----------------------------------------------------------------- colour


def test_hls_matches_colorsys_and_round_trips():
    x = clips(b=1, t=1, h=6, w=7)
    hls = A.rgb_to_hls(x)
    for (i, j) in [(0, 0), (3, 4), (5, 6)]:
        ref = colorsys.rgb_to_hls(*x[0, 0, :, i, j].tolist())
        assert np.allclose(hls[0, 0, :, i, j].tolist(), ref, atol=1e-6)
    assert torch.allclose(A.hls_to_rgb(hls), x, atol=1e-6)
    grey = torch.full((1, 1, 3, 2, 2), 0.4)
    assert torch.allclose(A.hls_to_rgb(A.rgb_to_hls(grey)), grey, atol=1e-7)


def test_adjust_hls_identity_hue_rotation_and_desaturation():
    x = clips()
    assert torch.allclose(A.adjust_hls(x), x, atol=1e-6)
    red = torch.zeros(1, 1, 3, 2, 2)
    red[:, :, 0] = 1
    assert torch.allclose(A.adjust_hls(red, hue=1 / 3), torch.roll(red, 1, dims=2), atol=1e-6)  # → green
    d = A.adjust_hls(x, saturation=0.0)
    assert torch.allclose(d[:, :, 0], d[:, :, 1], atol=1e-6) and torch.allclose(d[:, :, 1], d[:, :, 2], atol=1e-6)
    back = A.adjust_hls(A.adjust_hls(x, hue=0.1), hue=-0.1)
    assert torch.allclose(back, x, atol=1e-5)
    darker = A.adjust_hls(x, lightness=torch.tensor([0.5, 1.0]))
    assert darker[0].mean() < x[0].mean() and torch.allclose(darker[1], x[1], atol=1e-6)


def test_grayscale_uses_bt601_and_only_masked_clips():
    x = clips()
    g = A.grayscale(x, torch.tensor([True, False]))
    luma = 0.299 * x[0, :, 0] + 0.587 * x[0, :, 1] + 0.114 * x[0, :, 2]
    for ch in range(3):
        assert torch.allclose(g[0, :, ch], luma, atol=1e-6)
    assert torch.equal(g[1], x[1])


# ----------------------------------------------------------------- random pipeline


def test_sample_params_reproducible_and_in_range():
    cfg = A.AugmentConfig(size=24)
    p1 = A.sample_params(500, (32, 40), cfg, torch.Generator().manual_seed(3))
    p2 = A.sample_params(500, (32, 40), cfg, torch.Generator().manual_seed(3))
    p3 = A.sample_params(500, (32, 40), cfg, torch.Generator().manual_seed(4))
    assert p1.rows() == p2.rows() and p1.rows() != p3.rows()
    assert set(p1.angle.tolist()) == {0.0, 2.0, 5.0, 7.0, -2.0, -5.0, -7.0}
    assert ((p1.side >= round(0.8 * 32)) & (p1.side <= 32)).all()
    assert ((p1.top + p1.side <= 32) & (p1.left + p1.side <= 40) & (p1.top >= 0) & (p1.left >= 0)).all()
    frac = lambda m: float(m.float().mean())  # noqa: E731
    assert abs(frac(p1.flip) - 0.5) < 0.08 and abs(frac(p1.angle != 0) - 0.5) < 0.08
    assert abs(frac(p1.colour == 2) - 0.2) < 0.06 and abs(frac(p1.colour == 1) - 0.8 * 0.8) < 0.08
    assert (p1.hue.abs() <= 0.05).all() and ((p1.lightness - 1).abs() <= 0.3 + 1e-6).all()


def test_one_draw_per_clip_applied_to_every_frame():
    frame = torch.rand(2, 1, 3, 40, 40, generator=torch.Generator().manual_seed(1))
    x = frame.expand(2, 5, 3, 40, 40).contiguous()  # 5 identical frames per clip
    cfg = A.AugmentConfig(size=32, rotate_p=1.0, jitter_p=1.0, gray_p=0.0)
    y, params = A.augment(x, cfg, torch.Generator().manual_seed(0))
    assert y.shape == (2, 5, 3, 32, 32)
    for t in range(1, 5):
        assert torch.equal(y[:, t], y[:, 0])
    # the batch result equals each clip augmented alone with its own parameters
    for b in range(2):
        pb = A.AugmentParams(**{k: getattr(params, k)[b:b + 1] for k in params.__dataclass_fields__})
        assert torch.allclose(A.apply_params(x[b:b + 1], pb, cfg), y[b:b + 1], atol=1e-6)


def test_augment_is_seeded_and_views_differ():
    x = clips(b=3, t=2, h=40, w=40)
    cfg = A.AugmentConfig(size=32)
    a, _ = A.augment(x, cfg, torch.Generator().manual_seed(11))
    b, _ = A.augment(x, cfg, torch.Generator().manual_seed(11))
    c, _ = A.augment(x, cfg, torch.Generator().manual_seed(12))
    assert torch.equal(a, b) and not torch.equal(a, c)
    v = A.make_views(x, 3, cfg, torch.Generator().manual_seed(0))
    assert v.shape == (3, 3, 2, 3, 32, 32)
    assert not torch.equal(v[0], v[1])
    assert float(v.min()) >= 0 and float(v.max()) <= 1
    assert A.make_views(x, 0, cfg).shape == (0, 3, 2, 3, 32, 32)


def test_all_off_config_is_a_plain_crop_and_resize():
    x = clips(h=40, w=40)
    cfg = A.AugmentConfig(size=40, crop_scale=(1.0, 1.0), flip_p=0, rotate_p=0, gray_p=0, jitter_p=0)
    y, _ = A.augment(x, cfg, torch.Generator().manual_seed(0))
    assert torch.allclose(y, x, atol=1e-6)      # sampled at the pixel centres: a copy to float rounding


def test_uint8_input_and_single_channel_clips():
    x = (clips(h=36, w=36) * 255).to(torch.uint8)
    y, _ = A.augment(x, A.AugmentConfig(size=32), torch.Generator().manual_seed(0))
    assert y.dtype == torch.float32 and y.shape[-2:] == (32, 32)
    g = clips(c=1, h=36, w=36)
    y1, _ = A.augment(g, A.AugmentConfig(size=32, gray_p=1.0), torch.Generator().manual_seed(0))
    assert y1.shape == (2, 3, 1, 32, 32)  # colour steps skip 1-channel clips


def test_max_shift_keeps_the_window_near_the_centre_and_changes_no_other_draw():
    free = A.AugmentConfig(size=24, crop_scale=(0.87, 0.91))
    near = A.AugmentConfig(size=24, crop_scale=(0.87, 0.91), max_shift=0.025)
    still = A.AugmentConfig(size=24, crop_scale=(0.87, 0.91), max_shift=0.0)
    H, W = 54, 60
    pf, pn, ps = (A.sample_params(2000, (H, W), c, torch.Generator().manual_seed(5)) for c in (free, near, still))
    # the same draws in the same order: size, flip, turn and colour of every clip are unchanged
    for name in ("side", "flip", "angle", "colour", "hue", "lightness", "saturation"):
        assert torch.equal(getattr(pf, name), getattr(pn, name)), name
    off_top = pn.top.double() - (H - pn.side).double() / 2          # the window centre's offset, in pixels
    off_left = pn.left.double() - (W - pn.side).double() / 2
    reach = 0.025 * H + 0.5                                          # ± max_shift · short side, plus rounding
    assert off_top.abs().max() <= reach and off_left.abs().max() <= reach
    assert off_top.abs().max() >= 0.025 * H - 0.5                    # and it does move
    assert (pf.top.double() - (H - pf.side).double() / 2).abs().max() > reach + 1   # the free crop moves further
    # max_shift 0 is the centre crop, as the test transform's (up to the half pixel of an odd margin)
    assert ((ps.top.double() - (H - ps.side).double() / 2).abs() <= 0.5).all()
    assert ((ps.left.double() - (W - ps.side).double() / 2).abs() <= 0.5).all()
    assert ((pn.top >= 0) & (pn.top + pn.side <= H) & (pn.left >= 0) & (pn.left + pn.side <= W)).all()
    with pytest.raises(ValueError, match="max_shift"):
        A.AugmentConfig(max_shift=-0.1)


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="B×T×C×H×W"):
        A.augment(torch.rand(3, 3, 32, 32))
    with pytest.raises(ValueError, match="crop_scale"):
        A.AugmentConfig(crop_scale=(0.9, 0.5))
    with pytest.raises(ValueError, match="one value per clip"):
        A.rotate(clips(), torch.tensor([1.0, 2.0, 3.0]))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
def test_gpu_gives_the_cpu_result():
    x = clips(h=40, w=40)
    cfg = A.AugmentConfig(size=32)
    cpu, _ = A.augment(x, cfg, torch.Generator().manual_seed(5))
    gpu, _ = A.augment(x.cuda(), cfg, torch.Generator().manual_seed(5))
    assert gpu.device.type == "cuda" and torch.allclose(gpu.cpu(), cpu, atol=1e-4)


def test_turns_and_jitter_on_the_selected_clips_only_equal_computing_every_clip_and_selecting():
    """apply_params computes the HLS jitter only for the clips that get it; the result must be the one of the plain
    formulation (every clip jittered, then torch.where), bit for bit."""
    g = torch.Generator().manual_seed(3)
    x = torch.randint(0, 256, (9, 4, 3, 40, 40), generator=g, dtype=torch.uint8)
    cfg = A.AugmentConfig(size=32)
    for seed in range(4):
        p = A.sample_params(9, (40, 40), cfg, torch.Generator().manual_seed(seed))
        y = A.warp(A.to_float(x), p.top, p.left, p.side, p.flip, p.angle, cfg.size, cfg.fill)
        y = torch.where(A._bcast(p.colour == 1), A.adjust_hls(y, p.hue, p.lightness, p.saturation), y)
        ref = A.grayscale(y, p.colour == 2)
        assert torch.equal(A.apply_params(x, p, cfg), ref)
        assert 0 < int((p.colour == 1).sum()) < 9 or seed       # the draws mix jittered and plain clips


def _composed(x, p, size, fill):
    """The four geometric steps one after another (the reference warp() must agree with)."""
    y = A.hflip(A.resize(A.crop(x, p.top, p.left, p.side), size), p.flip)
    return A.rotate(y, p.angle, fill)


@pytest.mark.parametrize("fill", ["zeros", "border", "reflection"])
def test_warp_is_crop_resize_flip_rotate_in_one_resampling(fill):
    """warp() against the composition of crop, resize, hflip and rotate on smooth frames: the same image up to the
    second interpolation the composition does (a few thousandths inside the frame; the edge of a turned clip, where
    the fills act, within a few hundredths)."""
    x = smooth_clips(b=16, t=2, h=54, w=54)
    cfg = A.AugmentConfig(size=48, fill=fill)
    p = A.sample_params(16, (54, 54), cfg, torch.Generator().manual_seed(7))
    assert bool((p.angle != 0).any()) and bool(p.flip.any()) and len(set(p.side.tolist())) > 2
    got, ref = A.warp(x, p.top, p.left, p.side, p.flip, p.angle, 48, fill), _composed(x, p, 48, fill)
    assert got.shape == ref.shape == (16, 2, 3, 48, 48)
    inner = (got - ref)[..., 4:-4, 4:-4].abs()
    assert float(inner.max()) < 0.01, float(inner.max())
    assert float((got - ref).abs().mean()) < 0.005
    if fill == "zeros":                                    # the turned-in corners are black in both
        turned = int((p.angle.abs() >= 5).nonzero()[0])
        assert float(got[turned, :, :, 0, 0].abs().max()) < 0.05 and float(ref[turned, :, :, 0, 0].abs().max()) < 0.05


def test_warp_without_scale_or_turn_copies_pixels_and_mirrors_exactly():
    """A crop window of the output's size, unturned: warp() samples pixel centres, so it copies the window (and its
    mirror image) to float rounding; a window much larger than the output is low-passed first, not aliased."""
    x = clips(b=2, t=2, h=40, w=40)
    top, left, side = torch.tensor([3, 8]), torch.tensor([5, 0]), torch.tensor([32, 32])
    y = A.warp(x, top, left, side, torch.tensor([False, True]), torch.zeros(2), 32)
    assert torch.allclose(y[0], x[0, :, :, 3:35, 5:37], atol=1e-5)
    assert torch.allclose(y[1], x[1, :, :, 8:40, 0:32].flip(-1), atol=1e-5)
    stripes = torch.zeros(1, 1, 1, 64, 64)
    stripes[..., ::2] = 1.0                                # 1-pixel stripes: alias badly when sampled 4× sparser
    small = A.warp(stripes, torch.tensor([0]), torch.tensor([0]), torch.tensor([64]), torch.tensor([False]),
                   torch.zeros(1), 16)
    assert torch.allclose(small, torch.full_like(small, 0.5), atol=0.05)
