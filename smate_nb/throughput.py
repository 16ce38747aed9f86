"""Training throughput, measured around the engine's own step and inputs (paper Table 5).

Measurement only — nothing here trains differently from :func:`smate_nb.engine.fit`:

* :func:`time_train_step` — times the step that :func:`smate_nb.engine.step.build_train_step` makes for
  an :class:`~smate_nb.engine.specs.OptimSpec` (the factory ``fit`` uses: same autocast, TF32, compile and
  fused-optimiser settings): per-step wall times after a warm-up (synchronised on GPU), median / min / max,
  steps per minute, clips per second, and peak memory (:class:`PeakMemory`: CUDA max allocated on GPU;
  the process's resident-set high-water mark on CPU, reset before the measurement).
* MFU — model FLOPs utilisation, ``achieved FLOP/s ÷ peak FLOP/s``. Training FLOPs per clip are taken as
  ``3 × 2 × MACs`` (forward = 2 FLOPs per MAC, backward ≈ 2 × forward); the peak is the device's dense
  bf16 tensor-core figure from :data:`BF16_PEAK_TFLOPS` (NVIDIA datasheets, no 2:4 sparsity), found by
  :func:`device_peak_flops` from the CUDA device name.
* :func:`profile_train_step` — where a step's time goes, by ATen operator and by category (matrix
  products, attention, norms, optimiser, …), plus on GPU the fraction of wall time the device is busy.
* :func:`time_data_pipeline` — the per-batch data work of training, i.e. the engine's
  :class:`~smate_nb.engine.inputs.InputPipeline`, timed per stage (its ``clock`` hook), so the data-side
  clips/s can be set against the model-step clips/s. :func:`to_device` moves pinned uint8 batches with
  ``non_blocking`` copies (4× fewer bytes than float).

Device resolution and description are the engine's (:mod:`smate_nb.engine.device`), re-exported here.
"""
from __future__ import annotations

import contextlib
import ctypes
import gc
import math
import os
import re
import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable, Iterator

import torch
from torch import nn

from .engine.device import describe_device, resolve_device
from .engine.inputs import InputPipeline
from .engine.specs import OptimSpec
from .engine.step import TrainStep, build_train_step

__all__ = [
    "BF16_PEAK_TFLOPS",
    "PEAK_SOURCES",
    "device_peak_flops",
    "training_flops_per_clip",
    "mfu",
    "resolve_device",
    "describe_device",
    "rss_bytes",
    "PeakMemory",
    "StepTiming",
    "random_batch",
    "time_train_step",
    "op_category",
    "profile_train_step",
    "to_device",
    "PipelineTiming",
    "synthetic_clips",
    "time_data_pipeline",
]

# --------------------------------------------------------------------------- device peaks and MFU

#: Dense bf16 tensor-core peak of common training GPUs, TFLOP/s (NVIDIA datasheet figures; the datasheets
#: print the 2:4-sparsity figure first, which is twice these). Boost clocks; sustained clocks are lower,
#: and a large bf16 matrix product reaches ~80 % of these on an H100 SXM.
BF16_PEAK_TFLOPS: dict[str, float] = {
    "H100 SXM": 989.4,     # H100 SXM5 80 GB (HBM3); 1979 with sparsity
    "H100 NVL": 835.5,     # per GPU; 1671 with sparsity
    "H100 PCIe": 756.5,    # 1513 with sparsity
    "H200 SXM": 989.4,     # same GH100 compute as H100 SXM, HBM3e
    "H200 NVL": 835.5,
    "A100": 312.0,         # SXM4 and PCIe, 40 / 80 GB; 624 with sparsity
    "RTX A6000": 154.8,    # the paper's GPU (Table 5); 309.7 with sparsity
    "L40S": 362.05,        # 733 with sparsity
}

