"""ViViT-FE: block maths (Eqs. 3–5) against a hand-written reference, shapes, Eq. 7 through forward, learning."""
import math
import sys

import pytest
import torch
import torch.nn.functional as F

from smate_nb.model import VIVIT_CONFIGS, EncoderBlock, build_vivit


def _reference_block(block: EncoderBlock, z: torch.Tensor) -> torch.Tensor:
    """Eqs. 3–5 written out: explicit per-head softmax(QKᵀ/√D_h)V, pre-norm residuals, GELU MLP."""
    attn = block.attn
    h = attn.heads
    b, l, d = z.shape
    dh = d // h
    x = F.layer_norm(z, (d,), block.norm1.weight, block.norm1.bias, block.norm1.eps)
    qkv = x @ attn.qkv.weight.T + attn.qkv.bias
    q, k, v = qkv.split(d, dim=-1)
    heads = []
    for i in range(h):
        sl = slice(i * dh, (i + 1) * dh)
        a = torch.softmax(q[..., sl] @ k[..., sl].transpose(1, 2) / math.sqrt(dh), dim=-1)
        heads.append(a @ v[..., sl])
    y = torch.cat(heads, -1) @ attn.proj.weight.T + attn.proj.bias + z                     # Eq. 4
    x = F.layer_norm(y, (d,), block.norm2.weight, block.norm2.bias, block.norm2.eps)
    lin1, lin2 = block.mlp[0], block.mlp[3]
    return F.gelu(x @ lin1.weight.T + lin1.bias) @ lin2.weight.T + lin2.bias + y           # Eq. 5


def test_encoder_block_matches_equations():
    torch.manual_seed(0)
    block = EncoderBlock(dim=24, heads=3, mlp_dim=40).eval()
    for p in block.parameters():                       # non-trivial LayerNorm affine too
        torch.nn.init.normal_(p, std=0.3)
    z = torch.randn(2, 7, 24)
    assert torch.allclose(block(z), _reference_block(block, z), atol=1e-5)


@pytest.mark.parametrize("tp", ["learned", "tpe_v1", "tpe_v2", "none"])
def test_forward_shapes_and_zero_head(tp):
    m = build_vivit("vivit_smoke_fe", num_frames=8, image_size=32, num_classes=7, temporal_position=tp)
    x = torch.rand(3, 8, 3, 32, 32)
    out = m(x)
    assert out.shape == (3, 7)
    assert torch.equal(out, torch.zeros(3, 7))          # zero-initialised head
    assert m.frame_features(m.tokens(x)).shape == (3, 4, 32)


def test_temporal_cls_position_switch():
    kw = dict(num_frames=8, image_size=32, num_classes=7)
    learned = build_vivit("vivit_smoke_fe", temporal_position="learned", **kw)
    assert learned.temporal_position.weight.shape == (1, 5, 32)              # n_t + 1 rows (CLS at 0)
    learned_no_cls = build_vivit("vivit_smoke_fe", temporal_position="learned", temporal_cls_position=False, **kw)
    assert learned_no_cls.temporal_position.weight.shape == (1, 4, 32)
    tpe_default = build_vivit("vivit_smoke_fe", temporal_position="tpe_v2", **kw)
    assert tpe_default.temporal_position.length == 4                          # L = n_t: CLS gets no value
    tpe_cls = build_vivit("vivit_smoke_fe", temporal_position="tpe_v2", temporal_cls_position=True, **kw)
    assert tpe_cls.temporal_position.length == 5


def test_tpe_changes_the_temporal_encoder_input():
    kw = dict(num_frames=8, image_size=32, num_classes=7)
    torch.manual_seed(0)
    a = build_vivit("vivit_smoke_fe", temporal_position="none", **kw).eval()
    b = build_vivit("vivit_smoke_fe", temporal_position="tpe_v2", tpe_alpha=2.0, **kw).eval()
    b.load_state_dict(a.state_dict())                   # same weights; TPE values are not in the state dict
    frames = torch.randn(2, 4, 32)
    expected_shift = torch.tensor([0.0, 1 / 4, 4 / 4, 9 / 4])        # pos² / L, L = 4
    # Same temporal encoder; feeding frames + TPE to "none" must equal feeding frames to "tpe_v2".
    assert torch.allclose(b.clip_features(frames), a.clip_features(frames + expected_shift[None, :, None]), atol=1e-6)


