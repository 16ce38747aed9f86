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
# # 00 · Overview — what SMaTE does, and how this suite rebuilds it
#
# **The paper.** *SMaTE: A Segment-Level Feature Mixing and Temporal Encoding Framework for Facial Expression
# Recognition* (Kim, Cho & Bae, *Sensors* 2022, 22, 5753) recognises one of seven facial expressions in a video
# clip from the face alone — no sound, no text. Its backbone is ViViT's *factorised encoder*: a spatial transformer
# encoder reads each short time step of the clip, a temporal transformer encoder reads the sequence of their
# summaries. On top of it the paper proposes three things:
#
# 1. **Preprocessing for faces** (§3.1): align every frame on the face, augment the clip (crop, flip, small
#    rotations, colour), and compute a *local binary pattern* (LBP) texture image (Eqs. 1–2);
# 2. **mixed-token embedding** (§3.2.2, Eq. 7): in training, average the tokens of a clip with those of its
#    augmented views, so the model sees one blended representation instead of one view;
# 3. **temporal positional encoding** (TPE, §3.2.3, Eqs. 9–10): a fixed position value per time step in the
#    temporal encoder, instead of a learned embedding.
#
# It reports these on CK+ (a lab dataset) and AFEW (film clips "in the wild"), row by row (Tables 1–6).
#
# **This suite** re-implements every piece in PyTorch, once, in the package `smate_nb/`, and explains and tests
# each in a notebook that imports that code. CK+ and AFEW are licensed, so every notebook runs out of the box on
# **SynthFER**, a procedurally generated face-video dataset written in the same file layouts (notebook 09); point
# the suite at your own copies and the same code runs on the real data.
#
# **This notebook** is the way in: a diagram of the pipeline (the paper's Figs. 3, 6 and 11 in one picture),
# a map from each equation to the function that implements it and to the notebook section that states it and the
# cell that shows its code — generated from the package and the notebooks, so it cannot go stale — a glossary, how
# to run the suite, what it caches where, and what a run costs. It executes in seconds: it trains nothing.

# %% tags=["parameters"]
# Parameters (papermill). Defaults are the CI-sized "smoke" profile.
profile = "smoke"          # smoke | cpu | paper — see smate_nb/config.py
reports_root = None        # None → reports/ (or $SMATE_REPORTS)
timing_profile = "cpu"     # whose committed report (reports/<timing_profile>/) the cost table reads

# %%
# Stop here on a wrong-typed parameter (e.g. papermill's `-p` passes lists as text), before any work.
from smate_nb.params import check

check(globals(), "00_overview");

# %%
import os
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display
from matplotlib.patches import FancyBboxPatch

from smate_nb import paper
from smate_nb.config import configure_threads, get_profile
from smate_nb.data.paths import REPO_ROOT, cache_root, data_root
from smate_nb.engine.store import runs_root
from smate_nb.model.tokens import mix_tokens
from smate_nb.report import Report, default_reports_root
from smate_nb.teaching import EQUATIONS, equation_map, equation_map_markdown, notebook_costs, show_source

profile_cfg = get_profile(profile)
threads = configure_threads(profile_cfg.torch_threads)
report = Report(profile, "00_overview", reports_root)
notebooks_dir = Path.cwd() if Path.cwd().name == "notebooks" else Path("notebooks")
print(f"profile {profile_cfg.name}: {profile_cfg.description}")

