"""Run health: each label from hand-made histories and predictions, its boundaries, old results, its effect on the
paired tables and the summary, and the fields ``fit`` now stores (checked against an independent recomputation)."""
import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

from smate_nb.engine import health as H
from smate_nb.engine.health import prediction_counts, result_health, run_health
from smate_nb.engine.store import InvalidResultError, load_result
from smate_nb.experiments import Run, Study
from smate_nb.experiments.summary import claims, summary_verdict, verdict_counts
from smate_nb.experiments.tables import health_verdict, paired_table, summary_table
from smate_nb.metrics import invalid, is_invalid

from _engine_fixtures import tiny_config, tiny_data

NAMES7 = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
SPREAD = list(range(7)) * 4                      # 28 test predictions, 4 per class
FLAT = [1.6, 1.0, 0.62, 0.605, 0.600, 0.598, 0.596, 0.595, 0.594]    # levelled off over the last 5 epochs


def line_drop(losses, k=5):
    """The relative drop over the last k epochs by an independent fit (numpy's polyfit through the last k + 1
    losses): −slope · k / the line's value at the window's first epoch."""
    y = np.asarray(losses[-1 - k:], dtype=float)
    slope, intercept = np.polyfit(np.arange(len(y)), y, 1)
    return -slope * k / intercept


# ----------------------------------------------------------------------------- the labels


def test_a_levelled_curve_with_spread_predictions_is_trained():
    h = run_health([{"train_loss": v} for v in FLAT], SPREAD, 7, 0.8, class_names=NAMES7)
    assert h["label"] == "trained"
    assert h["loss_window_epochs"] == 5 and h["loss_drop_last"] == pytest.approx(line_drop(FLAT))
    assert 0 < h["loss_drop_last"] < 0.02
    assert h["final_train_loss"] == 0.594 and h["train_accuracy"] == 0.8 and h["epochs"] == 9
    assert h["test_prediction_counts"] == [4] * 7 and h["top_class_share"] == pytest.approx(1 / 7)
    assert f"changed {-100 * line_drop(FLAT):+.1f} % over the last 5 epochs (tolerance 2 %)" in h["reasons"][0]
    json.dumps(h, allow_nan=False)                                  # stored as JSON: no NaN anywhere


def test_a_still_falling_loss_is_under_trained_and_says_by_how_much():
    losses = [2.0, 1.5, 1.2, 1.0, 0.9, 0.85]
    h = run_health(losses, SPREAD, 7)
    assert h["label"] == "under-trained" and h["loss_drop_last"] == pytest.approx(line_drop(losses))
    assert h["reasons"] == [f"training loss fell {100 * line_drop(losses):.1f} % over the last 5 epochs (tolerance 2 %)"]
    assert h["train_accuracy"] is None


def test_the_plateau_is_the_trend_of_the_window_not_one_noisy_epoch():
    # the measured mixed-token row (calibration fold, 30 epochs): flat, yet its end points 3 epochs apart fall 2.1 %
    noisy = [0.769, 0.748, 0.741, 0.729, 0.702, 0.726, 0.706, 0.728, 0.711]
    assert (0.726 - 0.711) / 0.726 > 0.02
    h = run_health(noisy, SPREAD, 7, train_war=0.85)
    assert h["label"] == "trained" and abs(h["loss_drop_last"]) < 0.02
    # the same scatter around a falling trend is still under-training
    falling = [v - 0.02 * i for i, v in enumerate(noisy)]
    assert run_health(falling, SPREAD, 7, train_war=0.85)["label"] == "under-trained"


def test_the_plateau_tolerance_boundary_and_the_window():
    assert line_drop([1.0] * 5 + [0.97]) > 0.02 and line_drop([1.0] * 5 + [0.985]) < 0.02
    assert run_health([1.0] * 5 + [0.97], SPREAD, 7)["label"] == "under-trained"
    assert run_health([1.0] * 5 + [0.985], SPREAD, 7)["label"] == "trained"
    # the window reaches back k = 5 epochs, not to the first one: an early fall does not count …
    assert run_health([3.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.995], SPREAD, 7)["label"] == "trained"
    # … a loss that rose is not under-training
    assert run_health([1.0, 1.0, 1.0, 1.0, 1.0, 1.2], SPREAD, 7)["label"] == "trained"
    # fewer than k + 1 epochs: the line through every epoch
    short = run_health([1.0, 0.9], SPREAD, 7)
    assert short["label"] == "under-trained" and short["loss_window_epochs"] == 1
    assert short["reasons"] == ["training loss fell 10 % over the 2 epochs trained (tolerance 2 %)"]
    assert run_health([1.0, 0.995], SPREAD, 7)["label"] == "trained"
    # the thresholds are parameters (defaults: the module's constants)
    assert run_health([1.0] * 5 + [0.97], SPREAD, 7, plateau_tol=0.05)["label"] == "trained"
    assert run_health([1.0, 0.9, 0.8, 0.8, 0.8, 0.8], SPREAD, 7, plateau_epochs=2)["label"] == "trained"
    assert (H.COLLAPSE_SHARE, H.CHANCE_MARGIN, H.PLATEAU_EPOCHS, H.PLATEAU_TOL) == (0.9, 0.02, 5, 0.02)


