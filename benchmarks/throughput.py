#!/usr/bin/env python
"""Training throughput benchmark: data-pipeline clips/s against model-step clips/s, per crop size (JSON out).

Two numbers per crop, measured separately so the bottleneck is visible:

* **data pipeline** — what feeds one training step: loading uint8 clips (``--source synthetic``: an
  in-memory pool, i.e. no loading cost; ``--source synthfer``: the real path, a SynthFER CK+-style dataset
  read through the manifest, the clip cache and a ``DataLoader`` with ``--workers`` processes and pinned
  memory), the host→device copy, and the on-device work of the training engine in mixed-token mode
  (test transform, random augmentation of the clip, ``--views`` augmented views, the LBP view), each stage
  timed on its own (the engine's own ``smate_nb.engine.inputs.InputPipeline``, with a stage clock);
* **model step** — forward + backward + AdamW on the device with the same number of views (Eq. 7 active):
  the engine's own step (``smate_nb.engine.step.build_train_step``: bf16 autocast on GPU, TF32, fused AdamW,
  optional ``torch.compile``), timed by ``smate_nb.throughput.time_train_step``.

Whichever has the lower clips/s bounds training. Examples::

    python benchmarks/throughput.py --model vivit_b_16x2_fe --crops 224 --batch-size 32   # GPU
    python benchmarks/throughput.py --model vivit_cpu_fe --tubelet 2 16 16 --crops 64 128 --batch-size 4 \\
        --steps 3 --warmup 1 --out /tmp/throughput.json                                     # CPU
    python benchmarks/throughput.py --source synthfer --workers 4 --crops 224                # with disk loading

The JSON (``--out``, else stdout) holds the device description, the arguments, and per crop the MACs, the
model-step timing (median / min / max, steps/min, clips/s, peak memory, achieved TFLOP/s, MFU on a GPU), the
pipeline timing per stage, and ``bound_by``.
"""
from __future__ import annotations

import argparse
import gc
import itertools
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402

from smate_nb import throughput as tp  # noqa: E402
from smate_nb.config import configure_threads  # noqa: E402
from smate_nb.cost import count_macs  # noqa: E402
from smate_nb.engine.inputs import InputPipeline  # noqa: E402
from smate_nb.engine.specs import DataSpec, OptimSpec, PreprocSpec  # noqa: E402
from smate_nb.engine.step import build_train_step  # noqa: E402
from smate_nb.model import build_vivit  # noqa: E402


def _json_default(o: Any) -> Any:
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if isinstance(o, (torch.device, torch.dtype, Path)):
        return str(o)
    raise TypeError(f"not JSON-serialisable: {type(o).__name__}")


