"""The batch runner: execute every notebook of the suite with one profile, then check it against the reference.

``python -m smate_nb run --profile smoke|cpu|paper [--only NAME] [--jobs N] [--workers N] [--force]
[--param KEY=VALUE] [--reports DIR | --update-reference]``

Layout. ``reports/<profile>/`` (committed for ``cpu``) is the **reference**. A run executes into its own folder,
``reproduction/<profile>/`` at the repository root by default (gitignored; ``--reports DIR`` picks another root),
with the same layout::

    <root>/<profile>/executed/NN_name.ipynb     executed notebook (only ever replaced by a successful run)
    <root>/<profile>/executed/NN_name.json      stamp of that successful run
    <root>/<profile>/executed/failed/           the last failed or interrupted copy, beside the good one
    <root>/<profile>/tables/ figures/ outputs/  written by the notebooks (smate_nb.report.Report)
    <root>/<profile>/README.md                  index: where this is, what ran, how long, what was reused
    <root>/<profile>/reproduction.md            every table compared with the reference
    <root>/<profile>/html/index.html            the whole report as offline HTML (smate_nb.html_report)

``--update-reference`` is the one way to write into ``reports/<profile>/``: it executes there and skips the check.

Resume. A notebook is skipped only if its last successful run here is still valid: the stamp matches (hash of the
notebook's cells, of its parameters and of the package source ``smate_nb/**/*.py``), the executed copy is a real
file that parses as a notebook, and every output the notebook registered (its outputs manifest) still exists.
``--force`` re-executes. The worker count is not in the stamp: results do not depend on it.

Failures. A failing notebook does not stop the others; the failed copy goes to ``executed/failed/`` with the
failing cell, its offending line and the deepest frame; the command exits 1. A kernel that cannot start gets one
retry, then an error with the cause from the kernel's own stderr. One Ctrl-C interrupts the running kernels,
keeps finished work, removes temporary files, writes the index and exits 130 (a second Ctrl-C kills the kernels).
Usage errors (missing folders, unknown parameters, ``--jobs 0`` ...) exit 2 before anything is written.
"""
from __future__ import annotations

import argparse
import ast
import datetime as _dt
import difflib
import hashlib
import json
import os
import re
import signal
import sys
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Iterable, Mapping

from .config import PROFILES, cpu_isa_env, get_profile
from .files import _umask, read_json_object as _read_json, write_json, write_text  # _umask: read without changing it (threads)
from .report import manifest_files, read_manifest

__all__ = ["NotebookResult", "RunPlan", "RunSummary", "SuiteError", "TableComparison", "discover", "default_workers",
           "package_hash", "plan_run", "check_done", "run_notebook", "execute_plan", "finish_run", "run_suite",
           "write_index", "compare_reports", "write_reproduction", "main"]

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_NOTEBOOKS = REPO_ROOT / "notebooks"
REFERENCE_ROOT = REPO_ROOT / "reports"          # committed reference reports/<profile>/
DEFAULT_RUN_ROOT = REPO_ROOT / "reproduction"   # a user's run (gitignored)
RESERVED_PARAMS = {"profile": "--profile", "reports_root": "--reports DIR (or --update-reference)"}
KILL_AFTER_S = 10.0   # after one Ctrl-C, kernels that ignore the interrupt this long are killed
GIVE_UP_AFTER_S = 30.0  # after the kill, stop waiting for a notebook thread that still has not returned

# Live kernels and temporary files of this process, so that Ctrl-C can interrupt the one and remove the other.
_LIVE_KERNELS: dict[str, Any] = {}
_TEMP_FILES: set[Path] = set()
_LOCK = threading.Lock()


class SuiteError(ValueError):
    """A usage error found before anything ran; the message names the path, flag or field and the fix."""


# ----------------------------------------------------------------------------------------------------------------
# results, plan


@dataclass
class NotebookResult:
    """Outcome of one notebook in a suite run.

    ``status``: ``ok`` (executed now), ``skipped`` (its earlier run here is still valid), ``failed``,
    ``interrupted`` (Ctrl-C while it ran) or ``not run`` (Ctrl-C before it started). ``reason`` says why it ran or
    was skipped; ``runs`` counts the trainings behind its numbers (trained now / reused from stored runs).
    """

    name: str
    status: str
    seconds: float = 0.0
    output: str = ""
    error: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    runs: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        """A one- or few-line human summary, as printed by the runner."""
        if self.status == "failed":
            e = self.error
            where = f"cell {e['cell_index']} raised " if e.get("cell_index") is not None else ""
            text = f"FAILED {self.name}: {where}{e.get('ename')}: {e.get('evalue')}"
            if e.get("line"):
                text += f"\n    line {e.get('line_no')} of the cell: {e['line']}"
            if e.get("frame"):
                text += f"\n    deepest frame: {e['frame']}"
            return text + f"\n    failed copy: {self.output}"
        if self.status == "interrupted":
            return f"interrupted {self.name} after {self.seconds:.1f} s (Ctrl-C); partial copy: {self.output}"
        if self.status == "not run":
            return f"not run {self.name} ({self.reason})"
        if self.status == "skipped":
            return f"skipped {self.name} (up to date; executed in {_duration(self.seconds, self.runs)})"
        return f"{self.status:7s} {self.name} in {_duration(self.seconds, self.runs)} — {self.reason}"


@dataclass
class RunPlan:
    """Everything a run needs, checked before anything is written (see :func:`plan_run`)."""

    profile: str
    notebooks: list[Path]
    params: dict[str, dict[str, Any]]     # per notebook stem: the --param values it takes
    root: Path                            # reports root of this run (<root>/<profile>/ is written)
    reference_root: Path
    jobs: int = 1
    workers: int = 1
    force: bool = False
    kernel: str | None = None
    notebooks_dir: Path = DEFAULT_NOTEBOOKS
    notes: list[str] = field(default_factory=list)
    interrupted: bool = False

    @property
    def base(self) -> Path:
        """The profile folder this run writes: ``<root>/<profile>/``."""
        return self.root / self.profile

    @property
    def reference(self) -> Path:
        """The reference profile folder: ``<reference_root>/<profile>/``."""
        return self.reference_root / self.profile

    @property
    def is_reference(self) -> bool:
        """True when this run refreshes the reference itself (``--update-reference``)."""
        return self.root.resolve() == self.reference_root.resolve()


@dataclass
class RunSummary:
    """What :func:`finish_run` wrote, and the lines the CLI prints last."""

    index: Path
    reproduction: Path | None
    html: Path | None
    lines: list[str]
    html_error: str = ""


def _show(path: Path) -> str:
    """A path as the reader should see it: relative to the repository when inside it."""
    path = Path(path).resolve()
    try:
        return path.relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


def _duration(seconds: float, runs: dict[str, int] | None = None) -> str:
    """``12.0 s`` / ``52.5 min``, plus the trainings behind it: ``(40 trainings reused)``, ``(38 trained, 2 reused)``."""
    text = f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"
    trained, reused = (runs or {}).get("trained", 0), (runs or {}).get("reused", 0)
    if reused and not trained:
        text += f" ({reused} training{'s' if reused != 1 else ''} reused)"
    elif trained and not reused:
        text += f" ({trained} training{'s' if trained != 1 else ''} run)"
    elif trained and reused:
        text += f" ({trained} trained, {reused} reused)"
    return text


