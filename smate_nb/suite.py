"""The batch runner: execute every notebook of the suite with one profile.

``python -m smate_nb run --profile smoke|cpu|paper [--only NAME] [--jobs N] [--force]``

* Every ``notebooks/NN_name.ipynb`` is executed with papermill, injecting the
  parameters ``profile`` and ``reports_root``, into
  ``reports/<profile>/executed/NN_name.ipynb`` (written atomically).
* Resume: a notebook whose source and parameters are unchanged since its last
  *successful* execution is skipped (a stamp ``executed/NN_name.json`` records a
  hash of both, the wall time and the status). ``--force`` re-executes. The
  studies themselves cache trained models, so a forced re-run is cheap too.
* A failing notebook is reported with the failing cell (index, source, error)
  and does not stop the others; the command exits non-zero at the end.
* ``reports/<profile>/README.md`` indexes every notebook, table and figure.
"""
from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

from .config import PROFILES, get_profile
from .files import atomic_path, write_json, write_text
from .report import default_reports_root

__all__ = ["NotebookResult", "discover", "run_notebook", "run_suite", "write_index", "main"]

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_NOTEBOOKS = REPO_ROOT / "notebooks"


@dataclass
class NotebookResult:
    """Outcome of one notebook in a suite run."""

    name: str
    status: str                      # "ok" | "skipped" | "failed"
    seconds: float = 0.0
    output: str = ""
    error: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        if self.status == "failed":
            e = self.error
            return (f"FAILED {self.name}: cell {e.get('cell_index')} raised {e.get('ename')}: "
                    f"{e.get('evalue')}\n    see {self.output}")
        return f"{self.status:7s} {self.name} ({self.seconds:.1f} s)"


def discover(notebooks_dir: str | os.PathLike = DEFAULT_NOTEBOOKS, only: Iterable[str] | None = None) -> list[Path]:
    """The suite's notebooks in reading order (sorted by file name).

    ``only``: names to keep — a stem (``01_model_walkthrough``), its part after the
    number (``model_walkthrough``) or a unique substring. Unknown names raise
    ``ValueError`` listing the available ones.
    """
    nbs = sorted(p for p in Path(notebooks_dir).glob("*.ipynb") if not p.name.startswith("."))
    if not only:
        return nbs
    picked: list[Path] = []
    for name in only:
        hits = [p for p in nbs if name in (p.stem, p.stem.split("_", 1)[-1])] or [p for p in nbs if name in p.stem]
        if len(hits) != 1:
            raise ValueError(f"--only {name!r} matches {[p.stem for p in hits] or 'no notebook'}; "
                             f"available: {[p.stem for p in nbs]}")
        picked += [h for h in hits if h not in picked]
    return picked


