"""How `make test` shares its items among pytest-xdist workers (``pytest -n N``).

Work is handed out in whole units (xdist's scope scheduling), one unit per:

* ``notebooks`` — every notebook cell (nbval): one worker runs the notebooks in their reading order, each cell
  after the previous one on the same kernel (nbval needs a notebook's cells on one worker), and the summary
  notebooks after the studies whose smoke tables they read;
* test file — a file's tests run in order in one process, with its module-scoped fixtures built once, the same as
  a serial run.

The longest units are handed out first (:data:`LONGEST_FIRST`).

xdist's own ``--dist loadgroup`` markers cannot express this with the pinned pytest 9.2: xdist 3.8 appends the
group to ``item._nodeid``, which pytest 9 no longer reads (the node id is ``item._id``), so marked items were
scattered one by one. Without ``-n`` (plain ``pytest``) only the order changes.
"""
from __future__ import annotations


def work_unit(nodeid: str) -> str:
    """The unit an item's node id belongs to: ``"notebooks"`` for a notebook cell, else its file's path."""
    path = nodeid.split("::", 1)[0]
    return "notebooks" if path.endswith(".ipynb") else path


# The longest units start first, so that no long one is left alone at the end: serial seconds of a fresh-clone run on
# the 2-core VM (2026-12-08): notebooks 145, test_gpu_session 106, test_suite 47, test_sweep 36; every other file
# ≤ 19. Last in collection order, test_gpu_session ran alone for the final 100 s of a 270 s two-worker run.
LONGEST_FIRST = ("notebooks", "tests/test_gpu_session.py", "tests/test_suite.py", "tests/test_sweep.py")


def pytest_collection_modifyitems(config, items):
    """Puts the units of :data:`LONGEST_FIRST` first, in that order; the rest keep their order (so does every
    unit's inside: a stable sort)."""
    rank = {unit: i for i, unit in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(work_unit(item.nodeid), len(rank)))


def pytest_xdist_make_scheduler(config, log):
    """The scheduler of every ``-n`` run: xdist's scope scheduling over :func:`work_unit`, units handed out in
    collection order (xdist would otherwise sort them by number of tests, which is not their duration)."""
    from xdist.scheduler import LoadScopeScheduling

    class NotebooksTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    config.option.loadscopereorder = False
    return NotebooksTogether(config, log)
