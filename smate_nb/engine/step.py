"""The training step, once: the optimiser, the learning-rate schedule and one optimisation step.

:func:`build_train_step` is the only way the suite makes a step: :func:`smate_nb.engine.fit` trains with
it and :func:`smate_nb.throughput.time_train_step` times it, so a benchmark measures exactly what
training runs (same autocast, TF32, compile and fused-optimiser settings).

One step (:meth:`TrainStep.__call__`): forward under ``torch.autocast`` (bf16 on CUDA by default;
attention through the model's ``scaled_dot_product_attention``), cross-entropy in fp32, a non-finite loss
stops the run before it touches the weights, backward (scaled by ``1/accum_steps``; fp16 through a
gradient scaler), and — on the last micro-batch of an accumulation group — gradient-norm clipping, the
optimiser step (fused AdamW on CUDA) and ``zero_grad(set_to_none=True)``.

With ``OptimSpec.amp = "bf16-stream"`` the forward runs without autocast through :class:`Bf16Stream`: the
model's fp32 parameters stay the master weights the optimiser updates, and each step computes on bf16 copies
of them, so activations, LayerNorms and the residual stream are bf16 (autocast keeps the residual stream and
LayerNorms in fp32 and casts before every matrix product). One of issue 13's step-speed candidates.
"""
from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .device import configure_backends, resolve_amp
from .specs import OptimSpec

__all__ = ["NonFiniteLossError", "make_optimizer", "lr_factor", "Bf16Stream", "compute_module", "TrainStep",
           "build_train_step"]


class NonFiniteLossError(RuntimeError):
    """The training loss became NaN or infinite."""


def make_optimizer(model: nn.Module, optim: OptimSpec, device: torch.device) -> torch.optim.AdamW:
    """AdamW over the model's trainable parameters, every parameter decayed by ``optim.weight_decay``.

    The fused kernel on CUDA (one launch for all parameters); the multi-tensor ``foreach`` kernel on CPU.
    ``optimizer.impl`` records which (``"fused"`` / ``"foreach"``).
    """
    params = [p for p in model.parameters() if p.requires_grad]
    fused = device.type == "cuda"
    opt = torch.optim.AdamW(params, lr=optim.lr, weight_decay=optim.weight_decay,
                            **({"fused": True} if fused else {"foreach": True}))
    opt.impl = "fused" if fused else "foreach"  # type: ignore[attr-defined]
    return opt


def lr_factor(step: int, total: int, warmup: int) -> float:
    """Learning-rate multiplier at optimiser step ``step`` (0-based): linear warm-up over ``warmup`` steps,
    then cosine decay to 0 at ``total``."""
    if warmup > 0 and step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def _to_bf16(x: Any) -> Any:
    if isinstance(x, torch.Tensor):
        return x.to(torch.bfloat16) if x.is_floating_point() else x
    if isinstance(x, (list, tuple)):
        return type(x)(_to_bf16(v) for v in x)
    if isinstance(x, dict):
        return {k: _to_bf16(v) for k, v in x.items()}
    return x


class Bf16Stream(nn.Module):
    """Run ``module`` in bf16 while its parameters stay fp32 (the master weights).

    ``forward(*args, **kwargs)``: every floating parameter and buffer of ``module`` is cast to bf16 for
    this call (:func:`torch.func.functional_call`), floating tensors among the arguments too (a clip
    ``[B, T, C, H, W]``, views; masks and labels untouched); returns ``module``'s output in bf16 (logits
    ``[B, classes]``). The casts are differentiable, so backward delivers fp32 gradients to the fp32
    parameters, and the optimiser, clipping and checkpoints see an ordinary fp32 model.
    """

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        tensors = {name: _to_bf16(t) for name, t in self.module.named_parameters()}
        tensors.update({name: _to_bf16(t) for name, t in self.module.named_buffers()})
        return torch.func.functional_call(self.module, tensors, _to_bf16(args), _to_bf16(kwargs))


def compute_module(model: nn.Module, optim: OptimSpec) -> nn.Module:
    """What the forward pass calls for ``optim``: :class:`Bf16Stream` ``(model)`` for ``amp="bf16-stream"``,
    else ``model`` itself (the DDP wrapper of :func:`smate_nb.engine.fit` wraps this)."""
    return Bf16Stream(model) if optim.amp == "bf16-stream" else model


