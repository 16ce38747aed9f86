"""Engine: stored results, determinism, resume after interrupt, NaN handling, input pipeline."""
import json

import pytest
import torch
from safetensors.torch import load_file

from smate_nb.train import NonFiniteLossError, fit, prepare_inputs

from _engine_fixtures import tiny_config, tiny_data


def test_fit_stores_result_and_reuses_it(tmp_path):
    cfg = tiny_config()
    r = fit(cfg, data=tiny_data(), root=tmp_path, progress=False)
    stored = json.loads((tmp_path / cfg.key() / "result.json").read_text())
    assert stored["key"] == cfg.key() and len(stored["history"]) == 3
    m = stored["metrics"]
    assert set(m) >= {"war", "uar", "war_ci", "uar_ci", "per_class_recall", "confusion"}
    assert sum(map(sum, m["confusion"])) == 12 and r["metrics"] == m
    assert stored["versions"]["torch"].startswith("2.13") and "cpu" in stored["device"]

    def boom(epoch, model):
        raise AssertionError("a stored result must not be retrained")
    assert fit(cfg, data=tiny_data(), root=tmp_path, progress=False, on_epoch_end=boom)["metrics"] == m


def test_training_is_deterministic_and_learns(tmp_path):
    cfg = tiny_config(optim={"epochs": 6})
    a = fit(cfg, data=tiny_data(), root=tmp_path / "a", progress=False)
    b = fit(cfg, data=tiny_data(), root=tmp_path / "b", progress=False)
    assert a["history"][-1]["train_loss"] == b["history"][-1]["train_loss"]
    assert a["predictions"] == b["predictions"] and a["metrics"]["war"] == b["metrics"]["war"]
    assert a["history"][-1]["train_loss"] < a["history"][0]["train_loss"]


def test_resume_after_interrupt_matches_uninterrupted_run(tmp_path):
    cfg = tiny_config()
    ref = fit(cfg, data=tiny_data(), root=tmp_path / "ref", progress=False)

    def interrupt(epoch, model):
        if epoch == 1:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        fit(cfg, data=tiny_data(), root=tmp_path / "run", progress=False, on_epoch_end=interrupt)
    state = json.loads((tmp_path / "run" / cfg.key() / "ckpt" / "state.json").read_text())
    assert state["epoch"] == 1 and not (tmp_path / "run" / cfg.key() / "result.json").exists()
    seen = []
    resumed = fit(cfg, data=tiny_data(), root=tmp_path / "run", progress=False,
                  on_epoch_end=lambda e, m: seen.append(e))
    assert seen == [2]                                     # only the missing epoch was trained
    assert [h["train_loss"] for h in resumed["history"]] == [h["train_loss"] for h in ref["history"]]
    assert resumed["predictions"] == ref["predictions"]


def test_nan_loss_stops_with_message_and_keeps_last_good_checkpoint(tmp_path):
    cfg = tiny_config()

    def poison(epoch, model):
        if epoch == 0:
            with torch.no_grad():
                model.tokenizer.proj.weight.fill_(float("nan"))
    with pytest.raises(NonFiniteLossError, match=r"epoch 2, batch 1.*after epoch 1.*lr"):
        fit(cfg, data=tiny_data(), root=tmp_path, progress=False, on_epoch_end=poison)
    ckpt = tmp_path / cfg.key() / "ckpt"
    assert json.loads((ckpt / "state.json").read_text())["epoch"] == 0
    weights = load_file(str(ckpt / "model.safetensors"))
    assert all(torch.isfinite(v).all() for v in weights.values())
    # A plain re-run resumes from that good checkpoint and completes.
    assert len(fit(cfg, data=tiny_data(), root=tmp_path, progress=False)["history"]) == 3


def test_prepare_inputs_views_and_eval():
    cfg = tiny_config(preproc={"augment": True, "lbp": True, "mix": True, "n_views": 2})
    batch = tiny_data()[0].items[0][0][None].repeat(3, 1, 1, 1, 1)          # [3, 8, 36, 36, 3] uint8
    g = torch.Generator().manual_seed(0)
    clip, views = prepare_inputs(batch, cfg.data, cfg.preproc, train=True, generator=g)
    assert clip.shape == (3, 8, 3, 32, 32) and clip.dtype == torch.float32
    assert len(views) == 3 and all(v.shape == clip.shape for v in views)     # 2 augmented + LBP
    lbp = views[-1]
    assert torch.equal(lbp[:, :, 0], lbp[:, :, 1]) and (lbp * 255 - (lbp * 255).round()).abs().max() < 1e-4
    test_clip, none = prepare_inputs(batch, cfg.data, cfg.preproc, train=False)
    assert none is None and torch.allclose(test_clip[0], test_clip[1])
    clip2, _ = prepare_inputs(batch, cfg.data, cfg.preproc, train=True, generator=torch.Generator().manual_seed(0))
    assert torch.equal(clip, clip2)                                          # seeded draws
    assert not torch.equal(clip[0], clip[1])                                 # one draw per clip


def test_config_key_is_stable_and_sensitive():
    a, b = tiny_config(), tiny_config()
    assert a.key() == b.key() and len(a.key()) == 16
    assert a.key() != a.replace(seed=1).key()
    assert a.key() != a.replace(preproc={"mix": True}).key()
    assert a.key() == a.replace(device="cuda").key()                         # device does not change the key


def test_frame_cnn_baseline_trains_through_the_same_engine(tmp_path):
    from smate_nb.model.framecnn import build_framecnn

    net = build_framecnn("framecnn_smoke", num_classes=3)
    x = torch.rand(2, 8, 3, 32, 32)
    assert net(x).shape == (2, 3)
    # No temporal order: the frame CNN is invariant to shuffling frames (eval mode, BatchNorm frozen).
    net.eval()
    assert torch.allclose(net(x), net(x[:, torch.randperm(8)]), atol=1e-5)
    cfg = tiny_config(model={"arch": "framecnn_smoke", "temporal_position": "learned"}, optim={"epochs": 4})
    r = fit(cfg, data=tiny_data(), root=tmp_path, progress=False)
    assert r["history"][-1]["train_loss"] < r["history"][0]["train_loss"]


def test_synthfer_generator_version_is_part_of_the_key(monkeypatch):
    import smate_nb.data.synthfer as sf

    cfg = tiny_config(data={"dataset": "synthfer-lab"})
    before = cfg.key()
    monkeypatch.setattr(sf, "GENERATOR_VERSION", sf.GENERATOR_VERSION + ".test")
    assert cfg.key() != before
    assert tiny_config().key() == tiny_config().key()        # custom data: no generator involved