def test_a_run_that_fits_its_training_clips_is_not_under_trained_by_a_falling_loss():
    # the measured stand-in pretraining: 0.07 → 0.034 (−53 %) over the last 3 epochs, 100 % training accuracy
    losses = [1.26, 0.86, 0.59, 0.2, 0.1, 0.07, 0.05, 0.04, 0.034]
    assert run_health(losses, SPREAD, 7, train_war=1.0)["label"] == "trained"
    assert run_health(losses, SPREAD, 7, train_war=0.95)["label"] == "trained"         # the boundary: 95 % fits
    assert run_health(losses, SPREAD, 7, train_war=0.94)["label"] == "under-trained"   # 6 % still wrong
    assert run_health(losses, SPREAD, 7)["label"] == "under-trained"                   # unknown: not exempted
    # the measured LBP + augmentation run at 45 epochs: a loss near 0.1 scattering by ±0.05 "falls 62 %" — it fits
    noisy = [0.102, 0.189, 0.156, 0.218, 0.237, 0.131, 0.121, 0.131, 0.079, 0.1]
    assert run_health(noisy, SPREAD, 7, train_war=0.968)["label"] == "trained"
    assert run_health(noisy, SPREAD, 7, train_war=0.90)["label"] == "under-trained"
    assert H.FITTED == 0.95
    from smate_nb.experiments import ablations
    assert ablations.ORIGINAL_FIT == 100 * H.FITTED                    # one meaning of "fits its training clips"


def test_a_run_at_chance_on_its_own_training_clips_is_collapsed_even_with_a_flat_loss():
    # the measured augmented row: 60 epochs, loss flat at 1.87 in the cosine tail, 17.1 % on its training clips
    losses = [1.947, 1.95, 1.945, 1.93, 1.90, 1.88, 1.870, 1.868, 1.866, 1.8655]
    h = run_health(losses, SPREAD, 7, train_war=0.171)
    assert h["label"] == "collapsed" and "17.1 % of its own training clips" in h["reasons"][0]
    assert run_health(losses, SPREAD, 7, train_war=1 / 7 + 0.10)["label"] == "collapsed"          # the boundary
    # just above the near-chance line it is not collapsed — but it has not fitted its training clips either
    assert run_health(losses, SPREAD, 7, train_war=1 / 7 + 0.11)["label"] == "under-trained"
    assert run_health(losses, SPREAD, 7)["label"] == "trained"           # unknown training accuracy: not judged
    assert H.NEAR_CHANCE == 0.10


def test_a_flat_loss_that_has_not_fitted_the_training_clips_is_under_trained():
    # the measured Original row at 30 epochs (cosine tail): loss flat at 0.88, 78.6 % of its training clips
    losses = [1.95, 1.6, 1.2, 1.0, 0.90, 0.885, 0.884, 0.883, 0.883, 0.883, 0.883]
    h = run_health(losses, SPREAD, 7, train_war=0.786)
    assert h["label"] == "under-trained"
    assert h["reasons"] == ["it classifies 78.6 % of its own un-augmented training clips correctly, below 80 %: "
                            "it has not fitted them (a flat loss in a cosine tail is no plateau)"]
    assert run_health(losses, SPREAD, 7, train_war=0.8)["label"] == "trained"          # the boundary: 80 % fits
    assert run_health(losses, SPREAD, 7)["label"] == "trained"                         # unknown: not judged
    # a falling loss and a low training accuracy: both reasons are given
    assert len(run_health([2.0, 1.5, 1.2, 1.0, 0.9], SPREAD, 7, train_war=0.5)["reasons"]) == 2
    assert H.FIT_FLOOR == 0.8


def test_one_epoch_is_under_trained():
    h = run_health([0.7], SPREAD, 7)
    assert h["label"] == "under-trained" and "only 1 epoch" in h["reasons"][0] and h["loss_drop_last"] is None


