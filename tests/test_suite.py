"""The papermill runner: own run folder + reference check, resume validity, parameters, failures, Ctrl-C,
kernel start failures, usage errors, the index, workers. Every notebook here is a tiny hand-made one."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import pytest

from smate_nb import suite
from smate_nb.files import _umask
from smate_nb.suite import SuiteError, compare_reports, discover, main, plan_run, run_suite


def _notebook(path, body, params=""):
    """A notebook with a papermill parameters cell (profile, reports_root, extra ``params``) and one code cell."""
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell('profile = "smoke"\nreports_root = None\n' + params)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# test"), cell, nbformat.v4.new_code_cell(textwrap.dedent(body))]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


# Writes one table through Report (so it lands in the manifest) holding the value of parameter `value`.
REPORTING = """
import pandas as pd
from smate_nb.report import Report
report = Report(profile, "{stem}", reports_root)
report.table(pd.DataFrame({{"setting": ["a"], "WAR": [value]}}), "t", caption="one number")
report.table(pd.DataFrame({{"clips/s": [123.4]}}), "speed", reproduce="timing")
"""


@pytest.fixture(autouse=True)
def stable_package(tmp_path, monkeypatch):
    """The stamp hashes the package source; other work on smate_nb/ must not turn a 'skipped' into an 'ok' here."""
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "paper.py").write_text("TABLE = 1\n")
    (pkg / "sub" / "x.py").write_text("")
    monkeypatch.setattr(suite, "PACKAGE_DIR", pkg)
    return pkg


@pytest.fixture()
def suite_dirs(tmp_path):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _notebook(nbs / "01_good.ipynb", REPORTING.format(stem="01_good") + "print('ran with', profile)", "value = 1.0\n")
    _notebook(nbs / "02_bad.ipynb", "x = 1\nraise RuntimeError('boom in cell')")
    return nbs, tmp_path / "run", tmp_path / "reference"


@pytest.fixture()
def specs(monkeypatch):
    """Parameter specs (smate_nb.params) for the tiny notebooks that take --param values."""
    from smate_nb import params as p

    for slug, spec in {"good": p.notebook_spec(value=p.Float()), "bad": p.notebook_spec(fail=p.Bool()),
                       "tpe": p.notebook_spec(tpe_alphas=p.ListOf(p.Float()))}.items():
        monkeypatch.setitem(p.SPECS, slug, spec)


def _run(nbs, root, ref, **kw):
    kw.setdefault("progress", False)
    kw.setdefault("html", False)
    return {r.name: r for r in run_suite("cpu", notebooks_dir=nbs, reports_root=root, reference_root=ref, **kw)}


# --------------------------------------------------------------------------------------------- failures (item 4)

def test_failure_is_reported_and_does_not_stop_others(suite_dirs, capsys):
    nbs, root, ref = suite_dirs
    code = main(["run", "--profile", "cpu", "--notebooks", str(nbs), "--reports", str(root), "--reference", str(ref),
                 "--jobs", "2", "--workers", "1"])
    assert code == 1
    printed = capsys.readouterr().out
    # The offending line of the failing cell is printed, not a truncated copy of the cell.
    assert "FAILED 02_bad" in printed and "line 2 of the cell: raise RuntimeError('boom in cell')" in printed
    executed = root / "cpu" / "executed"
    stamp = json.loads((executed / "01_good.json").read_text())
    assert stamp["status"] == "ok" and stamp["parameters"]["profile"] == "cpu"
    assert (executed / "01_good.ipynb").stat().st_mode & 0o777 == 0o666 & ~_umask()   # not mkstemp's 0o600
    good = nbformat.read(executed / "01_good.ipynb", as_version=4)
    injected = [c for c in good.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and 'profile = "cpu"' in injected[0].source
    # The failed copy lies beside the good ones, never in their place.
    assert not (executed / "02_bad.ipynb").exists()
    assert (executed / "failed" / "02_bad.ipynb").exists()
    record = json.loads((executed / "failed" / "02_bad.json").read_text())
    assert record["status"] == "failed" and record["error"]["ename"] == "RuntimeError"
    assert record["error"]["line"] == "raise RuntimeError('boom in cell')" and record["error"]["line_no"] == 2
    index = (root / "cpu" / "README.md").read_text()
    assert "01_good" in index and "**failed**" in index and "executed/failed/02_bad.ipynb" in index
    html = (root / "cpu" / "html" / "index.html").read_text()   # written after a failure too, marking it
    assert 'href="failed/02_bad.html"' in html and (root / "cpu" / "html" / "failed" / "02_bad.html").exists()


def test_failed_rerun_keeps_the_last_good_copy(suite_dirs, specs):
    nbs, root, ref = suite_dirs
    _notebook(nbs / "02_bad.ipynb", "if fail:\n    x = 1\n    raise ValueError(f'fail={fail}')\nprint('good run')",
              "fail = False\n")
    assert _run(nbs, root, ref, only=["bad"])["02_bad"].status == "ok"
    executed = root / "cpu" / "executed"
    good_bytes = (executed / "02_bad.ipynb").read_bytes()
    good_stamp = (executed / "02_bad.json").read_bytes()
    bad = _run(nbs, root, ref, only=["bad"], extra={"fail": True})["02_bad"]
    assert bad.status == "failed" and bad.error["line_no"] == 3 and "raise ValueError" in bad.error["line"]
    assert (executed / "02_bad.ipynb").read_bytes() == good_bytes          # the good copy is untouched
    assert (executed / "02_bad.json").read_bytes() == good_stamp
    failed = nbformat.read(executed / "failed" / "02_bad.ipynb", as_version=4)
    assert any(o.get("ename") == "ValueError" for c in failed.cells for o in c.get("outputs", []))
    assert "last good copy kept" in (root / "cpu" / "README.md").read_text()
    # Back to the good parameters: the stored good run is valid again, and nothing is left behind.
    assert _run(nbs, root, ref, only=["bad"])["02_bad"].status == "skipped"
    assert not list(executed.glob(".*"))


# --------------------------------------------------------------------------- run folder vs reference (item 1)

def test_run_executes_into_its_own_folder_and_compares_with_the_reference(suite_dirs, specs, capsys):
    nbs, root, ref = suite_dirs
    (nbs / "02_bad.ipynb").unlink()
    # The reference is refreshed only by an explicit --update-reference.
    with pytest.raises(SuiteError, match="--update-reference"):
        plan_run("cpu", notebooks_dir=nbs, reports_root=ref, reference_root=ref)
    assert _run(nbs, None, ref, update_reference=True)["01_good"].status == "ok"
    assert (ref / "cpu" / "executed" / "01_good.json").exists()
    # A run elsewhere executes (the reference's stamps are not its own) and compares every table.
    assert _run(nbs, root, ref)["01_good"].status == "ok"
    text = (root / "cpu" / "reproduction.md").read_text()
    assert "| 01_good__t | identical |" in text and "| 01_good__speed | timing, not compared |" in text
    # Resume uses the run's own folder only.
    assert _run(nbs, root, ref)["01_good"].status == "skipped"
    # A stamp of an older runner (as committed before) is not trusted.
    stamp = json.loads((root / "cpu" / "executed" / "01_good.json").read_text())
    del stamp["inputs"]
    (root / "cpu" / "executed" / "01_good.json").write_text(json.dumps(stamp))
    assert _run(nbs, root, ref)["01_good"].reason.startswith("its stamp comes from an older runner")
    # A different number is listed cell by cell, and the last printed lines say so and where everything is.
    assert main(["run", "--profile", "cpu", "--notebooks", str(nbs), "--reports", str(root), "--reference", str(ref),
                 "--param", "value=0.5", "--no-html", "--workers", "1"]) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    assert "1 DIFFERENT" in printed[-3] and "1 timing, not compared" in printed[-3]
    assert printed[-2].strip() == f"details: {root / 'cpu' / 'reproduction.md'}"
    assert printed[-1].startswith(f"Report: {root / 'cpu' / 'README.md'}")
    text = (root / "cpu" / "reproduction.md").read_text()
    assert "| 01_good__t | different (1 differences) |" in text
    assert "row “a”, column “WAR”: reference `1.00` · this run `0.50`" in text


def _table(folder, stem, md, reproduce="compare"):
    (folder / "tables").mkdir(parents=True, exist_ok=True)
    (folder / "tables" / f"{stem}.md").write_text(md)
    (folder / "tables" / f"{stem}.json").write_text(json.dumps({"reproduce": reproduce}))


def _ran(folder, *stems):
    (folder / "executed").mkdir(parents=True, exist_ok=True)
    for stem in stems:
        (folder / "executed" / f"{stem}.json").write_text("{}")


def test_compare_reports_verdicts(tmp_path):
    ref, run = tmp_path / "ref", tmp_path / "run"
    head = "**cap**\n\n| train | WAR | n |\n|:--|:--|--:|\n"
    _table(ref, "01_a__same", head + "| orig | 66.4 ± 10.9 | 10 |\n")
    _table(run, "01_a__same", head + "| orig | 66.4 ± 10.9 | 10 |\n")
    _table(ref, "01_a__spread", head + "| orig | 66.4 ± 10.9 | 0.70 |\n")
    _table(run, "01_a__spread", head + "| orig | 60.1 ± 9.0 | 0.7 |\n")       # Δ 6.3 ≤ 10.9; 0.70 = 0.7
    _table(ref, "01_a__diff", head + "| orig | 66.4 ± 1.0 | 0.696 |\n| +1/4 | 70.0 ± 2.0 | 3 |\n")
    _table(run, "01_a__diff", head + "| orig | 60.0 ± 1.0 | 0.697 |\n| +1/4 | 70.5 ± 2.0 | 3 |\n")
    _table(ref, "01_a__gone", head + "| orig | 1 | 2 |\n")
    _table(run, "01_a__new", head + "| orig | 1 | 2 |\n")
    _table(ref, "01_a__time", "| s |\n|--|\n| 1.0 |\n", reproduce="timing")
    _table(run, "01_a__time", "| s |\n|--|\n| 9.0 |\n")
    _table(ref, "02_other__t", head + "| orig | 1 | 2 |\n")
    _table(ref, "01_a__mixed", head + "| orig | 66.4 ± 10.9 | 10 |\n")
    _table(run, "01_a__mixed", head + "| orig | 66.4 ± 10.9 | 12 |\n")
    (run / "tables" / "01_a__mixed.json").write_text(json.dumps({"reproduce": "compare", "timing_columns": ["n"]}))
    # "reused" says how this execution got a run (stored vs trained now): the reference declares it provenance.
    prov = "| row | WAR | train seconds | reused |\n|--|--|--|--|\n"
    _table(ref, "01_a__prov", prov + "| orig | 66.4 | 80.0 | True |\n")
    _table(run, "01_a__prov", prov + "| orig | 66.4 | 95.0 | False |\n")
    (ref / "tables" / "01_a__prov.json").write_text(json.dumps(
        {"reproduce": "compare", "timing_columns": ["train seconds"], "provenance_columns": ["reused"]}))
    _table(ref, "01_a__undeclared", prov + "| orig | 66.4 | 80.0 | True |\n")
    _table(run, "01_a__undeclared", prov + "| orig | 66.4 | 80.0 | False |\n")
    _ran(run, "01_a")
    verdicts = {c.name: c for c in compare_reports(run, ref)}
    assert {k: v.verdict for k, v in verdicts.items()} == {
        "01_a__same": "identical", "01_a__spread": "within spread", "01_a__diff": "different",
        "01_a__gone": "missing in this run", "01_a__new": "missing in reference",
        "01_a__time": "timing, not compared", "02_other__t": "not run here", "01_a__mixed": "identical",
        "01_a__prov": "identical", "01_a__undeclared": "different"}
    assert verdicts["01_a__mixed"].notes == ["timing columns not compared: n"]
    assert verdicts["01_a__prov"].notes == ["timing columns not compared: train seconds",
                                            "provenance columns not compared: reused"]
    assert "column “reused”: reference `True` · this run `False`" in verdicts["01_a__undeclared"].details[0]
    details = verdicts["01_a__diff"].details
    assert len(details) == 2
    assert "row “orig”, column “WAR”: reference `66.4 ± 1.0` · this run `60.0 ± 1.0`" in details[0]
    assert "row “orig”, column “n”: reference `0.696` · this run `0.697`" in details[1]


# --------------------------------------------------------------------------------------------- resume (item 2)

def test_resume_checks_outputs_the_executed_copy_and_the_package_source(suite_dirs, tmp_path, stable_package):
    nbs, root, ref = suite_dirs
    (nbs / "02_bad.ipynb").unlink()
    pkg = stable_package
    base, executed = root / "cpu", root / "cpu" / "executed"

    def again():
        r = _run(nbs, root, ref)["01_good"]
        return r.status, r.reason

    assert again()[0] == "ok"
    stamp = json.loads((executed / "01_good.json").read_text())
    assert sorted(stamp["outputs"]) == ["tables/01_good__speed.csv", "tables/01_good__speed.json",
                                        "tables/01_good__speed.md", "tables/01_good__t.csv", "tables/01_good__t.json",
                                        "tables/01_good__t.md"]
    assert again() == ("skipped", "up to date")
    for p in (base / "tables").iterdir():
        p.unlink()
    assert again() == ("ok", "registered outputs missing: tables/01_good__speed.csv (+5 more)")
    (executed / "01_good.ipynb").write_text("garbage")
    assert again() == ("ok", "executed copy 01_good.ipynb is not a valid notebook (NotJSONError)")
    good = tmp_path / "elsewhere.ipynb"
    os.replace(executed / "01_good.ipynb", good)
    (executed / "01_good.ipynb").symlink_to(good)
    assert again() == ("ok", "executed copy 01_good.ipynb is a symbolic link")
    (pkg / "paper.py").write_text("TABLE = 2\n")
    assert again() == ("ok", "package source (smate_nb/) changed")
    assert again() == ("skipped", "up to date")


def test_resume_skips_finished_and_retries_failed(suite_dirs):
    nbs, root, ref = suite_dirs
    _run(nbs, root, ref, jobs=2)
    assert {k: r.status for k, r in _run(nbs, root, ref, jobs=2).items()} == {"01_good": "skipped",
                                                                               "02_bad": "failed"}
    # Editing a notebook invalidates its stamp; force re-runs.
    _notebook(nbs / "01_good.ipynb", "print('changed')")
    changed = _run(nbs, root, ref, only=["good"])["01_good"]
    assert changed.status == "ok" and changed.reason == "notebook changed"
    forced = _run(nbs, root, ref, only=["01_good"], force=True)["01_good"]
    assert forced.status == "ok" and forced.reason == "--force"


def test_discover_only_and_unknown_names(suite_dirs):
    nbs, _, _ = suite_dirs
    assert [p.stem for p in discover(nbs)] == ["01_good", "02_bad"]
    assert [p.stem for p in discover(nbs, ["bad"])] == ["02_bad"]
    with pytest.raises(ValueError, match="available"):
        discover(nbs, ["nope"])
    with pytest.raises(KeyError, match="unknown profile"):
        run_suite("tpu", notebooks_dir=nbs, progress=False)


# ----------------------------------------------------------------------------------------- parameters (item 3)

def test_param_cannot_override_the_runner_and_unknown_names_are_errors(suite_dirs, specs, capsys):
    nbs, root, ref = suite_dirs
    _notebook(nbs / "03_tpe.ipynb", "pass", "tpe_alphas = [1.0]\n")
    for key, flag in (("profile", "--profile"), ("reports_root", "--reports")):
        with pytest.raises(SuiteError, match=f"runner sets `{key}` itself; use {flag}"):
            plan_run("smoke", notebooks_dir=nbs, reports_root=root, extra={key: "cpu"})
    with pytest.raises(SuiteError, match=r"no selected notebook has a parameter named 'tpe_alpha'\. "
                                         r"Did you mean tpe_alphas\?.*03_tpe takes: tpe_alphas"):
        plan_run("smoke", notebooks_dir=nbs, reports_root=root, extra={"tpe_alpha": "abc"})
    # A name some selected notebooks take goes to those only; with --only the others are not asked.
    plan = plan_run("smoke", notebooks_dir=nbs, reports_root=root, extra={"tpe_alphas": [2.0]})
    assert plan.params == {"01_good": {}, "02_bad": {}, "03_tpe": {"tpe_alphas": [2.0]}}
    assert plan.notes == ["--param tpe_alphas goes to 03_tpe only (01_good, 02_bad have no such parameter)"]
    with pytest.raises(SuiteError, match="no selected notebook"):
        plan_run("smoke", only=["good"], notebooks_dir=nbs, reports_root=root, extra={"tpe_alphas": [2.0]})
    # The CLI: exit 2, the message, nothing written.
    assert main(["run", "--profile", "smoke", "--notebooks", str(nbs), "--reports", str(root),
                 "--param", "profile=cpu"]) == 2
    assert "--param profile='cpu': the runner sets `profile` itself" in capsys.readouterr().err
    assert not root.exists()


def test_param_values_go_through_params_validate(suite_dirs, specs, capsys):
    nbs, root, _ = suite_dirs
    _notebook(nbs / "03_tpe.ipynb", "pass", "tpe_alphas = [1.0]\n")
    plan = plan_run("smoke", notebooks_dir=nbs, reports_root=root, extra={"tpe_alphas": ["2", 3]})
    assert plan.params["03_tpe"] == {"tpe_alphas": [2.0, 3.0]}          # converted by the notebook's spec
    assert main(["run", "--profile", "smoke", "--notebooks", str(nbs), "--reports", str(root),
                 "--param", "tpe_alphas=abc"]) == 2
    err = capsys.readouterr().err
    assert "tpe_alphas" in err and "'abc'" in err
    assert not root.exists()


# -------------------------------------------------------------------------------------------- Ctrl-C (item 5)

def _runner(nbs, root, ref):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "smate_nb", "run", "--profile", "smoke", "--notebooks", str(nbs),
                             "--reports", str(root), "--reference", str(ref), "--workers", "1", "--no-html"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            cwd=Path(suite.__file__).parent.parent)


def _wait_for(path, proc, seconds=90):
    t0 = time.monotonic()
    while not path.exists():
        assert proc.poll() is None, proc.communicate()[0]
        assert time.monotonic() - t0 < seconds, "the sleeping notebook never started"
        time.sleep(0.2)


SLEEPER = "from pathlib import Path\nPath(marker).write_text('started')\nimport time\ntime.sleep(300)"


def test_one_ctrl_c_stops_the_batch_keeps_finished_work_and_exits_130(tmp_path):
    nbs, root = tmp_path / "nbs", tmp_path / "run"
    nbs.mkdir()
    marker = tmp_path / "started"
    _notebook(nbs / "01_fast.ipynb", "print('done')")
    _notebook(nbs / "02_sleep.ipynb", SLEEPER, f"marker = {str(marker)!r}\n")
    _notebook(nbs / "03_after.ipynb", "print('must not run')")
    proc = _runner(nbs, root, tmp_path / "ref")
    _wait_for(marker, proc)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, out
    assert time.monotonic() - t0 < KILL_BOUND
    executed = root / "smoke" / "executed"
    assert json.loads((executed / "01_fast.json").read_text())["status"] == "ok"      # finished work kept
    assert json.loads((executed / "failed" / "02_sleep.json").read_text())["status"] == "interrupted"
    assert not (executed / "02_sleep.ipynb").exists() and not (executed / "03_after.json").exists()
    assert "not run 03_after" in out and "interrupted 02_sleep" in out
    assert not [p for p in executed.rglob(".*")]                                    # no temp files
    assert "interrupted" in (root / "smoke" / "README.md").read_text()


KILL_BOUND = suite.KILL_AFTER_S + 20   # an interrupted kernel stops at once; a killed one within the kill delay


def test_repeated_ctrl_c_kills_kernels_and_leaves_no_temp_files(tmp_path):
    nbs, root = tmp_path / "nbs", tmp_path / "run"
    nbs.mkdir()
    marker = tmp_path / "started"
    # This notebook ignores the interrupt, so only the kill on the second Ctrl-C stops it.
    _notebook(nbs / "01_sleep.ipynb", "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n" + SLEEPER,
              f"marker = {str(marker)!r}\n")
    proc = _runner(nbs, root, tmp_path / "ref")
    _wait_for(marker, proc)
    for _ in range(3):
        proc.send_signal(signal.SIGINT)
        time.sleep(0.3)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, out
    executed = root / "smoke" / "executed"
    assert not [p for p in executed.rglob(".*")], out
    assert json.loads((executed / "failed" / "01_sleep.json").read_text())["status"] == "interrupted"
    assert (root / "smoke" / "README.md").exists()


# ----------------------------------------------------------------------------------- kernel start (item 6)

ZMQ_FAIL = ("import sys\nsys.stderr.write('Traceback (most recent call last):\\n  ...\\n'\n"
            "  'zmq.error.ZMQError: Address already in use (addr=tcp://127.0.0.1:5555)\\n')\nsys.exit(1)\n")


def _kernelspec(root, name, script):
    d = root / "kernels" / name
    d.mkdir(parents=True)
    (d / "start.py").write_text(script)
    (d / "kernel.json").write_text(json.dumps({"argv": [sys.executable, str(d / "start.py"), "{connection_file}"],
                                               "display_name": name, "language": "python"}))


def test_kernel_that_cannot_start_is_retried_once_and_the_cause_reported(suite_dirs, tmp_path, monkeypatch):
    nbs, root, ref = suite_dirs
    (nbs / "02_bad.ipynb").unlink()
    jupyter = tmp_path / "jupyter"
    _kernelspec(jupyter, "broken", ZMQ_FAIL)
    # Fails on its first start only, then runs a real kernel: the retry must make the run succeed.
    once = tmp_path / "failed-once"
    _kernelspec(jupyter, "flaky", f"import os, sys\nfrom pathlib import Path\nm = Path({str(once)!r})\n"
                                  f"if not m.exists():\n    m.write_text('x')\n" + textwrap.indent(ZMQ_FAIL, "    ") +
                                  "os.execv(sys.executable, [sys.executable, '-m', 'ipykernel_launcher', '-f', "
                                  "sys.argv[1]])\n")
    monkeypatch.setenv("JUPYTER_PATH", str(jupyter))
    broken = _run(nbs, root, ref, kernel="broken")["01_good"]
    assert broken.status == "failed" and broken.error["ename"] == "KernelStartError"
    assert "could not start (2 attempts): zmq.error.ZMQError: Address already in use" in broken.error["evalue"]
    # A kernel that dies mid-run is not retried; its own last words are the cause.
    _notebook(nbs / "02_dies.ipynb", "import os\nos.write(2, b'MemoryError: the kernel ran out of memory\\n')\nos._exit(1)")
    dies = _run(nbs, root, ref, only=["dies"])["02_dies"]
    assert dies.status == "failed" and dies.error["ename"] == "DeadKernelError"
    assert "the kernel's stderr ends: MemoryError: the kernel ran out of memory" in dies.error["evalue"]
    flaky = _run(nbs, root, ref, only=["good"], kernel="flaky")["01_good"]
    assert flaky.status == "ok" and once.exists()
    assert json.loads((root / "cpu" / "executed" / "01_good.json").read_text())["attempts"] == 2


# -------------------------------------------------------------------------------------- usage errors (item 7)

def test_usage_errors_exit_2_naming_the_flag_before_anything_is_written(suite_dirs, tmp_path, capsys):
    nbs, root, _ = suite_dirs
    empty = tmp_path / "empty"
    empty.mkdir()
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "01_x.ipynb").write_text('{"cells": [')
    cases = [
        (["--notebooks", str(tmp_path / "missing")], "--notebooks", "no such folder"),
        (["--notebooks", str(empty)], "--notebooks", "no *.ipynb notebooks"),
        (["--notebooks", str(broken)], str(broken / "01_x.ipynb"), "is not a readable notebook"),
        (["--notebooks", str(nbs), "--reports", str(a_file)], "--reports", "is a file, not a folder"),
        (["--notebooks", str(nbs), "--reports", str(a_file / "sub")], "--reports", "which is a file"),
        (["--notebooks", str(nbs), "--jobs", "0"], "--jobs 0", "must be a whole number ≥ 1"),
        (["--notebooks", str(nbs), "--jobs", "-3"], "--jobs -3", "must be a whole number ≥ 1"),
        (["--notebooks", str(nbs), "--workers", "0"], "--workers 0", "must be a whole number ≥ 1"),
    ]
    for args, names, says in cases:
        if "--reports" not in args:
            args = [*args, "--reports", str(root)]
        assert _exit_code(["run", "--profile", "smoke", *args]) == 2, args
        err = capsys.readouterr().err
        assert names in err and says in err, (args, err)
        assert not root.exists(), args
    with pytest.raises(SuiteError, match="--jobs 0"):
        plan_run("smoke", jobs=0, notebooks_dir=nbs, reports_root=root)


def _exit_code(argv):
    """main()'s return value, or the code of the SystemExit argparse raises for a bad flag value."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


