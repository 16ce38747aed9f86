"""Position information for the two encoders (paper §3.2.3, Eqs. 9–10).

* Spatial encoder: one learned (BERT-style) embedding of ``(N+1)×D`` shared by
  every temporal index (as official ViViT / Scenic does).
* Temporal encoder: a learned embedding (the paper's "BERT" baseline), or the
  paper's fixed temporal positional encodings TPE-v1 / TPE-v2, or nothing.

**A TPE value is one fixed scalar per temporal index**, added to *every
channel* of the token at that index (the paper: "a fixed encoding that
represents a position value rather than an embedding"). It has no parameters.

Eq. 9 (TPE-v1)::   TPE1(pos) = 1 / (1 + exp(-α (2·pos − L) / L))
Eq. 10 (TPE-v2)::  TPE2(pos) = pos^α / L

with ``pos ∈ [0, L−1]`` and ``L`` the number of temporal tokens. The paper says
"all values were normalized to L such that they were located between [0, 1]",
but Eq. 10 as printed leaves [0, 1] for α > 1 (e.g. L=12, α=2: 121/12 ≈ 10).
We keep the printed form (``normalized=False``) and offer the normalised
reading ``(pos/L)^α`` (``normalized=True``); a run records which it used.
α is not given in the paper: it is a parameter (default 1.0).
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = [
    "tpe",
    "tpe_v1",
    "tpe_v2",
    "LearnedPositionEmbedding",
    "FixedTemporalEncoding",
    "TEMPORAL_POSITIONS",
    "make_temporal_position",
]

#: Accepted values of ``temporal_position``.
TEMPORAL_POSITIONS = ("learned", "tpe_v1", "tpe_v2", "none")


def tpe_v1(length: int, alpha: float = 1.0) -> torch.Tensor:
    """Eq. 9: ``1 / (1 + exp(-α (2·pos − L)/L))`` for ``pos = 0..L-1``.

    Args:
        length: L, the number of temporal tokens (≥ 1).
        alpha: slope α of the sigmoid.
    Returns:
        float32 tensor of shape ``[L]``, values in (0, 1).
    """
    _check_length(length)
    pos = torch.arange(length, dtype=torch.float64)
    value = 1.0 / (1.0 + torch.exp(-alpha * (2.0 * pos - length) / length))
    return value.to(torch.float32)


def tpe_v2(length: int, alpha: float = 1.0, normalized: bool = False) -> torch.Tensor:
    """Eq. 10: ``pos^α / L`` (as printed) or ``(pos/L)^α`` (``normalized=True``).

    Args:
        length: L, the number of temporal tokens (≥ 1).
        alpha: exponent α (≥ 0; ``0^0`` is taken as 1, torch's convention).
        normalized: use the [0, 1]-bounded reading ``(pos/L)^α``.
    Returns:
        float32 tensor of shape ``[L]``.
    """
    _check_length(length)
    if alpha < 0:
        raise ValueError(f"TPE-v2 needs alpha >= 0 (pos=0 would divide by zero), got {alpha}")
    pos = torch.arange(length, dtype=torch.float64)
    value = (pos / length) ** alpha if normalized else pos ** alpha / length
    return value.to(torch.float32)


def tpe(version: str | int, length: int, alpha: float = 1.0, normalized: bool = False) -> torch.Tensor:
    """Temporal positional encoding values, one scalar per temporal index.

    Args:
        version: ``"v1"`` / ``1`` (Eq. 9) or ``"v2"`` / ``2`` (Eq. 10); ``"tpe_v1"`` /
            ``"tpe_v2"`` are accepted too.
        length: L, the number of temporal tokens.
        alpha: α of Eq. 9 / 10.
        normalized: TPE-v2 only — ``(pos/L)^α`` instead of the printed ``pos^α/L``.
    Returns:
        float32 tensor ``[L]``.
    """
    key = str(version).lower().removeprefix("tpe_").removeprefix("tpe-").removeprefix("v")
    if key == "1":
        if normalized:
            raise ValueError("normalized=True applies to TPE-v2 only (TPE-v1 already lies in (0, 1))")
        return tpe_v1(length, alpha)
    if key == "2":
        return tpe_v2(length, alpha, normalized)
    raise ValueError(f"unknown TPE version {version!r}; use 'v1' or 'v2'")


def _check_length(length: int) -> None:
    if not isinstance(length, int) or length < 1:
        raise ValueError(f"TPE length L must be a positive int, got {length!r}")


class LearnedPositionEmbedding(nn.Module):
    """BERT-style learned position embedding (``length×dim``), trunc-normal σ = 0.02.

    ``forward(z)`` adds it: ``z [B, length, dim] → [B, length, dim]``.
    """

    def __init__(self, length: int, dim: int, std: float = 0.02) -> None:
        super().__init__()
        self.length = length
        self.weight = nn.Parameter(torch.empty(1, length, dim))
        nn.init.trunc_normal_(self.weight, std=std, a=-2 * std, b=2 * std)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.shape[1] != self.length:
            raise ValueError(f"position embedding has {self.length} positions, input has {z.shape[1]} tokens")
        return z + self.weight


class FixedTemporalEncoding(nn.Module):
    """TPE-v1 / TPE-v2 as a module: adds ``tpe(...)[i]`` to every channel of token ``i``.

    The values are a non-persistent buffer (not a parameter, not in the state
    dict), so they follow the module across devices and cannot be trained.
    ``forward(z)``: ``[B, L, D] → [B, L, D]``.
    """

    def __init__(self, version: str, length: int, alpha: float = 1.0, normalized: bool = False) -> None:
        super().__init__()
        self.version, self.length, self.alpha, self.normalized = version, length, alpha, normalized
        self.register_buffer("values", tpe(version, length, alpha, normalized), persistent=False)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.shape[1] != self.length:
            raise ValueError(f"TPE built for L={self.length} tokens, input has {z.shape[1]}")
        # [L] → [1, L, 1]: the same scalar on every channel of a token.
        return z + self.values.to(z.dtype)[None, :, None]

    def extra_repr(self) -> str:
        return f"version={self.version}, L={self.length}, alpha={self.alpha}, normalized={self.normalized}"


def make_temporal_position(kind: str, length: int, dim: int, alpha: float = 1.0,
                           normalized: bool = False) -> nn.Module:
    """Build the temporal encoder's position module.

    Args:
        kind: one of :data:`TEMPORAL_POSITIONS`.
        length: number of positioned temporal tokens.
        dim: token width (learned embedding only).
    Returns:
        a module mapping ``[B, length, dim] → [B, length, dim]``.
    """
    if kind == "learned":
        return LearnedPositionEmbedding(length, dim)
    if kind in ("tpe_v1", "tpe_v2"):
        return FixedTemporalEncoding(kind, length, alpha, normalized)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown temporal_position {kind!r}; choose one of {TEMPORAL_POSITIONS}")

