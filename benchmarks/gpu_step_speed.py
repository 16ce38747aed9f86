#!/usr/bin/env python
"""Step-speed candidates of issue 13, each tried against the current step: faster, and equal in results?

The training step is the engine's own (:func:`smate_nb.engine.step.build_train_step`, timed by
:func:`smate_nb.throughput.time_train_step`); every row is ViViT-B/16x2 FE at 224², 16 frames, batch 32 (the
operating point of the committed H200 figures: 29.4 % MFU eager, 37.8 % compiled), trained from the same
initialisation on the same ``--batches`` random batches (cycled, so the loss falls as it fits them) for
``--warmup`` + ``--steps`` steps, recording every step's loss.

Candidates, each one change from the *before* step (bf16 autocast, the earlier ``einops`` q/k/v split):

===========================  =================================================================  ==========
change                       what                                                               where
===========================  =================================================================  ==========
q/k/v split ``unbind``       ``ViViTConfig.qkv_layout``: backward writes the q/k/v gradient in  eager, compiled
                             the projection's layout (no re-ordering copy; bit-identical)
bf16 residual stream         ``OptimSpec.amp = "bf16-stream"``: bf16 copies of fp32 master       eager, compiled
                             weights, no autocast casts, bf16 LayerNorm / residual adds
fused add + LayerNorm        ``ViViTConfig.fused_norm``: one compiled kernel (CUDA) per block    eager only ¹
``max-autotune``             ``OptimSpec.compile_mode``: inductor benchmarks GEMM / fusion        compiled only
                             choices (minutes of compilation)
===========================  =================================================================  ==========

¹ inside a compiled model :func:`~smate_nb.model.vivit.add_layer_norm` is the plain ops, which inductor fuses
anyway, so a compiled row would time the same graph.

**Decision rule** (stated once, here, and written into the report): a change is *kept* when

* it is faster — its median step ≤ ``1 − FASTER_BY`` (1 %) of the *before* step's median, and
* it is equal in results — the mean |Δ loss| of its curve against the *before* curve over all steps is at most
  ``EQUAL_FRACTION`` (½) of the *seed noise*: the mean |Δ loss| between the *before* curve and the same step
  from another initialisation seed (eager; the compiled rows use the same noise figure).

Otherwise it is *dropped* (slower / not faster, or results differ). The *after* row combines every kept change
(eager and compiled separately) and is compared with the goals (MFU ≥ 50 % compiled, ≥ 35 % eager).
Nothing is changed in the profiles by this script: adopting a kept change is a one-line edit of the ``gpu``
profile (``smate_nb/config.py``) that a session with the figures makes and records.

``--budget-s``: before each row the script estimates its time from the rows already run (the first compiled row:
``--first-compile-s``); a row that would end past the budget is reported as ``skipped: budget`` (never silently
left out). Order: eager rows first, then compiled, ``max-autotune`` last. The JSON and Markdown are rewritten
after every row, and a SIGTERM (``timeout``) stops the run keeping them, the running row marked as killed.

    python benchmarks/gpu_step_speed.py --out $OUT/step_speed                 # on a GPU, ≈ 5–7 min
    python benchmarks/gpu_step_speed.py --device cpu --arch vivit_smoke_fe --frames 8 --image-size 32 \\
        --batch 2 --steps 4 --warmup 1 --compile-backend eager --out /tmp/ss   # the same path on a CPU, seconds

Writes ``step_speed.json``, ``step_speed.md`` and ``step_speed_losses.png`` under ``--out``.
Exit status 0 when every row that ran ran without error.
"""
from __future__ import annotations

import argparse
import gc
import math
import os
import signal
import statistics
import sys
import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from smate_nb import throughput  # noqa: E402
from smate_nb.cost import count_macs  # noqa: E402
from smate_nb.engine.device import describe_device, resolve_device  # noqa: E402
from smate_nb.engine.specs import OptimSpec  # noqa: E402
from smate_nb.files import write_json, write_text  # noqa: E402
from smate_nb.model.vivit import VIVIT_CONFIGS, build_vivit  # noqa: E402