# ------------------------------------------------------------------------------------------ the index (item 8)

def test_index_says_where_it_is_and_counts_reused_trainings(tmp_path, capsys):
    nbs, root = tmp_path / "nbs", tmp_path / "run"
    nbs.mkdir()
    _notebook(nbs / "01_study.ipynb", "from smate_nb.report import Report\n"
                                      "r = Report(profile, '01_study', reports_root)\n"
                                      "r.record_runs([{'reused': True}] * 40 + [{'WAR': 0.5}] * 0)")
    (root / "smoke" / "executed").mkdir(parents=True)
    (root / "smoke" / "executed" / "00_renamed.json").write_text('{"status": "ok"}')   # its notebook is gone
    assert main(["run", "--profile", "smoke", "--notebooks", str(nbs), "--reports", str(root),
                 "--reference", str(tmp_path / "ref"), "--workers", "1", "--no-html"]) == 0
    printed = capsys.readouterr().out
    index = (root / "smoke" / "README.md").read_text()
    assert f"**Where you are:** `{root / 'smoke'}/`" in index
    assert "at chance by design" in index
    assert "(40 trainings reused)" in index
    assert f"Report: {root / 'smoke' / 'README.md'}" in printed
    assert "holds notebooks with no source" in printed and "00_renamed" in printed
    assert "nothing compared" in (root / "smoke" / "reproduction.md").read_text()


