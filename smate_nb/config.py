"""Run profiles: the one place where ``smoke``, ``cpu``, ``paper`` and ``gpu`` are defined.

A profile bundles everything a notebook needs to know about *how big* a study is: the lab and wild
datasets' clips (:class:`~smate_nb.engine.specs.DataSpec`), the model
(:class:`~smate_nb.engine.specs.ModelSpec`), the optimisation budget
(:class:`~smate_nb.engine.specs.OptimSpec`) and the seeds. Notebooks receive only the profile's name
(a papermill parameter) and look everything else up here; study definitions
(:mod:`smate_nb.experiments`) derive their configs from it.

The ``cpu`` profile *is* the specs' field defaults; the others replace what differs — each number is
written once.

=========  =======================  ==========================  ===========
profile    data                      model                       where
=========  =======================  ==========================  ===========
smoke      tiny SynthFER             ``vivit_smoke_fe``          CI, nbval
cpu        SynthFER lab + wild       ``vivit_cpu_fe``            any laptop
paper      CK+ / AFEW manifests      ``vivit_b_16x2_fe``         GPU
gpu        SynthFER lab + wild 256²  ``vivit_b_16x2_fe``         one GPU (no licensed data)
=========  =======================  ==========================  ===========
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Mapping

from .engine.specs import DataSpec, ExperimentConfig, ModelSpec, OptimSpec

__all__ = ["Profile", "PROFILES", "get_profile", "configure_threads"]


@dataclass(frozen=True)
class DatasetsView:
    """Dataset-level facts of a profile, read off its lab / wild specs (a view, not a second source)."""

    lab: str
    wild: str
    subjects: int
    image_size: int
    seed: int
    folds: int
    manifest_dir: str
    data_root: str


@dataclass(frozen=True)
class ClipView:
    """Clip geometry of a profile, read off its lab / wild specs (a view, not a second source)."""

    num_frames: int
    stride_lab: int
    stride_wild: int
    resize: int
    crop: int


@dataclass(frozen=True)
class Profile:
    """A complete run profile. Use :func:`get_profile` to obtain one.

    Attributes:
        name, description: what it is for.
        lab: the clips of the lab dataset (k-fold, subject-independent; ``test_fold`` set per run).
        wild: the clips of the wild dataset (the manifest's train/test split).
        model: the ViViT-FE of the profile.
        optim: the optimisation budget every study starts from.
        seeds: training seeds of the profile.
        device: ``auto`` → CUDA if available.
        torch_threads: torch threads per process (0: torch's default; GPU machines).
        manifest_dir, data_root: where manifests and datasets live.
    """

    name: str
    description: str
    lab: DataSpec = field(default_factory=DataSpec)
    wild: DataSpec = field(default_factory=lambda: DataSpec(dataset="synthfer-wild", stride=2, test_fold=None))
    model: ModelSpec = field(default_factory=ModelSpec)
    optim: OptimSpec = field(default_factory=OptimSpec)
    seeds: tuple[int, ...] = (0, 1, 2)
    device: str = "auto"
    torch_threads: int = 1
    manifest_dir: str = "data_manifests"
    data_root: str = "data"

    @property
    def data(self) -> DatasetsView:
        """Dataset names, sizes and folds (:class:`DatasetsView`)."""
        return DatasetsView(self.lab.dataset, self.wild.dataset, self.lab.subjects, self.lab.image_size,
                            self.lab.data_seed, self.lab.folds, self.manifest_dir, self.data_root)

    @property
    def clip(self) -> ClipView:
        """Clip geometry (:class:`ClipView`)."""
        return ClipView(self.lab.num_frames, self.lab.stride, self.wild.stride, self.lab.resize, self.lab.crop)

    def dataset(self, which: str) -> DataSpec:
        """The ``"lab"`` or ``"wild"`` data spec."""
        if which not in ("lab", "wild"):
            raise ValueError(f"dataset must be 'lab' or 'wild', got {which!r}")
        return self.lab if which == "lab" else self.wild

    def experiment(self, dataset: str = "lab", **sections: Any) -> ExperimentConfig:
        """The profile's experiment on ``dataset`` (``"lab"`` / ``"wild"``), first seed; keyword sections
        are applied with :meth:`ExperimentConfig.replace` (e.g. ``preproc={"lbp": True}``)."""
        cfg = ExperimentConfig(data=self.dataset(dataset), model=self.model, optim=self.optim,
                               seed=self.seeds[0], device=self.device)
        return cfg.replace(**sections) if sections else cfg

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict view (JSON-serialisable) for recording with results."""
        return asdict(self)

    def with_overrides(self, **changes: Any) -> "Profile":
        """A copy with top-level fields replaced (frozen dataclasses stay frozen)."""
        return replace(self, **changes)


_CPU = Profile(name="cpu", description="minutes per study on a 2-core laptop; the README's main job")

_SMOKE_LAB = replace(_CPU.lab, subjects=8, image_size=64, folds=2, num_frames=8, resize=36, crop=32)

PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        name="smoke", description="seconds per notebook; CI and nbval (numbers at chance by design)",
        lab=_SMOKE_LAB, wild=replace(_SMOKE_LAB, dataset="synthfer-wild", test_fold=None),
        model=ModelSpec(arch="vivit_smoke_fe"),
        optim=replace(_CPU.optim, epochs=1, batch_size=8, lr=1e-3, warmup_epochs=0.0), seeds=(0,)),
    "cpu": _CPU,
    "paper": Profile(
        name="paper", description="the paper's settings: ViViT-B/16x2 FE, 25 frames, 224², CK+/AFEW, GPU",
        lab=replace(_CPU.lab, dataset="ckplus", num_frames=25, stride=2, resize=256, crop=224),
        wild=replace(_CPU.wild, dataset="afew", num_frames=25, stride=3, resize=256, crop=224),
        model=ModelSpec(arch="vivit_b_16x2_fe"),
        optim=replace(_CPU.optim, epochs=30, batch_size=8, lr=1e-4, warmup_epochs=2.0), seeds=(0,),
        torch_threads=0),  # 0 → torch's default thread count (GPU machines have cores to spare)
    # The paper's geometry without licensed data: SynthFER rendered at 256², 25 frames (stride 2 lab / 3 wild), crops
    # of 224², ViViT-B/16x2 FE, bf16 autocast, compiled. Batch 32 and the cpu profile's epochs: the studies'
    # trainings' model steps, estimated from Table 5's measured H200 throughput (`Study.estimate_line`, printed
    # before each sweep), add up to ≈ 43 GPU-minutes (calibration 4.6, Table 2 15.4, Tables 3–4 18.3, comparison
    # 4.9; runs shared between tables counted in each). Data generation, evaluation and compile warm-up come on
    # top and are unmeasured until a device runs benchmarks/gpu_session.sh, step 5. The step-speed switches
    # (amp="bf16-stream", compile_mode="max-autotune", ModelSpec overrides fused_norm=True) stay off here until
    # benchmarks/gpu_step_speed.py has measured them faster and equal in results on a GPU (none measured yet).
    # SynthFER at 256² renders on every core (smate_nb.engine.data.render_synthfer; byte-identical for any count).
    # Measured on the 2-core CPU VM, 8 subjects: lab 1,417 frames in 18.0 s on 1 process, 9.7 s on 2 (147 frames/s);
    # wild (XVID) 4,397 frames in 41.5 s on 2 (106 frames/s). The device figure comes with gpu_session.sh, step 5.
    "gpu": Profile(
        name="gpu", description="the paper's geometry on built-in data: ViViT-B/16x2 FE, SynthFER at 256², 25 frames, "
                                "224² crops, one GPU",
        lab=replace(_CPU.lab, image_size=256, num_frames=25, stride=2, resize=256, crop=224),
        wild=replace(_CPU.wild, image_size=256, num_frames=25, stride=3, resize=256, crop=224),
        model=ModelSpec(arch="vivit_b_16x2_fe"),
        optim=replace(_CPU.optim, batch_size=32, lr=1e-4, warmup_epochs=2.0, compile=True), torch_threads=0),
}


