"""benchmarks/reference_spot_check.py: the code's studies rebuild the committed cpu reference's runs, and the
run-by-run comparison says *identical* / *differs* from hand-made results (no training here)."""
import importlib.util
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "reports" / "cpu"


def _module():
    spec = importlib.util.spec_from_file_location("reference_spot_check", REPO / "benchmarks" / "reference_spot_check.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


spot = _module()


@pytest.fixture(scope="module")
def built():
    return spot.studies(spot.recorded_choices(REFERENCE))


def test_every_committed_run_of_04_to_06_is_rebuilt_by_the_studies(built):
    """The reference is reproducible only while the study definitions, with the choices the reference recorded,
    still give its runs' keys: a changed default would make `make reproduce` train other runs than it compares."""
    ref = spot.reference_runs(REFERENCE)
    for short, nb in spot.NOTEBOOKS.items():
        committed = set(ref.loc[ref["notebook"] == short, "key"])
        rebuilt = {r.config.key() for r in built[short].runs}
        assert committed and committed <= rebuilt, (nb, sorted(committed - rebuilt)[:5])


def test_default_sample_is_first_replicates_plus_the_stand_ins_they_start_from(built):
    picked = spot.sample(built, list(spot.DEFAULT_SELECT), "first")
    keys = [r.config.key() for _, r in picked]
    assert len(keys) == len(set(keys))
    trained = [r for _, r in picked if r.label("stage", 1) == 1]
    assert {r.label("fold") for r in trained if r.label("dataset") == "lab"} == {0}
    assert {r.label("seed") for r in trained if r.label("dataset") == "wild"} == {0}
    # every start is in the sample, in an earlier stage
    starts = {r.config.model.init[4:] for r in trained if r.config.model.init.startswith("run:")}
    stage0 = {r.config.key() for _, r in picked if r.label("stage") == 0}
    assert starts and starts <= stage0
    # Table 3's four rows and the five families of Table 6 on both datasets (the baseline is Table 3's Original)
    table3 = {(r.label("row"), r.label("dataset")) for nb, r in picked if (nb, r.label("block")) == ("05", "table3")}
    assert len(table3) == 8
    families = {r.label("row") for nb, r in picked if (nb, r.label("block")) == ("06", "measured")}
    assert families == {"SMaTE (TPE-v2)", "C3D", "CNN-RNN", "frame CNN"}


def test_all_replicates_and_bad_selectors(built):
    one = spot.sample(built, ["05:table3:LBP"], "all")
    assert sorted(r.label("dataset") for _, r in one if r.label("stage", 1) == 1) == ["lab"] * 5 + ["wild"] * 3
    with pytest.raises(ValueError, match="rows of block 'table3'"):
        spot.sample(built, ["05:table3:LPB"], "first")
    with pytest.raises(ValueError, match="blocks:"):
        spot.sample(built, ["05:tabel3"], "first")
    with pytest.raises(ValueError, match="NB:BLOCK"):
        spot.sample(built, ["07:table5"], "first")


def test_missing_reference_tables_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="06_comparison__runs.json"):
        spot.recorded_choices(tmp_path)
    with pytest.raises(FileNotFoundError, match="04_position_encodings__runs.csv"):
        spot.reference_runs(tmp_path)


def _table(**over):
    row = {"notebook": "05", "block": "table3", "row": "LBP", "dataset": "lab", "fold": 0, "seed": 0, "key": "k1",
           "epochs": 60, "reused": False, "health": "trained", "final train loss": 0.125,
           "reference final train loss": 0.125, "loss identical": True, "test outcomes identical": True,
           "WAR": 90.0, "reference WAR": 90.0, "train seconds": 60.0, "reference train seconds": 100.0}
    row.update(over)
    return row


def test_summary_matches_differs_and_projects_by_hand():
    ref = pd.DataFrame({"key": ["k1", "k2", "k2"], "train seconds": [100.0, 200.0, 200.0]})
    same = pd.DataFrame([_table(), _table(key="k2", **{"train seconds": 90.0, "reference train seconds": 200.0}),
                         _table(key="s", row="C3D stand-in", **{"reference final train loss": None, "loss identical": None,
                                                             "test outcomes identical": None, "reference WAR": None,
                                                             "reference train seconds": None, "train seconds": 1400.0})])
    lines, ok = spot.summary(same, ref)
    assert ok
    assert "identical in 2 of 2" in lines[0]
    # (60 + 90) / (100 + 200) = 0.5; the two distinct reference trainings: 300 s = 5 core-min → 2.5 here
    speed = next(ln for ln in lines if ln.startswith("speed"))
    assert "0.50×" in speed and "5.0 core-min" in speed and "≈ 2.5 core-min" in speed
    assert any("no reference row" in ln and "C3D stand-in" in ln for ln in lines)
    differs = pd.DataFrame([_table(), _table(key="k2", **{"final train loss": 0.5, "loss identical": False,
                                                          "test outcomes identical": False, "WAR": 80.0})])
    lines, ok = spot.summary(differs, ref)
    assert not ok
    assert "identical in 1 of 2" in lines[0]
    assert any(ln.strip().startswith("differs:") and "k2" in ln for ln in lines)


def test_summary_file_names_the_machine_and_the_sample(tmp_path):
    import argparse
    lines = ["3 runs sampled", "  differs: 05 table3 LBP lab (key k2)"]
    out = tmp_path / "spot.md"
    table = pd.DataFrame([_table(device="cpu (AMD EPYC, 1 torch threads)", cpu_isa="AVX2")])
    spot.write_summary(out, lines, table, REFERENCE, argparse.Namespace(select=["05:table3:LBP"], replicates="all", workers=2,
                                                                 out=str(tmp_path / "spot.csv")), 90.0)
    text = out.read_text()
    assert "selectors 05:table3:LBP; replicates all; 2 trainings at once" in text
    assert "after 1.5 min" in text and "Reference `reports/cpu`" in text
    assert "kernels " in text and "`spot.csv`" in text
    assert "- 3 runs sampled\n  - differs: 05 table3 LBP lab (key k2)\n" in text
