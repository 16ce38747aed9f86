"""Table 6 baselines (C3D, CNN-RNN): shapes, gradients, interface, determinism, parameter / MAC counts against
hand-written references, input errors, and learning a temporal task."""
from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F

from smate_nb.cost import count_macs, count_params
from smate_nb.model.c3d import C3D, C3D_CONFIGS, C3DConfig, build_c3d
from smate_nb.model.cnnrnn import CNNRNN, CNNRNN_CONFIGS, CNNRNNConfig, build_cnnrnn

# (name, builder, overrides): every named config, the CNN-RNN with both recurrent kinds.
MODELS = [
    ("c3d_small", build_c3d, {}),
    ("c3d_smoke", build_c3d, {}),
    ("cnnrnn_small", build_cnnrnn, {}),
    ("cnnrnn_small", build_cnnrnn, {"rnn": "lstm"}),
    ("cnnrnn_smoke", build_cnnrnn, {}),
    ("cnnrnn_smoke", build_cnnrnn, {"rnn": "lstm"}),
]
IDS = [f"{n}-{o.get('rnn', 'default')}" for n, _, o in MODELS]


def _build(name, builder, overrides, num_classes=7, seed=0):
    torch.manual_seed(seed)
    return builder(name, num_classes=num_classes, **overrides)


def test_named_configs_exist():
    assert {"c3d_small", "c3d_smoke"} <= set(C3D_CONFIGS)
    assert {"cnnrnn_small", "cnnrnn_smoke"} <= set(CNNRNN_CONFIGS)
    assert CNNRNNConfig().rnn == "gru" and CNNRNN_CONFIGS["cnnrnn_small"].rnn == "gru"
    assert isinstance(build_c3d("c3d_smoke", num_classes=3), C3D)
    assert isinstance(build_cnnrnn("cnnrnn_smoke", num_classes=3), CNNRNN)
    # Frozen and hashable (the engine hashes experiment configs), lists from JSON included.
    cfg = C3DConfig(stages=[[4], [8, 8]], fc_dims=[16])
    assert cfg.stages == ((4,), (8, 8)) and cfg.fc_dims == (16,) and hash(cfg) == hash(C3DConfig(((4,), (8, 8)), (16,)))
    assert CNNRNNConfig(widths=[4, 8]).widths == (4, 8)
    with pytest.raises(Exception):
        cfg.num_classes = 3


# ------------------------------------------------------------------------------------------------- shapes
@pytest.mark.parametrize("geometry", [(2, 8, 32, 32), (2, 16, 64, 64), (1, 25, 40, 48), (3, 1, 1, 1), (2, 7, 9, 33)])
@pytest.mark.parametrize("name,builder,overrides", MODELS, ids=IDS)
def test_output_shape_any_geometry(name, builder, overrides, geometry):
    b, t, h, w = geometry
    model = _build(name, builder, overrides, num_classes=5).eval()
    with torch.no_grad():
        out = model(torch.rand(b, t, 3, h, w))
    assert out.shape == (b, 5) and torch.isfinite(out).all()


@pytest.mark.parametrize("frames", [25, 16])
@pytest.mark.parametrize("name,builder,overrides", MODELS, ids=IDS)
def test_paper_geometry_on_meta(name, builder, overrides, frames):
    """The paper profile (25 or 16 frames at 224²), shape-checked on the meta device (no compute)."""
    model = _build(name, builder, overrides).to("meta")
    for mode in (model.train, model.eval):
        mode()
        assert model(torch.empty(2, frames, 3, 224, 224, device="meta")).shape == (2, 7)


def test_odd_frame_count_keeps_every_frame():
    """ceil-mode pooling (Caffe's, as in C3D): with T = 25 the last frame still reaches the logits."""
    model = _build("c3d_smoke", build_c3d, {}).eval()
    clip = torch.rand(1, 25, 3, 16, 16, requires_grad=True)
    model(clip).sum().backward()
    assert clip.grad[0, -1].abs().sum() > 0
    rnn = _build("cnnrnn_smoke", build_cnnrnn, {}).eval()
    clip = torch.rand(1, 25, 3, 16, 16, requires_grad=True)
    rnn(clip).sum().backward()
    assert clip.grad[0, -1].abs().sum() > 0 and clip.grad[0, 0].abs().sum() > 0


