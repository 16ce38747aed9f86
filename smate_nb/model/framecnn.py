"""A compact frame-level CNN: the appearance-bias study's baseline (paper §2, Fig. 2).

The paper's §2 experiment used a small EfficientNet-based multi-task CNN; no
pretrained weights can be fetched here, so the suite uses this compact CNN
trained from scratch: each frame goes through the same small conv stack
(conv–BN–ReLU blocks with stride 2, then global average pooling), the frame
features are averaged over time, and a linear head classifies. Like the
paper's CNN it sees frames, not tubes, and models no temporal order.

``forward(clip, views=None, *, mix=None)``: ``[B, T, C, H, W] → [B, classes]``
(``views`` / ``mix`` are accepted for interface parity with ViViT-FE and ignored:
mixed tokens are a token-level method).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from einops import rearrange
from torch import nn

__all__ = ["FrameCNNConfig", "FRAMECNN_CONFIGS", "FrameCNN", "build_framecnn"]


@dataclass(frozen=True)
class FrameCNNConfig:
    """Widths of the conv stages (each halves the resolution) and the classifier size."""

    widths: tuple[int, ...] = (16, 32, 64, 64)
    num_classes: int = 7
    in_channels: int = 3
    dropout: float = 0.1


FRAMECNN_CONFIGS = {
    "framecnn_small": FrameCNNConfig(widths=(16, 32, 64, 64)),
    # the comparison on the cpu profile (12×48², notebook 06): 45 M MACs per clip, about the ablations'
    # vivit_cpu_coarse_fe (44 M); one-thread step, batch 8: 76 vs 64 ms.
    "framecnn_tiny": FrameCNNConfig(widths=(12, 24, 48, 64)),
    "framecnn_smoke": FrameCNNConfig(widths=(8, 16)),
}


class FrameCNN(nn.Module):
    """Per-frame conv stack → temporal average → linear head (see module docstring)."""

    def __init__(self, config: FrameCNNConfig) -> None:
        super().__init__()
        self.config = config
        layers, c_in = [], config.in_channels
        for w in config.widths:
            layers += [nn.Conv2d(c_in, w, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True),
                       nn.Conv2d(w, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True)]
            c_in = w
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Sequential(nn.Dropout(config.dropout), nn.Linear(c_in, config.num_classes))

    def forward(self, clip: torch.Tensor, views=None, *, mix=None) -> torch.Tensor:
        if clip.ndim != 5 or clip.shape[2] != self.config.in_channels:
            raise ValueError(f"clip must be [B, T, {self.config.in_channels}, H, W], got {tuple(clip.shape)}")
        b = clip.shape[0]
        f = self.features(rearrange(clip, "b t c h w -> (b t) c h w"))
        return self.head(rearrange(f, "(b t) d -> b t d", b=b).mean(1))


def build_framecnn(name: str, *, num_classes: int, **overrides) -> FrameCNN:
    """Build a named :class:`FrameCNN` (``framecnn_small`` or ``framecnn_smoke``)."""
    from dataclasses import replace

    if name not in FRAMECNN_CONFIGS:
        raise KeyError(f"unknown frame CNN {name!r}; choose one of {sorted(FRAMECNN_CONFIGS)}")
    return FrameCNN(replace(FRAMECNN_CONFIGS[name], num_classes=num_classes, **overrides))
