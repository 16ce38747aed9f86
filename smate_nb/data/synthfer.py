"""SynthFER: a licence-free, procedurally generated facial-expression video dataset.

CK+ and AFEW are licensed, so the suite ships a stand-in that is generated on
demand and written to disk **in the real datasets' layouts**, so that the code
path a CK+/AFEW owner uses is the one every test exercises:

* ``lab`` (CK+ stand-in): the 7 CK+ classes, one frontal sequence per class and
  subject, neutral → peak, plain background, mild sensor noise, 10–60 frames::

      <root>/cohn-kanade-images/S001/001/S001_001_00000001.png ...
      <root>/Emotion/S001/001/S001_001_000000NN_emotion.txt      (CK+ code 1..7)

* ``wild`` (AFEW stand-in): the 7 AFEW classes, AFEW's class imbalance, random
  onset/offset (sometimes never reaching the peak), head pose, lighting
  changes, background clutter, talking and blinking, partial occlusion, blur
  and noise; ``.avi`` files (XVID by default, like AFEW; FFV1 lossless on request)::

      <root>/Train/<Emotion>/S001_001.avi    <root>/Val/<Emotion>/S031_001.avi

Faces are vector graphics (OpenCV anti-aliased polygons) over a per-pixel
skin field (ellipsoid shading, eye sockets, identity-fixed two-scale skin
texture, so LBP images carry real texture). Expressions are driven by 16
FACS-like action units (:data:`AUS`) with one recipe per class
(:data:`RECIPES`), per-sample intensity jitter and a per-identity style; every
identity also has a **resting-expression offset** (some neutral faces look
slightly smiling, frowning or sad: the appearance bias of the paper's §2).

Determinism
-----------
The same configuration gives byte-identical frames on any machine. Why that
holds: all randomness comes from NumPy's PCG64 through ``random()`` and
``integers()`` (bit-exact on every platform); geometry and shading use only
IEEE-754 operations that are correctly rounded (``+ - * /``, ``sqrt``,
``floor``) applied element-wise (no BLAS, no float reductions, no ``exp`` /
``sin`` whose last bit varies with the CPU's SIMD level); the few cosines
(rotations, the circle table) are quantised to a 2⁻²⁴ grid so a last-ulp
difference between libms cannot reach the pixels; OpenCV is used only for
integer polygon rasterisation; blur and noise are integer arithmetic. Every
sequence has its own random stream (seeded by ``seed``, variant, subject and
sequence number), so output does not depend on generation order or on the
number of worker processes. ``synthfer.json`` in the dataset root records the
SHA-256 of every sequence's rendered frames (``T×H×W×3`` uint8, C order). Every
file in a dataset folder is a function of the configuration alone, so a checksum
of the folder identifies the data; how long a run took is logged outside it
(:func:`last_run`).

Difficulty knobs
----------------
See :class:`SynthFERConfig` (all documented there): ``identity_variance``,
``peak_intensity``, ``noise``, ``resting_offset``, ``color_fraction``,
``subjects``; wild only: ``pose``, ``lighting``, ``clutter``, ``occlusion``,
``blur``, ``non_peak_fraction``. Defaults were calibrated so that a small
ViViT-FE trained a few CPU minutes lands well between chance and 100 %
(see ``notebooks/09_appendix_data.ipynb`` and ``benchmarks/calibrate_synthfer.py``).
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Sequence

import cv2
import numpy as np

from ..files import atomic_path, write_json, write_text
from .labels import AFEW_CLASSES, AFEW_FOLDER_OF, CKPLUS_CLASSES

__all__ = [
    "GENERATOR_VERSION",
    "AUS",
    "RECIPES",
    "SynthFERConfig",
    "SequenceSpec",
    "make_config",
    "plan",
    "render_sequence",
    "generate",
    "dataset_dirname",
    "frames_sha256",
    "read_record",
    "last_run",
    "describe_identity",
]

#: Bumped whenever rendering or planning changes a single byte of output; part of
#: every dataset folder name and cache key (stale clips must never survive a change).
GENERATOR_VERSION = "1.1.0"

#: The action units SynthFER animates, in the order of an AU vector.
AUS: tuple[str, ...] = (
    "AU1",   # inner brow raiser
    "AU2",   # outer brow raiser
    "AU4",   # brow lowerer
    "AU5",   # upper lid raiser
    "AU6",   # cheek raiser
    "AU7",   # lid tightener
    "AU9",   # nose wrinkler
    "AU10",  # upper lip raiser
    "AU12",  # lip corner puller
    "AU14",  # dimpler (unilateral in contempt)
    "AU15",  # lip corner depressor
    "AU17",  # chin raiser
    "AU20",  # lip stretcher
    "AU23",  # lip tightener
    "AU25",  # lips part
    "AU26",  # jaw drop
)
_A = {name: i for i, name in enumerate(AUS)}

#: Peak AU weights per class (EMFACS-style prototypes; Ekman & Friesen, Lucey et al. 2010).
RECIPES: dict[str, dict[str, float]] = {
    "anger":     {"AU4": 1.0, "AU5": 0.45, "AU7": 0.8, "AU23": 1.0, "AU17": 0.35},
    "contempt":  {"AU14": 1.0, "AU12": 0.35},  # one-sided (see _UNILATERAL)
    "disgust":   {"AU9": 1.0, "AU10": 0.8, "AU15": 0.45, "AU4": 0.45, "AU17": 0.4},
    "fear":      {"AU1": 0.9, "AU2": 0.6, "AU4": 0.55, "AU5": 1.0, "AU20": 1.0, "AU25": 0.7, "AU26": 0.35},
    "happiness": {"AU6": 0.9, "AU12": 1.0, "AU25": 0.45},
    "sadness":   {"AU1": 1.0, "AU4": 0.65, "AU15": 1.0, "AU17": 0.55},
    "surprise":  {"AU1": 1.0, "AU2": 1.0, "AU5": 0.8, "AU25": 0.8, "AU26": 1.0},
    "neutral":   {},
}
_UNILATERAL = {"contempt"}
#: Resting-expression types: the AU vector a "neutral" face of that person shows.
_RESTING = (
    {"AU12": 0.55, "AU6": 0.15},          # looks slightly smiling
    {"AU4": 0.6, "AU7": 0.2},             # looks slightly frowning / angry
    {"AU15": 0.6, "AU1": 0.35},           # looks slightly sad
    {"AU23": 0.5, "AU17": 0.25},          # tight-lipped
    {"AU1": 0.35, "AU2": 0.35, "AU5": 0.25},  # looks slightly surprised
)

# AFEW 7.0 clip counts per class (anger, disgust, fear, happiness, neutral, sadness, surprise),
# used to reproduce AFEW's class imbalance in the wild variant.
_AFEW_COUNTS = {
    "Train": (133, 74, 81, 150, 144, 117, 74),
    "Val": (64, 40, 46, 63, 63, 61, 46),
}

_VARIANT_ID = {"lab": 1, "wild": 2}
_CODECS = {"XVID", "MJPG", "FFV1"}

# Defaults calibrated with benchmarks/calibrate_synthfer.py (vivit_cpu_fe from scratch, 20 epochs on one
# CPU thread; numbers in notebooks/09_appendix_data.ipynb): appearance variety decides how far a small ViViT gets
# (lab top-1, seed 0: identity_variance 0.5 + 25 % colour → 30 %, 0.25 grey → 43 %, 0.1 grey → 57 %;
# three seeds: resting_offset 0.5 / peak 0.6–1.0 → 57, 43, 57 %; resting 0.35 / peak 0.65–1.0 → 70, 41, 57 %).
# Wild (two seeds): 40 and 38 % on the 130 balanced test clips; harsher drafts stayed at chance.
_LAB_DEFAULTS: dict[str, Any] = dict(
    identity_variance=0.1, peak_intensity=(0.65, 1.0), noise=1.5, resting_offset=0.35,
    color_fraction=0.0, frames=(10, 60), unlabelled_per_subject=0.3,
    clips_per_subject=0, val_fraction=0.0, pose=0.0, lighting=0.0, clutter=0.0,
    occlusion=0.0, blur=0.0, non_peak_fraction=0.0, fps=30, codec="png",
)
_WILD_DEFAULTS: dict[str, Any] = dict(
    identity_variance=0.1, peak_intensity=(0.6, 1.0), noise=2.0, resting_offset=0.5,
    color_fraction=1.0, frames=(20, 60), unlabelled_per_subject=0.0,
    clips_per_subject=14, val_fraction=0.35, pose=0.2, lighting=0.3, clutter=0.2,
    occlusion=0.1, blur=0.3, non_peak_fraction=0.15, fps=25, codec="XVID",
)


@dataclass(frozen=True)
class SynthFERConfig:
    """Everything that determines a SynthFER dataset (use :func:`make_config`).

    Attributes:
        variant: ``"lab"`` (CK+ stand-in) or ``"wild"`` (AFEW stand-in).
        subjects: number of identities. Lab: 7 labelled sequences each (one per
            class) plus on average ``unlabelled_per_subject`` unlabelled ones;
            wild: ``clips_per_subject`` clips each.
        seed: generation seed; the same seed gives the same people.
        image_size: square frame side in pixels (any size ≥ 32; 112 by default).
        identity_variance: 0 → everybody has the mean face, 1 → full variety of
            face shape, skin tone, features, hair, glasses and expression style.
            The main difficulty knob: appearance variety decides whether a small
            model learns at all in a few CPU minutes.
        peak_intensity: (low, high) range of the apex expression strength
            (1 = the recipe's full intensity).
        noise: sensor-noise standard deviation in grey levels (0–255 scale).
        resting_offset: strength of the per-identity resting expression (0 = off;
            the appearance-bias study wants > 0).
        color_fraction: fraction of identities recorded in colour (the rest are
            grey, as most of CK+ is).
        frames: (min, max) frames per sequence (lab: CK+-like, skewed to short).
        unlabelled_per_subject: lab only, expected number of extra unlabelled
            sequences per subject (CK+ has 593 sequences, 327 labelled); they are
            written like CK+'s (an empty ``Emotion`` folder) and skipped by the
            manifest builder.
        clips_per_subject: wild only, clips per identity.
        val_fraction: wild only, fraction of identities whose clips go to
            ``Val`` (identities never cross Train/Val, like AFEW's movies).
        pose: wild: scales head motion (roll, scale, translation, yaw). Lab: scales the per-sequence
            placement — the residual variation of aligned faces (one position, scale and in-plane turn per
            sequence, held for all its frames): 0 (the default) keeps the lab's near-fixed placement
            (±1.2 % of the frame, ±1.7°); 1 widens it to ±3.2 % translation and ±9.7 % scale of a face
            0.33 of the frame, and ±5.7° roll.
        lighting: wild only, scales lighting direction/gain changes and colour casts.
        clutter: wild only, scales background clutter and camera pan.
        occlusion: wild only, fraction of clips in which a hand or object covers
            part of the face for part of the clip.
        blur: wild only, scales the chance and strength of defocus blur.
        non_peak_fraction: wild only, fraction of expressive clips whose apex stays
            at 35–60 % of the normal intensity.
        fps: frame rate written into the videos (CK+ 30, AFEW 25).
        codec: lab: ``"png"`` (CK+ frames, lossless). Wild: ``"XVID"`` (MPEG-4 ASP in AVI,
            like AFEW's clips; lossy, ~0.8 KB/frame at 112², PSNR ≈ 34 dB), ``"MJPG"``
            (intra-only JPEG, ~2 KB/frame) or ``"FFV1"`` (lossless, ~19 KB/frame: the
            decoded frames then equal the rendered ones bit for bit on any machine).
    """

    variant: str
    subjects: int
    seed: int
    image_size: int
    identity_variance: float
    peak_intensity: tuple[float, float]
    noise: float
    resting_offset: float
    color_fraction: float
    frames: tuple[int, int]
    unlabelled_per_subject: float
    clips_per_subject: int
    val_fraction: float
    pose: float
    lighting: float
    clutter: float
    occlusion: float
    blur: float
    non_peak_fraction: float
    fps: int
    codec: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable view (tuples become lists)."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}

    def digest(self) -> str:
        """SHA-256 (hex) of the configuration and :data:`GENERATOR_VERSION`.

        A lab configuration with ``pose > 0`` also hashes the rule that renders it: before lab placement jitter
        existed the lab variant ignored ``pose``, so a folder rendered then must not be taken for one now.
        """
        body: dict[str, Any] = {"config": self.to_dict(), "version": GENERATOR_VERSION}
        if self.variant == "lab" and self.pose > 0:
            body["lab_pose"] = "per-sequence placement jitter"
        blob = json.dumps(body, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    @property
    def classes(self) -> tuple[str, ...]:
        """Label names of this variant, in label-index order."""
        return CKPLUS_CLASSES if self.variant == "lab" else AFEW_CLASSES


def make_config(variant: str, *, subjects: int = 24, seed: int = 0, image_size: int = 112,
                **knobs: Any) -> SynthFERConfig:
    """Build and validate a :class:`SynthFERConfig` with the variant's defaults.

    Args:
        variant: ``"lab"`` or ``"wild"``.
        subjects, seed, image_size: see :class:`SynthFERConfig`.
        **knobs: any other :class:`SynthFERConfig` field, overriding the default.

    Raises:
        ValueError: unknown variant, unknown knob, or a value out of range.
    """
    if variant not in _VARIANT_ID:
        raise ValueError(f"SynthFER variant must be 'lab' or 'wild', got {variant!r}")
    base = dict(_LAB_DEFAULTS if variant == "lab" else _WILD_DEFAULTS)
    valid = {f.name for f in fields(SynthFERConfig)} - {"variant", "subjects", "seed", "image_size"}
    unknown = sorted(set(knobs) - valid)
    if unknown:
        raise ValueError(f"unknown SynthFER knob(s) {unknown}; valid knobs: {sorted(valid)}")
    base.update(knobs)
    base["peak_intensity"] = tuple(float(x) for x in base["peak_intensity"])
    base["frames"] = tuple(int(x) for x in base["frames"])
    # canonical types: 0 and 0.0 must give the same configuration digest (and folder)
    for name in ("identity_variance", "noise", "resting_offset", "color_fraction", "unlabelled_per_subject",
                 "val_fraction", "pose", "lighting", "clutter", "occlusion", "blur", "non_peak_fraction"):
        base[name] = float(base[name])
    for name in ("clips_per_subject", "fps"):
        base[name] = int(base[name])
    cfg = SynthFERConfig(variant=variant, subjects=int(subjects), seed=int(seed),
                         image_size=int(image_size), **base)
    _validate(cfg)
    return cfg


def _validate(c: SynthFERConfig) -> None:
    def need(cond: bool, msg: str) -> None:
        if not cond:
            raise ValueError(f"SynthFER config: {msg}")

    need(c.subjects >= 1, f"subjects must be ≥ 1, got {c.subjects}")
    need(c.subjects <= 9999, f"subjects must be ≤ 9999 (CK+ ids Sxxx), got {c.subjects}")
    need(c.image_size >= 32, f"image_size must be ≥ 32 pixels, got {c.image_size}")
    need(c.seed >= 0, f"seed must be ≥ 0, got {c.seed}")
    lo, hi = c.peak_intensity
    need(0 < lo <= hi <= 1.5, f"peak_intensity must satisfy 0 < low ≤ high ≤ 1.5, got {c.peak_intensity}")
    flo, fhi = c.frames
    need(2 <= flo <= fhi <= 10000, f"frames must satisfy 2 ≤ min ≤ max, got {c.frames}")
    for name in ("identity_variance", "color_fraction", "occlusion", "non_peak_fraction"):
        v = getattr(c, name)
        need(0.0 <= v <= 1.0, f"{name} must be in [0, 1], got {v}")
    for name in ("noise", "resting_offset", "pose", "lighting", "clutter", "blur", "unlabelled_per_subject"):
        v = getattr(c, name)
        need(v >= 0.0, f"{name} must be ≥ 0, got {v}")
    need(c.fps >= 1, f"fps must be ≥ 1, got {c.fps}")
    if c.variant == "lab":
        need(c.codec == "png", f"the lab variant is written as PNG frames (codec 'png'), got {c.codec!r}")
    else:
        need(c.codec in _CODECS, f"wild codec must be one of {sorted(_CODECS)}, got {c.codec!r}")
    if c.variant == "wild":
        need(c.clips_per_subject >= 1, f"clips_per_subject must be ≥ 1, got {c.clips_per_subject}")
        need(0.0 < c.val_fraction < 1.0, f"val_fraction must be in (0, 1), got {c.val_fraction}")
        need(c.subjects >= 2, "the wild variant needs ≥ 2 subjects (Train and Val identities)")


def dataset_dirname(cfg: SynthFERConfig) -> str:
    """Folder name of a dataset under the data root, e.g. ``synthfer-lab_s40_112px_seed0_1a2b3c4d``.

    The trailing 8 hex digits are :meth:`SynthFERConfig.digest`, so any change of a knob
    or of :data:`GENERATOR_VERSION` gets a fresh folder.
    """
    return f"synthfer-{cfg.variant}_s{cfg.subjects}_{cfg.image_size}px_seed{cfg.seed}_{cfg.digest()[:8]}"


# ----------------------------------------------------------------------------------------------
# Planning: which sequences exist (subject, number, label, length, split). Pure; no rendering.
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SequenceSpec:
    """One sequence of a SynthFER dataset.

    Attributes:
        subject: 1-based identity number (``S001`` …).
        number: 1-based sequence number within the subject (CK+'s ``nnn``; wild clip number).
        label: class name, or ``None`` for an unlabelled lab sequence.
        n_frames: number of frames.
        split: ``"cv"`` (lab: cross-validation pool), ``"Train"`` or ``"Val"`` (wild).
    """

    subject: int
    number: int
    label: str | None
    n_frames: int
    split: str

    @property
    def subject_id(self) -> str:
        return f"S{self.subject:03d}"

    def relpath(self, variant: str) -> str:
        """Path of the frame folder (lab) or video file (wild), relative to the dataset root."""
        if variant == "lab":
            return f"cohn-kanade-images/{self.subject_id}/{self.number:03d}"
        return f"{self.split}/{AFEW_FOLDER_OF[self.label]}/{self.subject_id}_{self.number:03d}.avi"

    @property
    def key(self) -> str:
        return f"{self.subject_id}_{self.number:03d}"


def _rng(cfg: SynthFERConfig, *words: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([cfg.seed, _VARIANT_ID[cfg.variant], *words]))


def _lab_length(rng: np.random.Generator, lo: int, hi: int) -> int:
    # CK+ lengths are skewed: most sequences 10–30 frames, a tail up to ~60. Integer draws only.
    span = hi - lo
    n = lo + int(rng.integers(0, span // 4 + 1)) + int(rng.integers(0, span // 4 + 1))
    if rng.integers(0, 4) == 0:
        n += int(rng.integers(0, span // 2 + 1))
    return min(max(n, lo), hi)


def _quota(total: int, weights: Sequence[int]) -> list[int]:
    """Largest-remainder apportionment of ``total`` items to integer ``weights`` (exact integers)."""
    wsum = sum(weights)
    base = [total * w // wsum for w in weights]
    rem = [(total * w % wsum, -i) for i, w in enumerate(weights)]
    for _, neg_i in sorted(rem, reverse=True)[: total - sum(base)]:
        base[-neg_i] += 1
    return base


def plan(cfg: SynthFERConfig) -> list[SequenceSpec]:
    """The sequences of a dataset, in a canonical order (subject, then number).

    Depends only on the configuration (its own random stream), never on
    rendering, so manifests can be predicted without generating pixels.
    """
    rng = _rng(cfg, 0, 0, 1)
    specs: list[SequenceSpec] = []
    lo, hi = cfg.frames
    if cfg.variant == "lab":
        for s in range(1, cfg.subjects + 1):
            labels: list[str | None] = list(CKPLUS_CLASSES)
            # expected unlabelled_per_subject extra sequences (integer part + Bernoulli remainder)
            extra = int(cfg.unlabelled_per_subject)
            if rng.random() < cfg.unlabelled_per_subject - extra:
                extra += 1
            labels += [None] * extra
            order = rng.permutation(len(labels))
            for k, j in enumerate(order):
                specs.append(SequenceSpec(s, k + 1, labels[int(j)], _lab_length(rng, lo, hi), "cv"))
        return specs
    # wild: identities split into Train / Val; AFEW's per-split class proportions.
    n_val = min(max(1, round(cfg.subjects * cfg.val_fraction)), cfg.subjects - 1)
    perm = [int(x) + 1 for x in rng.permutation(cfg.subjects)]
    split_of = {s: ("Val" if i < n_val else "Train") for i, s in enumerate(perm)}
    for split in ("Train", "Val"):
        subs = sorted(s for s in split_of if split_of[s] == split)
        n = len(subs) * cfg.clips_per_subject
        labels_w: list[str] = []
        for name, q in zip(AFEW_CLASSES, _quota(n, _AFEW_COUNTS[split])):
            labels_w += [name] * q
        order = rng.permutation(n)
        for i, s in enumerate(subs):
            for k in range(cfg.clips_per_subject):
                lab = labels_w[int(order[i * cfg.clips_per_subject + k])]
                n_frames = int(rng.integers(lo, hi + 1))
                specs.append(SequenceSpec(s, k + 1, lab, n_frames, split))
    specs.sort(key=lambda sp: (sp.subject, sp.number))
    return specs


# ----------------------------------------------------------------------------------------------
# Exact-arithmetic helpers
# ----------------------------------------------------------------------------------------------

_Q = float(1 << 24)


def _qcos(x: float) -> float:
    """cos(x) rounded to a 2⁻²⁴ grid: libm last-ulp differences cannot change the result."""
    return round(math.cos(x) * _Q) / _Q


def _qsin(x: float) -> float:
    return round(math.sin(x) * _Q) / _Q


_NC = 40
_CIRCLE = np.array([[_qcos(2 * math.pi * k / _NC), _qsin(2 * math.pi * k / _NC)] for k in range(_NC)])


def _smooth(x: np.ndarray | float) -> Any:
    """Smoothstep on [0, 1] (clipped): 3x² − 2x³."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return lo + (hi - lo) * float(rng.random())


def _bell(rng: np.random.Generator) -> float:
    """Bell-shaped in [-1, 1] (mean of three uniforms, rescaled); exact arithmetic."""
    return (float(rng.random()) + float(rng.random()) + float(rng.random())) / 1.5 - 1.0


class _Track:
    """A smooth random scalar track: key values every ``step`` frames, smoothstep in between."""

    def __init__(self, rng: np.random.Generator, n: int, step: int, lo: float, hi: float):
        k = n // step + 2
        self.keys = [lo + (hi - lo) * float(rng.random()) for _ in range(k)]
        self.step = step

    def __call__(self, t: int) -> float:
        i, r = divmod(t, self.step)
        f = float(_smooth(r / self.step))
        return self.keys[i] + (self.keys[i + 1] - self.keys[i]) * f


# ----------------------------------------------------------------------------------------------
# Identities and scenes
# ----------------------------------------------------------------------------------------------

_SKIN = np.array([  # RGB albedos, light → dark
    [236, 202, 180], [226, 184, 152], [205, 160, 125], [176, 128, 94], [140, 96, 66], [98, 66, 46],
], dtype=np.float64)
_HAIR = np.array([
    [30, 24, 20], [70, 48, 32], [110, 78, 48], [170, 130, 80], [200, 170, 120], [130, 60, 30], [150, 150, 150],
], dtype=np.float64)
_IRIS = np.array([[70, 45, 30], [40, 30, 25], [70, 100, 140], [80, 110, 70], [100, 100, 100]], dtype=np.float64)
_CLOTH = np.array([
    [40, 60, 120], [150, 40, 40], [60, 110, 60], [200, 200, 200], [40, 40, 40], [190, 150, 60], [110, 80, 140],
], dtype=np.float64)


@dataclass
class _Identity:
    face_w: float
    face_ht: float
    face_hb: float
    jaw: float
    skin: np.ndarray
    eye_y: float
    eye_x: float
    eye_w: float
    eye_h: float
    iris: np.ndarray
    brow_gap: float
    brow_w: float
    brow_arch: float
    nose_y: float
    nose_w: float
    mouth_y: float
    mouth_w: float
    lip_u: float
    lip_l: float
    lip_col: np.ndarray
    hair_col: np.ndarray
    hair_style: int       # 0 short, 1 long, 2 fringe, 3 shaved
    hairline: float
    glasses: bool
    beard: int            # 0 none, 1 moustache, 2 beard
    cloth: np.ndarray
    tex_amp: float
    tex_coarse: np.ndarray
    tex_fine: np.ndarray
    moles: list[tuple[float, float, float]]
    wrinkle: float
    style: np.ndarray     # per-AU expressiveness multipliers
    resting: np.ndarray   # resting-expression AU vector
    color: bool
    light: tuple[float, float]


def _sample_identity(cfg: SynthFERConfig, subject: int) -> _Identity:
    """One person. Drawn from its own stream: the same subject number and seed give the same
    person in the lab and wild variants (with each variant's ``identity_variance``)."""
    rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, 0, subject, 0]))
    v = cfg.identity_variance

    def g(spread: float) -> float:
        return v * spread * _bell(rng)

    # Draws happen in a fixed order whatever the knobs, so knobs change values, not streams.
    tone = float(rng.random())
    skin_idx = 2.0 + v * (tone * 5.0 - 2.0)  # v=0 → one mid tone; v=1 → all six
    i0 = int(math.floor(skin_idx))
    i1 = min(i0 + 1, len(_SKIN) - 1)
    fr = skin_idx - i0
    skin = _SKIN[i0] * (1 - fr) + _SKIN[i1] * fr
    skin = skin * (1.0 + g(0.05)) + np.array([g(6.0), g(4.0), g(6.0)])
    hair_pick = int(rng.integers(0, len(_HAIR)))
    style_pick = int(rng.integers(0, 4))
    iris_pick = int(rng.integers(0, len(_IRIS)))
    cloth_pick = int(rng.integers(0, len(_CLOTH)))
    glasses_u = float(rng.random())
    beard_u = float(rng.random())
    color_u = float(rng.random())
    style = np.array([1.0 + g(0.35) for _ in AUS])
    rest_kind = int(rng.integers(0, len(_RESTING)))
    rest_mag = float(rng.random())
    rest_on = float(rng.random())
    resting = np.zeros(len(AUS))
    if rest_on < 0.7:  # 70 % of people have a visible resting expression
        for au, w in _RESTING[rest_kind].items():
            resting[_A[au]] = w * cfg.resting_offset * (0.4 + 0.6 * rest_mag)
    moles = [(g(0.7), 0.2 + g(0.6), 0.015 + 0.015 * float(rng.random())) for _ in range(int(rng.integers(0, 4)))]
    ident = _Identity(
        face_w=1.0 + g(0.08),
        face_ht=1.30 + g(0.10),
        face_hb=1.22 + g(0.10),
        jaw=0.70 + g(0.14),
        skin=skin,
        eye_y=-0.08 + g(0.05),
        eye_x=0.40 + g(0.05),
        eye_w=0.19 + g(0.03),
        eye_h=0.085 + g(0.018),
        iris=_IRIS[iris_pick] if v > 0 else _IRIS[0],
        brow_gap=0.21 + g(0.04),
        brow_w=0.060 + g(0.022),
        brow_arch=0.04 + g(0.03),
        nose_y=0.38 + g(0.06),
        nose_w=0.16 + g(0.035),
        mouth_y=0.72 + g(0.06),
        mouth_w=0.33 + g(0.05),
        lip_u=0.05 + g(0.02),
        lip_l=0.07 + g(0.025),
        lip_col=np.array([125.0, 55.0, 60.0]) * (1.0 + g(0.15)),
        hair_col=_HAIR[hair_pick] if v > 0 else _HAIR[1],
        hair_style=style_pick if v > 0 else 0,
        hairline=-0.88 + g(0.12),
        glasses=glasses_u < 0.25 * v,
        beard=(1 if beard_u < 0.10 * v else 2 if beard_u < 0.18 * v else 0),
        cloth=_CLOTH[cloth_pick] if v > 0 else _CLOTH[0],
        tex_amp=5.0 + 3.0 * g(1.0),
        tex_coarse=rng.random((10, 10)).astype(np.float32) - np.float32(0.5),
        tex_fine=rng.random((56, 56)).astype(np.float32) - np.float32(0.5),
        moles=moles,
        wrinkle=0.5 + g(0.4),
        style=style,
        resting=resting,
        color=color_u < cfg.color_fraction,
        light=(0.35 * _bell(rng), -0.25 + 0.2 * _bell(rng)),
    )
    return ident


_RESTING_NAMES = ("smiling", "frowning", "sad", "tight-lipped", "surprised")
_HAIR_STYLES = ("short", "long", "fringe", "shaved")


def describe_identity(cfg: SynthFERConfig, subject: int) -> dict[str, Any]:
    """A readable summary of one SynthFER person (for notebooks and debugging).

    Returns a dict: ``subject``, ``colour`` (recorded in colour or grey), ``skin_rgb``,
    ``hair`` style, ``glasses``, ``facial_hair``, ``resting`` (the look of the person's
    neutral face: ``"none"`` or smiling / frowning / sad / tight-lipped / surprised) and
    ``resting_strength`` (largest AU of the resting offset, 0–1).
    """
    ident = _sample_identity(cfg, subject)
    strength = float(ident.resting.max())
    kind = "none"
    if strength > 0:
        best = max(range(len(_RESTING)), key=lambda k: sum(
            ident.resting[_A[au]] * w for au, w in _RESTING[k].items()) / sum(w * w for w in _RESTING[k].values()))
        kind = _RESTING_NAMES[best]
    return {"subject": f"S{subject:03d}", "colour": ident.color, "skin_rgb": [int(round(x)) for x in ident.skin],
            "hair": _HAIR_STYLES[ident.hair_style], "glasses": ident.glasses,
            "facial_hair": ("none", "moustache", "beard")[ident.beard], "resting": kind,
            "resting_strength": round(strength, 3)}


@dataclass
class _Pose:
    cx: float
    cy: float
    s: float      # pixels per face unit
    c: float      # cos(roll)
    sn: float     # sin(roll)
    yaw: float    # horizontal shift of deep points, face units

    def px(self, u: Any, v: Any, depth: float = 0.0) -> np.ndarray:
        """Face units → pixel coordinates: (N, 2) float64 (element-wise, exact IEEE ops)."""
        u = np.asarray(u, dtype=np.float64)
        v = np.asarray(v, dtype=np.float64)
        if depth and self.yaw:
            u = u + self.yaw * depth
        out = np.empty(u.shape + (2,))
        out[..., 0] = self.cx + self.s * (self.c * u - self.sn * v)
        out[..., 1] = self.cy + self.s * (self.sn * u + self.c * v)
        return out


@dataclass
class _FrameState:
    au: np.ndarray
    side: int          # +1: unilateral AUs act on the image-right side, −1: image-left, 0: both
    pose: _Pose
    blink: float       # 0 open … 1 closed
    talk: float        # extra mouth opening (0..1)
    gaze: float        # horizontal iris offset (eye widths)
    gain: float        # global light gain
    light: tuple[float, float]
    pan: tuple[int, int]
    occluder: tuple[float, float, float] | None  # (x, y, scale) in pixels, or None


# ----------------------------------------------------------------------------------------------
# Raster primitives (OpenCV integer rasterisation + float32 element-wise compositing)
# ----------------------------------------------------------------------------------------------

class _Canvas:
    """A float32 RGB image with anti-aliased polygon compositing and a darkening ("shade") layer.

    Opaque parts (eyes, lips, hair) are composited one by one inside their bounding box.
    Creases, wrinkles and outlines are drawn into a single uint8 shade mask (value =
    opacity) and applied in one multiplication, which keeps the skin texture under them
    and costs one pass instead of one per line.
    """

    def __init__(self, img: np.ndarray):
        self.img = img
        self.h, self.w = img.shape[:2]
        self.lw = max(1, int(round(self.w / 112.0)))
        self.shade = np.zeros((self.h, self.w), np.uint8)

    def roi(self, pts: np.ndarray, pad: int = 2) -> tuple[int, int, int, int] | None:
        lo = np.floor(pts.min(axis=0))
        hi = np.ceil(pts.max(axis=0))
        x0, y0 = max(int(lo[0]) - pad, 0), max(int(lo[1]) - pad, 0)
        x1, y1 = min(int(hi[0]) + pad + 1, self.w), min(int(hi[1]) + pad + 1, self.h)
        if x1 <= x0 or y1 <= y0:
            return None
        return y0, y1, x0, x1

    @staticmethod
    def _fixed(pts: np.ndarray, x0: int = 0, y0: int = 0) -> np.ndarray:
        # 4 fractional bits (shift=4): sub-pixel positions, integer rasterisation
        q = np.rint((pts - np.array([x0, y0], dtype=np.float64)) * 16.0)
        return q.astype(np.int32).reshape(-1, 1, 2)

    def mask(self, polys: Sequence[np.ndarray], roi: tuple[int, int, int, int]) -> np.ndarray:
        y0, y1, x0, x1 = roi
        m = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillPoly(m, [self._fixed(p, x0, y0) for p in polys], 255, lineType=cv2.LINE_AA, shift=4)
        return m

    def fill(self, pts: np.ndarray, color: Any, alpha: float = 1.0) -> None:
        """Composite polygon ``pts`` (pixels) in ``color`` (RGB or per-pixel field) at ``alpha``."""
        r = self.roi(pts)
        if r is None or alpha <= 0:
            return
        self.blend(self.mask([pts], r), r, color, alpha)

    def blend(self, m: np.ndarray, roi: tuple[int, int, int, int], color: Any, alpha: float) -> None:
        y0, y1, x0, x1 = roi
        a = m.astype(np.float32) * np.float32(alpha / 255.0)
        sub = self.img[y0:y1, x0:x1]
        sub += (np.asarray(color, dtype=np.float32) - sub) * a[..., None]

    def dark(self, pts: np.ndarray, alpha: float, thickness: int | None = None, closed: bool = False) -> None:
        """A darkening stroke (crease, wrinkle, outline) into the shade layer."""
        if alpha <= 0:
            return
        v = int(round(255.0 * min(alpha, 1.0)))
        cv2.polylines(self.shade, [self._fixed(pts)], closed, v, thickness or self.lw, cv2.LINE_AA, 4)

    def dark_fill(self, pts: np.ndarray, alpha: float) -> None:
        if alpha <= 0:
            return
        v = int(round(255.0 * min(alpha, 1.0)))
        cv2.fillPoly(self.shade, [self._fixed(pts)], v, lineType=cv2.LINE_AA, shift=4)

    def apply_shade(self, strength: float = 0.55) -> None:
        """Darken the image by ``strength × shade`` and clear the shade layer."""
        rows = np.flatnonzero(self.shade.any(axis=1))
        if rows.size == 0:
            return
        cols = np.flatnonzero(self.shade.any(axis=0))
        y0, y1, x0, x1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
        m = self.shade[y0:y1, x0:x1].astype(np.float32) * np.float32(strength / 255.0)
        self.img[y0:y1, x0:x1] *= (np.float32(1.0) - m)[..., None]
        self.shade[y0:y1, x0:x1] = 0


def _band(pts: np.ndarray, half: Any) -> np.ndarray:
    """Polygon of a stroke of half-width ``half`` (pixels; scalar or per point) around polyline ``pts``."""
    d = np.empty_like(pts)
    d[1:-1] = pts[2:] - pts[:-2]
    d[0] = pts[1] - pts[0]
    d[-1] = pts[-1] - pts[-2]
    ln = np.sqrt(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1]) + 1e-9
    nrm = np.empty_like(pts)
    nrm[:, 0] = -d[:, 1] / ln
    nrm[:, 1] = d[:, 0] / ln
    h = np.asarray(half, dtype=np.float64).reshape(-1, 1)
    return np.concatenate([pts + nrm * h, (pts - nrm * h)[::-1]], axis=0)


