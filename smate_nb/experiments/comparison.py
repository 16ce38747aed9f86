"""The comparison (paper Tables 1 and 6): SMaTE against the model families it argues against, on equal terms.

The paper's Table 6 copies numbers from other papers, each on its own data and protocol. Here every model is
trained on the **same folds and seeds** as the ablations (:mod:`.ablations`), so the rows are comparable:

* ``ViViT-FE baseline`` (Table 1) — learned temporal embedding, no LBP / augmentation / mixing: Table 2's
  ``learned`` row (the same runs);
* ``SMaTE (TPE-v2)`` — TPE-v2 + LBP + augmentation + mixed tokens: Table 4's last row (the same runs);
* ``C3D`` (:mod:`smate_nb.model.c3d`) — a 3-D CNN, the video branch of the AFEW challenge winner (ref. [34]);
* ``CNN-RNN`` (:mod:`smate_nb.model.cnnrnn`) — a per-frame CNN + GRU, the family §1–2 argues against;
* ``frame CNN`` (:mod:`smate_nb.model.framecnn`) — the appearance-bias study's CNN, averaged over frames.

**Equal terms.** *Start*: every family fine-tunes from a stand-in of its own architecture, pretrained with the
same label-free objective on the same corpus for the same epochs as the ViViT's (:func:`family_pretraining`;
none of these papers' pretrained weights can be had here). *Budget*: the ablations' fine-tuning epochs for every
row. *Preprocessing*: every CNN family chooses among the preprocessing SMaTE's rows use that needs no tokens —
:data:`FAMILY_OPTIONS`: none, LBP, LBP + the paper's augmentation (mixed tokens act on a token embedding, which a
CNN does not have) — on the ablations' calibration fold by one rule (:func:`choose_preprocessing`). The two
ViViT rows are the paper's own definitions (the baseline without preprocessing, SMaTE with all of it), so they do
not choose. The table says what each row started from and used.
"""
from __future__ import annotations

from typing import Any, Sequence

from ..config import get_profile
from . import Run, Study
from . import ablations

__all__ = ["BASELINES", "FAMILY_OPTIONS", "OPTION_WORDS", "family_pretraining", "stand_in_runs", "family_calibration_study",
           "choose_preprocessing", "calibrate_families", "comparison_study"]

#: Baseline row → architecture per profile (``default``: every other profile). On equal terms in compute too: on the
#: cpu profile each family is sized to about the MACs per clip of the ablations' ViViT-FE (``vivit_cpu_coarse_fe``,
#: 44 M per 12×48² clip: C3D 50 M, CNN-RNN 52 M, frame CNN 45 M; ``smate_nb.cost.count_macs``).
BASELINES: dict[str, dict[str, str]] = {
    "C3D": {"smoke": "c3d_smoke", "cpu": "c3d_tiny", "default": "c3d_small"},
    "CNN-RNN": {"smoke": "cnnrnn_smoke", "cpu": "cnnrnn_tiny", "default": "cnnrnn_small"},
    "frame CNN": {"smoke": "framecnn_smoke", "cpu": "framecnn_tiny", "default": "framecnn_small"},
}
#: The preprocessing a CNN family chooses among (rows of :func:`smate_nb.experiments.ablations.row_preproc`), in the
#: order a tie is broken: the simpler first.
FAMILY_OPTIONS = ("Original", "LBP", "Crop, flip, rotate, color jitter")
#: What each option is, in the table's words.
OPTION_WORDS = {"Original": "none", "LBP": "LBP", "Crop, flip, rotate, color jitter": "LBP + augmentation",
                "Mixed-token embedding": "LBP + augmentation + mixed tokens"}


def _arch(profile: str, row: str) -> str:
    return BASELINES[row].get(profile, BASELINES[row]["default"])


def family_pretraining(profile: str, b: dict[str, Any], arch: str) -> Any:
    """The stand-in pretraining of architecture ``arch``: the ablations' (:func:`ablations.pretraining` — same
    label-free task, corpus, augmentation and epochs) with the model replaced; None where the budget has none."""
    pre = ablations.pretraining(profile, b)
    if pre is None:
        return None
    return pre.replace(model={"arch": arch, "temporal_position": "learned", "overrides": (), "init": "scratch"})


