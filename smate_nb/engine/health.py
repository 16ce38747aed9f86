"""Run health: did a training actually train? One label per run — ``trained``, ``under-trained`` or ``collapsed``.

A number in a table is only evidence about a method if the run behind it learned something. The committed cpu
reference held 19 distinct runs whose every test clip got the same class (UAR exactly 100/7 %), and training losses
at the end of the budget close to chance (ln 7 = 1.95); their paired comparisons are not about the methods. This
module names such runs, from what every result stores (its per-epoch training loss and its test predictions):

* **collapsed** — at least :data:`COLLAPSE_SHARE` (90 %) of the test predictions are one class, **or** the final
  training loss is no better than chance: ``loss[-1] ≥ (1 − CHANCE_MARGIN) · ln C`` (within 2 % of ln C, or above
  it: a network whose loss is above the uniform predictor's has learned nothing either), C = number of classes.
  Also collapsed: a run whose accuracy on its own un-augmented training clips is at most :data:`NEAR_CHANCE`
  (10 points) above chance — a flat loss in a cosine schedule's tail is no sign of training when the model cannot
  tell its own training clips apart.
* **under-trained** — not collapsed, and the training loss was still falling at the end of the budget: its relative
  drop over the last ``k`` = :data:`PLATEAU_EPOCHS` epochs, read off the least-squares line through the last k + 1
  losses (slope ``s`` per epoch, value ``ℓ₀`` at the window's first epoch),

  ``drop = −s · k / ℓ₀``  (with fewer than k + 1 epochs: the line through every epoch),

  exceeds :data:`PLATEAU_TOL` (2 %) while the run still misclassifies more than 5 % of its own un-augmented
  training clips (:data:`FITTED`; a run that fits them has nothing left to fit). Also under-trained: a run that
  classifies less than :data:`FIT_FLOOR` (80 %) of its own un-augmented training clips correctly — the cosine
  schedule flattens the loss in its tail whether or not the model has fitted its data, so a flat tail alone is
  no plateau. A run of a single epoch is under-trained by definition: one point says nothing about whether the
  loss levelled off.
* **trained** — otherwise.

Why a line through the window and not its two end points: a row whose inputs are drawn afresh every epoch
(augmentation, LBP replacement, the Bernoulli draws of Eq. 7) has an epoch loss that scatters by a few per cent
around its trend — 32 optimiser steps an epoch at the ablations' batch of 8. Measured (calibration fold, the mixed
row from the stand-in, 30 epochs): the last losses 0.729, 0.702, 0.726, 0.706, 0.728, 0.711 — flat, yet the end
points three epochs apart (0.726 → 0.711) fall 2.1 %, over the tolerance. The line through k + 1 = 6 points
reads the trend, not one draw; on a smooth curve it equals the end-point drop. Why a window that reaches k
epochs back and not a mean over the tail: the cosine schedule puts the smallest learning rates in the last
epochs, where the curve flattens *because the steps are small*; a window reaching back to where the learning
rate was still sizeable sees a loss that is still falling. A loss that *rose* over the window (negative drop)
is not under-training and is left to the other tests.

:func:`run_health` judges from a history and predictions (the engine calls it at the end of every training);
:func:`result_health` judges any stored result, including one that predates these fields (no ``train_eval``, no
``test_prediction_counts``: the counts come from its stored test predictions, the training accuracy is unknown).
"""
from __future__ import annotations

import math
from typing import Any, Final, Mapping, Sequence

import numpy as np

__all__ = ["LABELS", "TRAINED", "UNDER_TRAINED", "COLLAPSED", "COLLAPSE_SHARE", "CHANCE_MARGIN", "PLATEAU_EPOCHS",
           "PLATEAU_TOL", "FITTED", "FIT_FLOOR", "NEAR_CHANCE", "prediction_counts", "run_health", "result_health"]

TRAINED: Final = "trained"
UNDER_TRAINED: Final = "under-trained"
COLLAPSED: Final = "collapsed"
#: Every health label, healthy first.
LABELS: Final = (TRAINED, UNDER_TRAINED, COLLAPSED)