#: Where each row of :data:`BF16_PEAK_TFLOPS` comes from.
PEAK_SOURCES: dict[str, str] = {
    "H100 SXM": "NVIDIA H100 Tensor Core GPU datasheet (SXM5), BF16 Tensor Core 1,979 TFLOPS with sparsity ÷ 2",
    "H100 NVL": "NVIDIA H100 NVL datasheet, BF16 1,671 TFLOPS with sparsity ÷ 2",
    "H100 PCIe": "NVIDIA H100 Tensor Core GPU datasheet (PCIe), BF16 1,513 TFLOPS with sparsity ÷ 2",
    "H200 SXM": "NVIDIA H200 datasheet (SXM), BF16 1,979 TFLOPS with sparsity ÷ 2",
    "H200 NVL": "NVIDIA H200 datasheet (NVL), BF16 1,671 TFLOPS with sparsity ÷ 2",
    "A100": "NVIDIA A100 datasheet, BF16 Tensor Core 312 TFLOPS dense (624 with sparsity)",
    "RTX A6000": "NVIDIA RTX A6000 datasheet, peak BF16 Tensor 309.7 TFLOPS with sparsity ÷ 2",
    "L40S": "NVIDIA L40S datasheet, BF16 Tensor 733 TFLOPS with sparsity ÷ 2",
}

# Order matters: the more specific name first ("H200 NVL" before "H200", "A100" before anything shorter).
_NAME_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"H200\s*NVL", "H200 NVL"), (r"H200", "H200 SXM"),
    (r"H100\s*NVL", "H100 NVL"), (r"H100\s*PCIe", "H100 PCIe"), (r"H100", "H100 SXM"),
    (r"A100", "A100"), (r"RTX\s*A6000", "RTX A6000"), (r"L40S", "L40S"),
)


def device_peak_flops(device_name: str | None = None, override_tflops: float | None = None
                      ) -> tuple[float | None, str | None]:
    """Dense bf16 peak FLOP/s of a device, and which table row gave it.

    Args:
        device_name: e.g. ``torch.cuda.get_device_name()`` ("NVIDIA H100 80GB HBM3").
            ``None`` reads the current CUDA device, if any.
        override_tflops: use this peak instead (TFLOP/s); the environment variable
            ``SMATE_PEAK_TFLOPS`` does the same. The key is then ``"override"``.
    Returns:
        ``(FLOP/s, key)``, or ``(None, None)`` for an unknown device (CPUs included:
        MFU is a GPU figure here).
    """
    env = os.environ.get("SMATE_PEAK_TFLOPS")
    if override_tflops is None and env:
        override_tflops = float(env)
    if override_tflops is not None:
        if override_tflops <= 0:
            raise ValueError(f"peak TFLOP/s must be positive, got {override_tflops}")
        return override_tflops * 1e12, "override"
    if device_name is None:
        if not torch.cuda.is_available():
            return None, None
        device_name = torch.cuda.get_device_name()
    for pattern, key in _NAME_PATTERNS:
        if re.search(pattern, device_name, flags=re.IGNORECASE):
            return BF16_PEAK_TFLOPS[key] * 1e12, key
    return None, None


def training_flops_per_clip(macs_per_clip: float, factor: float = 3.0) -> float:
    """Training FLOPs of one clip: ``factor × 2 × MACs`` (forward 1×, backward ≈ 2×; 2 FLOPs per MAC)."""
    return factor * 2.0 * float(macs_per_clip)


def mfu(clips_per_s: float, macs_per_clip: float, peak_flops: float | None) -> float:
    """Model FLOPs utilisation: ``clips/s × 6 × MACs ÷ peak FLOP/s`` (NaN without a peak)."""
    if peak_flops is None or not peak_flops > 0:
        return math.nan
    return clips_per_s * training_flops_per_clip(macs_per_clip) / peak_flops


# --------------------------------------------------------------------------- memory


