"""The engine's single pieces: device, optimiser, step, input pipeline, config validation, stored results,
checkpoints — and that the benchmark times the very step ``fit`` trains with."""
import json
from dataclasses import replace
import math
import warnings

import numpy as np
import pytest
import torch

from smate_nb import throughput as tp
from smate_nb.checkpoint import checkpoint_status
from smate_nb.engine import loop, step as step_mod
from smate_nb.engine.device import resolve_amp, resolve_device
from smate_nb.engine.inputs import InputPipeline, prepare_inputs
from smate_nb.engine.loop import fit
from smate_nb.engine.specs import ConfigError, DataSpec, ExperimentConfig, OptimSpec, PreprocSpec
from smate_nb.engine.step import TrainStep, build_train_step, lr_factor, make_optimizer
from smate_nb.model import build_vivit

from _engine_fixtures import tiny_config, tiny_data

CPU = torch.device("cpu")


def _smoke(crop=32):
    torch.manual_seed(0)
    return build_vivit("vivit_smoke_fe", num_frames=8, image_size=crop, num_classes=7)


def _batch(b=4, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(b, 8, 3, 32, 32, generator=g), torch.randint(0, 7, (b,), generator=g)


# ----------------------------------------------------------------------------- device


def test_resolve_amp_and_device():
    assert resolve_amp("auto", CPU) is None                       # fp32 on CPU
    assert resolve_amp("off", CPU) is None
    assert resolve_amp("bf16", CPU) is torch.bfloat16
    assert resolve_amp("bf16-stream", CPU) is torch.bfloat16           # evaluation autocast of a bf16-stream run
    with pytest.raises(ValueError, match="fp16.*CUDA"):
        resolve_amp("fp16", CPU)
    with pytest.raises(ValueError, match="fp8"):
        resolve_amp("fp8", CPU)
    assert resolve_device("cpu") == CPU
    if not torch.cuda.is_available():
        assert resolve_device("auto") == CPU
        with pytest.raises(ValueError, match="no CUDA device"):
            resolve_device("cuda")
    with pytest.raises(ValueError, match="not a device"):
        resolve_device("gpu0")


# ----------------------------------------------------------------------------- optimiser, schedule, step


def test_make_optimizer_decays_every_parameter_with_the_cpu_kernel():
    m = _smoke()
    opt = make_optimizer(m, OptimSpec(lr=1e-3, weight_decay=0.07), CPU)
    assert opt.impl == "foreach" and len(opt.param_groups) == 1
    group = opt.param_groups[0]
    assert len(group["params"]) == sum(1 for p in m.parameters() if p.requires_grad)
    assert group["weight_decay"] == 0.07 and group["lr"] == 1e-3


def test_lr_schedule_by_hand():
    assert [lr_factor(s, 10, 2) for s in (0, 1)] == [0.5, 1.0]            # linear warm-up
    assert lr_factor(2, 10, 2) == pytest.approx(1.0)                      # cosine starts at 1
    assert lr_factor(6, 10, 2) == pytest.approx(0.5)                      # half way: cos(π/2)
    assert lr_factor(10, 10, 2) == pytest.approx(0.0, abs=1e-12)


def test_train_step_learns_a_fixed_batch():
    m = _smoke()
    st = build_train_step(m, OptimSpec(lr=1e-2, grad_clip=0.0), CPU)
    clip, labels = _batch()
    losses = [st(clip, labels)[0].item() for _ in range(12)]
    assert losses[0] == pytest.approx(math.log(7), abs=1e-5)             # zero-initialised head: uniform logits
    assert losses[-1] < losses[0] - 0.3
    assert st.precision == "fp32" and all(p.grad is None for p in m.parameters())   # set_to_none


def test_accumulating_two_half_batches_equals_one_full_batch():
    """Eq.: ∇ mean over 4 clips = ½ (∇ mean over clips 0–1 + ∇ mean over clips 2–3)."""
    clip, labels = _batch()
    a, b = _smoke(), _smoke()
    full = build_train_step(a, OptimSpec(lr=1e-3, grad_clip=0.0), CPU)
    half = build_train_step(b, OptimSpec(lr=1e-3, grad_clip=0.0, accum_steps=2), CPU)
    full(clip, labels)
    half(clip[:2], labels[:2], update=False)
    assert all(p.grad is not None for p in b.parameters() if p.requires_grad)   # accumulated, not stepped
    half(clip[2:], labels[2:], update=True)
    for (n, p), q in zip(a.named_parameters(), b.parameters()):
        assert torch.allclose(p, q, atol=1e-6), n


def test_non_finite_loss_stops_before_the_update():
    m = _smoke()
    st = build_train_step(m, OptimSpec(), CPU)
    clip, labels = _batch()
    before = [p.detach().clone() for p in m.parameters()]
    with pytest.raises(step_mod.NonFiniteLossError, match="nan"):
        st(clip * float("nan"), labels)
    assert all(torch.equal(p, q) for p, q in zip(before, m.parameters()))


def test_compiled_step_matches_eager():
    clip, labels = _batch(2, seed=2)
    a = build_train_step(_smoke(), OptimSpec(), CPU)
    b = build_train_step(_smoke(), OptimSpec(compile=True), CPU, compile_backend="eager")
    for _ in range(2):
        assert torch.allclose(a(clip, labels)[0], b(clip, labels)[0], atol=1e-5)
    assert b.compiled and not a.compiled


def test_bf16_stream_computes_in_bf16_and_updates_fp32_master_weights():
    """``amp="bf16-stream"``: every block sees and returns bf16 (no autocast), the parameters stay fp32 and get fp32
    gradients, and a step stays close to the fp32 step (bf16 rounding only)."""
    from smate_nb.model.vivit import EncoderBlock

    m = _smoke()
    torch.nn.init.normal_(m.head.weight, std=0.1)
    ref = _smoke()
    ref.load_state_dict(m.state_dict())
    st = build_train_step(m, OptimSpec(amp="bf16-stream"), CPU)
    assert isinstance(st.forward, step_mod.Bf16Stream) and st.precision == "bf16-stream" and st.amp_dtype is torch.bfloat16
    seen = []
    for mod in m.modules():
        if isinstance(mod, (EncoderBlock, torch.nn.LayerNorm, torch.nn.Linear)):
            mod.register_forward_hook(lambda mo, i, o: seen.append((i[0].dtype, o.dtype)))
    clip, labels = _batch()
    views, mix = torch.rand(4, 2, 8, 3, 32, 32), torch.tensor([True, False, True, False])
    loss, logits = st(clip, labels, views, mix, update=False)
    assert seen and all(a == b == torch.bfloat16 for a, b in seen) and logits.dtype == torch.bfloat16
    assert all(p.dtype == torch.float32 and p.grad.dtype == torch.float32 for p in m.parameters())
    ref_loss = torch.nn.functional.cross_entropy(ref(clip, views, mix=mix), labels)
    assert abs(loss.item() - ref_loss.item()) < 0.02 and loss.item() != ref_loss.item()
    st.optimizer.step()
    assert all(p.dtype == torch.float32 for p in m.parameters())


def test_bf16_stream_compiles_and_trains_through_fit(tmp_path):
    clip, labels = _batch(2, seed=2)
    a = build_train_step(_smoke(), OptimSpec(amp="bf16-stream"), CPU)
    b = build_train_step(_smoke(), OptimSpec(amp="bf16-stream", compile=True), CPU, compile_backend="eager")
    for _ in range(2):
        assert torch.allclose(a(clip, labels)[0], b(clip, labels)[0], atol=1e-5)
    res = fit(tiny_config(optim={"epochs": 2, "amp": "bf16-stream"}), data=tiny_data(), root=tmp_path, progress=False)
    assert res["step"]["precision"] == "bf16-stream" and res["config"]["optim"]["amp"] == "bf16-stream"
    losses = [h["train_loss"] for h in res["history"]]
    assert all(math.isfinite(x) for x in losses) and losses[-1] < losses[0]


def test_compile_mode_reaches_the_step_and_leaves_stored_keys_alone():
    from smate_nb.engine.specs import ExperimentConfig

    cfg = tiny_config()
    d = cfg.to_dict()
    assert d["optim"]["compile_mode"] == "default"
    # A config with the default mode hashes as the same config did before the field existed.
    d.pop("device")
    d.pop("tag")                                        # empty tags are left out too
    d["optim"].pop("compile_mode")
    for late in ("task", "train_subject_fraction"):     # data fields added later, left out at their defaults too
        d["data"].pop(late)
    d["preproc"].pop("mix_origin")                      # … and Eq. 7's z_origin reading, at the old behaviour
    import hashlib

    assert cfg.key() == hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]
    assert cfg.replace(data={"task": "rotation"}).key() != cfg.key()
    assert cfg.replace(data={"train_subject_fraction": 0.5}).key() != cfg.key()
    assert cfg.replace(preproc={"mix_origin": "original"}).key() != cfg.key()
    tuned = cfg.replace(optim={"compile": True, "compile_mode": "max-autotune"})
    assert tuned.key() != cfg.replace(optim={"compile": True}).key()
    assert ExperimentConfig.from_dict(json.loads(json.dumps(tuned.to_dict()))) == tuned
    st = build_train_step(_smoke(), tuned.optim, CPU, compile_backend="eager")
    assert st.settings()["compile_mode"] == "max-autotune" and st.compiled
    with pytest.raises(ConfigError, match="compile_mode"):
        cfg.replace(optim={"compile_mode": "fastest"}).validate()
    with pytest.raises(ConfigError, match="unless optim.compile"):          # a mode without compiling: refused
        cfg.replace(optim={"compile_mode": "max-autotune"}).validate()


