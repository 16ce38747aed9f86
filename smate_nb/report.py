"""Where a notebook puts its tables and figures.

Every notebook creates one :class:`Report` from its papermill parameters and
writes through it, so all outputs of a profile land in one tree::

    reports/<profile>/
        tables/<notebook>__<name>.csv   (+ .md, + .json sidecar)
        figures/<notebook>__<name>.png
        outputs/<notebook>.json         manifest: every table/figure this notebook wrote, trainings run/reused
        executed/<notebook>.ipynb       (written by the suite runner)
        README.md                       (index, written by the suite runner)

Writes are atomic (:mod:`smate_nb.files`). Each table's Markdown carries a
caption and, where given, the paper's numbers beside ours. The manifest lets
the runner check that a notebook's outputs still exist before it trusts a
finished run, and says which tables are timings (machine-dependent, so not
compared with the reference).
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from .files import atomic_path, write_json, write_text

__all__ = ["Report", "default_reports_root", "manifest_path", "read_manifest", "manifest_files", "REPRODUCE_KINDS"]

# How a table takes part in the reproduction check (smate_nb.suite): "compare" — its cells are compared with the
# reference; "timing" — wall times / throughput / memory of this machine, which cannot reproduce elsewhere.
REPRODUCE_KINDS = ("compare", "timing")


def default_reports_root() -> Path:
    """``$SMATE_REPORTS`` if set, else ``reports/`` at the repository root."""
    env = os.environ.get("SMATE_REPORTS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "reports"


def manifest_path(profile_dir: str | os.PathLike, notebook: str) -> Path:
    """Path of the outputs manifest of ``notebook`` under one profile folder (``outputs/<notebook>.json``)."""
    return Path(profile_dir) / "outputs" / f"{notebook}.json"


def read_manifest(profile_dir: str | os.PathLike, notebook: str) -> dict[str, Any] | None:
    """The outputs manifest of ``notebook`` as a dict, or None when it has none or it is unreadable."""
    import json

    path = manifest_path(profile_dir, notebook)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def manifest_files(manifest: Mapping[str, Any] | None) -> list[str]:
    """Every file a manifest registers, as paths relative to the profile folder (sorted, no duplicates)."""
    if not manifest:
        return []
    files: set[str] = set()
    for entry in (manifest.get("tables") or {}).values():
        files.update(entry.get("files", []))
    files.update((manifest.get("figures") or {}).values())
    return sorted(files)


def _in_kernel() -> bool:
    """True inside an IPython kernel (a notebook run by Jupyter or papermill), not in a plain script."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