# ------------------------------------------------------------------------------------------------ workers

def test_workers_reach_the_kernel_and_are_not_in_the_stamp(tmp_path, monkeypatch):
    nbs, root = tmp_path / "nbs", tmp_path / "run"
    nbs.mkdir()
    _notebook(nbs / "01_w.ipynb", "import os\nfrom pathlib import Path\n"
                                  "Path(out).write_text(os.environ['SMATE_WORKERS'])", f"out = {str(tmp_path / 'w')!r}\n")
    assert _run(nbs, root, tmp_path / "ref", workers=3)["01_w"].status == "ok"
    assert (tmp_path / "w").read_text() == "3"
    assert _run(nbs, root, tmp_path / "ref", workers=1)["01_w"].status == "skipped"
    monkeypatch.setenv("SMATE_WORKERS", "5")
    assert suite.default_workers() == 5
    monkeypatch.setenv("SMATE_WORKERS", "0")
    with pytest.raises(SuiteError, match=r"\$SMATE_WORKERS='0'"):
        suite.default_workers()
    monkeypatch.delenv("SMATE_WORKERS")
    monkeypatch.setenv("SMATE_THREADS", "1")
    assert suite.default_workers() == len(os.sched_getaffinity(0))
    with pytest.raises(SuiteError, match="--workers 0"):
        plan_run("smoke", notebooks_dir=nbs, reports_root=root, workers=0)


