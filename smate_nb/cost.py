"""Cost counting: parameters and multiply-accumulates (paper Tables 1 and 5).

Conventions (checked against the paper in ``tests/test_cost.py``):

* The paper's "GFLOPs" are **multiply-accumulates** (MACs). ``torch.utils.flop_counter``
  reports FLOPs = 2 × MACs, so :func:`count_macs` halves its total.
* The count is taken on the ``meta`` device (no memory, no compute), through
  ``torch.func.functional_call`` with meta copies of the parameters, so a 171 M
  parameter model is counted in well under a second without being copied.
* Attention is counted. On the meta device PyTorch's SDPA falls back to its
  math path (two batched matmuls, which the counter sees); on a real CPU tensor
  torch 2.13 dispatches to ``_scaled_dot_product_flash_attention_for_cpu``,
  which the counter has no formula for — we register one, so both agree.
* What is *not* counted: elementwise work (softmax, GELU, LayerNorm, adds).
  The paper's figures are Scenic's XLA cost analysis halved, which includes
  it; that is why our matrix-product count lands ≈ 0.3 % under Table 1/5.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.func import functional_call
from torch.utils.flop_counter import FlopCounterMode

__all__ = ["count_params", "count_macs", "macs_by_operator", "analytic_macs"]


def count_params(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (buffers such as TPE values are not parameters).

    Args:
        model: any module (meta-device modules work too).
        trainable_only: count only parameters with ``requires_grad``.
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def _sdpa_cpu_flops(query_shape, key_shape, value_shape, *args, **kwargs) -> int:
    # Q Kᵀ: B·H·L·S·E MACs; softmax(·) V: B·H·L·S·Ev MACs; FLOPs = 2 × MACs.
    b, h, l, e = query_shape
    s = key_shape[-2]
    ev = value_shape[-1]
    return 2 * b * h * l * s * (e + ev)


def _sdpa_mapping() -> dict[Any, Any]:
    mapping = {}
    op = getattr(torch.ops.aten, "_scaled_dot_product_flash_attention_for_cpu", None)
    if op is not None:
        def formula(query_shape, key_shape, value_shape, *args, out_shape=None, **kwargs):
            return _sdpa_cpu_flops(query_shape, key_shape, value_shape)
        mapping[op] = formula
    return mapping


def _input_meta(model: nn.Module, num_frames: int, image_size: int, batch: int) -> torch.Tensor:
    channels = getattr(getattr(model, "config", None), "in_channels", 3)
    return torch.empty(batch, num_frames, channels, image_size, image_size, device="meta")


def macs_by_operator(model: nn.Module, num_frames: int, image_size: int, batch: int = 1) -> dict[str, int]:
    """MACs of one eval-mode forward, split by ATen operator (conv, addmm, bmm, …).

    Args:
        model: a model taking ``[B, T, C, H, W]`` clips (e.g. :class:`~smate_nb.model.ViViTFE`).
        num_frames: T. image_size: H = W.
        batch: B (MACs scale linearly with it).
    Returns:
        ``{operator name: MACs}``.
    """
    state = {k: torch.empty_like(v, device="meta") for k, v in
             {**dict(model.named_parameters()), **dict(model.named_buffers())}.items()}
    # Buffers like the TPE values must keep their contents' shape only; meta is enough.
    was_training = model.training
    model.eval()
    try:
        with FlopCounterMode(display=False, custom_mapping=_sdpa_mapping()) as counter:
            functional_call(model, state, (_input_meta(model, num_frames, image_size, batch),))
    finally:
        model.train(was_training)
    return {str(op): flops // 2 for op, flops in counter.get_flop_counts()["Global"].items()}


def count_macs(model: nn.Module, num_frames: int, image_size: int, batch: int = 1) -> int:
    """Multiply-accumulates of one eval-mode forward pass (the paper's "FLOPs").

    Args:
        model: the model; it is not copied or moved (counted on the meta device).
        num_frames: T of the clip. image_size: square crop side.
        batch: clips per forward (default 1, as the paper reports per clip).
    Returns:
        MACs as an int (divide by 1e9 for the paper's "GFLOPs").
    """
    return sum(macs_by_operator(model, num_frames, image_size, batch).values())


def analytic_macs(config: Any) -> int:
    """Closed-form matrix-product MACs of a :class:`~smate_nb.model.ViViTConfig` (batch 1).

    An independent check of :func:`count_macs`: tubelet projection, then per
    block ``L·(3D² + D² + 2·D·M) + 2·L²·D`` (QKV, output projection, MLP, QKᵀ and
    AV), for the spatial encoder (``n_t`` sequences of ``N+1`` tokens) and the
    temporal one (one sequence of ``n_t + 1`` tokens), plus the head.
    """
    c = config
    n_t, n_h, n_w = c.grid
    t, ph, pw = c.tubelet
    d, m = c.dim, c.mlp_dim
    tokenizer = n_t * n_h * n_w * (c.in_channels * t * ph * pw) * d

    def block(length: int) -> int:
        return length * (4 * d * d + 2 * d * m) + 2 * length * length * d

    spatial = n_t * c.spatial_depth * block(n_h * n_w + 1)
    temporal = c.temporal_depth * block(n_t + 1)
    return tokenizer + spatial + temporal + d * c.num_classes