# %% [markdown]
# ## 1 · The pipeline at a glance
#
# Read the diagram row by row. The top row is **preprocessing** (§3.1, the paper's Fig. 3): a video's frames are
# searched for the face, 68 landmarks are placed on it, and a similarity transform (rotation, scale, shift) maps
# the face onto a fixed template, giving a 256² face clip. This runs **once per dataset** and is cached. From the
# aligned clip, **per training batch**, come the views the model sees: the original (resize 256 → centre crop 224,
# also the only thing evaluation sees), *N* randomly augmented views, and the LBP texture image.
#
# The bottom row is the **model** (§3.2, Figs. 6 and 11). Each view is cut into non-overlapping tubes of
# $t\times p\times p$ pixels (2×16×16 in the paper) and each tube is projected linearly to a token (Eq. 6). In
# training the views' tokens are averaged with probability $p$ (Eq. 7). The spatial encoder (STE) adds a CLS
# token and a learned position embedding to each time step's tokens (Eq. 8) and runs pre-norm transformer blocks
# (Eqs. 3–5); its CLS outputs $h_1 \dots h_{n_t}$, one per time step, go to the temporal encoder (TTE) with a
# temporal position — learned, or TPE (Eqs. 9–10). A linear head turns the TTE's CLS output into 7 class scores.
# The paper scores them by top-1 accuracy only (§4.1.2; WAR in the glossary); the suite adds UAR and the confusion
# matrix (green box: our additions beside the paper's metric). The grey tags say which notebook takes each box apart.

# %%
PRE, MODEL, EVAL = "#dbe9f6", "#fde7cf", "#dcefd9"


def box(ax, x, y, w, h, text, colour, tag=None, fontsize=8.5):
    """A rounded box with centred text at (x, y) = lower-left corner; returns its anchor points."""
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.12", fc=colour,
                                ec="#555555", lw=1.0))
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=fontsize, linespacing=1.35)
    if tag:
        ax.text(x + w - 0.05, y + h + 0.05, tag, ha="right", va="bottom", fontsize=7, color="#666666",
                style="italic")
    return {"left": (x, y + h / 2), "right": (x + w, y + h / 2), "top": (x + w / 2, y + h),
            "bottom": (x + w / 2, y)}


def arrow(ax, start, end, style="arc3"):
    ax.annotate("", xy=end, xytext=start,
                arrowprops=dict(arrowstyle="-|>", color="#333333", lw=1.2, shrinkA=2, shrinkB=2,
                                connectionstyle=style))


fig, ax = plt.subplots(figsize=(15, 7.2))
ax.set_xlim(0, 15)
ax.set_ylim(0, 7.6)
ax.axis("off")

# Row 1 — preprocessing (§3.1, Fig. 3)
ax.text(0.1, 7.2, "Preprocessing (§3.1, Fig. 3)", fontsize=11, weight="bold")
video = box(ax, 0.1, 4.55, 1.9, 1.3, "video frames\nCK+ · AFEW\nor SynthFER", PRE, "nb 09")
align = box(ax, 2.5, 4.35, 2.9, 1.7, "face detection\n+ 68 landmarks\n+ similarity alignment\n→ 256² face clip\n"
            "§3.1.1 · once per dataset, cached", PRE, "nb 02")
original = box(ax, 6.0, 5.95, 3.3, 0.85, "original: resize 256 → centre crop 224\n(the only view at test time)",
               PRE, "nb 02")
augmented = box(ax, 6.0, 4.78, 3.3, 0.85, "N augmented views: crop · flip ·\nrotate ±2/5/7° · colour  (§3.1.2)",
                PRE, "nb 02")
lbp_view = box(ax, 6.0, 3.6, 3.3, 0.85, "LBP texture image of the original\n§3.1.3, Eqs. 1–2", PRE, "nb 02")
tokens = box(ax, 10.1, 4.45, 2.7, 1.5, "tubelet tokens\n$z_{data} = [Ex_1, \\dots, Ex_k]$\nEq. 6 · one $E$ for\n"
             "every view", MODEL, "nb 01")
ax.text(7.65, 7.2, "per training batch, on the training device", fontsize=8, color="#666666", ha="center",
        style="italic")
arrow(ax, video["right"], align["left"])
for target in (original, augmented, lbp_view):
    arrow(ax, align["right"], target["left"])
    arrow(ax, target["right"], tokens["left"])

# Row 2 — the model (§3.2, Figs. 6 and 11) and its evaluation
ax.text(2.1, 2.9, "Model (§3.2, Figs. 6 and 11) and evaluation (§4.1.2)", fontsize=11, weight="bold")
mixed = box(ax, 0.1, 0.55, 2.6, 1.9, "mixed tokens $z_{mix}$\nEq. 7 · training only:\nwith prob. $p$ the mean\n"
            "of the views' tokens,\nelse $z_{origin}$", MODEL, "nb 01 · 05")
