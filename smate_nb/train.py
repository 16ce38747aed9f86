"""Training and evaluation engine: one frozen experiment config → one stored result.

Every table of the paper is "train a model, evaluate it on a test split". This
module is the one engine all studies use:

* :class:`ExperimentConfig` (frozen; data, model, preprocessing, optimisation,
  seed) has a stable :meth:`~ExperimentConfig.key` (hash of its canonical JSON).
* :func:`fit` trains and evaluates, storing ``runs/<key>/result.json`` (config,
  per-epoch history, final metrics, confusion matrix, wall time, device, package
  versions). A config requested twice is trained once; ``retrain=True`` forces.
  Checkpoints (safetensors + JSON, atomic) are written every epoch, and an
  interrupted run resumes from its last one. A NaN/inf loss stops the run with
  a clear error and the last good checkpoint kept.
* :func:`evaluate` computes WAR / UAR / per-class recall / confusion / bootstrap
  intervals; :func:`cross_validate` runs the subject-independent folds × seeds.
* Multi-GPU: launch the same code under ``torchrun`` — :func:`fit` detects
  ``WORLD_SIZE > 1``, joins the process group (NCCL on GPU, gloo on CPU), wraps
  the model in ``DistributedDataParallel`` and shards data with
  ``DistributedSampler``; rank 0 alone writes files.

The input pipeline runs on the training device, per batch: uint8 clips →
test transform (resize, centre crop) or random augmentation (§3.1.2) →
optional LBP view (§3.1.3) and N augmented views for mixed tokens (Eq. 7).
Determinism: every epoch reseeds torch, the loader and the augmentation
generator from ``(seed, epoch)``, so a resumed run continues exactly as an
uninterrupted one would.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset

from . import __version__
from .checkpoint import checkpoint_exists, load_checkpoint, save_checkpoint
from .files import write_json
from .metrics import summarize
from .preprocess.augment import AugmentConfig, augment, make_views, test_transform
from .preprocess.lbp import lbp_image

__all__ = [
    "DataSpec", "ModelSpec", "PreprocSpec", "OptimSpec", "ExperimentConfig", "NonFiniteLossError",
    "build_model", "prepare_inputs", "fit", "evaluate", "predict", "cross_validate", "runs_root",
    "experiment_from_profile",
]


# --------------------------------------------------------------------------------------------- config
@dataclass(frozen=True)
class DataSpec:
    """Which clips to train and test on.

    ``dataset``: ``synthfer-lab`` / ``synthfer-wild`` (generated on demand with
    ``subjects``, ``image_size``, ``data_seed`` and generator knobs ``synth_knobs`` — ``(name, value)``
    pairs of :func:`smate_nb.data.synthfer.make_config`) or ``ckplus`` / ``afew`` (read through
    the manifest in ``manifest``). ``test_fold``: for k-fold datasets the held-out
    fold (subject-independent); ``None`` uses the manifest's train/test split.
    ``train_starts``: every training sequence is sampled once per start point
    (fractions of its length: 0 = first frame; the appearance-bias study adds
    1/4, 1/3, 1/2). ``test_starts``: the trained model is evaluated on the test
    clips sampled from each of these start points (the first one gives the
    headline ``metrics``; all are in ``metrics_by_test_start``).
    """

    dataset: str = "synthfer-lab"
    test_fold: int | None = 0
    folds: int = 10
    num_frames: int = 16
    stride: int = 1
    train_starts: tuple[float, ...] = (0.0,)
    test_starts: tuple[float, ...] = (0.0,)
    resize: int = 72
    crop: int = 64
    subjects: int = 40
    image_size: int = 112
    data_seed: int = 0
    synth_knobs: tuple[tuple[str, Any], ...] = ()
    manifest: str | None = None


@dataclass(frozen=True)
class ModelSpec:
    """``arch``: a ViViT-FE name (``vivit_*``) or a frame CNN (``framecnn_*``).

    ``overrides``: extra architecture fields as ``(name, value)`` pairs (frozen and
    hashable), e.g. ``(("tpe_alpha", 2.0),)``. ``init``: ``"scratch"`` or the path of
    a local ViT safetensors checkpoint (see :mod:`smate_nb.model.vit_init`).
    """

    arch: str = "vivit_cpu_fe"
    temporal_position: str = "learned"
    overrides: tuple[tuple[str, Any], ...] = ()
    init: str = "scratch"
    inflation: str = "central"


@dataclass(frozen=True)
class PreprocSpec:
    """Training-time preprocessing (evaluation always uses the test transform only).

    * ``augment``: random crop/flip/rotation/colour per clip (§3.1.2).
    * ``lbp``: LBP (§3.1.3). With ``mix`` it is one more view in Eq. 7; without,
      a training clip is replaced by its LBP image with probability ``lbp_prob``
      (LBP as an augmentation — the paper does not say how LBP enters without
      mixing; recorded with the result).
    * ``mix``: mixed-token embedding (Eq. 7) with ``n_views`` augmented views and
      mixing probability ``mix_prob``.
    """

    augment: bool = False
    lbp: bool = False
    lbp_variant: str = "skimage"
    lbp_prob: float = 0.5
    mix: bool = False
    n_views: int = 1
    mix_prob: float = 0.5


@dataclass(frozen=True)
class OptimSpec:
    """AdamW with linear warm-up then cosine decay (per step)."""

    epochs: int = 20
    batch_size: int = 16
    lr: float = 1e-3
    weight_decay: float = 0.05
    warmup_epochs: float = 1.0
    label_smoothing: float = 0.0
    grad_clip: float = 1.0
    accum_steps: int = 1
    compile: bool = False
    amp: str = "auto"              # "auto" → bf16 autocast on CUDA, off on CPU; "bf16" | "off"
    num_workers: int = 0
    eval_batch_size: int = 32


@dataclass(frozen=True)
class ExperimentConfig:
    """One experiment. :meth:`key` identifies its stored result."""

    data: DataSpec = field(default_factory=DataSpec)
    model: ModelSpec = field(default_factory=ModelSpec)
    preproc: PreprocSpec = field(default_factory=PreprocSpec)
    optim: OptimSpec = field(default_factory=OptimSpec)
    seed: int = 0
    device: str = "auto"
    tag: str = ""                  # free text; part of the key only if set

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(asdict(self), default=list))

    def key(self) -> str:
        """16 hex digits of SHA-256 over the canonical JSON (device excluded: results do not depend on it
        beyond numerics, and a CPU result should be found by a GPU session; for SynthFER the generator
        version is included, so results never outlive a change of the data's pixels)."""
        import hashlib

        d = self.to_dict()
        d.pop("device")
        if not d["tag"]:
            d.pop("tag")
        if self.data.dataset.startswith("synthfer"):
            # A new generator version changes the pixels: a stored result must not survive it.
            from .data.synthfer import GENERATOR_VERSION

            d["data"]["generator_version"] = GENERATOR_VERSION
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]

    def replace(self, **sections: Any) -> "ExperimentConfig":
        """Copy with sections replaced; dict values update the section's fields, e.g.
        ``cfg.replace(seed=1, data={"test_fold": 3})``."""
        changes = {}
        for name, value in sections.items():
            current = getattr(self, name)
            changes[name] = replace(current, **value) if isinstance(value, dict) else value
        return replace(self, **changes)


