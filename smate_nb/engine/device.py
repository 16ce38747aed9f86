"""Device handling, once: which device a run uses, its autocast precision, backend switches, a description.

* :func:`resolve_device` — ``"auto"`` → ``cuda`` when available, else ``cpu``; ``"cuda"`` gets an explicit
  index (``LOCAL_RANK`` under torchrun); asking for CUDA without one is a clear error.
* :func:`resolve_amp` — the autocast dtype of an ``OptimSpec.amp`` value on a device.
* :func:`configure_backends` — TF32 for fp32 matrix products left outside autocast on CUDA. Called by
  :func:`smate_nb.engine.step.build_train_step`, so the step that trains and the step that benchmarks
  run with the same switches.
* :func:`describe_device` — a JSON-able description of where a measurement or a run happened.
* :func:`cpu_isa` — the vector instruction set of torch's CPU kernels in this process (recorded with every run).
"""
from __future__ import annotations

import os
import platform
from typing import Any

import torch

__all__ = ["resolve_device", "resolve_amp", "configure_backends", "describe_device", "device_name", "cpu_isa"]

_AMP = {"bf16": torch.bfloat16, "bf16-stream": torch.bfloat16, "fp16": torch.float16}


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """The ``torch.device`` a run uses.

    Args:
        device: ``"auto"`` / ``None`` (CUDA if available, else CPU), ``"cpu"``, ``"cuda"``, ``"cuda:N"``
            or a ``torch.device``.
    Returns:
        a device; a CUDA device always carries an index (``torch.cuda.set_device`` refuses a bare
        ``"cuda"``), ``LOCAL_RANK`` under torchrun.
    Raises:
        ValueError: CUDA asked for but not available, or an unknown device string.
    """
    if isinstance(device, torch.device):
        dev = device
    else:
        name = "auto" if device in (None, "") else str(device)
        if name == "auto":
            name = "cuda" if torch.cuda.is_available() else "cpu"
        try:
            dev = torch.device(name)
        except RuntimeError:
            raise ValueError(f"device {device!r} is not a device; use 'auto', 'cpu', 'cuda' or 'cuda:N'") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r} asked for, but torch sees no CUDA device (torch "
                             f"{torch.__version__}, CUDA build: {torch.version.cuda}); use device='auto' or 'cpu'")
        if dev.index is None:
            dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    elif dev.type != "cpu":
        raise ValueError(f"device {device!r}: only CPU and CUDA devices are supported")
    return dev


def resolve_amp(amp: str, device: torch.device) -> torch.dtype | None:
    """Autocast dtype for ``OptimSpec.amp`` on ``device`` (``None``: plain fp32).

    ``"auto"`` means bf16 on a CUDA device that supports it and fp32 elsewhere (bf16 on a CPU without AMX
    is slower than fp32); ``"off"`` disables autocast; ``"fp16"`` needs CUDA (it trains with a gradient
    scaler); ``"bf16-stream"`` trains without autocast on bf16 copies of the weights
    (:class:`~smate_nb.engine.step.Bf16Stream`) and evaluates under bf16 autocast, hence bf16 here.
    """
    if amp == "off":
        return None
    if amp == "auto":
        return torch.bfloat16 if device.type == "cuda" and torch.cuda.is_bf16_supported() else None
    if amp not in _AMP:
        raise ValueError(f"OptimSpec.amp = {amp!r}; choose 'auto', 'bf16', 'bf16-stream', 'fp16' or 'off'")
    if amp == "fp16" and device.type != "cuda":
        raise ValueError("OptimSpec.amp = 'fp16' needs a CUDA device; use 'auto' or 'off' on the CPU")
    return _AMP[amp]


def configure_backends(device: torch.device) -> dict[str, Any]:
    """Backend switches for training on ``device``; returns what was set (recorded with results).

    On CUDA: TF32 for any fp32 matrix product left outside autocast (and the whole step when
    ``amp="off"``). Nothing on CPU.
    """
    if device.type != "cuda":
        return {}
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    return {"tf32_matmul": True, "tf32_cudnn": True}


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_isa() -> str:
    """The vector instruction set torch's CPU kernels use in this process (``"AVX2"``, ``"AVX512"``, ``"DEFAULT"``…;
    :data:`smate_nb.config.CPU_ISA_ENV` says why it is recorded)."""
    return torch.backends.cpu.get_cpu_capability()


def device_name(device: torch.device) -> str:
    """Short human-readable name: the GPU's name, or the CPU model with the torch thread count."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({_cpu_model()}, {torch.get_num_threads()} torch threads)"


def describe_device(device: str | torch.device = "auto") -> dict[str, Any]:
    """A JSON-able description of a device (name, memory, versions, threads, bf16 peak where known)."""
    dev = resolve_device(device)
    info: dict[str, Any] = {"device": str(dev), "torch": torch.__version__, "python": platform.python_version(),
                            "torch_threads": torch.get_num_threads(), "cpu": _cpu_model(),
                            "cpu_isa": cpu_isa(), "cpu_count": os.cpu_count()}
    if dev.type == "cuda":
        from ..throughput import device_peak_flops

        props = torch.cuda.get_device_properties(dev)
        peak, key = device_peak_flops(props.name)
        info.update({"name": props.name, "cuda": torch.version.cuda,
                     "capability": f"{props.major}.{props.minor}", "multiprocessors": props.multi_processor_count,
                     "memory_gib": round(props.total_memory / 2**30, 2),
                     "bf16_peak_tflops": None if peak is None else peak / 1e12, "peak_row": key,
                     "flash_sdp": torch.backends.cuda.flash_sdp_enabled(),
                     "mem_efficient_sdp": torch.backends.cuda.mem_efficient_sdp_enabled(),
                     "tf32_matmul": torch.backends.cuda.matmul.allow_tf32})
    else:
        info["name"] = info["cpu"]
    return info