def test_mixed_tokens_through_forward():
    torch.manual_seed(0)
    m = build_vivit("vivit_smoke_fe", num_frames=8, image_size=32, num_classes=7)
    torch.nn.init.normal_(m.head.weight)                # make logits informative
    x = torch.rand(2, 8, 3, 32, 32)
    other = torch.rand(2, 8, 3, 32, 32)
    m.train()
    base = m(x, mix=torch.tensor([0, 0]), views=[other])
    no_views = m(x)
    assert torch.allclose(base, no_views, atol=1e-6)     # X = 0 → the original tokens
    same = m(x, [x, x], mix=torch.tensor([1, 1]))         # mixing a clip with copies of itself changes nothing
    assert torch.allclose(same, no_views, atol=1e-5)
    mixed = m(x, torch.stack([other], 1), mix=torch.tensor([1, 0]))   # [B, N, T, C, H, W] form
    assert not torch.allclose(mixed[0], no_views[0], atol=1e-4)
    assert torch.allclose(mixed[1], no_views[1], atol=1e-6)
    m.eval()
    assert torch.allclose(m(x, [other], mix=torch.tensor([1, 1])), m(x), atol=1e-6)  # eval ignores views


def test_bad_inputs_are_named():
    m = build_vivit("vivit_smoke_fe", num_frames=8, image_size=32, num_classes=7)
    with pytest.raises(ValueError, match="B, T, 3, H, W"):
        m(torch.rand(2, 8, 1, 32, 32))
    with pytest.raises(ValueError, match="rebuild"):
        m(torch.rand(2, 8, 3, 48, 48))
    with pytest.raises(ValueError, match="view 0"):
        m(torch.rand(2, 8, 3, 32, 32), [torch.rand(2, 6, 3, 32, 32)])
    with pytest.raises(KeyError, match="vivit_b_16x2_fe"):
        build_vivit("vivit_h", num_frames=8, image_size=32, num_classes=7)
    with pytest.raises(TypeError, match="depthh"):
        build_vivit("vivit_smoke_fe", num_frames=8, image_size=32, num_classes=7, depthh=3)
    with pytest.raises(ValueError, match="temporal_position"):
        build_vivit("vivit_smoke_fe", num_frames=8, image_size=32, num_classes=7, temporal_position="rope")


def test_paper_config_is_the_papers_backbone():
    c = VIVIT_CONFIGS["vivit_b_16x2_fe"]
    assert (c.spatial_depth, c.temporal_depth, c.dim, c.heads, c.mlp_dim, c.tubelet) == (12, 12, 768, 12, 3072, (2, 16, 16))


