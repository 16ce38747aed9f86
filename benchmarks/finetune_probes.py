"""Calibration-fold probes of the fine-tuning recipe (issue 23): which start, learning rate and batch let a row train.

Every probe is one training on the ablations' calibration fold (lab fold 9 of the cpu profile — never reported),
through the engine's own ``fit`` with the ablations' data, geometry and ViViT-FE (``ablations.study_arch``; lines
without an ``arch`` field were written with the profile's ``vivit_cpu_fe``), and differs from the ablations' row config
only in what its name says: ``start`` (``scratch``, the ``rotation`` / ``exemplar`` label-free stand-ins of
``ablations.pretraining``), the row (any row of ``ablations.row_preproc``: ``Original``, ``Crop, flip, rotate, color jitter``, ``Mixed-token embedding``, …), ``lr`` and
``batch_size`` (and, optionally, the augmentation strength of ``ablations.STRENGTHS``). It prints one JSON line per probe (the per-epoch training loss, the accuracy on the un-augmented
training clips, the test WAR, the run's health) and appends it to ``--out``.

    python benchmarks/finetune_probes.py --epochs 20 --workers 2 rotation:Original:3e-4:16 scratch:Original:3e-4:16

Stored runs are reused (the runs store is content-addressed), so re-running prints the same figures at once. A
``rotation`` start is the stand-in ``ablations.pretraining`` defines when the script runs: the lines of
``finetune_probes_cpu.jsonl`` written before its augmentation became the paper's minus flip name the crop-only
stand-in (``start_key`` ``run:29e23baea1263b11``, random resized crop 0.7–1.0 alone).
"""
from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


def _stand_in(start: str):
    """The stand-in pretraining of a probe's start: ``task`` (``ablations.pretraining`` as it is defined now) or
    ``task@N`` (the same with N pretraining epochs)."""
    from smate_nb.experiments import ablations

    task, _, n = start.partition("@")
    return ablations.pretraining("cpu", ablations.budget("cpu", pretrain_task=task,
                                                         pretrain_epochs=int(n) if n else None))


def _config(spec: str, epochs: int, arch: str | None = None):
    from smate_nb.config import get_profile
    from smate_nb.experiments import ablations

    start, row, lr, batch, *strength = spec.split(":")
    p = get_profile("cpu")
    b = ablations.budget("cpu", augment_overrides=ablations.STRENGTHS[strength[0]] if strength else None)
    if start == "scratch":
        init = "scratch"
    else:
        init = f"run:{_stand_in(start).key()}"   # the stand-in as ablations.pretraining defines it now (key recorded)
    cfg = p.experiment("lab", data=ablations.study_data("cpu", "lab", b),
                       model={"arch": arch or ablations.study_arch("cpu", b), "init": init},
                       optim={"epochs": epochs, "lr": float(lr), "batch_size": int(batch)},
                       preproc=ablations.row_preproc(row, b))
    return cfg.replace(data={"test_fold": b["calibration_fold"]}), start


def _pretrain(start: str) -> None:
    from smate_nb.engine import fit

    if start != "scratch":
        fit(_stand_in(start), progress=False)


def _one(args: tuple[str, int]) -> dict:
    import torch

    from smate_nb.engine import fit

    torch.set_num_threads(1)
    spec, epochs, arch = args
    cfg, _ = _config(spec, epochs, arch)
    t0 = time.perf_counter()
    r = fit(cfg, progress=False)
    h = r["history"]
    return {"probe": spec, "arch": cfg.model.arch, "epochs": epochs, "key": r["key"], "start_key": cfg.model.init, "train_loss": [round(x["train_loss"], 4) for x in h],
            "train_accuracy": r["train_eval"]["war"] if "train_eval" in r else None, "test_war": r["metrics"]["war"],
            "health": r["health"]["label"] if "health" in r else None, "train_seconds": round(r["wall_seconds"], 1),
            "call_seconds": round(time.perf_counter() - t0, 1), "reused": r["reused"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("probes", nargs="+", help="start:row:lr:batch[:strength], e.g. rotation:Original:3e-4:16, "
                    "exemplar@60:Original:1e-4:8 (a stand-in pretrained 60 epochs) or "
                    "'rotation:Crop, flip, rotate, color jitter:1e-4:8:mild' (strength: ablations.STRENGTHS)")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--arch", default=None, help="another model than the study's ViViT-FE (e.g. framecnn_small: "
                    "does a model with built-in shift tolerance learn where the ViT stalls?)")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--out", default=str(Path(__file__).with_name("finetune_probes_cpu.jsonl")))
    a = ap.parse_args()
    for start in sorted({s.split(":")[0] for s in a.probes}):
        _pretrain(start)
    with ProcessPoolExecutor(a.workers) as ex, open(a.out, "a") as out:
        for res in ex.map(_one, [(s, a.epochs, a.arch) for s in a.probes]):
            line = json.dumps(res)
            print(line, flush=True)
            out.write(line + "\n")


if __name__ == "__main__":
    main()
