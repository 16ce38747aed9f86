"""Cross-validation: one config over subject-independent folds × training seeds, through the sweep."""
from __future__ import annotations

from typing import Any, Sequence

from .specs import ExperimentConfig

__all__ = ["cross_validate"]


def cross_validate(config: ExperimentConfig, folds: Sequence[int] | None = None, seeds: Sequence[int] | None = None,
                   **sweep_kwargs: Any):
    """Fit every (fold, seed) pair of ``config`` and tabulate.

    Args:
        config: base experiment; ``data.test_fold`` and ``seed`` are replaced per run.
        folds: test folds (default ``range(config.data.folds)``).
        seeds: training seeds (default ``(config.seed,)``).
        **sweep_kwargs: passed to :func:`~smate_nb.engine.sweeps.sweep` (``workers``, ``executor``, ``root``…).
    Returns:
        ``(runs, summary)``: a DataFrame with one row per run (fold, seed, WAR, UAR, n_test, key) and a dict
        with mean ± sample std over runs of WAR and UAR.
    """
    import pandas as pd

    from ..metrics import mean_std
    from .sweeps import sweep

    folds = list(range(config.data.folds)) if folds is None else list(folds)
    seeds = [config.seed] if seeds is None else list(seeds)
    pairs = [(f, s) for f in folds for s in seeds]
    results = sweep([config.replace(seed=s, data={"test_fold": f}) for f, s in pairs], **sweep_kwargs)
    runs = pd.DataFrame([{"fold": f, "seed": s, "war": r["metrics"]["war"], "uar": r["metrics"]["uar"],
                          "n_test": r["test_size"], "key": r["key"]} for (f, s), r in zip(pairs, results)])
    war_m, war_s = mean_std(runs["war"])
    uar_m, uar_s = mean_std(runs["uar"])
    return runs, {"war_mean": war_m, "war_std": war_s, "uar_mean": uar_m, "uar_std": uar_s, "runs": len(runs)}
