"""Training checkpoints: tensors in safetensors, everything else in JSON, both written atomically.

A checkpoint is a folder::

    ckpt/model.safetensors      model state dict
    ckpt/optim.safetensors      optimizer tensors (exp_avg, exp_avg_sq, step per parameter)
    ckpt/state.json             epoch, scheduler, history, optimizer hyper-parameters, config key

``state.json`` is written last, and a checkpoint is only trusted when its JSON
names the same tensor files' content hash *and* its own payload (epoch, history,
key) matches the digest stored beside it — so a crash between the writes can
never pair new weights with an old epoch counter, and an edited or damaged
counter is not believed. :func:`checkpoint_status` tells a missing checkpoint
from a damaged one, so the engine can say so instead of silently starting over.
Nothing is unpickled (no ``torch.load``): safetensors and JSON only.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from .files import atomic_path, write_json

__all__ = ["save_checkpoint", "load_checkpoint", "checkpoint_exists", "checkpoint_status"]


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
    payload["digest"]["state"] = _state_digest(payload)
    write_json(folder / "state.json", payload)
    return folder


def _state_digest(payload: dict[str, Any]) -> str:
    """Hash of everything in state.json except this digest itself (epoch, history, optimizer meta, key)."""
    body = {k: v for k, v in payload.items() if k != "digest"}
    body["digest"] = {k: v for k, v in payload.get("digest", {}).items() if k != "state"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:16]


def checkpoint_status(folder: str | Path) -> tuple[str, str]:
    """``("missing", why)``, ``("ok", "")`` or ``("corrupt", why)`` for a checkpoint folder.

    *missing*: no folder, or a folder with no file of a checkpoint in it. *corrupt*: files are there but
    state.json does not parse, a tensor file does not match its digest, or the state payload does not
    match its own digest.
    """
    folder = Path(folder)
    names = ("state.json", "model.safetensors", "optim.safetensors")
    if not folder.is_dir() or not any((folder / n).exists() for n in names):
        return "missing", f"no checkpoint in {folder}"
    try:
        state = json.loads((folder / "state.json").read_text())
    except (OSError, ValueError) as err:
        return "corrupt", f"{folder / 'state.json'} unreadable ({type(err).__name__}: {err})"
    try:
        digest = state["digest"]
        for part in ("model", "optim"):
            if digest[part] != _digest(folder / f"{part}.safetensors"):
                return "corrupt", f"{folder / (part + '.safetensors')} does not match the digest in state.json"
        if digest.get("state") != _state_digest(state):
            return "corrupt", f"{folder / 'state.json'}: its epoch/history do not match their digest (edited or damaged)"
    except (OSError, KeyError, TypeError, AttributeError) as err:
        return "corrupt", f"{folder}: incomplete checkpoint ({type(err).__name__}: {err})"
    return "ok", ""


def checkpoint_exists(folder: str | Path) -> bool:
    """True when ``folder`` holds a complete, self-consistent checkpoint."""
    return checkpoint_status(folder)[0] == "ok"


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