def test_few_steps_of_training_lower_the_loss():
    """Eight fixed random clips with arbitrary labels: 60 AdamW steps must memorise them (loss halves)."""
    torch.manual_seed(0)
    m = build_vivit("vivit_smoke_fe", num_frames=8, image_size=32, num_classes=4, temporal_position="tpe_v2")
    x = torch.rand(8, 8, 3, 32, 32)
    y = torch.arange(8) % 4
    opt = torch.optim.AdamW(m.parameters(), lr=5e-4)
    losses = []
    for _ in range(60):
        loss = F.cross_entropy(m(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[0] == pytest.approx(math.log(4), abs=1e-5)   # zero head: uniform prediction
    assert losses[-1] < 0.5 * losses[0]
    assert all(p.grad is not None for n, p in m.named_parameters() if p.requires_grad)


def test_zero_centering_maps_inputs_to_minus_one_one():
    torch.manual_seed(0)
    a = build_vivit("vivit_smoke_fe", num_frames=8, image_size=32, num_classes=7).eval()
    b = build_vivit("vivit_smoke_fe", num_frames=8, image_size=32, num_classes=7, zero_centering=False).eval()
    b.load_state_dict(a.state_dict())
    torch.nn.init.normal_(a.head.weight)
    b.head.weight.data.copy_(a.head.weight)
    x = torch.rand(2, 8, 3, 32, 32)
    assert torch.allclose(a(x), b(2 * x - 1), atol=1e-5)
    assert not torch.allclose(a(x), b(x), atol=1e-3)


# ----------------------------------------------------------------------------- speed switches: same function


def _loss_and_grads(model, clip, labels):
    model.zero_grad(set_to_none=True)
    loss = F.cross_entropy(model(clip), labels)
    loss.backward()
    return loss.detach(), [p.grad.clone() for p in model.parameters()]


@pytest.mark.parametrize("override", [{"qkv_layout": "einops"}, {"fused_norm": True}])
def test_speed_switches_give_the_same_loss_and_gradients_bit_for_bit(override):
    """Both switches rearrange memory traffic only: on the CPU (where ``add_layer_norm`` is the plain ops) the loss
    and every gradient equal the default model's exactly, from the same weights."""
    kw = dict(num_frames=8, image_size=32, num_classes=7, temporal_position="tpe_v2", tpe_mode="direction")
    torch.manual_seed(0)
    ref = build_vivit("vivit_smoke_fe", **kw)
    torch.nn.init.normal_(ref.head.weight, std=0.1)          # a zero head would zero every gradient below it
    other = build_vivit("vivit_smoke_fe", **kw, **override)
    other.load_state_dict(ref.state_dict())                  # same parameter names: switches add no weights
    clip, labels = torch.rand(3, 8, 3, 32, 32), torch.tensor([0, 3, 6])
    (la, ga), (lb, gb) = _loss_and_grads(ref, clip, labels), _loss_and_grads(other, clip, labels)
    assert torch.equal(la, lb) and all(torch.equal(a, b) for a, b in zip(ga, gb))
    assert any(g.abs().sum() > 0 for g in ga[:4])            # the gradients reach the tokenizer


def test_split_heads_layouts_are_the_same_views_and_the_reference_split():
    from smate_nb.model.vivit import split_heads

    qkv = torch.randn(2, 5, 3 * 12)
    u, e = split_heads(qkv, 3, "unbind"), split_heads(qkv, 3, "einops")
    d = 12
    q_ref = qkv[..., :d].reshape(2, 5, 3, 4).transpose(1, 2)                 # heads of q, written out
    v_ref = qkv[..., 2 * d:].reshape(2, 5, 3, 4).transpose(1, 2)
    for a, b in zip(u, e):
        assert a.shape == (2, 3, 5, 4) and torch.equal(a, b) and a.stride() == b.stride()
        assert a.data_ptr() != 0 and a.untyped_storage().data_ptr() == qkv.untyped_storage().data_ptr()   # views
    assert torch.equal(u[0], q_ref) and torch.equal(u[2], v_ref)
    with pytest.raises(ValueError, match="qkv_layout"):
        split_heads(qkv, 3, "packed")
    with pytest.raises(ValueError, match="qkv_layout"):
        build_vivit("vivit_smoke_fe", num_frames=8, image_size=32, num_classes=7, qkv_layout="packed")


def test_unbind_split_copies_less_in_backward():
    """The reason for the default: the profiler counts fewer copied elements per forward + backward."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "qkv_layout_copies.py"
    spec = importlib.util.spec_from_file_location("qkv_layout_copies", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    res = mod.copies("vivit_smoke_fe", batch=2)["layouts"]
    assert res["unbind"]["bitwise_equal_to_first"] and res["einops"]["bitwise_equal_to_first"]
    # Per attention layer the einops split copies its [B, L, 3D] q/k/v gradient exactly once more: the spatial layer
    # sees B·n_t = 2·4 clips of N + 1 = 17 tokens, the temporal one 2 clips of n_t + 1 = 5 tokens; 3D = 96.
    extra = (2 * 4) * 17 * 96 + 2 * 5 * 96
    assert res["einops"]["copied_elements"] - res["unbind"]["copied_elements"] == extra
    assert res["einops"]["by_op"]["clone"] - res["unbind"]["by_op"]["clone"] == extra     # reshape's copy