def _proc_status_kib(field_name: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_bytes() -> int:
    """Current resident set size of this process in bytes (``/proc/self/status``, else psutil)."""
    kib = _proc_status_kib("VmRSS")
    if kib is not None:
        return kib * 1024
    import psutil

    return psutil.Process().memory_info().rss


def _release_host_memory() -> None:
    """Collect garbage and hand freed heap back to the OS, so an RSS peak measures what follows."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _reset_rss_peak() -> bool:
    """Reset the kernel's RSS high-water mark (VmHWM) of this process (Linux ≥ 4.0); True if it worked."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


class PeakMemory:
    """Peak memory of the code inside ``with PeakMemory(device) as pm:``.

    * CUDA: ``torch.cuda.max_memory_allocated`` after ``reset_peak_memory_stats``
      (tensors only; the caching allocator's reserve and the CUDA context are not
      included). ``kind = "cuda_max_allocated"``.
    * CPU: the process's resident-set high-water mark (``VmHWM``), reset on entry
      after a garbage collection and ``malloc_trim``. It includes everything
      resident — Python, torch's libraries, the model — so ``baseline_bytes``
      (RSS on entry) is recorded too; ``peak_bytes − baseline_bytes`` is what the
      measured code added. ``kind = "rss_peak"``; where the mark cannot be reset
      it is the process-lifetime peak, ``kind = "rss_peak_process_lifetime"``.
    """

    def __init__(self, device: str | torch.device = "auto") -> None:
        self.device = resolve_device(device)
        self.kind = ""
        self.peak_bytes = 0
        self.baseline_bytes = 0

    def __enter__(self) -> "PeakMemory":
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self.baseline_bytes = torch.cuda.memory_allocated(self.device)
            self.kind = "cuda_max_allocated"
        else:
            _release_host_memory()
            self.kind = "rss_peak" if _reset_rss_peak() else "rss_peak_process_lifetime"
            self.baseline_bytes = rss_bytes()
        return self

    def read(self) -> int:
        """Peak so far (bytes)."""
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            return int(torch.cuda.max_memory_allocated(self.device))
        kib = _proc_status_kib("VmHWM")
        if kib is not None:
            return max(kib * 1024, rss_bytes())
        import resource

        return max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, rss_bytes())

    def __exit__(self, *exc: Any) -> None:
        self.peak_bytes = self.read()


# --------------------------------------------------------------------------- timing


@dataclass
class StepTiming:
    """Result of :func:`time_train_step` (all times in seconds, memory in bytes)."""

    batch_size: int
    num_frames: int
    image_size: int
    n_views: int
    device: str
    device_name: str
    precision: str
    compiled: bool
    optimizer_impl: str
    warmup_s: list[float]
    step_s: list[float]
    peak_memory_bytes: int
    memory_kind: str
    baseline_memory_bytes: int
    final_loss: float
    params: int
    losses: list[float] = field(default_factory=list)   # every step's loss, warm-up first (``record_losses``)

    @property
    def median_s(self) -> float:
        return statistics.median(self.step_s)

    @property
    def min_s(self) -> float:
        return min(self.step_s)

    @property
    def max_s(self) -> float:
        return max(self.step_s)

    @property
    def steps_per_min(self) -> float:
        return 60.0 / self.median_s

    @property
    def clips_per_s(self) -> float:
        return self.batch_size / self.median_s

    def achieved_tflops(self, macs_per_clip: float) -> float:
        """Training TFLOP/s at the median step: ``clips/s × 6 × MACs``."""
        return self.clips_per_s * training_flops_per_clip(macs_per_clip) / 1e12

    def mfu(self, macs_per_clip: float, peak_flops: float | None) -> float:
        return mfu(self.clips_per_s, macs_per_clip, peak_flops)

    def summary(self) -> dict[str, Any]:
        """Flat JSON-able dict: the raw fields plus median/min/max, steps/min, clips/s."""
        d = asdict(self)
        d.update(median_s=self.median_s, min_s=self.min_s, max_s=self.max_s,
                 steps_per_min=self.steps_per_min, clips_per_s=self.clips_per_s)
        return d


