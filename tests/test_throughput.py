"""The fast training step, its timing, memory and MFU arithmetic, the data pipeline, and the benchmark CLI.

No timing thresholds: these tests check structure, arithmetic and behaviour, never how fast this machine is.
"""
import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from smate_nb import paper
from smate_nb import throughput as tp
from smate_nb.cost import count_macs
from smate_nb.model import build_vivit

REPO = Path(__file__).resolve().parent.parent


def _smoke(crop=32, **kw):
    torch.manual_seed(0)
    return build_vivit("vivit_smoke_fe", num_frames=8, image_size=crop, num_classes=7, **kw)


# ----------------------------------------------------------------------------- peaks and MFU


@pytest.mark.parametrize("name,key,tflops", [
    ("NVIDIA H100 80GB HBM3", "H100 SXM", 989.4),      # what the H100 device machine reports
    ("NVIDIA H100 PCIe", "H100 PCIe", 756.5),
    ("NVIDIA H100 NVL", "H100 NVL", 835.5),
    ("NVIDIA H200", "H200 SXM", 989.4),
    ("NVIDIA H200 NVL", "H200 NVL", 835.5),
    ("NVIDIA A100-SXM4-80GB", "A100", 312.0),
    ("NVIDIA A100 80GB PCIe", "A100", 312.0),
    ("NVIDIA RTX A6000", "RTX A6000", 154.8),
])
def test_peak_lookup_by_device_name(name, key, tflops, monkeypatch):
    monkeypatch.delenv("SMATE_PEAK_TFLOPS", raising=False)
    flops, row = tp.device_peak_flops(name)
    assert row == key and flops == pytest.approx(tflops * 1e12)
    assert key in tp.PEAK_SOURCES


def test_peak_unknown_override_and_env(monkeypatch):
    monkeypatch.delenv("SMATE_PEAK_TFLOPS", raising=False)
    assert tp.device_peak_flops("NVIDIA GeForce RTX 4090") == (None, None)
    assert tp.device_peak_flops("Intel(R) Xeon(R) Processor @ 2.80GHz") == (None, None)
    assert tp.device_peak_flops("NVIDIA H100 80GB HBM3", override_tflops=500) == (500e12, "override")
    monkeypatch.setenv("SMATE_PEAK_TFLOPS", "123.5")
    assert tp.device_peak_flops("NVIDIA RTX A6000") == (123.5e12, "override")
    with pytest.raises(ValueError):
        tp.device_peak_flops("x", override_tflops=0)


def test_mfu_arithmetic_by_hand():
    assert tp.training_flops_per_clip(1e9) == 6e9                      # 3 passes × 2 FLOPs per MAC
    # 10 clips/s of ViViT-B at 224² (142.6 GMACs) on an H100 SXM: 10 × 6 × 142.6e9 / 989.4e12
    assert tp.mfu(10, 142.6e9, 989.4e12) == pytest.approx(8.556e12 / 989.4e12)
    assert tp.mfu(10, 142.6e9, 989.4e12) == pytest.approx(0.0086477, rel=1e-4)
    assert math.isnan(tp.mfu(10, 1e9, None))
    # The paper's A6000 at 224², if its batch were 32: 20.3 steps/min → 10.8267 clips/s → 5.98 % MFU.
    i = paper.TABLE5["crop"].index(224)
    cps = paper.TABLE5["steps_per_min"][i] / 60 * 32
    a6000 = tp.device_peak_flops("NVIDIA RTX A6000")[0]
    assert tp.mfu(cps, paper.TABLE5["gflops"][i] * 1e9, a6000) == pytest.approx(0.05984, rel=1e-3)


def test_step_timing_mfu_matches_the_formula():
    t = tp.StepTiming(batch_size=8, num_frames=16, image_size=224, n_views=0, device="cuda", device_name="x",
                      precision="bf16", compiled=False, optimizer_impl="fused", warmup_s=[9.0],
                      step_s=[0.5, 0.4, 0.6, 0.45, 2.0], peak_memory_bytes=1, memory_kind="cuda_max_allocated",
                      baseline_memory_bytes=0, final_loss=1.0, params=1)
    assert (t.median_s, t.min_s, t.max_s) == (0.5, 0.4, 2.0)          # median ignores the slow outlier
    assert t.steps_per_min == pytest.approx(120.0) and t.clips_per_s == pytest.approx(16.0)
    assert t.achieved_tflops(1e11) == pytest.approx(16 * 6e11 / 1e12)
    assert t.mfu(1e11, 989.4e12) == pytest.approx(16 * 6e11 / 989.4e12)
    s = t.summary()
    assert s["clips_per_s"] == t.clips_per_s and s["warmup_s"] == [9.0]


