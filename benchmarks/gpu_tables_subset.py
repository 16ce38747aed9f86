#!/usr/bin/env python
"""A subset of Tables 2 and 4 at the paper's geometry, trained end to end: every row, lab fold 0, one seed.

What a device session shows with it (``benchmarks/gpu_session.sh``, step 5): the full-scale pipeline — SynthFER-lab
rendered at the profile's size on every CPU core, the stand-in pretraining, then Table 2's rows (learned, none,
TPE-v1, TPE-v2) and Table 4's (TPE-v2: Original → + LBP → + augmentation → + mixed tokens), each fine-tuned from
it — with each row's wall time and accuracy. The study definitions are the notebooks' own
(:mod:`smate_nb.experiments.ablations`); only the replicates are cut (one fold, one seed, no wild) and, with
``--epochs`` / ``--pretrain-epochs``, the budget. The TPE reading and α are given (``--tpe-mode``), not calibrated:
this is a pipeline and timing check, not a result.

With two or more visible GPUs the sweep runs one worker per GPU; with one it says so.

    python benchmarks/gpu_tables_subset.py --out $OUT/tables_subset            # the gpu profile (a GPU)
    python benchmarks/gpu_tables_subset.py --profile smoke --out /tmp/subset   # the same path on a CPU, seconds

Writes ``tables_subset.json`` and ``tables_subset.md`` under ``--out``. Exit status 0 when every row trained.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from smate_nb.engine.data import render_synthfer  # noqa: E402
from smate_nb.engine.device import describe_device  # noqa: E402
from smate_nb.engine.sweeps import SweepError, _visible_gpus, sweep  # noqa: E402
from smate_nb.experiments import ablations  # noqa: E402
from smate_nb.files import write_json, write_text  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--profile", default="gpu")
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=int, default=None, help="fine-tuning epochs of every row (default: the study's)")
    ap.add_argument("--pretrain-epochs", type=int, default=None, help="stand-in pretraining epochs (default: the study's)")
    ap.add_argument("--tpe-mode", default="direction", help="the TPE reading of the TPE rows (not calibrated here)")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    choices = {"tpe_mode": args.tpe_mode, "tpe_v1_alpha": 1.0, "tpe_v1_normalized": False,
               "tpe_v2_alpha": 1.0, "tpe_v2_normalized": False}
    over = dict(report_folds=(0,), wild_seeds=(), epochs=args.epochs, pretrain_epochs=args.pretrain_epochs)
    pos = ablations.position_study(args.profile, choices, **over)
    pre = ablations.preprocessing_study(args.profile, choices, **over)
    runs = ([r for r in pos.runs if r.label("block") in ("pretraining", "table2")]
            + [r for r in pre.runs if r.label("block") == "table4"])
    gpus = _visible_gpus()
    # The data first, on every CPU core, timed on its own (the trainings below then find it complete): each distinct
    # SynthFER corpus of the runs — the stand-in's (data seed + 1) and the rows' — once.
    specs = {}
    for r in runs:
        d = r.config.data
        if d.dataset.startswith("synthfer"):
            specs.setdefault((d.dataset, d.subjects, d.data_seed, d.image_size, d.synth_knobs), d)
    renders = [(d, render_synthfer(d, progress=False)) for d in specs.values()]
    for d, rr in renders:
        print(_render_line(d, rr), flush=True)
    t0 = time.perf_counter()
    rows, status = [], 0
    for stage in sorted({r.label("stage") for r in runs}):
        batch = [r for r in runs if r.label("stage") == stage]
        try:
            results = sweep([r.config for r in batch], desc=f"stage {stage}")
        except SweepError as err:
            results, status = err.results, 1
        for r, res in zip(batch, results):
            rows.append({"block": r.label("block"), "row": r.label("row"), "key": r.config.key(),
                         "status": "ok" if res else "failed",
                         "WAR %": None if not res else round(100 * res["metrics"]["war"], 2),
                         "train s": None if not res else round(res["wall_seconds"], 1),
                         "train clips": None if not res else res["train_size"],
                         "epochs": r.config.optim.epochs, "reused": None if not res else res["reused"]})
    table = rows                           # Table 2's TPE-v2 is Table 4's Original: one training, listed in both
    seen = {r["key"] for r in rows}
    doc = {"profile": args.profile, "device": describe_device("auto"), "visible_gpus": len(gpus),
           "multi_gpu_sweep": f"{len(gpus)} workers, one per GPU" if len(gpus) >= 2 else
           f"skipped: {len(gpus)} GPU visible (one worker per GPU needs ≥ 2)",
           "synthfer_render": [{"dataset": d.dataset, "subjects": d.subjects, "data_seed": d.data_seed,
                                "image_size": d.image_size, **rr} for d, rr in renders], "choices": choices, "budget": ablations.budget(args.profile, **over), "wall_s": time.perf_counter() - t0,
           "rows": table}
    write_json(out / "tables_subset.json", doc)
    lines = [f"# Tables 2 and 4, one fold — profile `{args.profile}` on {doc['device']['name']}", "",
             f"{len(table)} rows, {len(seen)} distinct trainings, {doc['wall_s'] / 60:.1f} min wall; multi-GPU sweep: "
             f"{doc['multi_gpu_sweep']}. TPE reading `{args.tpe_mode}`, α = 1 (given, not calibrated). Lab fold 0, seed "
             "0: a pipeline and timing check, not a result.", "", *[_render_line(d, rr) for d, rr in renders], "",
             "| block | row | status | WAR % | train s | train clips | epochs |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['block']} | {r['row']} | {r['status']} | {r['WAR %']} | {r['train s']} | {r['train clips']} | "
              f"{r['epochs']} |" for r in table]
    write_text(out / "tables_subset.md", "\n".join(lines) + "\n")
    print("\n".join(lines))
    return status


def _render_line(spec, r: dict) -> str:
    what = f"SynthFER data `{spec.dataset}` at {spec.image_size}² ({spec.subjects} subjects, data seed {spec.data_seed})"
    if r.get("reused"):
        return f"{what}: already complete, reused (no rendering timed in this run)."
    return (f"{what}: {r['generated_frames']} frames rendered in {r['wall_s']:.1f} s wall on {r['workers']} processes = "
            f"**{r['frames_per_s']:.0f} frames/s** ({r['render_fps_per_worker']:.0f} per process).")


if __name__ == "__main__":
    raise SystemExit(main())
