"""Report: the outputs manifest, the reproduction kind of a table, trainings reused, figures shown inline."""
import base64
import json
import textwrap
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from smate_nb.report import Report, manifest_files, read_manifest

REPO = Path(__file__).resolve().parent.parent


def test_manifest_records_every_output_kind_and_runs(tmp_path):
    report = Report("cpu", "01_x", tmp_path)
    report.table(pd.DataFrame({"a": [1.0], "train seconds": [3.0]}), "acc", caption="c", meta={"folds": [0, 1]},
                 timing_columns=["train seconds"])
    report.table(pd.DataFrame({"a": [1.0], "reused": [True]}), "runs", provenance_columns=["reused"])
    report.table(pd.DataFrame({"clips/s": [5.0]}), "speed", reproduce="timing")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure()
    report.figure(fig, "curve")
    assert report.record_runs([{"reused": True}, {"reused": False}, {"WAR": 0.5}]) == {"trained": 2, "reused": 1}
    assert report.record_runs([{"reused": True}]) == {"trained": 2, "reused": 2}   # counts add up over calls
    manifest = read_manifest(tmp_path / "cpu", "01_x")
    assert manifest["tables"]["speed"]["reproduce"] == "timing" and manifest["tables"]["acc"]["reproduce"] == "compare"
    assert manifest["runs"] == {"trained": 2, "reused": 2}
    assert manifest_files(manifest) == ["figures/01_x__curve.png", "tables/01_x__acc.csv", "tables/01_x__acc.json",
                                        "tables/01_x__acc.md", "tables/01_x__runs.csv", "tables/01_x__runs.json",
                                        "tables/01_x__runs.md", "tables/01_x__speed.csv", "tables/01_x__speed.json",
                                        "tables/01_x__speed.md"]
    assert all((tmp_path / "cpu" / f).is_file() for f in manifest_files(manifest))
    sidecar = json.loads((tmp_path / "cpu" / "tables" / "01_x__acc.json").read_text())
    assert sidecar == {"folds": [0, 1], "reproduce": "compare", "timing_columns": ["train seconds"]}
    assert json.loads((tmp_path / "cpu" / "tables" / "01_x__runs.json").read_text()) == \
        {"reproduce": "compare", "provenance_columns": ["reused"]}
    with pytest.raises(ValueError, match=r"timing_columns \['seconds'\] are not columns"):
        report.table(pd.DataFrame({"a": [1]}), "bad", timing_columns=["seconds"])
    with pytest.raises(ValueError, match=r"provenance_columns \['trained'\] are not columns"):
        report.table(pd.DataFrame({"a": [1]}), "bad", provenance_columns=["trained"])
    assert plt.fignum_exists(fig.number)     # outside a kernel nothing is displayed, so the figure stays open
    # A new execution starts a fresh manifest: outputs of an older version are no longer vouched for.
    Report("cpu", "01_x", tmp_path)
    assert manifest_files(read_manifest(tmp_path / "cpu", "01_x")) == []
    with pytest.raises(ValueError, match="reproduce='timings' is not one of"):
        report.table(pd.DataFrame({"a": [1]}), "bad", reproduce="timings")


def test_figure_is_shown_inline_once_with_any_backend(tmp_path):
    nb = nbformat.v4.new_notebook()
    make = textwrap.dedent("""
        import matplotlib.pyplot as plt
        from smate_nb.report import Report
        report = Report("smoke", "01_fig", {root!r})
        fig, ax = plt.subplots(); ax.plot([0, 1])
        path = report.figure(fig, "{name}")
    """)
    nb.cells = [nbformat.v4.new_code_cell(make.format(root=str(tmp_path), name="inline")),     # inline backend
                nbformat.v4.new_code_cell("import matplotlib\nmatplotlib.use('Agg')\n"         # what notebooks used
                                          + make.format(root=str(tmp_path), name="agg"))]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    src, out = tmp_path / "fig.ipynb", tmp_path / "out.ipynb"
    nbformat.write(nb, src)
    import papermill as pm

    pm.execute_notebook(str(src), str(out), progress_bar=False, kernel_name="python3")
    cells = nbformat.read(out, as_version=4).cells
    for cell, name in zip(cells, ("inline", "agg")):
        pngs = [o["data"]["image/png"] for o in cell.outputs if "image/png" in o.get("data", {})]
        assert len(pngs) == 1, (name, cell.outputs)            # shown, and not a second time by the backend
        saved = (tmp_path / "smoke" / "figures" / f"01_fig__{name}.png").read_bytes()
        assert base64.b64decode(pngs[0]) == saved              # the inline image is the file that was written


def _stems_with_figures(profile_dir):
    return sorted({p.name.split("__")[0] for p in (profile_dir / "figures").glob("*__*.png")})


def test_committed_cpu_report_shows_its_figures():
    profile_dir = REPO / "reports" / "cpu"
    stems = _stems_with_figures(profile_dir)
    assert stems, "reports/cpu/figures/ holds no figures"
    missing = []
    for stem in stems:
        executed = profile_dir / "executed" / f"{stem}.ipynb"
        if not executed.exists():
            missing.append(f"{stem}: figures but no executed notebook")
            continue
        nb = nbformat.read(executed, as_version=4)
        if not any("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", [])):
            missing.append(f"{stem}: no image/png output although figures/{stem}__*.png exist")
    assert not missing, "executed notebooks must show their figures (re-execute the cpu report):\n" + "\n".join(missing)
