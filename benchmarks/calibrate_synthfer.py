#!/usr/bin/env python
"""Calibrate SynthFER's difficulty: train the cpu ViViT-FE on a generated dataset and report its accuracy.

The ``cpu`` profile's SynthFER defaults must let the studies show differences: a small ViViT-FE trained a few CPU
minutes should land well above chance (1/7 ≈ 14 %) and below 100 % on the subject-independent test split. This
script measures that with the training engine itself — every run is an ``ExperimentConfig`` trained by
``smate_nb.engine.fit`` (through ``sweep``), stored under its key like any study's run — so the numbers in
``notebooks/09_appendix_data`` can be reproduced and the knobs re-tuned after a change to the generator.

Protocol: data ``synthfer-<variant>`` with the given subjects / image size / generation seed / knobs; lab: test =
subject-independent fold 0 of ``--folds``, train = the other folds; wild: the manifest's train/test split. Clips,
model and optimiser are the ``cpu`` profile's (``smate_nb.config``) unless a flag changes them. Reported: test WAR
and UAR after the last epoch, training time, per training seed.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/calibrate_synthfer.py --variant lab --epochs 12 --seeds 0 1
    python benchmarks/calibrate_synthfer.py --variant wild --seeds 0 1 --knob pose=0.7 --out /tmp/wild.json
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from smate_nb.config import get_profile  # noqa: E402
from smate_nb.data import synthfer as sf  # noqa: E402
from smate_nb.engine import sweep  # noqa: E402
from smate_nb.files import write_json  # noqa: E402


def _parse_knob(s: str) -> tuple[str, object]:
    k, v = s.split("=", 1)
    try:
        val: object = json.loads(v)
    except json.JSONDecodeError:
        val = v
    return k, tuple(val) if isinstance(val, list) else val


def configs(args: argparse.Namespace) -> list:
    """One experiment per training seed, from the cpu profile with the flags applied."""
    p = get_profile("cpu")
    dataset = "lab" if args.variant == "lab" else "wild"
    data = {"subjects": args.subjects, "image_size": args.image_size, "data_seed": args.data_seed,
            "synth_knobs": tuple(sorted(_parse_knob(k) for k in args.knob)), "folds": args.folds}
    for name in ("frames", "stride", "resize", "crop"):
        v = getattr(args, name)
        if v is not None:
            data["num_frames" if name == "frames" else name] = v
    optim = {k: v for k, v in (("epochs", args.epochs), ("lr", args.lr), ("batch_size", args.batch)) if v is not None}
    base = p.experiment(dataset, data=data, model={"arch": args.arch}, optim=optim)
    return [base.replace(seed=s) for s in args.seeds]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--variant", choices=("lab", "wild"), required=True)
    ap.add_argument("--subjects", type=int, default=40)
    ap.add_argument("--image-size", type=int, default=112)
    ap.add_argument("--data-seed", type=int, default=0)
    ap.add_argument("--folds", type=int, default=10)
    ap.add_argument("--frames", type=int, default=None, help="clip frames (default: the cpu profile's)")
    ap.add_argument("--stride", type=int, default=None, help="default: the cpu profile's (1 lab / 2 wild)")
    ap.add_argument("--resize", type=int, default=None)
    ap.add_argument("--crop", type=int, default=None)
    ap.add_argument("--epochs", type=int, default=None, help="default: the cpu profile's")
    ap.add_argument("--lr", type=float, default=None, help="peak learning rate (default: the cpu profile's)")
    ap.add_argument("--batch", type=int, default=None)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--arch", default="vivit_cpu_fe")
    ap.add_argument("--knob", action="append", default=[], help="SynthFER knob, e.g. identity_variance=0.4")
    ap.add_argument("--workers", type=int, default=None, help="parallel trainings (default: $SMATE_WORKERS / cores)")
    ap.add_argument("--out", default=None, help="write the results as JSON here")
    args = ap.parse_args(argv)
    cfgs = configs(args)
    print(f"SynthFER {args.variant}: subjects={args.subjects} image_size={args.image_size} seed={args.data_seed} "
          f"knobs={dict(cfgs[0].data.synth_knobs)}; {len(cfgs)} trainings", flush=True)
    results = sweep(cfgs, workers=args.workers)
    runs = [{"seed": c.seed, "key": r["key"], "final_acc": r["metrics"]["war"], "final_uar": r["metrics"]["uar"],
             "train_s": r["wall_seconds"], "reused": r["reused"],
             "history": [{k: h[k] for k in ("epoch", "train_loss", "train_acc")} for h in r["history"]]}
            for c, r in zip(cfgs, results)]
    accs = [r["final_acc"] for r in runs]
    summary = {"variant": args.variant, "generator_version": sf.GENERATOR_VERSION, "config": cfgs[0].to_dict(),
               "n_train": results[0]["train_size"], "n_test": results[0]["test_size"],
               "final_acc_mean": float(np.mean(accs)), "final_acc_std": float(np.std(accs)), "runs": runs}
    print(f"RESULT {args.variant}: top-1 {np.mean(accs):.3f} ± {np.std(accs):.3f} over seeds {args.seeds}", flush=True)
    if args.out:
        write_json(args.out, summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
