"""The comparison (paper Tables 1 and 6): SMaTE against the model families it argues against, on equal terms.

The paper's Table 6 copies numbers from other papers, each on its own data and protocol. Here every model is
trained on the **same folds and seeds** as the ablations (:mod:`.ablations`), so the rows are comparable:

* ``ViViT-FE baseline`` (Table 1) — learned temporal embedding, no LBP / augmentation / mixing: Table 2's
  ``learned`` row (the same runs);
* ``SMaTE (TPE-v2)`` — TPE-v2 + LBP + augmentation + mixed tokens: Table 4's last row (the same runs);
* ``C3D`` (:mod:`smate_nb.model.c3d`) — a 3-D CNN, the video branch of the AFEW challenge winner (ref. [34]);
* ``CNN-RNN`` (:mod:`smate_nb.model.cnnrnn`) — a per-frame CNN + GRU, the family §1–2 argues against;
* ``frame CNN`` (:mod:`smate_nb.model.framecnn`) — the appearance-bias study's CNN, averaged over frames.

The three CNN baselines have no pretrained weights (neither ImageNet nor Sports-1M can be fetched), so they train
from scratch with the profile's from-scratch epoch budget and SMaTE's preprocessing without the token-level part
(LBP as in the ablations, the same augmentation; mixed tokens are a token-embedding method): the ViViT rows start
from the stand-in pretraining. That asymmetry is recorded with the table.
"""
from __future__ import annotations

from typing import Any

from ..config import get_profile
from . import Run, Study
from . import ablations

__all__ = ["BASELINES", "comparison_study"]

#: Baseline row → architecture per profile kind (smoke uses the tiny configs).
BASELINES: dict[str, dict[str, str]] = {
    "C3D": {"smoke": "c3d_smoke", "default": "c3d_small"},
    "CNN-RNN": {"smoke": "cnnrnn_smoke", "default": "cnnrnn_small"},
    "frame CNN": {"smoke": "framecnn_smoke", "default": "framecnn_small"},
}


def comparison_study(profile: str, choices: dict[str, Any], **budget_overrides: Any) -> Study:
    """Tables 1 and 6 on the ablations' replicates. ``choices``: the ablations' calibration choices (so the
    SMaTE and baseline rows are the ablations' own runs)."""
    p = get_profile(profile)
    b = ablations.chosen_budget(profile, choices, budget_overrides)
    pos = ablations.position_study(profile, choices, **budget_overrides)
    pre = ablations.preprocessing_study(profile, choices, **budget_overrides)
    runs: list[Run] = []
    if pos.choices.get("pretraining"):
        runs.append(pos.runs[0])
    relabel = lambda r, row: Run(r.config, tuple((k, v) for k, v in r.labels if k not in ("row", "block"))  # noqa: E731
                                 + (("row", row), ("block", "measured")))
    runs += [relabel(r, "ViViT-FE baseline") for r in pos.select(block="table2", row="learned")]
    runs += [relabel(r, "SMaTE (TPE-v2)") for r in pre.select(block="table4", row="Mixed-token embedding")]
    own = ablations.row_preproc("Crop, flip, rotate, color jitter", b)          # SMaTE's minus the token level
    kind = "smoke" if profile == "smoke" else "default"
    for row, archs in BASELINES.items():
        for dataset, fold, seed in ablations._replicates(profile, b):
            base = p.experiment(dataset, data=ablations.study_data(profile, dataset, b),
                                model={"arch": archs[kind], "temporal_position": "learned"})
            data = {"test_fold": fold} if dataset == "lab" else {}
            cfg = base.replace(seed=seed, preproc=own, **({"data": data} if data else {}))
            runs.append(Run(cfg, (("dataset", dataset), ("fold", fold if dataset == "lab" else None),
                                  ("seed", seed), ("row", row), ("block", "measured"), ("stage", 1))))
    params = {"profile": profile, **b, "choices": choices, "baseline_epochs": p.optim.epochs,
              "baseline_preprocessing": "LBP (replace) + augmentation, from scratch",
              "vivit_rows": f"fine-tuned from {ablations.start_description(profile, b)}"}
    return Study("comparison", profile, params, tuple(runs), dict(pos.choices))