ste = box(ax, 3.2, 0.55, 3.1, 1.9, "spatial encoder (STE)\n$z = [z_{cls}, z_{mix}] + p$  (Eq. 8)\npre-norm blocks "
          "(Eqs. 3–5)\nper time step → $h_t$ (its CLS)", MODEL, "nb 01")
tte = box(ax, 6.8, 0.55, 3.1, 1.9, "temporal encoder (TTE)\n$[CLS, h_1, \\dots, h_{n_t}]$\n+ temporal position:\n"
          "learned, or TPE (Eqs. 9–10)", MODEL, "nb 01 · 04")
head = box(ax, 10.4, 0.8, 1.9, 1.4, "linear head\n→ 7 class\nscores", MODEL, "nb 01")
metrics = box(ax, 12.8, 0.8, 2.0, 1.4, "top-1 = WAR\n(§4.1.2)\nours: + UAR,\nconfusion", EVAL, "nb 03–06")
# tokens (end of row 1) → mixed tokens (start of row 2): down, left, down
ax.plot([tokens["bottom"][0], tokens["bottom"][0], mixed["top"][0], mixed["top"][0]],
        [tokens["bottom"][1], 3.35, 3.35, 2.75], color="#333333", lw=1.2)
arrow(ax, (mixed["top"][0], 2.8), mixed["top"])
arrow(ax, mixed["right"], ste["left"])
arrow(ax, ste["right"], tte["left"])
arrow(ax, tte["right"], head["left"])
arrow(ax, head["right"], metrics["left"])
ax.text(7.5, 0.12, "cost per clip (MACs) and training speed by crop size: nb 07 (Table 5)", fontsize=8,
        color="#666666", ha="center", style="italic")
report.figure(fig, "pipeline");

# %% [markdown]
# ## 2 · Equation → code → notebook
#
# The paper numbers ten equations. The table below is **generated** by `smate_nb.teaching.equation_map()`: it
# resolves each implementing function by its dotted path (a renamed function breaks the table, and a test, instead
# of misleading you) and reads the other notebooks now, so it says where each equation is explained *today*:
#
# * **stated in** — the notebook and section whose Markdown states the equation (a formula numbered as the paper
#   numbers it, or the equation named beside its formula), with the bold lead of its paragraph where it has one;
# * **its code** — the code cell under it that shows the implementing function, named by its `show_source(…)` call;
# * **implemented by** — the function, with its file:line in this checkout; **also in** — the other notebooks
#   whose text mentions the equation.
#
# Cells are named by heading and call, never by number: an executed copy of a notebook has one cell more than its
# source (papermill inserts the run's parameters after the `parameters` cell), so a number would point at the wrong
# cell. In the HTML report each link lands on the cell itself (ids `eq-N` and `eq-N-code`); in JupyterLab it opens
# the notebook — find the section by its heading and the cell by its call.

# %%
eq_table = equation_map(notebooks_dir)
report.table(eq_table, "equation_map",
             caption="The paper's Eqs. 1–10 → implementing code (resolved) → the notebook section that states each "
                     "and the code cell that shows it",
             meta={"generated_by": "smate_nb.teaching.equation_map", "notebooks_dir": str(notebooks_dir)})
Markdown(equation_map_markdown(eq_table))

# %% [markdown]
# The same ten equations as the paper prints them, with what each says in words:

# %%
Markdown("\n".join(f"- **Eq. {e.number}** ({e.section}, {e.name}): ${e.latex}$ — {e.meaning}. "
                   f"Code: `{e.implementation}`." for e in EQUATIONS))

# %% [markdown]
# **Code beside its equation.** The notebooks show the implementing function's source right under the equation,
# read from the package at run time (`smate_nb.teaching.show_source`), so what you read is what trains — there is
# no second copy to drift. Here is Eq. 7, mixed-token embedding, for a given Bernoulli draw $X$: where $X = 1$ the
# tokens of the original and of the $N$ views are averaged, where $X = 0$ the original's are kept.

