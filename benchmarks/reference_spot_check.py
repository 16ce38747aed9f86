#!/usr/bin/env python
"""Retrain a sample of the committed cpu reference's runs (notebooks 04–06) and compare them run by run.

Answers two questions a researcher has before committing hours to ``make reproduce`` on a machine:

* **Does this machine train the reference's runs bit for bit?** Each sampled run is rebuilt from the study
  definitions (``ablations.position_study``, ``ablations.preprocessing_study``, ``comparison.comparison_study``)
  with the choices the reference recorded (its tables' metadata), its key is checked against the committed runs
  table, it is trained (or fetched from the runs store) through the engine's sweep, and its final training loss
  and every test clip's outcome are compared with the reference's (``final train loss``, ``test correct``).
* **How fast is it, against the machine that made the reference?** The ratio of ``train seconds`` (the epochs'
  wall time, two trainings at once on both machines with ``--workers 2``) over the sampled runs, and the training
  time of the runs tables' distinct trainings projected with it.

The default sample is the first replicate (lab fold 0, wild seed 0) of every row of Table 3 (05), of Table 6 (06:
the ViViT-FE baseline = Table 3's *Original*, SMaTE = Table 4's mixed row, C3D, CNN-RNN, frame CNN) and Table 2's
TPE-v1 (04), with the four stand-in pretrainings they start from: 21 trainings, ≈ 3 h of the reference machine's
training time (≈ 55 min on two workers of the 2026-12-08 VM). Kernels run on one thread each with the suite's CPU
instruction-set pin (``smate_nb.config.CPU_ISA_ENV``), as the reference was trained. A stored run (same key in
the runs store) is fetched, not retrained: its times are the ones stored with it.

    python benchmarks/reference_spot_check.py                           # the default sample, 2 workers
    python benchmarks/reference_spot_check.py --select 05:table3:LBP    # one row (NB:BLOCK[:ROW]), repeatable
    python benchmarks/reference_spot_check.py --replicates all --out /tmp/spot.csv

Writes one CSV row per sampled run (``--out``, default ``benchmarks/reference_spot_check_cpu.csv``) and the summary,
with the machine it ran on, beside it (same name, ``.md``). Exit status 1 when a run that has a reference row differs
from it.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

#: The notebooks whose runs tables hold the reference runs, by the short name ``--select`` uses.
NOTEBOOKS = {"04": "04_position_encodings", "05": "05_progressive_preprocessing", "06": "06_comparison"}
DEFAULT_SELECT = ("05:table3", "06:measured", "04:table2:TPE-v1")


def _pin_kernels() -> None:
    """The reference's CPU kernels (``config.cpu_isa_env``, as the suite starts its kernels) — before torch is first
    imported: it reads the variables once. Threads per training are the sweep's (``$SMATE_THREADS``, default 1)."""
    from smate_nb.config import cpu_isa_env

    if "torch" in sys.modules:
        raise RuntimeError("reference_spot_check: torch was imported before the kernel settings were made")
    os.environ.update(cpu_isa_env(os.environ))


def recorded_choices(reference: Path) -> dict:
    """The metadata of the reference's ``06_comparison__runs`` table: its profile, the calibration choices
    (``choices``) and Table 6's (``family_choices``, ``scratch_families``). Raises FileNotFoundError / KeyError naming the file when the reference lacks them."""
    path = reference / "tables" / "06_comparison__runs.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such table — point --reference at a report folder of the cpu profile "
                                "(e.g. reports/cpu) that holds notebook 06's tables")
    meta = json.loads(path.read_text())
    missing = [k for k in ("choices", "family_choices", "profile") if k not in meta]
    if missing:
        raise KeyError(f"{path}: metadata lacks {missing}; re-execute notebook 06 with this code to record them")
    return meta


def reference_runs(reference: Path) -> "pd.DataFrame":
    """Every row of the three runs tables, with a ``notebook`` column (``test correct`` kept as text: it is one
    character per test clip and leading zeros matter)."""
    import pandas as pd

    frames = []
    for short, nb in NOTEBOOKS.items():
        path = reference / "tables" / f"{nb}__runs.csv"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such table — the reference must hold notebook {nb}'s runs table")
        frames.append(pd.read_csv(path, dtype={"test correct": str, "key": str}).assign(notebook=short))
    return pd.concat(frames, ignore_index=True)


def studies(meta: dict) -> dict:
    """The three studies of the reference's profile, rebuilt with its recorded choices."""
    from smate_nb.experiments import ablations, comparison

    profile, choices = meta["profile"], meta["choices"]
    return {"04": ablations.position_study(profile, choices), "05": ablations.preprocessing_study(profile, choices),
            "06": comparison.comparison_study(profile, choices, meta["family_choices"],
                                              scratch_families=tuple(meta.get("scratch_families") or ()))}


