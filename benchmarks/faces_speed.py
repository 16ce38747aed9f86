"""Face pipeline cost and alignment jitter on the moving astronaut clip (paper §3.1.1).

Moves ``skimage.data.astronaut()`` by known per-frame rotation / zoom / shift
(:func:`smate_nb.preprocess.faces.moving_clip`), aligns it with each backend,
and reports ms per frame (detection, landmarks, warp) and how well the motion
was undone (crop pixels at 256², see :func:`~smate_nb.preprocess.faces.alignment_error`).
Also times detection at 640×480, the size the issue's ~17 ms/frame refers to.

    OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE python benchmarks/faces_speed.py [--frames 32] [--json out.json]
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from skimage import data  # noqa: E402

from smate_nb.files import write_json  # noqa: E402
from smate_nb.preprocess import faces as F  # noqa: E402

COLS = ["backend", "smooth_sigma", "frame_size", "ms_per_frame", "detect_ms_per_frame", "landmark_ms_per_frame",
        "warp_ms_per_frame", "error_rms", "error_max", "jitter_rms", "jitter_step_rms", "motion_rms",
        "n_detected", "n_rejected", "n_repicked", "n_filled"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=32)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    cv2.setNumThreads(1)
    photo = data.astronaut()
    rows = []
    for backend in F.available_backends():
        for sigma in (0.0, 1.0):
            for seed in args.seeds:
                r = F.evaluate_moving_clip(photo, F.FaceConfig(backend=backend, smooth_sigma=sigma),
                                           n_frames=args.frames, seed=seed)
                rows.append({k: r[k] for k in COLS} | {"seed": seed})
    print(f"moving astronaut, {args.frames} frames of 512², seeds {args.seeds}; "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, OpenCV 1 thread")
    print(" ".join(f"{c[:12]:>12s}" for c in COLS))
    for r in rows:
        print(" ".join(f"{r[c]:12.2f}" if isinstance(r[c], float) else f"{str(r[c]):>12s}" for c in COLS))
    # detection alone at 640×480 (the size of the reference figure)
    vga = cv2.cvtColor(cv2.resize(photo, (640, 480)), cv2.COLOR_RGB2GRAY)
    for backend in F.available_backends():
        be = F.get_backend(backend)
        be.detect(vga)
        t0 = time.perf_counter()
        for _ in range(10):
            be.detect(vga)
        print(f"{backend}: detection at 640×480 {(time.perf_counter() - t0) * 100:.1f} ms/frame")
    summary = {}
    for backend in F.available_backends():
        for sigma in (0.0, 1.0):
            sel = [r for r in rows if r["backend"] == backend and r["smooth_sigma"] == sigma]
            summary[f"{backend}_sigma{sigma:g}"] = {k: float(np.mean([r[k] for r in sel]))
                                                     for k in ("ms_per_frame", "error_rms", "jitter_rms",
                                                               "jitter_step_rms", "motion_rms")}
    for k, v in summary.items():
        print(k, {kk: round(vv, 2) for kk, vv in v.items()})
    if args.json:
        write_json(args.json, {"rows": rows, "summary": summary})
    return 0


if __name__ == "__main__":
    sys.exit(main())
