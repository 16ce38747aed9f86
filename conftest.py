"""How `make test` shares its items among pytest-xdist workers (``-n N --dist loadgroup``).

* Every notebook cell (nbval) joins one group, ``notebooks``: one worker runs the notebooks in their reading order,
  each cell after the previous one on the same kernel (nbval needs a notebook's cells on one worker), and the
  summary notebooks after the studies whose smoke tables they read.
* Every other test joins the group of its file, so a file's tests run in order in one process, with its
  module-scoped fixtures built once — the same as a serial run.

Without ``-n`` (plain ``pytest``) the markers do nothing.
"""
from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = item.path
        group = "notebooks" if path.suffix == ".ipynb" else f"{path.parent.name}/{path.name}"
        item.add_marker(pytest.mark.xdist_group(group))