def _family_base(profile: str, b: dict[str, Any], dataset: str, arch: str) -> Any:
    p = get_profile(profile)
    pre = family_pretraining(profile, b, arch)
    return p.experiment(dataset, data=ablations.study_data(profile, dataset, b),
                        model={"arch": arch, "temporal_position": "learned",
                               "init": f"run:{pre.key()}" if pre is not None else "scratch"},
                        optim=ablations.fine_tuning_optim(b))


def stand_in_runs(profile: str, b: dict[str, Any]) -> list[Run]:
    """The stand-in pretraining of every CNN family of :data:`BASELINES` (label ``row``: ``"<family> stand-in"``,
    stage 0); none where the budget has no stand-in. :func:`smate_nb.experiments.ablations.calibration_study`
    pretrains them with the ViViT's, so that the two workers share one sweep of long independent runs."""
    return _pretraining_runs(profile, b)


def _pretraining_runs(profile: str, b: dict[str, Any]) -> list[Run]:
    runs = []
    for row in BASELINES:
        pre = family_pretraining(profile, b, _arch(profile, row))
        if pre is not None:
            runs.append(Run(pre, (("block", "pretraining"), ("row", f"{row} stand-in"), ("stage", 0))))
    return runs


def family_calibration_study(profile: str, choices: dict[str, Any], **budget_overrides: Any) -> Study:
    """Every CNN family × :data:`FAMILY_OPTIONS` on the ablations' calibration fold (never reported), fine-tuned
    from its stand-in with the ablations' budget: what :func:`choose_preprocessing` decides on."""
    p = get_profile(profile)
    b = ablations.chosen_budget(profile, choices, budget_overrides)
    runs = _pretraining_runs(profile, b)
    fold, seed = b["calibration_fold"], p.seeds[0]
    for row in BASELINES:
        base = _family_base(profile, b, "lab", _arch(profile, row))
        for option in FAMILY_OPTIONS:
            cfg = base.replace(seed=seed, data={"test_fold": fold}, preproc=ablations.row_preproc(option, b))
            runs.append(Run(cfg, (("dataset", "lab"), ("fold", fold), ("seed", seed), ("row", row),
                                  ("option", option), ("block", "family calibration"), ("stage", 1))))
    return Study("comparison_calibration", profile, {"profile": profile, **b}, tuple(runs), {})


def choose_preprocessing(frame: Any) -> dict[str, Any]:
    """Each CNN family's preprocessing from :func:`family_calibration_study` (``frame``: its :meth:`Study.frame`).

    Rule: among the options whose run ``trained`` (``health`` column; every option when the column is absent),
    the highest calibration WAR; ties → the earlier of :data:`FAMILY_OPTIONS` (the simpler). No option trained →
    ``Original``, flagged. Returns ``{row: option, "evidence_families": {row: {option: WAR or 'did not train'}},
    "margin_families": {row: the chosen option's lead in calibration clips (ablations.clip_margin)}}``.
    """
    sub = frame[frame["block"] == "family calibration"]
    out: dict[str, Any] = {"evidence_families": {}, "families_untrained": []}
    for row in BASELINES:
        rs = sub[sub["row"] == row]
        if rs.empty:
            continue
        ok = rs if "health" not in rs else rs[rs["health"] == "trained"]
        out["evidence_families"][row] = {
            r["option"]: (float(r["WAR"]) if ("health" not in rs or r["health"] == "trained")
                          else f"did not train ({r['health']})") for _, r in rs.iterrows()}
        if ok.empty:
            out[row] = FAMILY_OPTIONS[0]
            out["families_untrained"].append(row)
            continue
        order = {o: i for i, o in enumerate(FAMILY_OPTIONS)}
        best = sorted(ok.itertuples(), key=lambda r: (-r.WAR, order[r.option]))[0]
        out[row] = best.option
        untrained = [f"{r['option']} {r['health']}" for _, r in rs.iterrows() if r["option"] not in set(ok["option"])]
        if len(ok) == 1 and untrained:      # a choice by elimination, not by score: say which options did not train
            margin = "the only option that trained; " + ", ".join(untrained)
        else:
            margin = ablations.clip_margin({r.option: float(r.WAR) for r in ok.itertuples()}, best.option,
                                           int(getattr(best, "n_test", 0) or 0))
            if untrained:
                margin += "; did not train: " + ", ".join(untrained)
        out.setdefault("margin_families", {})[row] = margin
    return out