def test_the_benchmark_times_the_step_fit_trains_with(tmp_path, monkeypatch):
    """One factory makes the step for fit and for time_train_step; their settings are the same."""
    made = []

    def spy(*args, **kwargs):
        st = step_mod.build_train_step(*args, **kwargs)
        made.append(st)
        return st

    assert loop.build_train_step is step_mod.build_train_step is tp.build_train_step
    monkeypatch.setattr(loop, "build_train_step", spy)
    monkeypatch.setattr(tp, "build_train_step", spy)
    cfg = tiny_config(optim={"epochs": 1})
    fit(cfg, data=tiny_data(), root=tmp_path, progress=False)
    tp.time_train_step(_smoke(), batch_size=2, optim=cfg.optim, device="cpu", steps=1, warmup=0)
    trained, timed = made
    assert type(trained) is type(timed) is TrainStep
    assert trained.settings() == timed.settings()
    assert trained.check_finite and not timed.check_finite              # the only difference: no NaN sync


# ----------------------------------------------------------------------------- input pipeline


def test_pipeline_views_eval_and_determinism():
    cfg = tiny_config(preproc={"augment": True, "lbp": True, "mix": True, "n_views": 2})
    batch = tiny_data()[0].items[0][0][None].repeat(3, 1, 1, 1, 1)              # [3, 8, 36, 36, 3] uint8
    clip, views = prepare_inputs(batch, cfg.data, cfg.preproc, True, torch.Generator().manual_seed(0))
    assert clip.shape == (3, 8, 3, 32, 32) and clip.dtype == torch.float32
    assert len(views) == 3 and all(v.shape == clip.shape for v in views)         # 2 augmented + LBP
    lbp = views[-1]
    assert torch.equal(lbp[:, :, 0], lbp[:, :, 1]) and (lbp * 255 - (lbp * 255).round()).abs().max() < 1e-4
    test_clip, none = prepare_inputs(batch, cfg.data, cfg.preproc, False)
    assert none is None and torch.allclose(test_clip[0], test_clip[1])
    again, _ = prepare_inputs(batch, cfg.data, cfg.preproc, True, torch.Generator().manual_seed(0))
    assert torch.equal(clip, again) and not torch.equal(clip[0], clip[1])        # seeded; one draw per clip


