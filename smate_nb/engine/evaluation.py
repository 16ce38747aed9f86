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
from torch.utils.data import DataLoader, Dataset

from ..metrics import summarize
from .inputs import InputPipeline
from .specs import DataSpec, PreprocSpec

__all__ = ["DistInfo", "collate", "predict", "evaluate"]


@dataclass
class DistInfo:
    """This process's place in a torchrun job (world 1 = single process)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def collate(items: Sequence[tuple[Any, int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """``[(clip uint8 [T, H, W, C], label), …]`` → ``(clips [B, T, H, W, C], labels int64 [B])``."""
    clips = torch.stack([c if torch.is_tensor(c) else torch.as_tensor(np.asarray(c)) for c, _ in items])
    return clips, torch.tensor([int(y) for _, y in items], dtype=torch.long)


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

    dist_info = dist_info or DistInfo()
    pipeline = InputPipeline(data, pre or PreprocSpec())
    sampler = (DistributedSampler(dataset, dist_info.world, dist_info.rank, shuffle=False)
               if dist_info.world > 1 else None)
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, sampler=sampler, collate_fn=collate)
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


def evaluate(model: nn.Module, dataset: Dataset, data: DataSpec, class_names: Sequence[str],
             device: torch.device | str = "cpu", batch_size: int = 32, n_boot: int = 1000, seed: int = 0,
             pre: PreprocSpec | None = None) -> dict[str, Any]:
    """WAR, UAR, per-class recall, confusion matrix and bootstrap 95 % intervals of ``model`` on ``dataset``
    (:func:`smate_nb.metrics.summarize`)."""
    from .device import resolve_device

    y_true, y_pred = predict(model, dataset, data, resolve_device(device), batch_size, pre=pre)
    return summarize(y_true, y_pred, class_names, n_boot=n_boot, seed=seed)