FASTER_BY = 0.01          # a kept change cuts the median step by at least 1 %
EQUAL_FRACTION = 0.5      # … and moves the loss curve by at most half the seed-to-seed difference
GOALS = {"eager": 35.0, "compiled": 50.0}   # MFU % at 224², 16 frames, batch 32 (issue 13)


@dataclass
class Row:
    """One timed step configuration and what it measured."""

    name: str
    mode: str                                   # "eager" | "compiled"
    role: str                                   # "before" | "noise" | "candidate" | "after"
    change: str = ""                            # the candidate's change ("" for before/noise/after)
    optim: dict[str, Any] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    status: str = "not run"
    result: dict[str, Any] = field(default_factory=dict)


CHANGES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    # change → (OptimSpec fields, ViViTConfig fields) applied on top of the before step
    "q/k/v split unbind": ({}, {"qkv_layout": "unbind"}),
    "bf16 residual stream": ({"amp": "bf16-stream"}, {}),
    "fused add + LayerNorm": ({}, {"fused_norm": True}),
    "max-autotune": ({"compile_mode": "max-autotune"}, {}),
}
EAGER_CHANGES = ("q/k/v split unbind", "bf16 residual stream", "fused add + LayerNorm")
COMPILED_CHANGES = ("q/k/v split unbind", "bf16 residual stream", "max-autotune")
BEFORE = ({"amp": "bf16"}, {"qkv_layout": "einops"})


def _row(name: str, mode: str, role: str, changes: tuple[str, ...] = (), seed: int = 0) -> Row:
    optim, model = dict(BEFORE[0]), dict(BEFORE[1])
    for c in changes:
        optim.update(CHANGES[c][0])
        model.update(CHANGES[c][1])
    if mode == "compiled":
        optim["compile"] = True
    return Row(name=name, mode=mode, role=role, change=" + ".join(changes), optim=optim, model=model, seed=seed)


def _run(row: Row, a: argparse.Namespace, dev: torch.device, macs: int, peak: float | None) -> None:
    torch.manual_seed(row.seed)
    model = build_vivit(a.arch, num_frames=a.frames, image_size=a.image_size, num_classes=7, **row.model)
    # A zero-initialised head (Scenic's) would keep every gradient below it at zero on the first step.
    torch.nn.init.normal_(model.head.weight, std=0.02, generator=torch.Generator().manual_seed(row.seed))
    optim = replace(OptimSpec(lr=a.lr, weight_decay=0.05, grad_clip=1.0), **row.optim)
    t0 = time.perf_counter()
    try:
        t = throughput.time_train_step(model, batch_size=a.batch, optim=optim, device=dev, steps=a.steps,
                                       warmup=a.warmup + (a.compile_warmup if optim.compile else 0),
                                       seed=1000, batches=a.batches, record_losses=True,
                                       **({"compile_backend": a.compile_backend} if optim.compile else {}))
        row.status = "ok"
        row.result = {"median_ms": 1e3 * t.median_s, "min_ms": 1e3 * t.min_s, "max_ms": 1e3 * t.max_s,
                      "clips_per_s": t.clips_per_s, "mfu_percent": 100 * t.mfu(macs, peak),
                      "peak_mem_gib": t.peak_memory_bytes / 2**30, "first_step_s": t.warmup_s[0] if t.warmup_s else None,
                      "precision": t.precision, "compiled": t.compiled, "losses": t.losses}
    except Exception as err:
        row.status = f"{type(err).__name__}: {str(err).splitlines()[0][:160] if str(err) else ''}"
        row.result = {"traceback": traceback.format_exc()[-3000:]}
    row.result["wall_s"] = time.perf_counter() - t0
    del model
    gc.collect()
    if optim.compile:
        torch._dynamo.reset()
    if dev.type == "cuda":
        torch.cuda.empty_cache()


