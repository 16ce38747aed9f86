"""The input pipeline, once: stored uint8 clips → what the model receives, per batch, on the training device.

Training (§3.1.2–3.1.3, Eq. 7), for a batch ``B×T×H×W×C`` uint8 already on the device:

1. ``base`` = the test transform (resize the short side to ``data.resize``, centre-crop ``data.crop``),
   ``B×T×C×crop×crop`` float in [0, 1];
2. the training clip: ``base``, or one random augmentation of the stored clip (``preproc.augment``) — but ``base``
   with mixed tokens and ``preproc.mix_origin = "original"`` (z_origin of Eq. 7 is then the original clip);
3. with mixed tokens (``preproc.mix``): ``n_views`` more augmented views, and the LBP image of ``base``
   as one more view (``preproc.lbp``); without mixing, LBP replaces a clip with probability ``lbp_prob``
   (``lbp_mode="replace"``) or is the input itself (``lbp_mode="input"``).

Evaluation: ``base`` only (its LBP image with ``lbp_mode="input"``).

:class:`InputPipeline` is what :func:`smate_nb.engine.fit` trains with and what
:mod:`smate_nb.throughput` times: with a ``clock`` it records seconds per stage in ``stage_times``.
"""
from __future__ import annotations

import time
from typing import Callable, Sequence

import torch

from ..preprocess.augment import AugmentConfig, augment, make_views, test_transform
from ..preprocess.lbp import lbp_image
from .specs import DataSpec, PreprocSpec, _tuple_values

__all__ = ["InputPipeline", "prepare_inputs", "augment_config", "augmentation_displacement"]


def augment_config(data: DataSpec, pre: PreprocSpec) -> AugmentConfig:
    """The augmentation of a run: the paper's defaults at the run's crop, with ``pre.augment_overrides``."""
    return AugmentConfig.for_clip(data.crop, **_tuple_values(dict(pre.augment_overrides)))


class InputPipeline:
    """Per-batch input pipeline of one experiment (see the module docstring).

    Args:
        data: clip geometry (``resize``, ``crop``).
        pre: preprocessing switches.
        clock: optional timer ``() → seconds`` (e.g. one that synchronises the device first); when given,
            ``stage_times`` holds the last call's seconds per stage: ``to_float+test``, ``augment``, ``lbp``.

    ``__call__(batch, train, generator=None)`` takes uint8 ``B×T×H×W×C`` on the training device and
    returns ``(clip [B, T, C, crop, crop] float in [0, 1], views or None)``; ``views`` is the list of N
    augmented views (+ the LBP view) for Eq. 7, each shaped like ``clip``. ``generator``: the CPU
    generator for the random draws (:func:`fit` seeds it per epoch).
    """

    def __init__(self, data: DataSpec, pre: PreprocSpec, clock: Callable[[], float] | None = None) -> None:
        self.data, self.pre = data, pre
        self.augment_cfg = augment_config(data, pre)
        self.clock = clock
        self.stage_times: dict[str, float] = {}

    @property
    def views_per_clip(self) -> int:
        """Views handed to Eq. 7 per clip in training (0 without mixing)."""
        return (self.pre.n_views + int(self.pre.lbp)) if self.pre.mix else 0

    def __call__(self, batch: torch.Tensor, train: bool, generator: torch.Generator | None = None
                 ) -> tuple[torch.Tensor, list[torch.Tensor] | None]:
        if batch.ndim != 5 or batch.shape[-1] not in (1, 3):
            raise ValueError(f"expected uint8 clips [B, T, H, W, C], got {tuple(batch.shape)}")
        d, pre, cfg = self.data, self.pre, self.augment_cfg
        tick = self.clock or time.perf_counter
        t0 = tick()
        x = batch.permute(0, 1, 4, 2, 3)                               # B×T×C×H×W, still uint8
        base = test_transform(x, d.crop, d.resize)
        lbp_input = pre.lbp and not pre.mix and pre.lbp_mode == "input"
        t1 = tick()
        if not train:
            clip = lbp_image(base, pre.lbp_variant) if lbp_input else base
            t2 = t3 = tick()
            self._record(t0, t1, t2, t3)
            return clip, None
        origin_only = pre.mix and pre.mix_origin == "original"
        clip = augment(x, cfg, generator)[0] if pre.augment and not origin_only else base
        views: list[torch.Tensor] | None = None
        if pre.mix and pre.n_views:
            views = list(make_views(x, pre.n_views, cfg, generator).unbind(0))
        t2 = tick()
        if pre.mix:
            if pre.lbp:
                views = (views or []) + [lbp_image(base, pre.lbp_variant)]
        elif lbp_input:
            clip = lbp_image(clip, pre.lbp_variant)
        elif pre.lbp:
            pick = torch.rand(x.shape[0], generator=generator) < pre.lbp_prob
            if bool(pick.any()):
                clip = torch.where(pick.to(clip.device)[:, None, None, None, None], lbp_image(clip, pre.lbp_variant),
                                   clip)
        t3 = tick()
        self._record(t0, t1, t2, t3)
        return clip, views

    def _record(self, t0: float, t1: float, t2: float, t3: float) -> None:
        if self.clock is not None:
            self.stage_times = {"to_float+test": t1 - t0, "augment": t2 - t1, "lbp": t3 - t2}


