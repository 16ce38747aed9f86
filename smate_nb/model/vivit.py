"""ViViT factorised encoder as SMaTE uses it (paper §3.2.1, §3.2.4, Eqs. 3–5, 8).

Data flow of :class:`ViViTFE` for a clip ``[B, T, C, H, W]``::

    tubelet tokens  [B, n_t, N, D]   (original clip, and N' views when training)
    mixed tokens    [B, n_t, N, D]   Eq. 7 (training only)
    + CLS, + spatial position        Eq. 8: one learned (N+1)×D table for every t
    spatial encoder (STE)            per temporal index: [B·n_t, N+1, D] → CLS → [B, n_t, D]
    + temporal CLS, temporal position (learned | TPE-v1 | TPE-v2 | none)
    temporal encoder (TTE)           [B, n_t(+1), D]
    final LayerNorm → CLS → zero-initialised linear head → logits [B, classes]

Each encoder is a stack of pre-norm blocks (Eqs. 4–5) with multi-head
self-attention (Eq. 3, through ``torch.nn.functional.scaled_dot_product_attention``
so GPUs use flash / memory-efficient kernels) and a GELU MLP, closed by its
own LayerNorm (Scenic's ``encoder_norm``; the temporal one is the final norm).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Sequence

import torch
import torch.nn.functional as F
from einops import rearrange, repeat
from torch import nn

from .position import TEMPORAL_POSITIONS, LearnedPositionEmbedding, make_temporal_position
from .tokens import MixedTokenEmbedding, TubeletEmbedding

__all__ = ["ViViTConfig", "VIVIT_CONFIGS", "EncoderBlock", "Encoder", "ViViTFE", "build_vivit"]


@dataclass(frozen=True)
class ViViTConfig:
    """Architecture and input geometry of a ViViT-FE.

    ``temporal_cls_position``: whether the temporal CLS token takes position 0
    of the temporal position table/encoding. ``None`` (auto) means *yes* for the
    learned embedding (official ViViT: a table of n_t+1 rows) and *no* for TPE
    (the paper defines L as the number of tokens the spatial encoder outputs,
    i.e. n_t, so CLS gets no position value).

    ``zero_centering``: clips arrive in [0, 1] and are mapped to [−1, 1] before
    tokenisation (Scenic's ``zero_centering``). Without it the from-scratch
    ``vivit_cpu_fe`` stayed at chance on SynthFER in every calibration run.
    """

    dim: int
    spatial_depth: int
    temporal_depth: int
    heads: int
    mlp_dim: int
    tubelet: tuple[int, int, int]
    num_frames: int = 25
    image_size: int = 224
    num_classes: int = 7
    in_channels: int = 3
    temporal_position: str = "learned"
    tpe_alpha: float = 1.0
    tpe_normalized: bool = False
    temporal_cls_position: bool | None = None
    mix_prob: float = 0.5
    zero_centering: bool = True
    dropout: float = 0.0
    attention_dropout: float = 0.0
    drop_path: float = 0.0
    layer_norm_eps: float = 1e-6

    @property
    def grid(self) -> tuple[int, int, int]:
        """Token grid ``(n_t, n_h, n_w)``."""
        t, ph, pw = self.tubelet
        return self.num_frames // t, self.image_size // ph, self.image_size // pw

    @property
    def cls_takes_temporal_position(self) -> bool:
        """Resolved value of :attr:`temporal_cls_position`."""
        if self.temporal_cls_position is not None:
            return self.temporal_cls_position
        return self.temporal_position == "learned"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: Named architectures. ``vivit_b_16x2_fe`` is the paper's backbone (Table 1);
#: the small ones are for the ``smoke`` and ``cpu`` profiles (see config.py).
VIVIT_CONFIGS: dict[str, ViViTConfig] = {
    "vivit_b_16x2_fe": ViViTConfig(dim=768, spatial_depth=12, temporal_depth=12, heads=12,
                                   mlp_dim=3072, tubelet=(2, 16, 16), num_frames=25, image_size=224),
    "vivit_cpu_fe": ViViTConfig(dim=128, spatial_depth=4, temporal_depth=2, heads=4,
                                mlp_dim=512, tubelet=(2, 8, 8), num_frames=16, image_size=64),
    "vivit_smoke_fe": ViViTConfig(dim=32, spatial_depth=1, temporal_depth=1, heads=2,
                                  mlp_dim=64, tubelet=(2, 8, 8), num_frames=8, image_size=32),
}


def drop_path(x: torch.Tensor, rate: float, training: bool) -> torch.Tensor:
    """Stochastic depth: drop the residual branch per sample with probability ``rate``."""
    if rate == 0.0 or not training:
        return x
    keep = torch.rand(x.shape[0], *([1] * (x.ndim - 1)), device=x.device, dtype=x.dtype) >= rate
    return x * keep / (1.0 - rate)


class MultiHeadSelfAttention(nn.Module):
    """Eq. 3 with k heads: ``softmax(Q Kᵀ / √D_h) V`` per head, D_h = D / k.

    ``forward(z)``: ``[B, L, D] → [B, L, D]``.
    """

    def __init__(self, dim: int, heads: int, attention_dropout: float = 0.0) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"hidden size {dim} is not divisible by {heads} heads")
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.attention_dropout = attention_dropout

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        q, k, v = rearrange(self.qkv(z), "b l (three h d) -> three b h l d", three=3, h=self.heads)
        out = F.scaled_dot_product_attention(q, k, v, dropout_p=self.attention_dropout if self.training else 0.0)
        return self.proj(rearrange(out, "b h l d -> b l (h d)"))


class EncoderBlock(nn.Module):
    """Pre-norm transformer block (Eqs. 4–5).

    ``y = MSA(LN(z)) + z``;  ``z' = MLP(LN(y)) + y`` with a two-layer GELU MLP.
    ``forward(z)``: ``[B, L, D] → [B, L, D]``.
    """

    def __init__(self, dim: int, heads: int, mlp_dim: int, dropout: float = 0.0,
                 attention_dropout: float = 0.0, drop_path: float = 0.0, eps: float = 1e-6) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = MultiHeadSelfAttention(dim, heads, attention_dropout)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp_dim), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(mlp_dim, dim), nn.Dropout(dropout))
        self.dropout = nn.Dropout(dropout)
        self.drop_path = drop_path

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        y = z + drop_path(self.dropout(self.attn(self.norm1(z))), self.drop_path, self.training)   # Eq. 4
        return y + drop_path(self.mlp(self.norm2(y)), self.drop_path, self.training)              # Eq. 5


class Encoder(nn.Module):
    """A stack of :class:`EncoderBlock` closed by a LayerNorm. ``[B, L, D] → [B, L, D]``."""

    def __init__(self, depth: int, dim: int, heads: int, mlp_dim: int, dropout: float = 0.0,
                 attention_dropout: float = 0.0, drop_path: float = 0.0, eps: float = 1e-6) -> None:
        super().__init__()
        # Stochastic depth grows linearly with depth, as in Scenic's ViViT.
        rates = [drop_path * i / max(depth - 1, 1) for i in range(depth)]
        self.blocks = nn.ModuleList(EncoderBlock(dim, heads, mlp_dim, dropout, attention_dropout, r, eps)
                                    for r in rates)
        self.norm = nn.LayerNorm(dim, eps=eps)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            z = block(z)
        return self.norm(z)


ViewsArg = torch.Tensor | Sequence[torch.Tensor] | None


class ViViTFE(nn.Module):
    """ViViT factorised encoder with SMaTE's mixed tokens and temporal encodings.

    Build it with :func:`build_vivit`. ``forward(clip, views=None, *, mix=None)``:

    * ``clip``: ``[B, T, C, H, W]`` float (values in [0, 1] by convention).
    * ``views``: the N augmented views of the *same* clips for mixed-token
      embedding (Eq. 7), each ``[B, T, C, H, W]`` — either a tensor
      ``[B, N, T, C, H, W]`` or a sequence of N tensors. An LBP view is one more
      view (3-channel). Used only in training mode; ignored (and not even
      tokenised) in eval mode, where Eq. 7 returns ``z_origin``.
    * ``mix``: optional explicit Bernoulli draw ``X`` ``[B]`` (0/1) for Eq. 7;
      default: drawn with probability ``config.mix_prob``.

    Returns logits ``[B, num_classes]``.
    """

    def __init__(self, config: ViViTConfig) -> None:
        super().__init__()
        if config.temporal_position not in TEMPORAL_POSITIONS:
            raise ValueError(f"unknown temporal_position {config.temporal_position!r}; "
                             f"choose one of {TEMPORAL_POSITIONS}")
        self.config = config
        c = config
        n_t, n_h, n_w = c.grid
        if min(n_t, n_h, n_w) < 1:
            raise ValueError(f"{c.num_frames} frames at {c.image_size}² give no token for tubelet {c.tubelet}")
        self.tokenizer = TubeletEmbedding(c.in_channels, c.dim, c.tubelet)
        self.mixer = MixedTokenEmbedding(c.mix_prob)
        self.spatial_cls = nn.Parameter(torch.zeros(1, 1, c.dim))
        self.spatial_position = LearnedPositionEmbedding(n_h * n_w + 1, c.dim)
        self.spatial_encoder = Encoder(c.spatial_depth, c.dim, c.heads, c.mlp_dim, c.dropout,
                                       c.attention_dropout, c.drop_path, c.layer_norm_eps)
        self.temporal_cls = nn.Parameter(torch.zeros(1, 1, c.dim))
        positioned = n_t + 1 if c.cls_takes_temporal_position else n_t
        self.temporal_position = make_temporal_position(c.temporal_position, positioned, c.dim,
                                                        c.tpe_alpha, c.tpe_normalized)
        self.temporal_encoder = Encoder(c.temporal_depth, c.dim, c.heads, c.mlp_dim, c.dropout,
                                        c.attention_dropout, c.drop_path, c.layer_norm_eps)
        self.head = nn.Linear(c.dim, c.num_classes)
        self._init_weights()

    def _init_weights(self) -> None:
        # Scenic's ViT: Xavier-uniform dense kernels, (near-)zero biases, zero CLS, zero head.
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def _check_clip(self, clip: torch.Tensor, what: str = "clip") -> None:
        c = self.config
        if clip.ndim != 5 or clip.shape[2] != c.in_channels:
            raise ValueError(f"{what} must be [B, T, {c.in_channels}, H, W], got {tuple(clip.shape)}")
        grid = self.tokenizer.grid(clip.shape[1], clip.shape[3], clip.shape[4])
        if grid != c.grid:
            raise ValueError(f"{what} {tuple(clip.shape)} gives token grid {grid}, the model was built for "
                             f"{c.grid} ({c.num_frames} frames at {c.image_size}²); rebuild with build_vivit(...)")

    def tokens(self, clip: torch.Tensor, views: ViewsArg = None, mix: torch.Tensor | None = None) -> torch.Tensor:
        """Tubelet tokens after mixed-token embedding: ``[B, n_t, N, D]``."""
        self._check_clip(clip)
        center = (lambda v: v * 2.0 - 1.0) if self.config.zero_centering else (lambda v: v)
        clip = center(clip)
        z_origin = self.tokenizer(clip)
        if not self.training or views is None:
            return z_origin
        if isinstance(views, torch.Tensor):
            if views.ndim != 6:
                raise ValueError(f"views tensor must be [B, N, T, C, H, W], got {tuple(views.shape)}")
            views = list(views.unbind(1))
        for i, v in enumerate(views):
            self._check_clip(v, f"view {i}")
        if not views:
            return z_origin
        # All views share the tubelet projection E (one batched call).
        z_all = self.tokenizer(torch.cat([clip, *map(center, views)], 0))
        z_origin, *z_augs = z_all.chunk(len(views) + 1, 0)
        return self.mixer(z_origin, z_augs, x=mix)

    def frame_features(self, tokens: torch.Tensor) -> torch.Tensor:
        """Spatial encoder: ``[B, n_t, N, D]`` → per-temporal-index CLS ``[B, n_t, D]`` (h_i)."""
        b, n_t = tokens.shape[:2]
        z = rearrange(tokens, "b t n d -> (b t) n d")
        z = torch.cat([self.spatial_cls.expand(z.shape[0], -1, -1), z], 1)   # Eq. 8: [z_cls, z_mix]
        z = self.spatial_position(z)                                       # + p, shared by every t
        z = self.spatial_encoder(z)
        return rearrange(z[:, 0], "(b t) d -> b t d", b=b, t=n_t)

    def clip_features(self, frames: torch.Tensor) -> torch.Tensor:
        """Temporal encoder: ``[B, n_t, D]`` → final CLS representation ``[B, D]``."""
        cls = repeat(self.temporal_cls, "1 1 d -> b 1 d", b=frames.shape[0])
        if self.config.cls_takes_temporal_position:
            z = self.temporal_position(torch.cat([cls, frames], 1))
        else:
            z = torch.cat([cls, self.temporal_position(frames)], 1)
        return self.temporal_encoder(z)[:, 0]

    def forward(self, clip: torch.Tensor, views: ViewsArg = None, *, mix: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.clip_features(self.frame_features(self.tokens(clip, views, mix))))


def build_vivit(name: str, *, num_frames: int, image_size: int, num_classes: int,
                temporal_position: str = "learned", **overrides: Any) -> ViViTFE:
    """Build a named ViViT-FE for a clip geometry.

    Args:
        name: a key of :data:`VIVIT_CONFIGS` (``vivit_b_16x2_fe``, ``vivit_cpu_fe``,
            ``vivit_smoke_fe``).
        num_frames: T of the input clips.
        image_size: square crop side H = W.
        num_classes: classes of the head (7 for CK+ and AFEW).
        temporal_position: ``learned`` | ``tpe_v1`` | ``tpe_v2`` | ``none``.
        **overrides: any other :class:`ViViTConfig` field (``tpe_alpha``,
            ``tpe_normalized``, ``temporal_cls_position``, ``mix_prob``, ``dim``, …).
    Returns:
        a :class:`ViViTFE` in training mode; its ``config`` records every choice.
    """
    if name not in VIVIT_CONFIGS:
        raise KeyError(f"unknown model {name!r}; choose one of {sorted(VIVIT_CONFIGS)}")
    unknown = set(overrides) - set(ViViTConfig.__dataclass_fields__)
    if unknown:
        raise TypeError(f"unknown ViViT config field(s) {sorted(unknown)}")
    if "tubelet" in overrides:
        overrides["tubelet"] = tuple(overrides["tubelet"])
    config = replace(VIVIT_CONFIGS[name], num_frames=num_frames, image_size=image_size,
                     num_classes=num_classes, temporal_position=temporal_position, **overrides)
    return ViViTFE(config)
