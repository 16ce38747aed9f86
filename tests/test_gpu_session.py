"""benchmarks/gpu_session.sh and benchmarks/gpu_engine_check.py end to end on CPU (the GPU run is the same code)."""
import json
import os
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
               SMATE_SESSION_TABLES_EPOCHS="1", SMATE_SESSION_PRETRAIN_EPOCHS="1")
    r = subprocess.run(["bash", str(REPO / "benchmarks" / "gpu_session.sh")], env=env, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "gpu_session: cuda tests 0, engine check 0, table 5 notebook 0, second batch 0, tables subset 0" in r.stdout
    files = {p.name for p in out.iterdir()}
    assert len(files) <= 8 and {"table5.md", "table5.json", "gpu_check.log"} <= files   # the tool returns ≤ 8
    md = (out / "table5.md").read_text()
    assert "# Second pass: batch 3 at 224²" in md and md.count("## table5_throughput") == 2
    assert "# Step 5: Tables 2 and 4, one fold — profile `smoke`" in md and md.count("| table4 |") == 4
    log = (out / "gpu_check.log").read_text()
    assert "== 1. CUDA tests" in log and "== engine_check.json" in log and '"ok": true' in log
    assert "== tables_subset.json" in log and '"multi_gpu_sweep": "skipped' in log