def test_single_channel_models():
    for model in (build_c3d("c3d_smoke", num_classes=2, in_channels=1),
                  build_cnnrnn("cnnrnn_smoke", num_classes=2, in_channels=1)):
        assert model.eval()(torch.rand(2, 8, 1, 32, 32)).shape == (2, 2)


# ------------------------------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("name,builder,overrides", MODELS, ids=IDS)
def test_gradients_reach_every_parameter(name, builder, overrides):
    model = _build(name, builder, overrides).train()
    torch.manual_seed(1)
    loss = F.cross_entropy(model(torch.rand(4, 8, 3, 32, 32)), torch.tensor([0, 1, 2, 3]))
    loss.backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None, pname
        assert torch.isfinite(p.grad).all(), pname
        assert p.grad.abs().sum() > 0, pname


def test_zero_centering_maps_to_minus_one_one():
    """clip ↦ 2·clip − 1 before the first layer, as ViViT-FE's ``zero_centering``; switchable."""
    for builder, name in ((build_c3d, "c3d_smoke"), (build_cnnrnn, "cnnrnn_smoke")):
        for centre in (True, False):
            model = builder(name, num_classes=2, zero_centering=centre).eval()
            seen = {}
            model.features[0].register_forward_hook(lambda mod, args, out: seen.update(x=args[0]))   # returns None
            model(torch.full((1, 2, 3, 4, 4), 0.25))
            assert torch.allclose(seen["x"], torch.full_like(seen["x"], -0.5 if centre else 0.25))


# ------------------------------------------------------------------------------------------------- interface
@pytest.mark.parametrize("name,builder,overrides", MODELS, ids=IDS)
def test_views_and_mix_are_ignored(name, builder, overrides):
    model = _build(name, builder, overrides)
    clip = torch.rand(2, 8, 3, 32, 32)
    views = torch.rand(2, 2, 8, 3, 32, 32)
    mix = torch.ones(2, dtype=torch.bool)
    for mode in (model.eval, model.train):
        mode()
        outs = []
        for kwargs in ({}, {"views": views, "mix": mix}, {"views": list(views.unbind(1))}, {"mix": mix}):
            torch.manual_seed(3)                     # same dropout masks in training mode
            with torch.no_grad():
                outs.append(model(clip, **kwargs))
        for o in outs[1:]:
            assert torch.equal(o, outs[0])


@pytest.mark.parametrize("name,builder,overrides", MODELS, ids=IDS)
def test_deterministic_for_a_seed(name, builder, overrides):
    a, b, c = (_build(name, builder, overrides, seed=s) for s in (7, 7, 8))
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert any(not torch.equal(sa[k], sc[k]) for k in sa if sa[k].is_floating_point())
    clip, y = torch.rand(3, 8, 3, 32, 32), torch.tensor([0, 1, 2])
    for m in (a, b):                                 # one training step each, same seed → same weights
        opt = torch.optim.AdamW(m.parameters(), lr=1e-3)
        torch.manual_seed(11)
        F.cross_entropy(m.train()(clip), y).backward()
        opt.step()
    assert all(torch.equal(x, y_) for x, y_ in zip(a.state_dict().values(), b.state_dict().values()))
    with torch.no_grad():
        assert torch.equal(a.eval()(clip), b.eval()(clip))


# ------------------------------------------------------------------------------------------------- counts
def reference_params_c3d(cfg: C3DConfig) -> int:
    """Written out from the layer sizes: 3×3×3 convs without bias, BN (γ, β) per conv, FC with bias."""
    total, c = 0, cfg.in_channels
    for stage in cfg.stages:
        for w in stage:
            total += 3 * 3 * 3 * c * w + 2 * w
            c = w
    for d in cfg.fc_dims:
        total += c * d + d
        c = d
    return total + c * cfg.num_classes + cfg.num_classes


