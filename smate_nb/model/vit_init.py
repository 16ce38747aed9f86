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

Two layouts are recognised: timm (``patch_embed.proj.weight``, ``blocks.N.attn.qkv``…)
and Hugging Face ``ViTModel`` (``embeddings.patch_embeddings.projection.weight``,
``encoder.layer.N.attention.attention.query``…, with or without a ``vit.`` prefix).
"""
from __future__ import annotations

import math
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


def vit_to_timm_layout(sd: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], str]:
    """Return ``(state dict in timm naming, detected layout)``; Hugging Face keys are translated."""
    if "patch_embed.proj.weight" in sd:
        return sd, "timm"
    prefix = "vit." if "vit.embeddings.cls_token" in sd else ""
    if f"{prefix}embeddings.cls_token" not in sd:
        raise ValueError("checkpoint is neither a timm ViT (patch_embed.proj.weight) nor a Hugging Face ViT "
                         "(embeddings.cls_token); see smate_nb.model.vit_init for the layouts understood")
    g = lambda k: sd[prefix + k]  # noqa: E731
    out = {"patch_embed.proj.weight": g("embeddings.patch_embeddings.projection.weight"),
           "patch_embed.proj.bias": g("embeddings.patch_embeddings.projection.bias"),
           "cls_token": g("embeddings.cls_token"), "pos_embed": g("embeddings.position_embeddings"),
           "norm.weight": g("layernorm.weight"), "norm.bias": g("layernorm.bias")}
    i = 0
    while f"{prefix}encoder.layer.{i}.layernorm_before.weight" in sd:
        L = f"encoder.layer.{i}."
        att = L + "attention.attention."
        for part in ("weight", "bias"):
            out[f"blocks.{i}.norm1.{part}"] = g(L + f"layernorm_before.{part}")
            out[f"blocks.{i}.attn.qkv.{part}"] = torch.cat([g(att + f"{n}.{part}") for n in ("query", "key", "value")])
            out[f"blocks.{i}.attn.proj.{part}"] = g(L + f"attention.output.dense.{part}")
            out[f"blocks.{i}.norm2.{part}"] = g(L + f"layernorm_after.{part}")
            out[f"blocks.{i}.mlp.fc1.{part}"] = g(L + f"intermediate.dense.{part}")
            out[f"blocks.{i}.mlp.fc2.{part}"] = g(L + f"output.dense.{part}")
        i += 1
    return out, "huggingface"


def load_vit_checkpoint(model: ViViTFE, path: str | Path, inflation: str = "central") -> dict[str, Any]:
    """Copy a ViT image checkpoint into ``model``'s tokenizer and spatial encoder (in place).

    Args:
        model: a :class:`ViViTFE` whose width/heads/MLP match the checkpoint.
        path: a ``.safetensors`` file (timm or Hugging Face ViT layout).
        inflation: ``"central"`` (Scenic's default) or ``"average"``.
    Returns:
        a report: layout, number of tensors loaded, blocks used, position-grid resize.
    Raises:
        FileNotFoundError / ValueError naming the file and the mismatch.
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
    c = model.config
    w2d = sd["patch_embed.proj.weight"]
    t, ph, pw = c.tubelet
    if tuple(w2d.shape) != (c.dim, c.in_channels, ph, pw):
        raise ValueError(f"{path}: patch kernel {tuple(w2d.shape)} does not fit the model "
                         f"(dim {c.dim}, {c.in_channels} channels, patch {ph}×{pw})")
    depth = 0
    while f"blocks.{depth}.norm1.weight" in sd:
        depth += 1
    if depth < c.spatial_depth:
        raise ValueError(f"{path}: checkpoint has {depth} blocks, the spatial encoder needs {c.spatial_depth}")
    n_t, n_h, n_w = c.grid
    new: dict[str, torch.Tensor] = {
        "tokenizer.proj.weight": inflate_patch_kernel(w2d, t, inflation),
        "tokenizer.proj.bias": sd["patch_embed.proj.bias"],
        "spatial_cls": sd["cls_token"].reshape(1, 1, -1),
        "spatial_position.weight": resize_position_embedding(sd["pos_embed"], (n_h, n_w)),
        "spatial_encoder.norm.weight": sd["norm.weight"], "spatial_encoder.norm.bias": sd["norm.bias"],
    }
    ours = {"norm1": "norm1", "attn.qkv": "attn.qkv", "attn.proj": "attn.proj", "norm2": "norm2",
            "mlp.fc1": "mlp.0", "mlp.fc2": "mlp.3"}
    for i in range(c.spatial_depth):
        for theirs, mine in ours.items():
            for part in ("weight", "bias"):
                new[f"spatial_encoder.blocks.{i}.{mine}.{part}"] = sd[f"blocks.{i}.{theirs}.{part}"]
    current = model.state_dict()
    for k, v in new.items():
        if current[k].shape != v.shape:
            raise ValueError(f"{path}: {k} has shape {tuple(v.shape)}, the model expects {tuple(current[k].shape)}")
    missing, unexpected = model.load_state_dict(new, strict=False)
    assert not unexpected
    old_grid = int(round(math.sqrt(sd["pos_embed"].shape[1] - 1)))
    return {"path": str(path), "layout": layout, "loaded": len(new), "blocks_in_checkpoint": depth,
            "blocks_used": c.spatial_depth, "inflation": inflation,
            "position_grid": [old_grid, [n_h, n_w]], "left_random": sorted({k.split(".")[0] for k in missing})}
