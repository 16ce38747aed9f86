"""Every notebook checks its parameters (smate_nb.params) before any work; executed reports carry no widget warning.

The notebooks are discovered (``notebooks/*.ipynb``), so a new notebook is covered without editing this file: it
must have a spec in ``smate_nb.params.SPECS`` matching its parameters cell, and the code cell right after the
parameters cell must call ``check(globals(), "<stem>")`` — executed through papermill with one wrong-typed
parameter, the notebook must stop in that cell with a ``ParameterError`` naming the parameter.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from smate_nb import params as P

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(p for p in (REPO / "notebooks").glob("*.ipynb") if not p.name.startswith("."))
CPU_REPORT = sorted((REPO / "reports" / "cpu" / "executed").glob("*.ipynb"))
KERNEL = "python3"  # the venv's own kernel: jupyter_client starts argv "python" as this interpreter
IPROGRESS = "IProgress not found"
# What papermill users get wrong most, first: a list/dict given as text, then any other type.
_PREFERENCE = (P.ListOf, P.DictOf)


def _source(cell) -> str:
    return cell.source if isinstance(cell.source, str) else "".join(cell.source)


def _parameters_cell(nb) -> int:
    hits = [i for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(hits) == 1, f"expected one cell tagged 'parameters', found {len(hits)}"
    return hits[0]


def _defaults(nb) -> dict:
    """The parameters cell's assignments, evaluated (they are literals and simple expressions)."""
    ns: dict = {}
    exec(compile(_source(nb.cells[_parameters_cell(nb)]), "<parameters>", "exec"), {}, ns)
    return {k: v for k, v in ns.items() if not k.startswith("_")}


def _inner(param: P.Param) -> P.Param:
    return param.inner if isinstance(param, P.Optional) else param


def wrong_parameter(stem: str) -> tuple[str, object]:
    """One (name, wrong value) for the notebook, chosen from its spec: a list/dict parameter given as the text
    papermill's ``-p`` passes (``"[0, 1]"``), else the first other parameter with a refusable value."""
    spec = P.spec_for(stem)
    candidates = [(n, p) for n, p in spec.items() if n not in ("profile", "reports_root")] or list(spec.items())
    candidates.sort(key=lambda np_: not isinstance(_inner(np_[1]), _PREFERENCE))
    for name, param in candidates:
        bad = param.bad_example()
        if bad is not P._MISSING:
            return name, bad
    raise AssertionError(f"no parameter of {stem} has a bad example")


def _ids(paths):
    return [p.stem for p in paths]


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_spec_matches_the_parameters_cell(nb_path):
    nb = nbformat.read(nb_path, as_version=4)
    defaults = _defaults(nb)
    spec = P.spec_for(nb_path.stem)
    assert list(defaults) == [n for n in spec if n in defaults] and set(defaults) == set(spec), (
        f"{nb_path.stem}: parameters cell {sorted(defaults)} vs spec {sorted(spec)} in smate_nb/params.py")
    out = P.validate(nb_path.stem, defaults)
    for name, value in defaults.items():  # the defaults pass unchanged (same objects: no config hash moves)
        assert out[name] is value, (name, value, out[name])


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_check_is_the_first_code_after_the_parameters_cell(nb_path):
    nb = nbformat.read(nb_path, as_version=4)
    after = [c for c in nb.cells[_parameters_cell(nb) + 1:] if c.cell_type == "code"]
    assert after, "no code after the parameters cell"
    code = [line for line in _source(after[0]).splitlines() if line.strip() and not line.lstrip().startswith("#")]
    call = f'check(globals(), "{nb_path.stem}")'
    calls = [i for i, line in enumerate(code) if call in line]
    assert calls, f"the code cell after the parameters cell of {nb_path.name} must call {call}"
    before = code[: calls[0]]
    assert all(re.match(r"\s*(from\s+smate_nb(\.params)?\s+import|import\s+smate_nb)", line) for line in before), (
        f"only the import of check may come before {call}; found {before}")


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_a_wrong_typed_parameter_stops_the_notebook_in_the_check_cell(nb_path, tmp_path, monkeypatch):
    papermill = pytest.importorskip("papermill")
    from papermill.exceptions import PapermillExecutionError

    monkeypatch.setenv("SMATE_REPORTS", str(tmp_path / "reports"))
    monkeypatch.setenv("SMATE_RUNS", str(tmp_path / "runs"))
    name, bad = wrong_parameter(nb_path.stem)
    out = tmp_path / nb_path.name
    with pytest.raises(PapermillExecutionError) as info:
        papermill.execute_notebook(str(nb_path), str(out), parameters={name: bad}, kernel_name=KERNEL,
                                   cwd=str(nb_path.parent), progress_bar=False, log_output=False,
                                   execution_timeout=120)
    err = info.value
    assert err.ename == "ParameterError", (
        f"{nb_path.name} given {name}={bad!r} did not stop with a ParameterError in a check cell but raised "
        f"{err.ename}: {str(err.evalue)[:300]} — it must call check(globals(), {nb_path.stem!r}) right after its "
        "parameters cell")
    assert f"`{name}`" in err.evalue and repr(bad) in err.evalue
    assert f'check(globals(), "{nb_path.stem}")' in err.source
    executed = nbformat.read(out, as_version=4)
    # after the parameters cell: papermill's injected parameters, then the check, and nothing else ran
    code = [c for c in executed.cells[_parameters_cell(executed) + 1:] if c.cell_type == "code"]
    assert "injected-parameters" in code[0].metadata.get("tags", [])
    assert f'check(globals(), "{nb_path.stem}")' in _source(code[1])
    assert code[1].outputs and code[1].outputs[-1].get("ename") == "ParameterError"
    assert [bool(c.get("execution_count")) for c in code] == [True, True] + [False] * (len(code) - 2)


