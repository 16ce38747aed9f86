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

from ..engine.data import train_clips
from ..engine.health import LABELS, result_health
from ..engine.specs import ExperimentConfig

__all__ = ["Run", "Study", "ESTIMATED_PROFILES", "percent", "train_clips", "measured_throughput", "estimate", "GPU_REFERENCE"]


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
        """Train (or fetch) ``runs`` (default: all) through the sweep; results in the same order.

        Runs are swept stage by stage (label ``stage``, ascending; unlabelled runs form one stage of their own):
        a run that fine-tunes from another (``init="run:<key>"``) sits in a later stage than that run, which must
        be finished before any worker builds the model that starts from it.
        """
        from ..engine.sweeps import sweep

        runs = list(self.runs if runs is None else runs)
        sweep_kwargs.setdefault("desc", self.name)
        if self.profile in ESTIMATED_PROFILES and sweep_kwargs.get("progress", True):
            print(self.estimate_line(runs))
        stages = sorted({r.label("stage", 1) for r in runs})
        out: list[dict[str, Any] | None] = [None] * len(runs)
        for stage in stages:
            idx = [i for i, r in enumerate(runs) if r.label("stage", 1) == stage]
            desc = sweep_kwargs["desc"] + (f" (stage {stage})" if len(stages) > 1 else "")
            for i, res in zip(idx, sweep([runs[i].config for i in idx], **{**sweep_kwargs, "desc": desc})):
                out[i] = res
        return out  # type: ignore[return-value]

    def estimate_line(self, runs: Sequence[Run] | None = None) -> str:
        """One line with the number of distinct trainings of ``runs`` (default: all) and their GPU-time estimate
        (:func:`estimate`), printed by :meth:`run` before a ``paper`` / ``gpu`` sweep starts."""
        sub = self if runs is None else Study(self.name, self.profile, self.parameters, tuple(runs), self.choices)
        try:
            est = estimate(sub)
        except (OSError, KeyError, ValueError, StopIteration) as e:   # e.g. no CK+/AFEW manifest yet
            return f"{self.name}: {sub.distinct} distinct trainings; no GPU-time estimate ({type(e).__name__}: {e})"
        return (f"{self.name}: {est['trainings']} distinct trainings, ≈ {est['gpu_seconds'] / 60:.1f} GPU-minutes of "
                f"model steps at the throughput measured on {est['device']} (Table 5; data generation, evaluation "
                "and compile warm-up not included)")

    def train(self, report: Any = None, by_test_start: bool = False, **sweep_kwargs: Any) -> tuple[list[dict], Any]:
        """:meth:`run` every run, count them in ``report`` (:meth:`smate_nb.report.Report.record_runs`), print
        what was trained and what reused and how many distinct trainings are *trained* / *under-trained* /
        *collapsed* (:mod:`smate_nb.engine.health`), and return ``(results, frame)`` (:meth:`frame`)."""
        results = self.run(**sweep_kwargs)
        if report is not None:
            report.record_runs(results)
        frame = self.frame(results, by_test_start=by_test_start)
        trained = sum(not r["reused"] for r in results)
        print(f"{self.name}: {len(self.runs)} runs, {self.distinct} distinct trainings — {trained} trained now, "
              f"{len(results) - trained} reused; training time of the distinct runs "
              f"{frame.drop_duplicates('key')['train seconds'].sum() / 60:.1f} min")
        health = frame.drop_duplicates("key")["health"].value_counts()
        print(f"{self.name}: run health of the distinct trainings — "
              + ", ".join(f"{int(health.get(lab, 0))} {lab}" for lab in LABELS))
        return results, frame

    def frame(self, results: Iterable[dict[str, Any]], runs: Sequence[Run] | None = None,
              by_test_start: bool = False) -> Any:
        """One row per run (× test start point with ``by_test_start``): the labels, WAR and UAR in %, the
        test size, train clips and seconds, ``epochs`` (trained: the history's length), ``final train loss``,
        ``train accuracy`` (% on the un-augmented training clips; NaN for a result stored before it was
        measured), ``health`` (:func:`~smate_nb.engine.health.result_health`: *trained* / *under-trained* /
        *collapsed*, judged now for old results too) and ``health reasons`` (in words; empty when trained), whether
        the run was reused, its key, ``replicate`` — the dataset, fold and seed that paired comparisons match on —
        and the clip-level results the decision rule reads (:func:`smate_nb.experiments.tables.clip_comparison`):
        ``test correct`` (one character per test clip in the test set's order, ``1`` right, ``0`` wrong) and
        ``test clips`` (an id of the test set: a digest of the dataset, fold, test start and the clips' true
        labels; runs with equal ids were scored on the same clips)."""
        import hashlib
        import json
        import math

        import pandas as pd

        rows = []
        for run, res in zip(self.runs if runs is None else runs, results):
            health = result_health(res)
            train_war = health["train_accuracy"]
            final_loss = health["final_train_loss"]
            metrics = res["metrics_by_test_start"] if by_test_start else {"": res["metrics"]}
            preds = res["predictions_by_test_start"] if by_test_start else {"": res["predictions"]}
            for start, m in metrics.items():
                y_true, y_pred = preds[start]["y_true"], preds[start]["y_pred"]
                ident = json.dumps([dict(run.labels).get("dataset"), dict(run.labels).get("fold"), start, y_true])
                row = dict(run.labels)
                row["replicate"] = f"{row.get('dataset', '')}/fold {row.get('fold')}/seed {row.get('seed')}"
                if by_test_start:
                    row["test_start"] = float(start)
                row.update({"WAR": percent(m["war"]), "UAR": percent(m["uar"]), "n_test": m["n"],
                            "train clips": res["train_size"], "train seconds": res["wall_seconds"],
                            "epochs": len(res["history"]),
                            "final train loss": math.nan if final_loss is None else final_loss,
                            "train accuracy": math.nan if train_war is None else percent(train_war),
                            "health": health["label"], "health reasons": "; ".join(health["reasons"]),
                            "reused": bool(res.get("reused", False)), "key": res["key"],
                            "test correct": "".join("1" if t == p else "0" for t, p in zip(y_true, y_pred)),
                            "test clips": hashlib.sha256(ident.encode()).hexdigest()[:10]})
                rows.append(row)
        return pd.DataFrame(rows)


