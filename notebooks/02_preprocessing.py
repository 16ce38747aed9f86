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
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 02 · Preprocessing for FER (paper §3.1, Figs. 3–5)
#
# **The question.** Before a video transformer sees a face clip, SMaTE *aligns* the face in every frame, *augments*
# the clip and computes a *texture* (LBP) view of it (paper Fig. 3). What does each of these steps do to the pixels,
# how exactly is each one defined (the paper leaves several choices open), and what does it cost per frame?
#
# **What the paper says** (§3.1). Face preprocessing is detection (LFFD), 68 landmarks (PFL) and an affine
# transform that "can efficiently handle pose" (§3.1.1). Augmentation (§3.1.2) is cropping (centre at test, random
# in training), resizing, horizontal flips, rotations "limited to {2°, 5°, 7°}" and colour changes — grayscale, or
# random lightness, hue and saturation; only crop and resize are used at test time. LBP (§3.1.3, Eqs. 1–2) is
# "a robust feature that emphasizes the texture … regardless of brightness changes".
#
# ```
# video frames ─► face detection ─► 68 landmarks ─► similarity alignment ─► 256² face clip    (§3.1.1, once)
#                                                                           │
#                                        test: resize 256 → centre-crop 224 │ train: crop/flip/rotate/colour (§3.1.2)
#                                                                           ▼
#                                                       clip views ─► LBP texture images      (§3.1.3, Eqs. 1–2)
# ```
#
# This notebook runs each step on real pixels, with the implementing code shown under its definition:
#
# 1. **Detection and landmarks** on a real photograph (`skimage.data.astronaut()`, shipped with scikit-image).
# 2. **Alignment** of a clip in which that photo moves by a *known* rotation, zoom and shift per frame — so we
#    can measure how well alignment undoes the motion, and how much the aligned face still jitters.
# 3. A **SynthFER** clip (the suite's built-in synthetic dataset) through the whole pipeline.
# 4. An **augmentation gallery** like the paper's Fig. 4: each transform alone, then random draws, with the
#    probability of each transform stated.
# 5. **LBP images** like Fig. 5, in two variants, a window where they differ, whether LBP really ignores
#    brightness, and **how LBP enters training**.
# 6. A **timing table**; then conclusions beside the paper's claims, and exercises.
#
# The paper used LFFD for detection and PFL for 68 landmarks. Neither ships offline, so the suite uses dlib's
# HOG detector and its 68-point shape predictor (pip wheels `dlib-bin`, `face-recognition-models`; nothing is
# downloaded at run time) and OpenCV's Haar cascades as a lighter fallback. Code: `smate_nb/preprocess/`
# (`faces.py`, `augment.py`, `lbp.py`).
#
# **Run it yourself.** `python -m smate_nb run --profile cpu --only preprocessing` (it trains nothing; the overview,
# notebook 00, lists its recorded time).

# %% tags=["parameters"]
# Parameters (papermill injects overrides after this cell)
profile = "smoke"        # smoke | cpu | paper  (see smate_nb/config.py)
reports_root = None      # None → reports/ at the repository root, or $SMATE_REPORTS
seed = 0                 # every random draw below comes from this seed
face_backend = "dlib"    # "dlib" (default), "haar" (light fallback) or "auto"

# %%
# Stop here on a wrong-typed parameter (e.g. papermill's `-p` passes lists as text), before any work.
from smate_nb.params import check

check(globals(), "02_preprocessing");

# %%
import os
import platform
import time

import cv2
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import Markdown
from skimage import data
from skimage.feature import local_binary_pattern

from smate_nb.config import configure_threads, get_profile
from smate_nb.preprocess import augment as augmentation
from smate_nb.preprocess import faces, lbp
from smate_nb.report import Report
from smate_nb.teaching import show_source

prof = get_profile(profile)
threads = configure_threads(prof.torch_threads)
cv2.setNumThreads(1)  # time OpenCV on one core too, like torch
report = Report(prof.name, "02_preprocessing", root=reports_root)

# How much work each profile does here (the smoke profile must finish well under a minute).
scale = {
    "smoke": dict(clip_frames=12, synth_frames=6, lbp_repeats=3, bench_clips=4),
    "cpu": dict(clip_frames=24, synth_frames=8, lbp_repeats=5, bench_clips=8),
    "paper": dict(clip_frames=32, synth_frames=8, lbp_repeats=7, bench_clips=8),
}[prof.name]
backends = faces.available_backends()
assert face_backend in backends or face_backend == "auto", (
    f"face backend {face_backend!r} unavailable here (have {backends}); "
    "pip install dlib-bin face-recognition-models, or run with face_backend='haar'")
face_cfg = faces.FaceConfig(backend=face_backend)
machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, {threads} thread(s)"
print(f"profile {prof.name}: clip {prof.clip.resize}→{prof.clip.crop}, {prof.clip.num_frames} frames; "
      f"face backends available: {backends}\n{machine}")

# %% [markdown]
# ## 1 · Face detection and 68 landmarks (§3.1.1)
#
# A face detector returns **boxes with confidence scores**; we keep the **best-scoring** box. Taking the
# *largest* box instead is a classic bug: with a permissive threshold, dlib's HOG detector also fires on the
# astronaut's round mission patch, whose box is *larger* than the face (right panel).
#
# Inside the chosen box the shape predictor places the 68 iBUG landmarks (jaw 0–16, brows 17–26, nose 27–35,
# eyes 36–47, mouth 48–67). Alignment uses five **key points** derived from them: the two eye centres (mean of
# the six eyelid points), the nose tip (30) and the mouth corners (48, 54).

# %%
photo = data.astronaut()                       # 512×512 RGB uint8
backend = faces.get_backend(face_cfg)
obs = faces.observe_face(photo, backend, face_cfg.detect_side)
if backend.name == "dlib":
    loose_backend = faces.DlibBackend(score_threshold=-0.5)   # permissive: more (and false) candidates
else:
    loose_backend = faces.HaarBackend(min_neighbors=1)
obs_loose = faces.observe_face(photo, loose_backend, face_cfg.detect_side)


def draw_box(ax, box, color, label=None, lw=2):
    x0, y0, x1, y1 = box
    ax.add_patch(plt.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, color=color, lw=lw))
    if label:
        ax.text(x0, y0 - 4, label, color=color, fontsize=8, va="bottom",
                bbox=dict(facecolor="black", alpha=0.4, pad=1, lw=0))


