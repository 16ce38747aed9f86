"""The epoch loop: one frozen experiment config → one trained, evaluated, stored result.

:func:`fit` validates the config, returns the stored result if there is a valid one, otherwise claims the
run (:class:`~smate_nb.engine.store.Claim`), resumes from its last good checkpoint or starts, trains epoch
by epoch with the one training step (:func:`~smate_nb.engine.step.build_train_step`) on the one input
pipeline (:class:`~smate_nb.engine.inputs.InputPipeline`), writes a checkpoint after every epoch
(safetensors + JSON, atomic), evaluates on every test start point, scores the un-augmented training clips, labels
the run's health (:mod:`~smate_nb.engine.health`) and stores ``result.json``.

Determinism: every epoch reseeds torch, the loader and the augmentation generator from ``(seed, epoch)``,
so a resumed run continues exactly as an uninterrupted one, and a run gives the same numbers in any
process (one torch thread on CPU).

Multi-GPU: the same code under ``torchrun --nproc_per_node N``: :func:`fit` joins the process group (NCCL
on GPU, gloo on CPU), wraps the model in ``DistributedDataParallel`` and shards the data with
``DistributedSampler``; rank 0 alone writes files (a torchrun job is one request: no claim is taken).
"""
from __future__ import annotations

import contextlib
import math
import os
import platform
import shutil
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from .. import __version__
from ..checkpoint import checkpoint_status, load_checkpoint, save_checkpoint
from ..metrics import summarize
from .device import cpu_isa, device_name, resolve_amp, resolve_device
from .evaluation import DistInfo, predict
from .health import prediction_counts, run_health
from .inputs import InputPipeline
from .model import build_model
from .specs import ExperimentConfig
from .step import NonFiniteLossError, build_train_step, compute_module, lr_factor
from .store import Claim, InvalidResultError, load_result, quarantine, run_dir, write_result

__all__ = ["fit", "seed_everything"]


def seed_everything(seed: int, epoch: int) -> int:
    """Seed torch and numpy for ``(seed, epoch)`` (epoch −1: model initialisation); return the seed used."""
    s = (seed * 1_000_003 + epoch * 7919) % (2 ** 31)
    torch.manual_seed(s)
    np.random.seed(s)
    return s


