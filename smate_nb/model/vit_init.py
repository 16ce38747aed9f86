"""Initialise a ViViT-FE from a local ViT image checkpoint (safetensors), as official ViViT does.

The paper fine-tunes ViViT-B/16x2 FE pretrained on Kinetics-400; those weights
cannot be obtained here (nothing is downloaded at run time, and no Kinetics
ViViT checkpoint is published in a PyTorch layout), so the suite offers
training from scratch or from a **ViT-B/16 image checkpoint you already have**
(Scenic initialises ViViT from ViT the same way):

* spatial encoder ← the ViT's blocks and final LayerNorm, spatial CLS ← ``cls_token``;
* tubelet kernel ← the 2-D patch kernel *inflated* over ``t`` frames, either
  ``"central"`` (Scenic's default: the 2-D weights on frame ``t // 2``, zeros
  elsewhere, so a static clip gives the image model's tokens) or ``"average"``
  (``w / t`` on every frame);
* spatial position embedding ← the ViT's, bicubically resized when the patch
  grid differs (e.g. a 224² checkpoint used at crop 64);
* temporal encoder, temporal CLS and head stay randomly initialised.

Three layouts are recognised: timm (``patch_embed.proj.weight``, ``blocks.N.attn.qkv``…)
and Hugging Face ``ViTModel`` (``embeddings.patch_embeddings.projection.weight``, then
``encoder.layer.N.attention.attention.query``… as transformers < 5 names them, or
``layers.N.attention.q_proj``… as transformers ≥ 5 does; with or without a ``vit.`` prefix).

Loading is strict: every checkpoint tensor is either copied or known to be unused (the
classifier / pooler, whole blocks beyond the spatial encoder's depth), and every tokenizer
and spatial-encoder tensor of the model is filled. Variants whose weights a plain ViT
block cannot use (LayerScale, QK-norm, ``norm_pre``, ``fc_norm``, no qkv bias,
``no_embed_class``, extra tokens) are refused with a ``ValueError`` naming the variant —
loading only the tensors that fit would give wrong features without a word.
"""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from safetensors.torch import load_file

from .vivit import ViViTFE

__all__ = ["load_vit_checkpoint", "inflate_patch_kernel", "resize_position_embedding", "vit_to_timm_layout"]