def random_batch(batch_size: int, num_frames: int, image_size: int, *, n_views: int = 0, num_classes: int = 7,
                 channels: int = 3, device: str | torch.device = "cpu", seed: int = 0
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """A random training batch on ``device``: clips ``[B,T,C,H,W]`` in [0, 1], labels ``[B]``,
    views ``[B,N,T,C,H,W]`` (``None`` when ``n_views == 0``)."""
    dev = resolve_device(device)
    g = torch.Generator().manual_seed(seed)
    clip = torch.rand(batch_size, num_frames, channels, image_size, image_size, generator=g)
    labels = torch.randint(0, num_classes, (batch_size,), generator=g)
    views = None
    if n_views:
        views = torch.rand(batch_size, n_views, num_frames, channels, image_size, image_size, generator=g)
        views = views.to(dev)
    return clip.to(dev), labels.to(dev), views


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_train_step(model: nn.Module, *, batch_size: int, optim: OptimSpec | None = None,
                    num_frames: int | None = None, image_size: int | None = None,
                    device: str | torch.device = "auto", steps: int = 10, warmup: int = 3, n_views: int = 0,
                    mix_prob: float | None = None, seed: int = 0, compile_mode: str | None = None,
                    train_step: TrainStep | None = None, batches: int = 1,
                    record_losses: bool = False, compile_backend: str = "inductor") -> StepTiming:
    """Time forward + backward + optimiser steps of ``model`` on random data, with the engine's step.

    The step is :func:`~smate_nb.engine.step.build_train_step` ``(model, optim, device)`` — what
    :func:`smate_nb.engine.fit` trains with — except that it does not check the loss for NaN each step
    (that check synchronises the host). The batch is made once on the device (host→device copies are
    *not* in the figure — :func:`time_data_pipeline` measures the data side). ``warmup`` steps run
    first (autotuning, allocator growth, ``torch.compile``; their times are kept in ``warmup_s``), then
    ``steps`` timed steps, each bracketed by a device synchronisation. Peak memory covers warm-up and timed
    steps (optimiser state included). The model is trained by this (its weights change).

    Args:
        model: e.g. ``build_vivit(...)``; clip geometry defaults to its config.
        batch_size: clips per step.
        optim: the optimisation spec (amp, compile, lr, clipping…); default ``OptimSpec()`` (the cpu
            profile's).
        n_views: augmented views per clip fed to mixed-token embedding (Eq. 7); 0 times the plain model
            (the Table 5 MACs). ``mix_prob``: the Eq. 7 draw probability (default: the model's own).
        compile_mode: ``torch.compile`` mode when ``optim.compile`` (``None``: ``optim.compile_mode``);
            ``compile_backend``: its backend (``"eager"``: dynamo tracing only, for CPU tests).
        train_step: time this ready step instead of building one.
        batches: cycle through this many random batches (seeds ``seed``, ``seed + 1``, …), so that a loss
            curve shows the model fitting a small fixed set rather than one batch.
        record_losses: keep every step's loss in ``losses`` (read after the step's closing synchronisation,
            so outside the timed interval; with CUDA it is one more host sync per step).
    Returns:
        a :class:`StepTiming`.
    """
    if steps < 1 or warmup < 0 or batch_size < 1:
        raise ValueError(f"need steps ≥ 1, warmup ≥ 0, batch_size ≥ 1 (got {steps}, {warmup}, {batch_size})")
    cfg = getattr(model, "config", None)
    num_frames = num_frames or getattr(cfg, "num_frames", None)
    image_size = image_size or getattr(cfg, "image_size", None)
    if num_frames is None or image_size is None:
        raise ValueError("num_frames and image_size are needed for a model without a ViViT config")
    if train_step is None:
        dev = resolve_device(device)
        train_step = build_train_step(model.to(dev), optim or OptimSpec(), dev, check_finite=False,
                                      compile_mode=compile_mode, compile_backend=compile_backend)
    ts = train_step
    dev = ts.device
    num_classes = getattr(cfg, "num_classes", 7)
    channels = getattr(cfg, "in_channels", 3)
    if batches < 1:
        raise ValueError(f"need batches ≥ 1 (got {batches})")
    pool = [random_batch(batch_size, num_frames, image_size, n_views=n_views, num_classes=num_classes,
                         channels=channels, device=dev, seed=seed + j) for j in range(batches)]
    p = mix_prob if mix_prob is not None else getattr(cfg, "mix_prob", 0.5)
    g = torch.Generator().manual_seed(seed + 1)
    mixes = [(torch.rand(batch_size, generator=g) < p).to(dev) if n_views else None for _ in range(warmup + steps)]
    warm, timed, losses = [], [], []
    loss = torch.zeros(())
    with PeakMemory(dev) as pm:
        for i in range(warmup + steps):
            clip, labels, views = pool[i % batches]
            _sync(dev)
            t0 = time.perf_counter()
            loss, _ = ts.step(clip, labels, views, mixes[i])
            _sync(dev)
            (warm if i < warmup else timed).append(time.perf_counter() - t0)
            if record_losses:
                losses.append(float(loss.item()))
    final = float(loss.item())
    return StepTiming(batch_size=batch_size, num_frames=num_frames, image_size=image_size, n_views=n_views,
                      device=str(dev), device_name=describe_device(dev)["name"], precision=ts.precision,
                      compiled=ts.compiled, optimizer_impl=ts.optimizer_impl, warmup_s=warm, step_s=timed,
                      peak_memory_bytes=pm.peak_bytes, memory_kind=pm.kind, baseline_memory_bytes=pm.baseline_bytes,
                      final_loss=final, params=sum(q.numel() for q in ts.model.parameters()), losses=losses)


# --------------------------------------------------------------------------- profiling


_CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("attention", ("scaled_dot_product", "flash_attention", "efficient_attention", "cudnn_attention",
                   "_attention", "fmha")),
    ("optimizer", ("adam", "foreach", "multi_tensor", "_amp_foreach")),
    ("convolution (tubelet)", ("conv", "cudnn_convolution", "slow_conv3d", "mkldnn_convolution")),
    ("matrix products", ("addmm", "::mm", "bmm", "matmul", "linear", "baddbmm", "gemm")),
    ("layer norm", ("layer_norm",)),
    ("GELU", ("gelu",)),
    ("softmax / loss", ("softmax", "nll_loss", "cross_entropy")),
    ("copies / layout", ("copy_", "_to_copy", "clone", "contiguous", "cat", "stack", "index", "expand",
                         "permute", "transpose", "view", "reshape", "fill_", "zero_", "empty", "select",
                         "slice", "unbind", "split", "chunk", "as_strided", "unsqueeze", "squeeze")),
    ("elementwise", ("add", "mul", "div", "sub", "where", "sum", "mean", "sqrt", "pow", "neg", "rsub", "clamp")),
)