def test_pipeline_lbp_modes_and_mixing_without_augmentation():
    from smate_nb.preprocess.lbp import lbp_image
    from smate_nb.preprocess.augment import test_transform

    batch = tiny_data()[0].items[1][0][None].repeat(2, 1, 1, 1, 1)
    d = DataSpec(crop=32, resize=36, num_frames=8)
    base = test_transform(batch.permute(0, 1, 4, 2, 3), 32, 36)
    # LBP as the input representation: the same LBP image in training and in evaluation.
    pre = PreprocSpec(lbp=True, lbp_mode="input")
    for train in (True, False):
        clip, views = prepare_inputs(batch, d, pre, train, torch.Generator().manual_seed(0))
        assert views is None and torch.equal(clip, lbp_image(base))
    # LBP as a replacement with probability 1: every training clip is its LBP image; evaluation sees the original.
    rep = PreprocSpec(lbp=True, lbp_mode="replace", lbp_prob=1.0)
    assert torch.equal(prepare_inputs(batch, d, rep, True, torch.Generator())[0], lbp_image(base))
    assert torch.equal(prepare_inputs(batch, d, rep, False)[0], base)
    # Eq. 7 without augmentation: the original clip and its LBP view only.
    mix = PreprocSpec(lbp=True, mix=True, n_views=0)
    clip, views = prepare_inputs(batch, d, mix, True, torch.Generator())
    assert torch.equal(clip, base) and len(views) == 1 and torch.equal(views[0], lbp_image(base))


