"""The tables every study notebook prints: rows as mean ± std over replicates beside the paper's number, and
paired comparisons decided by the suite's one rule (:func:`clip_comparison` → :func:`smate_nb.metrics.clip_paired_test`:
mean Δ with a clip-level bootstrap interval and the minimum detectable difference, and a verdict against the paper).

Input is a study's run frame (:meth:`smate_nb.experiments.Study.frame`) with the labels ``row`` and ``dataset``
(``lab`` / ``wild``) and its ``replicate`` column; two rows are paired on the same replicate (dataset, fold, seed).

Run health: where the frame has a ``health`` column (:mod:`smate_nb.engine.health`), a comparison in which any
paired run of either row is not *trained* gets the verdict ``invalid: <row> did not train (…)`` instead of one about
the methods (:func:`health_verdict`; its Δ is still shown), and :func:`summary_table` counts the trained runs per
row. A frame without the column (built by code that predates it) is read as before.
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from ..engine.health import LABELS, TRAINED
from ..metrics import DECISION_RULE, clip_paired_test, invalid, mean_std, paired_comparison, verdict

__all__ = ["PAPER_DATASET", "DECISION_RULE", "fmt_mean_std", "fmt_ci", "ci_bounds", "health_verdict", "clip_comparison",
           "comparison_columns", "summary_table", "paired_table", "bar_figure"]

#: Our dataset → the paper's (the key used in :mod:`smate_nb.paper`).
PAPER_DATASET = {"lab": "ckplus", "wild": "afew"}
_NAMES = {"lab": "lab (CK+ stand-in)", "wild": "wild (AFEW stand-in)"}


def fmt_mean_std(values: Iterable[float], digits: int = 1) -> str:
    """``"m ± s"`` of the values (sample std; 0 for one value)."""
    m, s = mean_std(list(values))
    return f"{m:.{digits}f} ± {s:.{digits}f}"


def fmt_ci(comparison: dict) -> str:
    """``"[lo, hi]"`` of a paired comparison's interval, or ``"—"`` where none exists (fewer than two pairs)."""
    lo, hi = comparison["ci_low"], comparison["ci_high"]
    return "—" if not (np.isfinite(lo) and np.isfinite(hi)) else f"[{lo:+.1f}, {hi:+.1f}]"


def ci_bounds(text: object) -> tuple[float, float]:
    """The inverse of :func:`fmt_ci` for tables read back from disk: ``"[-2.9, +1.4]"`` → ``(-2.9, 1.4)``; ``(nan, nan)``
    where the cell holds no interval (``"—"``, empty)."""
    found = re.findall(r"[-+]?\d+(?:\.\d+)?", str(text))
    return (float(found[0]), float(found[1])) if len(found) >= 2 else (float("nan"), float("nan"))


def _paper(paper_values: dict[str, dict[str, float | None]] | None, row: str, dataset: str) -> float | None:
    if not paper_values or row not in paper_values:
        return None
    return paper_values[row].get(PAPER_DATASET.get(dataset, dataset))


def _distinct_runs(sub: pd.DataFrame) -> pd.DataFrame:
    """One line per run (a frame ``by_test_start`` repeats each run once per test start point)."""
    cols = [c for c in ("row", "replicate", "key") if c in sub]
    return sub.drop_duplicates(cols) if cols else sub


def health_verdict(frame: pd.DataFrame, rows: Sequence[str], replicates: Iterable[str] | None = None) -> str | None:
    """``"invalid: <row> did not train (2 of 5 runs collapsed, 1 under-trained)"`` when any run of ``rows`` (on
    ``replicates``, default all; pass the paired ones) is not *trained*, naming every such row; ``None`` when all
    trained or when ``frame`` has no ``health`` column. Use it before :func:`smate_nb.metrics.verdict`:
    ``health_verdict(sub, [cand, ref], both.index) or verdict(c, paper_diff)``."""
    if "health" not in frame:
        return None
    sub = frame if replicates is None else frame[frame["replicate"].isin(list(replicates))]
    reasons = []
    for row in dict.fromkeys(rows):
        runs = _distinct_runs(sub[sub["row"] == row])
        labels = runs["health"].astype(str)
        bad = {lab: int((labels == lab).sum()) for lab in LABELS if lab != TRAINED}
        bad.update({lab: int((labels == lab).sum()) for lab in labels.unique() if lab not in LABELS})  # unknown
        bad = {k: v for k, v in bad.items() if v}
        if bad:
            (lab0, n0), *rest = bad.items()
            counted = ", ".join([f"{n0} of {len(runs)} runs {lab0}", *(f"{n} {lab}" for lab, n in rest)])
            reasons.append(f"{row} did not train ({counted})")
    return invalid(reasons) if reasons else None