fig, axes = plt.subplots(1, 2, figsize=(11, 5.5))
ax = axes[0]
ax.imshow(photo)
draw_box(ax, obs.box, "lime", f"face, score {obs.score:.2f}")
if obs.landmarks.shape[0] == 68:
    ax.scatter(*obs.landmarks.T, s=6, c="yellow", label="68 landmarks")
ax.scatter(*obs.keypoints.T, s=40, c="red", marker="x", label="5 key points")
ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.01), ncol=2, fontsize=8, frameon=False)  # below the photo
ax.set_title(f"{backend.name}: best-scoring box, landmarks, key points")
ax = axes[1]
ax.imshow(photo)
areas = (obs_loose.boxes[:, 2] - obs_loose.boxes[:, 0]) * (obs_loose.boxes[:, 3] - obs_loose.boxes[:, 1])
for box, sc, ar in zip(obs_loose.boxes, obs_loose.scores, areas):
    is_best = sc == obs_loose.scores.max()
    tag = ("best score" if is_best else "") + (" · largest" if ar == areas.max() else "")
    draw_box(ax, box, "lime" if is_best else "orange", f"{sc:.2f} {tag}")
ax.set_title(f"permissive threshold: {len(obs_loose.scores)} candidates")
for a in axes:
    a.axis("off")
report.figure(fig, "astronaut_detection");
print(f"detection {obs.detect_ms:.1f} ms, landmarks {obs.landmark_ms:.2f} ms "
      f"(photo rescaled to {face_cfg.detect_side}px on its long side for detection)")

# %% [markdown]
# ## 2 · Alignment by a similarity transform
#
# Alignment maps the five key points $x_i$ of a frame onto five fixed **template** points $y_i$ in a
# $256\times256$ crop (the paper resizes to 256 before cropping 224) with the transform
#
# $$y \approx s\,R(\theta)\,x + t ,\qquad (s,\theta,t) = \arg\min \sum_{i=1}^{5} \lVert s R(\theta) x_i + t - y_i \rVert^2 ,$$
#
# a *similarity* (rotation, uniform scale, shift: `cv2.estimateAffinePartial2D`). The paper says "affine"; a
# full affine would also shear and stretch the face to fit the template, changing the very proportions an
# expression is made of, so the similarity (a special affine) is the safer choice. The template is the mean dlib
# face (from OpenFace), made symmetric: inter-ocular distance 0.26 of the crop, eyes at height 0.34, so the
# whole face — brows to chin — stays inside the 224 centre crop (dashed box).
#
# The fit, `faces.estimate_similarity` (RANSAC only drops a grossly wrong point; with five good points the result
# is the least-squares fit above):

# %%
show_source(faces.estimate_similarity)

# %% [markdown]
# and the template it fits to, `faces.canonical_keypoints` (the crop itself is then made by `faces.warp_face`, an
# OpenCV affine warp that first shrinks the frame when the face is much larger than the crop, so it does not
# alias):

# %%
show_source(faces.canonical_keypoints)

# %%
still, still_stats = faces.align_clip(photo[None], face_cfg, backend=backend, clip_id="astronaut")
A_ref = still_stats.matrices[0]                 # photo → crop
template = faces.canonical_keypoints(face_cfg.size, face_cfg.iod, face_cfg.eye_y)
warped_kp = still_stats.keypoints[0] @ A_ref[:, :2].T + A_ref[:, 2]

fig, axes = plt.subplots(1, 2, figsize=(9, 4.5))
axes[0].imshow(photo[40:300, 100:360])
axes[0].set_title("photo (detail)")
axes[1].imshow(still[0])
axes[1].scatter(*template.T, s=60, facecolors="none", edgecolors="cyan", label="template")
axes[1].scatter(*warped_kp.T, s=25, c="red", marker="x", label="key points after alignment")
c0 = (face_cfg.size - round(face_cfg.size * 224 / 256)) / 2
axes[1].add_patch(plt.Rectangle((c0, c0), face_cfg.size - 2 * c0, face_cfg.size - 2 * c0, fill=False,
                                ls="--", color="white"))
axes[1].legend(loc="upper center", bbox_to_anchor=(0.5, -0.01), ncol=2, fontsize=8, frameon=False)
axes[1].set_title(f"aligned {face_cfg.size}², 224/256 centre crop dashed")
for a in axes:
    a.axis("off")
report.figure(fig, "alignment_template");
s = np.sqrt(np.linalg.det(A_ref[:, :2]))
print(f"similarity: scale {s:.3f}, rotation {np.degrees(np.arctan2(A_ref[1, 0], A_ref[0, 0])):+.2f}°, "
      f"key-point residual {np.sqrt(np.mean(np.sum((warped_kp - template) ** 2, 1))):.2f} px RMS")

# %% [markdown]
# ## 3 · A moving clip, before and after alignment
#
# `moving_clip` moves the photo by a known similarity $M_t$ per frame (rotation up to ±10°, zoom 0.9–1.1,
# shift up to ±20 px, along smooth sinusoids, one oscillation per 24 frames — a head that nods and sways). If alignment $A_t$ of frame $t$ is
# perfect, $A_t \circ M_t$ equals the still photo's alignment $A_\text{ref}$, i.e. the face lands on the same crop
# pixels in every frame. On a 7×7 lattice over the face we measure, in crop pixels (256²):
#
# * **error** — RMS distance between where $A_t\circ M_t$ and $A_\text{ref}$ put each lattice point;
# * **jitter** — RMS spread of each point over time around its mean (the shaking a viewer sees), and the RMS
#   **frame-to-frame step**;
# * **motion** — the same spread *without* alignment, for scale.
#
# Video-aware steps (`align_clip`): key-point tracks are smoothed over time by a Gaussian-weighted local
# quadratic fit ($\sigma$ = 1 frame by default; a quadratic follows a turning head without lag, a plain moving
# average would not), frames whose detection jumps away from what the other frames predict are re-picked from
# their other candidate boxes or treated as missed, and missed frames reuse their neighbours' key points.

