"""Where a notebook puts its tables and figures.

Every notebook creates one :class:`Report` from its papermill parameters and
writes through it, so all outputs of a profile land in one tree::

    reports/<profile>/
        tables/<notebook>__<name>.csv   (+ .md)
        figures/<notebook>__<name>.png
        executed/<notebook>.ipynb       (written by the suite runner)
        README.md                       (index, written by the suite runner)

Writes are atomic (:mod:`smate_nb.files`). Each table's Markdown carries a
caption and, where given, the paper's numbers beside ours.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .files import atomic_path, write_json, write_text

__all__ = ["Report", "default_reports_root"]


def default_reports_root() -> Path:
    """``$SMATE_REPORTS`` if set, else ``reports/`` at the repository root."""
    env = os.environ.get("SMATE_REPORTS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "reports"


@dataclass
class Report:
    """Output sink of one notebook under one profile.

    Args:
        profile: profile name (``smoke`` / ``cpu`` / ``paper``).
        notebook: short notebook name, used as a file-name prefix.
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

    def _stem(self, name: str) -> str:
        return f"{self.notebook}__{name}"

    def figure(self, fig: Any, name: str, dpi: int = 120) -> Path:
        """Save a matplotlib figure as ``figures/<notebook>__<name>.png``; return the path."""
        dest = self.figures_dir / f"{self._stem(name)}.png"
        with atomic_path(dest) as tmp:
            fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png")
        return dest

    def table(self, df: Any, name: str, caption: str = "", floatfmt: str = ".2f",
              meta: dict[str, Any] | None = None) -> Path:
        """Save a pandas DataFrame as CSV + Markdown (+ JSON sidecar of ``meta``).

        ``caption`` heads the Markdown file; ``meta`` records the choices a run
        made (profile, parameters, variants) so every number is traceable.
        Returns the CSV path.
        """
        stem = self.tables_dir / self._stem(name)
        csv_path = stem.with_suffix(".csv")
        write_text(csv_path, df.to_csv(index=False))
        md = f"**{caption}**\n\n" if caption else ""
        md += df.to_markdown(index=False, floatfmt=floatfmt) + "\n"
        write_text(stem.with_suffix(".md"), md)
        if meta is not None:
            write_json(stem.with_suffix(".json"), meta)
        return csv_path
