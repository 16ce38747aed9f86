"""The training engine: one implementation of each concept, each module one idea.

==================  ==========================================================================
module              holds
==================  ==========================================================================
``specs``           the experiment specs (``DataSpec`` … ``ExperimentConfig``), keys, validation
``data``            the split policy: a ``DataSpec`` → train / test datasets
``inputs``          the input pipeline (test transform, augmentation, LBP, Eq. 7 views)
``model``           which network a ``ModelSpec`` names (ViViT-FE and the baselines)
``device``          device, autocast precision, backend switches, device description
``step``            the optimiser, the LR schedule, the one training step
``store``           the runs store: checked results, claims (a run requested twice trains once)
``loop``            ``fit``: the epoch loop with checkpoints, resume, NaN stop, DDP
``evaluation``      predictions and metrics of a trained model
``health``          run health: *trained* / *under-trained* / *collapsed*, from the loss curve and test predictions
``cv``              cross-validation over folds × seeds
``sweeps``          many configs on local processes, GPUs or any ``concurrent.futures`` executor
==================  ==========================================================================

Names are imported lazily (PEP 562): ``import smate_nb.engine`` stays light, and
``from smate_nb.engine import fit`` works.
"""
from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ConfigError": "specs", "DataSpec": "specs", "ModelSpec": "specs", "PreprocSpec": "specs",
    "OptimSpec": "specs", "ExperimentConfig": "specs",
    "load_data": "data",
    "InputPipeline": "inputs", "prepare_inputs": "inputs", "augment_config": "inputs",
    "build_model": "model", "check_model_spec": "model",
    "resolve_device": "device", "resolve_amp": "device", "describe_device": "device",
    "TrainStep": "step", "build_train_step": "step", "make_optimizer": "step", "NonFiniteLossError": "step",
    "lr_factor": "step",
    "runs_root": "store", "load_result": "store", "InvalidResultError": "store", "Claim": "store",
    "fit": "loop", "seed_everything": "loop",
    "predict": "evaluation", "evaluate_run": "evaluation", "load_trained": "evaluation",
    "run_health": "health", "result_health": "health", "prediction_counts": "health",
    "cross_validate": "cv",
    "sweep": "sweeps", "SweepError": "sweeps", "default_workers": "sweeps", "prepare_data": "sweeps",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