#: A run whose most frequent test prediction takes at least this share of the test clips has collapsed.
COLLAPSE_SHARE: Final = 0.9
#: A final training loss ≥ (1 − this) · ln C is at chance (C classes: ln C is the uniform predictor's loss).
CHANCE_MARGIN: Final = 0.02
#: A run that classifies its own un-augmented training clips at most this far above chance (1 / C) learned nothing
#: either, whatever its loss did (measured: the augmented row after 60 epochs at lr 1e-4 — final loss 1.87, 2 %
#: below ln 7 but under the 0.98 · ln 7 line, flat over its cosine tail — scored 17.1 % on its training clips).
NEAR_CHANCE: Final = 0.10
#: The training loss's drop is measured over this many final epochs (a line through their k + 1 losses) …
PLATEAU_EPOCHS: Final = 5
#: … and a relative drop above this share means the loss was still falling: under-trained …
PLATEAU_TOL: Final = 0.02
#: … unless the run already classifies at least this share of its own (un-augmented) training clips correctly: then
#: it fits them, and a falling loss is only growing confidence. The suite's one meaning of "fits its training clips"
#: (the budget's rule asks it of the Original row too, ``ablations.choose_epochs``). Why not 99 %: near zero, a
#: relative trend reads the scatter of the epoch losses, not convergence. Measured on the calibration fold
#: (2026-12-07, LBP + augmentation from the stand-in, 45 epochs): 96.8 % of its training clips, all 28 test clips,
#: losses 0.237, 0.131, 0.121, 0.131, 0.079, 0.100 over its last 6 epochs — a "61.6 % fall" of a loss near 0.1;
#: the mixed row beside it "rose 35.5 %" (0.014–0.043). Before: the stand-in pretraining's loss fell 0.07 → 0.034,
#: −53 %, over its last 3 epochs at 100 % training accuracy (vivit_cpu_small_fe, like the figures below).
FITTED: Final = 0.95
#: A run that classifies less than this share of its own un-augmented training clips has not fitted them: under-
#: trained, however flat its loss (measured on the calibration fold, cosine schedule at lr 1e-4: the Original row
#: ended 30 epochs at loss 0.88, flat, 78.6 % on its training clips — 60 epochs took it to 100 %, loss 0.12; an
#: augmented row ended 60 epochs at loss 1.90, flat, 27.4 %, which the near-chance rule just misses).
FIT_FLOOR: Final = 0.8


def prediction_counts(y_pred: Sequence[int] | np.ndarray, num_classes: int) -> list[int]:
    """How many test clips were predicted as each class: a list of ``num_classes`` ints (class order).

    Raises:
        ValueError: a prediction outside ``[0, num_classes − 1]``.
    """
    p = np.asarray(y_pred, dtype=np.int64).reshape(-1)
    if p.size and (p.min() < 0 or p.max() >= num_classes):
        raise ValueError(f"prediction_counts: a prediction lies outside [0, {num_classes - 1}]")
    return np.bincount(p, minlength=num_classes).astype(int).tolist()


def _losses(history: Sequence[Any]) -> list[float]:
    return [float(h["train_loss"]) if isinstance(h, Mapping) else float(h) for h in history]


def _pct(x: float) -> str:
    if not math.isfinite(x):
        return "— %"
    return f"{100 * x:.0f} %" if abs(100 * x - round(100 * x)) < 1e-9 else f"{100 * x:.1f} %"


def _num(x: float | None) -> float | None:
    """JSON-ready: an undefined number is None, never NaN."""
    return None if x is None or not math.isfinite(x) else float(x)


def _trend(values: Sequence[float]) -> tuple[float, float]:
    """Least-squares line through ``values`` (one per epoch): ``(value at the first epoch, slope per epoch)``."""
    y = np.asarray(values, dtype=np.float64)
    x = np.arange(len(y), dtype=np.float64) - (len(y) - 1) / 2
    slope = float((x * (y - y.mean())).sum() / (x * x).sum())
    return float(y.mean() + slope * x[0]), slope