# %%
show_source(mix_tokens)

# %% [markdown]
# ## 3 · Glossary
#
# | term | meaning here |
# |---|---|
# | **WAR** | *weighted average recall* = top-1 accuracy: the share of test clips whose highest-scoring class is right. Large classes weigh more. The paper's "top-1 accuracy" (§4.1.2). |
# | **UAR** | *unweighted average recall*: the mean over classes of each class's recall. Every class counts the same, so it exposes a model that ignores rare classes (AFEW is imbalanced). Chance is 1/7 ≈ 14.3 % for both on 7 balanced classes. **Ours, not the paper's**: the paper reports top-1 accuracy (WAR) only. |
# | **MAC vs FLOP** | a multiply-accumulate ($a \leftarrow a + b\cdot c$) is 2 floating-point operations. The paper prints "GFLOPs"; its values agree with our counts of multiply-accumulates, not with twice them (notebooks 01 and 07 compare them) — our reading; the paper does not say which it counted. |
# | **MFU** | *model FLOPs utilisation*: the FLOPs a training step must do (≈ 3 × forward, 2 FLOPs per MAC) per second, divided by the device's peak. How well the hardware is used; a GPU figure (notebook 07's appendix). |
# | **FE** | *factorised encoder*, ViViT's model 2: a spatial encoder per time step, then a temporal encoder over the time steps ("late fusion"). ViViT-B/16x2 FE = base width (768), 16×16 patches, 2 frames per tubelet. |
# | **STE / TTE** | *spatial* / *temporal transformer encoder* (§3.2.4): the two stacked encoders of the FE. |
# | **tubelet** | a $t\times p\times p$ block of pixels (time × height × width) cut from a clip; each becomes one token (Eq. 6). $t = 1$ is ViViT's "uniform frame sampling". |
# | **AU** | *action unit* (FACS): a visible movement of facial muscles (AU12 lip-corner puller, AU4 brow lowerer, …). SynthFER builds each expression from AUs (notebook 09). |
# | **pre-norm** | a transformer block that applies LayerNorm *before* attention and MLP, inside the residual branch (Eqs. 4–5), as ViT does. |
# | **LBP** | *local binary pattern* (Eqs. 1–2): per pixel, an 8-bit code of which neighbours are at least as bright as the centre — a texture image, insensitive to overall brightness. |
# | **TPE** | *temporal positional encoding* (Eqs. 9–10): a fixed value per temporal position (v1: sigmoid, v2: power law), the paper's alternative to a learned ("BERT") embedding. |
# | **CLS token** | a learned extra token prepended to a sequence; its output is the sequence's summary. The STE's CLS outputs are the $h_t$, the TTE's CLS output feeds the head. |
# | **subject-independent folds** | cross-validation in which no person appears in both training and test split, so a model cannot score by recognising people. **Our reading** of the CK+ protocol, not the paper's statement: the paper names 10-fold cross-validation only for its §2 experiment (Fig. 2) and says neither how it split CK+ for Tables 1–6 nor that the folds were subject-independent; the suite uses 10 subject-independent folds, the usual CK+ protocol. |
# | **one run per cell** | how we read the paper's tables: each cell is one number with no spread, and the paper says neither how many trainings (seeds, folds) stand behind it nor whether it is a mean — **our reading**, not its statement. The suite trains several folds and seeds per cell and prints the spread (`m ± s`). |
# | **SynthFER lab / wild** | the suite's generated datasets: *lab* stands in for CK+ (frontal, neutral → peak, plain background), *wild* for AFEW (head motion, lighting, clutter, imbalance, a neutral class). Notebook 09. |
# | **profile** | a named bundle of settings (`smate_nb/config.py`): `smoke` (seconds, CI, numbers at chance by design), `cpu` (a laptop, the suite's main results), `paper` (the paper's model and data, a GPU). |

