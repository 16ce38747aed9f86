"""`make test`'s work units (conftest.py at the repository root): notebooks together, in order; test files whole."""
import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _root_conftest():
    spec = importlib.util.spec_from_file_location("smate_root_conftest", REPO / "conftest.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_every_notebook_cell_is_one_unit_and_each_test_file_its_own():
    unit = _root_conftest().work_unit
    cells = ["notebooks/00_overview.ipynb::Cell 0", "notebooks/08_summary.ipynb::Cell 12"]
    assert {unit(c) for c in cells} == {"notebooks"}
    assert unit("tests/test_cost.py::test_table5_macs_within_one_percent[64-12.5]") == "tests/test_cost.py"
    assert unit("tests/test_cost.py::test_table1_parameters") == "tests/test_cost.py"
    assert unit("tests/test_vivit.py::TestBlocks::test_shapes") == "tests/test_vivit.py"
    assert unit("tests/test_cost.py::test_x") != unit("tests/test_vivit.py::test_x")