def _finite(obj: Any) -> Any:
    """Replace NaN / inf by None, recursively (strict JSON)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def _cycle(loader: Any, n: int) -> Iterator[Any]:
    """``n`` batches from a loader, starting a new epoch when one ends."""
    return itertools.islice(itertools.chain.from_iterable(itertools.repeat(loader)), n)


def synthfer_batches(args: argparse.Namespace, crop: int, resize: int, device: torch.device, n: int) -> tuple[Any, dict]:
    """Batches of the real loading path: SynthFER lab clips via manifest → ClipDataset (cached) → DataLoader."""
    from torch.utils.data import DataLoader

    from smate_nb.engine.data import datasets_for

    spec = DataSpec(dataset="synthfer-lab", test_fold=0, folds=2, num_frames=args.frames, stride=args.stride,
                    resize=resize, crop=crop, subjects=args.subjects, image_size=args.image_size)
    t0 = time.perf_counter()
    train, _, _ = datasets_for(spec, progress=False)
    prepared = time.perf_counter() - t0
    t0 = time.perf_counter()
    for part in getattr(train, "datasets", [train]):
        part.warm_cache(progress=False)                 # steady state: sequences decoded and cached once
    warmed = time.perf_counter() - t0
    loader = DataLoader(train, batch_size=args.batch_size, shuffle=True, num_workers=args.workers,
                        pin_memory=device.type == "cuda", drop_last=True,
                        generator=torch.Generator().manual_seed(args.seed))
    info = {"dataset": "synthfer-lab", "clips": len(train), "subjects": args.subjects, "image_size": args.image_size,
            "workers": args.workers, "generate_or_reuse_s": prepared, "cache_warm_s": warmed}
    return _cycle(loader, n), info


def run(args: argparse.Namespace) -> dict[str, Any]:
    threads = configure_threads(args.threads)
    dev = tp.resolve_device(args.device)
    peak, peak_row = tp.device_peak_flops(torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu",
                                          args.peak_tflops)
    overrides = {"tubelet": tuple(args.tubelet)} if args.tubelet else {}
    out: dict[str, Any] = {"device": tp.describe_device(dev), "torch_threads": threads, "args": vars(args),
                           "peak_flops": peak, "peak_row": peak_row, "results": []}
    for crop in args.crops:
        resize = args.resize or round(crop * 256 / 224)
        res: dict[str, Any] = {"crop": crop, "resize": resize}
        torch.manual_seed(args.seed)
        model = build_vivit(args.model, num_frames=args.frames, image_size=crop, num_classes=args.classes,
                            temporal_position=args.temporal_position, **overrides)
        macs = count_macs(model, args.frames, crop)
        res.update(model=args.model, overrides={k: list(v) for k, v in overrides.items()}, macs_per_clip=macs,
                   params=sum(p.numel() for p in model.parameters()))
        pre = PreprocSpec(augment=not args.no_augment, mix=True, n_views=args.views if not args.no_augment else 0,
                          lbp=args.lbp != "none", lbp_variant="skimage" if args.lbp == "none" else args.lbp)
        pipe = InputPipeline(DataSpec(crop=crop, resize=resize, num_frames=args.frames), pre)
        optim = OptimSpec(amp=args.amp, compile=args.compile)
        step_views = pipe.views_per_clip if args.step_views is None else args.step_views
        if not args.no_model:
            try:
                t = tp.time_train_step(model, batch_size=args.batch_size, optim=optim, device=dev, steps=args.steps,
                                       warmup=args.warmup, n_views=step_views, seed=args.seed)
                res["model_step"] = {**t.summary(), "achieved_tflops": t.achieved_tflops(macs),
                                     "mfu": t.mfu(macs, peak)}
                print(f"[{crop:4d}²] model step: median {t.median_s * 1e3:.1f} ms [{t.min_s * 1e3:.1f}, "
                      f"{t.max_s * 1e3:.1f}], {t.clips_per_s:.2f} clips/s, peak {t.peak_memory_bytes / 2**30:.2f} GiB "
                      f"({t.memory_kind})" + (f", MFU {100 * t.mfu(macs, peak):.1f} %" if peak else ""), file=sys.stderr)
                if args.profile_ops:
                    ts = build_train_step(model.to(dev), optim, dev, check_finite=False)
                    batch = tp.random_batch(args.batch_size, args.frames, crop, n_views=step_views, device=dev,
                                            num_classes=args.classes, seed=args.seed)
                    res["profile"] = tp.profile_train_step(ts, batch, steps=max(2, min(args.steps, 5)))
                    del ts, batch
            except torch.cuda.OutOfMemoryError as err:
                res["model_step"] = {"error": f"OOM: {str(err).splitlines()[0]}"}
                print(f"[{crop:4d}²] model step: OOM", file=sys.stderr)
        del model
        gc.collect()
        if dev.type == "cuda":
            torch.cuda.empty_cache()
        if not args.no_pipeline:
            n = args.pipeline_batches + 1
            if args.source == "synthfer":
                batches, src = synthfer_batches(args, crop, resize, dev, n)
            else:
                batches = tp.synthetic_clips(n, args.batch_size, args.frames, resize, seed=args.seed,
                                             pin=dev.type == "cuda")
                src = {"dataset": "synthetic uint8 pool (in memory)", "frame_size": resize}
            pt = tp.time_data_pipeline(batches, pipe, device=dev, warmup=1, seed=args.seed)
            res["pipeline"] = {**pt.summary(), "source": src, "views": args.views, "lbp": args.lbp,
                               "augment_clip": not args.no_augment}
            print(f"[{crop:4d}²] data pipeline ({args.source}): {pt.clips_per_s:.2f} clips/s end to end; per stage "
                  + ", ".join(f"{k} {v:.1f}" for k, v in pt.summary()["stage_clips_per_s"].items())
                  + f"; load {pt.load_clips_per_s:.1f}", file=sys.stderr)
        ms, pl = res.get("model_step", {}), res.get("pipeline", {})
        if "clips_per_s" in ms and "clips_per_s" in pl:
            d, m = pl["clips_per_s"], ms["clips_per_s"]
            res["bound_by"] = "data pipeline" if d < m else "model step"
            res["ratio"] = max(d, m) / min(d, m)
            res["serial_clips_per_s"] = 1 / (1 / d + 1 / m)
            print(f"[{crop:4d}²] bound by the {res['bound_by']} (×{res['ratio']:.1f})", file=sys.stderr)
        out["results"].append(res)
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="vivit_b_16x2_fe", help="named ViViT config (smate_nb.model.VIVIT_CONFIGS)")
    p.add_argument("--tubelet", type=int, nargs=3, metavar=("T", "P", "P"), help="override the tubelet")
    p.add_argument("--crops", type=int, nargs="+", default=[224], help="crop sizes (Table 5: 64 128 224 320)")
    p.add_argument("--resize", type=int, default=None, help="stored frame size (default round(crop·256/224))")
    p.add_argument("--frames", type=int, default=16, help="frames per clip (Table 5: 16)")
    p.add_argument("--stride", type=int, default=2, help="temporal stride (Table 5: 2; synthfer source only)")
    p.add_argument("--classes", type=int, default=7)
    p.add_argument("--temporal-position", default="tpe_v2")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default 1 on CPU, $SMATE_THREADS)")
    p.add_argument("--amp", default="auto", choices=["auto", "bf16", "fp16", "off"],
                   help="autocast: auto (bf16 on GPU, fp32 on CPU) | bf16 | fp16 | off (fp32)")
    p.add_argument("--compile", action="store_true", help="torch.compile the model")
    p.add_argument("--steps", type=int, default=10, help="timed model steps")
    p.add_argument("--warmup", type=int, default=3, help="warm-up model steps")
    p.add_argument("--views", type=int, default=2, help="augmented views per clip (Eq. 7)")
    p.add_argument("--lbp", default="skimage", choices=["skimage", "3x3", "none"], help="LBP view variant")
    p.add_argument("--no-augment", action="store_true", help="do not augment the training clip itself")
    p.add_argument("--step-views", type=int, default=None, help="views in the model step (default: as the pipeline)")
    p.add_argument("--source", default="synthetic", choices=["synthetic", "synthfer"])
    p.add_argument("--workers", type=int, default=0, help="DataLoader workers (synthfer source)")
    p.add_argument("--subjects", type=int, default=8, help="SynthFER subjects (synthfer source)")
    p.add_argument("--image-size", type=int, default=112, help="SynthFER render size (synthfer source)")
    p.add_argument("--pipeline-batches", type=int, default=5, help="timed pipeline batches (after 1 warm-up)")
    p.add_argument("--no-model", action="store_true", help="skip the model step")
    p.add_argument("--no-pipeline", action="store_true", help="skip the data pipeline")
    p.add_argument("--profile-ops", action="store_true", help="also profile one step by operator")
    p.add_argument("--peak-tflops", type=float, default=None, help="override the GPU's dense bf16 peak")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="write the JSON here (default: stdout)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result = _finite(run(args))
    text = json.dumps(result, indent=2, default=_json_default)
    if args.out:
        from smate_nb.files import write_text

        write_text(Path(args.out), text + "\n")
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