def test_the_kernel_is_this_interpreter():
    """``python3`` must run this venv's Python (argv ``python`` is replaced by ``sys.executable``)."""
    import sys

    from jupyter_client.kernelspec import KernelSpecManager

    argv0 = KernelSpecManager().get_kernel_spec(KERNEL).argv[0]
    assert argv0 in ("python", "python3") or Path(argv0).resolve() == Path(sys.executable).resolve(), argv0


def _no_spec_notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("profile = 'smoke'\nreports_root = None")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(
        "from smate_nb.params import check\n\ncheck(globals(), \"99_no_such_notebook\");"),
        nbformat.v4.new_code_cell("raise SystemExit('must not run')")]
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_a_notebook_without_a_spec_fails_clearly(tmp_path):
    papermill = pytest.importorskip("papermill")
    from papermill.exceptions import PapermillExecutionError

    nb = _no_spec_notebook(tmp_path / "99_no_such_notebook.ipynb")
    with pytest.raises(PapermillExecutionError) as info:
        papermill.execute_notebook(str(nb), str(tmp_path / "out.ipynb"), kernel_name=KERNEL, cwd=str(tmp_path),
                                   progress_bar=False, log_output=False, execution_timeout=60)
    assert info.value.ename == "ParameterError"
    assert "has no parameter spec" in info.value.evalue and "smate_nb/params.py" in info.value.evalue


def _outputs_text(nb) -> str:
    return json.dumps([c.get("outputs", []) for c in nb.cells], ensure_ascii=False)


@pytest.mark.parametrize("nb_path", CPU_REPORT, ids=_ids(CPU_REPORT))
def test_committed_cpu_report_has_no_iprogress_warning(nb_path):
    """Executed with ipywidgets installed, ``tqdm.auto`` shows a widget instead of warning in the report."""
    nb = nbformat.read(nb_path, as_version=4)
    cells = [i for i, c in enumerate(nb.cells) if IPROGRESS in json.dumps(c.get("outputs", []))]
    assert not cells, (f"{nb_path.name}: {IPROGRESS!r} in the outputs of cells {cells}; "
                       "re-execute the cpu report (ipywidgets is pinned now)")


def test_tqdm_auto_is_a_widget_without_warning_and_keeps_a_text_form(tmp_path):
    papermill = pytest.importorskip("papermill")
    pytest.importorskip("ipywidgets")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("from tqdm.auto import tqdm\n[x for x in tqdm(range(3))]")]
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": "Python 3", "language": "python"}
    src, out = tmp_path / "tqdm.ipynb", tmp_path / "tqdm_out.ipynb"
    nbformat.write(nb, src)
    papermill.execute_notebook(str(src), str(out), kernel_name=KERNEL, cwd=str(tmp_path), progress_bar=False,
                               log_output=False, execution_timeout=60)
    executed = nbformat.read(out, as_version=4)
    text = _outputs_text(executed)
    assert IPROGRESS not in text
    outputs = executed.cells[0].outputs
    widgets = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(widgets) == 1, outputs
    # The readable text form is the bar as first displayed (0 %); the final state lives in the widget state.
    plain = widgets[0]["data"]["text/plain"]
    assert re.search(r"\d+%\|.*\| \d+/3", plain), plain
    state = executed.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    values = [m["state"].get("value") for m in state.values() if m.get("model_name") == "HTMLModel"]
    assert "100%" in values and any("3/3" in (v or "") for v in values), values
    assert any(o.get("data", {}).get("text/plain") == "[0, 1, 2]" for o in outputs)