def experiment_from_profile(profile: str, dataset: str = "lab", **sections: Any) -> ExperimentConfig:
    """Experiment config with the profile's defaults (see :mod:`smate_nb.config`).

    ``dataset``: ``"lab"`` or ``"wild"`` (the profile's lab / wild dataset). Extra
    keyword sections are applied with :meth:`ExperimentConfig.replace`.
    """
    from .config import get_profile

    p = get_profile(profile)
    name = p.data.lab if dataset == "lab" else p.data.wild
    stride = p.clip.stride_lab if dataset == "lab" else p.clip.stride_wild
    cfg = ExperimentConfig(
        data=DataSpec(dataset=name, folds=p.data.folds, num_frames=p.clip.num_frames, stride=stride,
                      resize=p.clip.resize, crop=p.clip.crop, subjects=p.data.subjects,
                      image_size=p.data.image_size, data_seed=p.data.seed,
                      test_fold=0 if dataset == "lab" else None),
        model=ModelSpec(arch=p.model),
        optim=OptimSpec(epochs=p.train.epochs, batch_size=p.train.batch_size, lr=p.train.lr,
                        weight_decay=p.train.weight_decay, warmup_epochs=p.train.warmup_epochs,
                        label_smoothing=p.train.label_smoothing),
        seed=p.train.seeds[0], device=p.train.device)
    return cfg.replace(**sections) if sections else cfg