def test_eq7_origin_is_the_original_clip_or_an_augmented_one_as_the_reading_says():
    """``mix_origin="original"``: z_origin of Eq. 7 is the test transform of the stored clip and only the views are
    augmented; ``"augmented"`` (earlier versions): the origin is one more augmented draw. The views are the same
    draws either way except for the one the augmented origin takes first."""
    from smate_nb.preprocess.augment import test_transform

    batch = tiny_data()[0].items[1][0][None].repeat(3, 1, 1, 1, 1)
    d = DataSpec(crop=32, resize=36, num_frames=8)
    base = test_transform(batch.permute(0, 1, 4, 2, 3), 32, 36)
    orig = PreprocSpec(augment=True, lbp=True, mix=True, n_views=2, mix_origin="original")
    clip, views = prepare_inputs(batch, d, orig, True, torch.Generator().manual_seed(0))
    assert torch.equal(clip, base) and len(views) == 3
    assert all(not torch.equal(v, base) for v in views[:2])                    # the augmented views stay augmented
    aug = replace(orig, mix_origin="augmented")
    clip_a, _ = prepare_inputs(batch, d, aug, True, torch.Generator().manual_seed(0))
    assert not torch.equal(clip_a, base)
    assert torch.equal(prepare_inputs(batch, d, orig, False)[0], base)          # evaluation: the original either way
    with pytest.raises(ValueError, match="mix_origin"):
        ExperimentConfig(preproc=replace(orig, mix_origin="both")).validate()


def test_pipeline_stage_clock():
    ticks = iter(range(100))
    pipe = InputPipeline(DataSpec(crop=32, resize=36), PreprocSpec(augment=True, mix=True, n_views=1, lbp=True),
                         clock=lambda: float(next(ticks)))
    pipe(torch.randint(0, 256, (2, 8, 36, 36, 3), dtype=torch.uint8), True, torch.Generator())
    assert pipe.stage_times == {"to_float+test": 1.0, "augment": 1.0, "lbp": 1.0} and pipe.views_per_clip == 2


# ----------------------------------------------------------------------------- config validation (issue 12, case 9)


@pytest.mark.parametrize("sections, field", [
    ({"optim": {"epochs": 0}}, "optim.epochs"),
    ({"optim": {"batch_size": 0}}, "optim.batch_size"),
    ({"optim": {"batch_size": -4}}, "optim.batch_size"),
    ({"optim": {"accum_steps": 0}}, "optim.accum_steps"),
    ({"optim": {"amp": "fp8"}}, "optim.amp"),
    ({"optim": {"lr": float("nan")}}, "optim.lr"),
    ({"preproc": {"mix": True, "n_views": 0}}, "preproc.n_views"),
    ({"preproc": {"mix": True, "n_views": 2}}, "preproc.n_views"),          # views without augmentation
    ({"preproc": {"lbp_mode": "stack"}}, "preproc.lbp_mode"),
    ({"preproc": {"augment": True, "augment_overrides": (("crop_scale", (0.9, 1.2)),)}}, "augment_overrides"),
    ({"data": {"crop": 30}}, "data.crop"),                                   # not a multiple of the 8-px patch
    ({"data": {"resize": 20}}, "data.resize"),
    ({"data": {"test_fold": 5, "folds": 2}}, "data.test_fold"),
    ({"model": {"overrides": (("tpe_alpha", "abc"),)}}, "tpe_alpha"),
    ({"model": {"overrides": (("tpe_alpha", -1.0),)}}, "tpe_alpha"),
    ({"model": {"overrides": (("tpe_mode", "rope"),)}}, "tpe_mode"),
    ({"model": {"overrides": (("no_such_field", 1),)}}, "no_such_field"),
    ({"model": {"arch": "vivit_huge"}}, "model.arch"),
    ({"model": {"arch": "resnet50"}}, "model.arch"),
    ({"seed": -1}, "seed"),
    ({"device": "tpu"}, "device"),
])
def test_invalid_configs_are_refused_before_anything_is_written(tmp_path, sections, field):
    cfg = tiny_config(**sections)
    with pytest.raises(ValueError, match=field.replace(".", r"\.")):
        fit(cfg, data=tiny_data(), root=tmp_path, progress=False)
    assert not any(tmp_path.iterdir())


