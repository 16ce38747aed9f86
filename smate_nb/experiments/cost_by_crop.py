"""Cost by crop size (paper Table 5): which models are timed at which crops, and the timing budget, per profile.

* ``smoke``: the profile's tiny ViViT at every crop, 1 + 2 steps of batch 2 (CI, seconds);
* ``cpu``: the profile's small ViViT (with the paper's 2×16×16 tubelet, so token counts per crop are
  Table 5's) at every crop and ViViT-B/16x2 at crop 64 only, 1 + 5 steps of batch 4;
* ``paper`` / ``gpu``: ViViT-B/16x2 FE at all four crops, 3 + 10 steps of batch 32, with the fast-path
  ablation (a GPU measurement).
"""
from __future__ import annotations

from typing import Any, Sequence

from ..config import get_profile

__all__ = ["plan"]

_BUDGET = {
    "smoke": dict(batch_size=2, warmup_steps=1, timed_steps=2, pipeline_batches=2, ablation=False),
    "cpu": dict(batch_size=4, warmup_steps=1, timed_steps=5, pipeline_batches=3, ablation=False),
    "paper": dict(batch_size=32, warmup_steps=3, timed_steps=10, pipeline_batches=6, ablation=True),
}


def plan(profile: str, crops: Sequence[int], big_config: str, *, big_crops: Sequence[int] | None = None,
         small_config: str | None = None, small_crops: Sequence[int] | None = None, batch_size: int | None = None,
         warmup_steps: int | None = None, timed_steps: int | None = None,
         ablation: bool | None = None) -> dict[str, Any]:
    """The resolved timing plan of the cost-by-crop notebook (``None`` arguments take the profile's defaults).

    Returns ``{"small_config", "small_crops", "big_crops", "batch_size", "warmup_steps", "timed_steps",
    "pipeline_batches", "ablation"}``.
    """
    p = get_profile(profile)
    kind = "paper" if profile in ("paper", "gpu") else profile if profile in _BUDGET else "cpu"
    budget = dict(_BUDGET[kind])
    crops = list(crops)
    default_small = crops if kind != "paper" else []
    default_big = {"smoke": [], "cpu": [64] if 64 in crops else crops[:1], "paper": crops}[kind]
    pick = lambda value, default: default if value is None else value  # noqa: E731
    return {
        "small_config": small_config or (p.model.arch if p.model.arch != big_config else "vivit_cpu_fe"),
        "small_crops": list(pick(small_crops, default_small)),
        "big_crops": list(pick(big_crops, default_big)),
        "batch_size": pick(batch_size, budget["batch_size"]),
        "warmup_steps": pick(warmup_steps, budget["warmup_steps"]),
        "timed_steps": pick(timed_steps, budget["timed_steps"]),
        "pipeline_batches": budget["pipeline_batches"],
        "ablation": pick(ablation, budget["ablation"]),
    }