# ----------------------------------------------------------------------------- memory


def test_peak_memory_sees_an_allocation_and_resets(tmp_path):
    with tp.PeakMemory("cpu") as pm:
        block = np.ones(40_000_000)                                    # 320 MB, touched
        block.sum()
        del block
    if pm.kind != "rss_peak":
        pytest.skip("this kernel does not let a process reset its RSS high-water mark")
    assert pm.peak_bytes - pm.baseline_bytes >= 250e6
    with tp.PeakMemory("cpu") as small:                                # the earlier peak must not leak in
        np.ones(1000).sum()
    assert small.peak_bytes - small.baseline_bytes < 100e6
    assert small.peak_bytes < pm.peak_bytes


# ----------------------------------------------------------------------------- timing the engine's step


def test_time_train_step_structure():
    m = _smoke()
    before = m.head.weight.detach().clone()
    t = tp.time_train_step(m, batch_size=2, device="cpu", steps=3, warmup=1, n_views=2)
    assert t.optimizer_impl == "foreach"                               # the engine's CPU optimiser
    assert len(t.step_s) == 3 and len(t.warmup_s) == 1 and all(s > 0 for s in t.step_s)
    assert t.min_s <= t.median_s <= t.max_s
    assert t.steps_per_min == pytest.approx(60 / t.median_s) and t.clips_per_s == pytest.approx(2 / t.median_s)
    assert (t.num_frames, t.image_size, t.n_views, t.precision) == (8, 32, 2, "fp32")
    assert t.memory_kind.startswith("rss_peak") and t.peak_memory_bytes >= t.baseline_memory_bytes > 0
    assert math.isfinite(t.final_loss) and t.params == sum(p.numel() for p in m.parameters())
    assert not torch.equal(before, m.head.weight)                      # the steps trained the model
    json.dumps(t.summary())                                             # JSON-able
    with pytest.raises(ValueError):
        tp.time_train_step(m, batch_size=2, steps=0)


# ----------------------------------------------------------------------------- profiling


def test_op_categories():
    assert tp.op_category("aten::addmm") == "matrix products"
    assert tp.op_category("aten::mm") == "matrix products"
    assert tp.op_category("aten::_scaled_dot_product_flash_attention_for_cpu") == "attention"
    assert tp.op_category("aten::_fused_adamw_") == "optimizer"
    assert tp.op_category("aten::convolution_backward") == "convolution (tubelet)"
    assert tp.op_category("aten::native_layer_norm") == "layer norm"
    assert tp.op_category("aten::gelu_backward") == "GELU"
    assert tp.op_category("aten::copy_") == "copies / layout"


def test_profile_train_step():
    from smate_nb.engine.specs import OptimSpec
    from smate_nb.engine.step import build_train_step

    step = build_train_step(_smoke(), OptimSpec(), torch.device("cpu"), check_finite=False)
    prof = tp.profile_train_step(step, tp.random_batch(2, 8, 32), steps=2, warmup=1, top=5)
    cats = {c["category"] for c in prof["categories"]}
    assert {"matrix products", "attention", "optimizer"} <= cats
    assert sum(c["share"] for c in prof["categories"]) == pytest.approx(1.0)
    ms = [o["ms_per_step"] for o in prof["ops"]]
    assert len(ms) == 5 and ms == sorted(ms, reverse=True)
    assert prof["timer"] == "cpu" and math.isnan(prof["device_busy"]) and prof["wall_ms_per_step"] > 0


# ----------------------------------------------------------------------------- data pipeline