def inflate_patch_kernel(w2d: torch.Tensor, t: int, method: str = "central") -> torch.Tensor:
    """``[D, C, p, p]`` → ``[D, C, t, p, p]`` by central-frame or average inflation."""
    if method == "central":
        w3d = torch.zeros(*w2d.shape[:2], t, *w2d.shape[2:], dtype=w2d.dtype)
        w3d[:, :, t // 2] = w2d
        return w3d
    if method == "average":
        return w2d.unsqueeze(2).repeat(1, 1, t, 1, 1) / t
    raise ValueError(f"unknown inflation {method!r}; use 'central' or 'average'")


def resize_position_embedding(pos: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
    """``[1, 1 + g·g, D]`` → ``[1, 1 + grid_h·grid_w, D]``; the CLS row is kept, the patch grid resized bicubically."""
    cls, patches = pos[:, :1], pos[:, 1:]
    old = int(round(math.sqrt(patches.shape[1])))
    if old * old != patches.shape[1]:
        raise ValueError(f"checkpoint position embedding has {patches.shape[1]} patch rows, not a square grid")
    if (old, old) == tuple(grid):
        return pos
    img = patches.reshape(1, old, old, -1).permute(0, 3, 1, 2).float()
    img = F.interpolate(img, size=grid, mode="bicubic", align_corners=False)
    return torch.cat([cls, img.permute(0, 2, 3, 1).reshape(1, grid[0] * grid[1], -1).to(pos.dtype)], 1)


# Hugging Face ViT names, relative to one encoder layer → timm names. transformers < 5 saves
# ``encoder.layer.N.attention.attention.query`` …; transformers ≥ 5 holds ``layers.N.attention.q_proj`` …
# in memory (what ``state_dict()`` of a v5 model returns). ``q``/``k``/``v`` are concatenated into
# timm's fused ``attn.qkv``.
_HF_LAYER_NAMES = {
    "huggingface": ("encoder.layer", {
        "layernorm_before": "norm1", "layernorm_after": "norm2",
        "attention.attention.query": "q", "attention.attention.key": "k", "attention.attention.value": "v",
        "attention.output.dense": "attn.proj", "intermediate.dense": "mlp.fc1", "output.dense": "mlp.fc2"}),
    "huggingface-v5": ("layers", {
        "layernorm_before": "norm1", "layernorm_after": "norm2",
        "attention.q_proj": "q", "attention.k_proj": "k", "attention.v_proj": "v",
        "attention.o_proj": "attn.proj", "mlp.fc1": "mlp.fc1", "mlp.fc2": "mlp.fc2"}),
}
_HF_TOP_NAMES = {
    "embeddings.patch_embeddings.projection.weight": "patch_embed.proj.weight",
    "embeddings.patch_embeddings.projection.bias": "patch_embed.proj.bias",
    "embeddings.cls_token": "cls_token", "embeddings.position_embeddings": "pos_embed",
    "layernorm.weight": "norm.weight", "layernorm.bias": "norm.bias",
}


def vit_to_timm_layout(sd: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], str]:
    """Return ``(state dict in timm naming, detected layout)``; Hugging Face keys are translated.

    Layouts: ``"timm"``; ``"huggingface"`` (``[vit.]encoder.layer.N.attention.attention.query`` …,
    transformers < 5) and ``"huggingface-v5"`` (``[vit.]layers.N.attention.q_proj`` …,
    transformers ≥ 5). A key the translation does not know is passed through under its
    own name, so :func:`load_vit_checkpoint` can name it instead of dropping it.
    """
    if "patch_embed.proj.weight" in sd:
        return dict(sd), "timm"
    prefix = "vit." if any(k.startswith("vit.embeddings.") for k in sd) else ""
    if f"{prefix}embeddings.patch_embeddings.projection.weight" not in sd:
        raise ValueError("checkpoint is neither a timm ViT (patch_embed.proj.weight) nor a Hugging Face ViT "
                         "(embeddings.patch_embeddings.projection.weight); see smate_nb.model.vit_init for the "
                         "layouts understood")
    layout = "huggingface-v5" if any(k.startswith(f"{prefix}layers.") for k in sd) else "huggingface"
    stem, names = _HF_LAYER_NAMES[layout]
    layer_re = re.compile(rf"^{re.escape(prefix + stem)}\.(\d+)\.(.+)\.(weight|bias)$")
    out: dict[str, torch.Tensor] = {}
    qkv: dict[tuple[int, str], dict[str, str]] = {}    # (block, part) → {"q": original key, …}
    for key, value in sd.items():
        rel = key[len(prefix):] if key.startswith(prefix) else None
        m = layer_re.match(key)
        if rel in _HF_TOP_NAMES:
            out[_HF_TOP_NAMES[rel]] = value
        elif m and m.group(2) in names:
            i, mine, part = int(m.group(1)), names[m.group(2)], m.group(3)
            if mine in ("q", "k", "v"):
                qkv.setdefault((i, part), {})[mine] = key
            else:
                out[f"blocks.{i}.{mine}.{part}"] = value
        else:
            out[key] = value                             # unknown: keep its name for the error message
    for (i, part), keys in qkv.items():
        if set(keys) == {"q", "k", "v"}:
            out[f"blocks.{i}.attn.qkv.{part}"] = torch.cat([sd[keys[n]] for n in ("q", "k", "v")])
        else:                                            # an incomplete q/k/v set stays unconsumed
            out.update({k: sd[k] for k in keys.values()})
    return out, layout


# Keys of a ViT checkpoint that an image model needs and ours does not: the classifier
# (timm ``head``, HF ``classifier``), timm's ``pre_logits`` and HF's ``pooler`` (both after the final norm).
_UNUSED = re.compile(r"^(?:vit\.)?(?:head|head_drop|pre_logits|classifier|pooler)\.")


def _unsupported_variants(sd: dict[str, torch.Tensor]) -> list[str]:
    """Architecture variants (timm naming) whose weights our plain pre-norm ViT block cannot use."""
    keys = set(sd)
    found = []

    def having(pattern: str) -> list[str]:
        r = re.compile(pattern)
        return sorted(k for k in keys if r.search(k))

    checks = [
        (r"^norm_pre\.", "pre-norm (norm_pre: a LayerNorm before the blocks, e.g. CLIP ViTs)"),
        (r"^fc_norm\.", "fc_norm (global-average-pool head norm instead of the final norm)"),
        (r"^blocks\.\d+\.ls[12]\.", "LayerScale (init_values: blocks.N.ls1/ls2.gamma)"),
        (r"^blocks\.\d+\.attn\.[qk]_norm\.", "QK-norm (qk_norm: blocks.N.attn.q_norm/k_norm)"),
        (r"^dist_token$", "distillation token (dist_token, DeiT distilled)"),
        (r"^reg_token$", "register tokens (reg_token)"),
    ]
    for pattern, name in checks:
        hits = having(pattern)
        if hits:
            found.append(f"{name} — e.g. {hits[0]}")
    no_bias = [k for k in having(r"^blocks\.\d+\.attn\.qkv\.weight$") if k[:-len("weight")] + "bias" not in keys]
    if no_bias:
        found.append(f"no qkv bias (qkv_bias=False) — {no_bias[0]} has no bias")
    if "cls_token" not in keys and "patch_embed.proj.weight" in keys:
        found.append("no class token (class_token=False)")
    pos = sd.get("pos_embed")
    if pos is not None and pos.ndim == 3 and math.isqrt(pos.shape[1]) ** 2 == pos.shape[1] and pos.shape[1] > 1:
        found.append(f"no_embed_class (pos_embed has {pos.shape[1]} rows, a square patch grid without the "
                     "class token's row)")
    return found


def load_vit_checkpoint(model: ViViTFE, path: str | Path, inflation: str = "central") -> dict[str, Any]:
    """Copy a ViT image checkpoint into ``model``'s tokenizer and spatial encoder (in place).

    Args:
        model: a :class:`ViViTFE` whose width/heads/MLP match the checkpoint.
        path: a ``.safetensors`` file (timm or Hugging Face ViT layout).
        inflation: ``"central"`` (Scenic's default) or ``"average"``.
    Returns:
        a report: layout, number of tensors loaded, blocks used, position-grid resize.
    Raises:
        FileNotFoundError / ValueError naming the file and the mismatch: an unsupported
        variant (named), tensors the spatial encoder needs that are missing, or checkpoint
        tensors that would be dropped (listed), or a shape that does not fit.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"ViT checkpoint {path} not found; pass the path of a local .safetensors file "
                                f"(nothing is downloaded) or use init='scratch'")
    try:
        raw = load_file(str(path))
    except Exception as err:
        raise ValueError(f"{path} is not a readable safetensors file ({err}); convert the checkpoint with "
                         f"safetensors.torch.save_file") from err
    sd, layout = vit_to_timm_layout(raw)
    variants = _unsupported_variants(sd)
    if variants:
        raise ValueError(f"{path}: this ViT variant is not supported — " + "; ".join(variants) + ". Only the "
                         "standard ViT (pre-LN blocks with qkv bias, class token with a position row, final "
                         "LayerNorm) maps onto ViViT's blocks; use a standard ViT-B/16 checkpoint or init='scratch'")
    c = model.config
    depth = 0
    while f"blocks.{depth}.norm1.weight" in sd:
        depth += 1
    if depth < c.spatial_depth:
        raise ValueError(f"{path}: checkpoint has {depth} blocks, the spatial encoder needs {c.spatial_depth}")
    ours = {"norm1": "norm1", "attn.qkv": "attn.qkv", "attn.proj": "attn.proj", "norm2": "norm2",
            "mlp.fc1": "mlp.0", "mlp.fc2": "mlp.3"}
    wanted = {"tokenizer.proj.weight": "patch_embed.proj.weight", "tokenizer.proj.bias": "patch_embed.proj.bias",
              "spatial_cls": "cls_token", "spatial_position.weight": "pos_embed",
              "spatial_encoder.norm.weight": "norm.weight", "spatial_encoder.norm.bias": "norm.bias"}
    for i in range(c.spatial_depth):
        for theirs, mine in ours.items():
            for part in ("weight", "bias"):
                wanted[f"spatial_encoder.blocks.{i}.{mine}.{part}"] = f"blocks.{i}.{theirs}.{part}"
    # Strict: every checkpoint tensor is either loaded or known to be unused (the classifier, the
    # blocks beyond the spatial depth); anything else would be silently dropped.
    block_re = re.compile(r"^blocks\.(\d+)\.(.+)\.(?:weight|bias)$")

    def spare_block(k: str) -> bool:   # a standard tensor of a block beyond the spatial depth
        m = block_re.match(k)
        return bool(m) and int(m.group(1)) >= c.spatial_depth and m.group(2) in ours

    unused = sorted(k for k in sd if k not in wanted.values() and not _UNUSED.match(k) and not spare_block(k))
    if unused:
        raise ValueError(f"{path} ({layout} layout): {len(unused)} checkpoint tensors have no place in the model "
                         f"and would be dropped: {_some(unused)}; this is not a standard ViT layout understood by "
                         "smate_nb.model.vit_init — convert it to the timm or Hugging Face ViT names, or use "
                         "init='scratch'")
    absent = sorted(v for v in wanted.values() if v not in sd)
    if absent:
        names = "" if layout == "timm" else " (timm names, translated from the Hugging Face ones)"
        raise ValueError(f"{path} ({layout} layout): {len(absent)} tensors the spatial encoder needs are missing: "
                         f"{_some(absent)}{names}; the checkpoint is incomplete or not a standard ViT")
    w2d = sd["patch_embed.proj.weight"]
    t, ph, pw = c.tubelet
    if tuple(w2d.shape) != (c.dim, c.in_channels, ph, pw):
        raise ValueError(f"{path}: patch kernel {tuple(w2d.shape)} does not fit the model "
                         f"(dim {c.dim}, {c.in_channels} channels, patch {ph}×{pw})")
    n_t, n_h, n_w = c.grid
    new = {mine: sd[theirs] for mine, theirs in wanted.items()}
    new["tokenizer.proj.weight"] = inflate_patch_kernel(w2d, t, inflation)
    new["spatial_cls"] = sd["cls_token"].reshape(1, 1, -1)
    new["spatial_position.weight"] = resize_position_embedding(sd["pos_embed"], (n_h, n_w))
    current = model.state_dict()
    should = {k for k in current if k.startswith(("tokenizer.", "spatial_"))}
    if should != set(new):   # the model grew a tensor this loader does not know: refuse rather than leave it random
        raise ValueError(f"{path}: the model's tokenizer/spatial tensors {_some(sorted(should ^ set(new)))} are "
                         "not covered by the ViT import; update smate_nb.model.vit_init")
    for k, v in new.items():
        if current[k].shape != v.shape:
            raise ValueError(f"{path}: {k} has shape {tuple(v.shape)}, the model expects {tuple(current[k].shape)}")
    missing, unexpected = model.load_state_dict(new, strict=False)
    assert not unexpected and not should & set(missing)
    old_grid = int(round(math.sqrt(sd["pos_embed"].shape[1] - 1)))
    return {"path": str(path), "layout": layout, "loaded": len(new), "blocks_in_checkpoint": depth,
            "blocks_used": c.spatial_depth, "inflation": inflation,
            "position_grid": [old_grid, [n_h, n_w]], "left_random": sorted({k.split(".")[0] for k in missing})}


def _some(keys: list[str], n: int = 8) -> str:
    """The first ``n`` keys, and how many more."""
    more = f" … and {len(keys) - n} more" if len(keys) > n else ""
    return ", ".join(keys[:n]) + more
