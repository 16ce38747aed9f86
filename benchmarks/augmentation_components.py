"""Calibration-fold probe (issue 23): which part of the paper's clip augmentation keeps the ViViT-FE at chance?

With the paper's augmentation (random crop 0.8–1.0, flip, turns of ±{2°, 5°, 7°}, colour jitter or grayscale) the
augmented rows of Tables 3–4 collapse from every start (``finetune_probes_cpu.jsonl``). Each probe here drops one
component of it — or keeps the crop at the test transform's scale, so it only shifts the face (≤ ±3 px) — and
trains the *augmentation-alone* row (no LBP, no mixing) from scratch with the ablations' cpu budget: model
``ablations.study_arch`` and the budget's recipe (the lines of ``augmentation_components_cpu.jsonl`` were written with
``vivit_cpu_small_fe`` at lr 1e-4, batch 8), on the calibration fold (lab fold 9, never reported). One JSON line per probe (per-epoch training loss and accuracy on the augmented clips, accuracy on the
un-augmented training clips, test WAR, health) is appended to ``--out``.

    python benchmarks/augmentation_components.py --epochs 60 no_rotation translate_only_crop no_colour no_flip

The paper-strength and mild references are the calibration's own ``stall`` block (notebook 05 § 1: augmentation
alone from scratch and from the stand-in) when ``--epochs`` is its budget (the largest candidate, cpu: 45).
"""
from __future__ import annotations

import argparse
import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

#: AugmentConfig overrides of each probe (the paper's defaults otherwise).
VARIANTS: dict[str, tuple[tuple[str, object], ...]] = {
    "paper": (),
    "no_rotation": (("rotate_p", 0.0),),
    "translate_only_crop": (("crop_scale", (48 / 54, 48 / 54)),),  # 48 of 54 px, the test crop's scale: a shift only
    "no_colour": (("jitter_p", 0.0), ("gray_p", 0.0)),
    "no_flip": (("flip_p", 0.0),),
    "mild": None,           # ablations.STRENGTHS["mild"] (the jsonl's "mild" lines: its earlier crop range 0.95–1.0)
}


def _one(args: tuple[str, int]) -> dict:
    import torch

    from smate_nb.engine import fit
    from smate_nb.experiments import ablations

    torch.set_num_threads(1)
    name, epochs = args
    over = ablations.STRENGTHS["mild"] if VARIANTS[name] is None else VARIANTS[name]
    b = ablations.budget("cpu", epochs=epochs, augment_overrides=over)
    cfg = ablations.base_config("cpu", "lab", b).replace(model={"init": "scratch"},
                                                         preproc=ablations.row_preproc("Augmentation", b))
    cfg = cfg.replace(data={"test_fold": b["calibration_fold"]})
    r = fit(cfg, progress=False)
    h = r["history"]
    return {"probe": f"scratch:Augmentation:{name}:{dict(over)}", "arch": cfg.model.arch, "epochs": epochs,
            "key": r["key"], "train_loss": [round(x["train_loss"], 4) for x in h],
            "train_acc": [round(x["train_acc"], 3) for x in h], "train_accuracy": r["train_eval"]["war"],
            "test_war": r["metrics"]["war"], "health": r["health"]["label"], "train_seconds": round(r["wall_seconds"], 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("variants", nargs="+", choices=sorted(VARIANTS))
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default=str(Path(__file__).with_name("augmentation_components_cpu.jsonl")))
    a = ap.parse_args()
    with ProcessPoolExecutor(a.workers) as ex, open(a.out, "a") as out:
        for res in ex.map(_one, [(v, a.epochs) for v in a.variants]):
            out.write(json.dumps(res) + "\n")
            out.flush()
            print(res["probe"], f"train {res['train_accuracy']:.3f}", f"test {res['test_war']:.3f}", res["health"],
                  f"{res['train_seconds']} s", flush=True)


if __name__ == "__main__":
    main()