def _mean_abs_diff(a: list[float], b: list[float]) -> float:
    n = min(len(a), len(b))
    return statistics.fmean(abs(x - y) for x, y in zip(a[:n], b[:n])) if n else math.nan


def decide(candidate: Row, before: Row, seed_noise: float) -> dict[str, Any]:
    """The decision rule of the module docstring for one candidate row against the *before* row of its mode."""
    if candidate.status != "ok" or before.status != "ok":
        return {"decision": "not decided", "why": f"row {candidate.status}; before {before.status}"}
    if not math.isfinite(seed_noise):
        return {"decision": "not decided", "why": "no seed-noise figure (the noise row or the eager before row "
                                                  "did not run), so equality in results cannot be judged"}
    speedup = before.result["median_ms"] / candidate.result["median_ms"]
    dloss = _mean_abs_diff(candidate.result["losses"], before.result["losses"])
    faster = candidate.result["median_ms"] <= (1 - FASTER_BY) * before.result["median_ms"]
    equal = dloss <= EQUAL_FRACTION * seed_noise
    why = []
    if not faster:
        why.append(f"not faster (×{speedup:.3f})")
    if not equal:
        why.append(f"results differ (mean |Δloss| {dloss:.2e} > {EQUAL_FRACTION} × seed noise {seed_noise:.2e})")
    return {"decision": "keep" if faster and equal else "drop", "speedup": speedup, "mean_abs_dloss": dloss,
            "why": "; ".join(why) or "faster and equal in results"}


def _estimate(row: Row, rows: list[Row], first_compile_s: float) -> float:
    """Seconds a row will take: the longest comparable row already run; before any, ``first_compile_s`` for a
    compiled row (×4 for ``max-autotune``) and 0 for an eager one."""
    same = [r.result["wall_s"] for r in rows if r.status == "ok" and r.mode == row.mode
            and ("max-autotune" in r.change) == ("max-autotune" in row.change)]
    if same:
        return max(same)
    if row.mode == "eager":
        return 0.0
    compiled = [r.result["wall_s"] for r in rows if r.status == "ok" and r.mode == "compiled"]
    base = max(compiled) if compiled else first_compile_s
    return 4 * base if "max-autotune" in row.change else base