class NonFiniteLossError(FloatingPointError):
    """Raised when the training loss becomes NaN or infinite."""


def runs_root(default: str | os.PathLike | None = None) -> Path:
    """Where results and checkpoints live: ``$SMATE_RUNS`` or ``<repo>/runs``."""
    if default is not None:
        return Path(default)
    env = os.environ.get("SMATE_RUNS")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "runs"


# --------------------------------------------------------------------------------------------- model
def build_model(spec: ModelSpec, *, num_frames: int, image_size: int, num_classes: int,
                mix_prob: float = 0.5) -> nn.Module:
    """Instantiate the model of a :class:`ModelSpec` (ViViT-FE or frame CNN), initialised as asked."""
    overrides = dict(spec.overrides)
    if spec.arch.startswith("framecnn"):
        from .model.framecnn import build_framecnn

        return build_framecnn(spec.arch, num_classes=num_classes, **overrides)
    from .model import build_vivit

    model = build_vivit(spec.arch, num_frames=num_frames, image_size=image_size, num_classes=num_classes,
                        temporal_position=spec.temporal_position, **{"mix_prob": mix_prob, **overrides})
    if spec.init != "scratch":
        from .model.vit_init import load_vit_checkpoint

        model.init_report = load_vit_checkpoint(model, spec.init, spec.inflation)
    return model


# --------------------------------------------------------------------------------------------- inputs
def prepare_inputs(batch: torch.Tensor, data: DataSpec, pre: PreprocSpec, train: bool,
                   generator: torch.Generator | None = None) -> tuple[torch.Tensor, list[torch.Tensor] | None]:
    """On-device input pipeline for one batch.

    Args:
        batch: uint8 clips ``[B, T, H, W, C]`` (as stored) already on the target device.
        data: clip geometry (``resize``, ``crop``).
        pre: preprocessing switches.
        train: training (random transforms, views) or evaluation (test transform only).
        generator: CPU generator for the random draws (seeded per epoch by :func:`fit`).
    Returns:
        ``(clip [B, T, C, crop, crop] float in [0, 1], views or None)`` — views is the list
        of N augmented views (+ the LBP view) for mixed-token embedding.
    """
    if batch.ndim != 5:
        raise ValueError(f"expected uint8 clips [B, T, H, W, C], got {tuple(batch.shape)}")
    x = batch.permute(0, 1, 4, 2, 3)
    base = test_transform(x, data.crop, data.resize)
    if not train:
        return base, None
    cfg = AugmentConfig.for_clip(data.crop)
    clip = augment(x, cfg, generator)[0] if pre.augment else base
    views: list[torch.Tensor] | None = None
    if pre.mix:
        views = list(make_views(x, pre.n_views, cfg, generator).unbind(0))
        if pre.lbp:
            views.append(lbp_image(base, pre.lbp_variant))
    elif pre.lbp:
        pick = torch.rand(x.shape[0], generator=generator) < pre.lbp_prob
        if bool(pick.any()):
            clip = torch.where(pick.to(clip.device)[:, None, None, None, None], lbp_image(clip, pre.lbp_variant), clip)
    return clip, views


# --------------------------------------------------------------------------------------------- distributed
@dataclass
class _Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def _dist_setup(device: torch.device) -> _Dist:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return _Dist()
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return _Dist(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


def _resolve_device(name: str, local_rank: int = 0) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        # An explicit index: torch.cuda.set_device refuses a bare "cuda"; under torchrun each rank takes its own.
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", local_rank)))
    return torch.device(name)


# --------------------------------------------------------------------------------------------- data
def _collate(items: Sequence[tuple[Any, int]]) -> tuple[torch.Tensor, torch.Tensor]:
    clips = torch.stack([torch.as_tensor(np.asarray(c)) if not torch.is_tensor(c) else c for c, _ in items])
    labels = torch.tensor([int(y) for _, y in items], dtype=torch.long)
    return clips, labels


def load_data(spec: DataSpec) -> tuple[Dataset, dict[float, Dataset], tuple[str, ...]]:
    """Train and test datasets of a :class:`DataSpec` through the manifest and clip loader.

    Returns ``(train, {test_start: test}, class_names)``; each dataset yields
    ``(uint8 [T, H, W, C], label)``.
    """
    from .engine.data import load_data as _load

    return _load(spec)


# --------------------------------------------------------------------------------------------- loop
def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": platform.python_version(), "smate_nb": __version__}
    for pkg in ("torch", "numpy", "einops", "opencv-python-headless", "scikit-image", "safetensors"):
        with contextlib.suppress(md.PackageNotFoundError):
            out[pkg] = md.version(pkg)
    return out


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads)"