_BZ: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}


def _bezier(p0: Sequence[float], p1: Sequence[float], p2: Sequence[float], n: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """Quadratic Bézier in face units; returns (u, v) arrays of ``n`` points."""
    if n not in _BZ:
        t = np.linspace(0.0, 1.0, n)
        _BZ[n] = ((1 - t) * (1 - t), 2 * (1 - t) * t, t * t)
    a, b, c = _BZ[n]
    return a * p0[0] + b * p1[0] + c * p2[0], a * p0[1] + b * p1[1] + c * p2[1]


def _bilinear(lat: np.ndarray, gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """Bilinear lookup of lattice ``lat`` at float grid coordinates (clamped); exact float32 ops."""
    n = lat.shape[0]
    gx = np.clip(gx, 0.0, n - 1.0001)
    gy = np.clip(gy, 0.0, n - 1.0001)
    ix = np.floor(gx)
    iy = np.floor(gy)
    fx = gx - ix
    fy = gy - iy
    ix = ix.astype(np.intp)
    iy = iy.astype(np.intp)
    top = lat[iy, ix] * (1 - fx) + lat[iy, ix + 1] * fx
    bot = lat[iy + 1, ix] * (1 - fx) + lat[iy + 1, ix + 1] * fx
    return top * (1 - fy) + bot * fy


def _blur_u8(img: np.ndarray, passes: int) -> np.ndarray:
    """Separable binomial [1 2 1]/4 blur, ``passes`` times, in integer arithmetic (bit-exact)."""
    if passes <= 0:
        return img
    x = img.astype(np.uint16)
    for _ in range(passes):
        p = np.pad(x, ((1, 1), (1, 1), (0, 0)), mode="edge")
        v = p[:-2] + 2 * p[1:-1] + p[2:]
        x = (v[:, :-2] + 2 * v[:, 1:-1] + v[:, 2:] + 8) >> 4
    return x.astype(np.uint8)


def _noise(rng: np.random.Generator, shape: tuple[int, ...], sigma: float) -> np.ndarray | None:
    """Integer, roughly Gaussian noise (sum of three uniforms) with standard deviation ≈ ``sigma``."""
    if sigma <= 0:
        return None
    k = max(1, int(round(sigma)))  # var(U{-k..k}) = k(k+1)/3, so three of them ≈ k(k+1)
    n = (rng.integers(-k, k + 1, shape, dtype=np.int16) + rng.integers(-k, k + 1, shape, dtype=np.int16)
         + rng.integers(-k, k + 1, shape, dtype=np.int16))
    scale = sigma / math.sqrt(k * (k + 1))
    if abs(scale - 1.0) < 0.1:
        return n
    return np.rint(n.astype(np.float32) * np.float32(scale)).astype(np.int16)


# ----------------------------------------------------------------------------------------------
# Rendering one frame
# ----------------------------------------------------------------------------------------------

def _face_coords(p: _Pose, roi: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Face-unit coordinates (u, v), float32 2-D, of the pixels of ``roi`` (inverse pose)."""
    y0, y1, x0, x1 = roi
    xs = np.arange(x0, x1, dtype=np.float32)[None, :] - np.float32(p.cx)
    ys = np.arange(y0, y1, dtype=np.float32)[:, None] - np.float32(p.cy)
    inv = np.float32(1.0 / p.s)
    c, s = np.float32(p.c), np.float32(p.sn)
    u = (c * xs + s * ys) * inv - np.float32(p.yaw * 0.3)
    v = (c * ys - s * xs) * inv
    return u, v


def _bump(u: np.ndarray, v: np.ndarray, cu: float, cv_: float, ru: float, rv: float) -> np.ndarray:
    """(1 − d²)² bump of radii (ru, rv) at (cu, cv_): a smooth blob without exp()."""
    du = (u - np.float32(cu)) * np.float32(1.0 / ru)
    dv = (v - np.float32(cv_)) * np.float32(1.0 / rv)
    b = np.maximum(np.float32(1.0) - du * du - dv * dv, np.float32(0.0))
    return b * b


def _skin_base(ident: _Identity, p: _Pose, light: tuple[float, float], roi: tuple[int, int, int, int]
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Skin colour over ``roi`` at gain 1 without expression shading: (field H×W×3, u, v).

    Ellipsoid shading from ``light``, darker eye sockets and nose sides, an identity-fixed
    two-scale texture (moves with the face, so LBP sees real, stable texture) and moles.
    """
    u, v = _face_coords(p, roi)
    un = u / np.float32(ident.face_w)
    vn = (v + np.float32(0.1)) / np.float32(ident.face_ht)
    r2 = np.minimum(un * un + vn * vn, np.float32(1.0))
    nz = np.sqrt(np.float32(1.0) - r2)
    lx, ly = light
    lam = np.float32(0.55) + np.float32(0.45) * np.maximum(
        np.float32(lx) * un + np.float32(ly) * vn + np.float32(0.85) * nz, np.float32(0.0))
    for sx in (-1.0, 1.0):
        lam = lam - np.float32(0.10) * _bump(u, v, sx * ident.eye_x, ident.eye_y - 0.02, 0.30, 0.20)
        lam = lam - np.float32(0.07 + 0.05 * sx * lx) * _bump(u, v, sx * ident.nose_w * 0.9, ident.nose_y * 0.6,
                                                              0.10, 0.32)
    k = np.float32(ident.tex_coarse.shape[0] - 1) / np.float32(3.0)
    tex = _bilinear(ident.tex_coarse, (u + np.float32(1.5)) * k, (v + np.float32(1.5)) * k)
    k2 = np.float32(ident.tex_fine.shape[0] - 1) / np.float32(3.0)
    tex = np.float32(0.6) * tex + _bilinear(ident.tex_fine, (u + np.float32(1.5)) * k2, (v + np.float32(1.5)) * k2)
    field = lam[..., None] * ident.skin.astype(np.float32) + (np.float32(ident.tex_amp) * tex)[..., None]
    for mu, mv, mr in ident.moles:
        field = field * (np.float32(1.0) - np.float32(0.35) * _bump(u, v, mu, mv, mr, mr))[..., None]
    return field, u, v


def _mouth(ident: _Identity, st: _FrameState) -> dict[str, Any]:
    """Mouth geometry in face units from the AU state."""
    a = st.au
    mw = ident.mouth_w * (1.0 - 0.12 * a[_A["AU23"]] + 0.10 * a[_A["AU20"]] - 0.05 * a[_A["AU17"]])
    my = ident.mouth_y + 0.05 * a[_A["AU26"]] - 0.02 * a[_A["AU10"]]
    corner = []
    for side in (-1, 1):
        # side == 0: symmetric; otherwise AU12/AU14 act on one corner only (contempt)
        one = 1.0 if (st.side == 0 or st.side == side) else 0.0
        a12 = a[_A["AU12"]] * (one if st.side else 1.0)
        a14 = a[_A["AU14"]] * one
        dx = 0.11 * a12 + 0.08 * a14 + 0.08 * a[_A["AU20"]] - 0.02 * a[_A["AU15"]]
        dy = -0.17 * a12 - 0.06 * a14 + 0.16 * a[_A["AU15"]] + 0.03 * a[_A["AU20"]] - 0.02 * a[_A["AU10"]]
        corner.append((side * (mw + dx), my + dy))
    gap = (0.04 * a[_A["AU25"]] + 0.28 * a[_A["AU26"]] + 0.10 * st.talk
           + 0.03 * a[_A["AU10"]] + 0.02 * a[_A["AU20"]])
    thin = max(0.15, 1.0 - 0.6 * a[_A["AU23"]] - 0.25 * a[_A["AU20"]])
    return {"my": my, "corners": corner, "gap": float(gap), "lip_u": ident.lip_u * thin,
            "lip_l": ident.lip_l * (thin + 0.25 * a[_A["AU17"]]), "raise": 0.05 * a[_A["AU10"]],
            "push": 0.03 * a[_A["AU17"]]}


_INK = np.array([22.0, 18.0, 18.0])


def _underlay(ident: _Identity, st: _FrameState, bg: np.ndarray) -> np.ndarray:
    """Background, shoulders, neck, long hair and ears: the parts behind the face."""
    img = bg.copy()
    cv = _Canvas(img)
    P = st.pose.px
    skin = ident.skin * st.gain
    cu, cvv = _CIRCLE[:, 0], _CIRCLE[:, 1]
    sh = np.array([[-2.6, 3.3], [-2.2, 2.0], [-0.5, 1.65], [0.5, 1.65], [2.2, 2.0], [2.6, 3.3]])
    cv.fill(P(sh[:, 0], sh[:, 1]), ident.cloth * st.gain)
    nk = np.array([[-0.42, 0.6], [0.42, 0.6], [0.46, 1.8], [-0.46, 1.8]])
    cv.fill(P(nk[:, 0], nk[:, 1]), skin * 0.78)
    if ident.hair_style == 1:  # long hair falls behind the head
        v = np.where(cvv < 0, cvv * 1.50, cvv * 1.70) - 0.1
        cv.fill(P(cu * 1.25, v), ident.hair_col * (0.7 + 0.15 * st.gain))
    for sx in (-1.0, 1.0):
        cv.fill(P(sx * (ident.face_w * 0.97) + cu * 0.11, ident.eye_y + 0.13 + cvv * 0.21), skin * 0.82)
    return img


# circle-table indices of the upper half (v < 0), ordered west → north → east
_TOP = np.array([k for k in range(_NC // 2, _NC)] + [0])


def _render(ident: _Identity, st: _FrameState, bg: np.ndarray, size: int, cache: dict[str, Any] | None) -> np.ndarray:
    """One frame as float32 H×W×3 (0..255 scale, RGB), before blur/noise/quantisation.

    ``cache`` (lab: the head does not move within a sequence) keeps the underlay and the
    skin field between frames; ``None`` renders everything afresh (wild).
    """
    p = st.pose
    P = p.px
    a = st.au
    if cache is not None and "under" in cache:
        img = cache["under"].copy()
    else:
        img = _underlay(ident, st, bg)
        if cache is not None:
            cache["under"] = img.copy()
    cv = _Canvas(img)
    skin = ident.skin * st.gain
    cu, cvv = _CIRCLE[:, 0], _CIRCLE[:, 1]
    hb = ident.face_hb + 0.10 * a[_A["AU26"]] + 0.04 * st.talk   # the chin drops with the jaw

    # --- face: contour mask filled with the skin field -----------------------------------
    fu = np.where(cvv > 0, cu * ident.face_w * (1.0 - (1.0 - ident.jaw) * cvv * cvv), cu * ident.face_w)
    fv = np.where(cvv > 0, cvv * hb, cvv * ident.face_ht)
    face = P(fu, fv)
    froi = cv.roi(face)
    if froi is not None:
        if cache is not None:
            if "field" not in cache:
                full = (0, size, 0, size)
                cache["field"] = _skin_base(ident, p, st.light, full)
            f_all, u_all, v_all = cache["field"]
            y0, y1, x0, x1 = froi
            field, u, v = f_all[y0:y1, x0:x1], u_all[y0:y1, x0:x1], v_all[y0:y1, x0:x1]
        else:
            field, u, v = _skin_base(ident, p, st.light, froi)
        a6 = float(a[_A["AU6"]] + 0.5 * a[_A["AU12"]])
        if a6 > 0.02 or st.gain != 1.0:
            lift = np.zeros(u.shape, np.float32)
            for sx in (-1.0, 1.0):  # cheek raiser: lifted, brighter cheeks
                lift += _bump(u, v, sx * (ident.eye_x + 0.05), ident.eye_y + 0.30 - 0.06 * a6, 0.26, 0.16)
            field = (field + (np.float32(0.12 * a6) * lift)[..., None] * ident.skin.astype(np.float32))
            field = field * np.float32(st.gain)
        cv.blend(cv.mask([face], froi), froi, field, 1.0)

    wr = ident.wrinkle
    # --- creases into the shade layer ------------------------------------------------------
    fa = float(a[_A["AU1"]] * 0.7 + a[_A["AU2"]] * 0.5)
    if fa > 0.05:  # forehead wrinkles
        for k in range(3):
            yy = ident.eye_y - ident.brow_gap - 0.16 - 0.10 * k
            cv.dark(P(*_bezier((-0.42, yy + 0.02), (0.0, yy - 0.05 * a[_A["AU1"]]), (0.42, yy + 0.02))),
                    fa * wr * (0.8 - 0.15 * k))
    if a[_A["AU4"]] > 0.05:  # glabella lines
        for sx in (-1.0, 1.0):
            by = ident.eye_y - ident.brow_gap
            cv.dark(P([sx * 0.06, sx * 0.08], [by + 0.02, by - 0.16]), a[_A["AU4"]] * (0.6 + 0.4 * wr))
    a9 = float(a[_A["AU9"]])
    ny = ident.nose_y - 0.05 * a9
    nw = ident.nose_w * (1.0 + 0.15 * a9)
    for sx in (-1.0, 1.0):  # nose sides, wings, nostrils
        cv.dark(P(*_bezier((sx * 0.05, ident.eye_y + 0.08), (sx * nw * 0.7, ny - 0.15), (sx * nw, ny - 0.02)),
                  depth=0.6), 0.30)
        cv.dark(P(*_bezier((sx * nw, ny - 0.04), (sx * (nw + 0.03), ny + 0.05), (sx * 0.35 * nw, ny + 0.06)),
                  depth=0.8), 0.65)
        cv.dark_fill(P(sx * 0.42 * nw + cu * 0.045, ny + 0.035 + cvv * 0.022, depth=0.9), 0.9)
    if a9 > 0.08:  # nose wrinkles
        for k in range(3):
            yy = ident.eye_y + 0.06 + 0.045 * k
            cv.dark(P([-0.09, -0.03, 0.03, 0.09], [yy + 0.01, yy - 0.01, yy - 0.01, yy + 0.01], depth=0.5),
                    a9 * (0.6 + 0.4 * wr))
    mth = _mouth(ident, st)
    fold = float(0.15 * wr + 0.6 * a[_A["AU12"]] + 0.55 * a9 + 0.4 * a[_A["AU10"]] + 0.3 * a[_A["AU6"]])
    for i, sx in enumerate((-1.0, 1.0)):  # nasolabial folds follow the mouth corners
        cx_, cy_ = mth["corners"][i]
        cv.dark(P(*_bezier((sx * (nw + 0.02), ny - 0.03), (sx * (nw + 0.14 + 0.05 * fold), ny + 0.12),
                           (cx_ + sx * 0.07, cy_ + 0.06))), fold)
        if a[_A["AU14"]] > 0.05 and st.side == sx:  # dimple at the active corner (contempt)
            cv.dark(P([cx_ + sx * 0.03, cx_ + sx * 0.065, cx_ + sx * 0.05], [cy_ - 0.06, cy_, cy_ + 0.06]),
                    a[_A["AU14"]])
    if a[_A["AU17"]] > 0.05:  # chin-raiser crease
        my = mth["my"]
        cv.dark(P(*_bezier((-0.16, my + 0.21), (0.0, my + 0.16), (0.16, my + 0.21))), a[_A["AU17"]] * (0.5 + 0.6 * wr))
    open_u = max(0.05, (1.0 + 0.8 * a[_A["AU5"]] - 0.35 * a[_A["AU7"]] - 0.25 * a[_A["AU6"]]
                        - 0.15 * a[_A["AU4"]] - 0.2 * a9) * (1.0 - st.blink))
    open_l = max(0.05, (1.0 - 0.45 * a[_A["AU6"]] - 0.4 * a[_A["AU7"]] - 0.2 * a9) * (1.0 - 0.6 * st.blink))
    t = np.linspace(-1.0, 1.0, 13)
    eyes = []
    for sx in (-1.0, 1.0):
        ex, ey, ew = sx * ident.eye_x, ident.eye_y, ident.eye_w
        up_v = ey - ident.eye_h * open_u * (1 - t * t) * (1.0 + 0.15 * sx * t)
        lo_v = ey + ident.eye_h * 0.7 * open_l * (1 - t * t)
        eu = ex + ew * t
        eyes.append((ex, ey, ew, eu, up_v, lo_v))
        cv.dark(P(eu * 0.96 + ex * 0.04, up_v - 0.06 - 0.03 * a[_A["AU5"]], 0.1), 0.4)  # lid crease
        cv.dark(P(eu, lo_v, 0.1), 0.35)
        if a[_A["AU6"]] > 0.1:  # lower-lid bulge and crow's feet
            cv.dark(P(eu * 0.9 + ex * 0.1, lo_v + 0.05, 0.1), min(0.8, a[_A["AU6"]]))
            for k in (-1, 0, 1):
                cv.dark(P([ex + sx * (ew + 0.03), ex + sx * (ew + 0.11)], [ey + 0.02 * k, ey + 0.05 * k]),
                        a[_A["AU6"]] * wr)
    cv.apply_shade(0.7)

    # --- eyes --------------------------------------------------------------------------
    for ex, ey, ew, eu, up_v, lo_v in eyes:
        poly = np.concatenate([P(eu, up_v, 0.1), P(eu[::-1], lo_v[::-1], 0.1)])
        er = cv.roi(poly, pad=3)
        if er is None:
            continue
        em = cv.mask([poly], er)
        cv.blend(em, er, np.array([235.0, 232.0, 225.0]) * st.gain, 0.95)
        ir = ident.eye_h * 0.95
        gx = ex + st.gaze * ew
        emf = em.astype(np.float32) * np.float32(1.0 / 255.0)
        for rad, col in ((ir, ident.iris * st.gain), (ir * 0.45, np.array([12.0, 10.0, 10.0]))):
            im = cv.mask([P(gx + cu * rad, ey + cvv * rad, 0.12)], er).astype(np.float32) * emf
            cv.blend(im, er, col, 1.0)  # iris and pupil, clipped to the eye opening
        cv.fill(_band(P(eu, up_v, 0.1), 0.022 * p.s), _INK, 0.9)  # upper lid and lashes
    # --- brows -------------------------------------------------------------------------
    hair = ident.hair_col * (0.85 + 0.15 * st.gain)
    for sx in (-1.0, 1.0):
        ex = sx * ident.eye_x
        by = ident.eye_y - ident.brow_gap
        inner_up = 0.17 * a[_A["AU1"]] - 0.13 * a[_A["AU4"]]
        outer_up = 0.16 * a[_A["AU2"]] - 0.04 * a[_A["AU4"]] + 0.02 * a[_A["AU1"]]
        inner_x = ex - sx * (0.21 - 0.06 * a[_A["AU4"]])
        p0 = (inner_x, by - inner_up + 0.02)
        p1 = (ex + sx * 0.02, by - ident.brow_arch - 0.5 * (inner_up + outer_up))
        p2 = (ex + sx * 0.24, by - outer_up + 0.03)
        u, v = _bezier(p0, p1, p2, 10)
        cv.fill(_band(P(u, v), ident.brow_w * p.s * np.linspace(1.0, 0.45, 10)), hair * 0.6, 0.95)
    # --- mouth: interior, teeth, lips ----------------------------------------------------
    my = mth["my"]
    (lx_, ly_), (rx_, ry_) = mth["corners"]
    tt = np.linspace(0.0, 1.0, 15)
    mu = lx_ + (rx_ - lx_) * tt
    bow = 4.0 * tt * (1 - tt)                                    # 0 at the corners, 1 in the middle
    mid = ly_ + (ry_ - ly_) * tt + (my - (ly_ + ry_) * 0.5) * bow  # corners up/down bend the line
    gap = mth["gap"]
    up_in = mid - (0.5 * gap + mth["raise"] + mth["push"]) * bow
    lo_in = mid + (0.5 * gap - mth["push"]) * bow
    cupid = np.where(np.abs(tt - 0.5) < 0.1, 0.65, 1.0)
    up_out = up_in - mth["lip_u"] * np.sqrt(bow) * cupid - 0.005
    lo_out = lo_in + mth["lip_l"] * np.sqrt(bow) + 0.005
    lip = ident.lip_col * st.gain
    if gap > 0.01:
        cv.fill(np.concatenate([P(mu, up_in), P(mu[::-1], lo_in[::-1])]), np.array([45.0, 20.0, 25.0]) * st.gain)
        th = np.minimum(up_in + min(gap, 0.07) * bow, lo_in)
        cv.fill(np.concatenate([P(mu, up_in), P(mu[::-1], th[::-1])]), np.array([225.0, 220.0, 205.0]) * st.gain, 0.9)
    cv.fill(np.concatenate([P(mu, up_out), P(mu[::-1], up_in[::-1])]), lip * 0.92)
    cv.fill(np.concatenate([P(mu, lo_in), P(mu[::-1], lo_out[::-1])]), lip)
    cv.dark(P(mu, mid), 0.95 if gap <= 0.01 else 0.4)
    # --- facial hair, scalp hair, glasses --------------------------------------------------
    if ident.beard >= 1:
        cv.fill(np.concatenate([P(mu * 1.05, up_out - 0.01), P(mu[::-1] * 1.05, (up_out - 0.07 - 0.02 * bow)[::-1])]),
                hair * 0.8, 0.85)
    if ident.beard == 2:
        sel = cvv > 0.15
        bu, bv = fu[sel], fv[sel]
        poly = np.concatenate([P(bu, bv), P(bu[::-1] * 0.6, my + 0.12 + (bv[::-1] - my) * 0.25)])
        cv.fill(poly, hair * 0.75, 0.75)
    hl = ident.hairline + (0.28 if ident.hair_style == 2 else 0.0)
    temple = ident.eye_y - 0.30
    hw = ident.face_w * 1.06
    top = _TOP[cvv[_TOP] * (ident.face_ht + 0.12) < temple + 0.1]
    outer = P(cu[top] * hw, np.minimum(cvv[top] * (ident.face_ht + 0.12) - 0.02, temple))
    r_u, r_v = _bezier((hw * 0.93, temple), (hw * 0.75, hl), (0.0, hl), 8)
    l_u, l_v = _bezier((0.0, hl), (-hw * 0.75, hl), (-hw * 0.93, temple), 8)
    if ident.hair_style == 2:  # fringe: a jagged edge
        r_v = r_v + 0.05 * (np.arange(8) % 2)
        l_v = l_v + 0.05 * (np.arange(8) % 2)
    line = P(np.concatenate([r_u, l_u[1:]]), np.concatenate([r_v, l_v[1:]]))
    cap = np.concatenate([outer, line])
    cv.fill(cap, hair, 0.3 if ident.hair_style == 3 else 1.0)
    if ident.hair_style != 3:
        for k in range(7):  # strands: texture for LBP
            x = -0.66 + 0.22 * k
            cv.dark(P(*_bezier((x * 0.8, -ident.face_ht - 0.05), (x * 1.05, hl - 0.25), (x * 1.1, hl + 0.02), 6)),
                    0.45)
    if ident.glasses:
        for sx in (-1.0, 1.0):
            ring = P(sx * ident.eye_x + cu * 0.27, ident.eye_y + cvv * 0.19, 0.2)
            cv.fill(ring, np.array([200.0, 210.0, 220.0]) * st.gain, 0.12)
            cv.dark(ring, 0.9, cv.lw, closed=True)
        cv.dark(P([-ident.eye_x + 0.27, ident.eye_x - 0.27], [ident.eye_y - 0.02] * 2, 0.3), 0.9)
    cv.apply_shade(0.8)
    # --- occluder: a hand entering the frame -------------------------------------------------
    if st.occluder is not None:
        ox, oy, osc = st.occluder
        hand = skin * 0.92
        cv.fill(np.stack([ox + cu * osc * 0.9, oy + cvv * osc * 1.1], axis=1), hand)
        for k in range(4):
            fx = ox + (k - 1.5) * osc * 0.42
            stroke = np.array([[fx, oy - osc * 0.6], [fx + 0.05 * osc, oy - osc * (1.75 - 0.12 * abs(k - 1.5))]])
            cv.fill(_band(stroke, 0.18 * osc), hand * (0.95 + 0.03 * k))
            cv.dark(stroke + np.array([0.2 * osc, 0.0]), 0.5)
        cv.apply_shade(0.5)
    return img

def _finish(img: np.ndarray, rng: np.random.Generator, blur: int, sigma: float, color: bool) -> np.ndarray:
    """Quantise to uint8, blur, add noise, optionally convert to grey (all integer arithmetic)."""
    out = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    out = _blur_u8(out, blur)
    if not color:
        # ITU-R BT.601 luma in integers; grey frames are stored as equal R=G=B
        r, g, b = out[..., 0].astype(np.uint16), out[..., 1].astype(np.uint16), out[..., 2].astype(np.uint16)
        y = ((77 * r + 150 * g + 29 * b + 128) >> 8).astype(np.uint8)
        nz = _noise(rng, y.shape, sigma)
        if nz is not None:
            y = np.clip(y.astype(np.int16) + nz, 0, 255).astype(np.uint8)
        return np.repeat(y[..., None], 3, axis=2)
    nz = _noise(rng, out.shape, sigma)
    if nz is not None:
        out = np.clip(out.astype(np.int16) + nz, 0, 255).astype(np.uint8)
    return out


# ----------------------------------------------------------------------------------------------
# Backgrounds and timelines
# ----------------------------------------------------------------------------------------------

def _lab_background(rng: np.random.Generator, size: int) -> np.ndarray:
    level = 150.0 + 60.0 * float(rng.random())
    ramp = np.linspace(1.04, 0.94, size, dtype=np.float32)[:, None]
    bg = np.ones((size, size, 3), np.float32) * (np.float32(level) * ramp)[..., None]
    return bg


def _wild_background(rng: np.random.Generator, size: int, margin: int, clutter: float) -> np.ndarray:
    n = size + 2 * margin

    def muted() -> np.ndarray:  # real scenes are far less saturated than uniform RGB
        grey = 40.0 + 170.0 * float(rng.random())
        rgb = np.array([rng.random() * 200 + 30 for _ in range(3)])
        return grey + 0.45 * (rgb - grey)

    c0, c1 = muted(), muted()
    t = np.linspace(0.0, 1.0, n)
    vert = float(rng.random()) < 0.5
    ramp = t[:, None] if vert else t[None, :]
    bg = (c0[None, None, :] * (1 - ramp[..., None]) + c1[None, None, :] * ramp[..., None]) * np.ones((n, n, 1))
    bg = bg.astype(np.float32)
    cv = _Canvas(bg)
    k = int(round(clutter * (6 + int(rng.integers(0, 10)))))
    for _ in range(k):
        kind = int(rng.integers(0, 3))
        col = muted()
        x, y = float(rng.random()) * n, float(rng.random()) * n
        w, h = (0.05 + 0.35 * float(rng.random())) * n, (0.05 + 0.35 * float(rng.random())) * n
        if kind == 0:   # furniture, windows, frames
            pts = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]])
            cv.fill(pts, col, 0.5 + 0.5 * float(rng.random()))
        elif kind == 1:  # lamps, plants, heads in the background
            cv.fill(np.stack([x + _CIRCLE[:, 0] * w * 0.4, y + _CIRCLE[:, 1] * h * 0.4], axis=1), col, 0.8)
        else:  # edges
            seg = np.array([[x, y], [x + w * 1.5, y + h * (float(rng.random()) - 0.5)]])
            cv.fill(_band(seg, max(0.6, n / 120.0)), col, 0.8)
    return bg


def _lab_timeline(rng: np.random.Generator, n: int) -> np.ndarray:
    """Expression strength per frame (CK+): neutral, onset, apex, held to the last frame.

    Onset starts in the first quarter and the apex is reached at 50–80 % of the sequence
    and held (CK+ sequences end on the peak, and most plateau over their last frames).
    """
    onset = int(math.floor(n * _u(rng, 0.0, 0.25)))
    apex = max(onset + 1, int(math.floor(n * _u(rng, 0.5, 0.8))))
    t = np.arange(n, dtype=np.float64)
    return _smooth((t - onset) / (apex - onset))


def _wild_timeline(rng: np.random.Generator, n: int, non_peak: bool) -> np.ndarray:
    """Random onset/offset: rise, rise-and-fall, fall from an apex, or plateau."""
    kind = int(rng.integers(0, 4))
    t = np.arange(n, dtype=np.float64)
    a = _u(rng, 0.0, 0.45) * n
    b = a + _u(rng, 0.15, 0.4) * n
    if kind == 0:
        y = _smooth((t - a) / max(b - a, 1.0))
    elif kind == 1:
        c = b + _u(rng, 0.1, 0.3) * n
        d = c + _u(rng, 0.1, 0.3) * n
        y = _smooth((t - a) / max(b - a, 1.0)) * (1.0 - _smooth((t - c) / max(d - c, 1.0)) * _u(rng, 0.4, 0.8))
    elif kind == 2:
        c = _u(rng, 0.3, 0.7) * n
        y = 1.0 - _smooth((t - c) / max(_u(rng, 0.2, 0.5) * n, 1.0)) * _u(rng, 0.3, 0.7)
    else:
        y = 0.7 + 0.3 * _smooth((t - a) / max(b - a, 1.0))
    if non_peak:
        y = y * _u(rng, 0.35, 0.6)
    return y


def _peak_vector(rng: np.random.Generator, cfg: SynthFERConfig, ident: _Identity, label: str | None) -> np.ndarray:
    vec = np.zeros(len(AUS))
    if label is None:  # unlabelled CK+-style sequence: a random mix of a few AUs
        for _ in range(int(rng.integers(1, 4))):
            vec[int(rng.integers(0, len(AUS)))] += _u(rng, 0.4, 0.9)
        return np.minimum(vec, 1.0)
    strength = _u(rng, *cfg.peak_intensity)
    for au, w in RECIPES[label].items():
        jitter = 1.0 + 0.25 * _bell(rng)
        vec[_A[au]] = w * strength * jitter * ident.style[_A[au]]
    return np.clip(vec, 0.0, 1.3)


def _frame_states(cfg: SynthFERConfig, ident: _Identity, spec: SequenceSpec,
                  rng: np.random.Generator) -> tuple[list[_FrameState], dict[str, Any]]:
    n, size = spec.n_frames, cfg.image_size
    peak = _peak_vector(rng, cfg, ident, spec.label)
    side = 1 if float(rng.random()) < 0.5 else -1
    if spec.label not in _UNILATERAL:
        side_used = 0
    else:
        side_used = side
    states: list[_FrameState] = []
    if cfg.variant == "lab":
        strength = _lab_timeline(rng, n)
        # CK+ subjects hold their heads still (and alignment would remove small motion):
        # one pose per sequence, which also lets _render cache the static parts. `pose` widens the placement
        # (residual alignment variation); at pose = 0 the arithmetic is exactly the original one.
        j = 0.012 + 0.02 * cfg.pose
        s0 = size * (0.33 + j * _bell(rng))
        cx0 = size * (0.5 + j * _bell(rng))
        cy0 = size * (0.47 + j * _bell(rng))
        roll = (0.03 + 0.07 * cfg.pose) * _bell(rng)
        pose = _Pose(cx0, cy0, s0, _qcos(roll), _qsin(roll), 0.0)
        for t in range(n):
            states.append(_FrameState(ident.resting + peak * strength[t], side_used, pose, 0.0, 0.0, 0.0, 1.0,
                                      ident.light, (0, 0), None))
        scene = {"blur": 0, "noise": cfg.noise, "color": ident.color}
        return states, scene
    # wild
    expressive = spec.label != "neutral"
    non_peak = expressive and float(rng.random()) < cfg.non_peak_fraction
    strength = _wild_timeline(rng, n, non_peak) if expressive else np.zeros(n)
    pz = cfg.pose
    step = int(rng.integers(10, 22))
    roll = _Track(rng, n, step, -0.30 * pz, 0.30 * pz)
    yaw = _Track(rng, n, step, -0.18 * pz, 0.18 * pz)
    scl = _Track(rng, n, step, 1.0 - 0.12 * pz, 1.0 + 0.10 * pz)
    tx = _Track(rng, n, step, -0.07 * pz, 0.07 * pz)
    ty = _Track(rng, n, step, -0.06 * pz, 0.06 * pz)
    base_scale = size * (0.33 + 0.012 * _bell(rng))  # a face-track crop: the face is roughly centred
    lz = cfg.lighting
    gain = _Track(rng, n, int(rng.integers(12, 30)), 1.0 - 0.25 * lz, 1.0 + 0.12 * lz)
    lxt = _Track(rng, n, int(rng.integers(15, 40)), -0.6 * lz, 0.6 * lz)
    margin = max(2, size // 8)
    panx = _Track(rng, n, int(rng.integers(15, 40)), -margin * cfg.clutter, margin * cfg.clutter)
    pany = _Track(rng, n, int(rng.integers(15, 40)), -margin * 0.5 * cfg.clutter, margin * 0.5 * cfg.clutter)
    gaze = _Track(rng, n, int(rng.integers(8, 20)), -0.25, 0.25)
    talking = float(rng.random()) < 0.5
    talk = np.zeros(n)
    if talking:
        t = 0
        while t < n:
            d = int(rng.integers(3, 7))
            amp = _u(rng, 0.0, 0.6)
            talk[t:t + d] = amp * (1.0 - np.abs(np.linspace(-1.0, 1.0, d + 2)[1:-1]))[: max(0, min(d, n - t))]
            t += d
    blink = np.zeros(n)
    t = int(rng.integers(0, 40))
    while t < n:
        blink[t] = 0.6
        if t + 1 < n:
            blink[t + 1] = 1.0
        if t + 2 < n:
            blink[t + 2] = 0.5
        t += int(rng.integers(30, 90))
    micro = np.array([0.12 * float(rng.random()) for _ in AUS])  # idle facial motion
    micro_tr = _Track(rng, n, int(rng.integers(10, 25)), 0.0, 1.0)
    occl = None
    if float(rng.random()) < cfg.occlusion:
        o_start = int(rng.integers(0, max(1, n // 2)))
        o_len = int(rng.integers(max(2, n // 4), n + 1))
        target = (_u(rng, -0.5, 0.5), _u(rng, 0.2, 1.0))  # face units: mouth / cheek / chin area
        occl = (o_start, o_start + o_len, target, _u(rng, 0.35, 0.6))
    blur = 0
    if float(rng.random()) < 0.5 * min(1.0, cfg.blur):
        blur = 1 + int(float(rng.random()) < 0.3 * cfg.blur)
    cast = np.array([1.0 + 0.12 * lz * _bell(rng) for _ in range(3)])
    light_y = -0.3 + 0.3 * lz * _bell(rng)
    for t in range(n):
        r = roll(t)
        c, sn = _qcos(r), _qsin(r)
        sc = base_scale * scl(t)
        pose = _Pose(size * (0.5 + tx(t)), size * (0.45 + ty(t)), sc, c, sn, yaw(t))
        oc = None
        if occl is not None and occl[0] <= t < occl[1]:
            prog = float(_smooth((t - occl[0]) / 4.0))  # slides in from below over ~4 frames
            (tu, tv), osz = occl[2], occl[3]
            pt = pose.px(np.array([tu]), np.array([tv]))[0]
            oc = (float(pt[0]), float(pt[1]) + (1.0 - prog) * size * 0.6 + osz * sc * 0.9, osz * sc)
        au = ident.resting + peak * strength[t] + micro * micro_tr(t)
        states.append(_FrameState(au, side_used, pose, float(blink[t]), float(talk[t]), gaze(t), gain(t),
                                  (lxt(t), light_y), (int(round(panx(t))), int(round(pany(t)))), oc))
    scene = {"blur": blur, "noise": cfg.noise * _u(rng, 0.5, 1.0), "color": True, "cast": cast, "margin": margin}
    return states, scene


def render_sequence(cfg: SynthFERConfig, spec: SequenceSpec) -> np.ndarray:
    """Render one sequence: uint8 array ``T×H×W×3`` (RGB; grey identities have R = G = B).

    Deterministic in ``(cfg, spec)`` alone: independent of which other sequences are
    rendered, in which order, or in which process.
    """
    size = cfg.image_size
    ident = _sample_identity(cfg, spec.subject)
    rng = _rng(cfg, spec.subject, spec.number, 2)
    states, scene = _frame_states(cfg, ident, spec, rng)
    frames = np.empty((spec.n_frames, size, size, 3), np.uint8)
    if cfg.variant == "lab":
        bg = _lab_background(rng, size)
        cache: dict[str, Any] = {}  # the head is still in lab sequences: render the static parts once
        for t, st in enumerate(states):
            frames[t] = _finish(_render(ident, st, bg, size, cache), rng, scene["blur"], scene["noise"], scene["color"])
        return frames
    m = scene["margin"]
    big = _wild_background(rng, size, m, cfg.clutter)
    big = _blur_u8(np.clip(np.rint(big), 0, 255).astype(np.uint8), 2).astype(np.float32)  # out of focus
    cast = scene["cast"].astype(np.float32)
    for t, st in enumerate(states):
        px, py = st.pan
        bg = big[m + py: m + py + size, m + px: m + px + size] * np.float32(st.gain)
        img = _render(ident, st, bg, size, None) * cast
        frames[t] = _finish(img, rng, scene["blur"], scene["noise"], True)
    return frames


def frames_sha256(frames: np.ndarray) -> str:
    """SHA-256 (hex) of a uint8 ``T×H×W×C`` array's bytes in C order, prefixed by its shape."""
    a = np.ascontiguousarray(frames, dtype=np.uint8)
    h = hashlib.sha256(repr(tuple(a.shape)).encode())
    h.update(a.tobytes())
    return h.hexdigest()


# ----------------------------------------------------------------------------------------------
# Writing to disk in the CK+ / AFEW layouts
# ----------------------------------------------------------------------------------------------

_MARKER = ".synthfer"


def _record_path(root: Path, spec: SequenceSpec) -> Path:
    return root / _MARKER / "records" / f"{spec.key}.json"


def read_record(root: str | os.PathLike, spec: SequenceSpec) -> dict[str, Any] | None:
    """The completion record of a written sequence (``{"sha256", "n_frames", "relpath"}``), or None."""
    p = _record_path(Path(root), spec)
    if not p.is_file():
        return None
    try:
        return json.loads(p.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def _is_complete(root: Path, cfg: SynthFERConfig, spec: SequenceSpec) -> bool:
    rec = read_record(root, spec)
    if rec is None or rec.get("n_frames") != spec.n_frames:
        return False
    target = root / spec.relpath(cfg.variant)
    if cfg.variant == "lab":
        if not target.is_dir() or len(list(target.glob("*.png"))) != spec.n_frames:
            return False
        emo = root / "Emotion" / spec.subject_id / f"{spec.number:03d}"
        return emo.is_dir()
    return target.is_file() and target.stat().st_size > 0


def _write_lab(root: Path, spec: SequenceSpec, frames: np.ndarray) -> None:
    final = root / spec.relpath("lab")
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".{final.name}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    grey = bool(np.array_equal(frames[..., 0], frames[..., 1]) and np.array_equal(frames[..., 0], frames[..., 2]))
    for t in range(frames.shape[0]):
        name = f"{spec.key}_{t + 1:08d}.png"
        img = frames[t, :, :, 0] if grey else np.ascontiguousarray(frames[t, :, :, ::-1])
        if not cv2.imwrite(str(tmp / name), img, [cv2.IMWRITE_PNG_COMPRESSION, 3]):
            raise OSError(f"could not write {tmp / name}; check free disk space and permissions")
    if final.exists():  # a folder left by an interrupted run: replace it whole
        shutil.rmtree(final)
    os.replace(tmp, final)
    emo = root / "Emotion" / spec.subject_id / f"{spec.number:03d}"
    emo.mkdir(parents=True, exist_ok=True)
    if spec.label is not None:
        code = CKPLUS_CLASSES.index(spec.label) + 1
        # same format as CK+'s files: "   3.0000000e+00"
        write_text(emo / f"{spec.key}_{spec.n_frames:08d}_emotion.txt", f"   {code:.7e}\n")


def _write_wild(root: Path, cfg: SynthFERConfig, spec: SequenceSpec, frames: np.ndarray) -> None:
    final = root / spec.relpath("wild")
    size = cfg.image_size
    with atomic_path(final, suffix=".avi") as tmp:
        w = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*cfg.codec), float(cfg.fps), (size, size))
        if not w.isOpened():
            raise RuntimeError(
                f"OpenCV could not open a {cfg.codec} video writer for {final}; install the pinned "
                "opencv-python-headless (its FFmpeg build has XVID/MJPG/FFV1 encoders)")
        for f in frames:
            w.write(np.ascontiguousarray(f[:, :, ::-1]))
        w.release()


def _work(args: tuple[SynthFERConfig, SequenceSpec, str]) -> dict[str, Any]:
    cfg, spec, root_s = args
    root = Path(root_s)
    t0 = time.perf_counter()
    frames = render_sequence(cfg, spec)
    t1 = time.perf_counter()
    if cfg.variant == "lab":
        _write_lab(root, spec, frames)
    else:
        _write_wild(root, cfg, spec, frames)
    rec = {"sha256": frames_sha256(frames), "n_frames": spec.n_frames, "relpath": spec.relpath(cfg.variant),
           "label": spec.label}
    write_json(_record_path(root, spec), rec)
    return {**rec, "key": spec.key, "render_s": t1 - t0, "write_s": time.perf_counter() - t1}


def generate(variant: str, root: str | os.PathLike | None = None, *, subjects: int = 24, seed: int = 0,
             image_size: int = 112, workers: int = 1, progress: bool = True, **knobs: Any) -> Path:
    """Generate (or finish, or reuse) a SynthFER dataset and return the folder it lives in.

    Args:
        variant: ``"lab"`` (CK+ layout) or ``"wild"`` (AFEW layout).
        root: dataset folder. ``None`` → ``<data root>/<dataset_dirname(cfg)>`` (data root:
            ``$SMATE_DATA`` or ``<repo>/data``).
        subjects, seed, image_size, **knobs: see :class:`SynthFERConfig` / :func:`make_config`.
        workers: processes to render with (output is identical for any count).
        progress: show a tqdm progress bar.

    Returns:
        ``Path`` of the dataset root. Its ``synthfer.json`` holds the configuration,
        generator version, per-sequence frame SHA-256s and counts; every file in the
        folder is the same for the same configuration (byte for byte). The run's timing
        is logged outside the folder: :func:`last_run`.

    A re-run with the same parameters reuses every complete sequence (each one is
    written to a temporary name and renamed when whole, then recorded). Raises
    ``FileExistsError`` if ``root`` holds something that is not this dataset.
    """
    cfg = make_config(variant, subjects=subjects, seed=seed, image_size=image_size, **knobs)
    if root is None:
        from .paths import data_root
        root = data_root() / dataset_dirname(cfg)
    root = Path(root)
    if (root.exists() and any(p.name != _MARKER for p in root.iterdir())
            and not (root / _MARKER / "config.json").is_file()):
        raise FileExistsError(
            f"{root} exists and is not a SynthFER dataset (no {_MARKER}/config.json); "
            "pass an empty or new folder as root")
    (root / _MARKER).mkdir(parents=True, exist_ok=True)
    # one generator per dataset at a time (notebooks may run in parallel): the second waits,
    # then finds the work done
    import fcntl

    with open(root / _MARKER / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return _generate_locked(cfg, root, workers, progress)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _run_log_path(root: Path) -> Path:
    # under the cache root, keyed by the dataset folder: run logs stay out of the dataset's files
    from .paths import cache_root

    key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    return cache_root() / "synthfer-runs" / f"{root.name}-{key}.json"


def last_run(root: str | os.PathLike) -> dict[str, Any] | None:
    """What the last :func:`generate` call that wrote into ``root`` did, or ``None``.

    ``{"root", "generated_sequences", "generated_frames", "wall_s", "render_s", "workers",
    "render_fps_per_worker"}``. Kept under the cache root (``$SMATE_CACHE`` or
    ``<repo>/cache``), not in the dataset folder, whose files depend on the configuration
    only; a call that found the dataset complete does not change it.
    """
    p = _run_log_path(Path(root))
    try:
        return json.loads(p.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def _generate_locked(cfg: SynthFERConfig, root: Path, workers: int, progress: bool) -> Path:
    variant = cfg.variant
    summary_path = root / "synthfer.json"
    marker = root / _MARKER / "config.json"
    want = {"config": cfg.to_dict(), "version": GENERATOR_VERSION, "digest": cfg.digest()}
    if marker.is_file():
        have = json.loads(marker.read_text())
        if have.get("digest") != want["digest"]:
            raise FileExistsError(
                f"{root} holds a SynthFER dataset with other parameters "
                f"({have.get('config')}, version {have.get('version')}); pass another root "
                "(the default root names the parameters) or delete that folder")
        if summary_path.is_file():
            summ = json.loads(summary_path.read_text())
            if summ.get("digest") == want["digest"] and summ.get("complete"):
                specs = plan(cfg)
                if all(_is_complete(root, cfg, s) for s in specs):
                    if "last_run" in summ:   # written before run logs left the dataset: move it out
                        if last_run(root) is None:
                            write_json(_run_log_path(root), {"root": str(root), **summ["last_run"]})
                        write_json(summary_path, {k: v for k, v in summ.items() if k != "last_run"})
                    return root
    write_json(marker, want)
    specs = plan(cfg)
    todo = [s for s in specs if not _is_complete(root, cfg, s)]
    from tqdm.auto import tqdm

    t0 = time.perf_counter()
    results: list[dict[str, Any]] = []
    n_frames = sum(s.n_frames for s in todo)
    bar = tqdm(total=n_frames, unit="frame", desc=f"SynthFER {variant} → {root.name}", disable=not progress,
               smoothing=0.1)
    jobs = [(cfg, s, str(root)) for s in todo]
    if workers > 1 and len(jobs) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers) as ex:
            for r in ex.map(_work, jobs, chunksize=4):
                results.append(r)
                bar.update(r["n_frames"])
    else:
        for j in jobs:
            r = _work(j)
            results.append(r)
            bar.update(r["n_frames"])
    bar.close()
    wall = time.perf_counter() - t0
    records = {}
    for s in specs:
        rec = read_record(root, s)
        if rec is None:
            raise RuntimeError(f"sequence {s.key} of {root} has no completion record after generation")
        records[s.key] = rec["sha256"]
    render_s = sum(r["render_s"] for r in results)
    summary = {
        **want,
        "complete": True,
        "layout": "CK+" if variant == "lab" else "AFEW",
        "sequences": len(specs),
        "frames": sum(s.n_frames for s in specs),
        "frames_sha256": records,
        "dataset_sha256": hashlib.sha256(json.dumps(records, sort_keys=True).encode()).hexdigest(),
    }
    write_json(summary_path, summary)
    write_json(_run_log_path(root), {
        "root": str(root),
        "generated_sequences": len(results),
        "generated_frames": n_frames,
        "wall_s": round(wall, 3),
        "render_s": round(render_s, 3),
        "workers": workers,
        "render_fps_per_worker": round(n_frames / render_s, 1) if render_s > 0 else None,
    })
    return root
