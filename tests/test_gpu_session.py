"""benchmarks/gpu_session.sh and benchmarks/gpu_engine_check.py end to end on CPU (the GPU run is the same code)."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _env(tmp: Path, **extra: str) -> dict:
    return {**os.environ, "PYTHON": sys.executable, "SMATE_CHECK_DEVICE": "cpu", "SMATE_CHECK_EPOCHS": "2",
            "SMATE_DATA": str(tmp / "data"), "SMATE_CACHE": str(tmp / "cache"), "SMATE_RUNS": str(tmp / "runs"),
            "OMP_NUM_THREADS": "1", "SMATE_THREADS": "1", **extra}


def test_engine_check_passes_on_cpu(tmp_path):
    out = tmp_path / "engine.json"
    r = subprocess.run([sys.executable, str(REPO / "benchmarks" / "gpu_engine_check.py"), str(out)],
                       env=_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    doc = json.loads(out.read_text())
    checks = doc["checks"]
    assert doc["ok"] and set(checks) == {"prepare_inputs_parity", "fit_bf16_mixed_tokens", "interrupt_and_resume",
                                     "ddp_torchrun"}
    assert all(c["ok"] for c in checks.values())
    assert checks["ddp_torchrun"]["nproc"] == 2 and checks["ddp_torchrun"]["ranks_agree"]   # gloo on CPU
    # On CPU the "device" copy of the evaluation transform is the same computation: exactly equal.
    assert checks["prepare_inputs_parity"]["eval_transform_max_abs_diff"] == 0.0
    assert len(checks["prepare_inputs_parity"]["train_views"]) == 3          # 2 augmented views + the LBP view
    fit_ = checks["fit_bf16_mixed_tokens"]
    assert fit_["stored_result_reused"] and len(fit_["train_loss_by_epoch"]) == 2 and not fit_["bf16_autocast"]
    resume = checks["interrupt_and_resume"]
    assert resume["identical_losses"] and resume["identical_predictions"]  # CPU: bit-exact resume
    assert doc["config"]["preproc"]["mix"] and doc["config"]["preproc"]["lbp"]


def test_gpu_session_runs_every_step_on_cpu(tmp_path):
    out = tmp_path / "out"
    env = _env(tmp_path, OUT=str(out), SMATE_CHECK_PROFILE="smoke", SMATE_CHECK_PARAMS="crops=[64] timed_steps=1",
               SMATE_SESSION_BATCH2="3", SMATE_CHECK_EPOCHS="1", SMATE_SESSION_TABLES_PROFILE="smoke",
               SMATE_SESSION_TABLES_EPOCHS="1", SMATE_SESSION_PRETRAIN_EPOCHS="1", SMATE_SESSION_BUDGET_S="100000",
               SMATE_SESSION_STEP_SPEED_ARGS=" ".join(TINY_STEP_SPEED))
    r = subprocess.run(["bash", str(REPO / "benchmarks" / "gpu_session.sh")], env=env, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert ("gpu_session: cuda tests 0, engine check 0, table 5 notebook 0, second batch 0, tables subset 0, "
            "step speed 0") in r.stdout
    files = {p.name for p in out.iterdir()}
    assert len(files) <= 8 and {"table5.md", "table5.json", "gpu_check.log"} <= files   # the tool returns ≤ 8
    md = (out / "table5.md").read_text()
    assert "# Second pass: batch 3 at 224²" in md and md.count("## table5_throughput") == 2
    assert "# Step 5: Tables 2 and 4, one fold — profile `smoke`" in md and md.count("| table4 |") == 4
    # Both corpora of the subset (the rows' and the stand-in's, data seed 1) rendered before any training, with a rate.
    for seed in (0, 1):
        assert re.search(rf"SynthFER data `synthfer-lab` at 64² \(8 subjects, data seed {seed}\): \d+ frames rendered "
                         r"in [\d.]+ s wall on \d+ processes = \*\*\d+ frames/s\*\*", md), seed
    log = (out / "gpu_check.log").read_text()
    assert "== 1. CUDA tests" in log and "== engine_check.json" in log and '"ok": true' in log
    assert "== tables_subset.json" in log and '"multi_gpu_sweep": "skipped' in log
    assert "# Step 6: Step-speed candidates — vivit_smoke_fe" in md and "== step_speed.json" in log
    assert md.count("**keep**") + md.count("**drop**") == 6                 # 3 eager + 3 compiled candidates


TINY_STEP_SPEED = ["--device", "cpu", "--arch", "vivit_smoke_fe", "--frames", "8", "--image-size", "32", "--batch", "2",
                   "--steps", "4", "--warmup", "1", "--compile-backend", "eager"]


def _step_speed():
    import importlib.util

    spec = importlib.util.spec_from_file_location("gpu_step_speed", REPO / "benchmarks" / "gpu_step_speed.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod                  # its dataclass needs the module registered
    spec.loader.exec_module(mod)
    return mod


def test_step_speed_rows_curves_and_decisions_on_cpu(tmp_path):
    mod = _step_speed()
    assert mod.main([*TINY_STEP_SPEED, "--no-compile", "--out", str(tmp_path)]) == 0
    doc = json.loads((tmp_path / "step_speed.json").read_text())
    rows = {(r["mode"], r["name"]): r for r in doc["rows"]}
    assert [r["role"] for r in doc["rows"]] == ["before", "noise", "candidate", "candidate", "candidate", "after"]
    assert all(len(r["losses"]) == 5 for r in doc["rows"] if r["status"] == "ok")   # warm-up + timed steps
    # The two memory-layout changes compute the same function: on the CPU their curves equal the before curve.
    assert rows[("eager", "q/k/v split unbind")]["mean_abs_dloss"] == 0.0
    assert rows[("eager", "fused add + LayerNorm")]["mean_abs_dloss"] == 0.0
    assert 0 < rows[("eager", "bf16 residual stream")]["mean_abs_dloss"] < doc["seed_noise_mean_abs_dloss"]
    assert {r["decision"] for r in doc["rows"] if r["role"] == "candidate"} <= {"keep", "drop"}
    md = (tmp_path / "step_speed.md").read_text()
    assert md.count("| eager |") == 6 and "Rule: keep a change" in md and (tmp_path / "step_speed_losses.png").stat().st_size


def test_step_speed_budget_skips_rows_loudly(tmp_path):
    mod = _step_speed()
    assert mod.main([*TINY_STEP_SPEED, "--budget-s", "0", "--out", str(tmp_path)]) == 0
    doc = json.loads((tmp_path / "step_speed.json").read_text())
    ran = [r for r in doc["rows"] if r["role"] != "after"]
    assert len(ran) == 9 and all(r["status"].startswith("skipped: budget") for r in ran)
    assert all(r["decision"] == "not decided" for r in ran if r["role"] == "candidate")
    assert "skipped: budget" in (tmp_path / "step_speed.md").read_text()


def test_step_speed_decision_rule_by_hand():
    mod = _step_speed()

    def row(ms, losses, status="ok"):
        return mod.Row(name="x", mode="eager", role="candidate", status=status,
                       result={"median_ms": ms, "losses": losses})

    before = row(100.0, [2.0, 1.8, 1.6])
    noise = 0.1                                                     # seed-to-seed mean |Δloss|
    assert mod.decide(row(95.0, [2.0, 1.8, 1.62]), before, noise)["decision"] == "keep"     # Δ 0.0067 ≤ 0.05
    slower = mod.decide(row(99.5, [2.0, 1.8, 1.6]), before, noise)                           # only 0.5 % faster
    assert slower["decision"] == "drop" and "not faster" in slower["why"]
    differs = mod.decide(row(80.0, [2.0, 1.9, 1.8]), before, noise)                          # Δ 0.1 > 0.05
    assert differs["decision"] == "drop" and "results differ" in differs["why"]
    assert mod.decide(row(80.0, [2.0]), before, float("nan"))["decision"] == "not decided"   # no noise figure
    assert mod.decide(row(80.0, [], status="OOM"), before, noise)["decision"] == "not decided"


def test_step_speed_keeps_what_it_measured_when_killed(tmp_path):
    """A SIGTERM (the session's ``timeout``) after the first rows: the JSON holds them, marked incomplete."""
    import signal
    import time

    proc = subprocess.Popen([sys.executable, str(REPO / "benchmarks" / "gpu_step_speed.py"), *TINY_STEP_SPEED,
                             "--steps", "30", "--out", str(tmp_path)], env=_env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    path = tmp_path / "step_speed.json"
    deadline = time.time() + 120
    while time.time() < deadline and not (path.exists() and '"status": "ok"' in path.read_text()):
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 1, out[-2000:]
    doc = json.loads(path.read_text())
    assert doc["complete"] is False and doc["rows"][0]["status"] == "ok" and doc["rows"][0]["losses"]
    assert "stopped by SIGTERM" in out and "Incomplete" in (tmp_path / "step_speed.md").read_text()
