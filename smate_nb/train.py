"""Compatibility names: the training engine now lives in :mod:`smate_nb.engine` (one module per concept).

Notebooks and scripts written against ``smate_nb.train`` keep working; new code imports from
:mod:`smate_nb.engine`. Nothing is implemented here.
"""
from __future__ import annotations

from typing import Any

from .engine.cv import cross_validate
from .engine.data import load_data
from .engine.evaluation import predict
from .engine.inputs import prepare_inputs
from .engine.loop import fit
from .engine.model import build_model
from .engine.specs import DataSpec, ExperimentConfig, ModelSpec, OptimSpec, PreprocSpec
from .engine.step import NonFiniteLossError
from .engine.store import runs_root

__all__ = [
    "DataSpec", "ModelSpec", "PreprocSpec", "OptimSpec", "ExperimentConfig", "NonFiniteLossError",
    "build_model", "prepare_inputs", "fit", "predict", "cross_validate", "runs_root",
    "experiment_from_profile", "load_data",
]


def experiment_from_profile(profile: str, dataset: str = "lab", **sections: Any) -> ExperimentConfig:
    """The named profile's experiment on ``dataset`` (:meth:`smate_nb.config.Profile.experiment`)."""
    from .config import get_profile

    return get_profile(profile).experiment(dataset, **sections)