def test_device_and_precision_that_cannot_run_here_are_refused_first(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    for sections, what in [({"device": "cuda"}, "no CUDA device"), ({"optim": {"amp": "fp16"}}, "fp16")]:
        with pytest.raises(ValueError, match=what):
            fit(tiny_config(**sections), data=tiny_data(), root=tmp_path, progress=False)
    assert not any(tmp_path.iterdir())


def test_replace_refuses_unknown_sections_and_fields():
    with pytest.raises(ConfigError, match="no field.*epoch"):
        tiny_config(optim={"epoch": 3})
    with pytest.raises(ConfigError, match="no section"):
        tiny_config(optimiser={"epochs": 3})


def test_smate_threads_must_be_an_integer(monkeypatch):
    from smate_nb.config import configure_threads

    monkeypatch.setenv("SMATE_THREADS", "abc")
    with pytest.raises(ValueError, match="SMATE_THREADS='abc'"):
        configure_threads()


# ----------------------------------------------------------------------------- stored results and checkpoints (case 10)


@pytest.mark.parametrize("content", ["", '{"key": ', "{}", "[]"])
def test_damaged_result_is_moved_aside_loudly_and_retrained(tmp_path, content):
    cfg = tiny_config(optim={"epochs": 1})
    good = fit(cfg, data=tiny_data(), root=tmp_path, progress=False)
    path = tmp_path / cfg.key() / "result.json"
    path.write_text(content)
    with pytest.warns(RuntimeWarning, match="stored result is not valid.*moved aside"):
        again = fit(cfg, data=tiny_data(), root=tmp_path, progress=False)
    assert not again["reused"] and again["metrics"] == good["metrics"]
    assert len(list((tmp_path / cfg.key()).glob("result.json.corrupt-*"))) == 1


def test_stored_result_is_reused_and_flagged(tmp_path):
    cfg = tiny_config(optim={"epochs": 1})
    first = fit(cfg, data=tiny_data(), root=tmp_path, progress=False)
    second = fit(cfg, data=tiny_data(), root=tmp_path, progress=False)
    assert first["reused"] is False and second["reused"] is True
    assert "reused" not in json.loads((tmp_path / cfg.key() / "result.json").read_text())


def _interrupted_run(tmp_path, cfg):
    def stop(epoch, model):
        if epoch == 1:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        fit(cfg, data=tiny_data(), root=tmp_path, progress=False, on_epoch_end=stop)
    return tmp_path / cfg.key() / "ckpt"


def test_corrupt_checkpoint_is_said_loudly_and_kept_aside(tmp_path):
    cfg = tiny_config()
    ckpt = _interrupted_run(tmp_path, cfg)
    blob = bytearray((ckpt / "model.safetensors").read_bytes())
    blob[-1] ^= 0xFF
    (ckpt / "model.safetensors").write_bytes(bytes(blob))
    assert checkpoint_status(ckpt)[0] == "corrupt"
    with pytest.warns(RuntimeWarning, match="checkpoint is damaged.*restarts from epoch 0.*moved aside"):
        r = fit(cfg, data=tiny_data(), root=tmp_path, progress=False)
    assert r["resumed_from_epoch"] is None and len(r["history"]) == 3
    assert len(list((tmp_path / cfg.key()).glob("ckpt.corrupt-*"))) == 1


def test_an_edited_epoch_counter_is_not_trusted(tmp_path):
    cfg = tiny_config()
    ckpt = _interrupted_run(tmp_path, cfg)
    state = json.loads((ckpt / "state.json").read_text())
    state["epoch"] = 2                                    # tensors still match their digest; the counter was edited
    (ckpt / "state.json").write_text(json.dumps(state))
    status, why = checkpoint_status(ckpt)
    assert status == "corrupt" and "digest" in why
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        r = fit(cfg, data=tiny_data(), root=tmp_path, progress=False)
    assert r["resumed_from_epoch"] is None


def test_resume_records_where_it_started(tmp_path):
    cfg = tiny_config()
    _interrupted_run(tmp_path, cfg)
    r = fit(cfg, data=tiny_data(), root=tmp_path, progress=False)
    assert r["resumed_from_epoch"] == 2 and len(r["history"]) == 3


def test_learning_curve_scoring_does_not_change_training(tmp_path):
    plain = fit(tiny_config(), data=tiny_data(), root=tmp_path / "a", progress=False)
    curve = fit(tiny_config(optim={"eval_every": 1}), data=tiny_data(), root=tmp_path / "b", progress=False)
    assert [h["train_loss"] for h in plain["history"]] == [h["train_loss"] for h in curve["history"]]
    assert plain["predictions"] == curve["predictions"]
    assert [h["test_war"] for h in curve["history"]][-1] == curve["metrics"]["war"]
    assert all(0 <= h["test_war"] <= 1 for h in curve["history"]) and "test_war" not in plain["history"][0]


def test_config_round_trips_through_its_stored_dict():
    from smate_nb.engine.specs import ExperimentConfig

    cfg = tiny_config(preproc={"augment": True, "augment_overrides": (("crop_scale", (0.9, 1.0)),)},
                      model={"overrides": (("tpe_alpha", 2.0),)}, data={"train_starts": (0.0, 0.25)})
    back = ExperimentConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert back == cfg and back.key() == cfg.key()


def test_a_stored_run_is_scored_again_at_another_clip_length(tmp_path, monkeypatch):
    from smate_nb.engine import evaluation

    r = fit(tiny_config(), data=tiny_data(), root=tmp_path, progress=False)
    model, cfg = evaluation.load_trained(r, tmp_path)
    same = evaluation.predict(model, tiny_data()[1], cfg.data, CPU)
    assert same[1].tolist() == r["predictions"]["y_pred"]                    # the final weights, reloaded
    longer, _ = evaluation.load_trained(r, tmp_path, num_frames=16)
    assert longer.config.num_frames == 16 and longer.temporal_position.length == 8


def test_frames_shuffled_permutes_each_clip_the_same_way_on_every_read():
    from smate_nb.engine.evaluation import FramesShuffled

    clips = [(np.arange(8 * 2 * 2 * 1, dtype=np.uint8).reshape(8, 2, 2, 1) + 10 * i, i) for i in range(3)]
    shuffled = FramesShuffled(clips, seed=4)
    assert len(shuffled) == 3
    for i, (clip, label) in enumerate(clips):
        a, lab = shuffled[i]
        order = torch.randperm(8, generator=torch.Generator().manual_seed(4 + i))      # the documented order
        assert lab == label and torch.equal(a, torch.as_tensor(clip)[order])
        assert torch.equal(a, shuffled[i][0])                                          # the same on every read
        assert not torch.equal(a, torch.as_tensor(clip))                               # and not the identity here


def test_augmentation_displacement_against_hand_made_clips():
    """Hand-made clips: each clip is its own random texture, whose last frame adds 0.2 to one quarter of the
    frame (mean |last − first| = 0.05 of full scale). Without augmentation the training clip is the test clip
    (nothing moved, every clip its own best match); a random shift of the texture moves pixels by far more than
    the expression and makes clips unrecognisable."""
    from smate_nb.engine.inputs import augmentation_displacement
    from smate_nb.engine.specs import DataSpec, PreprocSpec

    g = torch.Generator().manual_seed(0)
    B, T, S = 6, 4, 32
    tex = (torch.rand(B, 1, S, S, 1, generator=g) * 0.5 + 0.25).expand(B, T, S, S, 3).clone()
    tex[:, -1, : S // 2, : S // 2] += 0.2
    clips = (tex * 255).round().to(torch.uint8)
    data = DataSpec(resize=32, crop=32)
    plain = augmentation_displacement(clips, data, PreprocSpec())
    assert plain["augmentation"] == 0.0 and plain["self_match"] == 1.0
    assert plain["expression"] == pytest.approx(0.05, abs=2 / 255)
    shifted = augmentation_displacement(clips, data, PreprocSpec(augment=True, augment_overrides=(
        ("crop_scale", (0.75, 0.75)), ("flip_p", 0.0), ("rotate_p", 0.0), ("jitter_p", 0.0), ("gray_p", 0.0))),
        generator=torch.Generator().manual_seed(1))
    assert shifted["ratio"] > 1.5 and shifted["self_match"] < 1.0
    with pytest.raises(ValueError, match="B ≥ 2"):
        augmentation_displacement(clips[:1], data, PreprocSpec())
