"""The paper-vs-ours summary (notebook 08), generated from the tables the other notebooks stored — never typed in.

:func:`claims` reads ``<profile dir>/tables/*.csv`` and returns one row per number or claim of the paper: the
paper's value, ours (with the data, profile and model named), Δ, a verdict and the table it comes from.
Verdicts: *reproduced* (a paired comparison resolved on the paper's side, or a count within tolerance),
*not reproduced* (resolved on the other side, or a count off), *not resolved* (the interval includes 0 at this
budget), *invalid* (a run behind the comparison did not train — :mod:`smate_nb.engine.health`; its table's
``invalid: …`` reason is kept in the *ours* column), *not comparable* (an absolute accuracy on other data, or a time
on another machine), *not run* (its notebook has not written the table yet). :func:`verdict_counts` counts them.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from .. import paper
from ..metrics import INVALID, is_invalid

__all__ = ["VERDICT_OF", "SUMMARY_VERDICTS", "summary_verdict", "verdict_counts", "claims", "ambiguity_register"]

#: A table's verdict → the summary's (any ``invalid: …`` verdict → ``invalid``: :func:`summary_verdict`).
VERDICT_OF = {"as the paper": "reproduced", "opposite": "not reproduced", "not resolved at this budget": "not resolved",
              INVALID: INVALID}
#: Every verdict of the summary, in the order it is counted and shown.
SUMMARY_VERDICTS = ("reproduced", "not reproduced", "not resolved", INVALID, "not comparable", "not run")
_DATASET = {"lab": ("ckplus", "CK+"), "wild": ("afew", "AFEW")}


def summary_verdict(table_verdict: Any) -> str:
    """A table's verdict cell → the summary's verdict (:data:`VERDICT_OF`; ``invalid: …`` → ``invalid``; anything
    else as it is)."""
    v = str(table_verdict)
    return INVALID if is_invalid(v) else VERDICT_OF.get(v, v)


def verdict_counts(table: pd.DataFrame) -> pd.Series:
    """How many claims of :func:`claims` end in each verdict of :data:`SUMMARY_VERDICTS` (zeros included; a
    verdict outside that list is counted after them)."""
    counts = table["verdict"].value_counts()
    order = list(SUMMARY_VERDICTS) + [v for v in counts.index if v not in SUMMARY_VERDICTS]
    return counts.reindex(order).fillna(0).astype(int)


def _judged(ours: str, table_verdict: Any) -> tuple[str, str]:
    """``(ours, summary verdict)``: an invalid table verdict keeps its reason beside our number."""
    v = str(table_verdict)
    return (f"{ours}; {v}" if is_invalid(v) else ours), summary_verdict(v)


def _read(tables: Path, stem: str) -> pd.DataFrame | None:
    p = tables / f"{stem}.csv"
    return pd.read_csv(p) if p.is_file() else None


def _meta(tables: Path, stem: str) -> dict[str, Any]:
    p = tables / f"{stem}.json"
    try:
        return json.loads(p.read_text()).get("meta", json.loads(p.read_text()))
    except (OSError, ValueError):
        return {}


# Links to a table are written as ../tables/<name>.md: that one path resolves from every folder the summary's
# tables are read in — tables/ (the Markdown), executed/ (the notebook) and html/ (its page).
def _row(claim: str, paper_value: Any, ours: Any, delta: Any, verdict: str, source: str | None) -> dict[str, Any]:
    return {"claim": claim, "paper": paper_value, "ours": ours, "Δ": delta, "verdict": verdict,
            "source": f"[{source}](../tables/{source}.md)" if source else "—"}


def _not_run(claim: str, paper_value: Any, source: str) -> dict[str, Any]:
    return _row(claim, paper_value, "—", "—", "not run", source)


def _paired_claims(tables: Path, stem: str, label: str, comparisons: dict[str, str]) -> list[dict[str, Any]]:
    """Claims from a paired table (columns dataset, comparison, mean Δ …, 95 % CI, paper Δ, verdict)."""
    t = _read(tables, stem)
    out = []
    for comp, text in comparisons.items():
        for ds, (key, name) in _DATASET.items():
            if t is None:
                out.append(_not_run(f"{label}: {text} ({name})", "—", stem))
                continue
            sel = t[(t["comparison"] == comp) & (t["dataset"].astype(str).str.startswith(ds))]
            if sel.empty:
                continue
            r = sel.iloc[0]
            delta_col = next(c for c in t.columns if c.startswith("mean Δ"))
            ours, v = _judged(f"{r[delta_col]:+.2f} pts {r['95 % CI']} ({r['pairs']} pairs, {ds})", r["verdict"])
            out.append(_row(f"{label}: {text} ({name})", f"{r['paper Δ (pts)']} pts", ours, "—", v, stem))
    return out


def _cells(tables: Path, stem: str, label: str, values: dict[str, dict[str, float | None]],
           names: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Absolute accuracies cell by cell: ours beside the paper's — on other data, so *not comparable*."""
    t = _read(tables, stem)
    out = []
    for ours_row, paper_row in (names or {k: k for k in values}).items():
        for ds, (key, name) in _DATASET.items():
            p = values.get(paper_row, {}).get(key)
            if p is None:
                continue
            if t is None:
                out.append(_not_run(f"{label} {paper_row}, {name}", f"{p:.2f} %", stem))
                continue
            sel = t[(t["row"] == ours_row) & (t["dataset"].astype(str).str.startswith(ds))]
            ours = "—" if sel.empty else f"{sel.iloc[0]['WAR % (ours)']} % ({ds})"
            out.append(_row(f"{label} {paper_row}, {name}", f"{p:.2f} %", ours, "—", "not comparable", stem))
    return out


