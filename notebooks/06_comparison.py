# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (smate-nb)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 06 · SMaTE against other model families, on equal terms (paper Tables 1 and 6)
#
# **The question.** The paper's Table 6 compares SMaTE with numbers copied from other papers — each trained on its
# own data split, protocol and pretraining. Trained here on the **same folds, seeds and data**, how do SMaTE, a 3-D
# CNN (C3D), a CNN-RNN and a per-frame CNN compare?
#
# **The paper's claims.** Table 1: ViViT-B/16x2 FE (learned temporal embedding, no preprocessing) 42.42 % on CK+ and
# 37.22 % on AFEW, 213.93 GFLOPs, 171.45 M parameters. Table 6 (*reported* numbers): DeepEmotion 98 % and HMTL
# 98.23 % on CK+, C3D 39.69 % on AFEW (the video branch of the EmotiW winner), SMaTE (TPE-v2) 99.19 % / 41.38 % —
# "our framework … advances the results of CK to 99.19 %", "about 1.69 % higher accuracy than image-sequence-based
# [34]".
#
# **Here.** The SMaTE and ViViT-FE rows are notebooks 04–05's runs (the same configs, trained once); C3D, CNN-RNN and
# the frame CNN are trained on the same replicates **on equal terms** (`smate_nb.experiments.comparison`): every
# family fine-tunes from a stand-in of its own architecture, pretrained with the same label-free task on the same
# corpus for the same epochs as the ViViT's; every row trains for the same fine-tuning budget; and each CNN family
# takes the preprocessing it does best with — none, LBP, or LBP + the paper's augmentation, chosen on the
# ablations' calibration fold by one rule (highest calibration WAR among the options whose run trained; ties → the
# simpler). The two ViViT rows keep the paper's definitions (the baseline without preprocessing, SMaTE with all of
# it). Every row says what it started from and used.
#
# **Run it yourself.** `python -m smate_nb run --profile cpu --only comparison` (after 04 and 05, whose runs it reuses).

# %% tags=["parameters"]
# Parameters (papermill). Defaults are the CI-sized "smoke" profile; None = the study's default for the profile.
profile = "smoke"            # smoke | cpu | paper
reports_root = None
report_folds = None          # lab folds (cpu: [0, 1, 2, 3, 4]) — the ablations' replicates
wild_seeds = None            # wild seeds (cpu: [0, 1, 2])
epochs = None                # fine-tuning epochs of every row; None → the ablations' calibration choice
init = None                  # a local ViT-B/16 .safetensors to fine-tune every row from (gpu / paper
                             # profiles); None → the stand-in pretraining (cpu, gpu) or the profile's init
retrain = False

# %%
# Stop here on a wrong-typed parameter (e.g. papermill's `-p` passes lists as text), before any work.
from smate_nb.params import check

check(globals(), "06_comparison");

# %%
from dataclasses import replace

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import Markdown, display

from smate_nb import paper
from smate_nb.config import configure_threads, get_profile
from smate_nb.cost import count_macs, count_params
from smate_nb.engine.model import build_model
from smate_nb.engine.specs import ExperimentConfig
from smate_nb.experiments import ablations, comparison
from smate_nb.experiments.tables import bar_figure, fmt_ci, fmt_mean_std, health_verdict, summary_table
from smate_nb.metrics import paired_comparison, verdict
from smate_nb.model import build_vivit
from smate_nb.report import Report

P = get_profile(profile)
threads = configure_threads(P.torch_threads)
report = Report(profile, "06_comparison", reports_root)
overrides = dict(report_folds=report_folds, wild_seeds=wild_seeds, epochs=epochs, init=init)
choices, _, _, _ = ablations.calibrate(profile, retrain=retrain, **overrides)
family_choices, fam_cal, fam_results = comparison.calibrate_families(profile, choices, retrain=retrain, **overrides)
report.record_runs(fam_results)
fam_table = fam_cal[fam_cal["block"] == "family calibration"][["row", "option", "WAR", "train accuracy", "health"]]
report.table(fam_table, "family_calibration", caption="Calibration fold: each CNN family fine-tuned from its stand-in "
             "with each preprocessing option (never reported); the choice per family is made from these only",
             meta={"family_choices": family_choices})
display(fam_table.pivot_table(index="row", columns="option", values="WAR"))
display(Markdown("**Chosen preprocessing:** " + "; ".join(f"{row}: {comparison.OPTION_WORDS[family_choices[row]]}"
                                                         for row in comparison.BASELINES)))
study = comparison.comparison_study(profile, choices, family_choices, **overrides)
print(f"profile {profile}: {study.distinct} distinct trainings; TPE-v2 as `{choices['tpe_mode']}`; torch threads {threads}")

