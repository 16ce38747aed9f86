"""benchmarks/gpu_check.sh end to end on CPU with a tiny config (the GPU run is the same script, paper profile)."""
import csv
import json
import os
import subprocess
import sys
from pathlib import Path


REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "benchmarks" / "gpu_check.sh"
EXPECTED = {"table5.md", "table5.json", "table5_throughput.csv", "cost_vs_crop.png", "07_cost_by_crop.ipynb",
            "reports.tar.gz", "gpu_check.log", "device.txt"}


def _run(out: Path, params: str, runner: str = "plain") -> subprocess.CompletedProcess:
    env = {**os.environ, "OUT": str(out), "PYTHON": sys.executable, "SMATE_CHECK_PROFILE": "smoke",
           "SMATE_CHECK_DEVICE": "cpu", "SMATE_CHECK_PARAMS": params, "SMATE_CHECK_RUNNER": runner,
           "OMP_NUM_THREADS": "1", "SMATE_THREADS": "1"}
    return subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=240)


def test_gpu_check_tiny_cpu_run(tmp_path):
    """The plain runner (what the GPU machine uses: it has no papermill) produces the table and JSON."""
    out = tmp_path / "out"
    r = _run(out, "crops=[64,128] timed_steps=1 ablation=True ablation_crop=64")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    files = {p.name for p in out.iterdir()}
    assert files == EXPECTED and len(files) <= 8                        # the device tool returns ≤ 8 flat files
    doc = json.loads((out / "table5.json").read_text())
    assert doc["notebook_status"] == 0 and doc["runner"] == "plain" and doc["device"]["device"] == "cpu"
    assert doc["parameters"] == {"device": "cpu", "crops": [64, 128], "timed_steps": 1, "ablation": True,
                                 "ablation_crop": 64}
    tables = doc["tables"]
    assert {"table5_macs", "table5_throughput", "table5_paper_implied", "step_profile_categories",
            "pipeline_vs_step", "fast_path_ablation"} <= set(tables)
    macs = tables["table5_macs"]["rows"]
    assert [int(float(r["crop"])) for r in macs] == [64, 128]
    assert all(abs(float(r["Δ %"])) < 1.0 for r in macs)                # MACs within 1 % of Table 5
    rows = tables["table5_throughput"]["rows"]
    assert [r["status"] for r in rows] == ["ok", "ok"] and all(float(r["clips/s"]) > 0 for r in rows)
    meta = tables["table5_throughput"]["meta"]
    assert meta["parameters"]["crops"] == [64, 128] and len(meta["timings"]) == 2
    assert all(len(t["step_s"]) == 1 for t in meta["timings"])
    with open(out / "table5_throughput.csv", newline="") as fh:
        assert len(list(csv.DictReader(fh))) == 2
    md = (out / "table5.md").read_text()
    assert "## table5_macs" in md and "## table5_throughput" in md and "Device: **" in md
    nb = json.loads((out / "07_cost_by_crop.ipynb").read_text())
    injected = [c for c in nb["cells"] if "injected-parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(injected) == 1 and "crops = [64, 128]" in "".join(injected[0]["source"])
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert any("MACs within" in o.get("text", "") for o in outputs)
    assert (out / "cost_vs_crop.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_gpu_check_reports_a_failing_notebook(tmp_path):
    """A notebook error gives a non-zero exit, with the error recorded and the files still collected."""
    out = tmp_path / "out"
    r = _run(out, "crops=[64] small_config='no_such_model'")
    assert r.returncode == 1
    doc = json.loads((out / "table5.json").read_text())
    assert doc["notebook_status"] == 1
    nb = json.loads((out / "07_cost_by_crop.ipynb").read_text())
    errors = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c["outputs"] if o["output_type"] == "error"]
    # the parameter check of the notebook's first cell names the parameter, the value and the valid choices
    assert len(errors) == 1 and errors[0]["ename"] == "ParameterError"
    assert "small_config" in errors[0]["evalue"] and "no_such_model" in errors[0]["evalue"]
    assert "vivit_cpu_fe" in errors[0]["evalue"]
    assert nb["metadata"]["smate_plain_runner"]["failed_cell"] is not None


def test_gpu_check_rejects_bad_arguments(tmp_path):
    r = _run(tmp_path / "out", "crops", runner="plain")
    assert r.returncode == 2 and "KEY=VALUE" in r.stderr + r.stdout
    r = _run(tmp_path / "out2", "crops=[64]", runner="nonsense")
    assert r.returncode == 2
