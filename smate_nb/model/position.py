"""Position information for the two encoders (paper §3.2.3, Eqs. 9–10).

* Spatial encoder: one learned (BERT-style) embedding of ``(N+1)×D`` shared by every temporal index (as
  official ViViT / Scenic does).
* Temporal encoder: a learned embedding (the paper's "BERT" baseline), the paper's fixed temporal
  positional encodings TPE-v1 / TPE-v2, or nothing (``none``, the control).

Eq. 9 (TPE-v1)::   TPE1(pos) = 1 / (1 + exp(-α (2·pos − L) / L))
Eq. 10 (TPE-v2)::  TPE2(pos) = pos^α / L

with ``pos ∈ [0, L−1]`` and ``L`` the number of temporal tokens. The paper says "all values were
normalized to L such that they were located between [0, 1]", but Eq. 10 as printed leaves [0, 1] for
α > 1 (L=12, α=2: 121/12 ≈ 10). We keep the printed form (``normalized=False``) and offer the normalised
reading ``(pos/L)^α`` (``normalized=True``); a run records which it used. α is not given: a parameter.

**How a TPE value enters the model is not stated by the paper** — it says only that TPE "represents a
position value rather than an embedding". Four readings, the ``tpe_mode`` of a model:

``broadcast`` — the literal reading: ``z_pos ← z_pos + TPE(pos)·1``, one scalar on every channel. In a
    pre-norm transformer every branch and the encoder's end begin with a LayerNorm, and
    ``LN(z + c·1) = LN(z)`` exactly (LN subtracts the token's mean over channels, and ``c·1`` is all mean):
    the offset rides along the residual stream and every LayerNorm that reads the stream removes it again.
    The model's output **does not depend on TPE at all** in this mode (proved by a test; kept as the
    reference reading).
``broadcast_dropout`` — Scenic's order: add the offset, then dropout (rate ``tpe_dropout``) on the
    temporal encoder's input (``AddPositionEmbs`` followed by ``nn.Dropout``). Dropout zeroes channels
    independently, so during *training* the offset becomes channel-varying and partly survives LayerNorm;
    at evaluation there is no dropout and the model is exactly position-free again.
``direction`` — a fixed reading that survives LayerNorm with no learned parameter: ``z_pos ← z_pos +
    s·TPE(pos)·u`` with ``u`` a fixed zero-mean direction of unit RMS (:func:`tpe_direction`, alternating
    ±1 over channels). ``LN`` keeps a zero-mean shift along ``u``, so a token moves along one fixed
    direction by a position-dependent amount. Scale ``s = tpe_scale`` (default 1): the temporal tokens are
    the spatial encoder's LayerNorm'd CLS outputs, of per-channel RMS ≈ 1 at initialisation, so TPE ∈ [0, 1]
    moves a token by up to its own RMS — visible, not dominant.
``attention_bias`` — the paper calls TPE a "relative position encoding": add ``s·TPE(pos_k)`` of the *key's*
    position to every attention logit of the temporal encoder (SDPA's float mask), in every layer; the
    tokens themselves are unchanged. Softmax is invariant to a constant added to all logits of a row, so a
    constant TPE (e.g. TPE-v2 at α = 0) is exactly position-free; a rising TPE tilts attention towards
    later (more expressive) frames.
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = [
    "tpe",
    "tpe_v1",
    "tpe_v2",
    "tpe_direction",
    "LearnedPositionEmbedding",
    "FixedTemporalEncoding",
    "TEMPORAL_POSITIONS",
    "TPE_MODES",
    "make_temporal_position",
    "interpolate_embedding",
]

#: Accepted values of ``temporal_position``.
TEMPORAL_POSITIONS = ("learned", "tpe_v1", "tpe_v2", "none")
#: How a TPE value enters the temporal encoder (see the module docstring).
TPE_MODES = ("broadcast", "broadcast_dropout", "direction", "attention_bias")


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


def tpe_direction(dim: int) -> torch.Tensor:
    """The fixed direction of the ``direction`` mode: alternating ``+1, −1, …`` over ``dim`` channels.

    Zero mean and unit RMS exactly (for odd ``dim`` the last channel is 0 and the rest are scaled by
    ``√(dim/(dim−1))``). Returns float32 ``[dim]``.
    """
    if not isinstance(dim, int) or dim < 2:
        raise ValueError(f"the TPE direction needs dim ≥ 2 channels, got {dim!r}")
    u = torch.tensor([1.0 if i % 2 == 0 else -1.0 for i in range(dim)], dtype=torch.float64)
    if dim % 2:
        u[-1] = 0.0
        u *= (dim / (dim - 1)) ** 0.5
    return u.to(torch.float32)


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

    def attention_bias(self) -> None:
        return None


def interpolate_embedding(weight: torch.Tensor, length: int, keep_first: bool) -> torch.Tensor:
    """A learned position table resized to ``length`` rows by linear interpolation over positions.

    For a model evaluated on more temporal tokens than it was trained with (ViViT checkpoints are
    fine-tuned at other frame counts the same way: linear interpolation of the table over positions,
    endpoints kept). ``keep_first``: row 0 is the CLS token's and is kept as it is.
    ``weight [1, L, D] → [1, length, D]``.
    """
    head, body = (weight[:, :1], weight[:, 1:]) if keep_first else (weight[:, :0], weight)
    n = length - head.shape[1]
    if n < 1:
        raise ValueError(f"cannot resize a position table to {length} rows")
    if body.shape[1] == 1:
        resized = body.expand(1, n, body.shape[2])
    else:
        resized = torch.nn.functional.interpolate(body.transpose(1, 2), size=n, mode="linear",
                                                  align_corners=True).transpose(1, 2)
    return torch.cat([head, resized], 1)


class FixedTemporalEncoding(nn.Module):
    """TPE-v1 / TPE-v2 as a module, in one of :data:`TPE_MODES` (see the module docstring).

    The values (and the direction) are non-persistent buffers — not parameters, not in the state dict — so
    they follow the module across devices and cannot be trained.

    ``forward(z)``: ``[B, L, D] → [B, L, D]`` (the token-side effect of the mode; ``attention_bias`` leaves
    the tokens unchanged). :meth:`attention_bias` gives the key-position bias ``[L]`` of the
    ``attention_bias`` mode (``None`` for the other modes).
    """

    def __init__(self, version: str, length: int, alpha: float = 1.0, normalized: bool = False,
                 mode: str = "broadcast", dim: int | None = None, scale: float = 1.0, dropout: float = 0.1) -> None:
        super().__init__()
        if mode not in TPE_MODES:
            raise ValueError(f"unknown tpe_mode {mode!r}; choose one of {TPE_MODES}")
        if mode == "direction" and dim is None:
            raise ValueError("tpe_mode 'direction' needs the token width dim")
        self.version, self.length, self.alpha, self.normalized = version, length, alpha, normalized
        self.mode, self.scale = mode, float(scale)
        self.register_buffer("values", tpe(version, length, alpha, normalized), persistent=False)
        self.register_buffer("direction", tpe_direction(dim) if mode == "direction" else torch.zeros(0),
                             persistent=False)
        self.dropout = nn.Dropout(dropout if mode == "broadcast_dropout" else 0.0)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.shape[1] != self.length:
            raise ValueError(f"TPE built for L={self.length} tokens, input has {z.shape[1]}")
        v = self.values.to(z.dtype)
        if self.mode == "broadcast":
            return z + v[None, :, None]                          # the same scalar on every channel
        if self.mode == "broadcast_dropout":
            return self.dropout(z + v[None, :, None])            # Scenic: AddPositionEmbs, then Dropout
        if self.mode == "direction":
            return z + self.scale * v[None, :, None] * self.direction.to(z.dtype)[None, None, :]
        return z                                                 # attention_bias: tokens untouched

    def attention_bias(self) -> torch.Tensor | None:
        """``s·TPE(pos)`` per key position ``[L]`` in the ``attention_bias`` mode, else ``None``."""
        return self.scale * self.values if self.mode == "attention_bias" else None

    def extra_repr(self) -> str:
        return (f"version={self.version}, L={self.length}, alpha={self.alpha}, normalized={self.normalized}, "
                f"mode={self.mode}, scale={self.scale}")


class NoPosition(nn.Identity):
    """No temporal position (the control): the identity, and no attention bias."""

    def attention_bias(self) -> None:
        return None


def make_temporal_position(kind: str, length: int, dim: int, alpha: float = 1.0, normalized: bool = False,
                           mode: str = "broadcast", scale: float = 1.0, dropout: float = 0.1) -> nn.Module:
    """Build the temporal encoder's position module.

    Args:
        kind: one of :data:`TEMPORAL_POSITIONS`.
        length: number of positioned temporal tokens.
        dim: token width.
        alpha, normalized: TPE's α and Eq. 10's reading.
        mode, scale, dropout: the TPE reading (:data:`TPE_MODES`), its scale, ``broadcast_dropout``'s rate.
    Returns:
        a module mapping ``[B, length, dim] → [B, length, dim]`` with an ``attention_bias()`` method.
    """
    if kind == "learned":
        return LearnedPositionEmbedding(length, dim)
    if kind in ("tpe_v1", "tpe_v2"):
        return FixedTemporalEncoding(kind, length, alpha, normalized, mode, dim, scale, dropout)
    if kind == "none":
        return NoPosition()
    raise ValueError(f"unknown temporal_position {kind!r}; choose one of {TEMPORAL_POSITIONS}")