def prepare_inputs(batch: torch.Tensor, data: DataSpec, pre: PreprocSpec, train: bool,
                   generator: torch.Generator | None = None) -> tuple[torch.Tensor, list[torch.Tensor] | None]:
    """One batch through :class:`InputPipeline` (a function form for notebooks and tests)."""
    return InputPipeline(data, pre)(batch, train, generator)


def augmentation_displacement(batch: torch.Tensor, data: DataSpec, pre: PreprocSpec, *,
                              generator: torch.Generator | None = None, groups: Sequence[object] | None = None
                              ) -> dict[str, float]:
    """How far a row's training input moves a clip, against how far its expression moves it (notebook 05 § 1).

    Args:
        batch: uint8 clips ``B×T×H×W×C`` (B ≥ 2 different clips, e.g. one per training sequence), on the CPU.
        data, pre: the run's geometry and preprocessing (:class:`InputPipeline`); the training clip is compared
            with the same clip through the test transform (``base``).
        generator: the random draws (``torch.Generator().manual_seed(s)``).
        groups: optional, one id per clip (e.g. the subject): then also ``group_match``.

    Returns:
        ``expression``: mean |last − first frame| of ``base`` per pixel and channel (values in [0, 1]) — how much
        the face changes from onset to peak; ``augmentation``: mean |training clip − ``base``| per pixel, channel
        and frame; ``ratio`` = augmentation / expression; ``self_match``: the share of training clips whose most
        correlated ``base`` clip (Pearson over all pixels) is their own — 1.0 when the input pipeline leaves a clip
        recognisable, near 1/B when a clip looks more like other people's clips than like itself. With ``groups``:
        ``group_match``, the share whose most correlated ``base`` clip is of the same group (a person found, though
        perhaps in another of their sequences, i.e. another expression), and ``within_group`` = self_match ÷
        group_match: of the clips whose person was found, the share found in their own sequence (chance: one over
        the sequences per person).

    Raises:
        ValueError: fewer than 2 clips (a self-match needs others to confuse with), fewer than 2 frames, or
            ``groups`` not one per clip.
    """
    if batch.ndim != 5 or batch.shape[0] < 2 or batch.shape[1] < 2:
        raise ValueError(f"augmentation_displacement: need uint8 clips [B ≥ 2, T ≥ 2, H, W, C], got {tuple(batch.shape)}")
    if groups is not None and len(groups) != batch.shape[0]:
        raise ValueError(f"augmentation_displacement: groups has {len(groups)} ids for {batch.shape[0]} clips")
    pipe = InputPipeline(data, pre)
    base, _ = InputPipeline(data, PreprocSpec())(batch, train=False)
    clip, _ = pipe(batch, train=True, generator=generator)
    expression = float((base[:, -1] - base[:, 0]).abs().mean())
    moved = float((clip - base).abs().mean())
    a, b = clip.flatten(1), base.flatten(1)
    a, b = a - a.mean(1, keepdim=True), b - b.mean(1, keepdim=True)
    corr = (a @ b.T) / (a.norm(dim=1)[:, None] * b.norm(dim=1)[None]).clamp_min(1e-12)
    best = corr.argmax(1)
    self_match = float((best == torch.arange(len(corr))).double().mean())
    out = {"expression": expression, "augmentation": moved,
           "ratio": moved / expression if expression > 0 else float("inf"), "self_match": self_match}
    if groups is not None:
        ids = list(groups)
        group_match = sum(ids[int(j)] == ids[i] for i, j in enumerate(best)) / len(ids)
        out.update(group_match=group_match, within_group=self_match / group_match if group_match else float("nan"))
    return out
