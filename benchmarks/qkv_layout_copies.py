"""Elements written by copy operations in one forward + backward of a ViViT-FE, per ``qkv_layout``.

Every aten operation dispatched in the forward and the backward pass of the engine's step
(:func:`~smate_nb.engine.step.build_train_step`, no optimiser update) is seen through a
:class:`~torch.utils._python_dispatch.TorchDispatchMode`; the elements written by the copies among them
(``copy_``, ``clone`` — what ``reshape`` / ``contiguous`` of a non-contiguous tensor run —, ``stack``, ``cat``,
``_to_copy``) are summed, for each layout of :func:`smate_nb.model.vivit.split_heads`, on the CPU; the loss and
every gradient are checked to agree bit for bit between the layouts. A layout that copies less moves less memory
on any device; whether that is *faster* on a GPU is measured by ``benchmarks/gpu_step_speed.py``.

    python benchmarks/qkv_layout_copies.py [--arch vivit_cpu_fe] [--batch 4]
"""
from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path

import torch
from torch.utils._python_dispatch import TorchDispatchMode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from smate_nb.engine.specs import OptimSpec  # noqa: E402
from smate_nb.engine.step import build_train_step  # noqa: E402
from smate_nb.model.vivit import QKV_LAYOUTS, VIVIT_CONFIGS, build_vivit  # noqa: E402

COPIES = ("copy_", "clone", "stack", "cat", "_to_copy")


class CopyCounter(TorchDispatchMode):
    """Counts the calls of :data:`COPIES` and the elements each writes (its destination / output)."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: collections.Counter[str] = collections.Counter()
        self.calls: collections.Counter[str] = collections.Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        name = func.overloadpacket.__name__
        if name in COPIES:
            written = args[0] if name == "copy_" else out
            self.elements[name] += written.numel()
            self.calls[name] += 1
        return out


def copies(arch: str = "vivit_cpu_fe", batch: int = 4, seed: int = 0) -> dict:
    """Per layout: ``copied_elements`` (all copies), ``by_op`` (elements per operation), ``calls``, and whether
    loss and gradients equal those of the first layout bit for bit."""
    torch.manual_seed(seed)
    c = VIVIT_CONFIGS[arch]
    clip = torch.rand(batch, c.num_frames, c.in_channels, c.image_size, c.image_size)
    labels = torch.arange(batch) % c.num_classes
    out, ref = {}, None
    for layout in QKV_LAYOUTS:
        torch.manual_seed(seed)
        model = build_vivit(arch, num_frames=c.num_frames, image_size=c.image_size, num_classes=c.num_classes,
                            qkv_layout=layout)
        torch.nn.init.normal_(model.head.weight, std=0.02)   # a zero head would give zero gradients below it
        # The engine's own step (fp32 on the CPU), forward + backward without the optimiser update.
        step = build_train_step(model, OptimSpec(), torch.device("cpu"), check_finite=False)

        def run():
            model.zero_grad(set_to_none=True)
            return step(clip, labels, update=False)[0]

        run()   # warm-up (first-call allocations)
        with CopyCounter() as counter:
            loss = run()
        grads = [p.grad.clone() for p in model.parameters()]
        if ref is None:
            ref = (loss.detach(), grads)
        same = bool(torch.equal(loss.detach(), ref[0]) and all(torch.equal(a, b) for a, b in zip(grads, ref[1])))
        out[layout] = {"copied_elements": int(sum(counter.elements.values())), "by_op": dict(counter.elements),
                       "calls": dict(counter.calls), "bitwise_equal_to_first": same}
    return {"arch": arch, "batch": batch, "device": "cpu", "layouts": out}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default="vivit_cpu_fe", choices=sorted(VIVIT_CONFIGS))
    ap.add_argument("--batch", type=int, default=4)
    a = ap.parse_args()
    torch.set_num_threads(1)
    print(json.dumps(copies(a.arch, a.batch), indent=1))
