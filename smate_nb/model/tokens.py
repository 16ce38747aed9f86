"""Token embeddings (paper §3.2.2, Eqs. 6–7).

* :class:`TubeletEmbedding` — Eq. 6: ``z_data = [E x_1, …, E x_k]``, a linear
  projection ``E`` of non-overlapping ``t×p×p`` tubes, implemented as a Conv3d
  whose kernel equals its stride. ``t = 1`` is ViViT's *uniform frame sampling*
  (see :func:`uniform_frame_embedding`).
* :func:`mix_tokens` — Eq. 7 given the Bernoulli draw ``X`` (pure, exact).
* :class:`MixedTokenEmbedding` — draws ``X ~ Bernoulli(p)`` per sample in
  training and calls :func:`mix_tokens`; in eval mode returns ``z_origin``.
"""
from __future__ import annotations

from typing import Sequence

import torch
from einops import rearrange
from torch import nn
from torch.nn import functional as F

__all__ = ["TubeletEmbedding", "uniform_frame_embedding", "mix_tokens", "MixedTokenEmbedding"]


class TubeletEmbedding(nn.Module):
    """Project a clip to a grid of tokens with a Conv3d (kernel = stride = ``(t, p, p)``).

    Args:
        in_channels: C of the clip (3 for RGB; an LBP view is given 3 channels too).
        dim: token width D.
        tubelet: ``(t, p, p)`` tube size; ``t = 1`` is uniform frame sampling.

    ``forward(clip)``: ``[B, T, C, H, W]`` float → ``[B, n_t, n_h·n_w, D]`` with
    ``n_t = ⌊T/t⌋``, ``n_h = ⌊H/p⌋``, ``n_w = ⌊W/p⌋``. Frames or pixels that do not
    fill a whole tube are dropped (VALID padding, as Scenic), so 25 frames with
    ``t = 2`` give 12 temporal tokens.
    """

    def __init__(self, in_channels: int, dim: int, tubelet: Sequence[int]) -> None:
        super().__init__()
        if len(tubelet) != 3 or min(tubelet) < 1:
            raise ValueError(f"tubelet must be (t, p, p) with positive sizes, got {tubelet!r}")
        self.tubelet = tuple(int(v) for v in tubelet)
        self.proj = nn.Conv3d(in_channels, dim, kernel_size=self.tubelet, stride=self.tubelet)

    def grid(self, num_frames: int, height: int, width: int) -> tuple[int, int, int]:
        """Token grid ``(n_t, n_h, n_w)`` for a clip of the given size."""
        t, ph, pw = self.tubelet
        if num_frames < t or height < ph or width < pw:
            raise ValueError(f"clip {num_frames}×{height}×{width} is smaller than one tubelet {self.tubelet}")
        return num_frames // t, height // ph, width // pw

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        if clip.ndim != 5:
            raise ValueError(f"expected a clip batch [B, T, C, H, W], got shape {tuple(clip.shape)}")
        n_t, n_h, n_w = self.grid(clip.shape[1], clip.shape[3], clip.shape[4])
        t, ph, pw = self.tubelet
        # A Conv3d whose stride equals its kernel is one matrix product over non-overlapping tubes. Computing it
        # that way (the Conv3d keeps the weights, so checkpoints and ViT inflation see the usual layout) replaces
        # cuDNN's 3-D convolution (7 % of a ViViT-B training step on an H200: the step got 7 ms of 101 faster) and
        # mkldnn's on a CPU (10× slower than this at batch 4, 64², D = 768) by one GEMM.
        tubes = rearrange(clip[:, :n_t * t, :, :n_h * ph, :n_w * pw],
                          "b (nt t) c (nh ph) (nw pw) -> b nt (nh nw) (c t ph pw)", t=t, ph=ph, pw=pw)
        return F.linear(tubes, self.proj.weight.flatten(1), self.proj.bias)


def uniform_frame_embedding(in_channels: int, dim: int, patch: int) -> TubeletEmbedding:
    """ViViT's uniform frame sampling: a ``1×p×p`` tubelet (each frame patched on its own)."""
    return TubeletEmbedding(in_channels, dim, (1, patch, patch))


def mix_tokens(z_origin: torch.Tensor, z_augs: Sequence[torch.Tensor] | torch.Tensor,
               x: torch.Tensor) -> torch.Tensor:
    """Eq. 7 for a given draw ``X`` (no randomness here).

    ``z_mix = z_origin`` where ``X = 0``; ``(z_origin + Σ_i z_aug_i) / (N+1)`` where ``X = 1``.

    Args:
        z_origin: tokens of the original clip, ``[B, …]`` (any trailing shape).
        z_augs: the N augmented views' tokens, a sequence of N tensors shaped like
            ``z_origin`` or one tensor ``[N, B, …]``. N = 0 returns ``z_origin``.
        x: ``[B]`` of 0/1 (bool or number), one draw per sample.
    Returns:
        tensor shaped like ``z_origin``.
    """
    if isinstance(z_augs, torch.Tensor):
        z_augs = list(z_augs.unbind(0))
    if len(z_augs) == 0:
        return z_origin
    for i, z in enumerate(z_augs):
        if z.shape != z_origin.shape:
            raise ValueError(f"augmented view {i} has token shape {tuple(z.shape)}, "
                             f"original has {tuple(z_origin.shape)}; all views must come from the same clip geometry")
    if x.shape != z_origin.shape[:1]:
        raise ValueError(f"X must have one value per sample, shape {tuple(z_origin.shape[:1])}, got {tuple(x.shape)}")
    mixed = (z_origin + torch.stack(list(z_augs), 0).sum(0)) / (len(z_augs) + 1)
    mask = x.to(torch.bool).reshape(-1, *([1] * (z_origin.ndim - 1)))
    return torch.where(mask, mixed, z_origin)


class MixedTokenEmbedding(nn.Module):
    """Random mixed-token embedding (Eq. 7): ``X ~ Bernoulli(p)`` per sample.

    In training mode each sample independently keeps its original tokens
    (``X = 0``) or averages them with its N augmented views (``X = 1``). In
    eval mode it always returns ``z_origin`` (the paper evaluates on original
    clips only).

    Args:
        p: probability that a sample is mixed (not given in the paper; a parameter).
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"mixing probability p must lie in [0, 1], got {p}")
        self.p = p

    def draw(self, batch: int, device: torch.device | str = "cpu",
             generator: torch.Generator | None = None) -> torch.Tensor:
        """One Bernoulli(p) draw per sample: bool ``[batch]``."""
        u = torch.rand(batch, generator=generator, device=generator.device if generator else device)
        return (u < self.p).to(device)

    def forward(self, z_origin: torch.Tensor, z_augs: Sequence[torch.Tensor] | torch.Tensor | None = None,
                x: torch.Tensor | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
        """Mix in training; identity in eval.

        Args:
            z_origin: ``[B, …]`` tokens of the original clips.
            z_augs: N views' tokens (see :func:`mix_tokens`), or ``None``.
            x: optional explicit draw ``[B]`` (overrides the random one; tests, analysis).
            generator: optional torch.Generator for the draw.
        Returns:
            ``[B, …]`` mixed tokens.
        """
        if not self.training or z_augs is None or len(z_augs) == 0:
            return z_origin
        if x is None:
            x = self.draw(z_origin.shape[0], z_origin.device, generator)
        return mix_tokens(z_origin, z_augs, x)

    def extra_repr(self) -> str:
        return f"p={self.p}"