def test_collapsed_by_the_share_of_one_class():
    pred = [3] * 92 + [1] * 8
    h = run_health(FLAT, pred, 7, class_names=NAMES7)
    assert h["label"] == "collapsed" and h["top_class"] == 3 and h["top_class_share"] == 0.92
    assert h["reasons"] == ["92 % of test predictions are class 3 (happy)"]


@pytest.mark.parametrize("n", [10, 30, 70, 110, 1000])
def test_exactly_90_percent_of_one_class_is_collapsed_and_one_clip_less_is_not(n):
    top = 9 * n // 10
    at = [0] * top + [1 + i % 6 for i in range(n - top)]
    below = [0] * (top - 1) + [1 + i % 6 for i in range(n - top + 1)]
    assert run_health(FLAT, at, 7)["label"] == "collapsed"
    assert run_health(FLAT, below, 7)["label"] == "trained"


def test_collapsed_by_a_final_loss_at_chance():
    h = run_health([1.95, 1.94, 1.93, 1.93], SPREAD, 7)
    assert h["label"] == "collapsed"
    assert h["reasons"] == ["final training loss 1.93 is within 2 % of ln 7 = 1.95 (chance)"]
    above = run_health([2.3, 2.3, 2.3, 2.3], SPREAD, 7)
    assert above["label"] == "collapsed" and "2.30 is above ln 7 = 1.95" in above["reasons"][0]
    edge = 0.98 * math.log(7)
    assert run_health([edge + 1e-6] * 4, SPREAD, 7)["label"] == "collapsed"
    assert run_health([edge - 1e-3] * 4, SPREAD, 7)["label"] == "trained"
    assert run_health([1.06] * 4, [0, 1, 2] * 5, 3)["label"] == "trained"               # ln 3 = 1.10: not at chance


def test_collapse_outranks_a_falling_loss_and_lists_every_reason():
    h = run_health([2.5, 2.2, 2.1, 2.0], [5] * 28, 7, class_names=NAMES7)
    assert h["label"] == "collapsed"
    assert h["reasons"] == ["100 % of test predictions are class 5 (surprise)",
                            "final training loss 2.00 is above ln 7 = 1.95 (chance)"]


def test_prediction_counts_checks_its_labels():
    assert prediction_counts([0, 2, 2], 4) == [1, 0, 2, 0]
    with pytest.raises(ValueError, match="outside"):
        prediction_counts([0, 4], 4)


# ----------------------------------------------------------------------------- stored results, old and new


def _result(key, history, y_pred, y_true=None, names=NAMES7, **extra):
    y_true = list(y_true if y_true is not None else range(len(y_pred)))
    y_true = [t % len(names) for t in y_true]
    war = float(np.mean(np.array(y_true) == np.array(y_pred)))
    return {"key": key, "config": {}, "history": [{"epoch": i + 1, "train_loss": v} for i, v in enumerate(history)],
            "metrics": {"war": war, "uar": war, "n": len(y_pred), "class_names": list(names)},
            "metrics_by_test_start": {}, "predictions": {"y_true": y_true, "y_pred": list(y_pred)},
            "train_size": 10, "test_size": len(y_pred), "wall_seconds": 1.0, **extra}


def test_a_result_that_predates_the_fields_gets_a_label_from_its_predictions():
    old = _result("old", FLAT, [6] * 28)
    h = result_health(old)
    assert h["label"] == "collapsed" and h["reasons"] == ["100 % of test predictions are class 6 (neutral)"]
    assert h["train_accuracy"] is None and h["test_prediction_counts"] == [0] * 6 + [28]
    new = _result("new", FLAT, SPREAD, train_eval={"war": 0.85, "n": 10}, test_prediction_counts=[4] * 7)
    assert result_health(new)["label"] == "trained" and result_health(new)["train_accuracy"] == 0.85


def test_the_store_accepts_old_results_and_refuses_damaged_health_fields(tmp_path):
    p = tmp_path / "result.json"
    old = _result("k", FLAT, SPREAD)
    p.write_text(json.dumps(old))
    assert load_result(p, "k", len(FLAT)) == old
    good = {**old, "train_eval": {"war": 0.5, "n": 10}, "test_prediction_counts": [4] * 7,
            "health": run_health(FLAT, SPREAD, 7)}
    p.write_text(json.dumps(good))
    assert load_result(p, "k", len(FLAT))["health"]["label"] == "trained"
    for bad, why in (({"test_prediction_counts": [4] * 6}, "test_prediction_counts"),
                     ({"test_prediction_counts": [5] * 7}, "test_prediction_counts"),
                     ({"train_eval": {"n": 10}}, "train_eval"),
                     ({"health": {"label": "fine"}}, "health")):
        p.write_text(json.dumps({**good, **bad}))
        with pytest.raises(InvalidResultError, match=why):
            load_result(p, "k", len(FLAT))


