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
