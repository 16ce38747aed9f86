"""Evaluation metrics (paper §4.1.2): WAR, UAR, per-class recall, confusion, bootstrap intervals.

* **WAR** (weighted average recall) = top-1 accuracy, the paper's metric.
* **UAR** (unweighted average recall) = mean of the per-class recalls over the
  classes present in the ground truth (a class with no test sample has no
  recall; it is left out rather than counted as 0 or 1).
* Intervals: percentile bootstrap over test samples (resampled with
  replacement, seeded), 95 % by default.
* Two models on the same folds — **the one decision rule of every notebook**:
  :func:`clip_paired_test`, a paired bootstrap at the level of the test clip
  across replicates (within each test set — a fold — its clips and its seeds
  are resampled), with the minimum detectable difference at the table's sample size
  (:func:`minimum_detectable_difference`); :func:`verdict` turns its interval
  into *as the paper* / *opposite* / *not resolved at this budget*.
  :func:`paired_comparison` (per-replicate differences, wins / ties / losses,
  exact sign test) describes the replicates; it decides nothing.
  A comparison whose runs did not train (:mod:`smate_nb.engine.health`) gets
  no verdict about the methods: :func:`invalid` (``"invalid: <why>"``).
"""
from __future__ import annotations

import math
from statistics import NormalDist
from typing import Callable, Hashable, Sequence

import numpy as np

__all__ = ["confusion_matrix", "war", "uar", "per_class_recall", "bootstrap_ci", "summarize", "mean_std",
           "sign_test", "paired_comparison", "clip_paired_test", "clip_bootstrap", "minimum_detectable_difference", "DECISION_RULE",
           "verdict", "VERDICTS", "INVALID", "invalid", "is_invalid"]

#: The three verdicts a paired comparison with the paper can end in.
VERDICTS = ("as the paper", "opposite", "not resolved at this budget")
#: The verdict of a comparison with a run that did not train — it says nothing about the methods; the full verdict
#: names why: ``"invalid: <row> did not train (3 of 3 runs collapsed)"`` (:func:`invalid`).
INVALID = "invalid"


def _as_int(a: Sequence[int] | np.ndarray) -> np.ndarray:
    arr = np.asarray(a)
    if arr.ndim != 1:
        raise ValueError(f"labels must be 1-D, got shape {arr.shape}")
    return arr.astype(np.int64)


def confusion_matrix(y_true, y_pred, num_classes: int) -> np.ndarray:
    """``C[i, j]`` = number of samples of true class ``i`` predicted as ``j``; int64 ``[K, K]``."""
    t, p = _as_int(y_true), _as_int(y_pred)
    if t.shape != p.shape:
        raise ValueError(f"y_true has {t.shape[0]} labels, y_pred {p.shape[0]}")
    for name, a in (("y_true", t), ("y_pred", p)):
        if a.size and (a.min() < 0 or a.max() >= num_classes):
            raise ValueError(f"{name} holds a label outside [0, {num_classes - 1}]")
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (t, p), 1)
    return cm


def per_class_recall(y_true, y_pred, num_classes: int) -> np.ndarray:
    """Recall per class, float ``[K]``; NaN for a class with no true sample."""
    cm = confusion_matrix(y_true, y_pred, num_classes)
    support = cm.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(support > 0, np.diag(cm) / support, np.nan)


def war(y_true, y_pred) -> float:
    """Weighted average recall = top-1 accuracy (fraction in [0, 1])."""
    t, p = _as_int(y_true), _as_int(y_pred)
    if t.size == 0:
        raise ValueError("no samples to score")
    return float((t == p).mean())


def uar(y_true, y_pred, num_classes: int) -> float:
    """Unweighted average recall: mean per-class recall over classes present in ``y_true``."""
    return float(np.nanmean(per_class_recall(y_true, y_pred, num_classes)))