# ----------------------------------------------------------------------------- tables and the summary


def _study_frame(b_preds_by_fold, folds=(0, 1, 2), a_folds=None):
    """Rows A (healthy: spread predictions, levelled loss) and B (test predictions given per fold), through
    :meth:`Study.frame` from results without the new fields (as stored before them)."""
    cfg = tiny_config()
    runs, results = [], []
    for fold in folds:
        for row in ("A", "B"):
            if row == "A" and a_folds is not None and fold not in a_folds:
                continue
            pred = SPREAD if row == "A" else b_preds_by_fold[fold]
            y_true = [(i + fold) % 7 for i in range(28)]
            runs.append(Run(cfg, (("row", row), ("dataset", "lab"), ("fold", fold), ("seed", 0))))
            results.append(_result(f"{row}{fold}", FLAT, pred, y_true))
    return Study("t", "smoke", {}, tuple(runs)).frame(results)


def test_a_constant_predictor_is_collapsed_and_turns_its_comparisons_invalid():
    frame = _study_frame({f: [3] * 28 for f in range(3)})                   # B predicts "happy" for every clip
    assert set(frame[frame["row"] == "B"]["health"]) == {"collapsed"}
    assert set(frame[frame["row"] == "A"]["health"]) == {"trained"}
    assert frame["train accuracy"].isna().all() and set(frame["epochs"]) == {len(FLAT)}
    assert set(frame["final train loss"]) == {0.594}
    paper = {"A": {"ckplus": 40.0}, "B": {"ckplus": 45.0}}
    pairs = paired_table(frame, [("B", "A"), ("A", "B")], paper)
    assert list(pairs["verdict"]) == ["invalid: B did not train (3 of 3 runs collapsed)"] * 2
    wide = frame.pivot_table(index="replicate", columns="row", values="WAR")
    assert pairs.iloc[0]["mean Δ WAR (pts)"] == round((wide["B"] - wide["A"]).mean(), 2)   # Δ still shown
    assert pairs.iloc[0]["pairs"] == 3
    summ = summary_table(frame, ["A", "B"], paper)
    assert list(summ["trained runs"]) == ["3 / 3", "0 / 3"]
    # without a paper number the verdict is still invalid, not "—"
    assert paired_table(frame, [("B", "A")])["verdict"].iloc[0].startswith("invalid: B did not train")


def test_invalid_names_every_row_and_counts_only_the_paired_replicates():
    spread_b = [(i * 3) % 7 for i in range(28)]
    one_bad = _study_frame({0: [2] * 28, 1: spread_b, 2: spread_b})
    assert paired_table(one_bad, [("B", "A")]).iloc[0]["verdict"] == "invalid: B did not train (1 of 3 runs collapsed)"
    # B's collapsed run on fold 0 has no A to pair with: it does not touch the comparison
    unpaired = _study_frame({0: [2] * 28, 1: spread_b, 2: spread_b}, a_folds=(1, 2))
    pairs = paired_table(unpaired, [("B", "A")], {"A": {"ckplus": 40.0}, "B": {"ckplus": 45.0}})
    assert pairs.iloc[0]["pairs"] == 2 and not is_invalid(pairs.iloc[0]["verdict"])
    # both rows failing: both named; a mix of labels is counted label by label
    f = one_bad.copy()
    f.loc[f["row"] == "A", "health"] = ["under-trained", "trained", "collapsed"]
    assert health_verdict(f, ["B", "A"], f["replicate"].unique()) == \
        "invalid: B did not train (1 of 3 runs collapsed); A did not train (1 of 3 runs under-trained, 1 collapsed)"


def test_all_trained_keeps_the_verdict_and_a_frame_without_health_works_unchanged():
    frame = pd.DataFrame([{"row": r, "dataset": "lab", "fold": f, "seed": 0, "WAR": 100 * k / 28, "UAR": 100 * k / 28,
                           "replicate": f"lab/{f}/0", "health": "trained", "test correct": "1" * k + "0" * (28 - k),
                           "test clips": f"fold{f}"}
                          for f in range(5) for r, k in (("A", 14 + f), ("B", 20 + f))])
    paper = {"B": {"ckplus": 43.0}, "A": {"ckplus": 42.0}}
    assert paired_table(frame, [("B", "A")], paper).iloc[0]["verdict"] == "as the paper"
    assert list(summary_table(frame, ["A", "B"], paper)["trained runs"]) == ["5 / 5", "5 / 5"]
    old = frame.drop(columns="health")
    assert paired_table(old, [("B", "A")], paper).iloc[0]["verdict"] == "as the paper"
    assert "trained runs" not in summary_table(old, ["A", "B"], paper) and health_verdict(old, ["A", "B"]) is None