def discover(notebooks_dir: str | os.PathLike = DEFAULT_NOTEBOOKS, only: Iterable[str] | None = None) -> list[Path]:
    """The suite's notebooks in reading order (sorted by file name).

    ``only``: names to keep — a stem (``01_model_walkthrough``), its part after the
    number (``model_walkthrough``) or a unique substring. Raises :class:`SuiteError`
    (a ``ValueError``) for a missing or empty folder and for unknown names, listing
    the available ones.
    """
    folder = Path(notebooks_dir)
    if not folder.exists():
        raise SuiteError(f"--notebooks {folder}: no such folder; point it at the folder holding the suite's "
                         f"NN_name.ipynb notebooks (default {_show(DEFAULT_NOTEBOOKS)})")
    if not folder.is_dir():
        raise SuiteError(f"--notebooks {folder} is a file, not a folder; give the folder holding the notebooks")
    nbs = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
    if not nbs:
        raise SuiteError(f"--notebooks {folder}: no *.ipynb notebooks in this folder; point it at the suite's "
                         f"notebooks (default {_show(DEFAULT_NOTEBOOKS)}), or run `jupytext --sync` on the .py sources")
    if not only:
        return nbs
    picked: list[Path] = []
    for name in only:
        hits = [p for p in nbs if name in (p.stem, p.stem.split("_", 1)[-1])] or [p for p in nbs if name in p.stem]
        if len(hits) != 1:
            raise SuiteError(f"--only {name!r} matches {[p.stem for p in hits] or 'no notebook'}; "
                             f"available: {[p.stem for p in nbs]}")
        picked += [h for h in hits if h not in picked]
    return picked


