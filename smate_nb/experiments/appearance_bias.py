"""Appearance-bias study (paper §2, Figs. 1–2): training sets with shifted start points, k-fold CV.

Rows (training sets): ``original`` — every training sequence from its first frame; ``+¼ point`` etc. — the
original clips *plus* a copy of each sequence starting at that point (``train_set_mode="add"``, the paper's
wording; ``"replace"`` trains on the shifted clips only). Every model is scored on the held-out subjects'
sequences from the original start and the shifted test points. Folds are subject-independent.

Per-profile defaults (the notebook's ``None`` parameters), derived from the profile:

* model: the frame CNN (``framecnn_smoke`` in smoke, else ``framecnn_small``) — the paper used a small
  EfficientNet-based CNN; no pretrained weights are available offline; ``model_arch="vivit"`` takes the
  profile's ViViT-FE;
* epochs: 1 (smoke), 12 (cpu), the profile's (paper) — for the largest training set; with ``steps_rule =
  "equal_steps"`` (default) a set with fewer start points trains proportionally more epochs, so that every
  training set gets the same number of optimisation steps (in ``add`` mode ``original`` holds half the clips of a
  ``+…`` set and trains twice the epochs); ``"equal_epochs"`` gives every set the same epochs (then a ``+…`` set
  also gets twice the steps — measured on the cpu reference: 9 of the 10 ``original`` runs were still
  `under-trained` at 12 epochs, 97.7 % on their training clips, while every ``+…`` run fitted its own);
* clip frames: 8 in cpu (a frame CNN averages frames: it needs no long clip), else the profile's.
"""
from __future__ import annotations

from typing import Any, Sequence

from ..config import get_profile
from . import Run, Study

__all__ = ["DEFAULT_KNOBS", "DEFAULT_STARTS", "DEFAULT_TESTS", "STEPS_RULES", "study", "resolve_arch", "train_sets",
           "epochs_by_set"]

#: SynthFER generator knobs for this study: a stronger resting-expression offset (the appearance bias) and
#: weaker peaks than the default lab data, on which the frame CNN reaches ≈ 95–100 % on every fold.
DEFAULT_KNOBS: dict[str, Any] = {"resting_offset": 1.5, "peak_intensity": (0.3, 0.8)}
DEFAULT_STARTS: dict[str, float] = {"original": 0.0, "1/4 point": 1 / 4, "1/3 point": 1 / 3, "1/2 point": 1 / 2}
DEFAULT_TESTS: tuple[str, ...] = ("original", "1/4 point", "1/3 point")

_EPOCHS = {"smoke": 1, "cpu": 12}
#: How the training sets' budgets relate (see the module docstring).
STEPS_RULES = ("equal_steps", "equal_epochs")
_FRAMES = {"cpu": 8}


def resolve_arch(profile: str, model_arch: str = "auto") -> str:
    """``auto`` → the profile's frame CNN; ``vivit`` → the profile's ViViT-FE; else the name itself."""
    if model_arch == "auto":
        return "framecnn_smoke" if profile == "smoke" else "framecnn_small"
    if model_arch == "vivit":
        return get_profile(profile).model.arch
    return model_arch


def train_sets(start_points: dict[str, float], mode: str = "add") -> dict[str, tuple[float, ...]]:
    """Training-set name → the start points its sequences are sampled from."""
    if mode not in ("add", "replace"):
        raise ValueError(f"train_set_mode must be 'add' or 'replace', got {mode!r}")
    out: dict[str, tuple[float, ...]] = {}
    for name, start in start_points.items():
        if start == 0.0:
            out[name] = (0.0,)
        elif mode == "add":
            out[f"+{name}"] = (0.0, float(start))
        else:
            out[name] = (float(start),)
    return out


