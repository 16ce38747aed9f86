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
# SMaTE feeds its video transformer with **aligned face clips**, **augmented views** of them and an
# **LBP texture view** (paper Fig. 3):
#
# ```
# video frames ─► face detection ─► 68 landmarks ─► affine alignment ─► 256² face clip       (§3.1.1)
#                                                                           │
#                                          test: resize 256 → centre-crop 224 │ train: crop/flip/rotate/colour (§3.1.2)
#                                                                           ▼
#                                                       clip views ─► LBP texture images      (§3.1.3, Eqs. 1–2)
# ```
#
# This notebook runs each step on real pixels so you can look at what it does:
#
# 1. **Detection and landmarks** on a real photograph (`skimage.data.astronaut()`, shipped with scikit-image).
# 2. **Alignment** of a clip in which that photo moves by a *known* rotation, zoom and shift per frame — so we
#    can measure how well alignment undoes the motion, and how much the aligned face still jitters.
# 3. A **SynthFER** clip (the suite's built-in synthetic dataset) through the whole pipeline.
# 4. An **augmentation gallery** like the paper's Fig. 4: each transform alone, then combined.
# 5. **LBP images** like Fig. 5, in two variants, and where they differ.
# 6. A **timing table**.
#
# The paper used LFFD for detection and PFL for 68 landmarks. Neither ships offline, so the suite uses dlib's
# HOG detector and its 68-point shape predictor (pip wheels `dlib-bin`, `face-recognition-models`; nothing is
# downloaded at run time) and OpenCV's Haar cascades as a lighter fallback. Code: `smate_nb/preprocess/`
# (`faces.py`, `augment.py`, `lbp.py`).

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
from skimage import data
from skimage.feature import local_binary_pattern

from smate_nb.config import configure_threads, get_profile
from smate_nb.preprocess import augment as A
from smate_nb.preprocess import faces as F
from smate_nb.preprocess import lbp as L
from smate_nb.report import Report

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
backends = F.available_backends()
assert face_backend in backends or face_backend == "auto", (
    f"face backend {face_backend!r} unavailable here (have {backends}); "
    "pip install dlib-bin face-recognition-models, or run with face_backend='haar'")
face_cfg = F.FaceConfig(backend=face_backend)
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
backend = F.get_backend(face_cfg)
obs = F.observe_face(photo, backend, face_cfg.detect_side)
if backend.name == "dlib":
    loose_backend = F.DlibBackend(score_threshold=-0.5)   # permissive: more (and false) candidates
else:
    loose_backend = F.HaarBackend(min_neighbors=1)
obs_loose = F.observe_face(photo, loose_backend, face_cfg.detect_side)


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
ax.legend(loc="lower right", fontsize=8)
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

# %%
still, still_stats = F.align_clip(photo[None], face_cfg, backend=backend, clip_id="astronaut")
A_ref = still_stats.matrices[0]                 # photo → crop
template = F.canonical_keypoints(face_cfg.size, face_cfg.iod, face_cfg.eye_y)
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
axes[1].legend(loc="lower right", fontsize=8)
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
clip, motions = F.moving_clip(photo, n, rotation=10.0, scale=(0.9, 1.1), shift=20.0, cycles=n / 24, seed=seed)
runs = {"no smoothing (σ = 0)": F.FaceConfig(backend=backend.name, smooth_sigma=0.0),
        "default (σ = 1 frame)": F.FaceConfig(backend=backend.name)}
if backend.name == "dlib" and "haar" in backends:
    runs["Haar fallback (σ = 1)"] = F.FaceConfig(backend="haar")
results = {name: F.evaluate_moving_clip(photo, cfg, frames_and_motions=(clip, motions))
           for name, cfg in runs.items()}

cols = ["backend", "smooth_sigma", "error_rms", "error_max", "jitter_rms", "jitter_step_rms", "motion_rms",
        "ms_per_frame", "detect_ms_per_frame", "landmark_ms_per_frame", "warp_ms_per_frame",
        "n_detected", "n_rejected", "n_repicked", "n_filled"]