class _Killed(BaseException):
    """SIGTERM (``timeout``) arrived: stop, keep what has been measured."""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--arch", default="vivit_b_16x2_fe", choices=sorted(VIVIT_CONFIGS))
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--image-size", type=int, default=224)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=50, help="timed steps; their losses are the curve compared")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--compile-warmup", type=int, default=2, help="extra warm-up steps of compiled rows")
    ap.add_argument("--batches", type=int, default=4, help="random batches cycled through")
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--budget-s", type=float, default=420.0)
    ap.add_argument("--first-compile-s", type=float, default=90.0,
                    help="estimated seconds of the first compiled row (H200, inductor: the first step took 35–39 s)")
    ap.add_argument("--no-compile", action="store_true", help="eager rows only")
    ap.add_argument("--compile-backend", default="inductor", help="'eager' traces with dynamo only (CPU tests)")
    a = ap.parse_args(argv)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    dev = resolve_device(a.device)
    if dev.type == "cpu":
        torch.set_num_threads(int(os.environ.get("SMATE_THREADS", "1")) or torch.get_num_threads())
    with torch.device("meta"):
        macs = count_macs(build_vivit(a.arch, num_frames=a.frames, image_size=a.image_size, num_classes=7),
                          a.frames, a.image_size)
    peak, peak_row = throughput.device_peak_flops() if dev.type == "cuda" else (None, None)

    rows = [_row("before", "eager", "before"), _row("before, another init seed", "eager", "noise", seed=1)]
    rows += [_row(c, "eager", "candidate", (c,)) for c in EAGER_CHANGES]
    if not a.no_compile:
        rows += [_row("before", "compiled", "before")]
        rows += [_row(c, "compiled", "candidate", (c,)) for c in COMPILED_CHANGES if c != "max-autotune"]
    t_start = time.perf_counter()
    decisions: dict[tuple[str, str], dict[str, Any]] = {}
    noise = {"value": math.nan}

    def snapshot(final: bool) -> dict[str, Any]:
        """Write the JSON and Markdown of every row so far (after each row, so a killed run keeps its figures)."""
        doc = {"device": describe_device(dev), "torch": torch.__version__, "arch": a.arch, "frames": a.frames,
               "image_size": a.image_size, "batch": a.batch, "steps": a.steps, "warmup": a.warmup,
               "batches": a.batches, "lr": a.lr, "macs_per_clip": macs, "peak_flops": peak, "peak_row": peak_row,
               "rule": {"faster_by": FASTER_BY, "equal_fraction_of_seed_noise": EQUAL_FRACTION},
               "seed_noise_mean_abs_dloss": noise["value"], "goals_mfu_percent": GOALS, "complete": final,
               "wall_s": time.perf_counter() - t_start,
               "rows": [{"name": r.name, "mode": r.mode, "role": r.role, "change": r.change, "optim": r.optim,
                         "model": r.model, "seed": r.seed, "status": r.status, **r.result,
                         **(decisions.get((r.mode, r.change), {}) if r.role == "candidate" else {})} for r in rows]}
        write_json(out / "step_speed.json", doc)
        write_text(out / "step_speed.md", render(doc))
        return doc

    def run_rows(todo: list[Row]) -> None:
        for row in todo:
            est = _estimate(row, rows, a.first_compile_s)
            if time.perf_counter() - t_start + est > a.budget_s:
                row.status = f"skipped: budget ({a.budget_s:.0f} s; estimated {est:.0f} s more)"
            else:
                print(f"== {row.mode}: {row.name} ({time.perf_counter() - t_start:.0f} s)", flush=True)
                row.status = "killed while running (SIGTERM)"        # what stays if the process is stopped now
                _run(row, a, dev, macs, peak)
            print(f"   {row.status}" + (f": {row.result['median_ms']:.1f} ms, {row.result['mfu_percent']:.1f} % MFU"
                                        if row.status == "ok" else ""), flush=True)
            snapshot(False)

    def on_term(signum: int, frame: Any) -> None:
        raise _Killed()

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        run_rows(rows)
        before = {m: next(r for r in rows if r.role == "before" and r.mode == m) for m in ("eager", "compiled")
                  if any(r.mode == m for r in rows)}
        noise_row = next(r for r in rows if r.role == "noise")
        if noise_row.status == "ok" and before["eager"].status == "ok":
            noise["value"] = _mean_abs_diff(noise_row.result["losses"], before["eager"].result["losses"])
        if not a.no_compile:
            late = [_row("max-autotune", "compiled", "candidate", ("max-autotune",))]
            rows.extend(late)
            run_rows(late)
        decisions.update({(r.mode, r.change): decide(r, before[r.mode], noise["value"])
                          for r in rows if r.role == "candidate"})
        for mode in before:
            kept = tuple(c for (m, c), d in decisions.items() if m == mode and d["decision"] == "keep")
            after = _row("after: " + (" + ".join(kept) or "no change kept"), mode, "after", kept)
            rows.append(after)
            if kept:
                run_rows([after])
            elif before[mode].status == "ok":
                after.status, after.result = "same as before (nothing kept)", dict(before[mode].result)
            else:
                after.status = f"same as before (nothing kept; before: {before[mode].status})"
    except _Killed:
        print("stopped by SIGTERM: the rows measured so far are written", flush=True)
        snapshot(False)
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)
    doc = snapshot(True)
    _plot(doc, out / "step_speed_losses.png")
    print(render(doc))
    failed = [r for r in rows if not (r.status == "ok" or r.status.startswith(("skipped", "same as before")))]
    return 1 if failed else 0


