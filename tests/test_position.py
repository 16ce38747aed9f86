"""TPE (Eqs. 9–10) against hand-computed values, and the position modules' behaviour."""
import math

import pytest
import torch

from smate_nb.model.position import (FixedTemporalEncoding, LearnedPositionEmbedding, make_temporal_position, tpe,
                                     tpe_v1, tpe_v2)


def test_tpe_v1_hand_values():
    # Eq. 9 at L = 4, α = 1: pos 0 → 1/(1+e^1), pos 2 → 1/2 (2·2 − 4 = 0), pos 3 → 1/(1+e^-0.5).
    v = tpe("v1", 4, 1.0)
    assert v.shape == (4,) and v.dtype == torch.float32
    assert v[0].item() == pytest.approx(0.2689414213699951, abs=1e-7)
    assert v[1].item() == pytest.approx(1 / (1 + math.e ** 0.5), abs=1e-7)
    assert v[2].item() == pytest.approx(0.5, abs=1e-7)
    assert v[3].item() == pytest.approx(0.6224593312018546, abs=1e-7)
    # L = 12, α = 2, pos = 11: exponent −2·(22 − 12)/12 = −5/3.
    assert tpe_v1(12, 2.0)[11].item() == pytest.approx(1 / (1 + math.exp(-5 / 3)), abs=1e-7)


def test_tpe_v2_printed_and_normalised():
    # Printed Eq. 10: pos^α / L. At L = 12, α = 2, pos = 11 → 121/12 — outside [0, 1] (the ambiguity we keep).
    v = tpe("v2", 12, 2.0)
    assert v[11].item() == pytest.approx(121 / 12, rel=1e-6)
    assert v[0].item() == 0.0 and v[3].item() == pytest.approx(9 / 12)
    # α = 0.5: pos = 9, L = 12 → 3/12.
    assert tpe_v2(12, 0.5)[9].item() == pytest.approx(0.25, abs=1e-7)
    # Normalised: (pos/L)^α, within [0, 1).
    n = tpe("v2", 12, 2.0, normalized=True)
    assert n[11].item() == pytest.approx((11 / 12) ** 2, abs=1e-7)
    assert float(n.max()) < 1.0 and float(n.min()) == 0.0
    # α = 1: both readings coincide.
    assert torch.allclose(tpe("v2", 7, 1.0), tpe("v2", 7, 1.0, normalized=True))


def test_tpe_version_spellings_and_errors():
    assert torch.equal(tpe(1, 5, 1.5), tpe("tpe_v1", 5, 1.5))
    assert torch.equal(tpe(2, 5, 1.5), tpe("V2", 5, 1.5))
    with pytest.raises(ValueError, match="v1"):
        tpe("v3", 5)
    with pytest.raises(ValueError, match="TPE-v2 only"):
        tpe("v1", 5, normalized=True)
    with pytest.raises(ValueError, match="positive"):
        tpe("v2", 0)
    with pytest.raises(ValueError, match="alpha"):
        tpe("v2", 4, -1.0)


def test_fixed_encoding_adds_one_scalar_to_every_channel():
    enc = FixedTemporalEncoding("tpe_v2", 6, alpha=1.5)
    z = torch.randn(3, 6, 10)
    out = enc(z)
    diff = out - z
    expected = tpe("v2", 6, 1.5)
    # The same value on every channel of a token, and per token the TPE value.
    assert torch.allclose(diff, expected[None, :, None].expand_as(diff), atol=1e-6)
    assert list(enc.parameters()) == [] and "values" not in enc.state_dict()
    with pytest.raises(ValueError, match="L=6"):
        enc(torch.randn(1, 5, 10))