jitter_df = pd.DataFrame([{"run": k, **{c: r[c] for c in cols}} for k, r in results.items()])
report.table(jitter_df, "alignment_jitter",
             caption=f"Alignment of the moving astronaut clip ({n} frames, 512²): crop pixels at 256², ms per frame",
             meta={"profile": prof.name, "seed": seed, "frames": n, "machine": machine,
                   "configs": {k: c.to_dict() for k, c in runs.items()}})
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
per_frame = {name: [F.alignment_error(r["_stats"].matrices[t:t + 1], motions[t:t + 1], r["_reference"])["error_rms"]
                    for t in range(n)] for name, r in results.items()}
raw = [F.alignment_error(A_ref[None], motions[t:t + 1], A_ref)["error_rms"] for t in range(n)]
fig, ax = plt.subplots(figsize=(7, 3.2))
ax.plot(raw, "k--", label="no alignment (still photo's crop)")
for name, v in per_frame.items():
    ax.plot(v, marker="o", ms=3, label=name)
ax.set_yscale("log")
ax.set_xlabel("frame")
ax.set_ylabel("RMS error, crop px")
ax.legend(fontsize=8)
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
    x0, y0, x1, y1 = F.observe_face(clip[t], backend, face_cfg.detect_side).box.astype(int)
    occluded[t, y0 + 10:y1 - 5, x0:x1] = 30
al_occ, st_occ = F.align_clip(occluded, face_cfg, backend=backend, clip_id="occluded")
err_occ = F.alignment_error(st_occ.matrices, motions, A_ref)
print(st_occ.summary())
print(f"error on the whole clip {err_occ['error_rms']:.2f} px RMS; on the two filled frames "
      f"{F.alignment_error(st_occ.matrices[n // 2:n // 2 + 2], motions[n // 2:n // 2 + 2], A_ref)['error_rms']:.2f} px")