def render(doc: dict[str, Any]) -> str:
    """The before/after table of ``step_speed.json`` as Markdown."""
    d = doc["device"]
    peak = "—" if not doc["peak_flops"] else f"{doc['peak_flops'] / 1e12:.1f} TFLOP/s ({doc['peak_row']})"
    lines = [f"# Step-speed candidates — {doc['arch']}, {doc['frames']} frames, {doc['image_size']}², batch "
             f"{doc['batch']}, on {d.get('name', d)}", "",
             f"torch {doc['torch']}; {doc['steps']} timed steps after {doc['warmup']} warm-up, {doc['batches']} "
             f"random batches cycled, lr {doc['lr']}; {doc['macs_per_clip'] / 1e9:.4g} GMACs per clip; "
             f"peak {peak}.",
             f"Rule: keep a change when its median step is ≥ {100 * doc['rule']['faster_by']:.0f} % below the "
             f"*before* step's and its mean |Δ loss| ≤ {doc['rule']['equal_fraction_of_seed_noise']} × the seed "
             f"noise ({doc['seed_noise_mean_abs_dloss']:.2e}: *before* vs another init seed). Total "
             f"{doc['wall_s']:.0f} s." + ("" if doc.get("complete", True) else
                                          " **Incomplete: the run stopped before every row was decided.**"), "",
             "| mode | row | median step (ms) [min, max] | clips/s | MFU % | peak mem (GiB) | first step (s) | "
             "mean abs Δloss vs before | decision |", "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in sorted(doc["rows"], key=lambda r: r["mode"] != "eager"):     # eager first, run order within
        if "median_ms" in r:
            timing = (f"{r['median_ms']:.1f} [{r['min_ms']:.1f}, {r['max_ms']:.1f}] | {r['clips_per_s']:.1f} | "
                      f"{r['mfu_percent']:.1f} | {r['peak_mem_gib']:.2f} | "
                      + (f"{r['first_step_s']:.1f}" if r.get("first_step_s") is not None else "—"))
        else:
            timing = f"{r['status']} | | | | "
        dl = f"{r['mean_abs_dloss']:.2e}" if r.get("mean_abs_dloss") is not None else ""
        verdict = f"**{r['decision']}**: {r['why']}" if r.get("decision") else r["role"]
        lines.append(f"| {r['mode']} | {r['name']} | {timing} | {dl} | {verdict} |")
    lines.append("")
    for mode, goal in doc["goals_mfu_percent"].items():
        b = next((r for r in doc["rows"] if r["mode"] == mode and r["role"] == "before"), None)
        af = next((r for r in doc["rows"] if r["mode"] == mode and r["role"] == "after"), None)
        if b is None or af is None or "mfu_percent" not in af or "mfu_percent" not in b:
            continue
        if not math.isfinite(af["mfu_percent"]):
            lines.append(f"- {mode}: no MFU on this device (no bf16 peak known); goal {goal:.0f} % not checked.")
            continue
        lines.append(f"- {mode}: MFU {b['mfu_percent']:.1f} % before → {af['mfu_percent']:.1f} % after "
                     f"({af['name']}); goal ≥ {goal:.0f} %: {'met' if af['mfu_percent'] >= goal else 'not met'}.")
    return "\n".join(lines) + "\n"


def _plot(doc: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), sharey=True)
    for ax, mode in zip(axes, ("eager", "compiled")):
        for r in doc["rows"]:
            if r["mode"] == mode and r.get("losses") and r["status"] == "ok":
                ax.plot(r["losses"], label=r["name"], lw=1.2, ls="--" if r["role"] == "noise" else "-")
        ax.set_title(f"{mode}: loss per step"), ax.set_xlabel("step (warm-up included)")
        if ax.lines:
            ax.legend(fontsize=7)
    axes[0].set_ylabel("training loss")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