def op_category(name: str) -> str:
    """Coarse category of an ATen operator name (``aten::addmm`` → ``"matrix products"``)."""
    n = name.lower()
    for cat, keys in _CATEGORIES:
        if any(k in n for k in keys):
            return cat
    return "other"


def profile_train_step(train_step: TrainStep, batch: tuple[torch.Tensor, torch.Tensor, Any], *, steps: int = 3,
                       warmup: int = 2, top: int = 15) -> dict[str, Any]:
    """Where the time of a training step goes, from ``torch.profiler``.

    Times are *self* times of ATen operators (kernels launched by an operator are
    attributed to it, not to its callers), on the device for CUDA and on the host
    for CPU, summed over ``steps`` profiled steps and divided by ``steps``.

    Returns:
        ``{"ops": [{op, category, ms_per_step, share, calls_per_step}, …top],
        "categories": [{category, ms_per_step, share}, …], "wall_ms_per_step": …,
        "device_busy": device time ÷ wall time (CUDA only; NaN on CPU),
        "timer": "cuda" | "cpu"}``.
    """
    from torch.profiler import ProfilerActivity, profile

    dev = train_step.device
    clip, labels, views = batch
    for _ in range(warmup):
        train_step.step(clip, labels, views)
    _sync(dev)
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if dev.type == "cuda" else [])
    with profile(activities=activities) as prof:
        t0 = time.perf_counter()
        for _ in range(steps):
            train_step.step(clip, labels, views)
        _sync(dev)
        wall = (time.perf_counter() - t0) / steps
    use_cuda = dev.type == "cuda"
    rows = []
    for ev in prof.key_averages():
        if not ev.key.startswith("aten::"):
            continue
        if use_cuda:   # renamed from self_cuda_time_total in newer PyTorch
            us = getattr(ev, "self_device_time_total", None) or getattr(ev, "self_cuda_time_total", 0.0) or 0.0
        else:
            us = ev.self_cpu_time_total or 0.0
        if us <= 0:
            continue
        rows.append({"op": ev.key, "category": op_category(ev.key), "ms_per_step": us / 1e3 / steps,
                     "calls_per_step": ev.count / steps})
    total = sum(r["ms_per_step"] for r in rows) or math.nan
    for r in rows:
        r["share"] = r["ms_per_step"] / total
    rows.sort(key=lambda r: -r["ms_per_step"])
    cats: dict[str, float] = {}
    for r in rows:
        cats[r["category"]] = cats.get(r["category"], 0.0) + r["ms_per_step"]
    categories = [{"category": c, "ms_per_step": ms, "share": ms / total}
                  for c, ms in sorted(cats.items(), key=lambda kv: -kv[1])]
    return {"ops": rows[:top], "categories": categories, "wall_ms_per_step": wall * 1e3,
            "profiled_ms_per_step": total, "device_busy": (total / (wall * 1e3)) if use_cuda else math.nan,
            "timer": "cuda" if use_cuda else "cpu"}


