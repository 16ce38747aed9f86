"""Every notebook is paired with a jupytext percent-format .py source, and the two say the same thing."""
from pathlib import Path

import jupytext
import nbformat
import pytest

NB = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NB.glob("*.ipynb"))


def _cells(nb):
    return [(c.cell_type, c.source.strip(), tuple(c.metadata.get("tags", []))) for c in nb.cells]


def test_every_notebook_has_its_pair_and_nothing_else_is_there():
    assert NOTEBOOKS, "no notebooks found"
    stems = {p.stem for p in NOTEBOOKS}
    assert stems == {p.stem for p in NB.glob("*.py")}, "each notebooks/NAME.ipynb needs notebooks/NAME.py and back"


@pytest.mark.parametrize("ipynb", NOTEBOOKS, ids=lambda p: p.stem)
def test_pair_is_in_sync(ipynb):
    paired = jupytext.read(ipynb.with_suffix(".py"))
    stored = nbformat.read(ipynb, as_version=4)
    assert stored.metadata.get("jupytext", {}).get("formats") == "ipynb,py:percent"
    assert _cells(paired) == _cells(stored), (f"{ipynb.name} and {ipynb.with_suffix('.py').name} differ; run "
                                              f"`.venv/bin/jupytext --sync notebooks/{ipynb.stem}.py`")
    assert all(not c.get("outputs") for c in stored.cells if c.cell_type == "code"), \
        f"{ipynb.name}: source notebooks carry no outputs (executed copies live in reports/)"