def test_a_summary_notebook_starts_after_all_others_finished(tmp_path, monkeypatch):
    """With several jobs the others run side by side, but *_summary waits for them: it reads their tables."""
    from smate_nb import params as p

    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    log = tmp_path / "times.txt"
    body = ("import time\nwith open({log!r}, 'a') as f: f.write(f'{name} start {{time.time()}}\\n')\n"
            "time.sleep({sleep})\nwith open({log!r}, 'a') as f: f.write(f'{name} end {{time.time()}}\\n')\n")
    for name, sleep in (("01_a", 3), ("02_b", 3), ("08_summary", 0)):
        _notebook(nbs / f"{name}.ipynb", body.format(log=str(log), name=name, sleep=sleep))
        monkeypatch.setitem(p.SPECS, name.split("_", 1)[1], p.notebook_spec())
    results = _run(nbs, tmp_path / "run", tmp_path / "reference", jobs=3)
    assert all(r.status == "ok" for r in results.values()), {k: r.error for k, r in results.items()}
    t = {}
    for line in log.read_text().splitlines():
        name, what, when = line.split()
        t[(name, what)] = float(when)
    assert t[("08_summary", "start")] >= max(t[("01_a", "end")], t[("02_b", "end")])
    assert t[("02_b", "start")] < t[("01_a", "end")]                 # the others did run side by side


