"""Training checkpoints: tensors in safetensors, everything else in JSON, both written atomically.

A checkpoint is a folder::

    ckpt/model.safetensors      model state dict
    ckpt/optim.safetensors      optimizer tensors (exp_avg, exp_avg_sq, step per parameter)
    ckpt/state.json             epoch, scheduler, history, optimizer hyper-parameters, config key

``state.json`` is written last, and a checkpoint is only trusted when its JSON
names the same tensor files' content hash, so a crash between the three writes
can never pair new weights with an old epoch counter. Nothing is unpickled
(no ``torch.load``): safetensors and JSON only.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from .files import atomic_path, write_json

__all__ = ["save_checkpoint", "load_checkpoint", "checkpoint_exists"]


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]


def _optim_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    sd = optimizer.state_dict()
    tensors, scalars = {}, {}
    for pid, st in sd["state"].items():
        for name, value in st.items():
            if torch.is_tensor(value):
                tensors[f"{pid}.{name}"] = value.detach().cpu().contiguous()
            else:
                scalars[f"{pid}.{name}"] = value
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def save_checkpoint(folder: str | Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    state: dict[str, Any]) -> Path:
    """Write model + optimizer + JSON ``state`` into ``folder`` atomically; return the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model_sd = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    optim_t, optim_meta = _optim_tensors(optimizer)
    with atomic_path(folder / "model.safetensors") as tmp:
        save_file(model_sd, str(tmp))
    with atomic_path(folder / "optim.safetensors") as tmp:
        save_file(optim_t or {"_empty": torch.zeros(0)}, str(tmp))
    payload = {**state, "optimizer": optim_meta,
               "digest": {"model": _digest(folder / "model.safetensors"),
                          "optim": _digest(folder / "optim.safetensors")}}
    write_json(folder / "state.json", payload)
    return folder


def checkpoint_exists(folder: str | Path) -> bool:
    """True when ``folder`` holds a complete, self-consistent checkpoint."""
    folder = Path(folder)
    try:
        state = json.loads((folder / "state.json").read_text())
        return (state["digest"]["model"] == _digest(folder / "model.safetensors")
                and state["digest"]["optim"] == _digest(folder / "optim.safetensors"))
    except (OSError, KeyError, ValueError):
        return False


def load_checkpoint(folder: str | Path, model: torch.nn.Module,
                    optimizer: torch.optim.Optimizer | None = None) -> dict[str, Any]:
    """Restore ``model`` (and ``optimizer``) from ``folder``; return the JSON state.

    Raises ``FileNotFoundError`` naming the folder when the checkpoint is missing
    or incomplete (delete the folder to start the run afresh).
    """
    folder = Path(folder)
    if not checkpoint_exists(folder):
        raise FileNotFoundError(f"no complete checkpoint in {folder} (state.json missing or tensors do not "
                                f"match its digest); delete the folder to restart the run from scratch")
    state = json.loads((folder / "state.json").read_text())
    device = next(model.parameters()).device
    model.load_state_dict({k: v.to(device) for k, v in load_file(str(folder / "model.safetensors")).items()})
    if optimizer is not None:
        tensors = load_file(str(folder / "optim.safetensors"))
        meta = state["optimizer"]
        per_param: dict[int, dict[str, Any]] = {}
        for key, value in tensors.items():
            if key == "_empty":
                continue
            pid, name = key.split(".", 1)
            per_param.setdefault(int(pid), {})[name] = value.to(device) if name != "step" else value
        for key, value in meta["scalars"].items():
            pid, name = key.split(".", 1)
            per_param.setdefault(int(pid), {})[name] = value
        optimizer.load_state_dict({"state": per_param, "param_groups": meta["param_groups"]})
    return state
