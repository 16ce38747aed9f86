"""Tubelet embedding (Eq. 6) against an explicit tube-flattening reference; Eq. 7 exactly."""
import pytest
import torch

from smate_nb.model.tokens import MixedTokenEmbedding, TubeletEmbedding, mix_tokens, uniform_frame_embedding


def _reference_tokens(emb: TubeletEmbedding, clip: torch.Tensor) -> torch.Tensor:
    """Eq. 6 by hand: cut tubes, flatten each (c, t, p, p), multiply by E, add bias."""
    t, p, _ = emb.tubelet
    b, T, c, H, W = clip.shape
    nt, nh, nw = T // t, H // p, W // p
    x = clip[:, : nt * t, :, : nh * p, : nw * p]
    x = x.reshape(b, nt, t, c, nh, p, nw, p).permute(0, 1, 4, 6, 3, 2, 5, 7)  # b nt nh nw c t p p
    x = x.reshape(b, nt, nh * nw, c * t * p * p)
    E = emb.proj.weight.reshape(emb.proj.weight.shape[0], -1)                # D × (c t p p)
    return x @ E.T + emb.proj.bias


@pytest.mark.parametrize("tubelet,shape", [((2, 4, 4), (2, 25, 3, 16, 20)), ((1, 8, 8), (1, 3, 3, 17, 16))])
def test_tubelet_matches_explicit_projection(tubelet, shape):
    torch.manual_seed(0)
    emb = TubeletEmbedding(3, 6, tubelet)
    clip = torch.rand(*shape)
    out = emb(clip)
    t, p, _ = tubelet
    assert out.shape == (shape[0], shape[1] // t, (shape[3] // p) * (shape[4] // p), 6)
    assert torch.allclose(out, _reference_tokens(emb, clip), atol=1e-5)


@pytest.mark.parametrize("tubelet,shape", [((2, 16, 16), (2, 9, 3, 40, 35)), ((1, 4, 4), (1, 3, 3, 9, 8))])
def test_tubelet_equals_the_strided_conv3d_its_weights_belong_to(tubelet, shape):
    # The forward is a GEMM over tubes, the weights stay a Conv3d's (checkpoints, ViT inflation): both readings
    # must give the same tokens, remainders dropped as VALID padding does.
    torch.manual_seed(1)
    emb = TubeletEmbedding(3, 5, tubelet).double()
    clip = torch.rand(*shape, dtype=torch.float64)
    ref = torch.nn.functional.conv3d(clip.transpose(1, 2), emb.proj.weight, emb.proj.bias, stride=tubelet)
    ref = ref.flatten(3).permute(0, 2, 3, 1)                                   # b d nt (nh nw) → b nt (nh nw) d
    assert torch.allclose(emb(clip), ref, atol=1e-12)


def test_paper_geometry_gives_12_by_196_tokens():
    with torch.device("meta"):
        out = TubeletEmbedding(3, 768, (2, 16, 16))(torch.empty(1, 25, 3, 224, 224))
    assert tuple(out.shape) == (1, 12, 196, 768)


def test_uniform_frame_embedding_is_t1():
    emb = uniform_frame_embedding(3, 4, 8)
    assert emb.tubelet == (1, 8, 8)
    assert emb(torch.rand(2, 5, 3, 16, 16)).shape == (2, 5, 4, 4)


def test_tubelet_rejects_bad_input():
    emb = TubeletEmbedding(3, 4, (2, 8, 8))
    with pytest.raises(ValueError, match="B, T, C, H, W"):
        emb(torch.rand(3, 16, 16))
    with pytest.raises(ValueError, match="smaller than one tubelet"):
        emb(torch.rand(1, 1, 3, 16, 16))
    with pytest.raises(ValueError, match="tubelet"):
        TubeletEmbedding(3, 4, (2, 8))


def test_mix_tokens_exact():
    z0 = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]).reshape(3, 1, 2)
    a1 = torch.full((3, 1, 2), 10.0)
    a2 = torch.full((3, 1, 2), -4.0)
    out = mix_tokens(z0, [a1, a2], torch.tensor([0, 1, 1]))
    assert torch.equal(out[0], z0[0])                                  # X = 0 → z_origin
    assert torch.allclose(out[1], (z0[1] + 10 - 4) / 3)                # X = 1 → (z0 + Σ z_aug)/(N+1)
    assert torch.allclose(out[2], torch.tensor([[11 / 3, 4.0]]))
    # A stacked [N, B, ...] tensor is the same as a list; N = 0 is the identity.
    assert torch.equal(mix_tokens(z0, torch.stack([a1, a2]), torch.tensor([0, 1, 1])), out)
    assert torch.equal(mix_tokens(z0, [], torch.tensor([1, 1, 1])), z0)


def test_mix_tokens_rejects_mismatched_views():
    z0 = torch.zeros(2, 3, 4)
    with pytest.raises(ValueError, match="view 0"):
        mix_tokens(z0, [torch.zeros(2, 3, 5)], torch.tensor([1, 1]))
    with pytest.raises(ValueError, match="one value per sample"):
        mix_tokens(z0, [torch.zeros(2, 3, 4)], torch.tensor([1, 1, 0]))


def test_mixed_token_module_bernoulli_and_eval():
    m = MixedTokenEmbedding(p=0.3)
    g = torch.Generator().manual_seed(1)
    draws = torch.cat([m.draw(100, generator=g) for _ in range(100)]).float()
    assert abs(draws.mean().item() - 0.3) < 0.02                        # 10 000 draws: σ ≈ 0.0046
    z0, za = torch.zeros(4, 2, 3), torch.ones(4, 2, 3)
    assert torch.equal(MixedTokenEmbedding(p=0.0)(z0, [za]), z0)
    assert torch.allclose(MixedTokenEmbedding(p=1.0)(z0, [za]), torch.full_like(z0, 0.5))
    m.eval()
    assert torch.equal(m(z0, [za], x=torch.ones(4)), z0)               # eval: always z_origin
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        MixedTokenEmbedding(p=1.5)