def get_profile(name: str) -> Profile:
    """Return the named profile.

    Raises ``KeyError`` naming the valid choices when ``name`` is unknown.
    """
    try:
        return PROFILES[name]
    except (KeyError, TypeError):
        raise KeyError(f"unknown profile {name!r}; choose one of {sorted(PROFILES)}") from None


#: The CPU vector instruction set pinned for the kernels the suite starts (x86-64 only; a variable already set in the
#: environment wins). Why: torch's CPU kernels (ATen) and oneDNN's pick the widest instruction set the CPU offers, and
#: AVX2 and AVX-512 kernels round differently. Measured 2026-12-08 on an AMD EPYC (Zen 4, AVX-512), appearance-bias
#: run 7f44842dd20f084d (24 epochs): the default AVX-512 kernels end at training loss 0.3793249… (WAR 71.4 %); with
#: these two variables at 0.3796837… (75.0 %), bit for bit the reference's run, trained the day before on another
#: EPYC VM of this workplace (its instruction set was not recorded then; runs record it now); the stand-in
#: pretraining of notebooks 04–06 likewise (1.5737394… pinned, the reference's; 1.5513381… not). So the pin makes
#: this workplace's machines, with AVX-512 or without, train the same numbers. It does not make every CPU alike: an
#: Intel Xeon's AVX-512 run of 2026-12-04 ended at 0.3792615…, apart from the EPYC's AVX-512 run too; AVX2 on Intel
#: against AMD is unmeasured. Cost on that EPYC: 61 vs 55 s for the frame-CNN run, 763 vs 773 s for the stand-in
#: (each pair at once on 2 cores); set the variables yourself (``ATEN_CPU_CAPABILITY=avx512
#: ONEDNN_MAX_CPU_ISA=AVX512_CORE``) to trade reproducibility for speed. torch reads them once, before its first
#: operation, so they are set in a child process's environment, not by a call inside one (measured: set after one
#: tensor operation, ignored).
CPU_ISA_ENV: dict[str, str] = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}