def reference_params_cnnrnn(cfg: CNNRNNConfig) -> int:
    """3×3 convs without bias + BN per conv; GRU/LSTM: gates·(in·h + h·h + 2h) per layer (two bias vectors);
    head."""
    total, c = 0, cfg.in_channels
    for w in cfg.widths:
        for _ in range(cfg.convs_per_stage):
            total += 3 * 3 * c * w + 2 * w
            c = w
    gates = 3 if cfg.rnn == "gru" else 4
    h = cfg.hidden
    for layer in range(cfg.rnn_layers):
        x = c if layer == 0 else h
        total += gates * (x * h + h * h + 2 * h)
    return total + h * cfg.num_classes + cfg.num_classes


def test_parameter_counts_of_the_named_configs_by_hand():
    # c3d_small: convs 27·(3·8 + 8·24 + 24·48 + 48·48 + 48·96 + 96·96 + 96·96 + 96·96) = 970 056,
    # BN 2·(8+24+48+48+96+96+96+96) = 1 024, FC 96·512+512 + 512·512+512 = 312 320, head 512·7+7 = 3 591.
    assert count_params(build_c3d("c3d_small", num_classes=7)) == 970_056 + 1_024 + 312_320 + 3_591 == 1_286_991
    # cnnrnn_small: convs 9·(3·24 + 24·24 + 24·48 + 48·48 + 48·96 + 96·96 + 96·192 + 192·192) = 659 016,
    # BN 2·2·(24+48+96+192) = 1 440, GRU 3·(192·128 + 128·128 + 2·128) = 123 648, head 128·7+7 = 903.
    assert count_params(build_cnnrnn("cnnrnn_small", num_classes=7)) == 659_016 + 1_440 + 123_648 + 903 == 785_007
    # LSTM: 4 gates instead of 3 → 4·41 216 = 164 864.
    assert count_params(build_cnnrnn("cnnrnn_small", num_classes=7, rnn="lstm")) == 785_007 + 41_216 == 826_223


@pytest.mark.parametrize("overrides", [{}, {"num_classes": 2}, {"in_channels": 1}, {"fc_dims": ()},
                                       {"stages": ((4, 6), (8,), (8, 8, 8))}, {"fc_dims": (16, 8, 4)}])
def test_c3d_parameter_count_matches_reference(overrides):
    overrides = {"num_classes": 7, **overrides}
    for name, base in C3D_CONFIGS.items():
        assert count_params(build_c3d(name, **overrides)) == reference_params_c3d(replace(base, **overrides))


@pytest.mark.parametrize("overrides", [{}, {"rnn": "lstm"}, {"rnn_layers": 2}, {"rnn": "lstm", "rnn_layers": 3},
                                       {"hidden": 5, "num_classes": 3}, {"convs_per_stage": 3, "widths": (4, 6, 8)},
                                       {"in_channels": 1}])
def test_cnnrnn_parameter_count_matches_reference(overrides):
    overrides = {"num_classes": 7, **overrides}
    for name, base in CNNRNN_CONFIGS.items():
        assert count_params(build_cnnrnn(name, **overrides)) == reference_params_cnnrnn(replace(base, **overrides))


def reference_macs_c3d(cfg: C3DConfig, t: int, s: int) -> int:
    """Conv MACs at each stage's resolution (ceil-mode pools: 1×2×2, then 2×2×2) + FC + head; batch 1."""
    macs, c, h, w = 0, cfg.in_channels, s, s
    for i, stage in enumerate(cfg.stages):
        for width in stage:
            macs += t * h * w * 27 * c * width
            c = width
        if i < len(cfg.stages) - 1:
            h, w = math.ceil(h / 2), math.ceil(w / 2)
            t = t if i == 0 else math.ceil(t / 2)
    for d in cfg.fc_dims:
        macs += c * d
        c = d
    return macs + c * cfg.num_classes