def bootstrap_ci(y_true, y_pred, metric: Callable[[np.ndarray, np.ndarray], float], n_boot: int = 1000,
                 level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of ``metric(y_true, y_pred)`` over resampled test samples.

    Returns ``(low, high)``. Deterministic for a seed.
    """
    t, p = _as_int(y_true), _as_int(y_pred)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, t.size, size=(n_boot, t.size))
    stats = np.array([metric(t[i], p[i]) for i in idx])
    lo, hi = np.nanpercentile(stats, [100 * (1 - level) / 2, 100 * (1 + level) / 2])
    return float(lo), float(hi)


def summarize(y_true, y_pred, class_names: Sequence[str], n_boot: int = 1000, seed: int = 0) -> dict:
    """All metrics of one evaluation, JSON-ready.

    Returns a dict with ``war``, ``uar`` (fractions), ``war_ci``, ``uar_ci`` (95 %
    bootstrap), ``per_class_recall`` ({name: recall or None}), ``confusion``
    (nested lists, rows = true class), ``n`` and ``class_names``.
    """
    k = len(class_names)
    recall = per_class_recall(y_true, y_pred, k)
    return {
        "n": int(len(y_true)),
        "war": war(y_true, y_pred),
        "uar": uar(y_true, y_pred, k),
        "war_ci": list(bootstrap_ci(y_true, y_pred, war, n_boot, seed=seed)),
        "uar_ci": list(bootstrap_ci(y_true, y_pred, lambda a, b: uar(a, b, k), n_boot, seed=seed)),
        "per_class_recall": {c: (None if np.isnan(r) else float(r)) for c, r in zip(class_names, recall)},
        "confusion": confusion_matrix(y_true, y_pred, k).tolist(),
        "class_names": list(class_names),
    }


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof = 1; 0 for a single value)."""
    v = np.asarray(values, dtype=np.float64)
    return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else 0.0


def sign_test(n_better: int, n_worse: int) -> float:
    """Two-sided exact sign test: the probability, if either side were equally likely to win each pair, of a split
    at least as uneven as ``n_better : n_worse`` (ties are left out before calling, as the test prescribes).

    Args:
        n_better, n_worse: pairs where the candidate scored higher / lower than the reference.
    Returns:
        p-value in (0, 1]; 1.0 when there are no untied pairs.
    """
    if n_better < 0 or n_worse < 0:
        raise ValueError(f"sign_test: counts must be ≥ 0, got {n_better}, {n_worse}")
    n, k = n_better + n_worse, min(n_better, n_worse)
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def paired_comparison(candidate: Sequence[float], reference: Sequence[float], n_boot: int = 10000,
                      level: float = 0.95, seed: int = 0) -> dict:
    """Compare two models evaluated on the same splits (e.g. the same test fold and seed), pair by pair.

    Args:
        candidate, reference: one score per split, in the same order (equal lengths).
        n_boot, level, seed: the percentile bootstrap of the mean difference (pairs resampled with
            replacement; deterministic for a seed).
    Returns:
        ``{"pairs", "mean_diff", "std_diff" (ddof 1; NaN for one pair), "ci_low", "ci_high" (bootstrap
        interval of the mean difference; NaN for fewer than two pairs, where no interval exists), "better",
        "equal", "worse", "sign_test_p"}`` — differences are candidate − reference.
    """
    a, b = np.asarray(candidate, dtype=float), np.asarray(reference, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"paired_comparison: need two 1-D sequences of equal length, got {a.shape} and {b.shape}")
    d = a - b
    better, worse = int((d > 0).sum()), int((d < 0).sum())
    lo = hi = math.nan
    if d.size >= 2:
        rng = np.random.default_rng(seed)
        means = d[rng.integers(0, d.size, size=(n_boot, d.size))].mean(1)
        lo, hi = (float(x) for x in np.percentile(means, [100 * (1 - level) / 2, 100 * (1 + level) / 2]))
    return {"pairs": int(d.size), "mean_diff": float(d.mean()) if d.size else math.nan,
            "std_diff": float(d.std(ddof=1)) if d.size > 1 else math.nan, "ci_low": lo, "ci_high": hi,
            "better": better, "equal": int(d.size - better - worse), "worse": worse,
            "sign_test_p": sign_test(better, worse)}


#: The decision rule in words (printed with every paired table; :func:`clip_paired_test`).
DECISION_RULE = ("paired bootstrap over test clips, stratified by test set (fold), clips and seeds resampled "
                 "within each; 95 % percentile interval of the mean WAR difference; resolved where it excludes 0. "
                 "MDD: the true difference this rule detects with 80 % power at this sample size, "
                 "(z₀.₉₇₅ + z₀.₈) × bootstrap SE")


def minimum_detectable_difference(se: float, level: float = 0.95, power: float = 0.8) -> float:
    """The smallest true difference a two-sided test at ``1 − level`` detects with probability ``power``, for an
    estimate with standard error ``se`` (normal approximation): ``(z_{(1+level)/2} + z_power) · se`` — 2.80 · se
    at the defaults. Same unit as ``se``."""
    if not (0 < level < 1 and 0 < power < 1):
        raise ValueError(f"minimum_detectable_difference: level and power must lie in (0, 1), got {level}, {power}")
    z = NormalDist().inv_cdf
    return float((z((1 + level) / 2) + z(power)) * se)


def clip_paired_test(candidate: Sequence[Sequence[int]], reference: Sequence[Sequence[int]],
                     test_sets: Sequence[Hashable], n_boot: int = 10000, level: float = 0.95, power: float = 0.8,
                     seed: int = 0) -> dict:
    """Paired comparison of two models at the level of the test clip, across replicates (the decision rule).

    Each replicate (a fold and seed) gives, for each of its test clips, whether the candidate and the reference
    got it right. The difference of a replicate is ``mean(candidate) − mean(reference)`` over its clips (its WAR
    difference); the estimate is the mean over replicates (the tables' mean Δ). Its sampling distribution is
    bootstrapped where the data vary: each test set (a fold) is a stratum, kept; within it, its clips are
    resampled (one draw shared by every replicate of that test set, since they saw the same clips) and, where it
    has several, its replicates (seeds) are resampled too. Lab folds (distinct clips, one seed each) thus get a
    bootstrap over clips stratified by fold — the bootstrap analogue of McNemar's test pooled over folds — and
    the wild seeds on one shared test set a crossed bootstrap over clips and seeds. Folds are not resampled: with
    clips nested in folds that would count the clip-level variation twice (measured on one simulated draw of two
    independent models on 5 × 28 clips: SE 0.088 with folds resampled, 0.057 without; the analytic SE is 0.057). What the rule leaves out is the
    training variation of a fold trained with one seed only; more seeds per fold put it in.

    Args:
        candidate, reference: per replicate, a 1-D 0/1 sequence (clip right / wrong) in the test set's clip order;
            replicate ``r`` of both must have the same length.
        test_sets: per replicate, an id of its test set; replicates with equal ids saw the same clips in the same
            order (equal lengths required).
        n_boot, level, seed: bootstrap draws, interval level, RNG seed (deterministic for a seed).
        power: for the minimum detectable difference (:func:`minimum_detectable_difference`).
    Returns:
        ``{"pairs", "test_sets", "clips" (distinct test clips), "mean_diff", "se", "ci_low", "ci_high",
        "p_value" (two-sided bootstrap: twice the smaller share of draws on either side of 0), "mdd",
        "cand_only", "ref_only" (clip-replicate cells right for one model only: the discordant pairs)}`` —
        fractions (multiply by 100 for points); the interval is NaN when there is nothing to resample (a single
        clip).
    Raises:
        ValueError: no replicate, lengths that differ, a value other than 0/1, or replicates of one test set with
            different clip counts.
    """
    if not (len(candidate) == len(reference) == len(test_sets)) or not len(candidate):
        raise ValueError(f"clip_paired_test: need ≥ 1 replicate and as many test-set ids, got {len(candidate)} "
                         f"candidate, {len(reference)} reference, {len(test_sets)} test-set ids")
    cand_only = ref_only = 0
    diffs = []
    for r, (a, b) in enumerate(zip(candidate, reference)):
        a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
        if a.ndim != 1 or a.shape != b.shape or a.size == 0:
            raise ValueError(f"clip_paired_test: replicate {r} has {a.shape} candidate and {b.shape} reference "
                             "clip results; both must be the same non-empty 1-D sequence of clips")
        if not np.isin(a, (0, 1)).all() or not np.isin(b, (0, 1)).all():
            raise ValueError(f"clip_paired_test: replicate {r} holds values other than 0 / 1 (right / wrong)")
        diffs.append(a - b)
        cand_only += int(((a == 1) & (b == 0)).sum())
        ref_only += int(((a == 0) & (b == 1)).sum())
    out = clip_bootstrap(diffs, test_sets, n_boot=n_boot, level=level, power=power, seed=seed)
    out.update(cand_only=cand_only, ref_only=ref_only)
    return out


def clip_bootstrap(differences: Sequence[Sequence[float]], test_sets: Sequence[Hashable], n_boot: int = 10000,
                   level: float = 0.95, power: float = 0.8, seed: int = 0) -> dict:
    """The bootstrap of :func:`clip_paired_test` for any per-clip contrast: per replicate, one number per test
    clip (e.g. ``right_a − right_b`` ∈ {−1, 0, 1}, or a difference of two such differences, as the length
    generalisation's "loss of A − loss of B"); the estimate is the mean over replicates of each replicate's mean.

    Args:
        differences: per replicate, a non-empty 1-D sequence of per-clip values in the test set's clip order.
        test_sets: per replicate, the id of its test set (equal ids: the same clips in the same order).
        n_boot, level, power, seed: as in :func:`clip_paired_test`.
    Returns:
        ``{"pairs", "test_sets", "clips", "mean_diff", "se", "ci_low", "ci_high", "p_value", "mdd"}`` (the
        value's unit; the interval NaN for a single clip; the MDD NaN where the bootstrap has no spread — no clip
        differs — since nothing then says how large a difference this size could resolve).
    Raises:
        ValueError: no replicate, a count of test-set ids that differs, an empty or non-1-D replicate, a
            non-finite value, or replicates of one test set with different clip counts.
    """
    if len(differences) != len(test_sets) or not len(differences):
        raise ValueError(f"clip_paired_test: need ≥ 1 replicate and as many test-set ids, got {len(differences)} "
                         f"replicates and {len(test_sets)} test-set ids")
    groups: dict[Hashable, list[np.ndarray]] = {}
    for r, (d, g) in enumerate(zip(differences, test_sets)):
        d = np.asarray(d, dtype=float)
        if d.ndim != 1 or d.size == 0 or not np.isfinite(d).all():
            raise ValueError(f"clip_bootstrap: replicate {r} must be a non-empty 1-D sequence of finite per-clip "
                             f"values, got shape {d.shape}")
        if groups.get(g) and groups[g][0].size != d.size:
            raise ValueError(f"clip_paired_test: test set {g!r} has replicates with {groups[g][0].size} and "
                             f"{d.size} clips; replicates of one test set must see the same clips")
        groups.setdefault(g, []).append(d)
    mats = [np.stack(v) for v in groups.values()]                       # [R_g, n_g] per-clip values per test set
    n_rep = np.array([m.shape[0] for m in mats], dtype=float)
    est = float(np.concatenate([m.mean(1) for m in mats]).mean())
    rng = np.random.default_rng(seed)
    # value of test set g in draw k: w_rep · D_g · w_clip, the weights being multinomial counts / their total
    vals = np.empty((n_boot, len(mats)))
    for j, m in enumerate(mats):
        r, n = m.shape
        w_rep = rng.multinomial(r, np.full(r, 1 / r), size=n_boot) / r
        w_clip = rng.multinomial(n, np.full(n, 1 / n), size=n_boot) / n
        vals[:, j] = np.einsum("kr,rn,kn->k", w_rep, m, w_clip)
    stats = (vals * n_rep).sum(1) / n_rep.sum()                          # replicate-weighted mean, as the estimate
    lo = hi = math.nan
    if sum(m.shape[1] for m in mats) > 1:
        lo, hi = (float(x) for x in np.percentile(stats, [100 * (1 - level) / 2, 100 * (1 + level) / 2]))
    se = float(stats.std(ddof=1))
    p = min(1.0, 2 * min(float((stats <= 0).mean()), float((stats >= 0).mean())))
    return {"pairs": len(differences), "test_sets": len(mats), "clips": int(sum(m.shape[1] for m in mats)),
            "mean_diff": est, "se": se, "ci_low": lo, "ci_high": hi, "p_value": p,
            # no clip that differs → no spread to scale: the MDD is unknown, not 0 (everything would be "detectable")
            "mdd": minimum_detectable_difference(se, level, power) if se > 0 else math.nan}

def verdict(comparison: dict, paper_diff: float) -> str:
    """*as the paper* / *opposite* / *not resolved at this budget* for a :func:`clip_paired_test` (the decision
    rule; any dict with ``ci_low`` / ``ci_high`` works).

    Resolved means the interval of the mean difference exists and excludes 0; the verdict
    then says whether
    its sign is the sign of the paper's difference ``paper_diff`` (the paper's row minus its reference row;
    its sign is the paper's claim, so it must not be 0).
    """
    if not paper_diff or not math.isfinite(paper_diff):
        raise ValueError(f"verdict: the paper's difference must be a non-zero number, got {paper_diff!r}")
    lo, hi = comparison["ci_low"], comparison["ci_high"]
    if not (lo > 0 or hi < 0):
        return VERDICTS[2]
    return VERDICTS[0] if (lo > 0) == (paper_diff > 0) else VERDICTS[1]


def invalid(reasons: Sequence[str]) -> str:
    """The verdict of a comparison that cannot be judged: ``"invalid: <reason>; <reason>"``.

    Raises:
        ValueError: no reason given (an invalid verdict always says why).
    """
    reasons = [str(r) for r in reasons if str(r)]
    if not reasons:
        raise ValueError("invalid: give at least one reason")
    return f"{INVALID}: " + "; ".join(reasons)


def is_invalid(v: object) -> bool:
    """Whether a verdict (any cell of a table's verdict column) is an :func:`invalid` one."""
    return isinstance(v, str) and (v == INVALID or v.startswith(f"{INVALID}:"))