# --------------------------------------------------------------------------- data pipeline


def to_device(batch: torch.Tensor, device: str | torch.device, non_blocking: bool = True) -> torch.Tensor:
    """Move a (uint8) batch to ``device``; on CUDA from pinned memory, asynchronously.

    A batch that is not pinned is pinned first (a DataLoader with
    ``pin_memory=True`` hands pinned batches and skips that copy).
    """
    dev = resolve_device(device)
    if dev.type == "cuda" and batch.device.type == "cpu":
        if not batch.is_pinned():
            batch = batch.pin_memory()
        return batch.to(dev, non_blocking=non_blocking)
    return batch.to(dev)


def synthetic_clips(n_batches: int, batch_size: int, num_frames: int, frame_size: int, *, channels: int = 3,
                    seed: int = 0, pin: bool = False, pool: int = 2) -> Iterator[torch.Tensor]:
    """``n_batches`` uint8 batches ``B×T×H×W×C`` from a small pre-made pool (so "loading" costs ~nothing and
    the measurement isolates transfer + on-device work). ``pin``: pin the pool's memory (for CUDA)."""
    g = torch.Generator().manual_seed(seed)
    bank = [torch.randint(0, 256, (batch_size, num_frames, frame_size, frame_size, channels), generator=g,
                          dtype=torch.uint8) for _ in range(max(1, pool))]
    if pin:
        bank = [b.pin_memory() for b in bank]
    for i in range(n_batches):
        yield bank[i % len(bank)]