#: Profiles whose sweeps print a GPU-time estimate before they start (:meth:`Study.estimate_line`).
ESTIMATED_PROFILES = ("paper", "gpu")


def percent(fraction: float) -> float:
    """A fraction as a percentage."""
    return 100.0 * float(fraction)


#: The committed GPU measurement the estimates scale from (Table 5 through the engine's step, one H200).
GPU_REFERENCE = "reports/gpu/h200/table5.json"


def measured_throughput(path: str | None = None, crop: int = 224) -> dict[str, Any]:
    """Training clips/s of ViViT-B/16x2 FE (16 frames, eager bf16) at ``crop`` from the committed GPU report,
    with its MACs per clip and device: ``{"clips_per_s", "macs", "device", "source"}``."""
    import json
    from pathlib import Path

    p = Path(path) if path else Path(__file__).resolve().parents[2] / GPU_REFERENCE
    doc = json.loads(p.read_text())
    rows = doc["tables"]["table5_throughput"]["rows"]
    row = next(r for r in rows if r["model"] == "vivit_b_16x2_fe" and int(r["crop"]) == crop and r["status"] == "ok")
    return {"clips_per_s": float(row["clips/s"]), "macs": float(row["GMACs/clip"]) * 1e9,
            "device": doc["device"]["name"], "source": str(p)}


def estimate(study: "Study", throughput: dict[str, Any] | None = None) -> dict[str, Any]:
    """The number of distinct trainings of ``study`` and an estimate of their GPU time: each run's epochs ×
    training clips × its MACs per clip, at the measured MACs/s of :func:`measured_throughput` (model step
    only: data generation, evaluation and ``torch.compile`` warm-up are not in it)."""
    import torch

    from ..cost import count_macs
    from ..engine.model import build_model

    tp = throughput or measured_throughput()
    macs_per_s = tp["clips_per_s"] * tp["macs"]
    seen, seconds, macs_cache = set(), 0.0, {}
    for c in study.configs:
        if c.key() in seen:
            continue
        seen.add(c.key())
        geo = (c.model.arch, c.model.temporal_position, c.data.num_frames, c.data.crop)
        if geo not in macs_cache:
            spec = c.model.__class__(**{**c.model.__dict__, "init": "scratch"})
            with torch.device("meta"):
                m = build_model(spec, num_frames=c.data.num_frames, image_size=c.data.crop, num_classes=7)
            macs_cache[geo] = count_macs(m, c.data.num_frames, c.data.crop)
        seconds += c.optim.epochs * train_clips(c.data) * macs_cache[geo] / macs_per_s
    return {"trainings": len(seen), "gpu_seconds": seconds, "device": tp["device"], "source": tp["source"]}