def epochs_by_set(sets: dict[str, tuple[float, ...]], epochs: int, steps_rule: str = "equal_steps") -> dict[str, int]:
    """Training-set name → its epochs: ``epochs`` for the sets with the most start points; with ``"equal_steps"``
    a set of ``k`` start points trains ``epochs × k_max / k`` epochs (it holds ``k / k_max`` of the clips, so the
    optimisation steps are equal). Raises ``ValueError`` for an unknown rule or when that is not a whole number."""
    if steps_rule not in STEPS_RULES:
        raise ValueError(f"steps_rule must be one of {list(STEPS_RULES)}, got {steps_rule!r}")
    k_max = max(len(v) for v in sets.values())
    out = {}
    for name, starts in sets.items():
        if steps_rule == "equal_epochs":
            out[name] = int(epochs)
            continue
        e, rem = divmod(int(epochs) * k_max, len(starts))
        if rem:
            raise ValueError(f"steps_rule 'equal_steps': {epochs} epochs × {k_max} / {len(starts)} start points of "
                             f"{name!r} is not a whole number of epochs; choose epochs divisible by {len(starts)}")
        out[name] = e
    return out


def study(profile: str, *, model_arch: str = "auto", folds: Sequence[int] | None = None,
          seeds: Sequence[int] | None = None, epochs: int | None = None, clip_frames: int | None = None,
          synthfer_knobs: dict[str, Any] | None = None, train_set_mode: str = "add",
          start_points: dict[str, float] | None = None, test_points: Sequence[str] | None = None,
          steps_rule: str = "equal_steps") -> Study:
    """The appearance-bias study of ``profile``: one run per training set × fold × seed.

    Returns a :class:`~smate_nb.experiments.Study` whose runs carry labels ``train set``, ``fold``, ``seed``;
    every run is evaluated on all ``test_points`` (``metrics_by_test_start`` of its result).
    """
    p = get_profile(profile)
    arch = resolve_arch(profile, model_arch)
    starts = dict(DEFAULT_STARTS if start_points is None else start_points)
    tests = list(DEFAULT_TESTS if test_points is None else test_points)
    unknown = [t for t in tests if t not in starts]
    if unknown:
        raise ValueError(f"test_points {unknown} are not among start_points {list(starts)}")
    knobs = dict(DEFAULT_KNOBS if synthfer_knobs is None else synthfer_knobs)
    knob_pairs = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in knobs.items())) \
        if p.lab.dataset.startswith("synthfer") else ()
    fold_list = list(range(p.lab.folds)) if folds is None else list(folds)
    seed_list = [p.seeds[0]] if seeds is None else list(seeds)
    n_epochs = epochs or _EPOCHS.get(profile, p.optim.epochs)
    frames = clip_frames or _FRAMES.get(profile, p.lab.num_frames)
    test_starts = tuple(starts[t] for t in tests)
    base = p.experiment("lab", model={"arch": arch}, optim={"epochs": n_epochs},
                        data={"num_frames": frames, "synth_knobs": knob_pairs, "test_starts": test_starts})
    sets = train_sets(starts, train_set_mode)
    per_set = epochs_by_set(sets, n_epochs, steps_rule)
    runs = tuple(
        Run(base.replace(seed=seed, data={"test_fold": fold, "train_starts": starts_},
                         optim={"epochs": per_set[name]}),
            (("train set", name), ("fold", fold), ("seed", seed)))
        for name, starts_ in sets.items() for fold in fold_list for seed in seed_list)
    params = {"profile": profile, "model": arch, "dataset": base.data.dataset, "synthfer_knobs": dict(knob_pairs),
              "folds": fold_list, "k": p.lab.folds, "seeds": seed_list, "train_set_mode": train_set_mode,
              "epochs": n_epochs, "steps_rule": steps_rule, "epochs_by_set": per_set, "num_frames": frames, "stride": base.data.stride, "crop": base.data.crop,
              "start_points": starts, "test_points": tests, "train_sets": {k: list(v) for k, v in sets.items()}}
    return Study("appearance_bias", profile, params, runs)
