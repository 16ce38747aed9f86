"""Calibration-fold probe of a smaller ViViT-FE (issue 23): does the Original row still fit and generalise, and how fast?

The ablations' Original row from scratch (lab fold 9 of the cpu profile, never reported; 60 epochs, lr 1e-4, batch
8) with the cpu model's width and depth replaced: ``d96`` (dim 96, 3 + 1 layers, MLP 384) and ``d64`` (dim 64,
2 + 1, MLP 256). Prints one JSON line per model (appended by hand to ``finetune_probes_cpu.jsonl``).

    python benchmarks/finetune_probes_model_size.py                       # both sizes, the Original row
    python benchmarks/finetune_probes_model_size.py "d96:Mixed-token embedding"   # a size and a row
"""
import json, time, sys
from concurrent.futures import ProcessPoolExecutor
from smate_nb.experiments import ablations
from smate_nb.engine import fit
from smate_nb.config import get_profile
OV = {"d96": (("dim", 96), ("spatial_depth", 3), ("temporal_depth", 1), ("heads", 4), ("mlp_dim", 384)),
      "d64": (("dim", 64), ("spatial_depth", 2), ("temporal_depth", 1), ("heads", 4), ("mlp_dim", 256))}
def one(arg):
    name, row = arg if isinstance(arg, tuple) else (arg, "Original")
    import torch; torch.set_num_threads(1)
    p, b = get_profile("cpu"), ablations.budget("cpu")
    cfg = p.experiment("lab", data=ablations.study_data("cpu", "lab", b), model={"overrides": OV[name]},
                       optim={"epochs": 60, "lr": 1e-4, "batch_size": 8}, preproc=ablations.row_preproc(row, b))
    cfg = cfg.replace(data={"test_fold": b["calibration_fold"]})
    r = fit(cfg, progress=False)
    return {"probe": f"scratch:{row}:1e-4:8 model {name} {dict(OV[name])}", "epochs": 60, "key": r["key"], "start_key": "scratch",
            "train_loss": [round(h["train_loss"], 4) for h in r["history"]], "train_accuracy": r["train_eval"]["war"],
            "test_war": r["metrics"]["war"], "health": r["health"]["label"], "train_seconds": round(r["wall_seconds"], 1)}
if __name__ == "__main__":
    with ProcessPoolExecutor(2) as ex:
        jobs = [tuple(a.split(":")) if ":" in a else a for a in sys.argv[1:]] or ["d96", "d64"]
        for out in ex.map(one, jobs):
            print(json.dumps(out), flush=True)