def test_learned_embedding_is_trunc_normal_002():
    torch.manual_seed(0)
    emb = LearnedPositionEmbedding(400, 64)
    w = emb.weight.detach()
    assert w.shape == (1, 400, 64)
    assert w.abs().max().item() <= 0.04 + 1e-7          # truncated at 2σ
    assert 0.015 < w.std().item() < 0.02                 # truncation shrinks σ = 0.02 to ≈ 0.0176
    z = torch.zeros(2, 400, 64)
    assert torch.equal(emb(z), w.expand(2, -1, -1))


def test_make_temporal_position_kinds():
    assert isinstance(make_temporal_position("learned", 5, 8), LearnedPositionEmbedding)
    assert isinstance(make_temporal_position("tpe_v1", 5, 8), FixedTemporalEncoding)
    z = torch.randn(2, 5, 8)
    assert torch.equal(make_temporal_position("none", 5, 8)(z), z)
    with pytest.raises(ValueError, match="unknown temporal_position"):
        make_temporal_position("sinusoid", 5, 8)


# ----------------------------------------------------------------------------- the four TPE readings (issue 15)

from smate_nb.model import build_vivit  # noqa: E402
from smate_nb.model.position import TPE_MODES, interpolate_embedding, tpe_direction  # noqa: E402

_KW = dict(num_frames=8, image_size=32, num_classes=7)


def _logits(kind, x, *, train=False, dropout=0.0, seed=3, **over):
    """Logits of a smoke ViViT whose weights equal every other call's with the same seed (random head)."""
    torch.manual_seed(seed)
    m = build_vivit("vivit_smoke_fe", temporal_position=kind, dropout=dropout, **_KW, **over)
    with torch.no_grad():
        m.head.weight.normal_(0, 1.0)
    m.train(train)
    torch.manual_seed(99)                       # identical dropout masks for identical RNG use
    with torch.no_grad():
        return m(x)


