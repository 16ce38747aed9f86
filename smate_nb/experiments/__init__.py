"""Study definitions: one module per study, each returning the study's experiment configs for a profile.

In the spirit of Scenic's per-experiment ``get_config()``: a notebook (or a GPU script) asks
``appearance_bias.study("cpu", folds=[0, 1])`` for a :class:`Study` — the resolved parameters, the recorded
choices, and one :class:`Run` per training (its config and the labels that place it in the study's tables) —
and trains it with :meth:`Study.run` (the engine's :func:`~smate_nb.engine.sweeps.sweep`). The per-profile
defaults of a study (epochs, clip length, model) live in its module, derived from the profile; notebooks hold
no per-profile dicts.

Modules: :mod:`.appearance_bias` (§2, Figs. 1–2), :mod:`.ablations` (Tables 2–4: position encodings and
progressive preprocessing), :mod:`.comparison` (Tables 1 and 6).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from ..engine.specs import ExperimentConfig

__all__ = ["Run", "Study", "percent"]


@dataclass(frozen=True)
class Run:
    """One training of a study: its config, and labels such as ``row``, ``dataset``, ``fold``, ``seed``."""

    config: ExperimentConfig
    labels: tuple[tuple[str, Any], ...] = ()

    def label(self, name: str, default: Any = None) -> Any:
        return dict(self.labels).get(name, default)


@dataclass(frozen=True)
class Study:
    """A study's trainings for one profile (build it with a study module's ``study(profile, ...)``).

    Attributes:
        name: the study's name (``appearance_bias``, ``ablations``, …).
        profile: the profile's name.
        parameters: every resolved parameter (recorded with the tables).
        runs: one :class:`Run` per (row, dataset, fold, seed, …); duplicates (the same config under two
            labels, e.g. Table 2 "learned" = Table 3 "Original") are trained once by the sweep.
        choices: the study's recorded choices — ambiguities resolved, calibration decisions, budget cuts.
    """

    name: str
    profile: str
    parameters: dict[str, Any]
    runs: tuple[Run, ...]
    choices: dict[str, Any] = field(default_factory=dict)

    @property
    def configs(self) -> list[ExperimentConfig]:
        return [r.config for r in self.runs]

    @property
    def distinct(self) -> int:
        """Number of distinct trainings (runs requested twice count once)."""
        return len({c.key() for c in self.configs})

    def select(self, **labels: Any) -> list[Run]:
        """The runs whose labels equal all the given ones (a list or tuple value matches any of its items)."""
        def ok(run: Run) -> bool:
            for k, v in labels.items():
                got = run.label(k)
                if isinstance(v, (list, tuple, set)) and not isinstance(got, (list, tuple)):
                    if got not in v:
                        return False
                elif got != v:
                    return False
            return True
        return [r for r in self.runs if ok(r)]

    def run(self, runs: Sequence[Run] | None = None, **sweep_kwargs: Any) -> list[dict[str, Any]]:
        """Train (or fetch) ``runs`` (default: all) through the sweep; results in the same order."""
        from ..engine.sweeps import sweep

        runs = list(self.runs if runs is None else runs)
        sweep_kwargs.setdefault("desc", self.name)
        return sweep([r.config for r in runs], **sweep_kwargs)

    def frame(self, results: Iterable[dict[str, Any]], runs: Sequence[Run] | None = None,
              by_test_start: bool = False) -> Any:
        """One row per run (× test start point with ``by_test_start``): the labels, WAR and UAR in %, the
        test size, train clips and seconds, whether the run was reused, its key, and ``replicate`` — the
        dataset, fold and seed that paired comparisons match on."""
        import pandas as pd

        rows = []
        for run, res in zip(self.runs if runs is None else runs, results):
            metrics = res["metrics_by_test_start"] if by_test_start else {"": res["metrics"]}
            for start, m in metrics.items():
                row = dict(run.labels)
                row["replicate"] = f"{row.get('dataset', '')}/fold {row.get('fold')}/seed {row.get('seed')}"
                if by_test_start:
                    row["test_start"] = float(start)
                row.update({"WAR": percent(m["war"]), "UAR": percent(m["uar"]), "n_test": m["n"],
                            "train clips": res["train_size"], "train seconds": res["wall_seconds"],
                            "reused": bool(res.get("reused", False)), "key": res["key"]})
                rows.append(row)
        return pd.DataFrame(rows)


def percent(fraction: float) -> float:
    """A fraction as a percentage."""
    return 100.0 * float(fraction)
