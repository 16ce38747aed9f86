"""Data: the built-in SynthFER dataset, manifests for CK+/AFEW/SynthFER, and clip loading.

* :mod:`.synthfer` — procedural facial-expression videos written in the CK+/AFEW layouts
  (:func:`~.synthfer.generate`).
* :mod:`.manifest` — one CSV schema for every dataset; builders reading the distribution
  layouts, subject-independent folds, the balanced AFEW test subset
  (:func:`~.manifest.build_manifest`, :func:`~.manifest.load_manifest`,
  :func:`~.manifest.open_dataset`).
* :mod:`.clips` — frame sampling, decoding, the clip cache and the torch dataset
  (:func:`~.clips.sample_indices`, :class:`~.clips.ClipDataset`).
* :mod:`.paths` — data root (``$SMATE_DATA``) and cache root (``$SMATE_CACHE``).
"""
from .clips import ClipDataset, Compose, Resize, make_loader, read_frames, sample_indices, to_model_input
from .labels import AFEW_CLASSES, CKPLUS_CLASSES, classes_of
from .manifest import (ManifestError, balanced_test, build_manifest, load_manifest, open_dataset, planned_manifest,
                       save_manifest)
from .paths import cache_root, data_root
from .synthfer import generate

__all__ = [
    "generate", "build_manifest", "load_manifest", "save_manifest", "planned_manifest", "balanced_test",
    "open_dataset", "ManifestError", "sample_indices", "read_frames", "ClipDataset", "Resize", "Compose",
    "make_loader", "to_model_input", "CKPLUS_CLASSES", "AFEW_CLASSES", "classes_of", "data_root", "cache_root",
]