def reference_macs_cnnrnn(cfg: CNNRNNConfig, t: int, s: int) -> int:
    """Per frame: 3×3 convs (a stage's first has stride 2: side → ⌈side/2⌉); per step: gates·(in·h + h·h);
    head."""
    frame, c, side = 0, cfg.in_channels, s
    for width in cfg.widths:
        for j in range(cfg.convs_per_stage):
            side = math.ceil(side / 2) if j == 0 else side
            frame += side * side * 9 * c * width
            c = width
    gates = 3 if cfg.rnn == "gru" else 4
    h = cfg.hidden
    rnn = sum(gates * ((c if layer == 0 else h) * h + h * h) for layer in range(cfg.rnn_layers))
    return t * (frame + rnn) + h * cfg.num_classes


@pytest.mark.parametrize("t,s", [(16, 64), (8, 32), (25, 224), (16, 224)])
def test_macs_match_reference(t, s):
    """smate_nb.cost.count_macs (flop counter, meta device) against the closed forms above."""
    for name, cfg in C3D_CONFIGS.items():
        assert count_macs(build_c3d(name, num_classes=7), t, s) == reference_macs_c3d(replace(cfg, num_classes=7), t, s)
    for name, cfg in CNNRNN_CONFIGS.items():
        for rnn in ("gru", "lstm"):
            model = build_cnnrnn(name, num_classes=7, rnn=rnn)
            assert count_macs(model, t, s) == reference_macs_cnnrnn(model.config, t, s)


def test_cpu_profile_sizes():
    """The cpu-profile configs at 16×64² (figures quoted in the module docstrings / configs)."""
    assert count_macs(build_c3d("c3d_small", num_classes=7), 16, 64) == 430_296_576
    assert count_macs(build_cnnrnn("cnnrnn_small", num_classes=7), 16, 64) == 479_724_416


# ------------------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("builder,name", [(build_c3d, "c3d_smoke"), (build_cnnrnn, "cnnrnn_smoke")])
def test_clear_errors_on_bad_input(builder, name):
    model = builder(name, num_classes=2).eval()
    with pytest.raises(ValueError, match=r"\[B, T, 3, H, W\] \(5 dims\), got shape \(8, 3, 32, 32\)"):
        model(torch.rand(8, 3, 32, 32))
    with pytest.raises(ValueError, match=r"must have 3 channels in dim 2.*\(2, 8, 1, 32, 32\)"):
        model(torch.rand(2, 8, 1, 32, 32))
    with pytest.raises(ValueError, match=r"is it \[B, C, T, H, W\]\?"):
        model(torch.rand(2, 3, 8, 32, 32))
    with pytest.raises(ValueError, match="empty dimension"):
        model(torch.rand(2, 0, 3, 32, 32))
    with pytest.raises(TypeError, match="floating point"):
        model(torch.zeros(2, 8, 3, 32, 32, dtype=torch.uint8))
    with pytest.raises(TypeError, match="torch.Tensor"):
        model([[0.0]])


def test_clear_errors_on_bad_config():
    with pytest.raises(KeyError, match="unknown C3D 'c3d_large'.*c3d_small"):
        build_c3d("c3d_large", num_classes=7)
    with pytest.raises(KeyError, match="unknown CNN-RNN 'cnnrnn_big'.*cnnrnn_small"):
        build_cnnrnn("cnnrnn_big", num_classes=7)
    with pytest.raises(TypeError, match=r"unknown C3DConfig field\(s\) \['width'\]"):
        build_c3d("c3d_small", num_classes=7, width=3)
    with pytest.raises(TypeError, match=r"unknown CNNRNNConfig field\(s\) \['cell'\]"):
        build_cnnrnn("cnnrnn_small", num_classes=7, cell="gru")
    for kwargs, field in (({"stages": ()}, "stages"), ({"stages": ((8,), ())}, "stages"),
                          ({"stages": (8, 16)}, "stages"), ({"fc_dims": (0,)}, "fc_dims"),
                          ({"dropout": 1.0}, "dropout"), ({"num_classes": 0}, "num_classes")):
        with pytest.raises(ValueError, match=f"C3DConfig.{field} = "):
            build_c3d("c3d_small", **{"num_classes": 7, **kwargs})
    for kwargs, field in (({"rnn": "rnn"}, "rnn"), ({"widths": ()}, "widths"), ({"hidden": 0}, "hidden"),
                          ({"rnn_layers": True}, "rnn_layers"), ({"convs_per_stage": 0}, "convs_per_stage")):
        with pytest.raises(ValueError, match=f"CNNRNNConfig.{field} = "):
            build_cnnrnn("cnnrnn_small", **{"num_classes": 7, **kwargs})


