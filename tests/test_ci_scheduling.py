"""`make test`'s work units (conftest.py at the repository root): notebooks together, in order; test files whole."""
import importlib.util
from pathlib import Path
from types import SimpleNamespace

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



def test_the_longest_units_come_first_and_every_unit_keeps_its_inner_order():
    conf = _root_conftest()
    ids = ["tests/test_cost.py::a", "notebooks/00_overview.ipynb::Cell 0", "tests/test_gpu_session.py::x",
           "tests/test_cost.py::b", "notebooks/00_overview.ipynb::Cell 1",
           "notebooks/01_model_walkthrough.ipynb::Cell 0", "tests/test_vivit.py::c", "tests/test_gpu_session.py::y"]
    items = [SimpleNamespace(nodeid=i) for i in ids]
    conf.pytest_collection_modifyitems(None, items)
    assert [it.nodeid for it in items] == [
        "notebooks/00_overview.ipynb::Cell 0", "notebooks/00_overview.ipynb::Cell 1",
        "notebooks/01_model_walkthrough.ipynb::Cell 0",
        "tests/test_gpu_session.py::x", "tests/test_gpu_session.py::y",
        "tests/test_cost.py::a", "tests/test_cost.py::b", "tests/test_vivit.py::c"]
