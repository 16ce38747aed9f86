"""A small CNN-RNN: a per-frame 2-D CNN whose features a GRU / LSTM reads in order (paper §1–2, refs. [34], [39]).

The paper argues against the CNN-RNN family (§1: a fixed CNN template plus an RNN
that must read the sequence step by step); the EmotiW 2016 winner it compares with
in Table 6 (Fan et al., ref. [34]) combined such a CNN-RNN (an LSTM over per-frame
face-CNN features) with C3D. This is a compact member of the family, trained from
scratch here (no face-CNN weights can be fetched):

* each frame goes through the same conv stack — per stage a stride-2 3×3 conv then
  ``convs_per_stage − 1`` stride-1 3×3 convs, each conv–BN–ReLU (the style of
  :mod:`smate_nb.model.framecnn`) — and a global average pool;
* the frame features, in time order, go through a GRU (``rnn="gru"``, default)
  or an LSTM (``rnn="lstm"``), ``rnn_layers`` deep, unidirectional;
* the **last hidden state** of the top layer goes through dropout and a linear head.

Last state rather than the mean over time: the last state is the only readout
that has seen every frame *in order* — it is the CNN-RNN the paper argues against
(and the usual many-to-one readout of CNN-LSTM FER models). A temporal mean of the
RNN outputs would sit close to FrameCNN's order-free temporal average, blurring
the very comparison this baseline is for. Clips have a fixed T (no padding), so
the last step is always a real frame; on CK+-style neutral → peak sequences it
is also the most expressive one.

Data flow, ``cnnrnn_small`` on ``[B, 16, 3, 64, 64]``:

    clip [B, T, C, H, W] in [0, 1]  → ×2 − 1 (zero_centering, as ViViT-FE)
    → frames [B·T, C, H, W]
    → 4 stages (widths 24, 48, 96, 192), each conv3² stride 2 + conv3², BN, ReLU
                                                      [B·T, 192, 4, 4]
    → global average pool                             [B·T, 192]
    → [B, T, 192] → GRU (hidden 128)                  h_T: [B, 128]
    → dropout → linear                                [B, num_classes]

``forward(clip, views=None, *, mix=None)``: ``[B, T, C, H, W] → [B, classes]``
(``views`` / ``mix`` are accepted for interface parity with ViViT-FE and ignored:
mixed tokens are a token-level method).
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace

import torch
from einops import rearrange
from torch import nn

from .inputs import check_clip

__all__ = ["CNNRNNConfig", "CNNRNN_CONFIGS", "CNNRNN", "build_cnnrnn", "RNN_KINDS"]

RNN_KINDS = ("gru", "lstm")


@dataclass(frozen=True)
class CNNRNNConfig:
    """Frame-CNN stage widths (each stage halves the resolution), recurrent layer, classifier."""

    widths: tuple[int, ...] = (24, 48, 96, 192)
    convs_per_stage: int = 2
    rnn: str = "gru"              # "gru" | "lstm"
    hidden: int = 128
    rnn_layers: int = 1
    num_classes: int = 7
    in_channels: int = 3
    dropout: float = 0.1          # before the head (and between stacked RNN layers)
    zero_centering: bool = True   # [0, 1] → [−1, 1], like ViViT-FE

    def __post_init__(self) -> None:
        if isinstance(self.widths, list):                          # lists (e.g. from JSON) → hashable
            object.__setattr__(self, "widths", tuple(self.widths))
        self.validate()

    def validate(self) -> "CNNRNNConfig":
        """Check the fields that a wrong override could break; raise ``ValueError`` naming the field."""
        def need(cond: bool, name: str, allowed: str) -> None:
            if not cond:
                raise ValueError(f"CNNRNNConfig.{name} = {getattr(self, name)!r}: {allowed}")

        def pos_int(v) -> bool:
            return isinstance(v, int) and not isinstance(v, bool) and v >= 1

        need(self.rnn in RNN_KINDS, "rnn", f"one of {RNN_KINDS}")
        need(isinstance(self.widths, tuple) and len(self.widths) >= 1 and all(pos_int(w) for w in self.widths),
             "widths", "a non-empty tuple of integer widths ≥ 1")
        for name in ("convs_per_stage", "hidden", "rnn_layers", "num_classes", "in_channels"):
            need(pos_int(getattr(self, name)), name, "an integer ≥ 1")
        need(isinstance(self.dropout, (int, float)) and 0 <= float(self.dropout) < 1, "dropout", "a rate in [0, 1)")
        need(isinstance(self.zero_centering, bool), "zero_centering", "a bool")
        return self


CNNRNN_CONFIGS = {
    # the profile model's size (vivit_cpu_fe, 16×64²; notebook 06 on other profiles): MACs and one-thread step ≈ vivit_cpu_fe's (480 M vs 472 M MACs per clip).
    "cnnrnn_small": CNNRNNConfig(widths=(24, 48, 96, 192), hidden=128),
    # the comparison on the cpu profile (12×48², notebook 06): half cnnrnn_small's widths, GRU 96 — 52 M MACs per
    # clip, about the ablations' vivit_cpu_coarse_fe (44 M); one-thread step, batch 8: 101 vs 64 ms.
    "cnnrnn_tiny": CNNRNNConfig(widths=(12, 24, 48, 96), hidden=96),
    # smoke profile (8×32²): seconds.
    "cnnrnn_smoke": CNNRNNConfig(widths=(8, 16), convs_per_stage=1, hidden=16),
}


class CNNRNN(nn.Module):
    """Per-frame conv stack → GRU/LSTM over time → last hidden state → linear head (see module docstring)."""

    def __init__(self, config: CNNRNNConfig) -> None:
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        c_in = config.in_channels
        for w in config.widths:
            for j in range(config.convs_per_stage):
                layers += [nn.Conv2d(c_in, w, 3, stride=2 if j == 0 else 1, padding=1, bias=False),
                           nn.BatchNorm2d(w), nn.ReLU(inplace=True)]
                c_in = w
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        rnn_cls = nn.GRU if config.rnn == "gru" else nn.LSTM
        self.rnn = rnn_cls(c_in, config.hidden, num_layers=config.rnn_layers, batch_first=True,
                           dropout=config.dropout if config.rnn_layers > 1 else 0.0)
        self.head = nn.Sequential(nn.Dropout(config.dropout), nn.Linear(config.hidden, config.num_classes))

    def _check_clip(self, clip: torch.Tensor) -> None:
        check_clip(clip, self.config.in_channels)

    def frame_features(self, clip: torch.Tensor) -> torch.Tensor:
        """Per-frame CNN features in time order: ``[B, T, C, H, W] → [B, T, widths[-1]]``."""
        self._check_clip(clip)
        if self.config.zero_centering:
            clip = clip * 2.0 - 1.0
        # Channels-last activations made a CPU training step ≈ 20 % faster (oneDNN); the weights stay
        # contiguous (safetensors checkpoints). A no-op copy-wise when the layout already matches.
        frames = rearrange(clip, "b t c h w -> (b t) c h w").contiguous(memory_format=torch.channels_last)
        f = self.features(frames)
        return rearrange(f, "(b t) d -> b t d", b=clip.shape[0])

    def forward(self, clip: torch.Tensor, views=None, *, mix=None) -> torch.Tensor:
        """``[B, T, C, H, W]`` in [0, 1] → logits ``[B, num_classes]``; ``views`` / ``mix`` ignored."""
        _, state = self.rnn(self.frame_features(clip))
        h = state[0] if self.config.rnn == "lstm" else state     # LSTM returns (h_n, c_n)
        return self.head(h[-1])                                   # top layer's state after the last frame


def build_cnnrnn(name: str, *, num_classes: int, **overrides) -> CNNRNN:
    """Build a named :class:`CNNRNN` (``cnnrnn_small`` or ``cnnrnn_smoke``); ``overrides``: any
    :class:`CNNRNNConfig` field, e.g. ``rnn="lstm"``."""
    if name not in CNNRNN_CONFIGS:
        raise KeyError(f"unknown CNN-RNN {name!r}; choose one of {sorted(CNNRNN_CONFIGS)}")
    known = {f.name for f in fields(CNNRNNConfig)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise TypeError(f"unknown CNNRNNConfig field(s) {unknown}; fields are {sorted(known)}")
    return CNNRNN(replace(CNNRNN_CONFIGS[name], num_classes=num_classes, **overrides))