# %% [markdown]
# ## 4 · Reading order
#
# Read the notebooks in this order; each opens with the question it answers and ends with conclusions beside the
# paper's claims and a few exercises.
#
# | notebook | the question it answers |
# |---|---|
# | **00 overview** | What does the paper do, and where in this suite is each piece? (this notebook) |
# | **01 model walk-through** | How does a clip become a prediction — tubelet tokens (Eq. 6), mixed tokens (Eq. 7), TPE (Eqs. 9–10), the two encoders (Eqs. 3–5, 8) — and what does the paper's backbone cost (Table 1)? |
# | **02 preprocessing** | What do face alignment, augmentation and LBP (§3.1, Eqs. 1–2) do to a clip, and what does each step cost? |
# | **03 appearance bias** | Does training on sequences that start later make a model more robust to people whose neutral face already looks expressive (§2, Figs. 1–2)? |
# | **04 position encodings** | Does a fixed temporal position encoding (TPE-v1, TPE-v2) beat a learned one (Table 2)? |
# | **05 progressive preprocessing** | How much does each step add — LBP, then augmentation, then mixed tokens (Tables 3–4)? |
# | **06 comparison** | How does SMaTE compare with the plain ViViT baseline and with CNN / CNN-RNN competitors (Tables 1, 6)? |
# | **07 cost by crop** | How do a clip's compute and the training speed grow with the crop size (Table 5)? |
# | **08 summary** | Which of the paper's claims does the suite reproduce, which not, and why? |
# | **09 appendix: data** | What is SynthFER, how does it stand in for CK+ and AFEW, and how does a clip get from disk to the model? |
#
# Which of them are in this checkout (the suite grows; a missing one is being written):

# %%
numbers = [f"{n:02d}" for n in range(10)]
present = {p.stem[:2]: p.stem for p in sorted(notebooks_dir.glob("[0-9][0-9]_*.ipynb"))}
titles = {}
for stem in present.values():
    first = next((ln for ln in (notebooks_dir / f"{stem}.py").read_text(encoding="utf-8").splitlines()
                  if ln.startswith("# # ")), "")
    titles[stem] = first[4:].strip()
order = pd.DataFrame([{"#": n, "notebook": present.get(n, "—"),
                       "title": titles.get(present.get(n, ""), "not in this checkout yet")} for n in numbers])
with pd.option_context("display.max_colwidth", None):
    display(order)

# %% [markdown]
# ## 5 · How to run
#
# Everything runs from the repository root; `make` creates `.venv/` with the exact pinned packages first.
#
# ```bash
# make reproduce                    # every notebook, cpu profile (the README gives the measured wall time)
# make test                         # unit tests + every notebook through nbval in the smoke profile
# .venv/bin/python -m smate_nb run --profile cpu --only preprocessing     # one notebook (a stem or its name)
# .venv/bin/python -m smate_nb run --profile cpu --only appearance_bias --param "folds=[0, 1, 2]"
# .venv/bin/python -m smate_nb run --profile smoke                        # the whole suite in minutes
# make lab                          # JupyterLab on the notebooks, with the suite's kernel
# ```
#
# Or one notebook with papermill directly: `-p` passes a **scalar**, `-y` passes **YAML** — use it for lists and
# dicts (`-p folds "[0, 1]"` would pass the *text* "[0, 1]"; every notebook's second code cell refuses that with a
# message saying how to pass it):
#
# ```bash
# .venv/bin/papermill notebooks/07_cost_by_crop.ipynb /tmp/out.ipynb -p profile cpu -y "crops: [64, 128]" \
#     --cwd notebooks
# ```
#
# Each notebook's first code cell (tagged `parameters`) lists what you can change, with the defaults of the
# `smoke` profile; the runner passes `profile` and `reports_root` itself.

