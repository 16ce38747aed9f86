"""Evaluation: predictions of a trained model on a test set, and their metrics (WAR, UAR, confusion, CIs).

The test input is the pipeline's evaluation path (:class:`~smate_nb.engine.inputs.InputPipeline` with
``train=False``: the test transform, no views). Under DDP each rank predicts a shard and the shards are
gathered (``DistributedSampler`` pads with repeats; each clip is kept once).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from ..metrics import summarize
from .inputs import InputPipeline
from .specs import DataSpec, PreprocSpec

__all__ = ["DistInfo", "collate", "predict", "load_trained", "evaluate_run"]


@dataclass
class DistInfo:
    """This process's place in a torchrun job (world 1 = single process)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def collate(items: Sequence[tuple[Any, ...]]) -> tuple[torch.Tensor, ...]:
    """``[(clip uint8 [T, H, W, C], label, *extra), …]`` → ``(clips [B, T, H, W, C], labels int64 [B], *extra [B])``
    (``extra``: e.g. the item index of a dataset built with ``return_index=True``)."""
    clips = torch.stack([c if torch.is_tensor(c) else torch.as_tensor(np.asarray(c)) for c, *_ in items])
    columns = list(zip(*[rest for _, *rest in items]))
    return (clips, *(torch.tensor([int(v) for v in col], dtype=torch.long) for col in columns))


def predict(model: nn.Module, dataset: Dataset, data: DataSpec, device: torch.device, batch_size: int = 32,
            amp_dtype: torch.dtype | None = None, dist_info: DistInfo | None = None, progress: bool = False,
            pre: PreprocSpec | None = None) -> tuple[np.ndarray, np.ndarray]:
    """True and predicted labels of ``dataset``.

    Args:
        model: the trained network (put in eval mode for the call, then restored).
        dataset: items ``(uint8 [T, H, W, C], label)``.
        data: clip geometry of the test transform.
        device: where to run.
        amp_dtype: autocast dtype (``None``: fp32).
        pre: the run's preprocessing (only ``lbp_mode="input"`` changes the evaluation input).
    Returns:
        ``(y_true [N], y_pred [N])`` int arrays in dataset order.
    """
    from torch.utils.data.distributed import DistributedSampler
    from tqdm.auto import tqdm

    from .data import make_loader

    dist_info = dist_info or DistInfo()
    pipeline = InputPipeline(data, pre or PreprocSpec())
    sampler = (DistributedSampler(dataset, dist_info.world, dist_info.rank, shuffle=False)
               if dist_info.world > 1 else None)
    loader = make_loader(dataset, batch_size, shuffle=False, sampler=sampler)
    was_training = model.training
    model.eval()
    ys, ps = [], []
    with torch.no_grad():
        for clips, labels in tqdm(loader, desc="eval", leave=False, disable=not progress):
            clip, _ = pipeline(clips.to(device, non_blocking=True), train=False)
            with torch.autocast(device.type, dtype=amp_dtype or torch.float32, enabled=amp_dtype is not None):
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
                by_index.setdefault(i, (a, b))
        keys = sorted(by_index)
        y_true = np.array([by_index[i][0] for i in keys])
        y_pred = np.array([by_index[i][1] for i in keys])
    return y_true, y_pred


def load_trained(result: dict[str, Any], root: Any = None, device: torch.device | str = "cpu",
                 num_frames: int | None = None) -> tuple[nn.Module, Any]:
    """The trained model of a stored result (its last checkpoint = its final weights), in eval mode.

    Args:
        result: a result dict returned by :func:`~smate_nb.engine.fit` (or read from ``result.json``).
        root: the runs root it is stored in.
        num_frames: rebuild for clips of this many frames (:meth:`~smate_nb.model.vivit.ViViTFE.with_num_frames`:
            TPE recomputed for the new L, a learned temporal table interpolated).
    Returns:
        ``(model, config)``.
    """
    from safetensors.torch import load_file

    from .device import resolve_device
    from .model import build_model
    from .specs import ExperimentConfig
    from .store import run_dir

    config = ExperimentConfig.from_dict(result["config"])
    dev = resolve_device(device)
    classes = len(result["metrics"]["class_names"])
    spec = config.model.__class__(**{**config.model.__dict__, "init": "scratch"})   # weights come from the run
    model = build_model(spec, num_frames=config.data.num_frames, image_size=config.data.crop, num_classes=classes,
                        mix_prob=config.preproc.mix_prob)
    ckpt = run_dir(result["key"], root) / "ckpt" / "model.safetensors"
    if not ckpt.exists():
        raise FileNotFoundError(f"run {result['key']}: no checkpoint at {ckpt}; re-run its config to recreate it")
    model.load_state_dict(load_file(str(ckpt)))
    if num_frames is not None and num_frames != config.data.num_frames:
        model = model.with_num_frames(num_frames)
    return model.to(dev).eval(), config


class FramesShuffled(Dataset):
    """The clips of ``dataset`` with their frames in a fixed random order: clip ``i`` permuted by
    ``randperm(T)`` seeded with ``seed + i`` (the same order on every read). Items as the wrapped dataset's,
    ``(uint8 [T, H, W, C], label)``."""

    def __init__(self, dataset: Dataset, seed: int = 0):
        self.dataset, self.seed = dataset, int(seed)

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, i: int) -> tuple[Any, ...]:
        clip, *rest = self.dataset[i]
        clip = torch.as_tensor(np.asarray(clip))
        order = torch.randperm(clip.shape[0], generator=torch.Generator().manual_seed(self.seed + i))
        return (clip[order], *rest)


def evaluate_run(result: dict[str, Any], *, num_frames: int | None = None, shuffle_frames: int | None = None,
                 root: Any = None, device: torch.device | str = "cpu", progress: bool = False) -> dict[str, Any]:
    """Score a stored run again on its test set — at another clip length for length generalisation, or with
    each test clip's frames shuffled (does the model use their order?).

    With ``num_frames`` the test clips are sampled with that many frames (same stride and ending policies,
    so the clip spans the same part of each sequence, more densely) and the model is rebuilt for them
    (:func:`load_trained`). With ``shuffle_frames`` (a seed) every test clip's frames are permuted
    (:class:`FramesShuffled`) before the test transform. Returns :func:`smate_nb.metrics.summarize` of the
    predictions plus ``num_frames``, ``temporal_tokens``, ``shuffle_frames`` and ``predictions`` (``{"y_true",
    "y_pred"}`` lists in test order, for the clip-level decision rule).
    """
    from .data import load_data
    from .device import resolve_device

    model, config = load_trained(result, root, device, num_frames)
    d = config.data.__class__(**{**config.data.__dict__, "num_frames": num_frames or config.data.num_frames})
    _, tests, classes = load_data(d, progress=progress)
    test = tests[d.test_starts[0]]
    if shuffle_frames is not None:
        test = FramesShuffled(test, shuffle_frames)
    y_true, y_pred = predict(model, test, d, resolve_device(device), config.optim.eval_batch_size, pre=config.preproc)
    out = summarize(y_true, y_pred, classes, seed=config.seed)
    out.update(num_frames=d.num_frames, temporal_tokens=getattr(model.config, "grid", (None,))[0],
               shuffle_frames=shuffle_frames, predictions={"y_true": y_true.tolist(), "y_pred": y_pred.tolist()})
    return out
