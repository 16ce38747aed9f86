"""Calibrate SynthFER's difficulty: train a small ViViT-FE for a few CPU minutes and report accuracy.

The ``cpu`` profile's SynthFER defaults must let the studies show differences: a small
ViViT-FE trained a few minutes on a 2-core CPU should land well above chance (1/7 ≈ 14 %)
and well below 100 % on the subject-independent test split (aim: 55–85 % top-1 on
``lab``, 30–60 % on ``wild``). This script measures exactly that, so the numbers in
``notebooks/09_appendix_data.ipynb`` can be reproduced and the knobs re-tuned after a change to
the generator.

Protocol (deliberately simple and fixed):

* data: ``generate(variant, subjects, seed, image_size, **knobs)`` → manifest from the
  plan → lab: test = subject-independent fold 0 of ``--folds`` (5 in the cpu profile),
  train = the other folds; wild: train = ``Train`` clips, test = the balanced subset of
  ``Val`` (largest ≤ 130).
* clips: ``--frames`` frames at ``--stride`` with the engine's ending policies
  (:data:`smate_nb.data.clips.SHORT_POLICY` / ``LONG_POLICY``), resized to ``--resize``²,
  centre-cropped to ``--crop``² (train and test; no augmentation — sub-patch shifts
  stop a tiny ViViT from learning in minutes).
* model: ``build_vivit("vivit_cpu_fe", ...)``, learned temporal positions; AdamW
  (lr 1e-3, weight decay 0.05), one warm-up epoch then cosine decay, batch 16,
  cross-entropy; one torch thread.
* reported: test top-1 after the last epoch (and the best epoch, for information only),
  UAR, wall time, per training seed.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/calibrate_synthfer.py --variant lab --epochs 12 --seeds 0 1
    OMP_NUM_THREADS=1 python benchmarks/calibrate_synthfer.py --variant wild --epochs 12 --seeds 0 1 \\
        --knob pose=0.7 --out benchmarks/results/wild.json
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from smate_nb.data import synthfer as sf  # noqa: E402
from smate_nb.data.clips import LONG_POLICY, SHORT_POLICY, ClipDataset, Resize, center_crop  # noqa: E402
from smate_nb.data.manifest import planned_manifest  # noqa: E402
from smate_nb.files import write_json  # noqa: E402


def _parse_knob(s: str) -> tuple[str, object]:
    k, v = s.split("=", 1)
    try:
        val: object = json.loads(v)
    except json.JSONDecodeError:
        val = v
    if isinstance(val, list):
        val = tuple(val)
    return k, val


def load_split(variant: str, subjects: int, seed: int, image_size: int, folds: int, knobs: dict,
               frames: int, stride: int, resize: int, crop: int, data_root: str | None) -> dict:
    """Generate (or reuse) the data and return uint8 train/test tensors ``N×T×crop×crop×3`` and labels."""
    t0 = time.perf_counter()
    root = sf.generate(variant, (Path(data_root) / sf.dataset_dirname(
        sf.make_config(variant, subjects=subjects, seed=seed, image_size=image_size, **knobs))) if data_root else None,
        subjects=subjects, seed=seed, image_size=image_size, **knobs)
    gen_s = time.perf_counter() - t0
    dataset = f"synthfer-{variant}"
    df = planned_manifest(dataset, subjects=subjects, seed=seed, image_size=image_size, folds=folds, **knobs)
    if variant == "lab":
        tr, te = df[df["fold"] != 0], df[df["fold"] == 0]
    else:
        tr, te = df[df["split"] == "train"], df[df["split"] == "test"]
    out = {"root": str(root), "generate_s": gen_s}
    for name, rows in (("train", tr), ("test", te)):
        rows.attrs.update(df.attrs)
        ds = ClipDataset(rows, root, num_frames=frames, stride=stride, short=SHORT_POLICY, long=LONG_POLICY,
                         preprocess=Resize(resize))
        clips = np.stack([center_crop(ds[i][0].numpy(), crop) for i in range(len(ds))])
        out[name] = (torch.from_numpy(clips), torch.from_numpy(ds.labels.copy()))
    return out


INPUT_NORM = {"none": (0.0, 1.0), "center": (0.5, 0.5), "standardize": (0.5, 0.25)}
_norm = INPUT_NORM["center"]


def to_input(x: torch.Tensor) -> torch.Tensor:
    """uint8 B×T×H×W×C → float B×T×C×H×W, ``(x/255 − mean) / std`` (see ``--input-norm``)."""
    mean, std = _norm
    return x.permute(0, 1, 4, 2, 3).float().div_(255.0).sub_(mean).div_(std)


def train_one(data: dict, seed: int, epochs: int, frames: int, crop: int, batch: int = 16, lr: float = 1e-3,
              arch: str = "vivit_cpu_fe") -> dict:
    from smate_nb.model import build_vivit

    torch.manual_seed(seed)
    model = build_vivit(arch, num_frames=frames, image_size=crop, num_classes=7, temporal_position="learned")
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.05)
    xtr, ytr = data["train"]
    xte, yte = data["test"]
    n = len(ytr)
    steps_per_epoch = math.ceil(n / batch)
    total, warm = epochs * steps_per_epoch, steps_per_epoch
    g = torch.Generator().manual_seed(seed)
    hist = []
    step = 0
    t0 = time.perf_counter()
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(n, generator=g)
        loss_sum = 0.0
        for b in range(steps_per_epoch):
            idx = perm[b * batch:(b + 1) * batch]
            f = (step + 1) / warm if step < warm else 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))
            for pg in opt.param_groups:
                pg["lr"] = lr * f
            loss = F.cross_entropy(model(to_input(xtr[idx])), ytr[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            loss_sum += float(loss.detach()) * len(idx)
            step += 1
        model.eval()
        with torch.no_grad():
            pred = torch.cat([model(to_input(xte[i:i + 64])).argmax(1) for i in range(0, len(yte), 64)])
        acc = float((pred == yte).float().mean())
        recalls = [float((pred[yte == c] == c).float().mean()) for c in range(7) if (yte == c).any()]
        hist.append({"epoch": ep + 1, "train_loss": loss_sum / n, "test_acc": acc, "test_uar": float(np.mean(recalls)),
                     "elapsed_s": time.perf_counter() - t0})
        print(f"  seed {seed} epoch {ep + 1:2d}: loss {loss_sum / n:.3f}  test top-1 {acc:.3f}  UAR "
              f"{np.mean(recalls):.3f}  ({time.perf_counter() - t0:.0f}s)", flush=True)
    return {"seed": seed, "final_acc": hist[-1]["test_acc"], "final_uar": hist[-1]["test_uar"],
            "best_acc": max(h["test_acc"] for h in hist), "train_s": time.perf_counter() - t0, "history": hist}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--variant", choices=("lab", "wild"), required=True)
    ap.add_argument("--subjects", type=int, default=40)
    ap.add_argument("--image-size", type=int, default=112)
    ap.add_argument("--data-seed", type=int, default=0)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--stride", type=int, default=None, help="default: 1 (lab) / 2 (wild), as the cpu profile")
    ap.add_argument("--resize", type=int, default=72)
    ap.add_argument("--crop", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--arch", default="vivit_cpu_fe")
    ap.add_argument("--lr", type=float, default=1e-4,
                    help="peak learning rate (1e-3, the cpu profile's value, leaves vivit_cpu_fe at chance)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--input-norm", choices=sorted(INPUT_NORM), default="center",
                    help="none: [0, 1]; center: [-1, 1] (Scenic's zero_centering); standardize: (x − 0.5)/0.25")
    ap.add_argument("--knob", action="append", default=[], help="SynthFER knob, e.g. identity_variance=0.4")
    ap.add_argument("--data-root", default=None, help="where to generate (default: the data root)")
    ap.add_argument("--out", default=None, help="write the results as JSON here")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    global _norm
    _norm = INPUT_NORM[args.input_norm]
    knobs = dict(_parse_knob(k) for k in args.knob)
    stride = args.stride or (1 if args.variant == "lab" else 2)
    print(f"SynthFER {args.variant}: subjects={args.subjects} image_size={args.image_size} seed={args.data_seed} "
          f"knobs={knobs}; clips {args.frames}×stride {stride} → {args.resize}² → crop {args.crop}²", flush=True)
    data = load_split(args.variant, args.subjects, args.data_seed, args.image_size, args.folds, knobs, args.frames,
                      stride, args.resize, args.crop, args.data_root)
    print(f"  data ready: train {len(data['train'][1])} clips, test {len(data['test'][1])} clips "
          f"(generation {data['generate_s']:.0f}s)", flush=True)
    runs = [train_one(data, s, args.epochs, args.frames, args.crop, batch=args.batch, lr=args.lr, arch=args.arch)
            for s in args.seeds]
    accs = [r["final_acc"] for r in runs]
    summary = {
        "variant": args.variant, "subjects": args.subjects, "image_size": args.image_size, "data_seed": args.data_seed,
        "knobs": {k: (list(v) if isinstance(v, tuple) else v) for k, v in knobs.items()},
        "generator_version": sf.GENERATOR_VERSION, "frames": args.frames, "stride": stride, "resize": args.resize,
        "crop": args.crop, "epochs": args.epochs, "arch": args.arch, "lr": args.lr, "batch": args.batch, "input_norm": args.input_norm, "n_train": len(data["train"][1]),
        "n_test": len(data["test"][1]), "final_acc_mean": float(np.mean(accs)), "final_acc_std": float(np.std(accs)),
        "torch_threads": torch.get_num_threads(), "runs": runs,
    }
    print(f"RESULT {args.variant}: top-1 {np.mean(accs):.3f} ± {np.std(accs):.3f} over seeds {args.seeds} "
          f"({args.epochs} epochs, {np.mean([r['train_s'] for r in runs]):.0f}s per run)", flush=True)
    if args.out:
        write_json(args.out, summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