# %% [markdown]
# ## 6 · What is cached, and where
#
# The suite computes nothing twice. Each folder below is made on first use, reused afterwards, and can be deleted
# to start afresh (it is rebuilt). The environment variables move them, e.g. onto a larger disk.
#
# | what | where (variable) | made by | reused when |
# |---|---|---|---|
# | generated SynthFER datasets | `data/` (`$SMATE_DATA`), one folder per generator setting | the first notebook that needs a dataset | always: generation is deterministic, and a finished dataset is checked against its committed manifest in `data_manifests/` |
# | decoded clips (for real videos: face-aligned) | `cache/` (`$SMATE_CACHE`) | the clip dataset, on first read | the key hashes the preprocessing config, the generator version and every source file's size and time, so a stale clip cannot survive a change |
# | trained experiments | `runs/<key>/` (`$SMATE_RUNS`): config, result (WAR, UAR, per-class recall, confusion), checkpoints | `smate_nb.engine.fit` | the key is a hash of the whole experiment config: a run requested by two tables or two notebooks is **trained once**; an interrupted one resumes from its last checkpoint |
# | the committed reference results | `reports/<profile>/` (`$SMATE_REPORTS`): `tables/`, `figures/`, `executed/` notebooks, `README.md` | `python -m smate_nb run --update-reference` | — it is what a reproduction is compared with |
# | your run of the suite | `reproduction/<profile>/` | `make reproduce` / `python -m smate_nb run` | a notebook whose source, parameters and package code are unchanged is skipped (`--force` re-executes) |
#
# So **a re-run is cheap**: a notebook that trained for an hour the first time reuses its stored runs and may take
# seconds the second time — the cost table below shows exactly that. In this checkout, now:

# %%
def folder_state(path):
    path = Path(path)
    if not path.exists():
        return "not created yet", 0
    return "exists", sum(1 for _ in path.iterdir())


def shown(path):
    """A path relative to the repository root when it is inside it (no machine paths in the report)."""
    path = Path(path).resolve()
    try:
        return path.relative_to(REPO_ROOT.resolve()).as_posix() + "/"
    except ValueError:
        return str(path)


locations = [("generated datasets", data_root(profile_cfg.data_root), "SMATE_DATA"),
             ("clip cache", cache_root(), "SMATE_CACHE"),
             ("trained experiments", runs_root(), "SMATE_RUNS"),
             ("reports of all profiles", default_reports_root() if reports_root is None else Path(reports_root),
              "SMATE_REPORTS")]
rows = []
for what, path, variable in locations:
    state, entries = folder_state(path)
    rows.append({"what": what, "path": shown(path), "set by": f"${variable}" if os.environ.get(variable) else "default",
                 "state": state, "entries": entries})
pd.DataFrame(rows)

# %% [markdown]
# ## 7 · Run it yourself: what each notebook costs
#
# Measured, not estimated: `notebook_costs` reads each notebook's execution record from the committed reference
# report of the `timing_profile` (`reports/<profile>/executed/<notebook>.json`, written by
# `python -m smate_nb run --update-reference`), whatever `reports_root` this notebook writes to. A
# notebook without a record says **not yet measured**. The *trainings* column, where the report has it, says
# whether the recorded execution trained its models or reused stored runs — a notebook that trains (03–06) costs
# far more on a fresh machine than a re-execution that reuses `runs/`; the README gives the measured fresh-run
# times of `make reproduce`. Reports written before the suite was renumbered carry the old file names (*recorded
# as*); they are matched by name.

# %%
costs = notebook_costs(timing_profile, notebooks=list(present.values()))
costs["seconds"] = costs["seconds"].round(1)
total = costs["seconds"].dropna().sum()
report.table(costs, "run_costs", caption=f"Recorded execution time per notebook, profile {timing_profile}",
             meta={"timing_profile": timing_profile, "read_from": f"reports/{timing_profile}/executed/*.json"},
             reproduce="timing")
print(f"profile {timing_profile}: {int((costs['measured'] == 'yes').sum())} of {len(costs)} notebooks measured; "
      f"the recorded executions add up to {total / 60:.1f} min")
if (costs["trainings"] == "not recorded").any():
    print("'not recorded': this report predates the trainings count — its seconds may be a re-execution that "
          "reused stored runs (the README has the fresh-run times)")
costs