def test_the_summary_runs_again_when_a_notebook_it_reads_was_executed_again(tmp_path):
    # 08_summary reads every table of its profile: a fresh run of another notebook makes its copy stale
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _notebook(nbs / "03_study.ipynb", REPORTING.format(stem="03_study"), "value = 1.0\n")
    _notebook(nbs / "08_summary.ipynb", "print('summary')")
    root, ref = tmp_path / "run", tmp_path / "reference"
    status = lambda **kw: {k: (r.status, r.reason) for k, r in _run(nbs, root, ref, **kw).items()}  # noqa: E731
    assert {k: s for k, (s, _) in status().items()} == {"03_study": "ok", "08_summary": "ok"}
    assert status() == {"03_study": ("skipped", "up to date"), "08_summary": ("skipped", "up to date")}
    _notebook(nbs / "03_study.ipynb", REPORTING.format(stem="03_study") + "print('changed')", "value = 1.0\n")
    after = status()
    assert after["03_study"][0] == "ok"
    assert after["08_summary"] == ("ok", "a notebook it reads from was executed again")
    assert status()["08_summary"] == ("skipped", "up to date")
    assert suite.READS_OTHER_NOTEBOOKS == ("00_overview", "08_summary")


def test_compare_cell_copes_with_numbers_longer_than_the_decimal_context():
    """A 40-digit number (e.g. digits inside an id) once crashed the reproduction check (decimal.InvalidOperation)."""
    from smate_nb.suite import _compare_cell

    long_a, long_b = "1" * 40 + ".25", "1" * 40 + ".26"
    assert _compare_cell(long_a, long_a)[0] == "identical"
    assert _compare_cell(f"x {long_a}", f"x {long_b}")[0] == "different"
    assert _compare_cell("x 12.34", "x 12.34")[0] == "identical" and _compare_cell("x 1.2", "x 1.3")[0] == "different"