def clip_comparison(candidate: pd.DataFrame, reference: pd.DataFrame, on: Sequence[str] = ("replicate",),
                    n_boot: int = 10000, seed: int = 0) -> dict[str, Any]:
    """The decision rule on two sets of runs: pair them on the columns ``on`` and run
    :func:`smate_nb.metrics.clip_paired_test` on their clip-level results (frame columns ``test correct`` and
    ``test clips``, :meth:`smate_nb.experiments.Study.frame`).

    Args:
        candidate, reference: one line per run (a run repeated under two labels counts once per pairing key).
        on: the columns two runs are paired on (default the replicate: dataset, fold, seed).
    Returns:
        The test's dict with the differences in WAR points (``mean_diff``, ``se``, ``ci_low``, ``ci_high``,
        ``mdd``: × 100) plus ``better`` / ``equal`` / ``worse`` (replicates whose WAR difference is > / = / < 0)
        and ``index`` (the pairing keys used). No pair → ``pairs`` 0 and NaN numbers.
    Raises:
        ValueError: a frame without the clip-level columns, or two paired runs scored on different test clips
            (their ``test clips`` ids differ), naming the pairing key.
    """
    on = list(on)
    for name, f in (("candidate", candidate), ("reference", reference)):
        missing = [c for c in [*on, "test correct", "test clips"] if c not in f]
        if missing:
            raise ValueError(f"clip_comparison: the {name} runs lack the columns {missing}; build the frame with "
                             "Study.frame (it carries each run's clip-level results)")
    a = candidate.drop_duplicates(on).set_index(on)
    b = reference.drop_duplicates(on).set_index(on)
    idx = [k for k in a.index if k in b.index]
    if not idx:
        nan = float("nan")
        return {"pairs": 0, "test_sets": 0, "clips": 0, "mean_diff": nan, "se": nan, "ci_low": nan, "ci_high": nan,
                "p_value": nan, "mdd": nan, "cand_only": 0, "ref_only": 0, "better": 0, "equal": 0, "worse": 0,
                "index": []}
    cand, ref, sets = [], [], []
    for k in idx:
        ra, rb = a.loc[k], b.loc[k]
        if ra["test clips"] != rb["test clips"]:
            raise ValueError(f"clip_comparison: the runs paired on {dict(zip(on, np.atleast_1d(k)))} were scored "
                             f"on different test clips (ids {ra['test clips']} and {rb['test clips']}); pair runs "
                             "of the same test set")
        cand.append([int(ch) for ch in str(ra["test correct"])])
        ref.append([int(ch) for ch in str(rb["test correct"])])
        sets.append(ra["test clips"])
    c = clip_paired_test(cand, ref, sets, n_boot=n_boot, seed=seed)
    for key in ("mean_diff", "se", "ci_low", "ci_high", "mdd"):
        c[key] = 100.0 * c[key]
    per_replicate = paired_comparison([np.mean(x) for x in cand], [np.mean(y) for y in ref])   # describes only
    c.update({k: per_replicate[k] for k in ("better", "equal", "worse")}, index=idx)
    return c


def comparison_columns(c: dict[str, Any], delta_name: str = "mean Δ WAR (pts)") -> dict[str, Any]:
    """The columns every paired table shows for a :func:`clip_comparison` (its Δ under ``delta_name``): pairs,
    clips, Δ, 95 % CI, the minimum detectable difference ("—" where no clip differs), the bootstrap p and the
    replicates' better / equal / worse."""
    out = {"pairs": c["pairs"], "clips": c["clips"], delta_name: round(c["mean_diff"], 2), "95 % CI": fmt_ci(c),
           "MDD (pts)": round(c["mdd"], 1) if np.isfinite(c["mdd"]) else "—", "p (bootstrap)": round(c["p_value"], 3)}
    if "better" in c:                                   # clip_comparison's replicate counts (not clip_bootstrap's)
        out["better / equal / worse"] = f"{c['better']} / {c['equal']} / {c['worse']}"
    return out


def summary_table(frame: pd.DataFrame, rows: Sequence[str], paper_values: dict | None = None,
                  paper_names: dict[str, str] | None = None, datasets: Sequence[str] = ("lab", "wild")) -> pd.DataFrame:
    """One line per row × dataset: replicates, WAR and UAR as mean ± std (%), the paper's top-1 (%), and — where
    the frame has a ``health`` column — ``trained runs`` (``"3 / 5"``: replicates whose run is *trained*).

    ``paper_names`` maps our row names to the paper's (default: the same).
    """
    out = []
    for dataset in datasets:
        for row in rows:
            sub = frame[(frame["row"] == row) & (frame["dataset"] == dataset)]
            if sub.empty:
                continue
            paper_row = (paper_names or {}).get(row, row)
            p = _paper(paper_values, paper_row, dataset)
            line = {"dataset": _NAMES.get(dataset, dataset), "row": row, "replicates": len(sub)}
            if "health" in sub:
                line["trained runs"] = f"{int((sub['health'] == TRAINED).sum())} / {len(sub)}"
            line.update({"WAR % (ours)": fmt_mean_std(sub["WAR"]), "UAR % (ours)": fmt_mean_std(sub["UAR"]),
                         "paper top-1 %": "—" if p is None else f"{p:.2f}"})
            out.append(line)
    return pd.DataFrame(out)