# %%
results, frame = study.train(report, retrain=retrain)
frame = frame[frame["block"] != "pretraining"]
meta = {**study.parameters, "pretraining": study.choices.get("pretraining")}
report.table(frame, "runs", caption="Comparison — every run", meta=meta, timing_columns=["train seconds"],
             provenance_columns=["reused"]);

# %% [markdown]
# ## 1 · Table 1 — the ViViT-FE baseline
#
# Accuracy of the baseline (learned temporal embedding, no LBP / augmentation / mixed tokens) beside the paper's, and
# its cost: ours counted for the profile's model at the study's clip geometry and for ViViT-B/16x2 FE at the paper's
# (25 frames, 224²). Note a second inconsistency of the paper: Table 1 gives the baseline 37.22 % on AFEW, Tables
# 2 and 3 give the same model (BERT / Original) 34.99 % — recorded in notebook 08's ambiguity register.

# %%
base_rows = frame[frame["row"] == "ViViT-FE baseline"]
geo = ExperimentConfig.from_dict(next(x for x in results if x["key"] == base_rows.iloc[0]["key"])["config"]).data
with torch.device("meta"):
    big = build_vivit("vivit_b_16x2_fe", num_frames=25, image_size=224, num_classes=7)
    ours = build_vivit(P.model.arch, num_frames=geo.num_frames, image_size=geo.crop, num_classes=7)
t1 = pd.DataFrame([
    {"model": f"{P.model.arch} ({geo.num_frames} frames, {geo.crop}²) — ours, measured",
     "lab / CK+ WAR %": fmt_mean_std(base_rows[base_rows["dataset"] == "lab"]["WAR"]),
     "wild / AFEW WAR %": fmt_mean_std(base_rows[base_rows["dataset"] == "wild"]["WAR"]),
     "params (M)": count_params(ours) / 1e6, "GMACs": count_macs(ours, geo.num_frames, geo.crop) / 1e9},
    {"model": "ViViT-B/16x2 FE (25 frames, 224²) — ours, counted", "lab / CK+ WAR %": "—", "wild / AFEW WAR %": "—",
     "params (M)": count_params(big) / 1e6, "GMACs": count_macs(big, 25, 224) / 1e9},
    {"model": "ViViT-B/16x2 FE — paper, Table 1", "lab / CK+ WAR %": f"{paper.TABLE1['ckplus']:.2f}",
     "wild / AFEW WAR %": f"{paper.TABLE1['afew']:.2f}", "params (M)": paper.TABLE1["params_m"],
     "GMACs": paper.TABLE1["gflops"]},
])
report.table(t1, "table1", caption="Table 1 — the ViViT-FE baseline: accuracy (mean ± std over replicates) and cost",
             floatfmt=".3f", meta=meta)
t1

# %% [markdown]
# ## 2 · Table 6 — reported beside measured
#
# **Why the two halves are not comparable.** The *reported* rows are the paper's, each copied from its own source:
# other splits (CK+ has no official test split; each paper chose its own protocol), other numbers of classes, other
# pretraining (C3D on Sports-1M, DeepEmotion from scratch on static frames), other input (HMTL is multi-task).
# The *measured* rows are ours: synthetic stand-ins for CK+ / AFEW, small models sized for a laptop CPU, one
# protocol for all. A measured row can be compared with another measured row — not with a reported one.

# %%
ROWS = ["SMaTE (TPE-v2)", "ViViT-FE baseline", "C3D", "CNN-RNN", "frame CNN"]
cost = {}
for row in ROWS:
    res = next(x for x in results if x["key"] == frame[frame["row"] == row].iloc[0]["key"])
    cfg = ExperimentConfig.from_dict(res["config"])
    with torch.device("meta"):                     # shapes only: the cost of the architecture, no weights
        m = build_model(replace(cfg.model, init="scratch"), num_frames=cfg.data.num_frames, image_size=cfg.data.crop,
                        num_classes=7)
    cost[row] = {"params (M)": count_params(m) / 1e6, "GMACs": count_macs(m, cfg.data.num_frames, cfg.data.crop) / 1e9,
                 "train min (mean)": frame[frame["row"] == row].drop_duplicates("key")["train seconds"].mean() / 60}
measured = summary_table(frame, ROWS)
measured.insert(1, "kind", "measured")
terms = frame.drop_duplicates("row").set_index("row")
measured.insert(3, "start", measured["row"].map(terms["start"]))
measured.insert(4, "preprocessing", measured["row"].map(terms["preprocessing"]))
for k in ("params (M)", "GMACs", "train min (mean)"):
    measured[k] = measured["row"].map(lambda r: round(cost[r][k], 3))
reported = pd.DataFrame([{"dataset": "reported (paper)", "kind": "reported", "row": name,
                          "CK+ %": "—" if v["ckplus"] is None else v["ckplus"],
                          "AFEW %": "—" if v["afew"] is None else v["afew"]} for name, v in paper.TABLE6.items()])
