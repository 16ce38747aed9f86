"""Elements moved by copy kernels in one forward + backward of a ViViT-FE, per ``qkv_layout``.

Counts the ``aten::copy_`` calls recorded by the torch profiler (with their input shapes) and the ones
under ``aten::stack`` / ``aten::cat``, for each layout of :func:`smate_nb.model.vivit.split_heads`, on
the CPU, and checks that the loss and every gradient agree bit for bit. A layout that copies less moves
less memory on any device; whether that is *faster* on a GPU is measured by ``benchmarks/gpu_step_speed.py``.

    python benchmarks/qkv_layout_copies.py [--arch vivit_cpu_fe] [--batch 4]
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from smate_nb.model.vivit import QKV_LAYOUTS, VIVIT_CONFIGS, build_vivit  # noqa: E402


def copies(arch: str = "vivit_cpu_fe", batch: int = 4, seed: int = 0) -> dict:
    """Per layout: ``copied_elements`` (sum over ``aten::copy_`` calls of their destination's elements),
    ``copy_calls``, and whether loss and gradients equal those of the first layout bit for bit."""
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

        def run():
            model.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(model(clip), labels)
            loss.backward()
            return loss

        run()   # warm-up (first-call allocations)
        with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
            loss = run()
        n = [math.prod(e.input_shapes[0]) for e in prof.events() if e.name == "aten::copy_" and e.input_shapes
             and e.input_shapes[0]]
        grads = [p.grad.clone() for p in model.parameters()]
        if ref is None:
            ref = (loss.detach(), grads)
        same = bool(torch.equal(loss.detach(), ref[0]) and all(torch.equal(a, b) for a, b in zip(grads, ref[1])))
        out[layout] = {"copied_elements": int(sum(n)), "copy_calls": len(n), "bitwise_equal_to_first": same}
    return {"arch": arch, "batch": batch, "device": "cpu", "layouts": out}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default="vivit_cpu_fe", choices=sorted(VIVIT_CONFIGS))
    ap.add_argument("--batch", type=int, default=4)
    a = ap.parse_args()
    torch.set_num_threads(1)
    print(json.dumps(copies(a.arch, a.batch), indent=1))
