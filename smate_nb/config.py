"""Run profiles: the one place where ``smoke``, ``cpu`` and ``paper`` are defined.

A profile bundles everything a notebook needs to know about *how big* a study
is: which dataset(s), which named model config, clip geometry, and the
training budget. Notebooks receive only the profile's name (a papermill
parameter) and look everything else up here, so the three scales of the suite
can never drift apart between notebooks.

=========  =======================  ==========================  ===========
profile    data                      model                       where
=========  =======================  ==========================  ===========
smoke      tiny SynthFER             ``vivit_smoke_fe``          CI, nbval
cpu        SynthFER lab + wild       ``vivit_cpu_fe``            any laptop
paper      CK+ / AFEW manifests      ``vivit_b_16x2_fe``         GPU
=========  =======================  ==========================  ===========
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, replace
from typing import Any

__all__ = [
    "DataConfig",
    "ClipConfig",
    "TrainConfig",
    "Profile",
    "PROFILES",
    "get_profile",
    "configure_threads",
]


@dataclass(frozen=True)
class DataConfig:
    """Which datasets a profile uses.

    ``lab`` / ``wild`` name a dataset: ``"synthfer-lab"``, ``"synthfer-wild"``
    (built in, generated on demand) or ``"ckplus"`` / ``"afew"`` (a user's
    licensed copy, read through a manifest under ``manifest_dir``).
    """

    lab: str = "synthfer-lab"
    wild: str = "synthfer-wild"
    subjects: int = 24          # SynthFER subjects per variant
    image_size: int = 112       # SynthFER render size (pixels, square)
    seed: int = 0               # SynthFER generation seed
    folds: int = 10             # subject-independent k-fold on the lab dataset
    manifest_dir: str = "data_manifests"
    data_root: str = "data"     # where generated / user datasets live


@dataclass(frozen=True)
class ClipConfig:
    """Clip geometry as the model sees it (paper §4.2).

    ``resize`` is the side the aligned face is resized to before cropping
    ``crop`` (the paper: 256 → 224). ``stride`` is the temporal sampling stride
    (2 on CK+, 3 on AFEW).
    """

    num_frames: int = 25
    stride_lab: int = 2
    stride_wild: int = 3
    resize: int = 256
    crop: int = 224


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation budget shared by every study of a profile."""

    epochs: int = 30
    batch_size: int = 8
    lr: float = 1e-4
    weight_decay: float = 0.05
    warmup_epochs: float = 2.0
    label_smoothing: float = 0.0
    seeds: tuple[int, ...] = (0, 1, 2)
    device: str = "auto"        # "auto" → cuda if available else cpu


@dataclass(frozen=True)
class Profile:
    """A complete run profile. Use :func:`get_profile` to obtain one."""

    name: str
    description: str
    model: str
    data: DataConfig = field(default_factory=DataConfig)
    clip: ClipConfig = field(default_factory=ClipConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    torch_threads: int = 1

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict view (JSON-serialisable) for recording with results."""
        return asdict(self)

    def with_overrides(self, **changes: Any) -> "Profile":
        """A copy with top-level fields replaced (frozen dataclasses stay frozen)."""
        return replace(self, **changes)


PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        name="smoke",
        description="seconds per notebook; CI and nbval",
        model="vivit_smoke_fe",
        data=DataConfig(subjects=8, image_size=64, folds=2),
        clip=ClipConfig(num_frames=8, stride_lab=1, stride_wild=1, resize=36, crop=32),
        train=TrainConfig(epochs=1, batch_size=8, lr=1e-3, warmup_epochs=0.0, seeds=(0,)),
    ),
    "cpu": Profile(
        name="cpu",
        description="minutes per study on a 2-core laptop; the README's main job",
        model="vivit_cpu_fe",
        data=DataConfig(subjects=40, image_size=112, folds=10),
        clip=ClipConfig(num_frames=16, stride_lab=1, stride_wild=2, resize=72, crop=64),
        # lr 3e-4: the SynthFER calibration's ViViT learnt at 3e-4 and 1e-4, never at 1e-3.
        train=TrainConfig(epochs=20, batch_size=16, lr=3e-4, warmup_epochs=1.0, seeds=(0, 1, 2)),
    ),
    "paper": Profile(
        name="paper",
        description="the paper's settings: ViViT-B/16x2 FE, 25 frames, 224², CK+/AFEW, GPU",
        model="vivit_b_16x2_fe",
        data=DataConfig(lab="ckplus", wild="afew", folds=10),
        clip=ClipConfig(num_frames=25, stride_lab=2, stride_wild=3, resize=256, crop=224),
        train=TrainConfig(epochs=30, batch_size=8, lr=1e-4, warmup_epochs=2.0, seeds=(0,)),
        torch_threads=0,  # 0 → leave torch's default (GPU machines have cores to spare)
    ),
}


def get_profile(name: str) -> Profile:
    """Return the named profile.

    Raises ``KeyError`` naming the valid choices when ``name`` is unknown.
    """
    try:
        return PROFILES[name]
    except KeyError:
        raise KeyError(f"unknown profile {name!r}; choose one of {sorted(PROFILES)}") from None


def configure_threads(n: int | None = None) -> int:
    """Set torch's intra-op thread count deliberately and return it.

    Why: on a busy 2-core machine two torch threads can run a training step
    10–20× slower than one (spin-waiting OpenMP threads fight for the cores).
    The suite therefore runs CPU work on one thread by default and sets
    ``OMP_WAIT_POLICY=PASSIVE`` so idle OpenMP workers sleep instead of spin.
    The environment variable ``SMATE_THREADS`` overrides ``n``; ``n=0`` keeps
    torch's default (used on GPU machines).
    """
    import torch

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    env = os.environ.get("SMATE_THREADS")
    if env is not None:
        n = int(env)
    if n is None:
        n = 1
    if n > 0:
        torch.set_num_threads(n)
    return torch.get_num_threads()