# %%
n = scale["clip_frames"]
# One nod-and-sway per 24 frames (a second of video), whatever the clip length.
clip, motions = faces.moving_clip(photo, n, rotation=10.0, scale=(0.9, 1.1), shift=20.0, cycles=n / 24, seed=seed)
runs = {"no smoothing (σ = 0)": faces.FaceConfig(backend=backend.name, smooth_sigma=0.0),
        "default (σ = 1 frame)": faces.FaceConfig(backend=backend.name)}
if backend.name == "dlib" and "haar" in backends:
    runs["Haar fallback (σ = 1)"] = faces.FaceConfig(backend="haar")
results = {name: faces.evaluate_moving_clip(photo, cfg, frames_and_motions=(clip, motions))
           for name, cfg in runs.items()}

cols = ["backend", "smooth_sigma", "error_rms", "error_max", "jitter_rms", "jitter_step_rms", "motion_rms",
        "ms_per_frame", "detect_ms_per_frame", "landmark_ms_per_frame", "warp_ms_per_frame",
        "n_detected", "n_rejected", "n_repicked", "n_filled"]
jitter_df = pd.DataFrame([{"run": k, **{c: r[c] for c in cols}} for k, r in results.items()])
report.table(jitter_df, "alignment_jitter",
             caption=f"Alignment of the moving astronaut clip ({n} frames, 512²): crop pixels at 256², ms per frame",
             meta={"profile": prof.name, "seed": seed, "frames": n, "machine": machine,
                   "configs": {k: c.to_dict() for k, c in runs.items()}},
             timing_columns=["ms_per_frame", "detect_ms_per_frame", "landmark_ms_per_frame", "warp_ms_per_frame"])
jitter_df.round(2)

# %%
default = results["default (σ = 1 frame)"]
aligned = default["_aligned"]
show = np.linspace(0, n - 1, 6).round().astype(int)
fig, axes = plt.subplots(2, len(show), figsize=(2.1 * len(show), 4.6))
for j, t in enumerate(show):
    axes[0, j].imshow(clip[t])
    axes[0, j].set_title(f"frame {t}", fontsize=9)
    axes[1, j].imshow(aligned[t])
for a in axes.ravel():
    a.set_xticks([])
    a.set_yticks([])
axes[0, 0].set_ylabel("input (512²)")
axes[1, 0].set_ylabel("aligned (256²)")
report.figure(fig, "moving_clip_aligned");

# each run against its own still-photo alignment (the Haar template sits slightly differently)
per_frame = {name: [faces.alignment_error(r["_stats"].matrices[t:t + 1], motions[t:t + 1], r["_reference"])["error_rms"]
                    for t in range(n)] for name, r in results.items()}
raw = [faces.alignment_error(A_ref[None], motions[t:t + 1], A_ref)["error_rms"] for t in range(n)]
fig, ax = plt.subplots(figsize=(7, 3.2))
ax.plot(raw, "k--", label="no alignment (still photo's crop)")
for name, v in per_frame.items():
    ax.plot(v, marker="o", ms=3, label=name)
ax.set_yscale("log")
ax.set_xlabel("frame")
ax.set_ylabel("RMS error, crop px")
ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside the curves, not over them
ax.set_title("How far the face lands from where it should (256² crop)")
report.figure(fig, "moving_clip_error");

# %% [markdown]
# **Frames without a face.** Below, two frames have the face covered, so nothing is detected there. They are
# counted (`n_filled`) and reuse their neighbours' key points (linear interpolation in time), so the crop stays
# in place and the occluder shows where the face would be. A clip with *no* face at all raises
# `FaceNotFoundError` (or, with `on_missing="skip"`, is skipped with a logged warning) — never a silent empty
# clip.