class TrainStep:
    """One optimisation step of a model (build it with :func:`build_train_step`).

    Attributes:
        model: the module whose parameters are optimised (for clipping and checkpoints).
        forward: what is called for the logits — ``model``, or its DDP / ``torch.compile`` wrapper.
        optimizer, scaler (fp16 only), amp_dtype, accum_steps, grad_clip, label_smoothing.

    ``step(clip, labels, views=None, mix=None, *, update=True)`` runs forward + backward of one
    (micro-)batch and, when ``update`` is true, the optimiser update. Returns ``(loss, logits)``, both
    detached; the loss is the batch mean (not divided by ``accum_steps``). With ``check_finite`` a NaN/inf
    loss raises :class:`NonFiniteLossError` before backward (one host synchronisation per step; the
    benchmarks switch it off).
    """

    def __init__(self, model: nn.Module, forward: nn.Module, optimizer: torch.optim.Optimizer, *,
                 device: torch.device, amp_dtype: torch.dtype | None, accum_steps: int = 1, grad_clip: float = 0.0,
                 label_smoothing: float = 0.0, compiled: bool = False, backends: dict[str, Any] | None = None,
                 check_finite: bool = True, stream: bool = False, compile_mode: str = "default") -> None:
        self.model, self.forward, self.optimizer = model, forward, optimizer
        self.device, self.amp_dtype = device, amp_dtype
        # stream: ``forward`` computes in bf16 itself (Bf16Stream); autocast stays off in the step.
        self.stream, self.compile_mode = stream, compile_mode
        self.accum_steps, self.grad_clip, self.label_smoothing = accum_steps, grad_clip, label_smoothing
        self.compiled, self.backends, self.check_finite = compiled, backends or {}, check_finite
        self.scaler = torch.amp.GradScaler(device.type) if amp_dtype == torch.float16 else None

    @property
    def precision(self) -> str:
        """``fp32`` / ``bf16`` / ``bf16-stream`` / ``fp16``."""
        if self.stream:
            return "bf16-stream"
        return {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[self.amp_dtype]

    @property
    def optimizer_impl(self) -> str:
        return str(getattr(self.optimizer, "impl", type(self.optimizer).__name__))

    def settings(self) -> dict[str, Any]:
        """What determines the step's numerics and speed (compared by the tests: fit vs benchmark)."""
        return {"device": self.device.type, "precision": self.precision, "compiled": self.compiled,
                "compile_mode": self.compile_mode if self.compiled else None,
                "optimizer": self.optimizer_impl, "accum_steps": self.accum_steps, "grad_clip": self.grad_clip,
                "label_smoothing": self.label_smoothing, "backends": dict(self.backends),
                "step_class": type(self).__qualname__}

    def set_lr(self, lr: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def __call__(self, clip: torch.Tensor, labels: torch.Tensor, views: Any = None, mix: torch.Tensor | None = None,
                 *, update: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        return self.step(clip, labels, views, mix, update=update)

    def step(self, clip: torch.Tensor, labels: torch.Tensor, views: Any = None, mix: torch.Tensor | None = None,
             *, update: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        autocast = self.amp_dtype is not None and not self.stream
        with torch.autocast(self.device.type, dtype=self.amp_dtype or torch.float32, enabled=autocast):
            logits = self.forward(clip, views, mix=mix)
        loss = F.cross_entropy(logits.float(), labels, label_smoothing=self.label_smoothing)
        if self.check_finite and not bool(torch.isfinite(loss)):
            raise NonFiniteLossError(f"loss is {loss.item()}")
        scaled = loss / self.accum_steps
        (self.scaler.scale(scaled) if self.scaler is not None else scaled).backward()
        if update:
            if self.scaler is not None:
                if self.grad_clip:
                    self.scaler.unscale_(self.optimizer)
                    nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
                self.scaler.step(self.optimizer)
                self.scaler.update()
            else:
                if self.grad_clip:
                    nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
                self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
        return loss.detach(), logits.detach()


def build_train_step(model: nn.Module, optim: OptimSpec, device: torch.device, *,
                     wrap: nn.Module | None = None, check_finite: bool = True,
                     compile_mode: str | None = None, compile_backend: str = "inductor") -> TrainStep:
    """The training step of an experiment: the one factory for training and benchmarks.

    Args:
        model: the network, already on ``device``.
        optim: the run's optimisation spec (lr, weight decay, clipping, accumulation, amp, compile).
        device: the training device (:func:`~smate_nb.engine.device.resolve_device`).
        wrap: call this module for the forward pass instead of ``compute_module(model, optim)`` (the DDP
            wrapper, built around :func:`compute_module`).
        check_finite: stop on a NaN/inf loss (training) or not (timing, no host synchronisation).
        compile_mode, compile_backend: ``torch.compile`` mode (``None`` = ``optim.compile_mode``) and backend
            when ``optim.compile`` (the tests use the ``eager`` backend: traced by dynamo, no C++ build).
    Returns:
        a :class:`TrainStep`.
    """
    backends = configure_backends(device)
    model.train()
    forward = wrap if wrap is not None else compute_module(model, optim)
    mode = compile_mode or optim.compile_mode
    if optim.compile:
        forward = torch.compile(forward, mode=None if mode == "default" else mode, backend=compile_backend)
    return TrainStep(model, forward, make_optimizer(model, optim, device), device=device,
                     amp_dtype=resolve_amp(optim.amp, device), accum_steps=optim.accum_steps,
                     grad_clip=optim.grad_clip, label_smoothing=optim.label_smoothing, compiled=optim.compile,
                     backends=backends, check_finite=check_finite, stream=optim.amp == "bf16-stream",
                     compile_mode=mode)
