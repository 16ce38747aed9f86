"""Clip-consistent data augmentation on batched tensors (paper §3.1.2, Fig. 4).

The paper augments aligned face clips by geometry — crop, resize, horizontal
flip, rotation by an angle from {2°, 5°, 7°} to either side — and by colour —
random lightness / hue / saturation, or conversion to grayscale (the colour
"drop and jitter" of SimCLR [68]). At test time only resize and centre crop
are used: resize to 256, centre-crop 224.

Everything here works on clips ``x`` of shape ``B×T×C×H×W`` (float in [0, 1],
or uint8, which is converted), on whatever device ``x`` lives on, without
torchvision. The rule that makes it *video* augmentation: **one draw of
parameters per clip, applied identically to every frame of that clip** — a
face must not jump or change colour between frames, or the temporal encoder
learns the augmentation instead of the expression.

Each transform is a plain function taking per-clip parameter tensors
(:func:`crop`, :func:`resize`, :func:`hflip`, :func:`rotate`,
:func:`adjust_hls`, :func:`grayscale`), so it can be tested and shown alone.
:func:`sample_params` draws all parameters from a :class:`torch.Generator`;
:func:`apply_params` composes the transforms; :func:`augment` does both;
:func:`make_views` produces the N augmented views that mixed-token embedding
(Eq. 7) averages with the original.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal, Sequence

import torch
import torch.nn.functional as F

__all__ = [
    "ANGLES",
    "AugmentConfig",
    "AugmentParams",
    "to_float",
    "center_crop",
    "crop",
    "resize",
    "resize_short",
    "test_transform",
    "hflip",
    "rotate",
    "rgb_to_hls",
    "hls_to_rgb",
    "adjust_hls",
    "grayscale",
    "sample_params",
    "warp",
    "apply_params",
    "augment",
    "make_views",
]

#: Rotation magnitudes of the paper (degrees), each used to either side.
ANGLES = (2.0, 5.0, 7.0)

# ITU-R BT.601 luma (OpenCV's and torchvision's grayscale).
_LUMA = (0.299, 0.587, 0.114)


# --------------------------------------------------------------------------- helpers


def _check(x: torch.Tensor, fn: str) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{fn}: expected a torch.Tensor B×T×C×H×W, got {type(x).__name__}")
    if x.dim() != 5:
        raise ValueError(f"{fn}: expected clips B×T×C×H×W (5 dims), got shape {tuple(x.shape)}; "
                         "add batch / time dims with x[None] or x[:, None]")


def to_float(x: torch.Tensor) -> torch.Tensor:
    """uint8 → float32 in [0, 1]; floating input is returned unchanged."""
    if x.dtype == torch.uint8:
        return x.float().div_(255)
    if not x.is_floating_point():
        raise TypeError(f"expected uint8 or floating clips, got {x.dtype}")
    return x


def _pair(size: int | Sequence[int]) -> tuple[int, int]:
    if isinstance(size, int):
        return size, size
    h, w = size
    return int(h), int(w)


def _per_clip(v: Any, b: int, device: torch.device, dtype: torch.dtype, name: str) -> torch.Tensor:
    t = torch.as_tensor(v, device=device, dtype=dtype)
    if t.dim() == 0:
        t = t.expand(b)
    if t.shape != (b,):
        raise ValueError(f"{name}: expected one value per clip (shape ({b},)), got {tuple(t.shape)}")
    return t


def _bcast(t: torch.Tensor) -> torch.Tensor:
    """(B,) → (B, 1, 1, 1, 1) to broadcast over T, C, H, W."""
    return t.view(-1, 1, 1, 1, 1)


# --------------------------------------------------------------------------- geometry


def center_crop(x: torch.Tensor, size: int | Sequence[int]) -> torch.Tensor:
    """Central ``size`` crop of every frame (B×T×C×H×W → B×T×C×h×w).

    Offsets are ``round((H − h) / 2)`` (torchvision's choice), so an odd
    margin puts the extra pixel at the bottom / right.
    """
    _check(x, "center_crop")
    h, w = _pair(size)
    H, W = x.shape[-2:]
    if h > H or w > W:
        raise ValueError(f"center_crop: crop {h}×{w} larger than frames {H}×{W}; resize first")
    top, left = int(round((H - h) / 2)), int(round((W - w) / 2))
    return x[..., top:top + h, left:left + w]


def crop(x: torch.Tensor, top: torch.Tensor, left: torch.Tensor, size: torch.Tensor | int) -> torch.Tensor | list:
    """Per-clip square crops: clip b keeps rows ``top[b]:top[b]+size[b]`` and the same columns from ``left[b]``.

    With one ``size`` for all clips the result is a tensor B×T×C×s×s; with
    per-clip sizes it is a list of B tensors T×C×s_b×s_b (resize them to a
    common size with :func:`resize`). Cropping copies pixels exactly (no
    interpolation).
    """
    _check(x, "crop")
    b = x.shape[0]
    top = _per_clip(top, b, torch.device("cpu"), torch.long, "crop(top)").tolist()
    left = _per_clip(left, b, torch.device("cpu"), torch.long, "crop(left)").tolist()
    sz = _per_clip(size, b, torch.device("cpu"), torch.long, "crop(size)").tolist()
    H, W = x.shape[-2:]
    for i in range(b):
        if top[i] < 0 or left[i] < 0 or top[i] + sz[i] > H or left[i] + sz[i] > W:
            raise ValueError(f"crop: clip {i} window top={top[i]} left={left[i]} size={sz[i]} leaves the {H}×{W} frame")
    parts = [x[i, ..., top[i]:top[i] + sz[i], left[i]:left[i] + sz[i]] for i in range(b)]
    if len(set(sz)) == 1:
        return torch.stack(parts)
    return parts


def resize(x: torch.Tensor | list, size: int | Sequence[int], antialias: bool = True) -> torch.Tensor:
    """Bilinear resize of every frame to ``size`` (B×T×C×H×W → B×T×C×h×w).

    ``antialias=True`` low-pass filters when shrinking (like PIL / torchvision
    ≥ 0.17), so a 256 → 64 resize does not alias. Accepts the list that
    :func:`crop` returns for per-clip sizes.
    """
    h, w = _pair(size)
    if isinstance(x, (list, tuple)):
        return torch.stack([resize(c[None], (h, w), antialias)[0] for c in x])
    _check(x, "resize")
    b, t, c = x.shape[:3]
    if tuple(x.shape[-2:]) == (h, w):
        return x
    x = to_float(x)
    y = F.interpolate(x.reshape(b * t, c, *x.shape[-2:]), size=(h, w), mode="bilinear",
                      align_corners=False, antialias=antialias)
    return y.view(b, t, c, h, w)


def resize_short(x: torch.Tensor, size: int, antialias: bool = True) -> torch.Tensor:
    """Resize so the shorter side is ``size``, keeping the aspect ratio."""
    _check(x, "resize_short")
    H, W = x.shape[-2:]
    if H <= W:
        return resize(x, (size, max(1, round(W * size / H))), antialias)
    return resize(x, (max(1, round(H * size / W)), size), antialias)


def test_transform(x: torch.Tensor, crop_size: int = 224, resize_size: int | None = None) -> torch.Tensor:
    """The paper's test-time transform: resize (short side) to 256, centre-crop 224.

    For other crop sizes the resize keeps the paper's ratio 256 / 224:
    ``resize_size = round(crop_size · 256 / 224)`` unless given (the profiles
    give both: ``profile.clip.resize``, ``profile.clip.crop``).
    """
    _check(x, "test_transform")
    if resize_size is None:
        resize_size = round(crop_size * 256 / 224)
    if resize_size < crop_size:
        raise ValueError(f"test_transform: resize_size {resize_size} < crop_size {crop_size}")
    return center_crop(resize_short(to_float(x), resize_size), crop_size)


test_transform.__test__ = False  # a transform, not a test: keep pytest from collecting it if imported by name


def hflip(x: torch.Tensor, flip: torch.Tensor | bool = True) -> torch.Tensor:
    """Mirror clips left–right where ``flip[b]`` is True (all frames of a clip alike)."""
    _check(x, "hflip")
    f = _per_clip(flip, x.shape[0], x.device, torch.bool, "hflip(flip)")
    return torch.where(_bcast(f), x.flip(-1), x)


def rotate(x: torch.Tensor, angle: torch.Tensor | float,
           fill: Literal["zeros", "border", "reflection"] = "zeros") -> torch.Tensor:
    """Rotate each clip about the frame centre by ``angle[b]`` degrees, counter-clockwise on screen.

    Bilinear resampling (``grid_sample``, ``align_corners=False``: pixel
    centres at half-integers, so a 90° turn of a square frame maps pixels onto
    pixels). Corners that come from outside the frame are filled per ``fill``:
    black (``"zeros"``), edge pixels (``"border"``) or mirrored content.
    The angle is in *pixel* space, so non-square frames rotate without shear.
    """
    _check(x, "rotate")
    x = to_float(x)
    b, t, c, H, W = x.shape
    a = _per_clip(angle, b, x.device, x.dtype, "rotate(angle)") * (math.pi / 180)
    cos, sin = torch.cos(a), torch.sin(a)
    zero = torch.zeros_like(a)
    # affine_grid maps each output pixel to the input pixel it samples. With
    # y pointing down, sampling at the output offset turned by [[c, −s], [s, c]]
    # moves the *content* counter-clockwise on screen (checked against
    # torch.rot90 in the tests). H/W factors undo the per-axis [−1, 1] scaling.
    theta = torch.stack([
        torch.stack([cos, -sin * (H / W), zero], -1),
        torch.stack([sin * (W / H), cos, zero], -1),
    ], -2)                                                   # (B, 2, 3)
    theta = theta.repeat_interleave(t, dim=0)                # same turn for every frame of a clip
    grid = F.affine_grid(theta, [b * t, c, H, W], align_corners=False)
    y = F.grid_sample(x.reshape(b * t, c, H, W), grid, mode="bilinear", padding_mode=fill, align_corners=False)
    return y.view(b, t, c, H, W)


# --------------------------------------------------------------------------- colour


def rgb_to_hls(x: torch.Tensor) -> torch.Tensor:
    """RGB → HLS along dim −3 (float in [0, 1]); H in [0, 1) turns, L and S in [0, 1].

    Same definition as :func:`colorsys.rgb_to_hls`.
    """
    r, g, b = to_float(x).unbind(-3)
    mx = torch.maximum(torch.maximum(r, g), b)
    mn = torch.minimum(torch.minimum(r, g), b)
    l = (mx + mn) / 2
    d = mx - mn
    grey = d <= 0
    dd = torch.where(grey, torch.ones_like(d), d)   # avoid 0/0; masked below
    den = torch.where(l <= 0.5, mx + mn, 2 - mx - mn)
    s = torch.where(grey, torch.zeros_like(d), d / torch.where(den <= 0, torch.ones_like(den), den))
    rc, gc, bc = (mx - r) / dd, (mx - g) / dd, (mx - b) / dd
    h = torch.where(r == mx, bc - gc, torch.where(g == mx, 2 + rc - bc, 4 + gc - rc))
    h = torch.where(grey, torch.zeros_like(h), torch.remainder(h / 6, 1.0))
    return torch.stack([h, l, s], -3)


def hls_to_rgb(hls: torch.Tensor) -> torch.Tensor:
    """HLS → RGB along dim −3 (inverse of :func:`rgb_to_hls`).

    Uses the closed form ``f(n) = L − a·clamp(min(k − 3, 9 − k), −1, 1)``,
    ``k = (n + 12·H) mod 12``, ``a = S·min(L, 1 − L)`` for n = 0, 8, 4 (R, G, B):
    branch-free, so it vectorises on any device.
    """
    h, l, s = hls.unbind(-3)
    a = s * torch.minimum(l, 1 - l)
    out = []
    for n in (0.0, 8.0, 4.0):
        k = torch.remainder(n + 12 * h, 12.0)
        out.append(l - a * torch.clamp(torch.minimum(k - 3, 9 - k), -1.0, 1.0))
    return torch.stack(out, -3)


def adjust_hls(x: torch.Tensor, hue: torch.Tensor | float = 0.0, lightness: torch.Tensor | float = 1.0,
               saturation: torch.Tensor | float = 1.0) -> torch.Tensor:
    """Colour jitter in HLS space, per clip.

    Args:
        x: B×T×3×H×W float in [0, 1].
        hue: shift in turns (0.5 = opposite colour), per clip.
        lightness: factor on L, per clip (clamped to [0, 1] after).
        saturation: factor on S, per clip (clamped to [0, 1] after).
    """
    _check(x, "adjust_hls")
    if x.shape[2] != 3:
        raise ValueError(f"adjust_hls: needs 3 colour channels, got {x.shape[2]}")
    x = to_float(x)
    b = x.shape[0]
    dh = _bcast(_per_clip(hue, b, x.device, x.dtype, "adjust_hls(hue)")).squeeze(2)
    fl = _bcast(_per_clip(lightness, b, x.device, x.dtype, "adjust_hls(lightness)")).squeeze(2)
    fs = _bcast(_per_clip(saturation, b, x.device, x.dtype, "adjust_hls(saturation)")).squeeze(2)
    h, l, s = rgb_to_hls(x).unbind(2)
    h = torch.remainder(h + dh, 1.0)
    l = (l * fl).clamp(0, 1)
    s = (s * fs).clamp(0, 1)
    return hls_to_rgb(torch.stack([h, l, s], 2)).clamp(0, 1)


def grayscale(x: torch.Tensor, mask: torch.Tensor | bool = True) -> torch.Tensor:
    """BT.601 luma replicated to 3 channels, for the clips where ``mask[b]`` is True."""
    _check(x, "grayscale")
    if x.shape[2] != 3:
        raise ValueError(f"grayscale: needs 3 colour channels, got {x.shape[2]}")
    x = to_float(x)
    m = _per_clip(mask, x.shape[0], x.device, torch.bool, "grayscale(mask)")
    y = _LUMA[0] * x[:, :, 0:1] + _LUMA[1] * x[:, :, 1:2] + _LUMA[2] * x[:, :, 2:3]
    return torch.where(_bcast(m), y.expand_as(x), x)


# --------------------------------------------------------------------------- random pipeline


@dataclass(frozen=True)
class AugmentConfig:
    """Training augmentation of §3.1.2 (defaults follow the paper where it is specific).

    Attributes:
        size: output side (the model's crop; paper 224).
        crop_scale: the random square crop's side as a fraction of the
            frame's short side, drawn uniformly from this range. The test-time
            centre crop is 224 / 256 = 0.875, inside the default range, so
            train and test faces have the same scale on average.
        max_shift: the largest distance of the crop window's centre from the
            frame's centre, in each direction, as a fraction of the frame's
            short side (``None``: anywhere the window fits — the paper's random
            crop; ``0``: always the centre, as the test transform crops).
        flip_p: probability of a horizontal flip.
        rotate_p: probability of a rotation; the angle is drawn uniformly
            from ``±angles`` (paper: {2°, 5°, 7°} either side).
        angles: rotation magnitudes in degrees.
        fill: what rotation brings in at the corners (see :func:`rotate`).
        gray_p: probability of converting a clip to grayscale ("colour drop").
        jitter_p: probability of HLS jitter for clips *not* turned grey — the
            paper applies grayscale *or* lightness/hue/saturation changes.
        lightness, saturation: factors drawn from ``[1 − v, 1 + v]``.
        hue: shift drawn from ``[−v, v]`` turns.
    """

    size: int = 224
    crop_scale: tuple[float, float] = (0.8, 1.0)
    max_shift: float | None = None
    flip_p: float = 0.5
    rotate_p: float = 0.5
    angles: tuple[float, ...] = ANGLES
    fill: Literal["zeros", "border", "reflection"] = "zeros"
    gray_p: float = 0.2
    jitter_p: float = 0.8
    lightness: float = 0.3
    hue: float = 0.05
    saturation: float = 0.4

    def __post_init__(self) -> None:
        lo, hi = self.crop_scale
        if not (0 < lo <= hi <= 1):
            raise ValueError(f"AugmentConfig.crop_scale must satisfy 0 < lo ≤ hi ≤ 1, got {self.crop_scale}")
        if self.max_shift is not None and not 0 <= self.max_shift <= 0.5:
            raise ValueError(f"AugmentConfig.max_shift is a fraction of the frame's short side in [0, 0.5] (or None: "
                             f"anywhere), got {self.max_shift}")
        for name in ("flip_p", "rotate_p", "gray_p", "jitter_p"):
            v = getattr(self, name)
            if not 0 <= v <= 1:
                raise ValueError(f"AugmentConfig.{name} is a probability in [0, 1], got {v}")
        if not self.angles or any(a < 0 for a in self.angles):
            raise ValueError(f"AugmentConfig.angles must be non-negative magnitudes, got {self.angles}")
        if not (0 <= self.lightness < 1 and 0 <= self.saturation < 1 and 0 <= self.hue <= 0.5):
            raise ValueError("AugmentConfig: lightness, saturation in [0, 1), hue in [0, 0.5]")
        if self.fill not in ("zeros", "border", "reflection"):
            raise ValueError(f"AugmentConfig.fill must be 'zeros', 'border' or 'reflection', got {self.fill!r}")

    @classmethod
    def for_clip(cls, crop: int, **overrides: Any) -> "AugmentConfig":
        """Config whose output matches a profile's crop (``profile.clip.crop``)."""
        return cls(size=crop, **overrides)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class AugmentParams:
    """One draw of augmentation parameters per clip (every field has shape (B,)).

    ``colour`` is 0 = unchanged, 1 = HLS jitter, 2 = grayscale.
    """

    top: torch.Tensor
    left: torch.Tensor
    side: torch.Tensor
    flip: torch.Tensor
    angle: torch.Tensor
    colour: torch.Tensor
    hue: torch.Tensor
    lightness: torch.Tensor
    saturation: torch.Tensor

    def to(self, device: torch.device | str) -> "AugmentParams":
        return AugmentParams(**{f.name: getattr(self, f.name).to(device) for f in fields(self)})

    def rows(self) -> list[dict[str, Any]]:
        """One plain dict per clip (for tables and figure titles)."""
        cols = {f.name: getattr(self, f.name).cpu().tolist() for f in fields(self)}
        return [dict(zip(cols, vals)) for vals in zip(*cols.values())]


def sample_params(batch: int, frame_size: Sequence[int], config: AugmentConfig,
                  generator: torch.Generator | None = None) -> AugmentParams:
    """Draw one set of parameters per clip.

    Draws happen in a fixed order on the generator's device (CPU by default),
    so a seed gives the same parameters whatever device the clips are on.

    Args:
        batch: number of clips B.
        frame_size: (H, W) of the input frames.
        config: :class:`AugmentConfig`.
        generator: source of randomness (``torch.Generator().manual_seed(s)``).
    """
    H, W = (int(v) for v in frame_size)
    dev = generator.device if generator is not None else torch.device("cpu")

    def u(n: int = batch) -> torch.Tensor:
        return torch.rand(n, generator=generator, device=dev, dtype=torch.float64)

    short = min(H, W)
    lo, hi = config.crop_scale
    side = torch.clamp(torch.round((lo + (hi - lo) * u()) * short), 1, short).long()
    if config.max_shift is None:                 # anywhere the window fits
        top = torch.floor(u() * (H - side + 1).double()).long()
        left = torch.floor(u() * (W - side + 1).double()).long()
    else:                                        # within max_shift of the centre (the same two draws)
        def near_centre(extent: int) -> torch.Tensor:
            centre = (extent - side).double() / 2
            reach = torch.minimum(centre, torch.full_like(centre, config.max_shift * short))
            return torch.round(centre + (2 * u() - 1) * reach).clamp_(min=0).long()

        top, left = near_centre(H), near_centre(W)
    flip = u() < config.flip_p
    angles = torch.tensor(config.angles, dtype=torch.float64, device=dev)
    pick = torch.floor(u() * len(config.angles)).long().clamp_(max=len(config.angles) - 1)
    sign = torch.where(u() < 0.5, -1.0, 1.0).to(torch.float64)
    angle = torch.where(u() < config.rotate_p, sign * angles[pick], torch.zeros(batch, dtype=torch.float64, device=dev))
    gray = u() < config.gray_p
    jit = u() < config.jitter_p
    colour = torch.where(gray, 2, torch.where(jit, 1, 0)).long()
    hue = (2 * u() - 1) * config.hue
    light = 1 + (2 * u() - 1) * config.lightness
    sat = 1 + (2 * u() - 1) * config.saturation
    return AugmentParams(top, left, side, flip, angle.float(), colour, hue.float(), light.float(), sat.float())


def warp(x: torch.Tensor, top: torch.Tensor, left: torch.Tensor, side: torch.Tensor, flip: torch.Tensor,
         angle: torch.Tensor, size: int, fill: Literal["zeros", "border", "reflection"] = "zeros") -> torch.Tensor:
    """:func:`crop` → :func:`resize` → :func:`hflip` → :func:`rotate` as **one** bilinear resampling per clip.

    Output pixel ``(i, j)`` of clip ``b`` (centre ``(u, v)`` relative to the output's centre) takes the value the
    composed steps would give it: the turn's inverse (``[[cos, −sin], [sin, cos]]`` in pixels, as :func:`rotate`),
    then the mirror (``u → −u`` where ``flip[b]``), then the crop window scaled to ``size`` — one point of the stored
    frame, sampled bilinearly. Where the turn brings in what lies outside the resized crop, ``fill`` decides as in
    :func:`rotate` (``zeros``: the same fade to black at the window's edge, ``border`` / ``reflection``: the
    turned-in point is clamped / mirrored into the window).

    Why one resampling: composing the four steps interpolates twice and loops over clips of different crop sizes;
    this is one batched ``grid_sample`` (measured, one thread, 8 clips of 12 frames, 54² → 48²: crop + resize
    11.8 ms and the turns 5–10 ms composed). It is not bit-identical to the composition: one interpolation instead
    of two, and no low-pass filter for the resize — harmless while a crop window shrinks by at most 1.5× (the
    paper's 256 → 224 crops of 0.8–1.0 shrink by ≤ 1.15×; larger factors are low-passed by an antialiased resize of
    the whole frame first). ``tests/test_augment.py`` holds it against the composition.

    Args:
        x: clips ``B×T×C×H×W`` (uint8 or float in [0, 1]).
        top, left, side: the square crop window of each clip, in pixels (shape ``(B,)``; inside the frame).
        flip: mirror left–right (bool, ``(B,)``); angle: degrees counter-clockwise on screen (``(B,)``).
        size: output side; fill: see above.
    Returns:
        ``B×T×C×size×size`` float.
    """
    _check(x, "warp")
    x = to_float(x)
    b, t, c, H, W = x.shape
    dev, dt = x.device, x.dtype
    top_, left_, side_ = (_per_clip(v, b, dev, dt, f"warp({n})") for v, n in ((top, "top"), (left, "left"),
                                                                               (side, "side")))
    mirror = _per_clip(flip, b, dev, torch.bool, "warp(flip)")
    a = _per_clip(angle, b, dev, dt, "warp(angle)") * (math.pi / 180)
    shrink = float(side_.max()) / size
    if shrink > 1.5:                                   # bilinear sampling would alias: low-pass the frames first
        nh, nw = max(1, round(H / shrink)), max(1, round(W / shrink))
        x = resize(x, (nh, nw))
        top_, left_, side_ = top_ * (nh / H), left_ * (nw / W), side_ * (nw / W)
        H, W = nh, nw
    r = torch.arange(size, device=dev, dtype=dt) + 0.5 - size / 2          # output pixel centres, centred
    yy, xx = (g[None] for g in torch.meshgrid(r, r, indexing="ij"))      # (1, s, s)
    cos, sin = torch.cos(a)[:, None, None], torch.sin(a)[:, None, None]
    u, v = cos * xx - sin * yy, sin * xx + cos * yy                     # before the turn, (B, s, s)
    half = size / 2
    if fill == "border":
        u, v = u.clamp(-half + 0.5, half - 0.5), v.clamp(-half + 0.5, half - 0.5)
    elif fill == "reflection":
        def mirror_in(w: torch.Tensor) -> torch.Tensor:
            m = torch.remainder(w + half, 2 * size)
            return (size - (m - size).abs() - half).clamp(-half + 0.5, half - 0.5)
        u, v = mirror_in(u), mirror_in(v)
    u = torch.where(mirror[:, None, None], -u, u)                       # before the mirror
    k = (side_ / size)[:, None, None]                                   # before the resize: the crop window
    px = left_[:, None, None] + side_[:, None, None] / 2 + u * k
    py = top_[:, None, None] + side_[:, None, None] / 2 + v * k
    grid = torch.stack([2 * px / W - 1, 2 * py / H - 1], -1)            # grid_sample's [−1, 1], align_corners=False
    y = F.grid_sample(x.reshape(b * t, c, H, W), grid.repeat_interleave(t, 0), mode="bilinear",
                      padding_mode="border", align_corners=False).view(b, t, c, size, size)
    if fill == "zeros":
        turned = a != 0
        if bool(turned.any()):
            # what rotate()'s zero padding does at the window's edge: the turned window of ones, sampled alike
            inside = torch.stack([u / half * torch.where(mirror, -1.0, 1.0).to(dt)[:, None, None], v / half], -1)
            fade = F.grid_sample(torch.ones(b, 1, size, size, device=dev, dtype=dt), inside, mode="bilinear",
                                 padding_mode="zeros", align_corners=False)
            fade = torch.where(turned[:, None, None, None], fade, torch.ones_like(fade))
            y = y * fade[:, None]
    return y


def apply_params(x: torch.Tensor, params: AugmentParams, config: AugmentConfig) -> torch.Tensor:
    """Apply drawn parameters: crop → resize → flip → rotate (one resampling, :func:`warp`) → colour
    (B×T×C×H×W → B×T×C×s×s)."""
    _check(x, "apply_params")
    x = to_float(x)
    p = params.to(x.device)
    y = warp(x, p.top, p.left, p.side, p.flip, p.angle, config.size, config.fill)
    if y.shape[2] == 3:
        # HLS jitter is computed for the clips that get it only (per clip and per pixel, so this equals computing
        # every clip and selecting, bit for bit — tested): ~⅔ of the clips at the paper's probabilities.
        y = _on_clips(y, p.colour == 1, lambda i: adjust_hls(y[i], p.hue[i], p.lightness[i], p.saturation[i]))
        y = grayscale(y, p.colour == 2)
    return y


def _on_clips(y: torch.Tensor, mask: torch.Tensor, fn: Any) -> torch.Tensor:
    """``y`` (B×T×C×H×W) with the clips where ``mask`` (B,) is True replaced by ``fn(index)`` of them (``index``: the
    positions, a 1-D long tensor); the others unchanged. No clip selected: ``y`` itself."""
    if not bool(mask.any()):
        return y
    idx = mask.nonzero().squeeze(1)
    if idx.numel() == y.shape[0]:
        return fn(idx)
    out = y.clone()
    out[idx] = fn(idx)
    return out


def augment(x: torch.Tensor, config: AugmentConfig | None = None,
            generator: torch.Generator | None = None) -> tuple[torch.Tensor, AugmentParams]:
    """One random training augmentation per clip.

    Args:
        x: clips B×T×C×H×W, float in [0, 1] or uint8, any device.
        config: :class:`AugmentConfig` (default: paper-like, 224 output).
        generator: seeded :class:`torch.Generator` for reproducible draws.

    Returns:
        ``(views B×T×C×s×s float, params)``.
    """
    _check(x, "augment")
    cfg = config or AugmentConfig()
    params = sample_params(x.shape[0], x.shape[-2:], cfg, generator)
    return apply_params(x, params, cfg), params


def make_views(x: torch.Tensor, n_views: int, config: AugmentConfig | None = None,
               generator: torch.Generator | None = None) -> torch.Tensor:
    """N independently augmented views of each clip, for mixed-token embedding (Eq. 7).

    Returns:
        ``n_views × B × T × C × s × s``. View i of clip b comes from the same
        clip as the original, with its own parameter draw; the original itself
        is :func:`test_transform` of ``x``.
    """
    if n_views < 0:
        raise ValueError(f"make_views: n_views must be ≥ 0, got {n_views}")
    cfg = config or AugmentConfig()
    _check(x, "make_views")
    if n_views == 0:
        return torch.empty((0, *x.shape[:3], cfg.size, cfg.size), device=x.device)
    return torch.stack([augment(x, cfg, generator)[0] for _ in range(n_views)])