_X = torch.rand(3, 8, 3, 32, 32, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("kind", ["tpe_v1", "tpe_v2"])
@pytest.mark.parametrize("train", [False, True])
def test_broadcast_reading_is_invisible_to_the_model(kind, train):
    """LN(z + c·1) = LN(z): with the literal reading the logits equal those without temporal position, for
    random weights, in evaluation and in training (dropout 0.1, identical masks), also for α = 2 (values ≫ 1)."""
    ref = _logits("none", _X, train=train, dropout=0.1)
    for alpha in (1.0, 2.0):
        got = _logits(kind, _X, train=train, dropout=0.1, tpe_alpha=alpha)
        assert torch.allclose(got, ref, atol=5e-5), float((got - ref).abs().max())
    learned = _logits("learned", _X, train=train, dropout=0.1)
    assert (learned - ref).abs().max() > 1e-2                      # a learned table does act: the test can fail


def test_broadcast_dropout_acts_in_training_only():
    ref = _logits("none", _X)
    assert torch.allclose(_logits("tpe_v2", _X, tpe_mode="broadcast_dropout"), ref, atol=5e-5)   # eval: position-free
    v1 = _logits("tpe_v1", _X, train=True, tpe_mode="broadcast_dropout")
    v2 = _logits("tpe_v2", _X, train=True, tpe_mode="broadcast_dropout")
    assert (v1 - v2).abs().max() > 1e-2                            # same masks, other TPE values: other output


@pytest.mark.parametrize("mode", ["direction", "attention_bias"])
def test_readings_that_survive_layernorm_change_the_output_and_vanish_at_zero_scale(mode):
    ref = _logits("none", _X)
    assert (_logits("tpe_v2", _X, tpe_mode=mode) - ref).abs().max() > 1e-2
    assert (_logits("tpe_v1", _X, tpe_mode=mode) - _logits("tpe_v2", _X, tpe_mode=mode)).abs().max() > 1e-3
    assert torch.allclose(_logits("tpe_v2", _X, tpe_mode=mode, tpe_scale=0.0), ref, atol=1e-6)


def test_attention_bias_is_position_free_for_a_constant_tpe():
    """Softmax is invariant to adding one constant to every logit of a row: a constant TPE has no effect when the
    CLS token also takes a value (every key then gets the same bias)."""
    torch.manual_seed(3)
    m = build_vivit("vivit_smoke_fe", temporal_position="tpe_v2", tpe_mode="attention_bias",
                    temporal_cls_position=True, **_KW).eval()
    torch.manual_seed(3)
    ref = build_vivit("vivit_smoke_fe", temporal_position="none", **_KW).eval()
    with torch.no_grad():
        head = torch.randn(7, 32, generator=torch.Generator().manual_seed(1))
        for model in (m, ref):
            model.head.weight.copy_(head)          # a random head, the same for both (a uniform one sees nothing)
        m.temporal_position.values.fill_(0.7)
        assert torch.allclose(m(_X), ref(_X), atol=1e-6)
        m.temporal_position.values.copy_(torch.linspace(0, 1, m.temporal_position.length))
        assert (m(_X) - ref(_X)).abs().max() > 1e-3


def test_direction_is_zero_mean_unit_rms():
    for dim in (8, 9, 128):
        u = tpe_direction(dim)
        assert abs(float(u.mean())) < 1e-6 and abs(float(u.pow(2).mean().sqrt()) - 1) < 1e-6
    enc = FixedTemporalEncoding("tpe_v2", 4, mode="direction", dim=6, scale=2.0)
    z = torch.zeros(1, 4, 6)
    expected = 2.0 * tpe("v2", 4)[:, None] * torch.tensor([1.0, -1, 1, -1, 1, -1])
    assert torch.allclose(enc(z)[0], expected)
    with pytest.raises(ValueError, match="tpe_mode"):
        FixedTemporalEncoding("tpe_v2", 4, mode="rope")
    assert set(TPE_MODES) == {"broadcast", "broadcast_dropout", "direction", "attention_bias"}


def test_model_for_longer_clips_recomputes_tpe_and_interpolates_a_learned_table():
    torch.manual_seed(0)
    tpe_m = build_vivit("vivit_smoke_fe", temporal_position="tpe_v2", tpe_mode="direction", **_KW).eval()
    same = tpe_m.with_num_frames(8)
    assert torch.allclose(same(_X), tpe_m(_X))
    longer = tpe_m.with_num_frames(16)
    assert longer.temporal_position.length == 8 and torch.allclose(longer.temporal_position.values, tpe("v2", 8))
    assert longer(torch.rand(2, 16, 3, 32, 32)).shape == (2, 7)
    assert torch.equal(longer.spatial_encoder.blocks[0].attn.qkv.weight, tpe_m.spatial_encoder.blocks[0].attn.qkv.weight)
    learned = build_vivit("vivit_smoke_fe", temporal_position="learned", **_KW)
    w = learned.temporal_position.weight.detach()                 # CLS row + 4 positions
    grown = learned.with_num_frames(16).temporal_position.weight.detach()
    assert grown.shape == (1, 9, 32) and torch.equal(grown[:, 0], w[:, 0])          # CLS kept
    assert torch.allclose(grown[:, 1], w[:, 1]) and torch.allclose(grown[:, -1], w[:, -1])   # ends kept
    mid = interpolate_embedding(torch.tensor([[[0.0], [1.0], [3.0]]]), 5, keep_first=False)
    assert torch.allclose(mid[0, :, 0], torch.tensor([0.0, 0.5, 1.0, 2.0, 3.0]))   # linear between positions


def test_temporal_attention_maps_are_distributions_and_follow_the_bias():
    torch.manual_seed(0)
    m = build_vivit("vivit_smoke_fe", temporal_position="tpe_v2", tpe_mode="attention_bias", tpe_scale=50.0, **_KW)
    maps = m.temporal_attention(_X)
    assert maps.shape == (3, 1, 2, 5, 5) and torch.allclose(maps.sum(-1), torch.ones(3, 1, 2, 5))
    assert (maps[..., -1] > 0.9).all()                             # a steep rising bias: every query looks last
