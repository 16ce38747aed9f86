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
# # 08 · Summary: every claim of the paper beside our measurement
#
# **The question.** Which of the paper's numbers and claims does this suite reproduce — on which data, with which
# model, at what budget — which does it contradict, which can it not resolve, and which can it not compare?
#
# Everything below is **generated from the tables the other notebooks of this report stored** (`reports/<profile>/
# tables/`, read by `smate_nb.experiments.summary`): nothing is typed in, and a claim whose notebook has not run
# yet says *not run*. Verdicts: *reproduced* (a paired comparison resolved on the paper's side, or a count within
# tolerance), *not reproduced* (resolved on the other side, or a count off), *not resolved* (the interval includes
# 0 at this budget), *not comparable* (an absolute accuracy on other data, or a speed on another machine).
#
# Read the absolute accuracies with care: ours are on SynthFER (a procedural stand-in for CK+ / AFEW) with a small
# ViViT-FE fine-tuned from a stand-in pretraining; the paper's are on the real datasets with ViViT-B/16x2 FE
# pretrained on Kinetics-400. What carries over are the *differences* between rows measured on the same folds.
# Run this notebook last (`python -m smate_nb run` executes it after 00–07).

# %% tags=["parameters"]
# Parameters (papermill). Defaults are the CI-sized "smoke" profile.
profile = "smoke"            # smoke | cpu | paper
reports_root = None

# %%
# Stop here on a wrong-typed parameter (e.g. papermill's `-p` passes lists as text), before any work.
from smate_nb.params import check

check(globals(), "08_summary");

# %%
import importlib.metadata as md
import json
import os
import platform

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from smate_nb.config import get_profile
from smate_nb.engine.device import describe_device
from smate_nb.engine.sweeps import default_workers
from smate_nb.experiments.summary import ambiguity_register, claims, verdict_counts
from smate_nb.report import Report

P = get_profile(profile)
report = Report(profile, "08_summary", reports_root)
print(f"profile {profile}: reading the tables of {report.dir}")

# %% [markdown]
# ## 1 · The paper's claims, one by one

# %%
table = claims(report.dir)
report.table(table, "claims", caption=f"Every number and claim of the paper beside ours — profile `{profile}`",
             meta={"profile": profile, "generated_from": str(report.tables_dir.name)})
counts = verdict_counts(table)
display(Markdown(" · ".join(f"**{k}** {v}" for k, v in counts.items())))
with pd.option_context("display.max_colwidth", 120, "display.max_rows", 200):
    display(table)

# %%
fig, ax = plt.subplots(figsize=(7, 2.6))
colours = {"reproduced": "tab:green", "not reproduced": "tab:red", "not resolved": "tab:orange", "invalid": "tab:purple",
           "not comparable": "tab:grey", "not run": "lightgrey"}
ax.barh(list(counts.index), list(counts.values), color=[colours[k] for k in counts.index])
for i, v in enumerate(counts.values):
    ax.text(v + 0.2, i, str(v), va="center", fontsize=9)
ax.invert_yaxis(); ax.set_xlabel("claims"); ax.set_title(f"Verdicts — profile {profile}")
fig.tight_layout()
report.figure(fig, "verdicts");

# %% [markdown]
# ## 2 · The ambiguity register
#
# Every point where the paper is silent or inconsistent, the choice this suite made, the parameter that switches it,
# and where it was measured to matter (a link to the table when this report holds it). The first one decides Tables
# 2 and 4: read literally, TPE cannot act at all.

# %%
register = ambiguity_register(report.dir)
report.table(register, "ambiguities", caption="Where the paper is silent or inconsistent, and what we chose")
with pd.option_context("display.max_colwidth", 160):
    display(register)

# %% [markdown]
# ## 3 · The run's environment

# %%
versions = {pkg: md.version(pkg) for pkg in ("torch", "numpy", "pandas", "einops", "opencv-python-headless",
                                             "scikit-image", "safetensors", "papermill", "distributed")}
dev = describe_device("auto")
env = pd.DataFrame([{"item": "python", "value": platform.python_version()},
                    *({"item": k, "value": v} for k, v in versions.items()),
                    {"item": "machine", "value": f"{dev['name']} ({dev['cpu_count']} cores)"},
                    {"item": "torch threads per process", "value": os.environ.get("SMATE_THREADS", "default")},
                    {"item": "workers (SMATE_WORKERS or cores ÷ threads)", "value": default_workers()}])
stamps = []
for s in sorted((report.dir / "executed").glob("*.json")):
    d = json.loads(s.read_text())
    runs = d.get("runs") or {}
    stamps.append({"notebook": s.stem, "status": d.get("status"), "wall time (min)": round(d.get("seconds", 0) / 60, 2),
                   "trainings run": runs.get("trained", 0), "trainings reused": runs.get("reused", 0),
                   "finished": d.get("finished", "—")})
wall = pd.DataFrame(stamps) if stamps else pd.DataFrame([{"notebook": "(no executed notebook stamps in this report)"}])
report.table(env, "environment", caption="Package versions and machine of this run", reproduce="timing")
report.table(wall, "wall_times", caption="Wall time per notebook (the execution that produced each copy)",
             reproduce="timing")
display(env)
wall

# %% [markdown]
# ## 4 · In words

# %%
lines = []
if profile == "smoke":
    lines.append("*Smoke profile: every training lasted seconds — the verdicts below are about the plumbing, not the "
                 "paper. Read the `cpu` report for results.*")
for verdict in ("reproduced", "not reproduced", "not resolved", "invalid"):
    sub = table[table["verdict"] == verdict]
    if len(sub):
        lines.append(f"**{verdict.capitalize()}** ({len(sub)}): " + "; ".join(sub["claim"].head(12))
                     + ("; …" if len(sub) > 12 else "") + ".")
lines.append(f"**Not comparable** ({int(counts['not comparable'])}): absolute accuracies of the paper's Tables 1–4 and "
             "6 (other data, model size and pretraining) and its training speeds (another GPU, unknown batch size).")
Markdown("\n\n".join(lines))

# %% [markdown]
# ## Exercises
#
# 1. **Change a choice, watch a verdict.** Pick a row of the ambiguity register, change its parameter in the
#    notebook that measures it, re-run that notebook and this one: which verdicts move?
# 2. **Budget.** Which *not resolved* claims would more folds or seeds settle? Estimate from the confidence
#    intervals in the source tables how many pairs a difference of that size needs.