def _dist_setup(device: torch.device) -> DistInfo:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return DistInfo(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": platform.python_version(), "smate_nb": __version__}
    for pkg in ("torch", "numpy", "einops", "opencv-python-headless", "scikit-image", "safetensors"):
        with contextlib.suppress(md.PackageNotFoundError):
            out[pkg] = md.version(pkg)
    return out


def _stored(result_path: Path, config: ExperimentConfig) -> dict[str, Any] | None:
    """The valid stored result, or None (a damaged one is moved aside with a warning)."""
    if not result_path.exists():
        return None
    try:
        result = load_result(result_path, config.key(), config.optim.epochs)
    except InvalidResultError as err:
        quarantine(result_path, f"stored result is not valid ({err}); the run is trained again")
        return None
    return {**result, "reused": True}


def fit(config: ExperimentConfig, *, data: tuple[Dataset, Any, Sequence[str]] | None = None,
        root: str | os.PathLike | None = None, retrain: bool = False, progress: bool = True,
        on_epoch_end: Callable[[int, nn.Module], None] | None = None) -> dict[str, Any]:
    """Train and evaluate one experiment, or return its stored result.

    Args:
        config: the experiment (checked by :meth:`ExperimentConfig.validate` before anything is written).
        data: ``(train, test, class_names)`` to use instead of loading ``config.data`` (tests, custom
            datasets; the result is still stored under ``config.key()``); ``test`` is a Dataset (for
            ``data.test_starts[0]``) or ``{test_start: Dataset}``.
        root: runs root (default :func:`~smate_nb.engine.store.runs_root`).
        retrain: ignore a stored result and any checkpoint.
        progress: tqdm bars over epochs and batches.
        on_epoch_end: called as ``fn(epoch, model)`` after each epoch's checkpoint is written.
    Returns:
        the result dict (also in ``<root>/<key>/result.json``) plus ``"reused"``: True when it was read
        from the store rather than trained by this call.
    Raises:
        ConfigError / ValueError: a field of ``config`` cannot run, or its device / precision is not available
            here (raised before anything is written).
        NonFiniteLossError: the loss became NaN/inf (the last good checkpoint is kept).
    """
    config.validate()
    resolve_amp(config.optim.amp, resolve_device(config.device))   # a device/precision that cannot run: now
    key = config.key()
    folder = run_dir(key, root)
    result_path, ckpt_dir = folder / "result.json", folder / "ckpt"
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if not retrain and (stored := _stored(result_path, config)) is not None:
        return stored
    claim = Claim(folder, done=result_path) if world <= 1 else contextlib.nullcontext(True)
    with claim as owned:
        if not owned:                                   # another process finished it while we waited
            stored = _stored(result_path, config)
            if stored is not None:
                return stored
            raise RuntimeError(f"run {key}: another process finished it but {result_path} is not valid")
        if retrain:
            if world <= 1 or int(os.environ.get("RANK", "0")) == 0:
                shutil.rmtree(ckpt_dir, ignore_errors=True)
                result_path.unlink(missing_ok=True)
        elif (stored := _stored(result_path, config)) is not None:
            return stored                               # finished between our first look and the claim
        result = _train(config, key, folder, data, progress, on_epoch_end,
                        getattr(claim, "took_over", None))
    return {**result, "reused": False}


def _train(config: ExperimentConfig, key: str, folder: Path, data: Any, progress: bool,
           on_epoch_end: Callable[[int, nn.Module], None] | None, took_over: dict[str, Any] | None) -> dict[str, Any]:
    from torch.utils.data.distributed import DistributedSampler
    from tqdm.auto import tqdm

    from .data import load_data, make_loader

    result_path, ckpt_dir = folder / "result.json", folder / "ckpt"
    device = resolve_device(config.device)
    dist_info = _dist_setup(device)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    o, d, pre = config.optim, config.data, config.preproc
    train_ds, test_sets, class_names = data if data is not None else load_data(d, progress=progress)
    if not isinstance(test_sets, dict):
        test_sets = {d.test_starts[0]: test_sets}
    test_ds = test_sets[d.test_starts[0]]
    if len(train_ds) == 0 or len(test_ds) == 0:
        raise ValueError(f"experiment {key}: empty split (train {len(train_ds)}, test {len(test_ds)}); "
                         f"check the manifest's folds/splits for dataset {d.dataset!r}")

    seed_everything(config.seed, -1)
    model = build_model(config.model, num_frames=d.num_frames, image_size=d.crop, num_classes=len(class_names),
                        mix_prob=pre.mix_prob, root=folder.parent).to(device)
    init_report = getattr(model, "init_report", None)
    wrap = None
    if dist_info.world > 1:
        wrap = nn.parallel.DistributedDataParallel(compute_module(model, o),
                                                   device_ids=[device.index] if device.type == "cuda" else None)
    step = build_train_step(model, o, device, wrap=wrap)
    pipeline = InputPipeline(d, pre)
    per_rank_batch = max(1, o.batch_size // dist_info.world)
    batches_per_epoch = math.ceil(math.ceil(len(train_ds) / dist_info.world) / per_rank_batch)
    steps_per_epoch = math.ceil(batches_per_epoch / o.accum_steps)
    total_steps = steps_per_epoch * o.epochs
    warmup_steps = int(round(o.warmup_epochs * steps_per_epoch))

    start_epoch, history, resumed_from = 0, [], None
    if dist_info.main:
        status, why = checkpoint_status(ckpt_dir)
        if status == "corrupt":
            quarantine(ckpt_dir, f"run {key}: its checkpoint is damaged ({why}); training restarts from epoch 0 "
                                 f"and nothing of it is trusted")
    if dist_info.world > 1:
        torch.distributed.barrier()
    if checkpoint_status(ckpt_dir)[0] == "ok":
        state = load_checkpoint(ckpt_dir, model, step.optimizer)
        start_epoch, history = state["epoch"] + 1, state["history"]
        resumed_from = start_epoch
        if len(history) != start_epoch:
            raise RuntimeError(f"run {key}: checkpoint {ckpt_dir} says epoch {state['epoch']} but holds "
                               f"{len(history)} history rows; delete the folder to restart")

    t_start = time.perf_counter()
    show = progress and dist_info.main
    epochs = tqdm(range(start_epoch, o.epochs), desc=f"fit {key}", disable=not show, initial=start_epoch,
                  total=o.epochs, unit="epoch")
    for epoch in epochs:
        s = seed_everything(config.seed, epoch)
        g_aug = torch.Generator().manual_seed(s + 1)
        sampler = None
        if dist_info.world > 1:
            sampler = DistributedSampler(train_ds, dist_info.world, dist_info.rank, shuffle=True, seed=config.seed)
            sampler.set_epoch(epoch)
        loader = make_loader(train_ds, per_rank_batch, shuffle=True, seed=s, num_workers=o.num_workers,
                             pin_memory=device.type == "cuda", sampler=sampler)
        step.model.train()
        t0 = time.perf_counter()
        loss_sum, correct, seen = 0.0, 0, 0
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{o.epochs}", leave=False, disable=not show)
        for i, (clips, labels) in enumerate(bar):
            step.set_lr(o.lr * lr_factor(epoch * steps_per_epoch + i // o.accum_steps, total_steps, warmup_steps))
            clips, labels = clips.to(device, non_blocking=True), labels.to(device, non_blocking=True)
            clip, views = pipeline(clips, train=True, generator=g_aug)
            update = (i + 1) % o.accum_steps == 0 or (i + 1) == len(loader)
            try:
                loss, logits = step(clip, labels, views, update=update)
            except NonFiniteLossError as err:
                kept = (f"the last good checkpoint (after epoch {len(history)}) is kept in {ckpt_dir}"
                        if history and checkpoint_status(ckpt_dir)[0] == "ok" else "no checkpoint was written yet")
                raise NonFiniteLossError(
                    f"experiment {key}: {err} at epoch {epoch + 1}, batch {i + 1}; {kept}. "
                    f"Lower optim.lr (now {o.lr}), enable optim.grad_clip, or check the input data.") from None
            loss_sum += loss.item() * labels.shape[0]
            correct += int((logits.argmax(1) == labels).sum())
            seen += labels.shape[0]
            bar.set_postfix(loss=f"{loss_sum / seen:.3f}", acc=f"{correct / seen:.3f}")
        history.append({"epoch": epoch + 1, "train_loss": loss_sum / max(seen, 1), "train_acc": correct / max(seen, 1),
                        "lr": step.optimizer.param_groups[0]["lr"], "seconds": time.perf_counter() - t0})
        if o.eval_every and (epoch + 1) % o.eval_every == 0 and epoch + 1 < o.epochs:
            # A learning curve: scored with the evaluation path; the RNG state is put back so training is unchanged.
            rng = torch.get_rng_state()
            y_true, y_pred = predict(model, test_ds, d, device, o.eval_batch_size, step.amp_dtype, dist_info, pre=pre)
            torch.set_rng_state(rng)
            history[-1]["test_war"] = float((y_true == y_pred).mean())
        epochs.set_postfix(loss=f"{history[-1]['train_loss']:.3f}", acc=f"{history[-1]['train_acc']:.3f}")
        if dist_info.main:
            save_checkpoint(ckpt_dir, model, step.optimizer, {"epoch": epoch, "history": history, "key": key})
        if dist_info.world > 1:
            torch.distributed.barrier()
        if on_epoch_end is not None:
            on_epoch_end(epoch, model)

    by_start, predictions = {}, {}
    for start, ds in test_sets.items():
        y_true, y_pred = predict(model, ds, d, device, o.eval_batch_size, step.amp_dtype, dist_info, pre=pre)
        by_start[f"{start:.4f}"] = summarize(y_true, y_pred, list(class_names), seed=config.seed)
        predictions[f"{start:.4f}"] = {"y_true": y_true.tolist(), "y_pred": y_pred.tolist()}
    first = f"{d.test_starts[0]:.4f}"
    if o.eval_every and history:
        history[-1]["test_war"] = by_start[first]["war"]
    # Run health: the model scored on its own training clips through the evaluation path (the test transform, no
    # augmentation), the histogram of its test predictions, and the label (engine.health); RNG state put back.
    rng = torch.get_rng_state()
    tr_true, tr_pred = predict(model, train_ds, d, device, o.eval_batch_size, step.amp_dtype, dist_info, pre=pre)
    torch.set_rng_state(rng)
    train_eval = {"war": float((tr_true == tr_pred).mean()), "n": int(len(tr_true))}
    counts = prediction_counts(predictions[first]["y_pred"], len(class_names))
    result = {
        "key": key, "config": config.to_dict(), "history": history, "metrics": by_start[first],
        "metrics_by_test_start": by_start, "predictions": predictions[first],
        "predictions_by_test_start": predictions,
        "train_size": len(train_ds), "test_size": len(test_ds),
        "wall_seconds": sum(h["seconds"] for h in history), "session_seconds": time.perf_counter() - t_start,
        "resumed_from_epoch": resumed_from, "claim_taken_over": took_over,
        "device": device_name(device), "cpu_isa": cpu_isa(), "world_size": dist_info.world, "step": step.settings(),
        "versions": _versions(), "init": init_report,
        "train_eval": train_eval, "test_prediction_counts": counts,
        "health": run_health(history, predictions[first]["y_pred"], len(class_names), train_eval["war"],
                             class_names=list(class_names)),
    }
    if dist_info.main:
        write_result(result_path, result)
    return result