fig, axes = plt.subplots(1, 4, figsize=(9, 2.6))
for a, t in zip(axes, range(n // 2 - 1, n // 2 + 3)):
    a.imshow(al_occ[t])
    a.set_title(f"frame {t}" + (" (filled)" if np.isnan(st_occ.keypoints_raw[t]).all() else ""), fontsize=9)
    a.axis("off")
report.figure(fig, "missing_frames");
try:
    F.align_clip(np.full((3, 96, 96, 3), 90, np.uint8), face_cfg, backend=backend, clip_id="blank clip")
except F.FaceNotFoundError as e:
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
from smate_nb.data import synthfer as S

synth = {}
for variant in ("lab", "wild"):
    cfg_s = S.make_config(variant, subjects=2, seed=seed, image_size=prof.data.image_size)
    labelled = [s for s in S.plan(cfg_s) if s.label]
    spec = next((s for s in labelled if s.label == "happiness"), labelled[0])   # a smile shows the motion
    synth[variant] = (spec, S.render_sequence(cfg_s, spec))

# SynthFER frames are small (64–112 px) and the face fills them: detecting on a 320-px
# upscale finds every face at a third of the cost of the default 640.
synth_face_cfg = F.FaceConfig(backend=backend.name, detect_side=320)
gen = torch.Generator().manual_seed(seed)
aug_cfg = A.AugmentConfig.for_clip(prof.clip.crop)
rows = {}
for variant, (spec, frames) in synth.items():
    al_s, st_s = F.align_clip(frames, synth_face_cfg, clip_id=f"synthfer-{variant} {spec.key}")
    x = torch.from_numpy(al_s).permute(0, 3, 1, 2)[None]          # 1×T×3×256×256 uint8
    test_view = A.test_transform(x, prof.clip.crop, prof.clip.resize)
    aug_view, params = A.augment(A.resize(x, prof.clip.resize), aug_cfg, gen)
    lbp_view = L.lbp_image(test_view, "skimage")
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
# ## 5 · Augmentation gallery (§3.1.2, Fig. 4)
#
# All transforms work on clip tensors $B\times T\times C\times H\times W$ on any device, and draw **one set of
# parameters per clip**, applied identically to all its frames (a face must not jump or change colour from
# frame to frame). Geometry: random square crop (side 0.8–1.0 of the frame), resize, horizontal flip, rotation
# by an angle from $\{\pm2°, \pm5°, \pm7°\}$ (bilinear `grid_sample`). Colour: either grayscale
# ($Y = 0.299R + 0.587G + 0.114B$) or a jitter in HLS space,
#
# $$H' = (H + \Delta h) \bmod 1,\qquad L' = \operatorname{clip}(L\cdot f_L),\qquad S' = \operatorname{clip}(S\cdot f_S),$$
#
# with $\Delta h\in[-0.05, 0.05]$ turns and $f_L\in[0.7,1.3]$, $f_S\in[0.6,1.4]$ by default. At test time only
# resize 256 → centre crop 224 is used. Below: the aligned astronaut (256²) under each transform alone
# (output 224²), then six random draws of the full training pipeline.

# %%
x0 = torch.from_numpy(still).permute(0, 3, 1, 2)[None].float() / 255     # 1×1×3×256×256
base = A.test_transform(x0, 224, 256)
one = lambda v: torch.tensor([v])  # noqa: E731  (one value for our one clip)
singles = [
    ("test: resize 256 → crop 224", base),
    ("random crop 0.8 + resize", A.resize(A.crop(x0, one(40), one(10), one(205)), 224)),
    ("horizontal flip", A.hflip(base)),
    ("rotate +7°", A.rotate(base, 7.0)),
    ("rotate −5°", A.rotate(base, -5.0)),
    ("rotate +2°", A.rotate(base, 2.0)),
    ("lightness ×0.7", A.adjust_hls(base, lightness=0.7)),
    ("lightness ×1.3", A.adjust_hls(base, lightness=1.3)),
    ("hue +0.05", A.adjust_hls(base, hue=0.05)),
    ("hue −0.05", A.adjust_hls(base, hue=-0.05)),
    ("saturation ×0.6", A.adjust_hls(base, saturation=0.6)),
    ("grayscale", A.grayscale(base)),
]
combined, params = A.augment(x0.expand(6, 1, 3, 256, 256), A.AugmentConfig(size=224),
                             torch.Generator().manual_seed(seed))
fig, axes = plt.subplots(3, 6, figsize=(13, 7.2))
for a, (name, img) in zip(axes[:2].ravel(), singles):
    a.imshow(to_img(img[0, 0]))
    a.set_title(name, fontsize=9)
for a, img, p in zip(axes[2], combined, params.rows()):
    a.imshow(to_img(img[0]))
    colour = ["", "HLS jitter", "grayscale"][p["colour"]]
    a.set_title(f"crop {p['side']}{' flip' if p['flip'] else ''} {p['angle']:+.0f}° {colour}", fontsize=8)
for a in axes.ravel():
    a.axis("off")
fig.suptitle("each transform alone (rows 1–2); random training draws (row 3)", fontsize=10)
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
views = A.make_views(A.resize(clip_t, prof.clip.resize), 3, aug_cfg, torch.Generator().manual_seed(seed + 1))
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
# $$\mathrm{LBP}_{P,R} = \sum_{p=0}^{P-1} 2^p\, S(g_p - g_c),\qquad
# S(x) = \begin{cases}1 & x \ge 0\\ 0 & x < 0\end{cases} \qquad (1,\ 2)$$
#
# Bit $p$ belongs to the neighbour at angle $2\pi p/8$ counter-clockwise from east. *Where* exactly the
# diagonal neighbours sit is a choice the paper does not make:
#
# * `variant="skimage"` puts them **on the circle**, at $(\pm0.70711, \pm0.70711)$, bilinearly interpolated —
#   exactly scikit-image's `local_binary_pattern(P=8, R=1)`, bit for bit (checked below and in the tests);
# * `variant="3x3"` takes the **corner pixels** of the 3×3 window, as Fig. 5 draws it — cheaper, and
#   different on a large share of pixels.
#
# A worked example on one 3×3 window of the aligned face:

# %%
gray224 = L.rgb_to_gray(base[0, 0]).mul(255).add(0.5).clamp(0, 255).to(torch.uint8)   # 224×224
r0, c0 = 95, 84                                     # a window near the left eye
win = gray224[r0 - 1:r0 + 2, c0 - 1:c0 + 2].numpy().astype(int)
gc = win[1, 1]
names = ["E", "NE", "N", "NW", "W", "SW", "S", "SE"]
rows_ex = []
for p, (dr, dc) in enumerate(L.BIT_OFFSETS):
    g3 = win[1 + dr, 1 + dc]
    if dr and dc:  # scikit-image: bilinear at (r + 0.70711·dr, c + 0.70711·dc), in its arithmetic order
        rr, cc = r0 + dr * 0.70711, c0 + dc * 0.70711
        R, C = int(np.floor(rr)), int(np.floor(cc))
        fr, fc = rr - R, cc - C
        g = gray224.numpy().astype(float)
        top = (1 - fc) * g[R, C] + fc * g[R, C + 1]
        bottom = (1 - fc) * g[R + 1, C] + fc * g[R + 1, C + 1]
        gsk = (1 - fr) * top + fr * bottom
    else:
        gsk = g3
    rows_ex.append(dict(p=p, neighbour=names[p], weight=2 ** p, g_p_3x3=g3, bit_3x3=int(g3 >= gc),
                        g_p_skimage=round(float(gsk), 2), bit_skimage=int(gsk >= gc)))
ex = pd.DataFrame(rows_ex)
code3 = int((ex.bit_3x3 * ex.weight).sum())
codesk = int((ex.bit_skimage * ex.weight).sum())
assert code3 == int(L.lbp(gray224, "3x3")[r0, c0]) and codesk == int(L.lbp(gray224, "skimage")[r0, c0])
print(f"window (g_c = {gc}):\n{win}\nLBP 3x3 = {code3} = {code3:08b}b   LBP skimage = {codesk} = {codesk:08b}b")
ex

# %%
lbp_sk = L.lbp(gray224, "skimage")
lbp_33 = L.lbp(gray224, "3x3")
ref = local_binary_pattern(gray224.numpy(), 8, 1, method="default").astype(np.uint8)
mismatch = int((lbp_sk.numpy() != ref).sum())
differ = (lbp_sk != lbp_33)
assert mismatch == 0, f"skimage variant differs from scikit-image on {mismatch} pixels"

synth_gray = L.rgb_to_gray(rows["lab"]["test"][-1]).mul(255).add(0.5).clamp(0, 255).to(torch.uint8)
fig, axes = plt.subplots(2, 4, figsize=(12, 6.4))
for i, (g, name) in enumerate([(gray224, "astronaut, aligned"), (synth_gray, "SynthFER lab, peak frame")]):
    a, b = L.lbp(g, "skimage"), L.lbp(g, "3x3")
    panels = [(g, "grey input"), (a, "LBP skimage (interpolated)"), (b, "LBP 3×3 (integer)"),
              ((a != b).to(torch.uint8), f"differ: {(a != b).float().mean():.0%} of pixels")]
    for j, (img, title) in enumerate(panels):
        axes[i, j].imshow(img.numpy(), cmap="gray", interpolation="nearest")
        axes[i, j].set_title(f"{name}: {title}" if j == 0 else title, fontsize=9)
        axes[i, j].axis("off")
report.figure(fig, "lbp_images");
print(f"skimage variant vs scikit-image on the astronaut crop: {mismatch} mismatched pixels of {ref.size}; "
      f"the 3×3 variant differs on {differ.float().mean():.1%} (axis bits agree, diagonals differ)")

# %% [markdown]
# ## 7 · Timing
#
# Face preprocessing runs **once per dataset** (its output is cached); augmentation and LBP run **per batch**,
# so their speed matters during training. The targets for LBP on 16 frames of 224² on one thread:
# the scikit-image-exact variant ≥ 2× faster than calling scikit-image per frame, the 3×3 variant ≥ 15×.
# Timings are the best of several runs on this (possibly shared) machine; `benchmarks/lbp_speed.py` and
# `benchmarks/faces_speed.py` measure the same things at more length.

# %%
lbp_rows = L.speed_report(n_frames=16, size=224, repeats=scale["lbp_repeats"], seed=seed)

B = scale["bench_clips"]
bench = torch.rand(B, prof.clip.num_frames, 3, prof.clip.resize, prof.clip.resize,
                   generator=torch.Generator().manual_seed(seed))
A.augment(bench, aug_cfg, torch.Generator().manual_seed(0))
t0 = time.perf_counter()
A.augment(bench, aug_cfg, torch.Generator().manual_seed(0))
aug_ms = (time.perf_counter() - t0) * 1e3
t0 = time.perf_counter()
L.lbp_image(A.test_transform(bench, prof.clip.crop, prof.clip.resize))
lbp_img_ms = (time.perf_counter() - t0) * 1e3

timing = pd.DataFrame(
    [{"step": f"face pipeline, {r['backend']} σ={r['smooth_sigma']:g} (512² frames)", "ms": r["ms_per_frame"],
      "per": "frame", "speed-up vs scikit-image": np.nan} for r in results.values()]
    + [{"step": f"LBP: {r['method']} (16×224²)", "ms": r["ms_per_frame"], "per": "frame",
        "speed-up vs scikit-image": r["speedup"]} for r in lbp_rows]
    + [{"step": f"augment {B} clips × {prof.clip.num_frames} frames, {prof.clip.resize}²→{prof.clip.crop}²",
        "ms": aug_ms / B, "per": "clip", "speed-up vs scikit-image": np.nan},
       {"step": "test transform + LBP image, same batch", "ms": lbp_img_ms / B, "per": "clip",
        "speed-up vs scikit-image": np.nan}])
report.table(timing, "timing", caption=f"Preprocessing cost on {machine}",
             meta={"profile": prof.name, "machine": machine, "lbp": lbp_rows})
sk_exact = next(r for r in lbp_rows if "'skimage'" in r["method"])
fast = next(r for r in lbp_rows if "'3x3'" in r["method"])
print(f"LBP speed-up vs scikit-image per frame: skimage-exact {sk_exact['speedup']:.1f}× (target ≥ 2×, "
      f"{sk_exact['mismatched_pixels']} mismatched pixels), 3×3 {fast['speedup']:.1f}× (target ≥ 15×)")
timing.round(3)

# %% [markdown]
# ## Summary
#
# * Detection keeps the **best-scoring** box (the largest can be a mission patch); 68 landmarks give five key
#   points; a **similarity transform** maps them onto a symmetric template in a 256² crop.
# * On a photo moved by known transforms, alignment undoes the motion to about a pixel (table
#   `alignment_jitter`); temporal smoothing of the key points removes most of the remaining frame-to-frame jitter;
#   missed frames reuse their neighbours, a clip with no face is an error or a logged skip.
# * Augmentations draw **one parameter set per clip**; rotation angles come from {±2°, ±5°, ±7°}; colour is
#   either grayscale or an HLS jitter; test time is resize 256 → centre crop 224.
# * LBP (Eqs. 1–2) comes in two variants: bit-exact scikit-image (interpolated diagonals) and the integer 3×3
#   window; they differ on a large share of pixels, so a paper's "LBP" needs its variant named.
#
# Figures and tables of this run are in `reports/<profile>/figures/02_preprocessing__*.png` and
# `reports/<profile>/tables/02_preprocessing__*.csv|md`.
