"""Where data and caches live.

* Datasets (generated SynthFER, or a user's CK+/AFEW copy) live under the data
  root: ``$SMATE_DATA`` if set, else ``<repo>/data`` (gitignored).
* Decoded, preprocessed clips are cached under ``$SMATE_CACHE`` if set, else
  ``<repo>/cache`` (gitignored).
* Committed manifests live in ``<repo>/data_manifests``.

Relative profile paths (``profile.data.data_root``) are resolved against the
repository root, not the current directory, so a notebook executed from
``notebooks/`` finds the same files as a script run from the repository root.
"""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["REPO_ROOT", "data_root", "cache_root", "manifest_dir"]

#: Repository root (the folder holding ``smate_nb/``).
REPO_ROOT: Path = Path(__file__).resolve().parents[2]


def _resolve(p: str | os.PathLike) -> Path:
    p = Path(p).expanduser()
    return p if p.is_absolute() else REPO_ROOT / p


def data_root(default: str | os.PathLike = "data") -> Path:
    """The data root: ``$SMATE_DATA`` if set, else ``default`` under the repository root."""
    env = os.environ.get("SMATE_DATA")
    return _resolve(env) if env else _resolve(default)


def cache_root(default: str | os.PathLike = "cache") -> Path:
    """The clip-cache root: ``$SMATE_CACHE`` if set, else ``default`` under the repository root."""
    env = os.environ.get("SMATE_CACHE")
    return _resolve(env) if env else _resolve(default)


def manifest_dir(default: str | os.PathLike = "data_manifests") -> Path:
    """Folder of committed manifests (``data_manifests/`` at the repository root)."""
    return _resolve(default)
