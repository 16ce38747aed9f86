"""Data: the built-in SynthFER dataset, manifests for CK+/AFEW/SynthFER, and clip loading.

* :mod:`.synthfer` — procedural facial-expression videos written in the CK+/AFEW layouts
  (:func:`~.synthfer.generate`).
* :mod:`.manifest` — one CSV schema for every dataset; builders reading the distribution
  layouts, subject-independent folds, the balanced AFEW test subset
  (:func:`~.manifest.build_manifest`, :func:`~.manifest.load_manifest`,
  :func:`~.manifest.open_dataset`); command line ``python -m smate_nb.data.manifest``.
* :mod:`.clips` — frame sampling, decoding, the clip cache and the torch dataset
  (:func:`~.clips.sample_indices`, :class:`~.clips.ClipDataset`).
* :mod:`.paths` — data root (``$SMATE_DATA``) and cache root (``$SMATE_CACHE``).

The names below are imported lazily (PEP 562), so ``python -m smate_nb.data.manifest`` does not
import the module twice.
"""
from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "generate": "synthfer",
    "build_manifest": "manifest", "load_manifest": "manifest", "save_manifest": "manifest",
    "planned_manifest": "manifest", "balanced_test": "manifest", "open_dataset": "manifest",
    "ManifestError": "manifest",
    "sample_indices": "clips", "read_frames": "clips", "ClipDataset": "clips", "Resize": "clips",
    "CKPLUS_CLASSES": "labels", "AFEW_CLASSES": "labels", "classes_of": "labels",
    "data_root": "paths", "cache_root": "paths",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
