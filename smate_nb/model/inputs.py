"""What every model of the suite accepts as input: one check, shared by the baselines."""
from __future__ import annotations

import torch

__all__ = ["check_clip"]


def check_clip(clip: torch.Tensor, channels: int) -> None:
    """Raise a clear error unless ``clip`` is a float ``[B, T, channels, H, W]`` tensor with no empty dimension
    (values in [0, 1] by the suite's convention)."""
    c = channels
    if not isinstance(clip, torch.Tensor):
        raise TypeError(f"clip must be a torch.Tensor [B, T, {c}, H, W], got {type(clip).__name__}")
    if clip.ndim != 5:
        raise ValueError(f"clip must be [B, T, {c}, H, W] (5 dims), got shape {tuple(clip.shape)}")
    if clip.shape[2] != c:
        raise ValueError(f"clip must have {c} channels in dim 2 ([B, T, C, H, W]), got shape {tuple(clip.shape)}"
                         + (" — is it [B, C, T, H, W]?" if clip.shape[1] == c else ""))
    if min(clip.shape) < 1:
        raise ValueError(f"clip has an empty dimension: {tuple(clip.shape)}")
    if not clip.is_floating_point():
        raise TypeError(f"clip must be floating point in [0, 1], got {clip.dtype} (convert uint8 with /255)")