def calibrate_families(profile: str, choices: dict[str, Any], *, workers: int | None = None, retrain: bool = False,
                       progress: bool = True, **budget_overrides: Any) -> tuple[dict[str, Any], Any, list[dict]]:
    """Train (or fetch) :func:`family_calibration_study` and return ``(family_choices, frame, results)``."""
    st = family_calibration_study(profile, choices, **budget_overrides)
    results = st.run(workers=workers, retrain=retrain, progress=progress)
    frame = st.frame(results)
    return choose_preprocessing(frame), frame, results


def comparison_study(profile: str, choices: dict[str, Any], family_choices: dict[str, Any] | None = None,
                     scratch_families: Sequence[str] = (), **budget_overrides: Any) -> Study:
    """Tables 1 and 6 on the ablations' replicates. ``choices``: the ablations' calibration choices (so the
    SMaTE and baseline rows are the ablations' own runs); ``family_choices``: :func:`choose_preprocessing`'s
    (default: every CNN family ``Original``); ``scratch_families``: CNN families (of :data:`BASELINES`) whose
    reported runs start from random weights instead of from their stand-in (label ``start``: ``scratch``; their
    preprocessing stays ``family_choices``').

    Raises:
        ValueError: a name in ``scratch_families`` that is not a CNN family.
    """
    unknown = [f for f in scratch_families if f not in BASELINES]
    if unknown:
        raise ValueError(f"comparison_study: scratch_families {unknown} are not CNN families; choose from "
                         f"{list(BASELINES)}")
    p = get_profile(profile)
    b = ablations.chosen_budget(profile, choices, budget_overrides)
    pos = ablations.position_study(profile, choices, **budget_overrides)
    pre = ablations.preprocessing_study(profile, choices, **budget_overrides)
    fam = dict(family_choices or {})
    runs: list[Run] = []
    if pos.choices.get("pretraining"):
        runs.append(pos.runs[0])
    runs += _pretraining_runs(profile, b)
    start = ablations.start_description(profile, b)
    relabel = lambda r, row, option: Run(r.config, tuple((k, v) for k, v in r.labels if k not in ("row", "block"))  # noqa: E731
                                         + (("row", row), ("block", "measured"), ("preprocessing", OPTION_WORDS[option]),
                                            ("start", start)))
    runs += [relabel(r, "ViViT-FE baseline", "Original") for r in pos.select(block="table2", row="learned")]
    runs += [relabel(r, "SMaTE (TPE-v2)", "Mixed-token embedding")
             for r in pre.select(block="table4", row="Mixed-token embedding")]
    for row in BASELINES:
        option = fam.get(row, FAMILY_OPTIONS[0])
        arch = _arch(profile, row)
        scratch = row in scratch_families or family_pretraining(profile, b, arch) is None
        fam_start = "scratch" if scratch else start.replace("the stand-in", f"a {arch} stand-in")
        bases = {d: _family_base(profile, b, d, arch) for d in ("lab", "wild")}
        if scratch:
            bases = {d: c.replace(model={"init": "scratch"}) for d, c in bases.items()}
        for dataset, fold, seed in ablations._replicates(profile, b):
            base = bases[dataset]
            data = {"test_fold": fold} if dataset == "lab" else {}
            cfg = base.replace(seed=seed, preproc=ablations.row_preproc(option, b), **({"data": data} if data else {}))
            runs.append(Run(cfg, (("dataset", dataset), ("fold", fold if dataset == "lab" else None),
                                  ("seed", seed), ("row", row), ("block", "measured"),
                                  ("preprocessing", OPTION_WORDS[option]), ("start", fam_start), ("stage", 1))))
    params = {"profile": profile, **b, "choices": choices, "family_choices": fam,
              "scratch_families": list(scratch_families),
              "epochs": ablations.fine_tuning_epochs(b), "start": start,
              "family_options": [OPTION_WORDS[o] for o in FAMILY_OPTIONS]}
    return Study("comparison", profile, params, tuple(runs), dict(pos.choices))