def claims(profile_dir: str | Path) -> pd.DataFrame:
    """Every number and claim of the paper beside ours (see the module docstring). ``profile_dir``: a report's
    ``<root>/<profile>`` folder."""
    tables = Path(profile_dir) / "tables"
    rows: list[dict[str, Any]] = []

    # Table 1: cost and accuracy.
    t = _read(tables, "01_model_walkthrough__table1_cost")
    if t is None:
        rows += [_not_run("Table 1: parameters", f"{paper.TABLE1['params_m']} M", "01_model_walkthrough__table1_cost"),
                 _not_run("Table 1: GFLOPs (= MACs)", f"{paper.TABLE1['gflops']} G", "01_model_walkthrough__table1_cost")]
    else:
        for _, r in t.iterrows():
            d = r["Δ params %"]
            rows.append(_row(f"Table 1: parameters, ViViT-B/16x2 FE with temporal position `{r['temporal position']}`",
                             f"{paper.TABLE1['params_m']} M", f"{r['params (M) ours']:.3f} M (counted)", f"{d:+.3f} %",
                             "reproduced" if abs(d) < 0.005 else "not reproduced", "01_model_walkthrough__table1_cost"))
        r = t.iloc[0]
        rows.append(_row("Table 1: GFLOPs (read as MACs), 25 frames, 224²", f"{paper.TABLE1['gflops']} G",
                         f"{r['GMACs ours']:.2f} G (matrix products counted)", f"{r['Δ GFLOPs %']:+.2f} %",
                         "reproduced" if abs(r["Δ GFLOPs %"]) < 1 else "not reproduced", "01_model_walkthrough__table1_cost"))
    t = _read(tables, "06_comparison__table1")
    for col, key, name in (("lab / CK+ WAR %", "ckplus", "CK+"), ("wild / AFEW WAR %", "afew", "AFEW")):
        ours = "—" if t is None else f"{t.iloc[0][col]} % ({t.iloc[0]['model']})"
        rows.append(_row(f"Table 1: ViViT-FE baseline accuracy, {name}", f"{paper.TABLE1[key]:.2f} %", ours, "—",
                         "not run" if t is None else "not comparable", "06_comparison__table1"))

    # Fig. 2 (appearance bias).
    t = _read(tables, "03_appearance_bias__paired_vs_original")
    if t is None:
        rows.append(_not_run("Fig. 2: ¼ / ⅓-point training beats original on all test sets", "higher",
                             "03_appearance_bias__paired_vs_original"))
    else:
        for ts in ("+1/4 point", "+1/3 point"):
            sub = t[t["train set"] == ts]
            n_hi = int((sub["verdict"] == "higher").sum())
            lo = int((sub["verdict"] == "lower").sum())
            bad = sub["verdict"][sub["verdict"].map(is_invalid)]
            verdict = "reproduced" if n_hi == len(sub) and len(sub) else ("not reproduced" if lo else "not resolved")
            ours = (f"higher in {n_hi} of {len(sub)} test sets; mean Δ "
                    + ", ".join(f"{d:+.1f}" for d in sub["mean Δ WAR (pts)"]) + " pts")
            if len(bad):                          # a run behind a cell did not train: the claim cannot be judged
                verdict, ours = INVALID, f"{ours}; {bad.iloc[0]}"
            rows.append(_row(f"Fig. 2: training with {ts} beats original on every test set", "higher on all",
                             ours, "—", verdict, "03_appearance_bias__paired_vs_original"))

    # Table 2 and the TPE claims.
    rows += _cells(tables, "04_position_encodings__table2", "Table 2", paper.TABLE2,
                   {"learned": "BERT", "TPE-v1": "TPE-V1", "TPE-v2": "TPE-V2"})
    rows += _paired_claims(tables, "04_position_encodings__table2_paired", "Table 2",
                           {"TPE-v1 − learned": "TPE-v1 beats BERT", "TPE-v2 − learned": "TPE-v2 beats BERT",
                            "TPE-v2 − TPE-v1": "TPE-v2 beats TPE-v1"})
    t = _read(tables, "04_position_encodings__literal_reading_vs_none")
    rows.append(_row("§3.2.3 TPE as a position value added to the tokens (literal reading) acts on the model",
                     "implied", "—" if t is None else f"identical predictions to no position on "
                     f"{t['same predictions %'].min():.0f} % of test clips", "—",
                     "not run" if t is None else ("not reproduced" if t["same predictions %"].min() == 100 else
                                                  "not resolved"), "04_position_encodings__literal_reading_vs_none"))
    t = _read(tables, "04_position_encodings__length_generalisation_paired")
    for row in ("TPE-v1", "TPE-v2"):
        sel = None if t is None else t[t["comparison"].str.contains(f"loss of {row},")]
        if sel is None or sel.empty:
            rows.append(_not_run(f"§3.2.3 {row} generalises to longer sequences than the learned table",
                                 "claim", "04_position_encodings__length_generalisation_paired"))
            continue
        r = sel.iloc[0]
        ours, v = _judged(f"learned loses {r['mean Δ (pts)']:+.2f} pts more {r['95 % CI']} "
                          f"({r['comparison'].split(', ')[-1]})", r["verdict"])
        rows.append(_row(f"§3.2.3 {row} generalises to longer sequences than the learned table", "claim (no number)",
                         ours, "—", v, "04_position_encodings__length_generalisation_paired"))

    # Tables 3 and 4.
    steps = {"LBP − Original": "+ LBP improves", "Crop, flip, rotate, color jitter − LBP": "+ augmentation improves",
             "Mixed-token embedding − Crop, flip, rotate, color jitter": "+ mixed tokens improve"}
    for n, values in (("3", paper.TABLE3), ("4", paper.TABLE4)):
        rows += _cells(tables, f"05_progressive_preprocessing__table{n}", f"Table {n}", values)
        rows += _paired_claims(tables, f"05_progressive_preprocessing__table{n}_paired", f"Table {n}", steps)
    t = _read(tables, "05_progressive_preprocessing__leave_one_out")
    if t is not None:
        for _, r in t.iterrows():
            key, name = _DATASET[r["dataset"]]
            ours, v = _judged(f"{r['contribution Δ WAR (pts)']:+.2f} pts {r['95 % CI']}", r["verdict"])
            rows.append(_row(f"Leave one out: {r['method']} contributes given the others ({name})",
                             str(r["paper's cumulative gain (pts)"]) + " pts (cumulative)", ours, "—", v,
                             "05_progressive_preprocessing__leave_one_out"))

    # Table 5.
    t = _read(tables, "07_cost_by_crop__table5_macs")
    for i, crop in enumerate(paper.TABLE5["crop"]):
        g = paper.TABLE5["gflops"][i]
        sel = None if t is None else t[t["crop"] == crop]
        if sel is None or sel.empty:
            rows.append(_not_run(f"Table 5: GFLOPs at crop {crop}", f"{g} G", "07_cost_by_crop__table5_macs"))
            continue
        r = sel.iloc[0]
        rows.append(_row(f"Table 5: GFLOPs (read as MACs) at crop {crop}, 16 frames", f"{g} G",
                         f"{r['GMACs ours']:.2f} G", f"{r['Δ %']:+.2f} %",
                         "reproduced" if abs(r["Δ %"]) < 1 else "not reproduced", "07_cost_by_crop__table5_macs"))
        rows.append(_row(f"Table 5: training steps/min at crop {crop} (RTX A6000, batch not given)",
                         f"{paper.TABLE5['steps_per_min'][i]}", "see the throughput table (another device and batch)",
                         "—", "not comparable", "07_cost_by_crop__table5_throughput"))

    # Table 6.
    t = _read(tables, "06_comparison__table6_measured")
    for ours_row, key in (("SMaTE (TPE-v2)", "ckplus"), ("SMaTE (TPE-v2)", "afew")):
        name = "CK+" if key == "ckplus" else "AFEW"
        ds = "lab" if key == "ckplus" else "wild"
        sel = None if t is None else t[(t["row"] == ours_row) & t["dataset"].astype(str).str.startswith(ds)]
        ours = "—" if sel is None or sel.empty else f"{sel.iloc[0]['WAR % (ours)']} % ({ds})"
        rows.append(_row(f"Table 6: SMaTE (TPE-v2), {name}", f"{paper.TABLE6[ours_row][key]:.2f} %", ours, "—",
                         "not run" if t is None else "not comparable", "06_comparison__table6_measured"))
    for name, v in paper.TABLE6.items():
        if name.startswith("SMaTE"):
            continue
        for key, ds_name in (("ckplus", "CK+"), ("afew", "AFEW")):
            if v[key] is not None:
                rows.append(_row(f"Table 6: {name}, {ds_name} (reported from its own paper)", f"{v[key]:.2f} %",
                                 "other data and protocol", "—", "not comparable", "06_comparison__table6_reported"))
    t = _read(tables, "06_comparison__table6_paired")
    if t is None:
        rows.append(_not_run("Table 6: SMaTE outperforms the other families", "claim", "06_comparison__table6_paired"))
    else:
        for _, r in t.iterrows():
            key, name = _DATASET[r["dataset"]]
            ours, v = _judged(f"{r['mean Δ WAR (pts)']:+.2f} pts {r['95 % CI']}", r["verdict"])
            rows.append(_row(f"Table 6: {r['comparison']} > 0, same folds and seeds ({name} stand-in)",
                             str(r["paper Δ (pts)"]), ours, "—", v, "06_comparison__table6_paired"))
    return pd.DataFrame(rows)


def ambiguity_register(profile_dir: str | Path) -> pd.DataFrame:
    """:data:`smate_nb.paper.AMBIGUITIES` with a link to the table where each was measured (if it was, in this
    report)."""
    tables = Path(profile_dir) / "tables"
    rows = []
    for a in paper.AMBIGUITIES:
        m = a["measured"]
        where = "not measured" if m is None else (f"[{m}](../tables/{m}.md)" if (tables / f"{m}.csv").exists()
                                                  else f"{m} (not run)")
        rows.append({"point": a["point"], "the paper": a["paper"], "our choice": a["choice"],
                     "parameter": a["parameter"], "measured in": where})
    return pd.DataFrame(rows)
