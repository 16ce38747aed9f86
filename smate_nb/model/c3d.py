"""A small C3D-style 3-D CNN: a Table 6 baseline trained here (paper ref. [34]).

Table 6 quotes the EmotiW 2016 winner (Fan et al., "Video-based emotion
recognition using CNN-RNN and C3D hybrid networks", ref. [34]) whose video-only
branch is C3D (Tran et al. 2015): 16 frames at 112², eight 3×3×3 convolutions
(widths 64, 128, 256², 512², 512²) with 3-D max pooling — the first pool
spatial-only (1×2×2) so early layers keep the temporal resolution, the others
2×2×2 — then two 4096-wide FC layers. C3D's published weights come from Sports-1M
pretraining, which we do not have; this module keeps the recipe and scales it
down to train from scratch on a 2-core CPU:

* the same five stages and pools at 3/16 of the width from stage 2 on
  (``c3d_small``: 8, 24, 48², 96², 96²; stage 1 gets 8 rather than 12 channels
  because its full-resolution activations dominate a CPU step: 12 made the
  step ≈ 1.2× ViViT's, 8 ≈ 0.85×) and FC 512, 512 — about ``vivit_cpu_fe``'s
  parameters (1.29 M vs 1.25 M), MACs (430 M vs 472 M per 16×64² clip) and
  training-step time (batch 16, 16×64², one thread);
* BatchNorm after every convolution (from scratch on a few hundred clips);
* a global average pool over (T, H, W) in place of pool5 + flatten, so any
  T / H / W works (C3D's fc6 fixes 16×112²);
* max pools use ``ceil_mode=True`` (Caffe's rounding, which C3D was built in):
  an odd T such as 25 keeps its last frame, and a side of 1 stays 1.

Data flow, ``c3d_small`` on ``[B, 16, 3, 64, 64]``:

    clip [B, T, C, H, W] in [0, 1]  → ×2 − 1 (zero_centering, as ViViT-FE)
    → [B, C, T, H, W]
    → stage 1: conv3³ 8, BN, ReLU; pool 1×2×2              [B,  8, 16, 32, 32]
    → stage 2: conv3³ 24, BN, ReLU; pool 2×2×2             [B, 24,  8, 16, 16]
    → stage 3: 2 × (conv3³ 48, BN, ReLU); pool 2×2×2       [B, 48,  4,  8,  8]
    → stage 4: 2 × (conv3³ 96, BN, ReLU); pool 2×2×2       [B, 96,  2,  4,  4]
    → stage 5: 2 × (conv3³ 96, BN, ReLU)                   [B, 96,  2,  4,  4]
    → global average pool over (T, H, W)                   [B, 96]
    → 2 × (FC 512, ReLU, dropout) → linear                 [B, num_classes]

``forward(clip, views=None, *, mix=None)``: ``[B, T, C, H, W] → [B, classes]``
(``views`` / ``mix`` are accepted for interface parity with ViViT-FE and ignored:
mixed tokens are a token-level method).
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace

import torch
from torch import nn

from .inputs import check_clip

__all__ = ["C3DConfig", "C3D_CONFIGS", "C3D", "build_c3d"]


@dataclass(frozen=True)
class C3DConfig:
    """Conv widths per stage (a pool follows every stage but the last), FC widths, classes.

    ``stages[i]`` lists the widths of stage i's 3×3×3 convolutions. The pool after
    stage 0 is 1×2×2 (spatial only), after later stages 2×2×2; the last stage is
    followed by the global average pool. ``fc_dims``: hidden FC layers between the
    pool and the classifier (C3D's fc6/fc7, narrowed).
    """

    stages: tuple[tuple[int, ...], ...] = ((8,), (24,), (48, 48), (96, 96), (96, 96))
    fc_dims: tuple[int, ...] = (512, 512)
    num_classes: int = 7
    in_channels: int = 3
    dropout: float = 0.5          # C3D's dropout on fc6 / fc7
    zero_centering: bool = True   # [0, 1] → [−1, 1], like ViViT-FE

    def __post_init__(self) -> None:
        # Lists (e.g. from JSON) become tuples, so the config stays hashable.
        if isinstance(self.stages, (list, tuple)):
            object.__setattr__(self, "stages",
                               tuple(tuple(st) if isinstance(st, list) else st for st in self.stages))
        if isinstance(self.fc_dims, list):
            object.__setattr__(self, "fc_dims", tuple(self.fc_dims))
        self.validate()

    def validate(self) -> "C3DConfig":
        """Check the fields that a wrong override could break; raise ``ValueError`` naming the field."""
        def need(cond: bool, name: str, allowed: str) -> None:
            if not cond:
                raise ValueError(f"C3DConfig.{name} = {getattr(self, name)!r}: {allowed}")

        def pos_int(v) -> bool:
            return isinstance(v, int) and not isinstance(v, bool) and v >= 1

        need(isinstance(self.stages, tuple) and len(self.stages) >= 1
             and all(isinstance(st, tuple) and len(st) >= 1 and all(pos_int(w) for w in st) for st in self.stages),
             "stages", "a non-empty tuple of non-empty tuples of integer widths ≥ 1")
        need(isinstance(self.fc_dims, tuple) and all(pos_int(w) for w in self.fc_dims),
             "fc_dims", "a tuple of integer widths ≥ 1 (may be empty)")
        for name in ("num_classes", "in_channels"):
            need(pos_int(getattr(self, name)), name, "an integer ≥ 1")
        need(isinstance(self.dropout, (int, float)) and 0 <= float(self.dropout) < 1, "dropout", "a rate in [0, 1)")
        need(isinstance(self.zero_centering, bool), "zero_centering", "a bool")
        return self


C3D_CONFIGS = {
    # the profile model's size (vivit_cpu_fe, 16×64²; notebook 06 on other profiles): C3D's conv widths × 3/16 (stage 1: 8); params, MACs, one-thread step ≈ vivit_cpu_fe's.
    "c3d_small": C3DConfig(stages=((8,), (24,), (48, 48), (96, 96), (96, 96)), fc_dims=(512, 512)),
    # the comparison on the cpu profile (12×48², notebook 06): half c3d_small's widths (stage 1: 4) and FC 256 — 50 M
    # MACs per clip, about the ablations' vivit_cpu_coarse_fe (44 M); one-thread step, batch 8: 97 vs 64 ms.
    "c3d_tiny": C3DConfig(stages=((4,), (12,), (24, 24), (48, 48), (48, 48)), fc_dims=(256, 256)),
    # smoke profile (8×32²): seconds.
    "c3d_smoke": C3DConfig(stages=((8,), (16,), (32,)), fc_dims=(32,)),
}


def _conv_bn_relu(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv3d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm3d(c_out), nn.ReLU(inplace=True)]


class C3D(nn.Module):
    """3×3×3 conv stages with 3-D max pooling → global average pool → FC → linear (see module docstring)."""

    def __init__(self, config: C3DConfig) -> None:
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        c_in = config.in_channels
        for i, widths in enumerate(config.stages):
            for w in widths:
                layers += _conv_bn_relu(c_in, w)
                c_in = w
            if i < len(config.stages) - 1:
                k = (1, 2, 2) if i == 0 else (2, 2, 2)
                layers.append(nn.MaxPool3d(k, stride=k, ceil_mode=True))
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool3d(1), nn.Flatten())
        head: list[nn.Module] = []
        for d in config.fc_dims:
            head += [nn.Linear(c_in, d), nn.ReLU(inplace=True), nn.Dropout(config.dropout)]
            c_in = d
        head.append(nn.Linear(c_in, config.num_classes))
        self.head = nn.Sequential(*head)

    def _check_clip(self, clip: torch.Tensor) -> None:
        check_clip(clip, self.config.in_channels)

    def forward(self, clip: torch.Tensor, views=None, *, mix=None) -> torch.Tensor:
        """``[B, T, C, H, W]`` in [0, 1] → logits ``[B, num_classes]``; ``views`` / ``mix`` ignored."""
        self._check_clip(clip)
        if self.config.zero_centering:
            clip = clip * 2.0 - 1.0
        # Conv3d wants [B, C, T, H, W]. The permute copies anyway; laying the copy out channels-last
        # (memory order B, T, H, W, C) made a CPU training step ≈ 25 % faster (oneDNN convolutions and
        # pooling). Only the activations change layout: the weights stay contiguous for safetensors.
        x = clip.transpose(1, 2).contiguous(memory_format=torch.channels_last_3d)
        return self.head(self.features(x))


def build_c3d(name: str, *, num_classes: int, **overrides) -> C3D:
    """Build a named :class:`C3D` (``c3d_small`` or ``c3d_smoke``); ``overrides``: any :class:`C3DConfig` field."""
    if name not in C3D_CONFIGS:
        raise KeyError(f"unknown C3D {name!r}; choose one of {sorted(C3D_CONFIGS)}")
    known = {f.name for f in fields(C3DConfig)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise TypeError(f"unknown C3DConfig field(s) {unknown}; fields are {sorted(known)}")
    return C3D(replace(C3D_CONFIGS[name], num_classes=num_classes, **overrides))