def default_workers() -> int:
    """Parallel trainings per study: ``$SMATE_WORKERS``, else usable cores ÷ torch threads per process (≥ 1)."""
    env = os.environ.get("SMATE_WORKERS")
    if env not in (None, ""):
        try:
            n = int(env)
        except ValueError:
            n = 0
        if n < 1:
            raise SuiteError(f"$SMATE_WORKERS={env!r} is not a whole number ≥ 1; unset it or set e.g. SMATE_WORKERS=2")
        return n
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        threads = int(os.environ.get("SMATE_THREADS", "1"))
    except ValueError:
        threads = 1
    threads = threads if threads > 0 else cores   # SMATE_THREADS=0: torch's default, one thread per core
    return max(1, cores // threads)


def package_hash(package_dir: str | os.PathLike | None = None) -> str:
    """Hash of every ``*.py`` file under the package (``smate_nb/`` by default): path and bytes, in sorted order."""
    root = Path(package_dir) if package_dir else PACKAGE_DIR
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def _read_notebook_json(nb_path: Path) -> dict[str, Any]:
    """The notebook file as JSON, or a SuiteError naming the file and the fix."""
    try:
        data = json.loads(nb_path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
            raise ValueError("it has no list of 'cells'")
        return data
    except (OSError, ValueError) as err:
        pair = nb_path.with_suffix(".py")
        fix = (f"re-create it from its paired source with `jupytext --to ipynb {pair}`" if pair.exists()
               else f"restore it with `git checkout -- {nb_path}`")
        raise SuiteError(f"{nb_path} is not a readable notebook ({type(err).__name__}: {err}); {fix}") from None


def _notebook_parameters(nb_path: Path) -> list[str]:
    """Names in the notebook's papermill ``parameters`` cell."""
    import papermill as pm

    _read_notebook_json(nb_path)   # a clear error for a broken file, before papermill's bare JSON one
    return list(pm.inspect_notebook(str(nb_path)))


def _validate_values(stem: str, profile: str, values: dict[str, Any]) -> dict[str, Any]:
    """Check and convert ``--param`` values with the notebook's spec (``smate_nb.params.validate``).

    The profile goes along so that fold indices are range-checked for it. Raises
    ``smate_nb.params.ParameterError`` naming the parameter, the value, what was expected and the fix.
    """
    from .params import validate   # lazily: params imports config and the model registry

    checked = validate(stem, {"profile": profile, **values})
    return {k: v for k, v in checked.items() if k in values}


def _check_root(root: Path, flag: str) -> None:
    """A reports root must be (or become) a writable folder; say which path is wrong and what to do."""
    probe = root
    while not probe.exists():
        if probe.is_symlink():   # a dangling link: mkdir would fail later with a bare error
            raise SuiteError(f"{flag} {root}: {probe} is a broken symbolic link; remove it or choose another folder")
        probe = probe.parent
    if not probe.is_dir():
        what = "is a file" if probe == root else f"lies under {probe}, which is a file"
        raise SuiteError(f"{flag} {root} {what}, not a folder; give a folder for the run's reports "
                         "(it is created if missing)")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise SuiteError(f"{flag} {root}: {probe} is not writable; choose a folder you can write to")


def plan_run(profile: str, only: Iterable[str] | None = None, jobs: int = 1, force: bool = False,
             notebooks_dir: str | os.PathLike = DEFAULT_NOTEBOOKS, reports_root: str | os.PathLike | None = None,
             extra: dict[str, Any] | None = None, workers: int | None = None, update_reference: bool = False,
             reference_root: str | os.PathLike | None = None, kernel: str | None = None) -> RunPlan:
    """Check every input of a run and decide what it does; write nothing.

    Args:
        profile: profile name (``smate_nb.config.PROFILES``); unknown names raise ``KeyError``.
        only: notebook names to run (see :func:`discover`); None runs all.
        jobs: notebooks executed at once (≥ 1).
        force: re-execute notebooks even if their earlier run is valid.
        notebooks_dir: folder of ``NN_name.ipynb`` notebooks.
        reports_root: root this run writes ``<root>/<profile>/`` into; None → ``$SMATE_REPORTS`` or
            ``reproduction/``. It may not be the reference root unless ``update_reference``.
        extra: ``--param`` values. ``profile`` / ``reports_root`` are refused (the runner sets them); a name that
            no selected notebook takes is an error; a name some take goes to those only.
        workers: parallel trainings per study, exported as ``SMATE_WORKERS`` to each kernel (≥ 1); None →
            :func:`default_workers`.
        update_reference: execute into the reference (``reference_root``) itself.
        reference_root: root of the reference reports (default ``reports/``).
        kernel: Jupyter kernel name; None → the suite's ``smate-nb`` kernel if it runs this Python, else ``python3``.
    Returns:
        a :class:`RunPlan`. Raises :class:`SuiteError` (or ``smate_nb.params.ParameterError``) with a message
        naming the flag, path or parameter and the fix.
    """
    get_profile(profile)
    if not isinstance(jobs, int) or jobs < 1:
        raise SuiteError(f"--jobs {jobs}: the number of notebooks run at once must be ≥ 1 (e.g. --jobs 1)")
    workers = default_workers() if workers is None else workers
    if not isinstance(workers, int) or workers < 1:
        raise SuiteError(f"--workers {workers}: parallel trainings per study must be ≥ 1 (e.g. --workers 1)")
    reference_root = Path(reference_root or REFERENCE_ROOT).resolve()
    if update_reference:
        if reports_root is not None and Path(reports_root).resolve() != reference_root:
            raise SuiteError(f"--update-reference writes into the reference {_show(reference_root)}; "
                             f"drop --reports {reports_root} (or drop --update-reference to run into it)")
        root = reference_root
    else:
        root = Path(reports_root or os.environ.get("SMATE_REPORTS") or DEFAULT_RUN_ROOT).resolve()
        if root == reference_root:
            flag = "--reports" if reports_root is not None else "$SMATE_REPORTS" if os.environ.get("SMATE_REPORTS") \
                else "the default reports root"
            raise SuiteError(f"{flag} {root} is the reference report folder; a run never writes there unless asked: "
                             "pass --update-reference to refresh the reference, or choose another folder")
    flag = "--reports" if reports_root is not None or update_reference else \
        "$SMATE_REPORTS" if os.environ.get("SMATE_REPORTS") else "reports root"
    _check_root(root, flag)
    _check_root(root / profile, flag)

    nbs = discover(notebooks_dir, only)
    accepted = {nb.stem: _notebook_parameters(nb) for nb in nbs}
    extra = dict(extra or {})
    notes: list[str] = []
    params: dict[str, dict[str, Any]] = {nb.stem: {} for nb in nbs}
    for key, value in extra.items():
        if key in RESERVED_PARAMS:
            raise SuiteError(f"--param {key}={value!r}: the runner sets `{key}` itself; use {RESERVED_PARAMS[key]}")
        takers = [stem for stem, names in accepted.items() if key in names]
        if not takers:
            known = sorted({n for names in accepted.values() for n in names} - set(RESERVED_PARAMS))
            close = difflib.get_close_matches(key, known, n=3)
            listing = "; ".join(f"{stem} takes: {', '.join(n for n in names if n not in RESERVED_PARAMS) or '(none)'}"
                                for stem, names in accepted.items())
            hint = f" Did you mean {' or '.join(close)}?" if close else ""
            raise SuiteError(f"--param {key}: no selected notebook has a parameter named {key!r}.{hint} {listing}")
        for stem in takers:
            params[stem][key] = value
        others = [stem for stem in accepted if stem not in takers]
        if others:
            notes.append(f"--param {key} goes to {', '.join(takers)} only ({', '.join(others)} have no such parameter)")
    for stem, values in params.items():
        if values:
            params[stem] = _validate_values(stem, profile, values)
    return RunPlan(profile=profile, notebooks=nbs, params=params, root=root, reference_root=reference_root,
                   jobs=jobs, workers=workers, force=force, kernel=kernel, notebooks_dir=Path(notebooks_dir),
                   notes=notes)


# ----------------------------------------------------------------------------------------------------------------
# one notebook


def _notebook_hash(nb_path: Path) -> str:
    """Hash of the notebook's cell types and sources (outputs and metadata do not change what it computes)."""
    cells = _read_notebook_json(nb_path)["cells"]
    src = [(c.get("cell_type"), "".join(c["source"]) if isinstance(c.get("source"), list) else c.get("source"))
           for c in cells]
    return hashlib.sha256(json.dumps(src, sort_keys=True).encode()).hexdigest()[:16]


#: Notebooks that read what the other notebooks of their profile wrote (the summary reads every table, the
#: overview the executed copies' costs): they are out of date when another notebook's successful run changed.
READS_OTHER_NOTEBOOKS = ("00_overview", "08_summary")


def _stamp_inputs(nb_path: Path, parameters: dict[str, Any], package_dir: Path | None = None,
                  profile_dir: Path | None = None) -> dict[str, Any]:
    """What a result depends on: the notebook, its parameters (not where the reports go) and the package source;
    for a notebook of :data:`READS_OTHER_NOTEBOOKS`, also the stamp of every other notebook's last successful
    run under ``profile_dir`` (``upstream``)."""
    inputs: dict[str, Any] = {"notebook": _notebook_hash(nb_path), "package": package_hash(package_dir),
                              "parameters": {k: v for k, v in parameters.items() if k != "reports_root"}}
    if nb_path.stem in READS_OTHER_NOTEBOOKS and profile_dir is not None:
        upstream = {}
        for stamp_file in sorted((Path(profile_dir) / "executed").glob("*.json")):
            prev = _read_json(stamp_file) or {}
            if stamp_file.stem != nb_path.stem and prev.get("status") == "ok":
                upstream[stamp_file.stem] = prev.get("stamp")
        inputs["upstream"] = upstream
    return json.loads(json.dumps(inputs, sort_keys=True, default=str))   # as the stamp file will hold it


def _stamp(inputs: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()[:16]


def check_done(nb_path: Path, profile_dir: Path, inputs: dict[str, Any]) -> tuple[bool, str]:
    """Is the earlier successful run of ``nb_path`` under ``profile_dir`` still valid for ``inputs``?

    Valid means: its stamp exists with status ok and the same hash of notebook, parameters and package
    source; the executed copy is a regular file (not a link) that parses as a notebook; and every output
    the notebook registered in its outputs manifest still exists. Returns ``(done, reason)``, the reason
    naming what is missing or changed.
    """
    import nbformat

    executed = profile_dir / "executed"
    prev = _read_json(executed / f"{nb_path.stem}.json")
    if prev is None:
        return False, "never executed here" if not (executed / f"{nb_path.stem}.json").exists() else "stamp unreadable"
    if prev.get("status") != "ok":
        return False, "its last run here did not succeed"
    if "inputs" not in prev:
        return False, "its stamp comes from an older runner (no record of the package source)"
    old = prev["inputs"]
    for key, what in (("notebook", "notebook changed"), ("parameters", "parameters changed"),
                      ("package", "package source (smate_nb/) changed"),
                      ("upstream", "a notebook it reads from was executed again")):
        if old.get(key) != inputs.get(key):
            return False, what
    if prev.get("stamp") != _stamp(inputs):
        return False, "stamp mismatch"
    out_nb = executed / nb_path.name
    if out_nb.is_symlink() or not out_nb.is_file():
        return False, f"executed copy {out_nb.name} is {'a symbolic link' if out_nb.is_symlink() else 'missing'}"
    try:
        nbformat.validate(nbformat.read(out_nb, as_version=4))
    except Exception as err:   # any parse or schema error: the copy cannot be trusted
        return False, f"executed copy {out_nb.name} is not a valid notebook ({type(err).__name__})"
    missing = [rel for rel in prev.get("outputs", []) if not (profile_dir / rel).is_file()]
    if missing:
        more = f" (+{len(missing) - 1} more)" if len(missing) > 1 else ""
        return False, f"registered outputs missing: {missing[0]}{more}"
    return True, "up to date"


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


def _signal_kernel(km: Any, sig: int) -> None:
    """Send ``sig`` to a kernel's whole process group (it runs in its own session: Ctrl-C never reaches it)."""
    prov = getattr(km, "provisioner", None)
    pid, pgid = getattr(prov, "pid", None), getattr(prov, "pgid", None)
    try:
        if pgid:
            os.killpg(pgid, sig)
        elif pid:
            os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _kernel_manager_class(stem: str, env: dict[str, str], stderr: Any, stop: threading.Event) -> type:
    """A kernel manager that starts the kernel with ``env``, sends its stderr to ``stderr`` and registers it."""
    from jupyter_client.manager import AsyncKernelManager

    class SuiteKernelManager(AsyncKernelManager):
        async def start_kernel(self, **kw: Any) -> None:
            kw.setdefault("env", env)
            kw.setdefault("stderr", stderr)
            await super().start_kernel(**kw)
            with _LOCK:
                _LIVE_KERNELS[stem] = self
            if stop.is_set():   # Ctrl-C came while this kernel was starting
                _signal_kernel(self, signal.SIGKILL)

    return SuiteKernelManager


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_MARKER = re.compile(r"^\s*-*>\s*(\d+)\s?(.*)$")


def _offending_lines(traceback: list[str]) -> dict[str, Any]:
    """From an IPython traceback: the cell's offending line (number, code) and the deepest frame ``file:line: code``."""
    found: dict[str, Any] = {}
    entries = [_ANSI.sub("", e) for e in traceback or []]
    for entry in entries:
        lines = entry.splitlines()
        if not lines:
            continue
        head = lines[0].strip()
        marked = [m for m in map(_MARKER.match, lines[1:]) if m]
        if head.startswith(("Cell In[", "Input In [", "<ipython-input")):
            if marked:
                found["line_no"], found["line"] = int(marked[-1].group(1)), marked[-1].group(2).strip()
            else:   # a SyntaxError shows the line itself, then a caret
                m = re.search(r"line (\d+)", head)
                code = next((s.strip() for s in lines[1:] if s.strip() and set(s.strip()) != {"^"}), "")
                found["line_no"], found["line"] = (int(m.group(1)) if m else None), code
            found.pop("frame", None)
        elif head.startswith("File ") and marked:
            file_line = head[5:].split(", in ")[0]
            found["frame"] = f"{file_line}: {marked[-1].group(2).strip()}"
    return found


def _start_failure(err: BaseException) -> bool:
    """True if papermill failed because the kernel never came up (dead or silent before its first reply)."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(err, PapermillExecutionError):
        return False
    text = str(err)
    return "Kernel didn't respond" in text or "Kernel died before replying" in text


def _kernel_cause(stderr_text: str) -> str:
    """The line of a kernel's stderr that names why it died (the last ``SomeError: ...``), else its last line."""
    lines = [ln.strip() for ln in _kernel_noise_free(stderr_text).splitlines()]
    errors = [ln for ln in lines if re.match(r"^[\w.]*(Error|Exception|Exit)\b.*:", ln)]
    return (errors or lines or ["(the kernel wrote nothing to stderr)"])[-1]


def _injected_root(root: Path) -> str | None:
    # The reference root is injected as None (the notebook resolves it via $SMATE_REPORTS, set for its kernel), so
    # the committed executed notebooks carry no machine-specific path.
    return None if root.resolve() == REFERENCE_ROOT.resolve() else str(root)


def _kernel_env(root: Path, workers: int) -> dict[str, str]:
    env = dict(os.environ)
    env["SMATE_REPORTS"] = str(root)
    env["SMATE_WORKERS"] = str(workers)   # the engine's sweep reads it as its default parallelism
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    env.update(cpu_isa_env(env))          # AVX2 kernels on x86-64: config.CPU_ISA_ENV says why
    return env


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _error_dict(err: BaseException, kernel: str, stderr_text: str, attempts: int) -> dict[str, Any]:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(err, PapermillExecutionError):
        return {"cell_index": err.cell_index, "exec_count": err.exec_count, "ename": err.ename,
                "evalue": err.evalue, "source": err.source, **_offending_lines(err.traceback)}
    if _start_failure(err):
        cause = _kernel_cause(stderr_text)
        return {"cell_index": None, "ename": "KernelStartError",
                "evalue": (f"kernel {kernel!r} could not start ({attempts} attempts): {cause} "
                           f"[papermill said only: {err}]. If it is 'Address already in use', another process took "
                           "the kernel's port: run again, or use --jobs 1"),
                "kernel_stderr": stderr_text[-4000:], "source": ""}
    error = {"cell_index": None, "ename": type(err).__name__, "evalue": str(err), "source": ""}
    if _kernel_noise_free(stderr_text):   # e.g. a kernel that died mid-run: its own last words say why
        error["evalue"] += f" — the kernel's stderr ends: {_kernel_cause(stderr_text)}"
        error["kernel_stderr"] = stderr_text[-4000:]
    return error


def _kernel_noise_free(stderr_text: str) -> str:
    """A kernel's stderr without the start-up chatter every kernel prints."""
    noise = ("running over TCP without encryption", "To connect another client", "--existing", "NOTE: When using")
    return "\n".join(ln for ln in stderr_text.splitlines() if ln.strip() and not any(n in ln for n in noise))


def _failure_notebook(nb_path: Path, tmp: Path, message: str) -> None:
    """Leave a readable notebook at ``tmp``: papermill's partial output, else the source with the error on top."""
    import nbformat

    try:
        nbformat.read(tmp, as_version=4)
        return
    except Exception:
        pass
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(f"**This notebook did not execute:** {message}"))
    nbformat.write(nb, tmp)


def run_notebook(nb_path: Path, profile: str, reports_root: Path, extra: dict[str, Any] | None = None,
                 force: bool = False, kernel: str | None = None, workers: int = 1,
                 stop: threading.Event | None = None) -> NotebookResult:
    """Execute one notebook with papermill, or skip it when its earlier run here is still valid.

    Args:
        nb_path: source notebook.
        profile: profile name injected as the ``profile`` parameter.
        reports_root: root of this run; outputs go to ``reports_root/<profile>/``.
        extra: further papermill parameters (already checked by :func:`plan_run`).
        force: execute even if :func:`check_done` says the earlier run is valid.
        kernel: kernel name (default :func:`_kernel_name`).
        workers: exported to the kernel as ``SMATE_WORKERS``.
        stop: set by Ctrl-C; a notebook not started yet is then not run.
    Returns:
        a :class:`NotebookResult`. A successful run replaces ``executed/<stem>.ipynb`` and its stamp; a failed or
        interrupted one leaves them alone and writes ``executed/failed/<stem>.ipynb`` + ``.json``.
    """
    import papermill as pm

    stop = stop or threading.Event()
    root = Path(reports_root).resolve()
    base = root / profile
    executed, failed_dir = base / "executed", base / "executed" / "failed"
    out_nb, stamp_path = executed / nb_path.name, executed / f"{nb_path.stem}.json"
    parameters = {"profile": profile, "reports_root": _injected_root(root), **(extra or {})}
    inputs = _stamp_inputs(nb_path, parameters, profile_dir=base)
    done, reason = check_done(nb_path, base, inputs)
    if done and not force:
        prev = _read_json(stamp_path) or {}
        return NotebookResult(nb_path.stem, "skipped", prev.get("seconds", 0.0), str(out_nb), reason=reason,
                              runs=prev.get("runs", {}))
    reason = "--force" if done else reason
    if stop.is_set():
        return NotebookResult(nb_path.stem, "not run", reason="interrupted before it started")

    kernel = kernel or _kernel_name()
    executed.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{nb_path.name}.", suffix=".ipynb", dir=executed)
    os.fchmod(fd, 0o666 & ~_umask())   # mkstemp gives 0o600; the executed copy gets what open() would
    os.close(fd)
    tmp = Path(tmp_name)
    with _LOCK:
        _TEMP_FILES.add(tmp)
    t0 = time.perf_counter()
    err: BaseException | None = None
    stderr_text, attempts = "", 0
    try:
        for attempts in (1, 2):
            with tempfile.TemporaryFile() as stderr:
                km_class = _kernel_manager_class(nb_path.stem, _kernel_env(root, workers), stderr, stop)
                try:
                    pm.execute_notebook(str(nb_path), str(tmp), parameters=parameters, kernel_name=kernel,
                                        cwd=str(nb_path.parent), progress_bar=False, log_output=False,
                                        kernel_manager_class=km_class)
                    err = None
                except Exception as e:   # cell error, kernel death, ...: recorded below, the suite goes on
                    err = e
                finally:
                    with _LOCK:
                        _LIVE_KERNELS.pop(nb_path.stem, None)
                stderr.seek(0)
                stderr_text = stderr.read().decode("utf-8", "replace")
            if _kernel_noise_free(stderr_text) and err is None:
                # What the kernel process itself printed (native libraries, warnings outside cells) stays visible.
                sys.stderr.write("".join(f"[{nb_path.stem} kernel] {ln}\n"
                                         for ln in _kernel_noise_free(stderr_text).splitlines()))
            if err is None or attempts == 2 or stop.is_set() or not _start_failure(err):
                break
        seconds = time.perf_counter() - t0
        if err is None:
            os.replace(tmp, out_nb)
            manifest = read_manifest(base, nb_path.stem)
            runs = dict((manifest or {}).get("runs") or {})
            result = NotebookResult(nb_path.stem, "ok", seconds, str(out_nb), reason=reason, runs=runs)
            write_json(stamp_path, {"name": nb_path.stem, "status": "ok", "stamp": _stamp(inputs), "inputs": inputs,
                                    "parameters": parameters, "seconds": seconds, "finished": _now(),
                                    "output": out_nb.name, "outputs": manifest_files(manifest), "runs": runs,
                                    "attempts": attempts})
            for stale in (failed_dir / nb_path.name, failed_dir / f"{nb_path.stem}.json"):
                stale.unlink(missing_ok=True)
            return result
        status = "interrupted" if stop.is_set() else "failed"
        error = _error_dict(err, kernel, stderr_text, attempts)
        failed_dir.mkdir(parents=True, exist_ok=True)
        _failure_notebook(nb_path, tmp, f"{error['ename']}: {error['evalue']}")
        failed_nb = failed_dir / nb_path.name
        os.replace(tmp, failed_nb)
        result = NotebookResult(nb_path.stem, status, seconds, str(failed_nb), error=error, reason=reason)
        write_json(failed_dir / f"{nb_path.stem}.json", {**asdict(result), "output": f"failed/{failed_nb.name}",
                                                          "parameters": parameters, "finished": _now()})
        return result
    finally:
        tmp.unlink(missing_ok=True)
        with _LOCK:
            _TEMP_FILES.discard(tmp)


# ----------------------------------------------------------------------------------------------------------------
# the batch


def execute_plan(plan: RunPlan, progress: bool = True) -> list[NotebookResult]:
    """Run the planned notebooks, ``plan.jobs`` at once; handle Ctrl-C; return one result per notebook (sorted).

    On SIGINT (in the main thread): notebooks not started are not run, running kernels get SIGINT (SIGKILL
    after :data:`KILL_AFTER_S` or on a second Ctrl-C), finished work is kept and ``plan.interrupted`` is set.
    """
    from tqdm.auto import tqdm

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    stop = threading.Event()
    sigints: list[float] = []
    in_main = threading.current_thread() is threading.main_thread()
    old_handler = signal.signal(signal.SIGINT, lambda *_: sigints.append(time.monotonic())) if in_main else None
    results: list[NotebookResult] = []
    bar = tqdm(total=len(plan.notebooks), desc=f"suite[{plan.profile}]", unit="nb", disable=not progress)
    pool = ThreadPoolExecutor(max_workers=plan.jobs)

    def submit(nbs: list[Path]) -> set:
        new = {pool.submit(run_notebook, nb, plan.profile, plan.root, plan.params.get(nb.stem), plan.force,
                           plan.kernel, plan.workers, stop): nb for nb in nbs}
        futures.update(new)
        return set(new)

    # A summary notebook reads the tables the others write: it starts only when they have all finished.
    last = [nb for nb in plan.notebooks if nb.stem.endswith("_summary")]
    futures: dict = {}
    pending = submit([nb for nb in plan.notebooks if nb not in last])
    killed_at: float | None = None
    try:
        while pending or (last and not stop.is_set()):
            if not pending:
                pending, last = submit(last), []
            done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for fut in done:
                if fut.cancelled():
                    r = NotebookResult(futures[fut].stem, "not run", reason="interrupted before it started")
                else:
                    r = fut.result()
                results.append(r)
                bar.set_postfix_str(f"{r.name}: {r.status}")
                bar.update()
                bar.write(r.line())
            if sigints and not stop.is_set():
                stop.set()
                plan.interrupted = True
                bar.write("\nCtrl-C: stopping. Running kernels are interrupted, finished notebooks kept "
                          "(Ctrl-C again to kill the kernels at once).")
                for fut in pending:
                    fut.cancel()
                with _LOCK:
                    kernels = list(_LIVE_KERNELS.values())
                for km in kernels:
                    _signal_kernel(km, signal.SIGINT)
            if stop.is_set() and killed_at is None and (len(sigints) > 1 or time.monotonic() - sigints[0] > KILL_AFTER_S):
                killed_at = time.monotonic()
                with _LOCK:
                    kernels = list(_LIVE_KERNELS.values())
                for km in kernels:
                    _signal_kernel(km, signal.SIGKILL)
            if killed_at is not None and time.monotonic() - killed_at > GIVE_UP_AFTER_S:
                for fut in pending:   # threads stuck past a dead kernel: report them, stop waiting
                    results.append(NotebookResult(futures[fut].stem, "interrupted",
                                                  reason="its kernel was killed and it did not return"))
                break
    finally:
        pool.shutdown(wait=not pending, cancel_futures=True)
        if in_main:
            signal.signal(signal.SIGINT, old_handler)
        bar.close()
        with _LOCK:   # a thread that never returned leaves its temporary copy: remove it
            for tmp in list(_TEMP_FILES):
                tmp.unlink(missing_ok=True)
    results.sort(key=lambda r: r.name)
    return results


def finish_run(plan: RunPlan, results: list[NotebookResult], html: bool = True) -> RunSummary:
    """Write the run's index, its reproduction check (unless it is the reference) and the HTML report.

    Returns a :class:`RunSummary` whose ``lines`` end every run: the check's verdicts and where everything is.
    """
    base = plan.base
    base.mkdir(parents=True, exist_ok=True)
    lines: list[str] = []
    reproduction = None
    comparison_line = ""
    if plan.is_reference:
        lines.append(f"Reference refreshed: {_show(base)}/ (nothing to compare: this run is the reference)")
    else:
        reproduction, comparison_line = write_reproduction(base, plan.reference, plan.profile)
        lines.append(comparison_line)
        lines.append(f"  details: {_show(reproduction)}")
    sources = {p.stem for p in plan.notebooks_dir.glob("*.ipynb")}
    orphans = sorted(p.stem for p in (base / "executed").glob("*.json") if p.stem not in sources)
    if orphans:   # e.g. a renamed notebook: its old copy would otherwise pass for part of this report
        lines.append(f"note: {_show(base)}/executed/ holds notebooks with no source in {_show(plan.notebooks_dir)}/ "
                     f"any more: {', '.join(orphans)} (delete their files to drop them from the report)")
    index = write_index(plan.profile, plan.root, results, comparison=comparison_line, reference=plan.reference)
    html_path, html_error = None, ""
    if html:
        from .html_report import write_html_report

        try:
            html_path = write_html_report(base, results)
        except Exception as err:   # the notebooks' results stand; say plainly that the HTML is missing and why
            html_error = f"{type(err).__name__}: {err}"
    lines.append(f"Report: {_show(index)}" + (f"   HTML: {_show(html_path)}" if html_path else ""))
    if html_error:
        lines.append(f"error: the HTML report could not be written ({html_error})")
    return RunSummary(index=index, reproduction=reproduction, html=html_path, lines=lines, html_error=html_error)


def run_suite(profile: str, only: Iterable[str] | None = None, jobs: int = 1, force: bool = False,
              notebooks_dir: str | os.PathLike = DEFAULT_NOTEBOOKS, reports_root: str | os.PathLike | None = None,
              extra: dict[str, Any] | None = None, progress: bool = True, workers: int | None = None,
              update_reference: bool = False, reference_root: str | os.PathLike | None = None,
              kernel: str | None = None, html: bool = True) -> list[NotebookResult]:
    """Run (or resume) the suite for one profile and check it against the reference; return one result per notebook.

    See :func:`plan_run` for the arguments (checked before anything is written), :func:`execute_plan` for the
    execution and Ctrl-C, :func:`finish_run` for the index, ``reproduction.md`` and the HTML report.
    """
    plan = plan_run(profile, only, jobs, force, notebooks_dir, reports_root, extra, workers, update_reference,
                    reference_root, kernel)
    results = execute_plan(plan, progress)
    finish_run(plan, results, html=html)
    return results


# ----------------------------------------------------------------------------------------------------------------
# the index


_SMOKE_NOTE = ("**The `smoke` profile's numbers are at chance by design**: it trains tiny models for seconds so that "
               "every notebook executes in CI. Read the `cpu` report (or `paper`, on a GPU) for results.")


def write_index(profile: str, reports_root: Path, results: list[NotebookResult], comparison: str = "",
                reference: Path | None = None) -> Path:
    """Write ``<reports_root>/<profile>/README.md``: where this is, notebooks (status, run time, trainings), tables,
    figures. ``results`` are this run's; notebooks not in it are listed from their stamps. Returns the path."""
    base = Path(reports_root).resolve() / profile
    reference = Path(reference).resolve() if reference else REFERENCE_ROOT / profile
    is_reference = base == reference.resolve()
    lines = [f"# smate-nb report — profile `{profile}`", ""]
    if is_reference:
        lines += [f"**Where you are:** `{_show(base)}/` — the **reference** report committed with the repository, "
                  f"refreshed only by `python -m smate_nb run --profile {profile} --update-reference`. "
                  f"A run of your own goes to `{_show(DEFAULT_RUN_ROOT / profile)}/` and is compared with this one.", ""]
    else:
        lines += [f"**Where you are:** `{_show(base)}/` — a run of `python -m smate_nb run --profile {profile}` on "
                  f"this machine, checked against the reference `{_show(reference)}/` in "
                  f"[reproduction.md](reproduction.md).", ""]
        if comparison:
            lines += [f"> {comparison}", ""]
    lines += ["Open [html/index.html](html/index.html) in a browser for every notebook, table and figure without "
              "Jupyter.", ""]
    if profile == "smoke":
        lines += [_SMOKE_NOTE, ""]
    lines += [f"Profile: {get_profile(profile).description}.", "",
              "## Notebooks", "",
              "Run time is the wall time of the execution that produced the copy here; trainings reused from stored "
              "runs (`runs/`) take no time, and are counted as such.", "",
              "| notebook | this run | run time | executed |", "|---|---|---|---|"]
    executed = base / "executed"
    known = {r.name: r for r in results}
    names = sorted({p.stem for p in executed.glob("*.json")} | {p.stem for p in (executed / "failed").glob("*.json")}
                   | set(known))
    for name in names:
        stamp = _read_json(executed / f"{name}.json") or {}
        failure = _read_json(executed / "failed" / f"{name}.json") or {}
        r = known.get(name)
        good = (executed / f"{name}.ipynb").is_file() and stamp.get("status") == "ok"
        link = f"[{name}](executed/{name}.ipynb)" if good else name
        if r is None:
            status = "not in this run" + (" (last run failed)" if failure and not good else "")
        elif r.status in ("failed", "interrupted"):
            first_line = (str(r.error.get("evalue") or "").splitlines() or [""])[0][:120]
            copy = "partial" if r.status == "interrupted" else "failed"
            status = (f"**{r.status}** — {r.error.get('ename', '')}: {first_line}; "
                      f"[{copy} copy](executed/failed/{name}.ipynb)" + ("; last good copy kept" if good else ""))
        elif r.status == "skipped":
            status = "skipped (up to date)"
        else:
            status = r.status
        if good:
            when, took = stamp.get("finished", "?"), _duration(stamp.get("seconds", 0.0), stamp.get("runs"))
        else:
            when, took = "—", "—"
        lines.append(f"| {link} | {status} | {took} | {when} |")
    tables = sorted((base / "tables").glob("*.md"))
    if tables:
        lines += ["", "## Tables", ""]
        for t in tables:
            kind = (_read_json(t.with_suffix(".json")) or {}).get("reproduce", "compare")
            note = " (timing: measured on this machine, not compared with the reference)" if kind == "timing" else ""
            lines += [f"### {t.stem}{note}", "", t.read_text().strip(), "", f"CSV: [tables/{t.stem}.csv](tables/{t.stem}.csv)", ""]
    figures = sorted((base / "figures").glob("*.png"))
    if figures:
        lines += ["", "## Figures", ""]
        lines += [f"- [{f.stem}](figures/{f.name})" for f in figures]
    return write_text(base / "README.md", "\n".join(lines) + "\n")


# ----------------------------------------------------------------------------------------------------------------
# the reproduction check


@dataclass
class TableComparison:
    """One table of the reference vs the same table of a run.

    ``verdict``: ``identical`` · ``within spread`` (every differing cell is within the ± spread the table prints,
    or equal at its printed precision) · ``different`` (``details`` lists the cells) · ``missing in this run`` ·
    ``missing in reference`` · ``timing, not compared`` · ``not run here`` (its notebook did not run in this folder).
    """

    name: str
    verdict: str
    details: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)   # what was deliberately not compared (timing columns)


_NUM = re.compile(r"[-+−]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def _parse_md_table(path: Path) -> tuple[str, list[str], list[list[str]]] | None:
    """(caption, header, rows) of the first pipe table in a Markdown file; None if it has none."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    rows = [ln for ln in lines if ln.lstrip().startswith("|")]
    if len(rows) < 2:
        return None
    caption = "\n".join(ln for ln in lines if ln.strip() and not ln.lstrip().startswith("|")).strip()
    split = [[c.strip() for c in ln.strip().strip("|").split("|")] for ln in rows]
    return caption, split[0], split[2:]


def _decimals(num: str) -> int:
    mantissa = re.split(r"[eE]", num)[0]
    return len(mantissa.split(".")[1]) if "." in mantissa else 0


def _to_decimal(num: str) -> Decimal:
    return Decimal(num.replace("−", "-"))


def _compare_cell(ref: str, run: str) -> tuple[str, str]:
    """``("identical"|"within"|"different", why)`` for one printed cell.

    Numbers are compared at the coarser printed precision of the two; a number followed by ``± s`` is a mean
    whose spread is ``s``: within if the means differ by at most the larger spread (plus half a printed unit).
    Any text around the numbers must be equal.
    """
    if ref == run:
        return "identical", ""
    ref_nums, run_nums = _NUM.findall(ref), _NUM.findall(run)
    if _NUM.sub("#", ref) != _NUM.sub("#", run) or len(ref_nums) != len(run_nums) or not ref_nums:
        return "different", "text differs"
    skeleton = _NUM.split(ref)   # text around the numbers: skeleton[i + 1] follows number i
    i = 0
    while i < len(ref_nums):
        try:
            a, b = _to_decimal(ref_nums[i]), _to_decimal(run_nums[i])
        except InvalidOperation:
            return "different", "unparsable number"
        d = min(_decimals(ref_nums[i]), _decimals(run_nums[i]))
        half_unit = Decimal(5) * Decimal(10) ** (-d - 1)
        if i + 1 < len(ref_nums) and skeleton[i + 1].strip() == "±":
            spread = max(abs(_to_decimal(ref_nums[i + 1])), abs(_to_decimal(run_nums[i + 1])))
            if abs(a - b) > spread + half_unit:
                return "different", f"means differ by {abs(a - b)} > spread {spread}"
            i += 2
            continue
        if "e" in (ref_nums[i] + run_nums[i]).lower():   # 1.23e-05: d decimals of the mantissa
            exponent = max(a.adjusted(), b.adjusted())
            same = abs(a - b) <= half_unit * Decimal(10) ** exponent
        else:
            unit = Decimal(10) ** -d
            try:
                same = a.quantize(unit, ROUND_HALF_EVEN) == b.quantize(unit, ROUND_HALF_EVEN)
            except InvalidOperation:   # more digits than the decimal context holds (a long id): half a unit apart
                same = abs(a - b) <= half_unit
        if not same:
            return "different", f"{ref_nums[i]} vs {run_nums[i]} at {d} printed decimals"
        i += 1
    return "within", ""


#: Sidecar keys naming columns a compared table leaves out of the comparison (see :meth:`smate_nb.report.Report.table`).
UNCOMPARED_COLUMNS = {"timing_columns": "timing", "provenance_columns": "provenance"}


def _compare_table(name: str, ref_md: Path, run_md: Path,
                   uncompared: Mapping[str, Iterable[str]] | None = None) -> TableComparison:
    """Compare two Markdown tables cell by cell; ``uncompared``: ``{"timing": columns, "provenance": columns}``
    left out (and named in the notes)."""
    ref, run = _parse_md_table(ref_md), _parse_md_table(run_md)
    uncompared = {kind: sorted(set(cols)) for kind, cols in (uncompared or {}).items() if cols}
    skip = {c for cols in uncompared.values() for c in cols}
    notes = [f"{kind} columns not compared: {', '.join(cols)}" for kind, cols in uncompared.items()]
    if ref is None or run is None:
        same = ref_md.read_text() == run_md.read_text()
        return TableComparison(name, "identical" if same else "different",
                               [] if same else ["no Markdown table to compare cell by cell; the files differ"])
    (ref_cap, ref_head, ref_rows), (run_cap, run_head, run_rows) = ref, run
    details: list[str] = []
    if ref_cap != run_cap:
        details.append(f"caption differs: reference “{ref_cap}” · this run “{run_cap}”")
    if ref_head != run_head:
        details.append(f"columns differ: reference {ref_head} · this run {run_head}")
        return TableComparison(name, "different", details)
    if len(ref_rows) != len(run_rows):
        details.append(f"rows differ: reference {len(ref_rows)} · this run {len(run_rows)}")
        return TableComparison(name, "different", details)
    within = False
    for ref_row, run_row in zip(ref_rows, run_rows):
        label = ref_row[0] if ref_row else "?"
        for col, a, b in zip(ref_head, ref_row, run_row):
            if col in skip:
                continue
            verdict, why = _compare_cell(a, b)
            within |= verdict == "within"
            if verdict == "different":
                details.append(f"row “{label}”, column “{col}”: reference `{a}` · this run `{b}` ({why})")
        if len(ref_row) != len(run_row):
            details.append(f"row “{label}”: {len(ref_row)} cells in the reference, {len(run_row)} here")
    if details:
        return TableComparison(name, "different", details, notes)
    return TableComparison(name, "within spread" if within else "identical", notes=notes)


def compare_reports(run_dir: Path, reference_dir: Path) -> list[TableComparison]:
    """Compare every table (``tables/*.md``) of a run's profile folder with the reference's; one entry per table.

    A table either side declares ``reproduce: "timing"`` in its JSON sidecar is not compared, nor are the columns
    either side lists as ``timing_columns`` or ``provenance_columns``. A reference table
    whose notebook (the part of its name before ``__``) did not run in ``run_dir`` is ``not run here``.
    """
    run_dir, reference_dir = Path(run_dir), Path(reference_dir)
    ran = {p.stem for p in (run_dir / "executed").glob("*.json")} | \
          {p.stem for p in (run_dir / "executed" / "failed").glob("*.json")}
    ref_tables = {p.stem: p for p in (reference_dir / "tables").glob("*.md")}
    run_tables = {p.stem: p for p in (run_dir / "tables").glob("*.md")}
    out: list[TableComparison] = []
    for name in sorted(set(ref_tables) | set(run_tables)):
        ref, run = ref_tables.get(name), run_tables.get(name)
        sidecars = [_read_json(p.with_suffix(".json")) or {} for p in (ref, run) if p]
        kinds = {sc.get("reproduce", "compare") for sc in sidecars}
        uncompared = {kind: {c for sc in sidecars for c in sc.get(key, [])} for key, kind in UNCOMPARED_COLUMNS.items()}
        if ref is None:
            out.append(TableComparison(name, "missing in reference"))
        elif run is None:
            nb = name.split("__")[0]
            out.append(TableComparison(name, "missing in this run" if nb in ran else "not run here"))
        elif "timing" in kinds:
            out.append(TableComparison(name, "timing, not compared"))
        else:
            out.append(_compare_table(name, ref, run, uncompared))
    return out


_VERDICTS = ("identical", "within spread", "different", "missing in this run", "missing in reference",
             "timing, not compared", "not run here")


def write_reproduction(run_dir: Path, reference_dir: Path, profile: str) -> tuple[Path, str]:
    """Write ``<run_dir>/reproduction.md`` (every table vs the reference); return its path and a one-line summary."""
    run_dir, reference_dir = Path(run_dir), Path(reference_dir)
    lines = [f"# Reproduction check — profile `{profile}`", "",
             f"This run: `{_show(run_dir)}/` · reference: `{_show(reference_dir)}/`.", "",
             "Each table is compared cell by cell as printed in its Markdown file: **identical**; **within spread** — "
             "a cell `m ± s` whose means differ by at most the larger printed spread, or a number equal at the "
             "coarser printed precision of the two; **different** (the cells are listed); **missing** on either "
             "side. Tables of timings, throughput or memory measure the machine and are **timing, not compared** (so are "
             "the timing columns a table declares; so are its provenance columns, such as a run's `reused`, which say how "
             "this execution got a number, not what it is). "
             "Reference tables of notebooks that did not run in this folder are **not run here**.", ""]
    if not (reference_dir / "tables").is_dir():
        summary = (f"Reproduction check: no reference tables at {_show(reference_dir)}/tables — nothing compared "
                   f"(the repository commits a reference for the cpu profile)")
        lines += [summary]
        return write_text(run_dir / "reproduction.md", "\n".join(lines) + "\n"), summary
    comps = compare_reports(run_dir, reference_dir)
    counts = {v: sum(c.verdict == v for c in comps) for v in _VERDICTS}
    summary = (f"Reproduction vs reference {_show(reference_dir)}/: "
               + ", ".join(f"{n} {'DIFFERENT' if v == 'different' else v}" for v, n in counts.items() if n)
               if comps else f"Reproduction vs reference {_show(reference_dir)}/: no tables on either side")
    lines += [f"**{summary}**", "", "| table | verdict |", "|---|---|"]
    lines += [f"| {c.name} | {c.verdict}{f' ({len(c.details)} differences)' if c.verdict == 'different' else ''}"
              f"{''.join(f'; {n}' for n in c.notes)} |" for c in comps]
    diffs = [c for c in comps if c.details]
    if diffs:
        lines += ["", "## Differences", ""]
        for c in diffs:
            lines += [f"### {c.name}", ""] + [f"- {d}" for d in c.details[:50]]
            if len(c.details) > 50:
                lines.append(f"- … and {len(c.details) - 50} more")
            lines.append("")
    return write_text(run_dir / "reproduction.md", "\n".join(lines) + "\n"), summary


# ----------------------------------------------------------------------------------------------------------------
# CLI


def _parse_param(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--param needs KEY=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    try:
        return key.strip(), ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key.strip(), value


def _positive_int(flag: str):
    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            n = 0
        if n < 1:
            raise argparse.ArgumentTypeError(f"{flag} {text}: must be a whole number ≥ 1 (e.g. {flag} 1)")
        return n
    return parse


def main(argv: list[str] | None = None) -> int:
    """CLI entry point (``python -m smate_nb``). Returns 0 (all ok), 1 (a notebook failed), 2 (usage error),
    130 (interrupted)."""
    try:
        return _main(argv)
    except KeyboardInterrupt:   # Ctrl-C outside the batch (while planning or writing the report): no traceback
        print("\ninterrupted", file=sys.stderr)
        return 130


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="python -m smate_nb", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute the notebooks with a profile and compare with the reference")
    run.add_argument("--profile", default="cpu", choices=sorted(PROFILES))
    run.add_argument("--only", action="append", help="run only this notebook (repeatable)")
    run.add_argument("--jobs", type=_positive_int("--jobs"), default=1, help="notebooks executed at once (default 1)")
    run.add_argument("--workers", type=_positive_int("--workers"), default=None,
                     help="parallel trainings per study, exported as SMATE_WORKERS to each notebook "
                          "(default: $SMATE_WORKERS, else cores ÷ SMATE_THREADS)")
    run.add_argument("--force", action="store_true", help="re-execute notebooks even if up to date")
    run.add_argument("--param", action="append", type=_parse_param, default=[],
                     help="notebook parameter KEY=VALUE (repeatable), passed to the selected notebooks that take it")
    run.add_argument("--notebooks", default=str(DEFAULT_NOTEBOOKS), help="folder of NN_name.ipynb notebooks")
    run.add_argument("--reports", default=None,
                     help=f"root this run writes <root>/<profile>/ into (default: $SMATE_REPORTS or {_show(DEFAULT_RUN_ROOT)}/)")
    run.add_argument("--reference", default=None,
                     help=f"root of the reference reports to compare with (default {_show(REFERENCE_ROOT)}/)")
    run.add_argument("--update-reference", action="store_true",
                     help=f"execute into the reference {_show(REFERENCE_ROOT)}/<profile>/ itself (refresh it)")
    run.add_argument("--no-html", action="store_true", help="skip the HTML report")
    html = sub.add_parser("html", help="(re)write the HTML report of an existing report folder")
    html.add_argument("--profile", default="cpu", choices=sorted(PROFILES))
    html.add_argument("--reports", default=str(REFERENCE_ROOT),
                      help=f"reports root holding <profile>/ (default: the reference {_show(REFERENCE_ROOT)}/)")
    sub.add_parser("profiles", help="list the profiles")
    args = parser.parse_args(argv)
    if args.command == "profiles":
        for p in PROFILES.values():
            print(f"{p.name:6s} {p.model:16s} {p.description}")
        return 0
    if args.command == "html":
        from .html_report import write_html_report

        base = Path(args.reports) / args.profile
        if not (base / "executed").is_dir():
            print(f"error: --reports {args.reports}: no {base}/executed/ folder; run the suite first", file=sys.stderr)
            return 2
        print(f"HTML: {_show(write_html_report(base))}")
        return 0
    try:
        plan = plan_run(args.profile, args.only, args.jobs, args.force, args.notebooks, args.reports,
                        dict(args.param), args.workers, args.update_reference, args.reference)
    except ValueError as err:   # SuiteError and params.ParameterError: usage errors, nothing written yet
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"Running {len(plan.notebooks)} notebook(s), profile {plan.profile}, into {_show(plan.base)}/ "
          f"({plan.jobs} at a time, {plan.workers} training worker(s) per study)"
          + ("" if plan.is_reference else f"; reference: {_show(plan.reference)}/"))
    for note in plan.notes:
        print(f"note: {note}")
    results = execute_plan(plan, progress=True)
    summary = finish_run(plan, results, html=not args.no_html)
    failed = [r for r in results if r.status == "failed"]
    counts = {s: sum(r.status == s for r in results) for s in ("ok", "skipped", "failed", "interrupted", "not run")}
    print("\n" + ", ".join(f"{n} {s}" for s, n in counts.items() if n))
    for r in failed:
        print(r.line())
    for line in summary.lines:
        print(line)
    if plan.interrupted:
        sys.stdout.flush()
        if any(t.is_alive() for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon
               and t.name.startswith("ThreadPoolExecutor")):
            os._exit(130)   # a notebook thread is stuck on a killed kernel; do not wait for it at exit
        return 130
    return 1 if failed or summary.html_error else 0
