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


# ----------------------------------------------------------------- strict loading (issue 12, item 11)

def _reference_vit_cls(sd, image, blocks, heads=HEADS, eps=1e-6):
    """A timm ``VisionTransformer`` forward written out in plain torch: the CLS feature after the final norm.

    Handles LayerScale (``blocks.N.ls1/ls2.gamma``) and QK-norm (``blocks.N.attn.q_norm/k_norm``) as timm
    does, so the test can show what a loader that dropped those tensors would get wrong.
    """
    ln = lambda x, n: F.layer_norm(x, (D,), sd[f"{n}.weight"], sd[f"{n}.bias"], eps)  # noqa: E731
    x = F.conv2d(image, sd["patch_embed.proj.weight"], sd["patch_embed.proj.bias"], stride=P).flatten(2).transpose(1, 2)
    x = torch.cat([sd["cls_token"].expand(x.shape[0], -1, -1), x], 1) + sd["pos_embed"]
    for i in range(blocks):
        b = f"blocks.{i}."
        h = ln(x, b + "norm1")
        q, k, v = F.linear(h, sd[b + "attn.qkv.weight"], sd[b + "attn.qkv.bias"]).reshape(
            x.shape[0], x.shape[1], 3, heads, D // heads).permute(2, 0, 3, 1, 4)
        if b + "attn.q_norm.weight" in sd:
            q = F.layer_norm(q, (D // heads,), sd[b + "attn.q_norm.weight"], sd[b + "attn.q_norm.bias"], eps)
            k = F.layer_norm(k, (D // heads,), sd[b + "attn.k_norm.weight"], sd[b + "attn.k_norm.bias"], eps)
        a = torch.softmax(q @ k.transpose(-1, -2) / (D // heads) ** 0.5, -1) @ v
        a = F.linear(a.transpose(1, 2).reshape(x.shape), sd[b + "attn.proj.weight"], sd[b + "attn.proj.bias"])
        x = x + a * sd.get(b + "ls1.gamma", 1.0)
        h = F.linear(F.gelu(F.linear(ln(x, b + "norm2"), sd[b + "mlp.fc1.weight"], sd[b + "mlp.fc1.bias"])),
                     sd[b + "mlp.fc2.weight"], sd[b + "mlp.fc2.bias"])
        x = x + h * sd.get(b + "ls2.gamma", 1.0)
    return ln(x, "norm")[:, 0]


def _small_checkpoint(seed=0):
    sd = {k: v * 0.2 for k, v in _timm_checkpoint(blocks=1, seed=seed).items()}   # moderate activations
    for n in ("blocks.0.norm1", "blocks.0.norm2", "norm"):
        sd[f"{n}.weight"] = 1.0 + sd[f"{n}.weight"]
    return sd


def _vivit_cls(m, image):
    """Spatial-encoder CLS of a static clip (central inflation: the image model's tokens)."""
    clip = image[:, None].repeat(1, 8, 1, 1, 1)
    with torch.no_grad():
        return m.eval().frame_features(m.tokens(clip))[:, 0]


def test_standard_vit_gives_the_image_models_features(tmp_path):
    sd = _small_checkpoint()
    save_file(sd, str(tmp_path / "vit.safetensors"))
    m = _model()
    rep = load_vit_checkpoint(m, tmp_path / "vit.safetensors")
    assert rep["loaded"] == len(m.state_dict()) - sum(k.startswith(("temporal", "head")) for k in m.state_dict())
    image = torch.rand(2, 3, 32, 32)
    want = _reference_vit_cls(sd, image * 2 - 1, blocks=1)            # the model zero-centres its input
    got = _vivit_cls(m, image)
    assert (got - want).abs().max() < 1e-5                       # measured ≈ 2e-6 (float32 rounding)


def _save(tmp_path, sd, name="v.safetensors"):
    save_file({k: v.contiguous() for k, v in sd.items()}, str(tmp_path / name))
    return tmp_path / name


@pytest.mark.parametrize("edit,variant", [
    (lambda sd: sd.update({"blocks.0.ls1.gamma": torch.full((D,), 0.1), "blocks.0.ls2.gamma": torch.full((D,), 0.1),
                           "blocks.1.ls1.gamma": torch.full((D,), 0.1), "blocks.1.ls2.gamma": torch.full((D,), 0.1)}),
     "LayerScale"),
    (lambda sd: sd.update({f"blocks.{i}.attn.{n}_norm.{p}": torch.ones(D // HEADS) for i in (0, 1) for n in "qk"
                           for p in ("weight", "bias")}), "QK-norm"),
    (lambda sd: sd.update({"norm_pre.weight": torch.ones(D), "norm_pre.bias": torch.zeros(D)}), "pre-norm"),
    (lambda sd: [sd.pop(f"blocks.{i}.attn.qkv.bias") for i in (0, 1)], "no qkv bias"),
    (lambda sd: sd.update({"fc_norm.weight": sd.pop("norm.weight"), "fc_norm.bias": sd.pop("norm.bias")}), "fc_norm"),
    (lambda sd: sd.update({"pos_embed": sd["pos_embed"][:, 1:]}), "no_embed_class"),
    (lambda sd: sd.update({"dist_token": torch.zeros(1, 1, D)}), "distillation token"),
])
def test_unsupported_variants_are_named(tmp_path, edit, variant):
    sd = _timm_checkpoint()
    edit(sd)
    m = _model()
    before = {k: v.clone() for k, v in m.state_dict().items()}
    with pytest.raises(ValueError, match=f"variant is not supported — {variant}"):
        load_vit_checkpoint(m, _save(tmp_path, sd))
    assert all(torch.equal(v, m.state_dict()[k]) for k, v in before.items())   # nothing half-loaded


def test_layerscale_would_change_the_features(tmp_path):
    """Why refusing matters: dropping LayerScale's gammas (what the old loader did) moves the features."""
    sd = _small_checkpoint()
    sd_ls = dict(sd, **{"blocks.0.ls1.gamma": torch.full((D,), 1e-1), "blocks.0.ls2.gamma": torch.full((D,), 1e-1)})
    image = torch.rand(1, 3, 32, 32) * 2 - 1
    assert (_reference_vit_cls(sd_ls, image, 1) - _reference_vit_cls(sd, image, 1)).abs().max() > 0.1
    with pytest.raises(ValueError, match="LayerScale"):
        load_vit_checkpoint(_model(), _save(tmp_path, sd_ls))


def test_checkpoint_tensors_that_would_be_dropped_are_listed(tmp_path):
    sd = _timm_checkpoint()
    sd["patch_embed.norm.weight"], sd["blocks.0.attn.rel_pos_bias"] = torch.ones(D), torch.zeros(4, 4)
    sd["blocks.1.attn.extra.weight"] = torch.zeros(D)             # also in a block the model does not use
    with pytest.raises(ValueError, match=r"3 checkpoint tensors have no place in the model and would be dropped: "
                                         r"blocks\.0\.attn\.rel_pos_bias, blocks\.1\.attn\.extra\.weight, "
                                         r"patch_embed\.norm\.weight"):
        load_vit_checkpoint(_model(), _save(tmp_path, sd))
    ok = _timm_checkpoint()                                      # the classifier is known to be unused
    assert load_vit_checkpoint(_model(), _save(tmp_path, ok, "ok.safetensors"))["loaded"] == 18


def test_missing_tensors_are_listed_not_a_key_error(tmp_path):
    sd = _timm_checkpoint()
    del sd["blocks.0.mlp.fc2.bias"], sd["norm.bias"]
    with pytest.raises(ValueError, match=r"2 tensors the spatial encoder needs are missing: blocks\.0\.mlp\.fc2\.bias, "
                                         r"norm\.bias"):
        load_vit_checkpoint(_model(), _save(tmp_path, sd))


def _to_hf_v5(sd, prefix="vit."):
    """transformers ≥ 5 names: ``layers.N.attention.q_proj`` / ``o_proj``, ``mlp.fc1`` / ``fc2``."""
    hf = {prefix + "embeddings.patch_embeddings.projection.weight": sd["patch_embed.proj.weight"],
          prefix + "embeddings.patch_embeddings.projection.bias": sd["patch_embed.proj.bias"],
          prefix + "embeddings.cls_token": sd["cls_token"], prefix + "embeddings.position_embeddings": sd["pos_embed"],
          prefix + "layernorm.weight": sd["norm.weight"], prefix + "layernorm.bias": sd["norm.bias"]}
    i = 0
    while f"blocks.{i}.norm1.weight" in sd:
        L = f"{prefix}layers.{i}."
        for part in ("weight", "bias"):
            q, k, v = sd[f"blocks.{i}.attn.qkv.{part}"].chunk(3)
            hf.update({L + f"layernorm_before.{part}": sd[f"blocks.{i}.norm1.{part}"],
                       L + f"attention.q_proj.{part}": q, L + f"attention.k_proj.{part}": k,
                       L + f"attention.v_proj.{part}": v,
                       L + f"attention.o_proj.{part}": sd[f"blocks.{i}.attn.proj.{part}"],
                       L + f"layernorm_after.{part}": sd[f"blocks.{i}.norm2.{part}"],
                       L + f"mlp.fc1.{part}": sd[f"blocks.{i}.mlp.fc1.{part}"],
                       L + f"mlp.fc2.{part}": sd[f"blocks.{i}.mlp.fc2.{part}"]})
        i += 1
    return hf


@pytest.mark.parametrize("prefix", ["vit.", ""])
def test_transformers_v5_names_load_the_same_weights(tmp_path, prefix):
    sd = _timm_checkpoint(seed=5)
    a, b = _model(), _model()
    load_vit_checkpoint(a, _save(tmp_path, sd, "timm.safetensors"))
    v5 = _to_hf_v5(sd, prefix)
    v5.update({"classifier.weight": torch.zeros(10, D), "classifier.bias": torch.zeros(10)} if prefix else
              {"pooler.dense.weight": torch.zeros(D, D), "pooler.dense.bias": torch.zeros(D)})
    rep = load_vit_checkpoint(b, _save(tmp_path, v5, "v5.safetensors"))
    assert rep["layout"] == "huggingface-v5" and rep["blocks_in_checkpoint"] == 2
    sa, sb = a.state_dict(), b.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa if k.startswith(("spatial", "tokenizer")))


def test_huggingface_variants_are_named_too(tmp_path):
    hf = _to_hf(_timm_checkpoint())
    for i in (0, 1):                                           # ViTConfig(qkv_bias=False)
        for n in ("query", "key", "value"):
            del hf[f"vit.encoder.layer.{i}.attention.attention.{n}.bias"]
    with pytest.raises(ValueError, match="no qkv bias"):
        load_vit_checkpoint(_model(), _save(tmp_path, hf))
    v5 = _to_hf_v5(_timm_checkpoint())
    del v5["vit.layers.0.attention.k_proj.weight"]               # an incomplete q/k/v set is named, not dropped
    with pytest.raises(ValueError, match=r"vit\.layers\.0\.attention\.q_proj\.weight"):
        load_vit_checkpoint(_model(), _save(tmp_path, v5, "v5.safetensors"))
