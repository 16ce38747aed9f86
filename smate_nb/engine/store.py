"""The runs store: one folder per experiment key, results that are checked before they are trusted, and
claims that make a config requested twice at once train once.

Layout (``$SMATE_RUNS`` or ``runs/`` at the repository root; a shared filesystem for a cluster)::

    runs/<key>/result.json     the stored result (written last, atomically)
    runs/<key>/ckpt/           the last complete checkpoint (see smate_nb.checkpoint)
    runs/<key>/claim.json      present while a process trains the run (pid, host, heartbeat)

**Claims.** Before training, :func:`fit` takes the run's claim by creating ``claim.json`` exclusively
(``O_CREAT | O_EXCL``: exactly one process succeeds). The owner refreshes the file's modification time
every ``heartbeat`` seconds from a background thread. Another process asking for the same run waits
until the result appears — or until the claim is *stale*: its owner's PID is gone on this host, or its
heartbeat is older than ``stale_after`` seconds (``$SMATE_CLAIM_STALE_S``, default 120; for owners on
other hosts this is the only test). A stale claim is taken over atomically (renamed away first, so two
waiters cannot both take it) and the run resumes from its last checkpoint.
"""
from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

from ..files import write_json

__all__ = ["runs_root", "run_dir", "InvalidResultError", "load_result", "quarantine", "Claim"]

_REPO_ROOT = Path(__file__).resolve().parents[2]


def runs_root(root: str | os.PathLike | None = None) -> Path:
    """Where results and checkpoints live: ``root``, else ``$SMATE_RUNS``, else ``runs/`` at the repo root."""
    if root is not None:
        return Path(root)
    env = os.environ.get("SMATE_RUNS")
    return Path(env) if env else _REPO_ROOT / "runs"


def run_dir(key: str, root: str | os.PathLike | None = None) -> Path:
    """The folder of the run with this key."""
    return runs_root(root) / key


class InvalidResultError(ValueError):
    """A stored ``result.json`` is not a complete result of its run."""


_REQUIRED = ("key", "config", "history", "metrics", "metrics_by_test_start", "predictions", "train_size", "test_size")


def load_result(path: str | os.PathLike, key: str | None = None, epochs: int | None = None) -> dict[str, Any]:
    """Read a stored result and check it is one.

    Args:
        path: the ``result.json``.
        key: the experiment key it must carry (the folder's name).
        epochs: the number of epochs its history must hold.
    Returns:
        the result dict.
    Raises:
        InvalidResultError: empty, truncated or not JSON, missing fields, another run's key, a history of the
            wrong length, metrics without WAR/UAR, damaged run-health fields (optional: results stored before
            ``train_eval`` / ``test_prediction_counts`` / ``health`` existed load as they are) — naming the file
            and what is wrong.
    """
    p = Path(path)
    try:
        text = p.read_text()
        result = json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise InvalidResultError(f"{p}: not a readable JSON result ({type(err).__name__}: {err})") from None
    if not isinstance(result, dict):
        raise InvalidResultError(f"{p}: holds a {type(result).__name__}, not a result object")
    missing = [k for k in _REQUIRED if k not in result]
    if missing:
        raise InvalidResultError(f"{p}: missing field(s) {missing}")
    if key is not None and result["key"] != key:
        raise InvalidResultError(f"{p}: holds run {result['key']!r}, not {key!r}")
    if epochs is not None and len(result["history"]) != epochs:
        raise InvalidResultError(f"{p}: history has {len(result['history'])} epochs, the config asks for {epochs}")
    m = result["metrics"]
    if not isinstance(m, dict) or not all(isinstance(m.get(k), (int, float)) for k in ("war", "uar", "n")):
        raise InvalidResultError(f"{p}: metrics lack war / uar / n")
    _check_health_fields(p, result)
    return result


