"""ViViT factorised encoder as SMaTE uses it (paper §3.2.1, §3.2.4, Eqs. 3–5, 8).

Data flow of :class:`ViViTFE` for a clip ``[B, T, C, H, W]``::

    tubelet tokens  [B, n_t, N, D]   (original clip, and N' views when training)
    mixed tokens    [B, n_t, N, D]   Eq. 7 (training only)
    + CLS, + spatial position        Eq. 8: one learned (N+1)×D table for every t
    spatial encoder (STE)            per temporal index: [B·n_t, N+1, D] → CLS → [B, n_t, D]
    + temporal CLS, temporal position (learned | TPE-v1 | TPE-v2 | none; TPE in one of four readings,
                                     ``tpe_mode``, see smate_nb.model.position)
    temporal encoder (TTE)           [B, n_t(+1), D]  (``attention_bias`` mode: + TPE on its logits)
    final LayerNorm → CLS → zero-initialised linear head → logits [B, classes]

Each encoder is a stack of pre-norm blocks (Eqs. 4–5) with multi-head
self-attention (Eq. 3, through ``torch.nn.functional.scaled_dot_product_attention``
so GPUs use flash / memory-efficient kernels) and a GELU MLP, closed by its
own LayerNorm (Scenic's ``encoder_norm``; the temporal one is the final norm).

Two implementation switches change speed, not the function (issue 13's step-speed candidates):
``qkv_layout`` — how the fused q/k/v projection is split into heads (``"unbind"``, the default, whose
backward writes the q/k/v gradient once, straight into the projection's layout; ``"einops"``, the earlier
split, whose backward copies it once more to re-order it — same values bit for bit; the elements copied are
counted by ``benchmarks/qkv_layout_copies.py``) — and ``fused_norm``
(the residual add before each block's second LayerNorm and that LayerNorm computed by one
``torch.compile``-generated kernel on CUDA, :func:`add_layer_norm`; plain ops elsewhere, same values).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Sequence

import torch
import torch.nn.functional as F
from einops import rearrange, repeat
from torch import nn

from .position import (TEMPORAL_POSITIONS, TPE_MODES, FixedTemporalEncoding, LearnedPositionEmbedding,
                       interpolate_embedding, make_temporal_position)
from .tokens import MixedTokenEmbedding, TubeletEmbedding

__all__ = ["ViViTConfig", "VIVIT_CONFIGS", "QKV_LAYOUTS", "split_heads", "add_layer_norm", "EncoderBlock", "Encoder",
           "ViViTFE", "build_vivit"]

#: How :func:`split_heads` cuts the fused q/k/v projection into heads (see the module docstring).
QKV_LAYOUTS = ("unbind", "einops")


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

    ``tpe_mode``: how a TPE value enters the temporal encoder (``broadcast`` — the
    literal reading, which LayerNorm erases; ``broadcast_dropout``; ``direction``;
    ``attention_bias``; see :mod:`smate_nb.model.position`), with ``tpe_scale``
    (``direction`` / ``attention_bias``) and ``tpe_dropout`` (``broadcast_dropout``).
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
    tpe_mode: str = "broadcast"
    tpe_scale: float = 1.0
    tpe_dropout: float = 0.1
    temporal_cls_position: bool | None = None
    mix_prob: float = 0.5
    zero_centering: bool = True
    dropout: float = 0.0
    attention_dropout: float = 0.0
    drop_path: float = 0.0
    layer_norm_eps: float = 1e-6
    qkv_layout: str = "unbind"
    fused_norm: bool = False

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

    def validate(self) -> "ViViTConfig":
        """Check the fields that a wrong override could break; raise ``ValueError`` naming the field."""
        def need(cond: bool, name: str, allowed: str) -> None:
            if not cond:
                raise ValueError(f"ViViTConfig.{name} = {getattr(self, name)!r}: {allowed}")

        num = (int, float)
        for name in ("dim", "spatial_depth", "temporal_depth", "heads", "mlp_dim", "num_frames", "image_size",
                     "num_classes", "in_channels"):
            v = getattr(self, name)
            need(isinstance(v, int) and not isinstance(v, bool) and v >= 1, name, "an integer ≥ 1")
        need(self.dim % self.heads == 0, "dim", f"must be divisible by heads ({self.heads})")
        need(len(self.tubelet) == 3 and all(isinstance(t, int) and t >= 1 for t in self.tubelet), "tubelet",
             "(t, p, p) with positive integers")
        need(self.temporal_position in TEMPORAL_POSITIONS, "temporal_position", f"one of {TEMPORAL_POSITIONS}")
        need(self.tpe_mode in TPE_MODES, "tpe_mode", f"one of {TPE_MODES}")
        need(isinstance(self.tpe_alpha, num) and not isinstance(self.tpe_alpha, bool)
             and 0 < float(self.tpe_alpha) <= 10, "tpe_alpha",
             "a number in (0, 10] (Eq. 10 needs α > 0; beyond 10 the curve is a step)")
        need(isinstance(self.tpe_scale, num) and float(self.tpe_scale) >= 0, "tpe_scale", "a number ≥ 0")
        need(isinstance(self.tpe_dropout, num) and 0 <= float(self.tpe_dropout) < 1, "tpe_dropout",
             "a rate in [0, 1)")
        for name in ("mix_prob",):
            v = getattr(self, name)
            need(isinstance(v, num) and 0 <= float(v) <= 1, name, "a probability in [0, 1]")
        for name in ("dropout", "attention_dropout", "drop_path"):
            v = getattr(self, name)
            need(isinstance(v, num) and 0 <= float(v) < 1, name, "a rate in [0, 1)")
        need(self.qkv_layout in QKV_LAYOUTS, "qkv_layout", f"one of {QKV_LAYOUTS}")
        for name in ("tpe_normalized", "zero_centering", "fused_norm"):
            need(isinstance(getattr(self, name), bool), name, "True or False")
        need(self.temporal_cls_position is None or isinstance(self.temporal_cls_position, bool),
             "temporal_cls_position", "None (auto), True or False")
        return self


#: Named architectures. ``vivit_b_16x2_fe`` is the paper's backbone (Table 1);
#: the small ones are for the ``smoke`` and ``cpu`` profiles (see config.py).
VIVIT_CONFIGS: dict[str, ViViTConfig] = {
    "vivit_b_16x2_fe": ViViTConfig(dim=768, spatial_depth=12, temporal_depth=12, heads=12,
                                   mlp_dim=3072, tubelet=(2, 16, 16), num_frames=25, image_size=224),
    "vivit_cpu_fe": ViViTConfig(dim=128, spatial_depth=4, temporal_depth=2, heads=4,
                                mlp_dim=512, tubelet=(2, 8, 8), num_frames=16, image_size=64),
    # 3 + 1 layers of width 96: the ablations' ViViT-FE on the cpu profile until 2026-12-07 (now its coarser-tubelet
    # twin vivit_cpu_coarse_fe, below). On the calibration fold (lab fold 9, 60 epochs, lr 1e-4, batch 8, from scratch) the Original row fits
    # its training clips with it as with vivit_cpu_fe (100 % both; test 89.3 vs 82.1 %, 28 clips) in 139 s instead
    # of 285 s, and the augmented row collapses with both (benchmarks/finetune_probes_cpu.jsonl).
    "vivit_cpu_small_fe": ViViTConfig(dim=96, spatial_depth=3, temporal_depth=1, heads=4,
                                      mlp_dim=384, tubelet=(2, 8, 8), num_frames=16, image_size=64),
    # vivit_cpu_small_fe with tubelets of 2×12×12 instead of 2×8×8: at the ablations' 48² crops 4×4 spatial tokens
    # instead of 6×6, the same 6 temporal tokens (the positions Table 2 is about). Measured on the calibration fold
    # (lab fold 9, from scratch, 30 epochs at lr 1e-4, batch 8, one thread beside another training): 2.1 s an epoch
    # instead of 4.0, and the Original row fits its training clips as fast (100 % of them at epoch 24 vs 23; test
    # 85.7 vs 89.3 %, one clip of 28) — the ablations' and the comparison's ViViT-FE on the cpu profile since then.
    "vivit_cpu_coarse_fe": ViViTConfig(dim=96, spatial_depth=3, temporal_depth=1, heads=4,
                                       mlp_dim=384, tubelet=(2, 12, 12), num_frames=12, image_size=48),
    "vivit_smoke_fe": ViViTConfig(dim=32, spatial_depth=1, temporal_depth=1, heads=2,
                                  mlp_dim=64, tubelet=(2, 8, 8), num_frames=8, image_size=32),
}


def drop_path(x: torch.Tensor, rate: float, training: bool) -> torch.Tensor:
    """Stochastic depth: drop the residual branch per sample with probability ``rate``."""
    if rate == 0.0 or not training:
        return x
    keep = torch.rand(x.shape[0], *([1] * (x.ndim - 1)), device=x.device, dtype=x.dtype) >= rate
    return x * keep / (1.0 - rate)


def split_heads(qkv: torch.Tensor, heads: int, layout: str = "unbind") -> tuple[torch.Tensor, ...]:
    """Cut the fused projection ``[B, L, 3·D]`` (q | k | v, each head-major) into q, k, v ``[B, heads, L, D_h]``.

    Both layouts return the same strided views of ``qkv`` (forward bit-identical); they differ in backward.
    ``"unbind"``: view ``[B, L, 3, heads, D_h]``, unbind the 3, transpose — the gradients of q, k and v are
    stacked once into ``[B, L, 3, heads, D_h]``, which *is* the projection's layout. ``"einops"`` (the earlier
    code): ``rearrange(..., "b l (three h d) -> three b h l d")`` — the stack lands in ``[3, B, heads, L, D_h]``
    and is copied again to reach the projection's layout.
    """
    if layout == "einops":
        return tuple(rearrange(qkv, "b l (three h d) -> three b h l d", three=3, h=heads))
    if layout != "unbind":
        raise ValueError(f"qkv_layout = {layout!r}; choose one of {QKV_LAYOUTS}")
    b, length, _ = qkv.shape
    return tuple(t.transpose(1, 2) for t in qkv.view(b, length, 3, heads, -1).unbind(2))


class MultiHeadSelfAttention(nn.Module):
    """Eq. 3 with k heads: ``softmax(Q Kᵀ / √D_h) V`` per head, D_h = D / k.

    ``forward(z)``: ``[B, L, D] → [B, L, D]``. ``qkv_layout``: see :func:`split_heads`.
    """

    def __init__(self, dim: int, heads: int, attention_dropout: float = 0.0, qkv_layout: str = "unbind") -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"hidden size {dim} is not divisible by {heads} heads")
        if qkv_layout not in QKV_LAYOUTS:
            raise ValueError(f"qkv_layout = {qkv_layout!r}; choose one of {QKV_LAYOUTS}")
        self.heads, self.qkv_layout = heads, qkv_layout
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.attention_dropout = attention_dropout

    def forward(self, z: torch.Tensor, attn_bias: torch.Tensor | None = None) -> torch.Tensor:
        """``attn_bias``: optional float ``[L, L]`` added to every head's logits (SDPA's float mask)."""
        q, k, v = split_heads(self.qkv(z), self.heads, self.qkv_layout)
        mask = None if attn_bias is None else attn_bias.to(q.dtype)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask,
                                             dropout_p=self.attention_dropout if self.training else 0.0)
        return self.proj(rearrange(out, "b h l d -> b l (h d)"))

    def attention_probs(self, z: torch.Tensor, attn_bias: torch.Tensor | None = None) -> torch.Tensor:
        """The softmax weights of Eq. 3 written out (for pictures; eval only): ``[B, heads, L, L]``."""
        q, k, _ = split_heads(self.qkv(z), self.heads, self.qkv_layout)
        logits = q @ k.transpose(-1, -2) / q.shape[-1] ** 0.5
        if attn_bias is not None:
            logits = logits + attn_bias
        return logits.softmax(-1)


def _add_layer_norm(x: torch.Tensor, y: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                    eps: float) -> tuple[torch.Tensor, torch.Tensor]:
    s = x + y
    return s, F.layer_norm(s, s.shape[-1:], weight, bias, eps)


_compiled_add_layer_norm: Any = None


def add_layer_norm(x: torch.Tensor, y: torch.Tensor, norm: nn.LayerNorm) -> tuple[torch.Tensor, torch.Tensor]:
    """The residual add and the LayerNorm after it: ``(x + y, norm(x + y))``, both ``[..., D]``.

    On CUDA (outside an enclosing ``torch.compile``) this is one ``torch.compile``-generated kernel for the
    forward and one for the backward, instead of an add kernel and a LayerNorm kernel each reading the sum
    back; elsewhere — the CPU, or inside a compiled model, whose compiler fuses it anyway — the plain ops.
    Static shapes (one kernel per shape: the spatial and the temporal encoder's); past dynamo's recompile limit
    (e.g. many evaluation batch sizes) further shapes run as the plain ops, with the same values.
    """
    global _compiled_add_layer_norm
    if x.is_cuda and not torch.compiler.is_compiling():
        if _compiled_add_layer_norm is None:
            _compiled_add_layer_norm = torch.compile(_add_layer_norm, dynamic=False, fullgraph=True)
        return _compiled_add_layer_norm(x, y, norm.weight, norm.bias, norm.eps)
    return _add_layer_norm(x, y, norm.weight, norm.bias, norm.eps)


class EncoderBlock(nn.Module):
    """Pre-norm transformer block (Eqs. 4–5).

    ``y = MSA(LN(z)) + z``;  ``z' = MLP(LN(y)) + y`` with a two-layer GELU MLP.
    ``forward(z)``: ``[B, L, D] → [B, L, D]``.
    """

    def __init__(self, dim: int, heads: int, mlp_dim: int, dropout: float = 0.0,
                 attention_dropout: float = 0.0, drop_path: float = 0.0, eps: float = 1e-6, *,
                 qkv_layout: str = "unbind", fused_norm: bool = False) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = MultiHeadSelfAttention(dim, heads, attention_dropout, qkv_layout)
        self.fused_norm = fused_norm
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp_dim), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(mlp_dim, dim), nn.Dropout(dropout))
        self.dropout = nn.Dropout(dropout)
        self.drop_path = drop_path

    def forward(self, z: torch.Tensor, attn_bias: torch.Tensor | None = None) -> torch.Tensor:
        a = drop_path(self.dropout(self.attn(self.norm1(z), attn_bias)), self.drop_path, self.training)
        if self.fused_norm:
            y, h = add_layer_norm(z, a, self.norm2)                                # Eq. 4 and the next LN
        else:
            y = z + a                                                              # Eq. 4
            h = self.norm2(y)
        return y + drop_path(self.mlp(h), self.drop_path, self.training)           # Eq. 5


class Encoder(nn.Module):
    """A stack of :class:`EncoderBlock` closed by a LayerNorm. ``[B, L, D] → [B, L, D]``; an optional
    ``attn_bias [L, L]`` is added to the attention logits of every block."""

    def __init__(self, depth: int, dim: int, heads: int, mlp_dim: int, dropout: float = 0.0,
                 attention_dropout: float = 0.0, drop_path: float = 0.0, eps: float = 1e-6, *,
                 qkv_layout: str = "unbind", fused_norm: bool = False) -> None:
        super().__init__()
        # Stochastic depth grows linearly with depth, as in Scenic's ViViT.
        rates = [drop_path * i / max(depth - 1, 1) for i in range(depth)]
        self.blocks = nn.ModuleList(EncoderBlock(dim, heads, mlp_dim, dropout, attention_dropout, r, eps,
                                                 qkv_layout=qkv_layout, fused_norm=fused_norm)
                                    for r in rates)
        self.norm = nn.LayerNorm(dim, eps=eps)

    def forward(self, z: torch.Tensor, attn_bias: torch.Tensor | None = None) -> torch.Tensor:
        for block in self.blocks:
            z = block(z, attn_bias)
        return self.norm(z)

    def attention_maps(self, z: torch.Tensor, attn_bias: torch.Tensor | None = None) -> torch.Tensor:
        """Attention weights of every block for input ``z`` (eval): ``[B, depth, heads, L, L]``."""
        maps = []
        for block in self.blocks:
            maps.append(block.attn.attention_probs(block.norm1(z), attn_bias))
            z = block(z, attn_bias)
        return torch.stack(maps, 1)


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
        config.validate()
        self.config = config
        c = config
        n_t, n_h, n_w = c.grid
        if min(n_t, n_h, n_w) < 1:
            raise ValueError(f"{c.num_frames} frames at {c.image_size}² give no token for tubelet {c.tubelet}")
        self.tokenizer = TubeletEmbedding(c.in_channels, c.dim, c.tubelet)
        self.mixer = MixedTokenEmbedding(c.mix_prob)
        self.spatial_cls = nn.Parameter(torch.zeros(1, 1, c.dim))
        self.spatial_position = LearnedPositionEmbedding(n_h * n_w + 1, c.dim)
        speed = {"qkv_layout": c.qkv_layout, "fused_norm": c.fused_norm}   # implementation only, same function
        self.spatial_encoder = Encoder(c.spatial_depth, c.dim, c.heads, c.mlp_dim, c.dropout,
                                       c.attention_dropout, c.drop_path, c.layer_norm_eps, **speed)
        self.temporal_cls = nn.Parameter(torch.zeros(1, 1, c.dim))
        positioned = n_t + 1 if c.cls_takes_temporal_position else n_t
        self.temporal_position = make_temporal_position(c.temporal_position, positioned, c.dim, c.tpe_alpha,
                                                        c.tpe_normalized, c.tpe_mode, c.tpe_scale, c.tpe_dropout)
        self.temporal_encoder = Encoder(c.temporal_depth, c.dim, c.heads, c.mlp_dim, c.dropout,
                                        c.attention_dropout, c.drop_path, c.layer_norm_eps, **speed)
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

    def temporal_input(self, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """What the temporal encoder receives: ``[CLS, h_1 … h_nt]`` with the temporal position applied
        (``[B, n_t+1, D]``), and the attention-logit bias ``[n_t+1, n_t+1]`` (``attention_bias`` mode; else
        ``None``) — the bias of a key is its TPE value, 0 for a CLS key without a position."""
        cls = repeat(self.temporal_cls, "1 1 d -> b 1 d", b=frames.shape[0])
        if self.config.cls_takes_temporal_position:
            z = self.temporal_position(torch.cat([cls, frames], 1))
        else:
            z = torch.cat([cls, self.temporal_position(frames)], 1)
        bias = self.temporal_position.attention_bias()
        if bias is not None:
            if not self.config.cls_takes_temporal_position:
                bias = torch.cat([bias.new_zeros(1), bias])
            bias = bias.to(z.dtype)[None, :].expand(z.shape[1], -1)
        return z, bias

    def clip_features(self, frames: torch.Tensor) -> torch.Tensor:
        """Temporal encoder: ``[B, n_t, D]`` → final CLS representation ``[B, D]``."""
        z, bias = self.temporal_input(frames)
        return self.temporal_encoder(z, bias)[:, 0]

    @torch.no_grad()
    def temporal_attention(self, clip: torch.Tensor) -> torch.Tensor:
        """The temporal encoder's attention weights for a clip batch (eval mode): ``[B, depth, heads, L, L]``
        with ``L = n_t + 1`` (index 0 = the temporal CLS token)."""
        was = self.training
        self.eval()
        z, bias = self.temporal_input(self.frame_features(self.tokens(clip)))
        maps = self.temporal_encoder.attention_maps(z, bias)
        self.train(was)
        return maps

    def with_num_frames(self, num_frames: int) -> "ViViTFE":
        """A copy of this model for clips of ``num_frames`` frames (length generalisation).

        Every weight is shared except the temporal position: TPE is recomputed for the new L (it is a
        function of L, Eqs. 9–10); a learned table is linearly interpolated over positions, its CLS row
        kept. The spatial grid is unchanged. Returns a new :class:`ViViTFE` (weights copied).
        """
        import copy

        c = replace(self.config, num_frames=num_frames)
        n_t = c.grid[0]
        if n_t < 1:
            raise ValueError(f"{num_frames} frames give no temporal token for tubelet {c.tubelet}")
        other = copy.deepcopy(self)
        other.config = c
        positioned = n_t + 1 if c.cls_takes_temporal_position else n_t
        old = self.temporal_position
        if isinstance(old, LearnedPositionEmbedding):
            new = LearnedPositionEmbedding(positioned, c.dim)
            with torch.no_grad():
                new.weight.copy_(interpolate_embedding(old.weight.detach(), positioned,
                                                       keep_first=c.cls_takes_temporal_position))
            other.temporal_position = new.to(old.weight.device)
        elif isinstance(old, FixedTemporalEncoding):
            other.temporal_position = make_temporal_position(c.temporal_position, positioned, c.dim, c.tpe_alpha,
                                                             c.tpe_normalized, c.tpe_mode, c.tpe_scale,
                                                             c.tpe_dropout).to(old.values.device)
        return other

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