def paired_table(frame: pd.DataFrame, pairs: Sequence[tuple[str, str]], paper_values: dict | None = None,
                 paper_names: dict[str, str] | None = None, datasets: Sequence[str] = ("lab", "wild")) -> pd.DataFrame:
    """Each (candidate, reference) pair of rows on the same replicates, decided by the suite's rule
    (:func:`clip_comparison`): mean Δ WAR (points), its 95 % interval, the minimum detectable difference (MDD) at
    this table's size, the bootstrap p, the replicates' better / equal / worse, the paper's Δ, whether the
    paper's Δ is at least the MDD (``paper Δ ≥ MDD``: could this table have detected the paper's effect?), and
    the verdict (*as the paper* / *opposite* / *not resolved at this budget*; "—" where the paper gives no
    number). Where any paired run of either row is not *trained* (frame column ``health``), the verdict is
    ``invalid: <row> did not train (…)`` (:func:`health_verdict`), whether or not the paper gives a number; the Δ
    columns are still filled."""
    out = []
    for dataset in datasets:
        sub = frame[frame["dataset"] == dataset]
        if sub.empty:
            continue
        for cand, ref in pairs:
            a, b = sub[sub["row"] == cand], sub[sub["row"] == ref]
            if a.empty or b.empty:
                continue
            c = clip_comparison(a, b)
            pn = paper_names or {}
            pc, pr = _paper(paper_values, pn.get(cand, cand), dataset), _paper(paper_values, pn.get(ref, ref), dataset)
            pdiff = None if pc is None or pr is None else pc - pr
            out.append({"dataset": _NAMES.get(dataset, dataset), "comparison": f"{cand} − {ref}",
                        **comparison_columns(c),
                        "paper Δ (pts)": "—" if pdiff is None else f"{pdiff:+.2f}",
                        "paper Δ ≥ MDD": "—" if pdiff is None or not np.isfinite(c["mdd"])
                        else ("yes" if abs(pdiff) >= c["mdd"] else "no"),
                        "verdict": health_verdict(sub, [cand, ref], c["index"])
                        or ("—" if not pdiff else verdict(c, pdiff))})
    return pd.DataFrame(out)


def bar_figure(frame: pd.DataFrame, rows: Sequence[str], title: str, paper_values: dict | None = None,
               paper_names: dict[str, str] | None = None, datasets: Sequence[str] = ("lab", "wild"),
               metric: str = "WAR", chance: float | None = 100 / 7) -> Any:
    """Bars of mean ``metric`` per row (error bars: 95 % bootstrap interval of the mean over replicates), one
    panel per dataset, the paper's values as black diamonds. Returns the matplotlib figure."""
    import matplotlib.pyplot as plt

    present = [d for d in datasets if (frame["dataset"] == d).any()]
    fig, axes = plt.subplots(1, len(present), figsize=(max(5.0, 1.2 * len(rows)) * len(present), 4.2), squeeze=False)
    rng = np.random.default_rng(0)
    for ax, dataset in zip(axes[0], present):
        means, lo, hi, paper = [], [], [], []
        for row in rows:
            v = frame[(frame["row"] == row) & (frame["dataset"] == dataset)][metric].to_numpy(float)
            if v.size == 0:
                means.append(np.nan); lo.append(0); hi.append(0); paper.append(np.nan)
                continue
            boot = v[rng.integers(0, v.size, (4000, v.size))].mean(1)
            m = v.mean()
            means.append(m); lo.append(m - np.percentile(boot, 2.5)); hi.append(np.percentile(boot, 97.5) - m)
            p = _paper(paper_values, (paper_names or {}).get(row, row), dataset)
            paper.append(np.nan if p is None else p)
        x = np.arange(len(rows))
        ax.bar(x, means, yerr=[lo, hi], capsize=4, color="tab:blue", alpha=0.8, label="ours (mean, 95 % CI)")
        if not np.all(np.isnan(paper)):
            ax.plot(x, paper, "kD", ms=7, label="paper")
        if chance:
            ax.axhline(chance, color="grey", ls=":", lw=1, label="chance")
        ax.set_xticks(x, rows, rotation=20, ha="right", fontsize=8)
        ax.set_ylim(0, 100); ax.set_ylabel(f"{metric} (%)"); ax.grid(axis="y", alpha=0.3)
        ax.set_title(_NAMES.get(dataset, dataset), fontsize=10)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=len(labels), bbox_to_anchor=(0.5, 1.02), fontsize=8)
    fig.suptitle(title, y=1.08, fontsize=11)
    fig.tight_layout()
    return fig
