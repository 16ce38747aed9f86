"""Engine check on a GPU: the training paths that the CPU test suite cannot reach.

What it runs (smoke-sized, about a minute on one GPU):

1. ``prepare_inputs`` parity: the evaluation transform of one SynthFER batch on the CPU
   and on the device must agree (max |Δ| reported; both use the same bilinear resize).
2. ``fit`` of the smoke ViViT-FE on SynthFER ``lab`` with the full SMaTE training input
   (augmentation, 2 augmented views + LBP view, Eq. 7 mixing), bf16 autocast (``amp="auto"``
   → bf16 on CUDA), fused AdamW, checkpoints, for a few epochs — on the device, then the same
   config once more from its stored result (must return at once, identical).
3. Resume on the device: the same run interrupted after epoch 1 and resumed must end with the
   same metrics as the uninterrupted one (bf16 on GPU is deterministic enough for argmax
   predictions on this tiny model; the losses are compared with a tolerance and reported).
4. DDP through torchrun on the device: one process per GPU with NCCL — needs ≥ 2 GPUs (with one, fit() runs its
   single-process path and NCCL refuses two ranks on one GPU), so it reports "skipped" there; on CPU two gloo ranks.

Writes one JSON (path = first argument, default ``gpu_engine_check.json``) and prints it.
Exit status 0 only if every check passed. Usage::

    python benchmarks/gpu_engine_check.py $OUT/engine.json           # device "auto" → cuda if present
    SMATE_CHECK_DEVICE=cpu python benchmarks/gpu_engine_check.py /tmp/e.json   # the CPU dry run
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from smate_nb.train import (ExperimentConfig, fit, load_data, prepare_inputs,  # noqa: E402
                            experiment_from_profile)
from smate_nb.throughput import describe_device, resolve_device  # noqa: E402


class _Interrupt(Exception):
    """Raised from the epoch hook to simulate a killed run."""


def _config(device: str, epochs: int) -> ExperimentConfig:
    cfg = experiment_from_profile("smoke", "lab")
    return cfg.replace(device=device,
                       preproc={"augment": True, "lbp": True, "mix": True, "n_views": 2},
                       optim={"epochs": epochs, "batch_size": 8, "amp": "auto"})


def check_parity(cfg: ExperimentConfig, dev: torch.device) -> dict:
    """Evaluation transform on CPU vs device for one batch of stored clips."""
    train_ds, _, _ = load_data(cfg.data)
    clips = torch.stack([torch.as_tensor(train_ds[i][0]) for i in range(min(4, len(train_ds)))])
    cpu, _ = prepare_inputs(clips, cfg.data, cfg.preproc, train=False)
    gpu, _ = prepare_inputs(clips.to(dev), cfg.data, cfg.preproc, train=False)
    diff = (cpu - gpu.float().cpu()).abs().max().item()
    # Also the training path on the device: shapes and value range of the views (random, so no parity).
    g = torch.Generator().manual_seed(0)
    clip, views = prepare_inputs(clips.to(dev), cfg.data, cfg.preproc, train=True, generator=g)
    return {"batch": list(clips.shape), "eval_transform_max_abs_diff": diff, "ok": diff < 1e-4,
            "train_clip": list(clip.shape), "train_views": [list(v.shape) for v in views or []],
            "train_range": [float(clip.min()), float(clip.max())]}


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "gpu_engine_check.json")
    dev = resolve_device(os.environ.get("SMATE_CHECK_DEVICE", "auto"))
    epochs = int(os.environ.get("SMATE_CHECK_EPOCHS", "3"))
    root = Path(os.environ.get("SMATE_RUNS") or tempfile.mkdtemp(prefix="smate_engine_runs_"))
    report: dict = {"device": describe_device(dev), "torch": torch.__version__, "epochs": epochs, "checks": {}}
    cfg = _config(dev.type, epochs)
    report["config"] = cfg.to_dict()
    ok = True

    def record(name, fn):
        nonlocal ok
        t0 = time.perf_counter()
        try:
            r = fn()
        except Exception as err:  # noqa: BLE001 — report every check, keep going
            r = {"ok": False, "error": f"{type(err).__name__}: {err}", "traceback": traceback.format_exc()}
        r["seconds"] = round(time.perf_counter() - t0, 2)
        report["checks"][name] = r
        ok = ok and bool(r.get("ok"))
        status = "FAILED" if not r.get("ok") else "skipped" if r.get("skipped") else "ok"
        print(f"[engine check] {name}: {status} ({r['seconds']} s)", flush=True)

    record("prepare_inputs_parity", lambda: check_parity(cfg, dev))

    def run_fit():
        r = fit(cfg, root=root / "full", progress=False)
        t0 = time.perf_counter()
        again = fit(cfg, root=root / "full", progress=False)
        hist = r["history"]
        losses = [h.get("train_loss") for h in hist]
        finite = all(isinstance(v, (int, float)) and v == v and abs(v) != float("inf") for v in losses)
        return {"ok": finite and again["metrics"] == r["metrics"] and (time.perf_counter() - t0) < 5,
                "device": r.get("device"), "wall_seconds": r.get("wall_seconds"),
                "bf16_autocast": cfg.optim.amp == "bf16" or (cfg.optim.amp == "auto" and dev.type == "cuda"),
                "train_loss_by_epoch": losses, "metrics": {k: r["metrics"][k] for k in ("war", "uar", "n")
                                                           if k in r["metrics"]},
                "stored_result_reused": again["metrics"] == r["metrics"], "key": r["key"]}

    record("fit_bf16_mixed_tokens", run_fit)

    def run_resume():
        ref = json.loads((root / "full" / cfg.key() / "result.json").read_text())

        def interrupt(epoch, _model):
            if epoch == 0:
                raise _Interrupt

        try:
            fit(cfg, root=root / "resume", progress=False, on_epoch_end=interrupt)
        except _Interrupt:
            pass
        r = fit(cfg, root=root / "resume", progress=False)
        la = [h["train_loss"] for h in ref["history"]]
        lb = [h["train_loss"] for h in r["history"]]
        max_loss_diff = max(abs(a - b) for a, b in zip(la, lb))
        same_preds = ref["predictions"] == r["predictions"] if "predictions" in ref else None
        return {"ok": len(lb) == len(la) and max_loss_diff < 5e-2, "max_train_loss_diff": max_loss_diff,
                "identical_losses": la == lb, "identical_predictions": same_preds,
                "metrics_resumed": {k: r["metrics"][k] for k in ("war", "uar") if k in r["metrics"]}}

    record("interrupt_and_resume", run_resume)

    def run_ddp():
        # torchrun with one process per GPU on the device (NCCL on CUDA, gloo on CPU): the engine's DDP path —
        # process group, DistributedSampler, DDP wrapper, gathered evaluation — on the backend CI cannot reach.
        import socket
        import subprocess

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        nproc = torch.cuda.device_count() if dev.type == "cuda" else 2
        if nproc < 2:
            # With one process fit() takes its single-process path (no process group), and NCCL will not put two
            # ranks on one GPU: on a one-GPU machine the NCCL path cannot be exercised (seen on an H200).
            return {"ok": True, "skipped": "NCCL needs ≥ 2 GPUs; this machine has 1", "nproc": nproc}
        work = root / "ddp"
        cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(nproc), "--master_addr",
               "127.0.0.1", "--master_port", str(port), str(REPO / "tests" / "_ddp_worker.py"), str(work)]
        # The workers import smate_nb as this script does (from the checkout, installed or not).
        path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
        env = {**os.environ, "SMATE_DDP_DEVICE": dev.type, "OMP_NUM_THREADS": "1", "PYTHONPATH": path}
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
        if proc.returncode != 0:
            return {"ok": False, "nproc": nproc, "stderr_tail": proc.stderr[-2000:]}
        ranks = [json.loads((work / f"rank{r}.json").read_text()) for r in range(nproc)]
        agree = all(r["weights"] == ranks[0]["weights"] and r["y_pred"] == ranks[0]["y_pred"] for r in ranks)
        return {"ok": agree and all(r["world"] == nproc for r in ranks), "nproc": nproc,
                "backend": "nccl" if dev.type == "cuda" else "gloo", "ranks_agree": agree,
                "war": ranks[0]["war"], "test_clips_scored": len(ranks[0]["y_true"])}

    record("ddp_torchrun", run_ddp)
    report["ok"] = ok
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, default=str) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "config"}, indent=1, default=str))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