def cpu_isa_env(environ: Mapping[str, str], machine: str | None = None) -> dict[str, str]:
    """The :data:`CPU_ISA_ENV` pins to add to a child process's environment.

    Args:
        environ: the environment the child would get; a pin already set there is left as it is.
        machine: ``platform.machine()`` of this computer (None: ask it); the pins apply to x86-64 only.
    Returns:
        the variables to add (empty off x86-64, or when all are set already).
    """
    import platform

    if (machine or platform.machine()).lower() not in ("x86_64", "amd64"):
        return {}
    return {k: v for k, v in CPU_ISA_ENV.items() if k not in environ}


def configure_threads(n: int | None = None) -> int:
    """Set torch's intra-op thread count deliberately and return it.

    Why: on a busy 2-core machine two torch threads can run a training step 10–20× slower than one
    (spin-waiting OpenMP threads fight for the cores). The suite therefore runs CPU work on one thread by
    default and sets ``OMP_WAIT_POLICY=PASSIVE`` so idle OpenMP workers sleep instead of spin.
    ``$SMATE_THREADS`` overrides ``n``; ``n=0`` keeps torch's default (used on GPU machines).

    Raises:
        ValueError: ``SMATE_THREADS`` is not a non-negative integer.
    """
    import torch

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    env = os.environ.get("SMATE_THREADS")
    if env is not None:
        try:
            n = int(env)
        except ValueError:
            raise ValueError(f"SMATE_THREADS={env!r} is not an integer; set it to the torch threads per process, "
                             "e.g. SMATE_THREADS=1 (0 = torch's default)") from None
        if n < 0:
            raise ValueError(f"SMATE_THREADS={env!r}: need ≥ 0 (0 = torch's default)")
    if n is None:
        n = 1
    if n > 0:
        torch.set_num_threads(n)
    return torch.get_num_threads()