def _check_health_fields(p: Path, result: dict[str, Any]) -> None:
    """The run-health fields (``train_eval``, ``test_prediction_counts``, ``health``) are optional — results stored
    before they were recorded lack them and stay valid — but when present they must be whole."""
    from .health import LABELS

    te = result.get("train_eval")
    if te is not None and not (isinstance(te, dict) and all(isinstance(te.get(k), (int, float)) for k in ("war", "n"))):
        raise InvalidResultError(f"{p}: train_eval lacks war / n")
    counts = result.get("test_prediction_counts")
    if counts is not None:
        names = result["metrics"].get("class_names")
        if not (isinstance(counts, list) and all(isinstance(c, int) and c >= 0 for c in counts)
                and (names is None or len(counts) == len(names)) and sum(counts) == result["metrics"]["n"]):
            raise InvalidResultError(f"{p}: test_prediction_counts is not one count per class summing to the "
                                     f"{result['metrics']['n']} test clips")
    h = result.get("health")
    if h is not None and not (isinstance(h, dict) and h.get("label") in LABELS):
        raise InvalidResultError(f"{p}: health has no label of {LABELS}")


def quarantine(path: Path, why: str) -> Path:
    """Move a damaged file or folder aside (``<name>.corrupt-<time>``), warn loudly, return the new path."""
    dest = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}")
    os.replace(path, dest)
    warnings.warn(f"{why}; it was moved aside to {dest} (kept for inspection)", RuntimeWarning, stacklevel=3)
    return dest


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Claim:
    """Exclusive claim on a run folder (see the module docstring).

    Use as ``with Claim(folder, done=result_path) as owned:`` — ``owned`` is True when this process holds
    the claim and must train; False when, while waiting, another process finished the run (the result
    exists). ``heartbeat`` / ``stale_after``: seconds.
    """

    def __init__(self, folder: str | os.PathLike, done: str | os.PathLike, *, heartbeat: float = 20.0,
                 stale_after: float | None = None, poll: float = 1.0) -> None:
        self.folder, self.done = Path(folder), Path(done)
        self.path = self.folder / "claim.json"
        self.heartbeat, self.poll = heartbeat, poll
        env = os.environ.get("SMATE_CLAIM_STALE_S")
        self.stale_after = float(stale_after if stale_after is not None else env if env else 120.0)
        self.token = uuid.uuid4().hex
        self.took_over: dict[str, Any] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _info(self) -> tuple[dict[str, Any], float] | None:
        try:
            mtime = self.path.stat().st_mtime
            text = self.path.read_text()
        except FileNotFoundError:
            return None
        try:
            info = json.loads(text)
        except ValueError:
            info = {}                      # being written right now (or damaged): judged by its age alone
        return info, mtime

    def _stale(self, info: dict[str, Any], mtime: float) -> str | None:
        age = time.time() - mtime
        if info.get("host") == socket.gethostname() and isinstance(info.get("pid"), int) \
                and not _pid_alive(info["pid"]):
            return f"its owner (pid {info['pid']} on {info['host']}) is gone"
        if age > self.stale_after:
            return f"no heartbeat for {age:.0f} s (> {self.stale_after:.0f} s)"
        return None

    def _try_create(self) -> bool:
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w") as fh:
            json.dump({"pid": os.getpid(), "host": socket.gethostname(), "token": self.token,
                       "started": time.time()}, fh)
        return True

    def acquire(self) -> bool:
        """Block until this process owns the claim (True) or the run's result exists (False)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        while True:
            if self._try_create():
                self._start_heartbeat()
                return True
            if self.done.exists():
                return False
            got = self._info()
            if got is None:
                continue                   # released between our two looks: try again
            info, mtime = got
            why = self._stale(info, mtime)
            if why:
                tomb = self.path.with_name(f"claim.stale-{uuid.uuid4().hex[:8]}.json")
                try:
                    os.rename(self.path, tomb)      # only one waiter wins this rename
                except FileNotFoundError:
                    continue
                tomb.unlink(missing_ok=True)
                self.took_over = {**info, "why": why}
                warnings.warn(f"run {self.folder.name}: taking over a stale claim ({why}); resuming from its last "
                              "checkpoint", RuntimeWarning, stacklevel=2)
                continue
            time.sleep(self.poll)

    def _start_heartbeat(self) -> None:
        def beat() -> None:
            while not self._stop.wait(self.heartbeat):
                try:
                    os.utime(self.path)
                except FileNotFoundError:
                    return
        self._thread = threading.Thread(target=beat, name=f"claim-{self.folder.name}", daemon=True)
        self._thread.start()

    def release(self) -> None:
        """Stop the heartbeat and remove the claim if it is still ours."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        got = self._info()
        if got is not None and got[0].get("token") == self.token:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()


def write_result(path: Path, result: dict[str, Any]) -> Path:
    """Store a result atomically (what :func:`load_result` reads back)."""
    return write_json(path, result)