def _judge(losses: list[float], counts: Sequence[int], train_war: float | None, class_names: Sequence[str] | None,
           collapse_share: float, chance_margin: float, plateau_epochs: int, plateau_tol: float) -> dict[str, Any]:
    num_classes = len(counts)
    if num_classes < 2:
        raise ValueError(f"run health needs at least 2 classes, got {num_classes}")
    if plateau_epochs < 1:
        raise ValueError(f"plateau_epochs must be ≥ 1, got {plateau_epochs}")
    counts = [int(c) for c in counts]
    n = sum(counts)
    top = int(np.argmax(counts)) if n else None
    share = counts[top] / n if n else math.nan
    chance = math.log(num_classes)
    final = losses[-1] if losses else math.nan
    window = min(plateau_epochs, len(losses) - 1) if losses else 0
    drop = math.nan
    if window > 0:
        start, slope = _trend(losses[-1 - window:])
        drop = -slope * window / start if start > 0 else 0.0
    name = (f" ({class_names[top]})" if class_names is not None and top is not None and top < len(class_names) else "")

    collapsed, under = [], []
    # share ≥ collapse_share, counted in clips (9 of 10 at 0.9 is collapsed, whatever the float rounding)
    if n and counts[top] >= collapse_share * n - 1e-9:
        collapsed.append(f"{_pct(share)} of test predictions are class {top}{name}")
    if train_war is not None and math.isfinite(train_war) and train_war <= 1 / num_classes + NEAR_CHANCE:
        collapsed.append(f"it classifies {_pct(train_war)} of its own training clips correctly, within "
                         f"{_pct(NEAR_CHANCE)} of chance ({_pct(1 / num_classes)})")
    if math.isfinite(final) and final >= (1 - chance_margin) * chance:
        where = "above" if final > chance else f"within {_pct(chance_margin)} of"
        collapsed.append(f"final training loss {final:.2f} is {where} ln {num_classes} = {chance:.2f} (chance)")
    if not math.isfinite(final):
        under.append("no finite training loss was recorded")
    elif len(losses) == 1:
        under.append("only 1 epoch was trained: one point cannot show that the training loss levelled off")
    elif drop > plateau_tol and not (train_war is not None and train_war >= FITTED):
        span = f"the last {window} epochs" if window == plateau_epochs else f"the {len(losses)} epochs trained"
        under.append(f"training loss fell {_pct(drop)} over {span} (tolerance {_pct(plateau_tol)})")
    if train_war is not None and math.isfinite(train_war) and train_war < FIT_FLOOR and len(losses) > 1:
        under.append(f"it classifies {_pct(train_war)} of its own un-augmented training clips correctly, below "
                     f"{_pct(FIT_FLOOR)}: it has not fitted them (a flat loss in a cosine tail is no plateau)")

    if collapsed:
        label, reasons = COLLAPSED, collapsed
    elif under:
        label, reasons = UNDER_TRAINED, under
    else:
        label = TRAINED
        span = f"the last {window} epochs" if window == plateau_epochs else f"the {len(losses)} epochs trained"
        reasons = [f"training loss changed {-100 * drop:+.1f} % over {span} (tolerance {_pct(plateau_tol)}); "
                   f"the most frequent test prediction takes {_pct(share)} of the clips"]
    return {"label": label, "reasons": reasons, "epochs": len(losses), "final_train_loss": _num(final),
            "chance_loss": chance, "loss_drop_last": _num(drop), "loss_window_epochs": window,
            "train_accuracy": _num(train_war), "top_class": top, "top_class_share": _num(share),
            "test_prediction_counts": counts,
            "thresholds": {"collapse_share": collapse_share, "chance_margin": chance_margin,
                           "plateau_epochs": plateau_epochs, "plateau_tol": plateau_tol, "fitted": FITTED,
                           "fit_floor": FIT_FLOOR, "near_chance": NEAR_CHANCE}}


def run_health(history: Sequence[Any], y_pred: Sequence[int] | np.ndarray, num_classes: int,
               train_war: float | None = None, *, class_names: Sequence[str] | None = None,
               collapse_share: float = COLLAPSE_SHARE, chance_margin: float = CHANCE_MARGIN,
               plateau_epochs: int = PLATEAU_EPOCHS, plateau_tol: float = PLATEAU_TOL) -> dict[str, Any]:
    """The health of one training (definitions in the module docstring).

    Args:
        history: the per-epoch records of :func:`~smate_nb.engine.fit` (dicts with ``train_loss``) or plain
            training losses, in epoch order.
        y_pred: the predicted class of every test clip.
        num_classes: C (the classes the model predicts among; ln C is the chance loss).
        train_war: accuracy on the un-augmented training clips (fraction), if measured (None: the rules that
            read it are skipped).
        class_names: names for the reasons (``"class 3 (happy)"``).
        collapse_share, chance_margin, plateau_epochs, plateau_tol: the thresholds (defaults: the module's
            constants; pass others only to study the definition itself).
    Returns:
        ``{"label": "trained" | "under-trained" | "collapsed", "reasons": [sentences], "epochs",
        "final_train_loss", "chance_loss" (ln C), "loss_drop_last" (relative drop over the window; None for one
        epoch), "loss_window_epochs" (the window actually used), "train_accuracy" (fraction, None when not
        measured), "top_class", "top_class_share" (None without predictions), "test_prediction_counts",
        "thresholds"}`` — JSON-ready (an undefined number is None).
    """
    return _judge(_losses(history), prediction_counts(y_pred, num_classes), train_war, class_names,
                  collapse_share, chance_margin, plateau_epochs, plateau_tol)


def result_health(result: Mapping[str, Any], **thresholds: Any) -> dict[str, Any]:
    """The health of a stored result (:func:`~smate_nb.engine.fit`'s dict or a ``result.json``), judged now.

    Uses the result's ``history``, its ``test_prediction_counts`` (or, for a result that predates them, the
    counts of ``predictions["y_pred"]``) and ``train_eval["war"]`` (absent before it was recorded: the training
    accuracy is then None). The label is recomputed with the current definitions rather than read from a stored
    ``health``, so every run in a table is judged by the same rule. ``thresholds``: as in :func:`run_health`.
    """
    names = list(result["metrics"].get("class_names") or [])
    counts = result.get("test_prediction_counts")
    if counts is None:
        k = len(names) or (max(result["predictions"]["y_pred"], default=0) + 1)
        counts = prediction_counts(result["predictions"]["y_pred"], k)
    train_war = (result.get("train_eval") or {}).get("war")
    opts = {"collapse_share": COLLAPSE_SHARE, "chance_margin": CHANCE_MARGIN, "plateau_epochs": PLATEAU_EPOCHS,
            "plateau_tol": PLATEAU_TOL, **thresholds}
    return _judge(_losses(result["history"]), counts, train_war, names or None, **opts)
