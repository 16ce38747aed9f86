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
# **The paper's claims.** Table 1: ViViT-B/16x2 FE without preprocessing, 42.42 % on CK+ and 37.22 % on AFEW,
# 213.93 GFLOPs, 171.45 M parameters. Which temporal encoding Table 1 used the paper does not state: its CK+
# 42.42 % is Table 2's BERT (learned) row, but its AFEW 37.22 % is Table 4's TPE-v2 `Original` row (and Table 3's
# `+ LBP` row), not BERT's 34.99 %. We take it to be the learned embedding, which §4.2 calls the baseline
# ("ViViT-B/16 × 2 FE/BERT (baseline)"). Table 6 (*reported* numbers): DeepEmotion 98 % and HMTL 98.23 % on CK+,
# C3D 39.69 % on AFEW, SMaTE (TPE-v2) 99.19 % / 41.38 % — "our framework … advances the results of CK to
# 99.19 %", "about 1.69 % higher accuracy than image-sequence-based [34]". The C3D row cites [34], "the CNN-based
# model that won the challenge", by its title a CNN-RNN and C3D hybrid; which of [34]'s results 39.69 % is, the
# paper does not say.
#
# **Here.** The SMaTE and ViViT-FE rows are notebooks 04–05's runs (the same configs, trained once); C3D, CNN-RNN and
# the frame CNN are trained on the same replicates **on equal terms** (`smate_nb.experiments.comparison`): every
# family fine-tunes from a stand-in of its own architecture, pretrained with the same label-free task on the same
# corpus for the same epochs as the ViViT's; every row trains for the same fine-tuning budget; and each CNN family
# takes the preprocessing it does best with — none, LBP, or LBP + the paper's augmentation, chosen on the
# ablations' calibration fold by one rule (highest calibration WAR among the options whose run trained; ties → the
# simpler). The two ViViT rows keep the paper's definitions (the baseline without preprocessing, SMaTE with all of
# it). Every row says what it started from and used. The data (lab `pose` = 1, wild default) is notebook 04's:
# [notebook 09 § 6](09_appendix_data.ipynb#data-variants).
#
# **Run it yourself.** `python -m smate_nb run --profile cpu --only comparison` (after 04 and 05, whose runs it reuses).

# %% tags=["parameters"]
# Parameters (papermill). Defaults are the CI-sized "smoke" profile; None = the study's default for the profile.
profile = "smoke"            # smoke | cpu | paper
reports_root = None
# The study's values for the profile (folds, seeds, epochs) are printed below the next cells.
report_folds = None          # lab folds — the ablations' replicates
wild_seeds = None            # wild seeds
epochs = None                # fine-tuning epochs of every row; None → the ablations' calibration choice
init = None                  # a local ViT-B/16 .safetensors to fine-tune every row from (gpu / paper
                             # profiles); None → the stand-in pretraining (cpu, gpu) or the profile's init
# The exercises' switches:
scratch_families = []        # CNN families (C3D, CNN-RNN, frame CNN) that train from scratch, not from their
                             # stand-in (exercise 1); their preprocessing stays the one chosen from the stand-in
shuffle_test_frames = False  # also score the lab runs on test clips whose frames are shuffled (exercise 3)
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
from smate_nb.experiments.tables import clip_comparison, comparison_columns, fmt_mean_std, health_verdict, summary_table
from smate_nb.metrics import verdict
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
display(Markdown("**Chosen preprocessing:** " + "; ".join(
    f"{row}: {comparison.OPTION_WORDS[family_choices[row]]} ({family_choices.get('margin_families', {}).get(row, '—')})"
    for row in comparison.BASELINES) + ". Each rests on one run per option on one calibration fold; a lead of a "
    "clip or two is a rule's choice, not evidence that the option is better."))
study = comparison.comparison_study(profile, choices, family_choices, scratch_families=scratch_families, **overrides)
print(f"profile {profile}: lab folds {list(study.parameters['report_folds'])}, wild seeds "
      f"{list(study.parameters['wild_seeds'])}, {study.parameters['epochs']} fine-tuning epochs for every row; "
      f"{study.distinct} distinct trainings; TPE-v2 as `{choices['tpe_mode']}`"
      + (f"; from scratch: {', '.join(scratch_families)} (parameter)" if scratch_families else "")
      + f"; torch threads {threads}")

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
# its cost: ours counted for the study's model (the one its runs trained: `ablations.study_arch`) at the study's clip
# geometry, and ViViT-B/16x2 FE's at the paper's (25 frames, 224²). Which model the paper's Table 1 row is, is our reading: its CK+ number is the BERT row's of
# Tables 2–3, its AFEW number (37.22 %) is not (BERT: 34.99 %) but equals Table 4's TPE-v2 `Original` — recorded
# in notebook 08's ambiguity register.