def _schedule(step: int, total: int, warmup: int) -> float:
    if warmup > 0 and step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def _seed_everything(seed: int, epoch: int) -> int:
    s = (seed * 1_000_003 + epoch * 7919) % (2 ** 31)
    torch.manual_seed(s)
    np.random.seed(s)
    return s


def predict(model: nn.Module, dataset: Dataset, data: DataSpec, device: torch.device, batch_size: int = 32,
            amp: bool = False, dist_info: _Dist | None = None, progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Predicted and true labels of ``dataset`` (test transform only). Returns ``(y_true, y_pred)``."""
    from torch.utils.data.distributed import DistributedSampler
    from tqdm.auto import tqdm

    dist_info = dist_info or _Dist()
    sampler = (DistributedSampler(dataset, dist_info.world, dist_info.rank, shuffle=False)
               if dist_info.world > 1 else None)
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, sampler=sampler, collate_fn=_collate)
    was_training = model.training
    model.eval()
    ys, ps = [], []
    with torch.no_grad():
        for clips, labels in tqdm(loader, desc="eval", leave=False, disable=not progress):
            clip, _ = prepare_inputs(clips.to(device, non_blocking=True), data, PreprocSpec(), train=False)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                logits = model(clip)
            ps.append(logits.argmax(1).cpu())
            ys.append(labels)
    model.train(was_training)
    y_true, y_pred = torch.cat(ys).numpy(), torch.cat(ps).numpy()
    if dist_info.world > 1:
        import torch.distributed as tdist

        order = list(sampler)
        gathered: list[Any] = [None] * dist_info.world
        tdist.all_gather_object(gathered, (order, y_true.tolist(), y_pred.tolist()))
        by_index: dict[int, tuple[int, int]] = {}
        for o, t, p in gathered:
            for i, a, b in zip(o, t, p):
                by_index.setdefault(i, (a, b))           # DistributedSampler pads with repeats: keep one
        keys = sorted(by_index)
        y_true = np.array([by_index[i][0] for i in keys])
        y_pred = np.array([by_index[i][1] for i in keys])
    return y_true, y_pred


def evaluate(model: nn.Module, dataset: Dataset, data: DataSpec, class_names: Sequence[str],
             device: torch.device | str = "cpu", batch_size: int = 32, n_boot: int = 1000,
             seed: int = 0) -> dict[str, Any]:
    """WAR, UAR, per-class recall, confusion matrix and bootstrap 95 % intervals on ``dataset``."""
    y_true, y_pred = predict(model, dataset, data, torch.device(device), batch_size)
    return summarize(y_true, y_pred, class_names, n_boot=n_boot, seed=seed)


def fit(config: ExperimentConfig, *, data: tuple[Dataset, Any, Sequence[str]] | None = None,
        root: str | os.PathLike | None = None, retrain: bool = False, progress: bool = True,
        on_epoch_end: Callable[[int, nn.Module], None] | None = None) -> dict[str, Any]:
    """Train and evaluate one experiment, or return its stored result.

    Args:
        config: the experiment.
        data: ``(train, test, class_names)`` to use instead of loading ``config.data``
            (tests, custom datasets; the result is still stored under ``config.key()``);
            ``test`` is a Dataset (for ``data.test_starts[0]``) or ``{test_start: Dataset}``.
        root: runs root (default :func:`runs_root`).
        retrain: ignore a stored result and any checkpoint.
        progress: tqdm bars over epochs and batches.
        on_epoch_end: called as ``fn(epoch, model)`` after each epoch's checkpoint is written.
    Returns:
        the result dict (also written to ``<root>/<key>/result.json``).
    Raises:
        NonFiniteLossError: the loss became NaN/inf (the last good checkpoint is kept).
    """
    from torch.utils.data.distributed import DistributedSampler
    from tqdm.auto import tqdm

    run_dir = runs_root(root) / config.key()
    result_path = run_dir / "result.json"
    ckpt_dir = run_dir / "ckpt"
    if result_path.exists() and not retrain:
        return json.loads(result_path.read_text())

    device = _resolve_device(config.device)
    dist_info = _dist_setup(device)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    o, d, pre = config.optim, config.data, config.preproc
    amp = (o.amp == "bf16") or (o.amp == "auto" and device.type == "cuda")
    train_ds, test_sets, class_names = data if data is not None else load_data(d)
    if not isinstance(test_sets, dict):
        test_sets = {d.test_starts[0]: test_sets}
    test_ds = test_sets[d.test_starts[0]]
    if len(train_ds) == 0 or len(test_ds) == 0:
        raise ValueError(f"experiment {config.key()}: empty split (train {len(train_ds)}, test {len(test_ds)}); "
                         f"check the manifest's folds/splits for dataset {d.dataset!r}")

    _seed_everything(config.seed, -1)
    model = build_model(config.model, num_frames=d.num_frames, image_size=d.crop, num_classes=len(class_names),
                        mix_prob=pre.mix_prob).to(device)
    init_report = getattr(model, "init_report", None)
    fused = device.type == "cuda"
    optimizer = torch.optim.AdamW(model.parameters(), lr=o.lr, weight_decay=o.weight_decay, fused=fused)
    per_rank_batch = max(1, o.batch_size // dist_info.world)
    steps_per_epoch = math.ceil(math.ceil(len(train_ds) / dist_info.world) / per_rank_batch / o.accum_steps)
    total_steps = steps_per_epoch * o.epochs
    warmup_steps = int(round(o.warmup_epochs * steps_per_epoch))

    start_epoch, history = 0, []
    if retrain and dist_info.main and ckpt_dir.exists():
        import shutil

        shutil.rmtree(ckpt_dir)
    if dist_info.world > 1:
        torch.distributed.barrier()
    if checkpoint_exists(ckpt_dir):
        state = load_checkpoint(ckpt_dir, model, optimizer)
        start_epoch, history = state["epoch"] + 1, state["history"]

    net: nn.Module = model
    if dist_info.world > 1:
        net = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    if o.compile:
        net = torch.compile(net)

    t_start = time.perf_counter()
    epochs = tqdm(range(start_epoch, o.epochs), desc=f"fit {config.key()}", disable=not (progress and dist_info.main),
                  initial=start_epoch, total=o.epochs, unit="epoch")
    for epoch in epochs:
        s = _seed_everything(config.seed, epoch)
        g_loader = torch.Generator().manual_seed(s)
        g_aug = torch.Generator().manual_seed(s + 1)
        if dist_info.world > 1:
            sampler = DistributedSampler(train_ds, dist_info.world, dist_info.rank, shuffle=True, seed=config.seed)
            sampler.set_epoch(epoch)
            loader = DataLoader(train_ds, per_rank_batch, sampler=sampler, collate_fn=_collate,
                                num_workers=o.num_workers, pin_memory=device.type == "cuda")
        else:
            loader = DataLoader(train_ds, per_rank_batch, shuffle=True, generator=g_loader, collate_fn=_collate,
                                num_workers=o.num_workers, pin_memory=device.type == "cuda")
        net.train()
        t0 = time.perf_counter()
        loss_sum, correct, seen = 0.0, 0, 0
        optimizer.zero_grad(set_to_none=True)
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{o.epochs}", leave=False, disable=not (progress and dist_info.main))
        for i, (clips, labels) in enumerate(bar):
            step = epoch * steps_per_epoch + i // o.accum_steps
            for group in optimizer.param_groups:
                group["lr"] = o.lr * _schedule(step, total_steps, warmup_steps)
            clips, labels = clips.to(device, non_blocking=True), labels.to(device, non_blocking=True)
            clip, views = prepare_inputs(clips, d, pre, train=True, generator=g_aug)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                logits = net(clip, views)
                loss = F.cross_entropy(logits.float(), labels, label_smoothing=o.label_smoothing)
            if not torch.isfinite(loss):
                kept = (f"the last good checkpoint (after epoch {len(history)}) is kept in {ckpt_dir}"
                        if history and checkpoint_exists(ckpt_dir) else "no checkpoint was written yet")
                raise NonFiniteLossError(
                    f"experiment {config.key()}: loss is {loss.item()} at epoch {epoch + 1}, batch {i + 1}; {kept}. "
                    f"Lower optim.lr (now {o.lr}), enable grad_clip, or check the input data.")
            (loss / o.accum_steps).backward()
            if (i + 1) % o.accum_steps == 0 or (i + 1) == len(loader):
                if o.grad_clip:
                    nn.utils.clip_grad_norm_(model.parameters(), o.grad_clip)
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
            loss_sum += loss.item() * labels.shape[0]
            correct += int((logits.argmax(1) == labels).sum())
            seen += labels.shape[0]
            bar.set_postfix(loss=f"{loss_sum / seen:.3f}", acc=f"{correct / seen:.3f}")
        history.append({"epoch": epoch + 1, "train_loss": loss_sum / max(seen, 1), "train_acc": correct / max(seen, 1),
                        "lr": optimizer.param_groups[0]["lr"], "seconds": time.perf_counter() - t0})
        epochs.set_postfix(loss=f"{history[-1]['train_loss']:.3f}", acc=f"{history[-1]['train_acc']:.3f}")
        if dist_info.main:
            save_checkpoint(ckpt_dir, model, optimizer, {"epoch": epoch, "history": history, "key": config.key()})
        if dist_info.world > 1:
            torch.distributed.barrier()
        if on_epoch_end is not None:
            on_epoch_end(epoch, model)

    by_start, predictions = {}, {}
    for start, ds in test_sets.items():
        y_true, y_pred = predict(model, ds, d, device, o.eval_batch_size, amp, dist_info)
        by_start[f"{start:.4f}"] = summarize(y_true, y_pred, list(class_names), seed=config.seed)
        predictions[f"{start:.4f}"] = {"y_true": y_true.tolist(), "y_pred": y_pred.tolist()}
    first = f"{d.test_starts[0]:.4f}"
    result = {
        "key": config.key(), "config": config.to_dict(), "history": history, "metrics": by_start[first],
        "metrics_by_test_start": by_start, "predictions": predictions[first],
        "predictions_by_test_start": predictions,
        "train_size": len(train_ds), "test_size": len(test_ds),
        "wall_seconds": sum(h["seconds"] for h in history), "session_seconds": time.perf_counter() - t_start,
        "device": _device_name(device), "world_size": dist_info.world, "versions": _versions(),
        "init": init_report,
    }
    if dist_info.main:
        write_json(result_path, result)
    return result


def cross_validate(config: ExperimentConfig, folds: Sequence[int] | None = None, seeds: Sequence[int] | None = None,
                   **fit_kwargs: Any):
    """Fit every (fold, seed) pair and tabulate.

    Args:
        config: base experiment; ``data.test_fold`` and ``seed`` are replaced per run.
        folds: test folds (default ``range(config.data.folds)``).
        seeds: training seeds (default ``(config.seed,)``).
    Returns:
        ``(runs, summary)``: a DataFrame with one row per run (fold, seed, WAR, UAR, key) and a dict with
        mean ± std (sample std over runs) of WAR and UAR.
    """
    import pandas as pd

    from .metrics import mean_std

    folds = list(range(config.data.folds)) if folds is None else list(folds)
    seeds = [config.seed] if seeds is None else list(seeds)
    rows = []
    for fold in folds:
        for seed in seeds:
            cfg = config.replace(seed=seed, data={"test_fold": fold})
            r = fit(cfg, **fit_kwargs)
            rows.append({"fold": fold, "seed": seed, "war": r["metrics"]["war"], "uar": r["metrics"]["uar"],
                         "n_test": r["test_size"], "key": r["key"]})
    runs = pd.DataFrame(rows)
    war_m, war_s = mean_std(runs["war"])
    uar_m, uar_s = mean_std(runs["uar"])
    return runs, {"war_mean": war_m, "war_std": war_s, "uar_mean": uar_m, "uar_std": uar_s, "runs": len(runs)}