def test_time_data_pipeline_counts_and_sources():
    from smate_nb.engine.inputs import InputPipeline
    from smate_nb.engine.specs import DataSpec, PreprocSpec

    pipe = InputPipeline(DataSpec(crop=32, resize=37), PreprocSpec(augment=True, mix=True, n_views=1, lbp=True,
                                                                   lbp_variant="3x3"))
    seen = []
    pt = tp.time_data_pipeline(tp.synthetic_clips(4, 3, 8, 37), pipe, device="cpu", warmup=1,
                               sink=lambda c, v: seen.append((c.shape, len(v))))
    assert (pt.batches, pt.clips, pt.views_per_clip) == (3, 9, 2) and len(seen) == 4
    assert seen[0] == (torch.Size([3, 8, 3, 32, 32]), 2)
    assert pt.clips_per_s == pytest.approx(9 / pt.wall_s)
    assert pt.wall_s >= sum(pt.stage_s.values()) and set(pt.stage_s) == {"to_float+test", "augment", "lbp"}
    s = pt.summary()
    assert set(s["stage_clips_per_s"]) == set(pt.stage_s) and s["device_clips_per_s"] >= s["clips_per_s"]
    # (clips, labels) pairs as a DataLoader yields them, through any callable pipeline
    pairs = [(b, torch.zeros(b.shape[0], dtype=torch.long)) for b in tp.synthetic_clips(3, 2, 8, 37)]
    other = tp.time_data_pipeline(pairs, lambda x, g: (x.float(), None), device="cpu", warmup=1)
    assert other.clips == 4 and set(other.stage_s) == {"pipeline"}
    with pytest.raises(ValueError):
        tp.time_data_pipeline(tp.synthetic_clips(1, 2, 8, 37), pipe, device="cpu", warmup=1)


def test_to_device_and_synthetic_clips():
    batches = list(tp.synthetic_clips(3, 2, 4, 16, pool=2))
    assert len(batches) == 3 and batches[0].dtype == torch.uint8 and batches[0].shape == (2, 4, 16, 16, 3)
    assert batches[2] is batches[0]                                    # cycled from the pool: no RNG in the timing
    assert tp.to_device(batches[0], "cpu") is batches[0]


# ----------------------------------------------------------------------------- benchmark CLI


def test_benchmark_cli_writes_json(tmp_path):
    spec = importlib.util.spec_from_file_location("bench_throughput", REPO / "benchmarks" / "throughput.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "tp.json"
    rc = bench.main(["--model", "vivit_smoke_fe", "--tubelet", "2", "16", "16", "--crops", "64", "--frames", "8",
                     "--batch-size", "2", "--steps", "2", "--warmup", "1", "--views", "1", "--lbp", "3x3",
                     "--pipeline-batches", "2", "--device", "cpu", "--out", str(out)])
    assert rc == 0
    doc = json.loads(out.read_text())                                  # strict JSON (NaN → null)
    assert doc["device"]["device"] == "cpu" and doc["peak_flops"] is None
    (r,) = doc["results"]
    m = build_vivit("vivit_smoke_fe", num_frames=8, image_size=64, num_classes=7, tubelet=(2, 16, 16))
    assert r["crop"] == 64 and r["resize"] == 73 and r["macs_per_clip"] == count_macs(m, 8, 64)
    assert r["model_step"]["n_views"] == 2 == r["pipeline"]["views_per_clip"]   # 1 view + LBP on both sides
    assert len(r["model_step"]["step_s"]) == 2 and r["model_step"]["mfu"] is None
    assert r["pipeline"]["clips"] == 4 and r["bound_by"] in ("data pipeline", "model step")
    assert r["serial_clips_per_s"] == pytest.approx(
        1 / (1 / r["pipeline"]["clips_per_s"] + 1 / r["model_step"]["clips_per_s"]))


def test_time_train_step_records_a_loss_curve_over_a_cycled_pool():
    """``batches`` cycles a fixed pool (the loss falls as the model fits it); ``record_losses`` keeps every step's."""
    m = _smoke()
    torch.nn.init.normal_(m.head.weight, std=0.1)
    t = tp.time_train_step(m, batch_size=4, optim=tp.OptimSpec(lr=3e-3), device="cpu", steps=12, warmup=2,
                           batches=2, record_losses=True)
    assert len(t.losses) == 14 and t.losses[-1] == pytest.approx(t.final_loss)
    assert sum(t.losses[-4:]) < sum(t.losses[:4])                     # two batches of random labels: memorised
    # The same seeds give the same curve (the pool, the mixes and the model are all seeded).
    again = _smoke()
    torch.nn.init.normal_(again.head.weight, std=0.1)
    u = tp.time_train_step(again, batch_size=4, optim=tp.OptimSpec(lr=3e-3), device="cpu", steps=12, warmup=2,
                           batches=2, record_losses=True)
    assert u.losses == t.losses
    with pytest.raises(ValueError, match="batches"):
        tp.time_train_step(m, batch_size=2, steps=1, batches=0)
