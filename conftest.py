"""How `make test` shares its items among pytest-xdist workers (``pytest -n N``).

Work is handed out in whole units (xdist's scope scheduling), one unit per:

* ``notebooks`` — every notebook cell (nbval): one worker runs the notebooks in their reading order, each cell
  after the previous one on the same kernel (nbval needs a notebook's cells on one worker), and the summary
  notebooks after the studies whose smoke tables they read;
* test file — a file's tests run in order in one process, with its module-scoped fixtures built once, the same as
  a serial run.

xdist's own ``--dist loadgroup`` markers cannot express this with the pinned pytest 9.2: xdist 3.8 appends the
group to ``item._nodeid``, which pytest 9 no longer reads (the node id is ``item._id``), so marked items were
scattered one by one. Without ``-n`` (plain ``pytest``) this hook is never called.
"""
from __future__ import annotations


def work_unit(nodeid: str) -> str:
    """The unit an item's node id belongs to: ``"notebooks"`` for a notebook cell, else its file's path."""
    path = nodeid.split("::", 1)[0]
    return "notebooks" if path.endswith(".ipynb") else path


def pytest_xdist_make_scheduler(config, log):
    """The scheduler of every ``-n`` run: xdist's scope scheduling over :func:`work_unit` (largest unit first)."""
    from xdist.scheduler import LoadScopeScheduling

    class NotebooksTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    return NotebooksTogether(config, log)