def sample(built: dict, select: list[str], replicates: str) -> list[tuple[str, object]]:
    """``(notebook, Run)`` for every run matching a ``NB:BLOCK[:ROW]`` selector — with ``replicates='first'``
    only the lowest lab fold and wild seed of each (block, row, dataset) — plus the stand-in runs they start from;
    each distinct training once. Raises ValueError for a selector that matches nothing."""
    chosen: dict[str, tuple[str, object]] = {}
    for sel in select:
        parts = sel.split(":")
        if len(parts) not in (2, 3) or parts[0] not in built:
            raise ValueError(f"--select {sel!r}: expected NB:BLOCK[:ROW] with NB one of {list(built)}")
        nb, block, row = parts[0], parts[1], (parts[2] if len(parts) == 3 else None)
        runs = [r for r in built[nb].runs if r.label("block") == block and (row is None or r.label("row") == row)]
        if not runs:
            rows = sorted({str(r.label("row")) for r in built[nb].runs if r.label("block") == block})
            raise ValueError(f"--select {sel!r} matches no run of notebook {NOTEBOOKS[nb]}"
                             + (f"; rows of block {block!r}: {rows}" if rows else
                                f"; blocks: {sorted({str(r.label('block')) for r in built[nb].runs})}"))
        if replicates == "first":
            firsts: dict[tuple, object] = {}
            for r in sorted(runs, key=lambda r: (r.label("fold") or 0, r.label("seed") or 0)):
                firsts.setdefault((r.label("row"), r.label("dataset")), r)
            runs = list(firsts.values())
        for r in runs:
            chosen.setdefault(r.config.key(), (nb, r))
    starts = {r.config.model.init[len("run:"):] for _, r in chosen.values() if r.config.model.init.startswith("run:")}
    for nb, st in built.items():
        for r in st.runs:
            if r.config.key() in starts:
                chosen.setdefault(r.config.key(), (nb, r))
    missing = starts - set(chosen)
    if missing:
        raise ValueError(f"the sampled runs start from runs no study defines: {sorted(missing)}")
    return list(chosen.values())


def compare(picked: list, results: list, ref: "pd.DataFrame") -> "pd.DataFrame":
    """One row per sampled run: ours beside the reference's (NaN where the reference has no row: the CNN
    families' stand-ins are in no runs table)."""
    import pandas as pd
    from smate_nb.experiments import Study

    frame = Study("spot check", "cpu", {}, tuple(r for _, r in picked)).frame(results)
    rows = []
    for (nb, run), res, (_, ours) in zip(picked, results, frame.iterrows()):
        theirs = ref[ref["key"] == ours["key"]]
        t = theirs.iloc[0] if len(theirs) else None
        rows.append({
            "notebook": nb, "block": run.label("block"), "row": run.label("row"), "dataset": run.label("dataset"),
            "fold": run.label("fold"), "seed": run.label("seed"), "key": ours["key"], "epochs": ours["epochs"],
            "reused": bool(ours["reused"]), "health": ours["health"],
            "final train loss": ours["final train loss"],
            "reference final train loss": None if t is None else t["final train loss"],
            "loss identical": None if t is None else bool(ours["final train loss"] == t["final train loss"]),
            "test outcomes identical": None if t is None else bool(str(ours["test correct"]) == str(t["test correct"])),
            "WAR": ours["WAR"], "reference WAR": None if t is None else t["WAR"],
            "train seconds": ours["train seconds"],
            "reference train seconds": None if t is None else t["train seconds"],
            "cpu_isa": res.get("cpu_isa"), "device": res.get("device"),
        })
    return pd.DataFrame(rows)


