"""Atomic file writes: a batch run never leaves a half-written file behind.

Every writer here writes to a temporary file in the destination's folder and
then renames it over the destination (``os.replace`` is atomic on POSIX and
Windows when both paths are on one filesystem). The file gets the permissions a
plain ``open(dest, "w")`` would give it (``0o666`` minus the umask), not the
owner-only ``0o600`` of :func:`tempfile.mkstemp`.
"""
from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

__all__ = ["atomic_path", "write_text", "write_bytes", "write_json", "read_json_object"]


def _umask() -> int:
    """The process umask, read without changing it where the OS allows (Linux ``/proc``).

    Elsewhere it is read by setting and restoring it (Python 3.11 has no ``os.getumask``).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(dest: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path next to ``dest``; on success rename it onto ``dest``.

    The caller writes the file at the yielded path by any means (``cv2.imwrite``,
    ``fig.savefig``, ``safetensors.save_file``...). If the block raises, the
    temporary file is removed and ``dest`` is untouched. The file's mode is
    ``0o666 & ~umask``, as for a file created with ``open``.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=suffix or dest.suffix, dir=dest.parent)
    try:
        if hasattr(os, "fchmod"):  # mkstemp creates 0o600; give what open() would (0o666 & ~umask)
            os.fchmod(fd, 0o666 & ~_umask())
    finally:
        os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, dest)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_bytes(dest: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``dest`` atomically; return ``dest`` as a Path."""
    with atomic_path(dest) as tmp:
        tmp.write_bytes(data)
    return Path(dest)


def write_text(dest: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 ``text`` to ``dest`` atomically; return ``dest`` as a Path."""
    return write_bytes(dest, text.encode("utf-8"))


def write_json(dest: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` as indented, key-sorted JSON atomically (stable bytes for diffs)."""
    return write_text(dest, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def read_json_object(path: str | os.PathLike) -> dict[str, Any] | None:
    """The JSON object stored at ``path``, or None when the file is missing, unreadable, not JSON or not an object
    (callers treat such a record as absent and say so themselves)."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