# %% [markdown]
# ## 8 · Where the suite departs from the paper (read before the results)
#
# * **Data.** SynthFER replaces CK+ and AFEW unless you supply them; its numbers say whether a method *works as
#   described* on a controlled task, not what it scores on CK+. The paper's own numbers are always printed beside
#   ours and labelled as the paper's. The studies train on variants of SynthFER lab — notebook 03 with stronger
#   resting expressions, 04–06 with each sequence placed a little differently — set out, with why, in one place:
#   [notebook 09, *Data variants of the studies*](09_appendix_data.ipynb#data-variants).
# * **Pretraining.** The paper fine-tunes a ViViT pretrained on Kinetics-400; those weights are not available
#   here. Notebooks 04–06 fine-tune every row from a *stand-in*: a model of the same architecture pretrained on a
#   separate SynthFER-lab corpus (other people) with a label-free task — which of the corpus's sequences is this,
#   under random crops and flips — so it favours no row (or from a ViT image checkpoint you supply). Notebook 03 trains its models from scratch.
# * **Run health.** Every training is labelled `trained`, `under-trained` or `collapsed`
#   (`smate_nb.engine.health`); a comparison that rests on a run that did not train reads *invalid*, never a
#   verdict about the paper.
# * **Ambiguities** of the paper (α of TPE, Eq. 10's normalisation, how LBP enters without mixing, the Bernoulli
#   $p$ of Eq. 7, …) are parameters with a stated default; the README lists them, and each notebook says which one
#   a run used.
#
# The paper's headline numbers, for orientation (read from `smate_nb.paper`):

# %%
print(f"paper, Table 1 (ViViT-B/16x2 FE baseline): CK+ {paper.TABLE1['ckplus']} %, AFEW {paper.TABLE1['afew']} %; "
      f"{paper.TABLE1['gflops']} GFLOPs, {paper.TABLE1['params_m']} M parameters")
best = paper.TABLE4["Mixed-token embedding"]
print(f"paper, Table 4 (TPE-v2 + LBP + augmentation + mixed tokens = SMaTE, Table 6): CK+ {best['ckplus']} %, "
      f"AFEW {best['afew']} %")

# %% [markdown]
# ## Exercises
#
# 1. **Find the code of an equation.** Use `equation_map()` to find what implements Eq. 8, then show its source
#    with `show_source(resolve(path))` (`from smate_nb.teaching import resolve, show_source`). Which line adds
#    the CLS token, and which the position embedding?
# 2. **Count tokens.** The paper feeds ViViT-B/16x2 FE 25 frames at 224² with 2×16×16 tubelets. How many tokens
#    does the spatial encoder see per time step (CLS included), and how many time steps are there? Predict, then
#    check with `TubeletEmbedding(3, 768, (2, 16, 16)).grid(25, 224, 224)`.
# 3. **Once or per batch?** In the diagram, which boxes run once per dataset and which per training batch? Why
#    does that make augmentation and LBP, but not face alignment, a question of training speed?
# 4. **Your own timings.** Run `python -m smate_nb run --profile smoke` (it writes `reproduction/smoke/`), then
#    `notebook_costs("smoke", reports_root="../reproduction")` in a new cell (from `notebooks/`). Which notebook
#    dominates, and why is it the same one as in the cpu table above?

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
# Solutions to exercises 1–3, computed.
from smate_nb.model.tokens import TubeletEmbedding
from smate_nb.teaching import resolve

eq8 = eq_table.set_index("Eq.").loc[8, "implemented by"]
print(f"1. Eq. 8 is implemented by {eq8}: `torch.cat([self.spatial_cls…], z)` prepends the CLS token, "
      "`self.spatial_position(z)` adds p (one learned table shared by every time step).")
n_t, n_h, n_w = TubeletEmbedding(3, 768, (2, 16, 16)).grid(25, 224, 224)
print(f"2. {n_t} time steps (25 // 2: the 25th frame fills no tubelet), {n_h}×{n_w} = {n_h * n_w} patches, so "
      f"{n_h * n_w + 1} tokens per time step with the CLS; the temporal encoder sees {n_t + 1} (its own CLS too).")
print("3. Once per dataset (cached): face detection, landmarks, alignment. Per batch: the test transform, the N "
      "augmented views, the LBP image, and everything in the model — so only those sit in every training step.")
show_source(resolve(eq8))
