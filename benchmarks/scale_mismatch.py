"""Does an augmented row fail to fit its training clips, or does it fit them at another face size?

Re-scores stored runs of notebook 05 (Table 3's Original, LBP and LBP + augmentation rows) on their own
un-augmented training clips with the test transform at three scales (crop / resize = 48/54, 48/51, 48/49 at the cpu
geometry: the test scale, and two inside the old mild strength's crop range 0.95-1.0). No training: each run's
final checkpoint (``engine.evaluation.load_trained``) and the engine's own ``predict``.

    python benchmarks/scale_mismatch.py [--runs reports/cpu/tables/05_progressive_preprocessing__runs.csv]
                                        [--out benchmarks/scale_mismatch_cpu.csv]

Measured on the 2026-12-07 cpu reference (this 2-core VM, one thread): ``benchmarks/scale_mismatch_cpu.csv``.
"""
import argparse
import json
from pathlib import Path

import pandas as pd
import torch

from smate_nb.config import configure_threads
from smate_nb.engine.data import load_data
from smate_nb.engine.evaluation import load_trained, predict
from smate_nb.engine.store import run_dir

ROWS = ("Original", "LBP", "Crop, flip, rotate, color jitter")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", default="reports/cpu/tables/05_progressive_preprocessing__runs.csv")
    ap.add_argument("--out", default="benchmarks/scale_mismatch_cpu.csv")
    ap.add_argument("--resize", type=int, nargs="+", default=[54, 51, 49])
    args = ap.parse_args()
    configure_threads(1)
    runs = pd.read_csv(args.runs).drop_duplicates("key")
    sel = runs[(runs["block"] == "table3") & runs["row"].isin(ROWS)]
    if sel.empty:
        raise SystemExit(f"{args.runs}: no table3 runs of {ROWS}")
    out = []
    for _, r in sel.iterrows():
        result = json.loads((run_dir(r["key"]) / "result.json").read_text())
        model, cfg = load_trained(result)
        row = {"row": r["row"], "dataset": r["dataset"], "fold": r["fold"], "seed": r["seed"], "key": r["key"],
               "health": r["health"], "train accuracy (stored) %": r["train accuracy"]}
        for resize in args.resize:
            spec = cfg.data.__class__(**{**cfg.data.__dict__, "resize": resize})
            train, _, _ = load_data(spec, progress=False)
            y, p = predict(model, train, spec, torch.device("cpu"), 64, pre=cfg.preproc)
            row[f"train accuracy % at scale {spec.crop / resize:.3f}"] = round(100 * float((y == p).mean()), 1)
        out.append(row)
        print(row, flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(out).to_csv(args.out, index=False)
    print("wrote", args.out)


if __name__ == "__main__":
    main()