def _stamp(nb_path: Path, parameters: dict[str, Any]) -> str:
    """Hash of the notebook's cell sources and the injected parameters."""
    cells = json.loads(nb_path.read_text())["cells"]
    src = [(c["cell_type"], "".join(c["source"]) if isinstance(c["source"], list) else c["source"]) for c in cells]
    blob = json.dumps({"cells": src, "parameters": parameters}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _kernel_name() -> str:
    """The suite's registered kernel (``make`` registers ``smate-nb``) or the current Python's."""
    from jupyter_client.kernelspec import KernelSpecManager

    wanted = os.environ.get("SMATE_KERNEL", "smate-nb")
    try:
        spec = KernelSpecManager().get_kernel_spec(wanted)
        # Only trust it if it runs this interpreter (a stale kernel from another venv would not).
        if Path(spec.argv[0]).resolve() == Path(sys.executable).resolve():
            return wanted
    except Exception:
        pass
    return "python3"


def run_notebook(nb_path: Path, profile: str, reports_root: Path, extra: dict[str, Any] | None = None,
                 force: bool = False, kernel: str | None = None) -> NotebookResult:
    """Execute one notebook with papermill (or skip it when its stamp is current).

    Args:
        nb_path: source notebook.
        profile: profile name injected as the ``profile`` parameter.
        reports_root: reports root injected as ``reports_root``; outputs go to
            ``reports_root/<profile>/executed/``.
        extra: further papermill parameters.
        force: ignore the resume stamp.
    Returns:
        a :class:`NotebookResult`.
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    # The default root is injected as None (the notebook resolves it the same way), so stamps and executed
    # notebooks carry no machine-specific path and a committed report resumes in any clone.
    injected_root = None if Path(reports_root).resolve() == default_reports_root().resolve() else str(reports_root)
    parameters = {"profile": profile, "reports_root": injected_root, **(extra or {})}
    out_dir = Path(reports_root) / profile / "executed"
    out_dir.mkdir(parents=True, exist_ok=True)
    out_nb = out_dir / nb_path.name
    stamp_path = out_dir / f"{nb_path.stem}.json"
    stamp = _stamp(nb_path, parameters)
    if not force and stamp_path.exists() and out_nb.exists():
        prev = json.loads(stamp_path.read_text())
        if prev.get("stamp") == stamp and prev.get("status") == "ok":
            return NotebookResult(nb_path.stem, "skipped", prev.get("seconds", 0.0), str(out_nb))

    t0 = time.perf_counter()
    result = NotebookResult(nb_path.stem, "ok", output=str(out_nb))
    with atomic_path(out_nb) as tmp:
        try:
            pm.execute_notebook(str(nb_path), str(tmp), parameters=parameters, kernel_name=kernel or _kernel_name(),
                                cwd=str(nb_path.parent), progress_bar=False, log_output=False)
        except PapermillExecutionError as err:
            result.status = "failed"
            result.error = {"cell_index": err.cell_index, "exec_count": err.exec_count, "ename": err.ename,
                            "evalue": err.evalue, "source": err.source}
        except Exception as err:  # kernel died, bad notebook JSON, ...: still keep going
            result.status = "failed"
            result.error = {"cell_index": None, "ename": type(err).__name__, "evalue": str(err), "source": ""}
            if not tmp.exists() or tmp.stat().st_size == 0:
                tmp.write_text(nb_path.read_text())
    result.seconds = time.perf_counter() - t0
    # The stamp names the executed notebook relative to its folder: committed reports carry no machine paths.
    write_json(stamp_path, {"stamp": stamp, "parameters": parameters, **asdict(result), "output": out_nb.name})
    return result


def write_index(profile: str, reports_root: Path, results: list[NotebookResult]) -> Path:
    """Write ``reports/<profile>/README.md``: notebooks, tables (inlined) and figures."""
    base = Path(reports_root) / profile
    lines = [f"# smate-nb report — profile `{profile}`", "",
             f"{get_profile(profile).description}. Generated by `python -m smate_nb run --profile {profile}`.", "",
             "## Notebooks", "", "| notebook | status | seconds |", "|---|---|---|"]
    stamps = sorted((base / "executed").glob("*.json"))
    known = {r.name: r for r in results}
    for s in stamps:
        info = json.loads(s.read_text())
        r = known.get(s.stem)
        status = r.status if r else info.get("status", "?")
        lines.append(f"| [{s.stem}](executed/{s.stem}.ipynb) | {status} | {info.get('seconds', 0):.1f} |")
    tables = sorted((base / "tables").glob("*.md"))
    if tables:
        lines += ["", "## Tables", ""]
        for t in tables:
            lines += [f"### {t.stem}", "", t.read_text().strip(), "", f"CSV: [tables/{t.stem}.csv](tables/{t.stem}.csv)", ""]
    figures = sorted((base / "figures").glob("*.png"))
    if figures:
        lines += ["", "## Figures", ""]
        lines += [f"- [{f.stem}](figures/{f.name})" for f in figures]
    return write_text(base / "README.md", "\n".join(lines) + "\n")


def run_suite(profile: str, only: Iterable[str] | None = None, jobs: int = 1, force: bool = False,
              notebooks_dir: str | os.PathLike = DEFAULT_NOTEBOOKS, reports_root: str | os.PathLike | None = None,
              extra: dict[str, Any] | None = None, progress: bool = True) -> list[NotebookResult]:
    """Run (or resume) the suite for one profile; return one result per notebook.

    ``jobs`` notebooks execute at once, each in its own kernel; on CPU every
    kernel uses one torch thread (``SMATE_THREADS``) unless told otherwise.
    """
    from tqdm.auto import tqdm

    get_profile(profile)
    reports_root = Path(reports_root) if reports_root else default_reports_root()
    reports_root = reports_root.resolve()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    nbs = discover(notebooks_dir, only)
    results: list[NotebookResult] = []
    bar = tqdm(total=len(nbs), desc=f"suite[{profile}]", unit="nb", disable=not progress)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(run_notebook, nb, profile, reports_root, extra, force): nb for nb in nbs}
        for fut in as_completed(futures):
            r = fut.result()
            results.append(r)
            bar.set_postfix_str(f"{r.name}: {r.status}")
            bar.update()
            bar.write(r.line())
    bar.close()
    results.sort(key=lambda r: r.name)
    write_index(profile, reports_root, results)
    return results


def _parse_param(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--param needs KEY=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    try:
        return key, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key, value


def main(argv: list[str] | None = None) -> int:
    """CLI entry point (``python -m smate_nb``)."""
    parser = argparse.ArgumentParser(prog="python -m smate_nb", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute the notebooks with a profile")
    run.add_argument("--profile", default="cpu", choices=sorted(PROFILES))
    run.add_argument("--only", action="append", help="run only this notebook (repeatable)")
    run.add_argument("--jobs", type=int, default=1, help="notebooks executed at once (default 1)")
    run.add_argument("--force", action="store_true", help="re-execute notebooks even if up to date")
    run.add_argument("--param", action="append", type=_parse_param, default=[],
                     help="extra notebook parameter KEY=VALUE (repeatable)")
    run.add_argument("--notebooks", default=str(DEFAULT_NOTEBOOKS))
    run.add_argument("--reports", default=None, help="reports root (default: reports/ or $SMATE_REPORTS)")
    sub.add_parser("profiles", help="list the profiles")
    args = parser.parse_args(argv)
    if args.command == "profiles":
        for p in PROFILES.values():
            print(f"{p.name:6s} {p.model:16s} {p.description}")
        return 0
    try:
        results = run_suite(args.profile, args.only, args.jobs, args.force, args.notebooks, args.reports,
                            dict(args.param))
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    failed = [r for r in results if r.status == "failed"]
    print(f"\n{len(results) - len(failed)} ok/skipped, {len(failed)} failed")
    for r in failed:
        print(r.line())
        if r.error.get("source"):
            print("    failing cell:\n" + "\n".join("      " + s for s in r.error["source"].splitlines()[:15]))
    return 1 if failed else 0