# %%
occluded = clip.copy()
for t in (n // 2, n // 2 + 1):
    x0, y0, x1, y1 = faces.observe_face(clip[t], backend, face_cfg.detect_side).box.astype(int)
    occluded[t, y0 + 10:y1 - 5, x0:x1] = 30
al_occ, st_occ = faces.align_clip(occluded, face_cfg, backend=backend, clip_id="occluded")
err_occ = faces.alignment_error(st_occ.matrices, motions, A_ref)
print(st_occ.summary())
print(f"error on the whole clip {err_occ['error_rms']:.2f} px RMS; on the two filled frames "
      f"{faces.alignment_error(st_occ.matrices[n // 2:n // 2 + 2], motions[n // 2:n // 2 + 2], A_ref)['error_rms']:.2f} px")
fig, axes = plt.subplots(1, 4, figsize=(9, 2.6))
for a, t in zip(axes, range(n // 2 - 1, n // 2 + 3)):
    a.imshow(al_occ[t])
    a.set_title(f"frame {t}" + (" (filled)" if np.isnan(st_occ.keypoints_raw[t]).all() else ""), fontsize=9)
    a.axis("off")
report.figure(fig, "missing_frames");
try:
    faces.align_clip(np.full((3, 96, 96, 3), 90, np.uint8), face_cfg, backend=backend, clip_id="blank clip")
except faces.FaceNotFoundError as e:
    print("FaceNotFoundError:", str(e)[:160], "…")

# %% [markdown]
# ## 4 · A SynthFER clip through the pipeline
#
# The suite's built-in dataset (`smate_nb/data/synthfer.py`) renders licence-free face videos in the CK+ (lab)
# and AFEW (wild) layouts. One lab sequence goes through every step here: the frames as rendered, aligned to
# 256², the test-time transform to the profile's clip size (resize → centre crop; the paper: 256 → 224), one
# random training augmentation (one parameter draw for the whole clip) and the LBP view of the test-time clip.
# In the wild variant the head moves, the light changes and the background is cluttered — alignment matters
# more there.

# %%
from smate_nb.data import synthfer

synth = {}
for variant in ("lab", "wild"):
    cfg_s = synthfer.make_config(variant, subjects=2, seed=seed, image_size=prof.data.image_size)
    labelled = [s for s in synthfer.plan(cfg_s) if s.label]
    spec = next((s for s in labelled if s.label == "happiness"), labelled[0])   # a smile shows the motion
    synth[variant] = (spec, synthfer.render_sequence(cfg_s, spec))

# SynthFER frames are small (64–112 px) and the face fills them: detecting on a 320-px
# upscale finds every face at a third of the cost of the default 640.
synth_face_cfg = faces.FaceConfig(backend=backend.name, detect_side=320)
gen = torch.Generator().manual_seed(seed)
aug_cfg = augmentation.AugmentConfig.for_clip(prof.clip.crop)
rows = {}
for variant, (spec, frames) in synth.items():
    al_s, st_s = faces.align_clip(frames, synth_face_cfg, clip_id=f"synthfer-{variant} {spec.key}")
    x = torch.from_numpy(al_s).permute(0, 3, 1, 2)[None]          # 1×T×3×256×256 uint8
    test_view = augmentation.test_transform(x, prof.clip.crop, prof.clip.resize)
    aug_view, params = augmentation.augment(augmentation.resize(x, prof.clip.resize), aug_cfg, gen)
    lbp_view = lbp.lbp_image(test_view, "skimage")
    rows[variant] = dict(frames=frames, aligned=al_s, test=test_view[0], aug=aug_view[0], lbp=lbp_view[0],
                         stats=st_s, params=params.rows()[0])
    print(f"{variant}: {spec.key} ({spec.label}, {spec.n_frames} frames {frames.shape[1]}²) — "
          f"{st_s.summary()['n_detected']} detected, {st_s.n_filled} filled, {st_s.ms_per_frame:.1f} ms/frame; "
          f"augmentation drawn: " + ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                                          for k, v in params.rows()[0].items()))


# %%
def to_img(t):  # 3×H×W float → H×W×3
    return t.permute(1, 2, 0).clamp(0, 1).numpy()


k = scale["synth_frames"]
for variant, r in rows.items():
    T = len(r["frames"])
    idx = np.linspace(0, T - 1, k).round().astype(int)
    stages = [("rendered", lambda t: r["frames"][t]), ("aligned 256²", lambda t: r["aligned"][t]),
              (f"test: {prof.clip.resize}→{prof.clip.crop}", lambda t: to_img(r["test"][t])),
              ("train augmentation", lambda t: to_img(r["aug"][t])), ("LBP of test view", lambda t: to_img(r["lbp"][t]))]
    fig, axes = plt.subplots(len(stages), k, figsize=(1.6 * k, 1.7 * len(stages)))
    for i, (name, get) in enumerate(stages):
        for j, t in enumerate(idx):
            axes[i, j].imshow(get(t), cmap="gray")
            axes[i, j].set_xticks([])
            axes[i, j].set_yticks([])
            if i == 0:
                axes[i, j].set_title(f"t={t}", fontsize=8)
        axes[i, 0].set_ylabel(name, fontsize=8)
    fig.suptitle(f"SynthFER {variant}: one clip through the pipeline", fontsize=10)
    report.figure(fig, f"synthfer_{variant}_pipeline");

# %% [markdown]
# ## 5 · Augmentation (§3.1.2, Fig. 4)
#
# All transforms work on clip tensors $B\times T\times C\times H\times W$ on any device, and draw **one set of
# parameters per clip**, applied identically to all its frames (a face must not jump or change colour from
# frame to frame). Geometry: a random square crop (its side a random fraction of the frame's short side), resized
# to the output size, a horizontal flip, a rotation by an angle from $\{\pm2°, \pm5°, \pm7°\}$ (the paper's set;
# bilinear `grid_sample`). Colour: either grayscale ($Y = 0.299R + 0.587G + 0.114B$) or a jitter in HLS space,
#
# $$H' = (H + \Delta h) \bmod 1,\qquad L' = \operatorname{clip}(L\cdot f_L),\qquad S' = \operatorname{clip}(S\cdot f_S),$$
#
# with $\Delta h$ drawn from $[-v_h, v_h]$ turns and $f_L$, $f_S$ from $[1 - v, 1 + v]$.
#
# **Each transform happens only with a probability.** The paper lists the transforms but not how often each is
# applied; these are the suite's defaults (`smate_nb.preprocess.augment.AugmentConfig`), read from the code. A
# training clip is flipped with probability `flip_p` and rotated with probability `rotate_p` — so about half the
# clips are *not* rotated, and a "+0°" below is such a clip, not an angle outside the paper's set. Colour: grey with
# probability `gray_p`, otherwise HLS-jittered with probability `jitter_p`. The crop is always drawn. The right
# column checks the probabilities on many draws:

# %%
aug_defaults = augmentation.AugmentConfig(size=224)
draws = augmentation.sample_params(20_000, (256, 256), aug_defaults, torch.Generator().manual_seed(seed))
flip_share = draws.flip.double().mean().item()
rotate_share = (draws.angle != 0).double().mean().item()
gray_share = (draws.colour == 2).double().mean().item()
jitter_share = (draws.colour == 1).double().mean().item()
probabilities = pd.DataFrame([
    {"transform": "random crop + resize", "setting": f"side ∈ {aug_defaults.crop_scale} of the short side",
     "probability": 1.0, "share of 20 000 draws": 1.0},
    {"transform": "horizontal flip", "setting": "flip_p", "probability": aug_defaults.flip_p,
     "share of 20 000 draws": flip_share},
    {"transform": "rotation", "setting": f"rotate_p; angle ±{aug_defaults.angles}°", "probability": aug_defaults.rotate_p,
     "share of 20 000 draws": rotate_share},
    {"transform": "grayscale", "setting": "gray_p", "probability": aug_defaults.gray_p,
     "share of 20 000 draws": gray_share},
    {"transform": "HLS jitter (clips not grey)", "setting": (f"(1 − gray_p)·jitter_p; lightness ±{aug_defaults.lightness}, "
                                                             f"hue ±{aug_defaults.hue}, saturation ±{aug_defaults.saturation}"),
     "probability": (1 - aug_defaults.gray_p) * aug_defaults.jitter_p, "share of 20 000 draws": jitter_share},
])
report.table(probabilities, "augmentation_probabilities",
             caption="How often each training augmentation is applied (AugmentConfig defaults) and the share of draws",
             floatfmt=".3f", meta={"config": aug_defaults.to_dict(), "draws": 20_000, "seed": seed})
probabilities.round(3)

# %% [markdown]
# The draw, one parameter set per clip in a fixed order (so a seed gives the same augmentation on any device),
# `augmentation.sample_params`:

# %%
show_source(augmentation.sample_params)

# %% [markdown]
# and its application — crop, resize, flip and rotation as one bilinear resampling of the stored frame
# (`augmentation.warp`), then colour on the output — `augmentation.apply_params`:

# %%
show_source(augmentation.apply_params)

# %% [markdown]
# Below: the aligned astronaut (256²) under each transform alone (output 224²; rows 1–2), then six random draws of
# the full training pipeline (row 3), each titled with what was drawn for it.

# %%
x0 = torch.from_numpy(still).permute(0, 3, 1, 2)[None].float() / 255     # 1×1×3×256×256
base = augmentation.test_transform(x0, 224, 256)
one = lambda v: torch.tensor([v])  # noqa: E731  (one value for our one clip)
singles = [
    ("test: resize 256 → crop 224", base),
    ("random crop (side 205 of 256)\n+ resize to 224",
     augmentation.resize(augmentation.crop(x0, one(40), one(10), one(205)), 224)),
    ("horizontal flip", augmentation.hflip(base)),
    ("rotate +7°", augmentation.rotate(base, 7.0)),
    ("rotate −5°", augmentation.rotate(base, -5.0)),
    ("rotate +2°", augmentation.rotate(base, 2.0)),
    ("lightness ×0.7", augmentation.adjust_hls(base, lightness=0.7)),
    ("lightness ×1.3", augmentation.adjust_hls(base, lightness=1.3)),
    ("hue +0.05 turn", augmentation.adjust_hls(base, hue=0.05)),
    ("hue −0.05 turn", augmentation.adjust_hls(base, hue=-0.05)),
    ("saturation ×0.6", augmentation.adjust_hls(base, saturation=0.6)),
    ("grayscale", augmentation.grayscale(base)),
]
combined, params = augmentation.augment(x0.expand(6, 1, 3, 256, 256), aug_defaults,
                                        torch.Generator().manual_seed(seed))
colour_names = {0: "colour unchanged", 1: "HLS jitter", 2: "grayscale"}
fig, axes = plt.subplots(3, 6, figsize=(13.5, 8.6))
for a, (name, img) in zip(axes[:2].ravel(), singles):
    a.imshow(to_img(img[0, 0]))
    a.set_title(name, fontsize=9)
for i, (a, img, p) in enumerate(zip(axes[2], combined, params.rows())):
    a.imshow(to_img(img[0]))
    turn = f"rotated {p['angle']:+.0f}°" if p["angle"] else "not rotated"
    a.set_title(f"draw {i + 1}: crop {p['side']} px → 224\n{'flipped' if p['flip'] else 'not flipped'} · {turn}\n"
                f"{colour_names[p['colour']]}", fontsize=8.5)
for a in axes.ravel():
    a.axis("off")
fig.suptitle("Rows 1–2: each transform alone.  Row 3: six random training draws "
             f"(flip p = {aug_defaults.flip_p}, rotation p = {aug_defaults.rotate_p}, grey p = {aug_defaults.gray_p}, "
             f"else jitter p = {aug_defaults.jitter_p})", fontsize=10)
fig.tight_layout()
report.figure(fig, "augmentation_gallery");
pd.DataFrame(params.rows()).round(3)

# %% [markdown]
# **Mixed-token views.** Mixed-token embedding (Eq. 7) averages the tokens of the original clip and of $N$
# augmented views of the *same* clip. `make_views` draws each view's parameters independently; within a view,
# every frame gets the same crop, flip, angle and colour — check the rows below: each row is one view, and its
# frames differ only by the expression.

# %%
r = rows["lab"]
clip_t = torch.from_numpy(r["aligned"]).permute(0, 3, 1, 2)[None]
views = augmentation.make_views(augmentation.resize(clip_t, prof.clip.resize), 3, aug_cfg,
                                torch.Generator().manual_seed(seed + 1))
T = clip_t.shape[1]
idx = np.linspace(0, T - 1, 4).round().astype(int)
fig, axes = plt.subplots(len(views), len(idx), figsize=(1.9 * len(idx), 1.9 * len(views)))
for v in range(len(views)):
    for j, t in enumerate(idx):
        axes[v, j].imshow(to_img(views[v, 0, t]))
        axes[v, j].axis("off")
        if v == 0:
            axes[v, j].set_title(f"t={t}", fontsize=8)
fig.suptitle("3 augmented views (rows) of one SynthFER clip", fontsize=10)
report.figure(fig, "mixed_token_views");
print("views tensor:", tuple(views.shape), "(N × B × T × C × H × W)")

# %% [markdown]
# ## 6 · Local binary patterns (§3.1.3, Eqs. 1–2, Fig. 5)
#
# For a centre pixel $g_c$ and its $P = 8$ neighbours $g_p$ on a circle of radius $R = 1$,
#
# $$\mathrm{LBP}_{P,R} = \sum_{p=0}^{P-1} 2^p\, S(g_p - g_c) \quad (1),\qquad
# S(g_p - g_c) = \begin{cases}1 & g_p - g_c \ge 0\\ 0 & g_p - g_c < 0\end{cases} \quad (2)$$
#
# Bit $p$ belongs to the neighbour at angle $2\pi p/8$ counter-clockwise from east. *Where* exactly the
# diagonal neighbours sit is a choice the paper does not make:
#
# * `variant="skimage"` puts them **on the circle**, at $(\pm0.70711, \pm0.70711)$, bilinearly interpolated —
#   exactly scikit-image's `local_binary_pattern(P=8, R=1)`, bit for bit (checked below and in the tests);
# * `variant="3x3"` takes the **corner pixels** of the 3×3 window, as Fig. 5 draws it — cheaper, and
#   different wherever a corner pixel and the interpolated point fall on opposite sides of $g_c$ (how often is
#   measured below).
#
# The integer variant is Eq. 1 read literally — one comparison per neighbour, its bit weighted by $2^p$
# (`lbp._lbp_3x3`); the comparison itself, Eq. 2, is `lbp._accumulate` ($g_p - g_c \ge 0 \Leftrightarrow g_p \ge
# g_c$ for finite numbers). The scikit-image variant (`lbp._lbp_skimage`) uses the same `_accumulate` on
# interpolated diagonals; its arithmetic follows scikit-image's order so that every bit matches (the module
# docstring of `smate_nb/preprocess/lbp.py` explains why). `lbp.lbp` picks the variant and works in chunks.

# %%
show_source(lbp._lbp_3x3)

# %%
show_source(lbp._accumulate)

# %% [markdown]
# **A worked example where the two variants disagree.** On the aligned astronaut (grey, 224²) both variants are
# computed; among the face pixels where their codes differ, the one nearest the template's left eye is picked —
# found by search, so the example always shows a difference, whatever the input. The axis neighbours (E, N, W,
# S) are the same pixels in both variants; only the four diagonals can change a bit.

# %%
gray224 = lbp.rgb_to_gray(base[0, 0]).mul(255).add(0.5).clamp(0, 255).to(torch.uint8)   # 224×224
lbp_sk = lbp.lbp(gray224, "skimage")
lbp_33 = lbp.lbp(gray224, "3x3")
differ = lbp_sk != lbp_33
crop_offset = (face_cfg.size - 224) // 2                       # the 224 centre crop of the 256² aligned face
eye_x, eye_y = template[0] - crop_offset                       # template's left eye, in 224² pixels
rows_idx, cols_idx = torch.nonzero(differ[1:-1, 1:-1], as_tuple=True)    # interior pixels only
rows_idx, cols_idx = rows_idx + 1, cols_idx + 1
nearest = int(torch.argmin((rows_idx - eye_y) ** 2 + (cols_idx - eye_x) ** 2))
r0, c0 = int(rows_idx[nearest]), int(cols_idx[nearest])
win = gray224[r0 - 1:r0 + 2, c0 - 1:c0 + 2].numpy().astype(int)
gc = win[1, 1]
grey = gray224.numpy().astype(float)
names = ["E", "NE", "N", "NW", "W", "SW", "S", "SE"]
rows_ex = []
for p, (dr, dc) in enumerate(lbp.BIT_OFFSETS):
    g3 = win[1 + dr, 1 + dc]
    if dr and dc:  # scikit-image: bilinear at (r + 0.70711·dr, c + 0.70711·dc), in its arithmetic order
        rr, cc = r0 + dr * 0.70711, c0 + dc * 0.70711
        row0, col0 = int(np.floor(rr)), int(np.floor(cc))
        fr, fc = rr - row0, cc - col0
        top = (1 - fc) * grey[row0, col0] + fc * grey[row0, col0 + 1]
        bottom = (1 - fc) * grey[row0 + 1, col0] + fc * grey[row0 + 1, col0 + 1]
        gsk = (1 - fr) * top + fr * bottom
    else:
        gsk = g3
    rows_ex.append(dict(p=p, neighbour=names[p], weight=2 ** p, g_p_3x3=g3, bit_3x3=int(g3 >= gc),
                        g_p_skimage=round(float(gsk), 2), bit_skimage=int(gsk >= gc),
                        differs="←" if int(g3 >= gc) != int(gsk >= gc) else ""))
ex = pd.DataFrame(rows_ex)
code3 = int((ex.bit_3x3 * ex.weight).sum())
codesk = int((ex.bit_skimage * ex.weight).sum())
assert code3 == int(lbp_33[r0, c0]) and codesk == int(lbp_sk[r0, c0]) and code3 != codesk
print(f"window at row {r0}, column {c0} (g_c = {gc}), "
      f"{np.hypot(r0 - eye_y, c0 - eye_x):.1f} px from the template's left eye:\n{win}\n"
      f"LBP 3x3 = {code3} = {code3:08b}b   LBP skimage = {codesk} = {codesk:08b}b   "
      f"(bits that differ: {', '.join(ex.loc[ex.differs != '', 'neighbour'])})")
ex

# %%
ref = local_binary_pattern(gray224.numpy(), 8, 1, method="default").astype(np.uint8)
mismatch = int((lbp_sk.numpy() != ref).sum())
assert mismatch == 0, f"skimage variant differs from scikit-image on {mismatch} pixels"
bits_differ = torch.bitwise_xor(lbp_sk, lbp_33)
bit_share = {names[p]: ((bits_differ >> p) & 1).double().mean().item() for p in range(8)}

synth_gray = lbp.rgb_to_gray(rows["lab"]["test"][-1]).mul(255).add(0.5).clamp(0, 255).to(torch.uint8)
fig, axes = plt.subplots(2, 4, figsize=(12, 6.6))
for i, (g, name) in enumerate([(gray224, "astronaut, aligned"), (synth_gray, "SynthFER lab, peak frame")]):
    a, b = lbp.lbp(g, "skimage"), lbp.lbp(g, "3x3")
    panels = [(g, "grey input"), (a, "LBP skimage (interpolated)"), (b, "LBP 3×3 (integer)"),
              ((a != b).to(torch.uint8), f"codes differ (white):\n{(a != b).float().mean():.0%} of pixels")]
    for j, (img, title) in enumerate(panels):
        axes[i, j].imshow(img.numpy(), cmap="gray", interpolation="nearest")
        axes[i, j].set_title(f"{name}:\n{title}" if j == 0 else title, fontsize=9)
        axes[i, j].axis("off")
axes[0, 0].add_patch(plt.Rectangle((c0 - 1.5, r0 - 1.5), 3, 3, fill=False, color="red", lw=1.5))
axes[0, 0].annotate("worked example", (c0, r0), xytext=(c0 + 25, r0 - 25), color="red", fontsize=8,
                    arrowprops=dict(arrowstyle="-", color="red"))
fig.tight_layout()
report.figure(fig, "lbp_images");
print(f"skimage variant vs scikit-image on the astronaut crop: {mismatch} mismatched pixels of {ref.size}; "
      f"the 3×3 variant differs on {differ.float().mean():.1%} of pixels. Share of pixels where each bit differs: "
      + ", ".join(f"{k} {v:.1%}" for k, v in bit_share.items()))

# %% [markdown]
# **Does LBP ignore brightness?** The paper calls LBP robust "regardless of brightness changes". Eq. 2 compares
# neighbours with the centre, so any change of brightness that keeps the *order* of grey values keeps the code —
# in exact arithmetic. On 8-bit images the change itself is rounded and clipped, which can create or break ties.
# Here each variant's codes are compared before and after three brightness changes of the grey astronaut:

# %%
as_float = gray224.double()
changes = {"+20 grey levels": lambda g: g + 20, "×0.8 (darker)": lambda g: g * 0.8,
           "×1.5 (brighter)": lambda g: g * 1.5}
invariance = []
for what, change in changes.items():
    exact = change(as_float)
    changed = exact.round().clamp(0, 255).to(torch.uint8)
    invariance.append({"brightness change": what, "pixels clipped at 0 / 255": ((exact < 0) | (exact > 255)).double().mean().item(),
                       **{f"codes unchanged, {v}": (lbp.lbp(changed, v) == lbp.lbp(gray224, v)).double().mean().item()
                          for v in lbp.VARIANTS}})
invariance = pd.DataFrame(invariance)
report.table(invariance, "lbp_brightness", caption="Share of pixels whose LBP code survives a brightness change "
             "(astronaut, aligned, 224², uint8)", floatfmt=".3f")
invariance.round(3)

# %% [markdown]
# **How LBP enters training.** The paper computes LBP images (§3.1.3) and, in Tables 3–4, adds "LBP" as a row
# before augmentation and mixed tokens, but never says how the LBP image reaches the model. The suite's engine
# (`smate_nb.engine.inputs.InputPipeline`, the one input pipeline every study trains with) offers the readings:
#
# * **with mixed tokens** (`PreprocSpec(mix=True, lbp=True)`): the LBP image of the original clip is **one more
#   view** of Eq. 7 — its tokens are averaged with the original's and the augmented views' when $X = 1$;
# * **without mixing**, `PreprocSpec.lbp_mode` decides: `"replace"` — a training clip is **replaced by its LBP
#   image with probability `lbp_prob`** (LBP as an augmentation; evaluation sees the original), or `"input"` — the
#   model **always** sees the LBP image, in training and at test (LBP as the input representation).
#
# Notebook 05 (progressive preprocessing, Tables 3–4) trains the LBP rows with these settings; each stored run
# records which reading it used. The code that decides it, from the pipeline's training path:

# %%
from smate_nb.engine.inputs import InputPipeline
from smate_nb.engine.specs import PreprocSpec

print("PreprocSpec defaults:", {k: getattr(PreprocSpec(), k) for k in ("lbp", "lbp_variant", "lbp_mode", "lbp_prob", "mix")})
show_source(InputPipeline.__call__, start="if pre.mix:")

# %% [markdown]
# ## 7 · Timing
#
# Face preprocessing runs **once per dataset** (its output is cached); augmentation and LBP run **per batch**,
# so their speed matters during training. LBP is timed on 16 frames of 224² on one thread against scikit-image
# called frame by frame. Timings are the best of several runs on this (possibly shared) machine;
# `benchmarks/lbp_speed.py` and `benchmarks/faces_speed.py` measure the same things at more length.

# %%
lbp_rows = lbp.speed_report(n_frames=16, size=224, repeats=scale["lbp_repeats"], seed=seed)

n_bench = scale["bench_clips"]
bench = torch.rand(n_bench, prof.clip.num_frames, 3, prof.clip.resize, prof.clip.resize,
                   generator=torch.Generator().manual_seed(seed))
augmentation.augment(bench, aug_cfg, torch.Generator().manual_seed(0))
t0 = time.perf_counter()
augmentation.augment(bench, aug_cfg, torch.Generator().manual_seed(0))
aug_ms = (time.perf_counter() - t0) * 1e3
t0 = time.perf_counter()
lbp.lbp_image(augmentation.test_transform(bench, prof.clip.crop, prof.clip.resize))
lbp_img_ms = (time.perf_counter() - t0) * 1e3

timing = pd.DataFrame(
    [{"step": f"face pipeline, {r['backend']} σ={r['smooth_sigma']:g} (512² frames)", "ms": r["ms_per_frame"],
      "per": "frame", "speed-up vs scikit-image": np.nan} for r in results.values()]
    + [{"step": f"LBP: {r['method']} (16×224²)", "ms": r["ms_per_frame"], "per": "frame",
        "speed-up vs scikit-image": r["speedup"]} for r in lbp_rows]
    + [{"step": f"augment {n_bench} clips × {prof.clip.num_frames} frames, {prof.clip.resize}²→{prof.clip.crop}²",
        "ms": aug_ms / n_bench, "per": "clip", "speed-up vs scikit-image": np.nan},
       {"step": "test transform + LBP image, same batch", "ms": lbp_img_ms / n_bench, "per": "clip",
        "speed-up vs scikit-image": np.nan}])
report.table(timing, "timing", caption=f"Preprocessing cost on {machine}",
             meta={"profile": prof.name, "machine": machine, "lbp": lbp_rows}, reproduce="timing")
sk_exact = next(r for r in lbp_rows if "'skimage'" in r["method"])
fast = next(r for r in lbp_rows if "'3x3'" in r["method"])
print(f"LBP speed-up vs scikit-image per frame: skimage-exact {sk_exact['speedup']:.1f}× "
      f"({sk_exact['mismatched_pixels']} mismatched pixels), 3×3 {fast['speedup']:.1f}×")
timing.round(3)

# %% [markdown]
# ## Conclusions, beside the paper's claims
#
# Every number below is this run's (profile and machine above); the paper's words are quoted.

# %%
default_run = jitter_df[jitter_df["run"] == "default (σ = 1 frame)"].iloc[0]
raw_run = jitter_df[jitter_df["run"] == "no smoothing (σ = 0)"].iloc[0]
plus20 = invariance[invariance["brightness change"] == "+20 grey levels"].iloc[0]
darker = invariance[invariance["brightness change"] == "×0.8 (darker)"].iloc[0]
face_ms = default_run["ms_per_frame"]
lines = [
    f"**Face alignment (§3.1.1).** *Paper: face alignment \"can efficiently handle pose\"; an affine transform "
    f"aligns the landmarks.* Here a similarity transform (rotation, scale, shift — an affine without shear) undid a "
    f"known head motion of {default_run['motion_rms']:.1f} px RMS to {default_run['error_rms']:.2f} px RMS "
    f"({default_run['backend']}, {n} frames, 256² crop); smoothing the key points over time cut the frame-to-frame "
    f"jitter from {raw_run['jitter_step_rms']:.2f} to {default_run['jitter_step_rms']:.2f} px RMS. In-plane pose "
    "is handled; out-of-plane turns (yaw) are not something any 2-D transform can undo.",
    f"**Augmentation (§3.1.2).** *Paper: crop, resize, horizontal flip, rotation limited to {{2°, 5°, 7°}}, "
    f"grayscale or lightness/hue/saturation jitter; only crop and resize at test.* The suite does exactly these, one "
    f"draw per clip. The paper gives no probabilities; the suite's defaults flip {aug_defaults.flip_p:.0%} and "
    f"rotate {aug_defaults.rotate_p:.0%} of the clips and turns {aug_defaults.gray_p:.0%} grey "
    f"(20 000 draws: {flip_share:.1%}, {rotate_share:.1%}, {gray_share:.1%}).",
    f"**LBP (§3.1.3, Eqs. 1–2).** *Paper: LBP on 3×3 windows (Fig. 5).* \"LBP\" is two different images: the "
    f"interpolated scikit-image variant and the integer 3×3 window disagree on {differ.float().mean():.1%} of the "
    f"astronaut's pixels — only in the diagonal bits — so a result with LBP must name its variant. *Paper: robust "
    f"\"regardless of brightness changes\".* Adding 20 grey levels kept "
    f"{plus20['codes unchanged, 3x3']:.1%} (3×3) / {plus20['codes unchanged, skimage']:.1%} (skimage) of the codes; "
    f"darkening ×0.8 kept {darker['codes unchanged, 3x3']:.1%} / {darker['codes unchanged, skimage']:.1%}: robust "
    "to a shift, less so to a contrast change on 8-bit images, where rounding creates and breaks ties.",
    f"**How LBP is used.** The paper does not say; the suite's engine makes it one more view of Eq. 7 with mixed "
    f"tokens, and otherwise replaces a training clip with probability `lbp_prob` (`lbp_mode=\"replace\"`) or "
    f"feeds it always (`\"input\"`); each run records which (notebook 05 trains Tables 3–4 with them).",
    f"**Cost.** Alignment costs {face_ms:.1f} ms per 512² frame but runs once per dataset; per batch, the "
    f"scikit-image-exact LBP ran {sk_exact['speedup']:.1f}× and the 3×3 one {fast['speedup']:.1f}× faster than "
    f"scikit-image frame by frame, and one augmentation took {aug_ms / n_bench:.1f} ms per clip of "
    f"{prof.clip.num_frames} frames.",
]
if profile == "smoke":
    lines.insert(0, "*Smoke profile: short clips and few repeats — the numbers are right in kind, the cpu "
                    "profile's are the ones to quote.*")
Markdown("\n\n".join(lines))

# %% [markdown]
# Figures and tables of this run are in `reports/<profile>/figures/02_preprocessing__*.png` and
# `reports/<profile>/tables/02_preprocessing__*.csv|md`.
#
# ## Exercises
#
# 1. **Find a window where the two LBP variants differ — and one where they agree.** Change the search above
#    (e.g. the eye it starts from, or ask for the pixel *farthest* from it). Before you look: which of the eight
#    bits can ever differ between the variants, and why can the others not?
# 2. **How often is a clip left alone?** With the default `AugmentConfig`, what share of training clips is
#    neither flipped nor rotated nor changed in colour (the crop is always drawn)? Compute it from `flip_p`,
#    `rotate_p`, `gray_p`, `jitter_p`, then check it on `draws`.
# 3. **Smooth harder.** Align the moving clip with `faces.FaceConfig(backend=backend.name, smooth_sigma=3.0)`
#    (`faces.evaluate_moving_clip(photo, cfg, frames_and_motions=(clip, motions))`). Predict: does the
#    frame-to-frame jitter fall further, and what happens to the error on a head that turns quickly?
# 4. **Brightness, again.** Which brightness change keeps the LBP codes, even on 8-bit images? (Hint: think of a
#    change that maps equal grey values to equal values and keeps their order, with nothing clipped.) Where in the
#    image can a code still change, and why?

# %% jupyter={"source_hidden": true}
# Solutions, computed.
# 1. Only the diagonal bits (NE, NW, SW, SE = bits 1, 3, 5, 7) can differ: the axis neighbours are the same
#    pixels in both variants. Check over the whole image:
print("1. bits that ever differ:", [names[p] for p in range(8) if bool(((bits_differ >> p) & 1).any())])
agree_rows, agree_cols = [v + 1 for v in torch.nonzero(~differ[1:-1, 1:-1], as_tuple=True)]
closest = int(torch.argmin((agree_rows - eye_y) ** 2 + (agree_cols - eye_x) ** 2))
ra, ca = int(agree_rows[closest]), int(agree_cols[closest])
print(f"   the window nearest the left eye where they agree: row {ra}, column {ca}, code {int(lbp_33[ra, ca])} in both")
# 2. Independent draws: P(no flip) · P(no rotation) · P(not grey) · P(no jitter | not grey).
untouched = (1 - aug_defaults.flip_p) * (1 - aug_defaults.rotate_p) * (1 - aug_defaults.gray_p) * (1 - aug_defaults.jitter_p)
seen = float(((~draws.flip) & (draws.angle == 0) & (draws.colour == 0)).double().mean())
print(f"2. expected {untouched:.3f}, measured on {len(draws.flip)} draws {seen:.3f}")
# 3. A wider window averages more landmark noise away but follows a turning head less closely (the local quadratic
#    fit spans more frames); which effect wins depends on the motion — the numbers say which, on this clip.
strong = faces.evaluate_moving_clip(photo, faces.FaceConfig(backend=backend.name, smooth_sigma=3.0),
                                    frames_and_motions=(clip, motions))
print(f"3. σ = 3: jitter step {strong['jitter_step_rms']:.2f} px, error {strong['error_rms']:.2f} px "
      f"(σ = 1: {default_run['jitter_step_rms']:.2f} px, {default_run['error_rms']:.2f} px)")
# 4. Adding a constant that clips nothing (here +k up to 255 − max) keeps every code: order and ties are kept.
# 4. Adding a constant with nothing clipped: every comparison g_p ≥ g_c keeps its answer. The astronaut uses the whole
#    0…255 range, so halve its contrast first (values 0…127), then add 100 grey levels.
#    One more catch: at the image border, pixels outside the image count as 0 — they do not shift with the image,
#    so border codes can change. Inside, nothing does (up to floating-point rounding in the interpolated variant).
half = gray224 // 2
shifted = half + 100
for v in lbp.VARIANTS:
    same_codes = lbp.lbp(shifted, v) == lbp.lbp(half, v)
    print(f"4. {v}: +100 grey levels on a 0…127 image keeps {same_codes.double().mean().item():.2%} of the codes, "
          f"{same_codes[1:-1, 1:-1].double().mean().item():.2%} away from the border")
