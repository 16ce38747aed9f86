"""Label-free pretext tasks: what the stand-in for Kinetics-400 pretraining learns from, without expression labels.

The paper fine-tunes a ViViT pretrained on Kinetics-400 — actions, another task, no expression label. Our stand-in
must not be the Original row's recipe on more people (a supervised 7-expression model would favour the row that
trains exactly like it), so it learns a task whose labels come from the clip itself:

* ``rotation`` — by how much was the clip turned: 0°, 90°, 180° or 270°? (Gidaris,
  Singh & Komodakis, *Unsupervised Representation Learning by Predicting Image Rotations*, ICLR 2018.) Every clip
  appears once at each turn per epoch (exactly balanced, no random label). To answer, the model must find where
  the eyes, nose and mouth are and which way the face is up — the parts an expression is made of — without
  being told any expression. A horizontal flip must not be combined with it (a mirrored 90° turn is a 270° turn:
  the label would be ambiguous), so its augmentation leaves the flip out
  (:data:`smate_nb.experiments.ablations.PRETEXT_AUGMENT`).
* ``exemplar`` (default of the stand-in) — which of the training sequences is this? (Dosovitskiy et al., *Discriminative Unsupervised
  Feature Learning with Exemplar CNNs*, NeurIPS 2014; instance discrimination, Wu et al., CVPR 2018.) Every
  training sequence is its own class, seen :data:`EXEMPLAR_COPIES` times an epoch under fresh augmentation, so the
  features must survive the augmentation; sequences of one person differ in how the face moves, so telling them
  apart needs more than identity. No expression label is used. Its "test set" is the training sequences again,
  through the test transform (new people would be new classes). Measured on the cpu stand-in corpus (504
  sequences, 12 epochs of ``vivit_cpu_small_fe``, crop 0.7–1.0 + flip, 218 s): training loss 6.19 → 5.04 (ln 504 =
  6.22), 3.8 % of its sequences recognised — `collapsed` on its own task; fine-tuned from it on the calibration
  fold (60 epochs, lr 1e-4, batch 8) the Original row reached 94.8 % of its training clips and 71.4 % test (from
  the rotation stand-in: 100 % and 78.6 %) and augmentation alone stayed at chance (26.2 %, `collapsed`;
  ``benchmarks/finetune_probes_cpu.jsonl``). At 60 epochs (1249 s) it recognises 83.9 % of its sequences, and
  fine-tuned from it the Original row reached 100 % / 96.4 % test and augmentation alone 62.3 % / 64.3 % — the only
  start measured that beats scratch for both (:data:`smate_nb.experiments.ablations.PRETRAIN_TASKS`): the default.
  With ``vivit_cpu_coarse_fe`` (the ablations' model since 2026-12-07): 60 epochs in 1161 s, 81 % of its training
  clips (86 % un-augmented); at 30 epochs only 37 %, and fine-tuned from that the augmentation-alone row fitted 29 %
  of its training clips against 67.5 % from the 60-epoch stand-in (30 epochs at lr 1e-4).
* ``arrow_of_time`` — is the clip played forwards or backwards? (Wei et al., *Learning and Using the Arrow of
  Time*, CVPR 2018; in the family of Misra et al.'s *Shuffle and Learn*, ECCV 2016.) Every clip appears once in
  each direction per epoch, so the two classes are exactly balanced and no label is drawn at random. To answer, the
  model must tell the earlier from the later frames — on face video, how the face moves and changes — using both
  the spatial and the temporal encoder, and it trains through the engine's one classification step (no second
  loss path). What it cannot use: which expression a sequence shows, which is never in its labels. Measured on
  the cpu stand-in corpus (80 people, 12 frames at 48², from scratch): the training loss stayed at ln 2 for 12
  epochs with crop + flip and for 5 without augmentation — the comparison it needs (early against late frames)
  gives a from-scratch ViT no first-order signal to start from, so it is offered but not the default.

:data:`TASKS` names every task a :class:`~smate_nb.engine.specs.DataSpec` may ask for; ``expression`` is the
dataset's own labels.
"""
from __future__ import annotations

from typing import Any

__all__ = ["TASKS", "EXEMPLAR_COPIES", "Rotation", "Exemplar", "ArrowOfTime", "task_classes", "wrap_task",
           "copies_per_clip"]

#: ``DataSpec.task`` → its class names (``None``: the dataset's own expression classes).
TASKS: dict[str, tuple[str, ...] | None] = {"expression": None, "rotation": ("0°", "90°", "180°", "270°"),
                                            "exemplar": None, "arrow_of_time": ("forward", "reversed")}