report.table(measured, "table6_measured", caption="Table 6, measured here: every model on the same folds / seeds "
             "(WAR / UAR %, mean ± std), with parameters, GMACs per clip and training time", meta=meta)
report.table(reported, "table6_reported", caption="Table 6 as the paper reports it (numbers copied from other papers)",
             meta={"source": "paper Table 6"})
display(reported)
measured

# %% [markdown]
# Every measured model against SMaTE on the same fold / seed (Δ = SMaTE − model). The paper's claim is that SMaTE
# outperforms the other families; where Table 6 gives a number for the same family (C3D on AFEW: 41.38 − 39.69) it
# is shown, otherwise only the claim's sign (+) is checked.

# %%
pair_rows = []
for dataset in ("lab", "wild"):
    wide = frame[frame["dataset"] == dataset].pivot_table(index="replicate", columns="row", values="WAR")
    for row in ROWS[1:]:
        both = wide[["SMaTE (TPE-v2)", row]].dropna()
        c = paired_comparison(both["SMaTE (TPE-v2)"].to_numpy(), both[row].to_numpy())
        pdiff = (paper.TABLE6["SMaTE (TPE-v2)"]["afew"] - paper.TABLE6["C3D"]["afew"]) if (row == "C3D" and dataset == "wild") else None
        pair_rows.append({"dataset": dataset, "comparison": f"SMaTE − {row}", "pairs": c["pairs"],
                          "mean Δ WAR (pts)": round(c["mean_diff"], 2), "95 % CI": fmt_ci(c),
                          "better / equal / worse": f"{c['better']} / {c['equal']} / {c['worse']}",
                          "sign test p": round(c["sign_test_p"], 3),
                          "paper Δ (pts)": f"{pdiff:+.2f}" if pdiff is not None else "SMaTE better (claim, no number)",
                          "verdict": health_verdict(frame[frame["dataset"] == dataset], ["SMaTE (TPE-v2)", row],
                                                    both.index) or verdict(c, pdiff if pdiff is not None else 1.0)})
pairs6 = pd.DataFrame(pair_rows)
report.table(pairs6, "table6_paired", caption="SMaTE against every measured model, paired on fold / seed", meta=meta)
fig = bar_figure(frame, ROWS, "Table 6 (measured here)", {"SMaTE (TPE-v2)": paper.TABLE6["SMaTE (TPE-v2)"],
                                                        "C3D": paper.TABLE6["C3D"]})
report.figure(fig, "table6_bars");
pairs6

# %% [markdown]
# ## 3 · In words

# %%
lines = []
if profile == "smoke":
    lines.append("*Smoke profile: one-epoch trainings on a handful of people — at chance by design.*")
for dataset in ("lab", "wild"):
    sub = pairs6[pairs6["dataset"] == dataset]
    best = measured[measured["dataset"].str.startswith(dataset)]
    if sub.empty:
        continue
    lines.append(f"**{dataset}.** " + "; ".join(f"{r['comparison']}: {r['mean Δ WAR (pts)']:+.1f} pts {r['95 % CI']} → "
                                                 f"*{r['verdict']}*" for _, r in sub.iterrows()) + ".")
lines.append(f"Every row starts from a stand-in of its own architecture ({study.parameters['start']}) and trains "
             f"{study.parameters['epochs']} epochs; the CNN families use "
             + ", ".join(f"{row}: {comparison.OPTION_WORDS[family_choices[row]]}" for row in comparison.BASELINES)
             + " (chosen on the calibration fold). Reported rows cannot be set against these.")
Markdown("\n\n".join(lines))

# %% [markdown]
# ## Exercises
#
# 1. **Take the head start away.** Train C3D from scratch instead of from its stand-in: build its configs with
#    `comparison.comparison_study(...)`, replace `model={"init": "scratch"}` in the C3D runs, and train them with
#    `Study.run` (≈ 8 runs of a few minutes on the cpu profile). How much of C3D's score was the pretraining?
# 2. **Cost per point.** From the measured table, which model buys the most WAR per GMAC? Per training minute?
# 3. **Order matters?** The frame CNN averages frames and cannot see their order. Shuffle the test clips' frames
#    (`clip[:, torch.randperm(T)]`) before scoring SMaTE and the CNN-RNN: who loses more?

# %% jupyter={"source_hidden": true}
# Solution to 2, computed from the measured table:
eff = measured.assign(war=lambda d: d["WAR % (ours)"].str.split(" ± ").str[0].astype(float))
eff["WAR per GMAC"] = eff["war"] / eff["GMACs"]
eff["WAR per training minute"] = eff["war"] / eff["train min (mean)"].replace(0, np.nan)
eff[["dataset", "row", "WAR per GMAC", "WAR per training minute"]]