@dataclass
class Report:
    """Output sink of one notebook under one profile.

    Creating a Report starts a fresh outputs manifest for the notebook (a new
    execution registers its outputs anew, so files of an older version of the
    notebook are not vouched for).

    Args:
        profile: profile name (``smoke`` / ``cpu`` / ``paper``).
        notebook: short notebook name (the notebook's file stem), used as a file-name prefix.
        root: reports root; defaults to :func:`default_reports_root`.
    """

    profile: str
    notebook: str
    root: str | os.PathLike | None = None

    def __post_init__(self) -> None:
        base = Path(self.root) if self.root else default_reports_root()
        self.dir = base / self.profile
        self.tables_dir = self.dir / "tables"
        self.figures_dir = self.dir / "figures"
        self.tables_dir.mkdir(parents=True, exist_ok=True)
        self.figures_dir.mkdir(parents=True, exist_ok=True)
        self.manifest: dict[str, Any] = {"notebook": self.notebook, "profile": self.profile, "tables": {},
                                         "figures": {}, "runs": {"trained": 0, "reused": 0}}
        self._write_manifest()

    def _stem(self, name: str) -> str:
        return f"{self.notebook}__{name}"

    def _rel(self, path: Path) -> str:
        return path.relative_to(self.dir).as_posix()

    def _write_manifest(self) -> None:
        write_json(manifest_path(self.dir, self.notebook), self.manifest)

    def figure(self, fig: Any, name: str, dpi: int = 120) -> Path:
        """Save a matplotlib figure as ``figures/<notebook>__<name>.png``; return the path.

        Inside a notebook kernel the saved PNG is also displayed inline (so the
        executed notebook shows exactly the file that was written) and the
        figure is closed, so the inline backend does not show it a second time.
        """
        dest = self.figures_dir / f"{self._stem(name)}.png"
        with atomic_path(dest) as tmp:
            fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png")
        self.manifest["figures"][name] = self._rel(dest)
        self._write_manifest()
        if _in_kernel():
            from IPython.display import Image, display

            display(Image(data=dest.read_bytes(), format="png"))
            if "matplotlib.pyplot" in sys.modules:
                sys.modules["matplotlib.pyplot"].close(fig)
        return dest

    def table(self, df: Any, name: str, caption: str = "", floatfmt: str = ".2f",
              meta: dict[str, Any] | None = None, reproduce: str = "compare",
              timing_columns: Iterable[str] = (), provenance_columns: Iterable[str] = ()) -> Path:
        """Save a pandas DataFrame as CSV + Markdown + a JSON sidecar (``meta``, ``reproduce``, ``timing_columns``,
        ``provenance_columns``).

        ``caption`` heads the Markdown file; ``meta`` records the choices a run
        made (profile, parameters, variants) so every number is traceable.
        ``reproduce``: ``"compare"`` (default) — a reproduction run's copy of
        this table is compared cell by cell with the reference; ``"timing"`` —
        the table holds wall times / throughput / memory of the machine that
        ran it, which cannot reproduce elsewhere, so it is reported as
        "timing, not compared". ``timing_columns``: in a compared table, the
        columns that are such measurements (``train seconds``, ``ms_per_frame``);
        they are left out of the comparison, and the check says so.
        ``provenance_columns``: columns that say how a number was obtained in this
        execution rather than what it is (``reused``: read from the runs store or
        trained now) — a fresh reproduction differs there by design; also left
        out of the comparison, and named in the check.
        Returns the CSV path.
        """
        if reproduce not in REPRODUCE_KINDS:
            raise ValueError(f"Report.table({name!r}): reproduce={reproduce!r} is not one of {REPRODUCE_KINDS}; "
                             "use 'timing' for machine-dependent timings, else leave the default 'compare'")
        uncompared = {"timing_columns": list(timing_columns), "provenance_columns": list(provenance_columns)}
        for arg, cols in uncompared.items():
            unknown = [c for c in cols if c not in list(df.columns)]
            if unknown:
                raise ValueError(f"Report.table({name!r}): {arg} {unknown} are not columns of the table "
                                 f"({list(df.columns)}); name them as the DataFrame does")
        clash = [k for k in ("reproduce", *uncompared) if k in (meta or {})]
        if clash:
            raise ValueError(f"Report.table({name!r}): meta has the key(s) {clash}, which the sidecar uses for the "
                             "reproduction check; pass them as arguments or rename the keys")
        stem = self.tables_dir / self._stem(name)
        csv_path, md_path, json_path = stem.with_suffix(".csv"), stem.with_suffix(".md"), stem.with_suffix(".json")
        write_text(csv_path, df.to_csv(index=False))
        md = f"**{caption}**\n\n" if caption else ""
        md += df.to_markdown(index=False, floatfmt=floatfmt) + "\n"
        write_text(md_path, md)
        sidecar = {**(meta or {}), "reproduce": reproduce}
        sidecar.update({arg: cols for arg, cols in uncompared.items() if cols})
        write_json(json_path, sidecar)
        self.manifest["tables"][name] = {"files": [self._rel(p) for p in (csv_path, md_path, json_path)],
                                         "reproduce": reproduce}
        self._write_manifest()
        return csv_path

    def record_runs(self, results: Iterable[Mapping[str, Any]]) -> dict[str, int]:
        """Count the trainings behind this notebook's numbers: trained now vs reused from stored runs.

        ``results`` is the list of result dicts the engine returns (``fit``,
        ``cross_validate``, ``sweep``); a dict with ``"reused": True`` came from
        a stored run, anything else (including a missing key) was trained.
        Counts add up over calls and go into the outputs manifest, where the
        suite's index reads them ("12.0 s (40 trainings reused)"). Returns the
        running totals ``{"trained": n, "reused": m}``.
        """
        runs = self.manifest["runs"]
        for result in results:
            runs["reused" if bool(result.get("reused", False)) else "trained"] += 1
        self._write_manifest()
        return dict(runs)