#: ``exemplar``: copies of every training sequence per epoch (each under its own augmentation draw).
EXEMPLAR_COPIES = 4


class _Copies:
    """A base dataset seen ``copies`` times: item ``c·N + j`` is copy ``c`` of clip ``j`` (``N = len(base)``),
    made by :meth:`_item`. The shared indexing of the pretext datasets below."""

    copies = 1

    def __init__(self, base: Any) -> None:
        self.base = base

    def __len__(self) -> int:
        return self.copies * len(self.base)

    def __getitem__(self, i: int) -> tuple[Any, int]:
        if not -len(self) <= i < len(self):
            raise IndexError(f"{type(self).__name__} index {i} out of range for {len(self)} items")
        c, j = divmod(i % len(self), len(self.base))
        return self._item(c, j)

    def _item(self, c: int, j: int) -> tuple[Any, int]:
        raise NotImplementedError


class ArrowOfTime(_Copies):
    """Every clip of ``base`` twice: item ``i < N`` is clip ``i`` as recorded (label 0, ``forward``), item
    ``N + i`` the same clip with its frames in reverse order (label 1, ``reversed``); ``N = len(base)``.

    Items are ``(uint8 [T, H, W, C] tensor, label)`` like the base dataset's; the expression label of the base is
    dropped. Deterministic: no random draw (the loader's shuffle decides the order)."""

    classes = TASKS["arrow_of_time"]
    copies = 2

    def _item(self, c: int, j: int) -> tuple[Any, int]:
        clip = self.base[j][0]
        return (clip.flip(0) if c else clip), c


class Rotation(_Copies):
    """Every clip of ``base`` four times: item ``k·N + i`` is clip ``i`` with every frame turned by ``k × 90°``
    counter-clockwise (label ``k``), ``N = len(base)``. Items are ``(uint8 [T, H, W, C] tensor, label)``; frames
    must be square (they are: the clip cache holds ``resize²`` frames). Deterministic."""

    classes = TASKS["rotation"]
    copies = 4

    def _item(self, c: int, j: int) -> tuple[Any, int]:
        import torch

        clip = self.base[j][0]
        if clip.shape[1] != clip.shape[2]:
            raise ValueError(f"Rotation needs square frames, got {tuple(clip.shape)} (T, H, W, C)")
        return (torch.rot90(clip, c, dims=(1, 2)).contiguous() if c else clip), c


class Exemplar(_Copies):
    """Every clip of ``base`` ``copies`` times, labelled by its index in ``base``: item ``c·N + i`` is clip ``i``
    (label ``i``). Items are ``(uint8 [T, H, W, C] tensor, label)``; ``classes`` names the N sequences."""

    copies = EXEMPLAR_COPIES

    def __init__(self, base: Any, copies: int = EXEMPLAR_COPIES) -> None:
        if copies < 1:
            raise ValueError(f"Exemplar copies must be ≥ 1, got {copies}")
        super().__init__(base)
        self.copies = int(copies)
        self.classes = tuple(f"sequence {i}" for i in range(len(base)))

    def _item(self, c: int, j: int) -> tuple[Any, int]:
        return self.base[j][0], j


#: ``DataSpec.task`` → the dataset wrapper that relabels clips for it (``expression``: none).
_WRAPPERS: dict[str, type[_Copies]] = {"rotation": Rotation, "exemplar": Exemplar, "arrow_of_time": ArrowOfTime}


def copies_per_clip(task: str) -> int:
    """How many items a pretext task makes of one training clip (1 for ``expression``)."""
    task_classes(task, ())
    return _WRAPPERS[task].copies if task in _WRAPPERS else 1


def task_classes(task: str, dataset_classes: tuple[str, ...]) -> tuple[str, ...]:
    """Class names of ``task`` (the dataset's own for ``expression``). Raises ``ValueError`` for an unknown task."""
    if task not in TASKS:
        raise ValueError(f"unknown DataSpec.task {task!r}; choose one of {sorted(TASKS)}")
    return TASKS[task] or tuple(dataset_classes)      # exemplar: the caller's (one name per sequence)


def wrap_task(task: str, dataset: Any) -> Any:
    """``dataset`` relabelled for ``task`` (itself for ``expression``)."""
    task_classes(task, ())
    return _WRAPPERS[task](dataset) if task in _WRAPPERS else dataset
