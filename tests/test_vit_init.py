"""ViT image checkpoint → ViViT-FE, on small fabricated checkpoints in the timm and Hugging Face layouts."""
import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from smate_nb.model import build_vivit
from smate_nb.model.vit_init import inflate_patch_kernel, load_vit_checkpoint, resize_position_embedding

D, HEADS, MLP, P = 32, 2, 64, 8


def _timm_checkpoint(blocks=2, grid=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    r = lambda *s: torch.randn(*s, generator=g)  # noqa: E731
    sd = {"patch_embed.proj.weight": r(D, 3, P, P), "patch_embed.proj.bias": r(D), "cls_token": r(1, 1, D),
          "pos_embed": r(1, grid * grid + 1, D), "norm.weight": r(D), "norm.bias": r(D),
          "head.weight": r(1000, D), "head.bias": r(1000)}
    for i in range(blocks):
        for n, shape in {"norm1": (D,), "norm2": (D,)}.items():
            sd[f"blocks.{i}.{n}.weight"], sd[f"blocks.{i}.{n}.bias"] = r(*shape), r(*shape)
        sd[f"blocks.{i}.attn.qkv.weight"], sd[f"blocks.{i}.attn.qkv.bias"] = r(3 * D, D), r(3 * D)
        sd[f"blocks.{i}.attn.proj.weight"], sd[f"blocks.{i}.attn.proj.bias"] = r(D, D), r(D)
        sd[f"blocks.{i}.mlp.fc1.weight"], sd[f"blocks.{i}.mlp.fc1.bias"] = r(MLP, D), r(MLP)
        sd[f"blocks.{i}.mlp.fc2.weight"], sd[f"blocks.{i}.mlp.fc2.bias"] = r(D, MLP), r(D)
    return sd


def _to_hf(sd, prefix="vit."):
    hf = {prefix + "embeddings.patch_embeddings.projection.weight": sd["patch_embed.proj.weight"],
          prefix + "embeddings.patch_embeddings.projection.bias": sd["patch_embed.proj.bias"],
          prefix + "embeddings.cls_token": sd["cls_token"], prefix + "embeddings.position_embeddings": sd["pos_embed"],
          prefix + "layernorm.weight": sd["norm.weight"], prefix + "layernorm.bias": sd["norm.bias"]}
    i = 0
    while f"blocks.{i}.norm1.weight" in sd:
        L = f"{prefix}encoder.layer.{i}."
        for part in ("weight", "bias"):
            q, k, v = sd[f"blocks.{i}.attn.qkv.{part}"].chunk(3)
            hf.update({L + f"layernorm_before.{part}": sd[f"blocks.{i}.norm1.{part}"],
                       L + f"attention.attention.query.{part}": q, L + f"attention.attention.key.{part}": k,
                       L + f"attention.attention.value.{part}": v,
                       L + f"attention.output.dense.{part}": sd[f"blocks.{i}.attn.proj.{part}"],
                       L + f"layernorm_after.{part}": sd[f"blocks.{i}.norm2.{part}"],
                       L + f"intermediate.dense.{part}": sd[f"blocks.{i}.mlp.fc1.{part}"],
                       L + f"output.dense.{part}": sd[f"blocks.{i}.mlp.fc2.{part}"]})
        i += 1
    return hf


def _model(size=32, **kw):
    return build_vivit("vivit_smoke_fe", num_frames=8, image_size=size, num_classes=7, **kw)


def test_timm_checkpoint_fills_spatial_encoder_and_inflates_centrally(tmp_path):
    sd = _timm_checkpoint()
    save_file(sd, str(tmp_path / "vit.safetensors"))
    m = _model()
    temporal_before = {k: v.clone() for k, v in m.state_dict().items() if k.startswith("temporal")}
    rep = load_vit_checkpoint(m, tmp_path / "vit.safetensors", "central")
    assert rep["layout"] == "timm" and rep["blocks_used"] == 1 and rep["blocks_in_checkpoint"] == 2
    k = m.tokenizer.proj.weight.detach()
    assert torch.equal(k[:, :, 1], sd["patch_embed.proj.weight"]) and torch.equal(k[:, :, 0], torch.zeros_like(k[:, :, 0]))
    assert torch.equal(m.spatial_encoder.blocks[0].attn.qkv.weight, sd["blocks.0.attn.qkv.weight"])
    assert torch.equal(m.spatial_encoder.blocks[0].mlp[3].bias, sd["blocks.0.mlp.fc2.bias"])
    assert torch.equal(m.spatial_encoder.norm.weight, sd["norm.weight"])
    assert torch.equal(m.spatial_position.weight, sd["pos_embed"]) and torch.equal(m.spatial_cls, sd["cls_token"])
    assert all(torch.equal(v, m.state_dict()[k]) for k, v in temporal_before.items())   # temporal untouched
    # Central inflation: a static clip gives the image model's patch tokens.
    frame = torch.rand(1, 3, 32, 32)
    tokens = m.tokenizer(frame[:, None].repeat(1, 8, 1, 1, 1))
    image = F.conv2d(frame, sd["patch_embed.proj.weight"], sd["patch_embed.proj.bias"], stride=P)
    assert torch.allclose(tokens[0, 0], image.flatten(2)[0].T, atol=1e-5)


def test_huggingface_layout_loads_the_same_weights(tmp_path):
    sd = _timm_checkpoint(seed=3)
    save_file(sd, str(tmp_path / "timm.safetensors"))
    save_file(_to_hf(sd), str(tmp_path / "hf.safetensors"))
    a, b = _model(), _model()
    load_vit_checkpoint(a, tmp_path / "timm.safetensors")
    rep = load_vit_checkpoint(b, tmp_path / "hf.safetensors")
    assert rep["layout"] == "huggingface"
    sa, sb = a.state_dict(), b.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa if k.startswith(("spatial", "tokenizer")))


def test_average_inflation_and_position_resize(tmp_path):
    sd = _timm_checkpoint(grid=4)
    save_file(sd, str(tmp_path / "vit.safetensors"))
    m = _model(size=48)                                            # grid 6×6 instead of the checkpoint's 4×4
    rep = load_vit_checkpoint(m, tmp_path / "vit.safetensors", "average")
    assert rep["position_grid"] == [4, [6, 6]]
    assert torch.allclose(m.tokenizer.proj.weight[:, :, 0], sd["patch_embed.proj.weight"] / 2)
    pos = m.spatial_position.weight.detach()
    assert pos.shape == (1, 37, D) and torch.equal(pos[:, 0], sd["pos_embed"][:, 0])
    same = resize_position_embedding(sd["pos_embed"], (4, 4))
    assert same is sd["pos_embed"]
    with pytest.raises(ValueError, match="central"):
        inflate_patch_kernel(sd["patch_embed.proj.weight"], 2, "tile")


def test_bad_checkpoints_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="scratch"):
        load_vit_checkpoint(_model(), tmp_path / "missing.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"not a tensor file")
    with pytest.raises(ValueError, match="junk.safetensors"):
        load_vit_checkpoint(_model(), tmp_path / "junk.safetensors")
    save_file({"w": torch.zeros(2)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(ValueError, match="neither a timm ViT"):
        load_vit_checkpoint(_model(), tmp_path / "other.safetensors")
    wide = {k: v for k, v in _timm_checkpoint().items()}
    wide["patch_embed.proj.weight"] = torch.zeros(D, 3, 16, 16)
    save_file(wide, str(tmp_path / "wide.safetensors"))
    with pytest.raises(ValueError, match="patch kernel"):
        load_vit_checkpoint(_model(), tmp_path / "wide.safetensors")