@dataclass
class PipelineTiming:
    """Result of :func:`time_data_pipeline` (seconds summed over the timed batches)."""

    batches: int
    clips: int
    load_s: float
    transfer_s: float
    stage_s: dict[str, float]
    wall_s: float
    device: str
    views_per_clip: int

    @property
    def clips_per_s(self) -> float:
        """End-to-end data clips/s (load + transfer + on-device work)."""
        return self.clips / self.wall_s

    @property
    def load_clips_per_s(self) -> float:
        return self.clips / self.load_s if self.load_s > 0 else math.inf

    @property
    def device_clips_per_s(self) -> float:
        """Clips/s of the on-device part alone (transfer + transforms + views + LBP)."""
        s = self.transfer_s + sum(self.stage_s.values())
        return self.clips / s if s > 0 else math.inf

    def summary(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(clips_per_s=self.clips_per_s, load_clips_per_s=self.load_clips_per_s,
                 device_clips_per_s=self.device_clips_per_s)
        d["stage_clips_per_s"] = {k: (self.clips / v if v > 0 else math.inf) for k, v in self.stage_s.items()}
        return d


def time_data_pipeline(batches: Iterable[Any], pipeline: InputPipeline | Callable[..., Any], *,
                       device: str | torch.device = "auto", warmup: int = 1, seed: int = 0,
                       sink: Callable[[torch.Tensor, Any], Any] | None = None) -> PipelineTiming:
    """Time the data side of training: load (iterate ``batches``) → :func:`to_device` → ``pipeline``.

    Every stage is bracketed by a device synchronisation, so on a GPU the stages
    do not overlap here as they would with a prefetching loader: the end-to-end
    figure is a lower bound of what an overlapped pipeline sustains, and the
    per-stage figures say which stage to fix. The first ``warmup`` batches are
    not counted.

    Args:
        batches: any iterable of uint8 ``B×T×H×W×C`` batches, or of ``(clips, labels)``
            pairs (a DataLoader over :class:`smate_nb.data.clips.ClipDataset`, or
            :func:`synthetic_clips`).
        pipeline: the on-device work: the engine's :class:`~smate_nb.engine.inputs.InputPipeline`
            (called in training mode; a device-synchronising clock is attached so its stages
            ``to_float+test`` / ``augment`` / ``lbp`` are reported), or any callable
            ``(uint8 batch on device, generator) → (clip, views)`` (reported as one stage, ``"pipeline"``).
        sink: called with each ``(clip, views)`` (e.g. to check shapes).
    """
    dev = resolve_device(device)
    staged = isinstance(pipeline, InputPipeline)
    if staged:
        pipeline.clock = lambda: (_sync(dev), time.perf_counter())[1]
        run = lambda x, g: pipeline(x, train=True, generator=g)  # noqa: E731
    else:
        run = pipeline
    g = torch.Generator().manual_seed(seed)
    it = iter(batches)
    load = transfer = wall = 0.0
    stages: dict[str, float] = {}
    n_batches = n_clips = 0
    i = 0
    while True:
        t0 = time.perf_counter()
        try:
            host = next(it)
        except StopIteration:
            break
        t1 = time.perf_counter()
        if isinstance(host, (tuple, list)):             # (clips, labels) from a DataLoader
            host = host[0]
        x = to_device(host, dev)
        _sync(dev)
        t2 = time.perf_counter()
        clip, views = run(x, g)
        _sync(dev)
        t3 = time.perf_counter()
        if sink is not None:
            sink(clip, views)
        if i >= warmup:
            load += t1 - t0
            transfer += t2 - t1
            wall += t3 - t0
            for k, v in (pipeline.stage_times if staged else {"pipeline": t3 - t2}).items():
                stages[k] = stages.get(k, 0.0) + v
            n_batches += 1
            n_clips += host.shape[0]
        i += 1
    if n_batches == 0:
        raise ValueError(f"time_data_pipeline: no batch after {warmup} warm-up batch(es); give more batches")
    return PipelineTiming(batches=n_batches, clips=n_clips, load_s=load, transfer_s=transfer, stage_s=stages,
                          wall_s=wall, device=str(dev), views_per_clip=getattr(pipeline, "views_per_clip", -1))
