"""The engine's data side: which clips train and which test, and how they are batched.

:func:`load_data` turns a :class:`~smate_nb.engine.specs.DataSpec` into datasets: SynthFER generated on
demand (or CK+/AFEW through their manifests), subject-independent folds or the manifest's train/test split,
one training copy per start point and one test set per start point. :func:`make_loader` batches a dataset
(the one loader :func:`~smate_nb.engine.fit` trains with): an order that depends only on the seed.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from ..data.clips import LONG_POLICY, SHORT_POLICY, ClipDataset, FaceAlign, Resize
from ..data.manifest import ManifestError

#: MB of decoded sequences each dataset of one training keeps in memory (see :class:`ClipDataset`'s ``memory_mb``).
TRAINING_MEMORY_MB = 1024.0

__all__ = ["TRAINING_MEMORY_MB", "load_data", "render_synthfer", "datasets_for", "make_loader", "train_clips", "subject_subset"]


def _synthfer_tables(dataset: str, subjects: int, seed: int, image_size: int, folds: int,
                     progress: bool, knobs: dict[str, Any] | None = None) -> tuple[pd.DataFrame, Path]:
    from ..data import synthfer as sf
    from ..data.manifest import planned_manifest

    knobs = dict(knobs or {})
    df = planned_manifest(dataset, subjects=subjects, seed=seed, image_size=image_size, folds=folds, **knobs)
    # Rendered on every core (the output is byte-identical for any number of processes); a folder that is already
    # complete is reused at once.
    root = sf.generate("lab" if dataset == "synthfer-lab" else "wild", None, subjects=subjects, seed=seed,
                       image_size=image_size, progress=progress, workers=max(1, os.cpu_count() or 1), **knobs)
    df.attrs["root"] = str(root)
    return df, root


def render_synthfer(spec: Any, *, progress: bool = True) -> dict[str, Any]:
    """Generate (or reuse) the SynthFER data of a ``DataSpec`` on every core, exactly as :func:`load_data` does, and
    say how fast: :func:`smate_nb.data.synthfer.last_run` of its folder (``generated_frames``, ``wall_s``,
    ``render_s``, ``workers``, ``render_fps_per_worker``), ``frames_per_s`` (generated frames ÷ wall seconds) and
    ``reused`` (the folder was already complete: nothing was rendered by this call; the figures are the earlier
    run's, or absent).

    Raises:
        ValueError: ``spec.dataset`` is not ``synthfer-lab`` / ``synthfer-wild``.
    """
    from ..data import synthfer as sf
    from ..data.paths import data_root

    if spec.dataset not in ("synthfer-lab", "synthfer-wild"):
        raise ValueError(f"render_synthfer: DataSpec.dataset = {spec.dataset!r}; need 'synthfer-lab' or 'synthfer-wild'")
    knobs = dict(getattr(spec, "synth_knobs", ()))
    cfg = sf.make_config("lab" if spec.dataset == "synthfer-lab" else "wild", subjects=spec.subjects,
                         seed=spec.data_seed, image_size=spec.image_size, **knobs)
    before = sf.last_run(data_root() / sf.dataset_dirname(cfg))
    _, root = _synthfer_tables(spec.dataset, spec.subjects, spec.data_seed, spec.image_size, spec.folds, progress, knobs)
    run = sf.last_run(root) or {}
    reused = run == (before or {})
    frames, wall = run.get("generated_frames"), run.get("wall_s")
    return {**run, "root": str(root), "reused": reused,
            "frames_per_s": frames / wall if frames and wall else None}


def load_data(spec: Any, *, progress: bool = True, cache_dir: Any = None,
                 align_real: bool = True) -> tuple[Any, dict[float, ClipDataset], tuple[str, ...]]:
    """Train and test datasets for the training engine's ``DataSpec`` (:mod:`smate_nb.engine.specs`).

    * SynthFER (``synthfer-lab`` / ``synthfer-wild``): generated on demand (or reused) with
      ``spec.subjects``, ``spec.data_seed``, ``spec.image_size`` and the generator knobs
      ``spec.synth_knobs`` (``(name, value)`` pairs, e.g. ``resting_offset``); the manifest is the
      plan's (identical to the disk-read one, tested).
    * CK+/AFEW: the manifest ``spec.manifest`` (default ``data_manifests/<dataset>.csv``),
      the data under ``$SMATE_CKPLUS`` / ``$SMATE_AFEW`` (default ``<data root>/<dataset>``),
      faces aligned to ``spec.resize``² by :class:`FaceAlign` when ``align_real``.
    * Split: ``spec.test_fold`` not None → that subject-independent fold (of ``spec.folds``)
      is the test set and the other folds train; None → the manifest's ``train`` / ``test``.
    * Sequences are decoded once, resized to ``spec.resize``² (so the engine's on-device
      resize is a no-op) and cached; clips are ``spec.num_frames`` frames at ``spec.stride``
      with :data:`SHORT_POLICY` / :data:`LONG_POLICY`.
    * ``spec.train_subject_fraction`` < 1: only those training subjects (:func:`subject_subset`); the test
      set is unchanged.
    * ``spec.train_starts``: every training sequence once per start point (a
      ``ConcatDataset``); ``spec.test_starts``: one test dataset per start point.
    * ``spec.task`` other than ``expression``: train and test sets relabelled for that label-free pretext task
      (:func:`smate_nb.data.pretext.wrap_task`), and its class names returned.

    Returns:
        ``(train, {test_start: test}, class_names)``; items are ``(uint8 T×H×W×C tensor, label)``.
    """
    from torch.utils.data import ConcatDataset

    from ..data.labels import classes_of
    from ..data.manifest import load_manifest
    from ..data.paths import data_root, manifest_dir

    name = spec.dataset
    if name.startswith("synthfer-"):
        if spec.manifest:
            df = load_manifest(spec.manifest)
            src = df.attrs["meta"].get("source", {}).get("synthfer", {})
            df_, root = _synthfer_tables(name, src.get("subjects", spec.subjects), src.get("seed", spec.data_seed),
                                         src.get("image_size", spec.image_size), spec.folds, progress)
        else:
            df, root = _synthfer_tables(name, spec.subjects, spec.data_seed, spec.image_size, spec.folds, progress,
                                        dict(getattr(spec, "synth_knobs", ())))
        prep: Any = Resize(spec.resize)
    elif name in ("ckplus", "afew"):
        path = Path(spec.manifest) if spec.manifest else manifest_dir() / f"{name}.csv"
        df = load_manifest(path)
        env = os.environ.get("SMATE_CKPLUS" if name == "ckplus" else "SMATE_AFEW")
        root = Path(env) if env else data_root() / name
        if not root.is_dir():
            raise ManifestError(f"{name} root {root} does not exist; set "
                                f"{'SMATE_CKPLUS' if name == 'ckplus' else 'SMATE_AFEW'}=/path/to/{name}")
        if align_real:
            from ..preprocess.faces import FaceConfig

            prep = FaceAlign(FaceConfig(size=spec.resize))
        else:
            prep = Resize(spec.resize)
    else:
        raise ValueError(f"unknown dataset {name!r}; choose synthfer-lab, synthfer-wild, ckplus or afew")
    if spec.test_fold is not None:
        if "cv" not in set(df["split"]):
            raise ValueError(f"{name}: test_fold={spec.test_fold} needs a k-fold manifest (CK+-style); use "
                             "test_fold=None for a train/test manifest")
        k = int(df["fold"].max()) + 1
        if not 0 <= spec.test_fold < k:
            raise ValueError(f"test_fold must be in 0..{k - 1}, got {spec.test_fold}")
        if k != spec.folds:
            raise ValueError(f"the {name} manifest has {k} folds but the spec asks for {spec.folds}; rebuild the "
                             "manifest with that many folds or change DataSpec.folds")
        train_rows, test_rows = df[df["fold"] != spec.test_fold], df[df["fold"] == spec.test_fold]
    else:
        train_rows, test_rows = df[df["split"] == "train"], df[df["split"] == "test"]
    train_rows = subject_subset(train_rows, spec)
    for part in (train_rows, test_rows):
        part.attrs.update(df.attrs)
    # The sequences of one training stay in memory after their first read (ClipDataset.memory_mb): a training's
    # data does not change while it runs, and later epochs then read no file.
    common = dict(num_frames=spec.num_frames, stride=spec.stride, short=SHORT_POLICY, long=LONG_POLICY,
                  preprocess=prep, cache_dir=cache_dir, memory_mb=TRAINING_MEMORY_MB)
    from ..data.pretext import task_classes, wrap_task

    task = getattr(spec, "task", "expression")
    trains = [ClipDataset(train_rows, root, start=float(s), **common) for s in spec.train_starts]
    train: Any = trains[0] if len(trains) == 1 else ConcatDataset(trains)
    if task == "exemplar":            # classes are the training sequences: the test set is them, un-augmented
        from ..data.pretext import Exemplar

        tests = {float(s): Exemplar(ClipDataset(train_rows, root, start=float(s), **common), copies=1)
                 for s in spec.test_starts}
        wrapped = Exemplar(train)
        return wrapped, tests, wrapped.classes
    tests = {float(s): wrap_task(task, ClipDataset(test_rows, root, start=float(s), **common))
             for s in spec.test_starts}
    return wrap_task(task, train), tests, task_classes(task, classes_of(name))


def subject_subset(rows: pd.DataFrame, spec: Any) -> pd.DataFrame:
    """The training rows of the subjects a ``DataSpec`` keeps: all of them at ``train_subject_fraction`` 1, else
    the first ``ceil(fraction × subjects)`` of one seeded permutation of the sorted subject ids (seed: the data
    seed and the test fold), so the subsets of one fold are nested (25 % ⊂ 50 % ⊂ 100 %) and the same in any
    process. Raises ``ValueError`` when the rows have no ``subject`` column."""
    import math

    import numpy as np

    frac = float(getattr(spec, "train_subject_fraction", 1.0))
    if frac >= 1.0:
        return rows
    if "subject" not in rows:
        raise ValueError(f"DataSpec.train_subject_fraction = {frac} needs a manifest with a 'subject' column")
    subjects = sorted(rows["subject"].astype(str).unique())
    rng = np.random.default_rng([int(spec.data_seed), -1 if spec.test_fold is None else int(spec.test_fold), 2023])
    order = [subjects[i] for i in rng.permutation(len(subjects))]
    keep = set(order[:max(1, math.ceil(frac * len(subjects)))])
    out = rows[rows["subject"].astype(str).isin(keep)]
    out.attrs.update(rows.attrs)
    return out


#: The name this function had in :mod:`smate_nb.data.clips` (notebooks and committed reports use it).
datasets_for = load_data


def _worker_init(worker_id: int) -> None:
    # one thread per worker: workers already run in parallel, and nested thread pools on a small machine
    # slow everything down (see smate_nb.config.configure_threads)
    import cv2
    import torch

    torch.set_num_threads(1)
    cv2.setNumThreads(1)


def make_loader(dataset: Any, batch_size: int, *, shuffle: bool, seed: int = 0, num_workers: int = 0,
                pin_memory: bool = False, sampler: Any = None, drop_last: bool = False) -> Any:
    """A ``DataLoader`` of ``(clips uint8 [B, T, H, W, C], labels int64 [B])`` whose order depends only on ``seed``.

    The shuffling permutation comes from a ``torch.Generator`` seeded with ``seed``; random clip starts come
    from the dataset's own ``(seed, epoch, index)`` streams, so batches do not depend on ``num_workers``.
    Worker processes are *spawned*, not forked: a fork after OpenCV / dlib have started their threads can
    deadlock (seen in the test suite). ``sampler``: e.g. a ``DistributedSampler`` (then ``shuffle`` must be False).
    """
    import torch
    from torch.utils.data import DataLoader

    from .evaluation import collate

    g = torch.Generator().manual_seed(int(seed))
    extra = {"multiprocessing_context": "spawn", "worker_init_fn": _worker_init} if num_workers > 0 else {}
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle and sampler is None, sampler=sampler,
                      generator=None if sampler is not None else g, num_workers=num_workers, collate_fn=collate,
                      pin_memory=pin_memory, drop_last=drop_last, **extra)


def train_clips(data: Any) -> int:
    """Training clips of a :class:`~smate_nb.engine.specs.DataSpec` without rendering or decoding anything:
    SynthFER from its plan, CK+ / AFEW from their manifest (per start point of ``train_starts``)."""
    from ..data.manifest import load_manifest, planned_manifest
    from ..data.paths import manifest_dir

    if data.dataset.startswith("synthfer"):
        df = planned_manifest(data.dataset, subjects=data.subjects, seed=data.data_seed, image_size=data.image_size,
                              folds=data.folds, **dict(data.synth_knobs))
    else:
        df = load_manifest(data.manifest or manifest_dir() / f"{data.dataset}.csv")
    rows = df[df["fold"] != data.test_fold] if data.test_fold is not None else df[df["split"] == "train"]
    from ..data.pretext import copies_per_clip

    per_clip = copies_per_clip(getattr(data, "task", "expression"))   # a pretext task's items per training clip
    return len(subject_subset(rows, data)) * len(data.train_starts) * per_clip
