"""LBP speed: scikit-image per frame vs. the batched torch variants (paper §3.1.3, issue targets).

Targets (batch of 16 frames at 224², one thread): the ``skimage``-exact
variant ≥ 2× faster than calling scikit-image per frame, ``3x3`` ≥ 15×.
These are measured here and in ``notebooks/02_preprocessing.ipynb``, not
asserted in timed unit tests (a shared CI box's timings are too noisy).

    OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE python benchmarks/lbp_speed.py [--json out.json]
"""
from __future__ import annotations

import argparse
import os
import platform
import sys

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402

from smate_nb.files import write_json  # noqa: E402
from smate_nb.preprocess.lbp import speed_report  # noqa: E402

TARGETS = {"skimage": 2.0, "3x3": 15.0}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", help="also write the rows (and machine info) to this JSON file")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    rows = speed_report(args.frames, args.size, args.repeats)
    machine = {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
               "torch": torch.__version__, "threads": torch.get_num_threads(), "python": platform.python_version()}
    print(f"LBP on {args.frames} frames of {args.size}², {machine['threads']} thread(s), "
          f"best of {args.repeats}; {machine}")
    print(f"{'method':34s} {'ms/batch':>9s} {'ms/frame':>9s} {'speed-up':>9s} {'mismatch':>9s}")
    ok = True
    for r in rows:
        print(f"{r['method']:34s} {r['ms_per_batch']:9.2f} {r['ms_per_frame']:9.3f} {r['speedup']:8.1f}× "
              f"{r['mismatched_pixels']:9d}")
    for variant, target in TARGETS.items():
        r = next(r for r in rows if repr(variant) in r["method"])
        met = r["speedup"] >= target
        ok &= met
        print(f"target {variant}: ≥ {target:.0f}× → {r['speedup']:.1f}× {'met' if met else 'NOT met'}")
    if rows[1]["mismatched_pixels"]:
        print("ERROR: the skimage variant disagrees with scikit-image")
        ok = False
    if args.json:
        write_json(args.json, {"rows": rows, "machine": machine, "targets": TARGETS})
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