# %%
base_rows = frame[frame["row"] == "ViViT-FE baseline"]
base_cfg = ExperimentConfig.from_dict(next(x for x in results if x["key"] == base_rows.iloc[0]["key"])["config"])
geo, arch = base_cfg.data, base_cfg.model.arch
with torch.device("meta"):
    big = build_vivit("vivit_b_16x2_fe", num_frames=25, image_size=224, num_classes=7)
    ours = build_vivit(arch, num_frames=geo.num_frames, image_size=geo.crop, num_classes=7)
t1 = pd.DataFrame([
    {"model": f"{arch} ({geo.num_frames} frames, {geo.crop}²) — ours, measured",
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
# **Why the two halves are not comparable.** The *reported* rows are the paper's, each copied from its own source
# ("the performances of each SOTA method are the same as they are in the papers"); the paper states none of those
# sources' protocols — split (CK+ has no official test split), classes, pretraining, input — and its own AFEW test
# set is 130 clips it drew from AFEW's validation set. The *measured* rows are ours: synthetic stand-ins for CK+ /
# AFEW, small models sized for a laptop CPU, one protocol for all. A measured row can be compared with another
# measured row — not with a reported one.

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
pair_rows, intervals = [], {}
for dataset in ("lab", "wild"):
    at = frame[frame["dataset"] == dataset]
    for row in ROWS[1:]:
        c = clip_comparison(at[at["row"] == "SMaTE (TPE-v2)"], at[at["row"] == row])
        if not c["pairs"]:
            continue
        pdiff = (paper.TABLE6["SMaTE (TPE-v2)"]["afew"] - paper.TABLE6["C3D"]["afew"]) if (row == "C3D" and dataset == "wild") else None
        intervals[(dataset, f"SMaTE − {row}")] = (c["ci_low"], c["ci_high"], np.nan if pdiff is None else pdiff)
        pair_rows.append({"dataset": dataset, "comparison": f"SMaTE − {row}", **comparison_columns(c),
                          "paper Δ (pts)": f"{pdiff:+.2f}" if pdiff is not None else "SMaTE better (claim, no number)",
                          "verdict": health_verdict(at, ["SMaTE (TPE-v2)", row], c["index"])
                          or verdict(c, pdiff if pdiff is not None else 1.0)})
pairs6 = pd.DataFrame(pair_rows)
report.table(pairs6, "table6_paired", caption="SMaTE against every measured model, paired on fold / seed", meta=meta)
pairs6

# %%
# The paired table as a figure: our Δ (SMaTE − model) beside the paper's Δ for the same pair, never the paper's
# absolute numbers (they come from other data and protocols, see above).
present = [d for d in ("lab", "wild") if (pairs6["dataset"] == d).any()]
fig, axes = plt.subplots(1, len(present), figsize=(6.2 * len(present), 0.6 * len(ROWS) + 1.8), squeeze=False)
for ax, dataset in zip(axes[0], present):
    sub = pairs6[pairs6["dataset"] == dataset].reset_index(drop=True)
    for i, r in sub.iterrows():
        d = float(r["mean Δ WAR (pts)"])
        lo, hi, p = intervals[(dataset, r["comparison"])]          # and the paper's Δ (NaN: none)
        bad = str(r["verdict"]).startswith("invalid")
        err = None if np.isnan(lo) else [[max(d - lo, 0.0)], [max(hi - d, 0.0)]]
        ax.barh(i, d, xerr=err, capsize=4, color="lightgrey" if bad else "tab:blue", hatch="//" if bad else None,
                edgecolor="grey", label="ours: invalid (a run did not train)" if bad else "ours: mean Δ, 95 % CI")
        if not np.isnan(p):
            ax.plot(p, i, "kD", ms=7, label="paper's Δ for the same pair")
    ax.axvline(0, color="k", lw=0.8)
    ax.set_yticks(range(len(sub)), sub["comparison"], fontsize=8); ax.invert_yaxis()
    ax.set_xlabel("Δ WAR (points): SMaTE − model, paired on fold / seed"); ax.grid(axis="x", alpha=0.3)
    ax.set_title(dataset, fontsize=10)
handles = {}
for ax in axes[0]:
    for h, lab in zip(*ax.get_legend_handles_labels()):
        handles.setdefault(lab, h)
fig.legend(handles.values(), handles.keys(), loc="upper center", ncol=len(handles), bbox_to_anchor=(0.5, 1.04),
           fontsize=8)
fig.suptitle("Table 6 (measured here): SMaTE against each model", y=1.1, fontsize=11)
fig.tight_layout()
report.figure(fig, "table6_differences");

# %% [markdown]
# **What to see.** One bar per measured model and dataset: how many WAR points SMaTE scores above it (right of 0)
# or below it (left), the mean over the paired replicates, with the 95 % interval of the paired table; a hatched
# grey bar is a pair in which some run did not train — its length is no evidence about either model. A black
# diamond is the paper's Δ for the same pair where it gives one: only C3D on AFEW, Table 6's SMaTE 41.38 % minus
# the 39.69 % it copied from [34] — itself a difference between two protocols. Everywhere else the paper's claim is
# only the sign (SMaTE better: right of 0), and the paired table's verdict says whether the interval settles it.
# The families' absolute WAR is in the measured table above; the paper's absolute numbers are deliberately not
# drawn beside ours.

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
lines.append(f"Every row starts from a stand-in of its own architecture ({study.parameters['start']})"
             + (f" — except {', '.join(scratch_families)}, from scratch (parameter `scratch_families`)"
                if scratch_families else "")
             + f" and trains {study.parameters['epochs']} epochs; the CNN families use "
             + ", ".join(f"{row}: {comparison.OPTION_WORDS[family_choices[row]]}" for row in comparison.BASELINES)
             + " (chosen on the calibration fold). Reported rows cannot be set against these.")
Markdown("\n\n".join(lines))

# %% [markdown]
# ## Exercises
#
# Each is one parameter away. Pass it with `--reports` to another folder, so the reference run stays as it is:
# `python -m smate_nb run --profile cpu --only comparison --reports /tmp/ex --param KEY=VALUE`.
#
# 1. **Take the head start away.** `scratch_families=["C3D"]`: C3D trains from random weights instead of from its
#    stand-in (its preprocessing stays the one chosen from the stand-in on the calibration fold). How much of C3D's
#    score was the pretraining? *Cost (cpu profile):* 8 new trainings (5 lab, 3 wild). In the reference run of
#    2026-12-07 (this 2-core VM, two trainings at once) a C3D training took ≈ 4.2 min on lab and ≈ 6.9 min on wild
#    at the calibrated 60 epochs (mean `train seconds` in the runs table): ≈ 42 training-minutes, ≈ 21 min on two
#    workers.
# 2. **Cost per point.** From the measured table, which model buys the most WAR per GMAC? Per training minute?
#    *Cost:* none (the cell below computes it).
# 3. **Order matters?** `shuffle_test_frames=True`: every lab run is scored again on its test clips with their
#    frames shuffled (the cell below). The frame CNN averages frames and cannot see their order; who loses more,
#    SMaTE or the CNN-RNN? *Cost:* no training — one more pass over each lab run's test clips.

# %%
# Exercise 3's measurement (parameter shuffle_test_frames): every lab run scored again on its own test clips with
# each clip's frames in a fixed random order (one permutation per clip, seeded) — no training.
if shuffle_test_frames:
    from smate_nb.engine.evaluation import evaluate_run

    order_rows = []
    for _, r in frame[frame["dataset"] == "lab"].drop_duplicates("key").iterrows():
        m = evaluate_run(next(x for x in results if x["key"] == r["key"]), shuffle_frames=0)
        order_rows.append({"row": r["row"], "fold": r["fold"], "WAR % (in order)": r["WAR"],
                           "WAR % (frames shuffled)": 100 * m["war"]})
    order = pd.DataFrame(order_rows)
    order["Δ (pts)"] = order["WAR % (frames shuffled)"] - order["WAR % (in order)"]
    report.table(order, "frame_order", caption="Exercise 3: WAR of every lab run on its test clips in order and with "
                 "their frames shuffled (engine.evaluation.FramesShuffled, seed 0)", meta=meta)
    display(order.groupby("row")[["WAR % (in order)", "WAR % (frames shuffled)", "Δ (pts)"]].mean().round(1))

# %% jupyter={"source_hidden": true, "outputs_hidden": true} tags=["solution"]
# Solutions.
# 1. A measurement: compare C3D's rows of the measured table (its `start` column says "scratch") and of the paired
#    table with those of a run at the defaults; the runs table's `health` says whether the scratch runs trained.
print("1. this run's start per row:", dict(zip(measured["row"], measured["start"])))
# 2. Computed from the measured table:
eff = measured.assign(war=lambda d: d["WAR % (ours)"].str.split(" ± ").str[0].astype(float))
eff["WAR per GMAC"] = eff["war"] / eff["GMACs"]
eff["WAR per training minute"] = eff["war"] / eff["train min (mean)"].replace(0, np.nan)
display(eff[["dataset", "row", "WAR per GMAC", "WAR per training minute"]])
# 3. The frame CNN's Δ must be 0 up to float rounding (an average over frames does not depend on their order); a
#    model that uses order loses where its Δ is clearly below 0 — read it from the table of the cell above.
print("3.", "see the frame-order table above" if shuffle_test_frames else "run with shuffle_test_frames=True")