def summary(table: "pd.DataFrame", ref: "pd.DataFrame") -> tuple[list[str], bool]:
    """Lines of the summary, and whether every run with a reference row matched it."""
    with_ref = table[table["reference final train loss"].notna()]
    fresh = with_ref[~with_ref["reused"]]
    n = len(with_ref)
    same_loss, same_out = int(with_ref["loss identical"].sum()), int(with_ref["test outcomes identical"].sum())
    lines = [f"{len(table)} runs sampled ({int((~table['reused']).sum())} trained now), {n} with a reference row: "
             f"final training loss identical in {same_loss} of {n}, every test clip's outcome identical in "
             f"{same_out} of {n}"]
    for _, r in with_ref[~(with_ref["loss identical"] & with_ref["test outcomes identical"])].iterrows():
        lines.append(f"  differs: {r['notebook']} {r['block']} {r['row']} {r['dataset']} (key {r['key']}): loss "
                     f"{r['final train loss']!r} vs {r['reference final train loss']!r}, WAR {r['WAR']:.1f} vs "
                     f"{r['reference WAR']:.1f}")
    if len(fresh):
        ratio = fresh["train seconds"].sum() / fresh["reference train seconds"].sum()
        distinct = ref.drop_duplicates("key")
        total = distinct["train seconds"].sum() / 60
        lines.append(f"speed: the {len(fresh)} runs trained now took {ratio:.2f}× the reference's train seconds "
                     f"(per run {(fresh['train seconds'] / fresh['reference train seconds']).min():.2f}–"
                     f"{(fresh['train seconds'] / fresh['reference train seconds']).max():.2f}×); the runs tables' "
                     f"{len(distinct)} distinct trainings, {total:.1f} core-min on the reference machine, would take "
                     f"≈ {total * ratio:.1f} core-min here")
    no_ref = table[table["reference final train loss"].isna()]
    for _, r in no_ref.iterrows():
        lines.append(f"  no reference row (a stand-in outside the runs tables): {r['row']} {r['key']}, "
                     f"{r['train seconds']:.0f} s{' (stored)' if r['reused'] else ''}")
    return lines, same_loss == n and same_out == n


def write_summary(path: Path, lines: list[str], table: "pd.DataFrame", reference: Path, args: argparse.Namespace,
                  wall_s: float) -> None:
    """The summary lines, the command's options, its wall time ``wall_s`` and the machine — the CPU, threads and
    kernels the runs recorded (``table``'s ``device`` and ``cpu_isa``), the cores and torch here — as Markdown."""
    import datetime
    import platform

    import torch

    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    shown = reference.resolve()
    shown = shown.relative_to(ROOT) if shown.is_relative_to(ROOT) else shown
    recorded = lambda col: ", ".join(sorted(table[col].dropna().astype(str).unique())) or "not recorded"  # noqa: E731
    head = [f"# Reference spot check, finished {when} after {wall_s / 60:.1f} min", "",
            f"Reference `{shown}`; selectors {' '.join(args.select or DEFAULT_SELECT)}; replicates "
            f"{args.replicates}; {args.workers} trainings at once; machine: {recorded('device')}, kernels "
            f"{recorded('cpu_isa')} ({os.cpu_count()} cores, {platform.machine()}, torch {torch.__version__}). "
            f"One row per run: `{Path(args.out).name}`.", ""]
    path.write_text("\n".join(head + [f"  - {ln.strip()}" if ln.startswith("  ") else f"- {ln}" for ln in lines]) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reference", default=str(ROOT / "reports" / "cpu"), help="the reference report folder")
    ap.add_argument("--select", action="append", help=f"NB:BLOCK[:ROW], repeatable (default: {' '.join(DEFAULT_SELECT)})")
    ap.add_argument("--replicates", choices=("first", "all"), default="first")
    ap.add_argument("--workers", type=int, default=2, help="trainings at once (the reference: 2)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "reference_spot_check_cpu.csv"))
    ap.add_argument("--dry-run", action="store_true", help="list the sampled runs and check their keys; train nothing")
    args = ap.parse_args(argv)
    _pin_kernels()
    reference = Path(args.reference)
    meta = recorded_choices(reference)
    ref = reference_runs(reference)
    picked = sample(studies(meta), list(args.select or DEFAULT_SELECT), args.replicates)
    known = set(ref["key"])
    stray = [(nb, r.label("block"), r.label("row"), r.config.key()) for nb, r in picked   # stand-ins: stage 0
             if r.config.key() not in known and r.label("stage") != 0]
    if stray:
        raise SystemExit(f"these rebuilt runs are in no runs table of {reference}: {stray} — the code's studies and "
                         "the reference differ (a changed default or study); re-execute the reference first")
    ref_s = ref.drop_duplicates("key").set_index("key")["train seconds"]
    est = sum(float(ref_s.get(r.config.key(), 0.0)) for _, r in picked)
    print(f"{len(picked)} distinct trainings sampled; {est / 60:.1f} min of the reference's train seconds for "
          f"those in its runs tables")
    for nb, r in picked:
        print(f"  {nb} {r.label('block')} {r.label('row')} {r.label('dataset')} fold {r.label('fold')} "
              f"seed {r.label('seed')} stage {r.label('stage', 1)} {r.config.key()}")
    if args.dry_run:
        return 0
    from smate_nb.experiments import Study

    t0 = time.perf_counter()
    results = Study("reference spot check", meta["profile"], {}, tuple(r for _, r in picked)).run(workers=args.workers)
    table = compare(picked, results, ref)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False)
    lines, ok = summary(table, ref)
    print("\n".join(lines))
    write_summary(Path(args.out).with_suffix(".md"), lines, table, reference, args, time.perf_counter() - t0)
    print(f"wrote {args.out} and its summary {Path(args.out).with_suffix('.md')}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
