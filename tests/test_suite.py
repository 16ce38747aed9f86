"""The papermill runner: parameters injected, resume, failure isolation, index."""
import json

import nbformat
import pytest

from smate_nb.suite import discover, run_suite


def _notebook(path, body):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('profile = "smoke"\nreports_root = None')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# test"), params, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.fixture()
def suite_dirs(tmp_path):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    # The good notebook writes a file through the injected parameters, proving they arrive.
    _notebook(nbs / "01_good.ipynb",
              "from pathlib import Path\n"
              "d = Path(reports_root) / profile / 'tables'; d.mkdir(parents=True, exist_ok=True)\n"
              "(d / '01_good__t.md').write_text('| a |\\n|---|\\n| 1 |')\n"
              "print('ran with', profile)")
    _notebook(nbs / "02_bad.ipynb", "x = 1\nraise RuntimeError('boom in cell')")
    return nbs, tmp_path / "reports"


def test_failure_is_reported_and_does_not_stop_others(suite_dirs):
    nbs, reports = suite_dirs
    results = {r.name: r for r in run_suite("cpu", notebooks_dir=nbs, reports_root=reports, progress=False)}
    assert results["01_good"].status == "ok"
    bad = results["02_bad"]
    assert bad.status == "failed"
    assert bad.error["ename"] == "RuntimeError" and "boom in cell" in bad.error["evalue"]
    assert "raise RuntimeError" in bad.error["source"]
    assert "02_bad" in bad.line() and "RuntimeError" in bad.line()
    executed = reports / "cpu" / "executed"
    assert (executed / "02_bad.ipynb").exists()          # kept for inspection
    good = nbformat.read(executed / "01_good.ipynb", as_version=4)
    injected = [c for c in good.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and 'profile = "cpu"' in injected[0].source
    index = (reports / "cpu" / "README.md").read_text()
    assert "01_good" in index and "failed" in index and "| 1 |" in index


def test_resume_skips_finished_and_retries_failed(suite_dirs):
    nbs, reports = suite_dirs
    run_suite("cpu", notebooks_dir=nbs, reports_root=reports, progress=False)
    again = {r.name: r.status for r in run_suite("cpu", notebooks_dir=nbs, reports_root=reports, progress=False)}
    assert again == {"01_good": "skipped", "02_bad": "failed"}
    # Editing a notebook invalidates its stamp; --force re-runs everything.
    _notebook(nbs / "01_good.ipynb", "print('changed')")
    assert run_suite("cpu", only=["good"], notebooks_dir=nbs, reports_root=reports, progress=False)[0].status == "ok"
    forced = run_suite("cpu", only=["01_good"], force=True, notebooks_dir=nbs, reports_root=reports, progress=False)
    assert forced[0].status == "ok"
    stamp = json.loads((reports / "cpu" / "executed" / "01_good.json").read_text())
    assert stamp["status"] == "ok" and stamp["parameters"]["profile"] == "cpu"


def test_discover_only_and_unknown_names(suite_dirs):
    nbs, _ = suite_dirs
    assert [p.stem for p in discover(nbs)] == ["01_good", "02_bad"]
    assert [p.stem for p in discover(nbs, ["bad"])] == ["02_bad"]
    with pytest.raises(ValueError, match="available"):
        discover(nbs, ["nope"])
    with pytest.raises(KeyError, match="unknown profile"):
        run_suite("gpu", notebooks_dir=nbs, progress=False)