def test_the_summary_maps_invalid_verdicts_and_counts_them(tmp_path):
    frame = _study_frame({f: [3] * 28 for f in range(3)})
    frame["row"] = frame["row"].map({"A": "Original", "B": "LBP"})
    paper = {"Original": {"ckplus": 40.0}, "LBP": {"ckplus": 45.0}}
    tables = tmp_path / "tables"
    tables.mkdir()
    paired_table(frame, [("LBP", "Original")], paper).to_csv(tables / "05_progressive_preprocessing__table3_paired.csv",
                                                             index=False)
    t = claims(tmp_path)
    row = t[t["claim"] == "Table 3: + LBP improves (CK+)"].iloc[0]
    assert row["verdict"] == "invalid" and "invalid: LBP did not train (3 of 3 runs collapsed)" in row["ours"]
    counts = verdict_counts(t)
    assert counts["invalid"] == int((t["verdict"] == "invalid").sum()) == 1
    assert list(counts.index[:6]) == ["reproduced", "not reproduced", "not resolved", "invalid", "not comparable",
                                      "not run"]
    assert counts["not run"] == int((t["verdict"] == "not run").sum()) > 0
    fig2 = pd.DataFrame([{"train set": "+1/4 point", "test set": t, "mean Δ WAR (pts)": 3.0, "95 % CI": "[+1.0, +5.0]",
                          "verdict": v} for t, v in (("original", "higher"),
                                                     ("+1/4 point", "invalid: +1/4 point did not train (1 of 4 runs "
                                                                    "collapsed)"))])
    fig2.to_csv(tables / "03_appearance_bias__paired_vs_original.csv", index=False)
    by_claim = claims(tmp_path).set_index("claim")
    fig_row = by_claim.loc["Fig. 2: training with +1/4 point beats original on every test set"]
    assert fig_row["verdict"] == "invalid" and "did not train" in fig_row["ours"]
    assert summary_verdict("as the paper") == "reproduced" and summary_verdict("invalid: X did not train") == "invalid"
    with pytest.raises(ValueError):
        invalid([])


# ----------------------------------------------------------------------------- through the real fit


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    from smate_nb.engine.loop import fit

    root = tmp_path_factory.mktemp("runs")
    cfg = tiny_config(optim={"epochs": 4, "lr": 5e-3})        # learns a little: not every clip one class
    return fit(cfg, data=tiny_data(), root=root, progress=False), root, cfg


def test_fit_records_train_accuracy_prediction_counts_and_health(fitted):
    from smate_nb.engine.evaluation import load_trained, predict

    r, root, cfg = fitted
    train_ds, test_ds, names = tiny_data()
    assert r["train_eval"]["n"] == len(train_ds) == 24
    model, c = load_trained(r, root)                                        # the final weights, from the checkpoint
    y_true, y_pred = predict(model, train_ds, c.data, torch.device("cpu"), pre=c.preproc)
    assert r["train_eval"]["war"] == float((y_true == y_pred).mean())
    # … which is not the running accuracy of the last training epoch (model in train mode, weights still moving)
    assert r["train_eval"]["war"] != r["history"][-1]["train_acc"]
    assert r["test_prediction_counts"] == np.bincount(r["predictions"]["y_pred"], minlength=3).tolist()
    assert len(r["test_prediction_counts"]) == len(names) and sum(r["test_prediction_counts"]) == len(test_ds)
    assert r["health"]["label"] in H.LABELS and r["health"] == result_health(r)
    assert r["health"]["train_accuracy"] == r["train_eval"]["war"]
    stored = load_result(root / cfg.key() / "result.json", cfg.key(), 4)
    assert stored["train_eval"] == r["train_eval"] and stored["health"] == r["health"]
    frame = Study("t", "smoke", {}, (Run(cfg, (("row", "x"), ("dataset", "lab"))),)).frame([r])
    assert frame.iloc[0]["train accuracy"] == 100 * r["train_eval"]["war"]
    assert frame.iloc[0]["health"] == r["health"]["label"] and frame.iloc[0]["epochs"] == 4
    assert frame.iloc[0]["final train loss"] == r["history"][-1]["train_loss"]