# ------------------------------------------------------------------------------------------------- learning
def two_class_clips(n: int, kind: str, *, t: int = 8, size: int = 32, side: int = 8, seed: int = 0):
    """Hand-made 2-class clips of a bright square on a dark, slightly noisy background, at a random place.

    * ``direction``: the square moves right (class 0) or left (class 1), 2 px a frame.
    * ``fade``: it brightens (class 0) or darkens (class 1) linearly — order: a class-1 clip is, in
      distribution, a class-0 clip played backwards, so a model blind to frame order (a temporal average of
      frame features) scores chance.
    """
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    clips = torch.zeros(n, t, 3, size, size)
    speed = 2
    span = (t - 1) * speed
    for i in range(n):
        top = int(torch.randint(0, size - side + 1, (1,), generator=g))
        if kind == "direction":
            x0 = int(torch.randint(0, size - side - span + 1, (1,), generator=g))
            for k in range(t):
                x = x0 + k * speed if y[i] == 0 else x0 + span - k * speed
                clips[i, k, :, top:top + side, x:x + side] = 1.0
        else:
            left = int(torch.randint(0, size - side + 1, (1,), generator=g))
            ramp = torch.linspace(0.1, 1.0, t)
            ramp = ramp if y[i] == 0 else ramp.flip(0)
            for k in range(t):
                clips[i, k, :, top:top + side, left:left + side] = ramp[k]
    return (clips + 0.05 * torch.rand(clips.shape, generator=g)).clamp(0, 1), y


def _precise_bn(model: torch.nn.Module, clips: torch.Tensor) -> None:
    """Running BN statistics := the training batch's (30 steps at momentum 0.1 leave them far from it)."""
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None                          # cumulative average: one pass sets the exact statistics
    model.train()
    with torch.no_grad():
        model(clips)


# The GAP'd per-frame CNN of the CNN-RNN keeps little of *where* the square is, so its temporal task is the fade
# (what the frame shows, in which order); C3D learns the motion (direction) — and the fade too.
@pytest.mark.parametrize("name,builder,overrides,kind", [
    ("c3d_smoke", build_c3d, {}, "direction"),
    ("c3d_smoke", build_c3d, {}, "fade"),
    ("cnnrnn_smoke", build_cnnrnn, {}, "fade"),
    ("cnnrnn_smoke", build_cnnrnn, {"rnn": "lstm"}, "fade"),
], ids=["c3d-direction", "c3d-fade", "cnnrnn-gru-fade", "cnnrnn-lstm-fade"])
def test_learns_a_temporal_task(name, builder, overrides, kind):
    x, y = two_class_clips(16, kind, seed=0)
    x_test, y_test = two_class_clips(32, kind, seed=1)
    model = _build(name, builder, overrides, num_classes=2)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        model.train()
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[0] > 0.6                              # starts near ln 2
    assert sum(losses[-3:]) / 3 < 0.5 * losses[0], losses
    _precise_bn(model, x)
    with torch.no_grad():
        accuracy = (model.eval()(x_test).argmax(1) == y_test).float().mean().item()
    assert accuracy >= 0.9, accuracy
