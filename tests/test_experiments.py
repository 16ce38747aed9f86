"""Study definitions: the runs two tables share are one run, choices follow their fixed rules, budgets hold."""
import math

import pandas as pd
import pytest

from smate_nb.config import get_profile
from smate_nb.experiments import ablations, appearance_bias, cost_by_crop
from smate_nb.experiments.tables import ci_bounds, fmt_ci, paired_table, summary_table

CHOICES = {"tpe_mode": "direction", "tpe_v1_alpha": 1.0, "tpe_v1_normalized": False, "tpe_v2_alpha": 2.0,
           "tpe_v2_normalized": True, "epochs": 20}


@pytest.mark.parametrize("profile", ["smoke", "cpu"])
def test_tables_2_3_4_request_identical_configs_for_shared_rows(profile):
    pos = ablations.position_study(profile, CHOICES)
    pre = ablations.preprocessing_study(profile, CHOICES)

    def keys(study, **labels):
        return {(r.label("dataset"), r.label("fold"), r.label("seed")): r.config.key() for r in study.select(**labels)}

    t2_learned, t3_orig = keys(pos, block="table2", row="learned"), keys(pre, block="table3", row="Original")
    t2_tpe, t4_orig = keys(pos, block="table2", row="TPE-v2"), keys(pre, block="table4", row="Original")
    assert t2_learned == t3_orig and t2_tpe == t4_orig and len(t2_learned) == len(ablations.budget(profile)["report_folds"]) + len(ablations.budget(profile)["wild_seeds"])
    # "SMaTE − mixing" is Table 4's third row, not a second training (on the replicates the block runs on).
    loo = keys(pre, block="loo", row="SMaTE − mixing")
    t4 = keys(pre, block="table4", row="Crop, flip, rotate, color jitter")
    assert loo and loo == {k: v for k, v in t4.items() if k[0] in ablations.budget(profile)["loo_datasets"]}
    # Every row of a table on the same replicates, with one budget.
    for block in ("table3", "table4"):
        runs = pre.select(block=block)
        assert {r.config.optim for r in runs} == {runs[0].config.optim}
        reps = {row: {(r.label("dataset"), r.label("fold"), r.label("seed")) for r in pre.select(block=block, row=row)}
                for row in ablations.T3_ROWS}
        assert len({frozenset(v) for v in reps.values()}) == 1


def test_calibration_fold_is_never_reported_and_pretraining_comes_first():
    b = ablations.budget("cpu")
    assert b["calibration_fold"] == 9 and 9 not in b["report_folds"]
    with pytest.raises(ValueError, match="calibration fold"):
        ablations.budget("cpu", report_folds=(0, 9))
    pos = ablations.position_study("cpu", CHOICES)
    pre_key = pos.choices["pretraining"]
    assert pos.runs[0].config.key() == pre_key and pos.runs[0].label("stage") == 0
    fine = [r for r in pos.runs if r.label("stage") == 1]
    assert fine and all(r.config.model.init == f"run:{pre_key}" for r in fine)
    reported_folds = {r.label("fold") for r in fine if r.label("dataset") == "lab"}
    assert 9 not in reported_folds
    # The stand-in's corpus is another generation seed: no reported person is in it.
    assert pos.runs[0].config.data.data_seed != fine[0].config.data.data_seed
    cal = ablations.calibration_study("cpu")
    assert {r.label("fold") for r in cal.runs if r.label("stage") == 1} == {9}
    cal1 = ablations.calibration_study("cpu", epochs=20)
    assert {r.label("fold") for r in cal1.runs if r.label("stage") == 1} == {9}


def test_the_calibration_chooses_the_strength_then_the_budget_for_rows_at_that_strength():
    b = ablations.budget("cpu")
    assert b["epochs"] is None and len(b["epoch_grid"]) > 1
    with pytest.raises(ValueError, match="calibration fold"):
        ablations.base_config("cpu", "lab", b)                # no budget before the calibration chose one
    # Step 1: the augmentation strength, on the stall block at the budget's stall_epochs (cpu: 45, where it was
    # measured), else the largest candidate budget.
    first = ablations.calibration_study("cpu")
    stall_e = b["stall_epochs"] or max(b["epoch_grid"])
    assert b["stall_epochs"] == 45 and ablations.budget("gpu")["stall_epochs"] is None
    assert first.parameters["step"] == "strength" and first.parameters["epochs"] == stall_e
    assert {r.label("strength") for r in first.select(block="stall")} == {"paper", *ablations.STRENGTHS}
    assert {r.config.optim.epochs for r in first.runs if r.label("block") == "stall"} == {stall_e}
    # Step 2: the budget, with the slowest rows at the strength step 1 chose (not the paper's by default): the
    # augmented rows at each of epoch_seeds seeds, the Original row at the first, every candidate budget …
    step0 = ablations.calibration_study("cpu", strength="mild")
    assert step0.parameters["step"] == "epochs" and b["epoch_seeds"] == 3
    got = {(r.label("row"), r.label("budget"), r.label("seed")): r.config.optim.epochs
           for r in step0.select(block="epochs")}
    seeds = get_profile("cpu").seeds[:3]
    assert got == {(row, e, s): e for row in ablations.EPOCH_ROWS for e in b["epoch_grid"]
                   for s in (seeds[:1] if row == "Original" else seeds)}
    assert len({r.config.key() for r in step0.select(block="epochs")}) == len(got)      # seeds change the key
    # … or those up to one candidate (calibrate raises it one at a time and stops at the first that passes).
    upto = ablations.calibration_study("cpu", strength="mild", upto=b["epoch_grid"][0])
    assert {r.label("budget") for r in upto.select(block="epochs")} == {b["epoch_grid"][0]}
    slow = step0.select(block="epochs", row="Mixed-token embedding")[0].config.preproc
    assert slow.lbp and slow.augment and slow.mix                  # every method at once …
    third = step0.select(block="epochs", row="Crop, flip, rotate, color jitter")[0].config.preproc
    assert third.lbp and third.augment and not third.mix           # … and augmentation without mixing
    assert slow.augment_overrides == third.augment_overrides == ablations.STRENGTHS["mild"]
    with pytest.raises(ValueError, match="strength"):
        ablations.calibration_study("cpu", strength="wild")
    # Steps 3–4, and every row of the tables, at the chosen budget.
    cal = ablations.calibration_study("cpu", strength="mild", epochs=20)
    assert cal.parameters["step"] == "mode" and not cal.select(block="stall")
    assert {r.config.optim.epochs for r in cal.runs if r.label("block") != "pretraining"} == {20}
    assert ablations.calibration_study("cpu", strength="mild", epochs=20, mode="direction").parameters["step"] == "alpha"
    for st in (ablations.position_study("cpu", CHOICES), ablations.preprocessing_study("cpu", CHOICES)):
        assert {r.config.optim.epochs for r in st.runs if r.label("block") != "pretraining"} == {20}
    # A caller's fixed budget skips the budget's choice: the stall block runs at that budget.
    fixed = ablations.calibration_study("cpu", **{"epochs": 7})
    assert fixed.parameters["step"] == "strength"
    assert {r.config.optim.epochs for r in fixed.runs if r.label("stage") == 1} == {7}


def test_every_strength_crops_at_the_test_scale_and_a_range_that_misses_it_is_refused():
    from smate_nb.engine.specs import DataSpec

    for profile in ("smoke", "cpu", "gpu", "paper"):
        b = ablations.budget(profile)
        for dataset in ("lab", "wild"):
            d = ablations.study_data(profile, dataset, b)
            for name, over in ablations.STRENGTHS.items():
                lo, hi = dict(over).get("crop_scale", (0.8, 1.0))
                assert lo <= d.crop / d.resize <= hi, (profile, dataset, name)
                ablations.check_strength(over, d)
    d = DataSpec(crop=48, resize=54)                      # test scale 0.889
    with pytest.raises(ValueError, match="excludes the test transform's scale 0.889"):
        ablations.check_strength((("crop_scale", (0.95, 1.0)),), d)        # the old mild range
    ablations.check_strength((("crop_scale", (0.889, 0.889)),), d)         # shift only, at the test scale
    with pytest.raises(ValueError, match="budget augment_overrides"):      # an exercise's override, before any run
        ablations.base_config("cpu", "lab", ablations.budget("cpu", epochs=5,
                                                             augment_overrides=(("crop_scale", (0.95, 1.0)),)))


def _epoch_frame(health, fit):
    """Hand-made epochs block: ``health[row][budget]`` of the augmented rows, ``fit[budget]`` of the Original row."""
    rows = []
    for e in (10, 20, 30):
        for row in ablations.EPOCH_ROWS[1:]:
            rows.append({"block": "epochs", "row": row, "budget": e, "final train loss": 0.5, "train accuracy": 85.0,
                         "WAR": 50.0, "health": health[row][e]})
        rows.append({"block": "epochs", "row": "Original", "budget": e, "final train loss": 0.1,
                     "train accuracy": fit[e], "WAR": 70.0, "health": "trained"})
    return pd.DataFrame(rows)


def test_choose_epochs_takes_the_first_budget_where_every_augmented_row_trained_and_the_original_fits():
    third, mixed = ablations.EPOCH_ROWS[1:]
    ok = {10: "under-trained", 20: "trained", 30: "trained"}
    c = ablations.choose_epochs(_epoch_frame({third: ok, mixed: ok}, {10: 99.0, 20: 100.0, 30: 100.0}))
    assert c["epochs"] == 20 and c["epochs_converged"] and not c["evidence_epochs"][10]["augmented rows trained"]
    # every augmented row must have trained: the third row only at 30
    late = {10: "under-trained", 20: "under-trained", 30: "trained"}
    c = ablations.choose_epochs(_epoch_frame({third: late, mixed: ok}, {10: 99.0, 20: 100.0, 30: 100.0}))
    assert c["epochs"] == 30 and c["epochs_converged"]
    # the rows train at 20, but the Original row fits its training clips only at 30
    c = ablations.choose_epochs(_epoch_frame({third: ok, mixed: ok}, {10: 80.0, 20: 94.9, 30: 96.0}))
    assert c["epochs"] == 30 and c["epochs_converged"]
    # never trained (collapsed or still falling at the largest budget): the largest, flagged
    never = {10: "collapsed", 20: "collapsed", 30: "under-trained"}
    c = ablations.choose_epochs(_epoch_frame({third: ok, mixed: never}, {10: 99.0, 20: 100.0, 30: 100.0}))
    assert c["epochs"] == 30 and not c["epochs_converged"]
    assert c["evidence_epochs"][30][f"{mixed} health"] == "under-trained"
    with pytest.raises(ValueError, match="lacks the runs"):
        ablations.choose_epochs(_epoch_frame({third: ok, mixed: ok}, {10: 99, 20: 99, 30: 99}).iloc[:-1])
    # several seeds: a budget passes only if every run of every augmented row trained there
    frame = _epoch_frame({third: ok, mixed: ok}, {10: 99.0, 20: 100.0, 30: 100.0})
    extra = frame[frame["row"] != "Original"].assign(health=lambda f: f["budget"].map(late), **{"train accuracy": 70.0})
    c = ablations.choose_epochs(pd.concat([frame, extra], ignore_index=True))
    assert c["epochs"] == 30 and c["epochs_converged"] and "at every one of 2 seeds" in c["epochs_rule"]
    ev = c["evidence_epochs"][20]
    assert ev[f"{third} health"] == "1 of 2 trained" and ev[f"{third} runs"] == 2
    assert ev[f"{third} train accuracy %"] == 70.0                  # the lowest over the seeds
    with pytest.raises(ValueError, match="health"):
        ablations.choose_epochs(_epoch_frame({third: ok, mixed: ok}, {10: 99, 20: 99, 30: 99}).drop(columns="health"))


def test_the_stand_in_pretraining_uses_no_expression_label():
    b = ablations.budget("cpu")
    pre = ablations.pretraining("cpu", b)
    assert pre.data.task == "exemplar" and pre.data.task != "expression"
    aug = dict(pre.preproc.augment_overrides)
    # random resized crop + flip, the usual video pretraining augmentation; no colour, no turns
    assert pre.preproc.augment and aug["crop_scale"] == (0.7, 1.0) and aug["flip_p"] == 0.5
    assert aug["jitter_p"] == aug["gray_p"] == aug["rotate_p"] == 0.0
    assert pre.optim.epochs == 60 and pre.data.subjects == 80
    turn = ablations.pretraining("cpu", ablations.budget("cpu", pretrain_task="rotation"))
    assert turn.data.task == "rotation" and dict(turn.preproc.augment_overrides) == {"flip_p": 0.0}
    assert not pre.preproc.lbp and not pre.preproc.mix
    old = ablations.pretraining("cpu", ablations.budget("cpu", pretrain_task="expression"))
    assert old.data.task == "expression" and old.key() != pre.key()
    with pytest.raises(ValueError, match="pretrain_task"):
        ablations.budget("cpu", pretrain_task="identity")
    assert "label-free" in ablations.start_description("cpu", b)


def test_the_data_size_block_is_nested_and_tested_on_the_same_fold():
    pre = ablations.preprocessing_study("cpu", CHOICES)
    size = pre.select(block="size")
    b = ablations.budget("cpu")
    assert {r.label("subjects") for r in size} == {*b["size_fractions"], 1.0}
    assert {r.label("row") for r in size} == set(ablations.SIZE_ROWS)
    for r in size:
        assert r.config.data.train_subject_fraction == r.label("subjects")
    # At all subjects the Original and LBP rows are Table 3's own runs.
    t3 = {(r.label("row"), r.label("fold")): r.config.key() for r in pre.select(block="table3")}
    for r in size:
        if r.label("subjects") == 1.0 and r.label("row") in ("Original", "LBP"):
            assert t3[(r.label("row"), r.label("fold"))] == r.config.key()


def test_choose_follows_its_rules():
    rows = []
    for kind, war in (("tpe_v1", {"direction": 60, "attention_bias": 70, "broadcast_dropout": 50}),
                      ("tpe_v2", {"direction": 64, "attention_bias": 52, "broadcast_dropout": 50})):
        for mode, w in war.items():
            rows.append({"block": "mode", "row": kind, "mode": mode, "alpha": 1.0, "normalized": False, "WAR": w})
    frame = pd.DataFrame(rows)
    # Mean of v1 and v2: direction 62 = attention_bias 61? No: attention_bias (70+52)/2 = 61 < direction 62.
    assert ablations.choose(frame)["tpe_mode"] == "direction"
    alpha = [{"block": "alpha", "row": "tpe_v2", "mode": "direction", "alpha": 2.0, "normalized": True, "WAR": 64},
             {"block": "alpha", "row": "tpe_v2", "mode": "direction", "alpha": 0.5, "normalized": False, "WAR": 66},
             {"block": "alpha", "row": "tpe_v1", "mode": "direction", "alpha": 2.0, "normalized": False, "WAR": 60}]
    c = ablations.choose(pd.concat([frame, pd.DataFrame(alpha)], ignore_index=True))
    assert (c["tpe_v2_alpha"], c["tpe_v2_normalized"]) == (0.5, False)       # the highest WAR
    assert c["tpe_v1_alpha"] == 1.0                                         # a tie goes to α = 1 as printed
    assert c["augment_strength"] == "paper" and c["augment_overrides"] == ()  # no strength runs: the paper's
    stall = pd.DataFrame([{"block": "stall", "row": "Crop, flip, rotate, color jitter", "init": "stand-in",
                           "strength": k, "WAR": w, "mode": None, "alpha": None, "normalized": None}
                          for k, w in (("paper", 20.0), ("mild", 35.0))])
    c = ablations.choose(pd.concat([frame, stall], ignore_index=True))
    assert c["augment_strength"] == "mild" and c["augment_overrides"] == ablations.STRENGTHS["mild"]
    pre = ablations.preprocessing_study("cpu", {**CHOICES, "augment_overrides": c["augment_overrides"]})
    assert {r.config.preproc.augment_overrides for r in pre.runs
            if r.config.preproc.augment and r.label("block") != "pretraining"} == {ablations.STRENGTHS["mild"]}


def test_row_preprocessing_is_cumulative_and_loo_removes_one_method():
    b = ablations.budget("cpu")
    rows = [ablations.row_preproc(r, b) for r in ablations.T3_ROWS]
    assert [(p.lbp, p.augment, p.mix) for p in rows] == [(False, False, False), (True, False, False),
                                                          (True, True, False), (True, True, True)]
    minus_lbp, minus_aug = (ablations.row_preproc(r, b) for r in ablations.LOO_ROWS[:2])
    assert (minus_lbp.lbp, minus_lbp.augment, minus_lbp.mix) == (False, True, True)
    assert (minus_aug.lbp, minus_aug.augment, minus_aug.mix, minus_aug.n_views) == (True, False, True, 0)


def test_appearance_bias_study_and_cost_plan():
    s = appearance_bias.study("cpu", folds=[0, 1])
    assert len(s.runs) == 4 * 2 and s.parameters["epochs"] == 12 and s.parameters["num_frames"] == 8
    assert {r.config.data.train_starts for r in s.runs} == {(0.0,), (0.0, 0.25), (0.0, 1 / 3), (0.0, 0.5)}
    # Equal optimisation steps (the default): original holds half the clips of a +… set and trains twice the epochs,
    # counted from the data plan (clips per epoch × epochs ÷ batch), not from the rule's own arithmetic.
    from smate_nb.engine.data import train_clips

    steps = {(r.label("train set"), r.label("fold")): math.ceil(train_clips(r.config.data) / r.config.optim.batch_size)
             * r.config.optim.epochs for r in s.runs}
    for fold in (0, 1):
        assert len({v for (ts, f), v in steps.items() if f == fold}) == 1, steps
    assert {r.label("train set"): r.config.optim.epochs for r in s.runs} == {
        "original": 24, "+1/4 point": 12, "+1/3 point": 12, "+1/2 point": 12}
    same = appearance_bias.study("cpu", folds=[0, 1], steps_rule="equal_epochs")
    assert {r.config.optim.epochs for r in same.runs} == {12}
    # the +… runs are the same trainings under both rules (stored once)
    assert {r.config.key() for r in same.runs if r.label("train set") != "original"} <= {r.config.key() for r in s.runs}
    with pytest.raises(ValueError, match="whole number"):
        appearance_bias.epochs_by_set({"a": (0.0, 0.5), "b": (0.0, 0.5, 0.7)}, 1)
    with pytest.raises(ValueError, match="steps_rule"):
        appearance_bias.study("cpu", steps_rule="equal")
    assert appearance_bias.resolve_arch("cpu", "vivit") == "vivit_cpu_fe"
    plan = cost_by_crop.plan("cpu", [64, 128, 224, 320], "vivit_b_16x2_fe")
    assert plan["big_crops"] == [64] and plan["small_crops"] == [64, 128, 224, 320] and plan["batch_size"] == 4


def _clip_frame(rows: dict[str, list[int]], n: int = 28, folds=range(5), **extra) -> pd.DataFrame:
    """A hand-made run frame: for each row, per fold the number of its ``n`` test clips it got right (the first
    ones), with the clip-level columns the decision rule reads."""
    return pd.DataFrame([{"row": r, "dataset": "lab", "fold": f, "seed": 0, "WAR": 100 * k[i] / n, "UAR": 100 * k[i] / n,
                          "replicate": f"lab/{f}/0", "test correct": "1" * k[i] + "0" * (n - k[i]),
                          "test clips": f"fold{f}", **extra}
                         for i, f in enumerate(folds) for r, k in rows.items()])


def test_tables_pair_on_fold_and_seed_and_give_verdicts():
    frame = _clip_frame({"A": [14, 15, 16, 17, 18], "B": [17, 18, 19, 20, 21]})      # B gets 3 more clips right
    summ = summary_table(frame, ["A", "B"], {"B": {"ckplus": 43.0}, "A": {"ckplus": 42.0}})
    assert list(summ["WAR % (ours)"]) == ["57.1 ± 5.6", "67.9 ± 5.6"] and list(summ["paper top-1 %"]) == ["42.00", "43.00"]
    pairs = paired_table(frame, [("B", "A")], {"B": {"ckplus": 43.0}, "A": {"ckplus": 42.0}})
    row = pairs.iloc[0]
    assert row["pairs"] == 5 and row["clips"] == 140 and row["better / equal / worse"] == "5 / 0 / 0"
    assert row["mean Δ WAR (pts)"] == round(100 * 3 / 28, 2) and row["verdict"] == "as the paper"
    # 15 clips right for B only, none for A only: d is 1 on 3 of 28 clips per fold; SE from the stratified formula
    se = 100 * math.sqrt(5 * (3 / 28) * (25 / 28) / 28) / 5
    assert row["MDD (pts)"] == pytest.approx(2.8016 * se, abs=0.15)
    assert row["paper Δ ≥ MDD"] == "no"                   # the paper's +1 point is far below what 140 clips resolve


def test_the_rule_refuses_to_pair_runs_scored_on_different_clips():
    frame = _clip_frame({"A": [14] * 5, "B": [17] * 5})
    frame.loc[(frame["row"] == "B") & (frame["fold"] == 2), "test clips"] = "other"
    with pytest.raises(ValueError, match="different test clips"):
        paired_table(frame, [("B", "A")])
    with pytest.raises(ValueError, match="lack the columns"):
        paired_table(frame.drop(columns="test correct"), [("B", "A")])


def test_every_lab_run_of_the_ablations_and_the_comparison_sees_the_same_data():
    from smate_nb.experiments import comparison

    runs = (list(ablations.position_study("cpu", CHOICES).runs) + list(ablations.calibration_study("cpu").runs)
            + list(comparison.comparison_study("cpu", CHOICES).runs))
    lab = [r for r in runs if r.config.data.dataset == "synthfer-lab"]
    assert lab and {r.config.data.synth_knobs for r in lab} == {ablations.LAB_KNOBS}
    reported = {(r.config.data.subjects, r.config.data.data_seed) for r in lab if r.label("stage") == 1}
    assert reported == {(40, 0)}                          # the stand-in corpus (seed 1) is not among them
    wild = [r for r in runs if r.config.data.dataset == "synthfer-wild"]
    assert wild and all(r.config.data.synth_knobs == () for r in wild)


def test_table6_families_start_alike_and_choose_their_preprocessing_by_one_rule():
    from smate_nb.experiments import comparison

    b = ablations.chosen_budget("cpu", CHOICES)
    vivit_pre = ablations.pretraining("cpu", b)
    study = comparison.comparison_study("cpu", CHOICES, {"C3D": "LBP", "CNN-RNN": "Original",
                                                         "frame CNN": "Crop, flip, rotate, color jitter"})
    stand_ins = {r.label("row"): r.config for r in study.select(block="pretraining")}
    for row in comparison.BASELINES:
        pre = stand_ins[f"{row} stand-in"]
        # the same label-free task, corpus, augmentation and epochs as the ViViT's stand-in; only the model differs
        assert (pre.data, pre.preproc, pre.optim) == (vivit_pre.data, vivit_pre.preproc, vivit_pre.optim)
        assert pre.model.arch == comparison.BASELINES[row]["cpu"]
        runs = study.select(block="measured", row=row)
        assert runs and {r.config.model.init for r in runs} == {f"run:{pre.key()}"}
        assert {r.config.optim.epochs for r in runs} == {20}
    assert {r.config.preproc.lbp for r in study.select(row="C3D", block="measured")} == {True}
    assert {r.config.preproc.augment for r in study.select(row="frame CNN", block="measured")} == {True}
    assert {r.label("preprocessing") for r in study.select(row="CNN-RNN", block="measured")} == {"none"}
    assert all(r.label("start") for r in study.select(block="measured"))
    frame = pd.DataFrame([{"block": "family calibration", "row": row, "option": o, "WAR": w, "health": h}
                          for row, vals in (("C3D", ((50, "trained"), (60, "trained"), (60, "trained"))),
                                            ("CNN-RNN", ((40, "trained"), (80, "collapsed"), (30, "trained"))),
                                            ("frame CNN", ((40, "collapsed"), (50, "under-trained"), (10, "collapsed"))))
                          for o, (w, h) in zip(comparison.FAMILY_OPTIONS, vals)])
    ch = comparison.choose_preprocessing(frame)
    assert ch["C3D"] == "LBP"                       # a tie goes to the simpler option
    assert ch["CNN-RNN"] == "Original"              # a collapsed run cannot win, however high its WAR
    assert ch["frame CNN"] == "Original" and ch["families_untrained"] == ["frame CNN"]
    assert ch["margin_families"]["C3D"] == "+0.0 WAR points over 'Crop, flip, rotate, color jitter' (one calibration fold)"
    # CNN-RNN's LBP option scored highest but collapsed: the margin is over the options that trained, and says so
    assert ch["margin_families"]["CNN-RNN"] == ("+10.0 WAR points over 'Crop, flip, rotate, color jitter' (one "
                                                "calibration fold); did not train: LBP collapsed")
    one = frame[~((frame["row"] == "C3D") & (frame["option"] != "Original"))].copy()
    one.loc[(one["row"] == "C3D"), "health"] = "trained"
    two = pd.concat([one, pd.DataFrame([{"block": "family calibration", "row": "C3D", "option": o, "WAR": 90.0,
                                         "health": "under-trained"} for o in comparison.FAMILY_OPTIONS[1:]])])
    ch = comparison.choose_preprocessing(two)      # chosen by elimination: no margin in clips to speak of
    assert ch["C3D"] == "Original"
    assert ch["margin_families"]["C3D"] == ("the only option that trained; LBP under-trained, "
                                            "Crop, flip, rotate, color jitter under-trained")


def test_table6_can_take_a_familys_head_start_away():
    from smate_nb.experiments import comparison

    fam = {"C3D": "LBP", "CNN-RNN": "Original", "frame CNN": "Original"}
    default = comparison.comparison_study("cpu", CHOICES, fam)
    scratch = comparison.comparison_study("cpu", CHOICES, fam, scratch_families=["C3D"])
    c3d = scratch.select(block="measured", row="C3D")
    assert c3d and {r.config.model.init for r in c3d} == {"scratch"} and {r.label("start") for r in c3d} == {"scratch"}
    # only the model's start changes: same preprocessing, budget and replicates; every other row untouched
    before = default.select(block="measured", row="C3D")
    assert [(r.config.preproc, r.config.optim, r.config.data) for r in c3d] == \
        [(r.config.preproc, r.config.optim, r.config.data) for r in before]
    others = lambda st: sorted(r.config.key() for r in st.runs if r.label("row") != "C3D")  # noqa: E731
    assert others(scratch) == others(default) and scratch.parameters["scratch_families"] == ["C3D"]
    with pytest.raises(ValueError, match="not CNN families"):
        comparison.comparison_study("cpu", CHOICES, fam, scratch_families=["SMaTE"])


def test_study_runs_stage_by_stage(monkeypatch):
    """A run that fine-tunes from another is swept only after that run's stage has finished."""
    from smate_nb.experiments import Run, Study
    import smate_nb.engine.sweeps as sweeps

    cal = ablations.calibration_study("smoke")
    calls = []
    monkeypatch.setattr(sweeps, "sweep", lambda configs, **kw: calls.append(list(configs)) or
                        [{"key": c.key(), "reused": True} for c in configs])
    out = cal.run()
    assert calls[0][0].key() == cal.choices["pretraining"]                      # stage 0: the stand-in …
    assert all(c.model.init == "scratch" for c in calls[0][1:])                # … beside the from-scratch runs
    assert all(c.model.init == f"run:{cal.choices['pretraining']}" or c.model.init == "scratch" for c in calls[1])
    assert [r["key"] for r in out] == [r.config.key() for r in cal.runs]        # results in the runs' order
    plain = Study("x", "smoke", {}, (Run(cal.runs[1].config),))
    plain.run()
    assert len(calls) == 3                                                      # no stage labels: one sweep


def test_gpu_time_estimate_follows_its_formula_and_is_printed_before_a_gpu_sweep(monkeypatch, capsys):
    """estimate = Σ over distinct runs of epochs × training clips × MACs per clip ÷ measured MACs/s; the
    training clips are those the engine actually loads, MACs those fvcore-checked ``count_macs`` gives."""
    import dataclasses

    import torch

    import smate_nb.engine.sweeps as sweeps
    from smate_nb.cost import count_macs
    from smate_nb.engine.data import load_data
    from smate_nb.engine.model import build_model
    from smate_nb.experiments import Run, Study, estimate

    cfg = ablations.base_config("smoke", "lab", ablations.budget("smoke"))
    cfg = dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, init="scratch"))
    train, _, classes = load_data(cfg.data, progress=False)
    m = build_model(cfg.model, num_frames=cfg.data.num_frames, image_size=cfg.data.crop, num_classes=len(classes))
    macs = count_macs(m, cfg.data.num_frames, cfg.data.crop)
    tp = {"clips_per_s": 10.0, "macs": 2e9, "device": "test GPU", "source": "test"}
    study = Study("t", "gpu", {}, (Run(cfg, (("seed", 0),)), Run(cfg, (("seed", "again"),))))  # one config twice
    est = estimate(study, tp)
    assert est["trainings"] == 1
    assert est["gpu_seconds"] == pytest.approx(cfg.optim.epochs * len(train) * macs / (10.0 * 2e9), rel=1e-9)
    monkeypatch.setattr(sweeps, "sweep", lambda configs, **kw: [{"key": c.key(), "reused": True} for c in configs])
    study.run()
    assert "1 distinct trainings, ≈" in capsys.readouterr().out          # printed before a gpu-profile sweep
    Study("t", "smoke", {}, study.runs).run()
    assert "GPU-minutes" not in capsys.readouterr().out                   # not for smoke / cpu


def test_a_user_checkpoint_replaces_the_stand_in_in_every_study(tmp_path):
    """``init=<ViT-B/16 .safetensors>``: no stand-in pretraining is trained; every fine-tuned row (and the stall
    block's fine-tuned rows, labelled ``checkpoint``) starts from the file; the from-scratch rows stay scratch."""
    from smate_nb.experiments import ablations

    ckpt = str(tmp_path / "vit_b16.safetensors")
    choices = {"tpe_mode": "direction", "tpe_v1_alpha": 1.0, "tpe_v1_normalized": False, "tpe_v2_alpha": 1.0,
               "tpe_v2_normalized": False}
    cal = ablations.calibration_study("gpu", init=ckpt)
    assert ablations.pretraining("gpu", ablations.budget("gpu", init=ckpt)) is None
    assert not [r for r in cal.runs if r.label("block") == "pretraining"] and cal.choices["pretraining"] is None
    stall = [r for r in cal.runs if r.label("block") == "stall"]
    assert {r.label("init") for r in stall} == {"scratch", "checkpoint"}
    assert all(r.config.model.init == (ckpt if r.label("init") == "checkpoint" else "scratch") for r in stall)
    for study in (ablations.position_study("gpu", choices, init=ckpt), ablations.preprocessing_study("gpu", choices, init=ckpt)):
        assert study.runs and all(r.config.model.init == ckpt for r in study.runs)
    default = ablations.position_study("gpu", choices)                   # without it: the stand-in, as before
    assert default.runs[0].label("block") == "pretraining"
    assert all(r.config.model.init.startswith("run:") for r in default.runs[1:])


def test_the_init_parameter_is_checked_before_any_work(tmp_path, monkeypatch):
    from smate_nb.params import ParameterError, validate

    good = tmp_path / "vit_b16.safetensors"
    good.write_bytes(b"")
    assert validate("position_encodings", {"profile": "gpu", "init": str(good)})["init"] == str(good.resolve())
    monkeypatch.chdir(tmp_path)                                  # a relative path becomes absolute (the runs' key)
    assert validate("comparison", {"profile": "paper", "init": "vit_b16.safetensors"})["init"] == str(good.resolve())
    assert validate("comparison", {"profile": "cpu", "init": None})["init"] is None
    for profile, value, why in (("gpu", str(tmp_path / "missing.safetensors"), "no file"),
                                ("gpu", str(tmp_path / "vit.bin"), "not a .safetensors"),
                                ("cpu", str(good), "fits vivit_b_16x2_fe only")):
        with pytest.raises(ParameterError, match=why):
            validate("progressive_preprocessing", {"profile": profile, "init": value})


def test_the_augmentation_diagnosis_removes_one_component_per_run_from_the_stall_blocks_run():
    choices = {**CHOICES, "epochs": 20}
    st = ablations.augmentation_components_study("cpu", choices)
    by = {r.label("component"): r.config for r in st.runs}
    paper_run = by.pop("paper (all of it)")
    # The paper-strength run is the calibration's stall block run from scratch (one training, stored once).
    stall = ablations.calibration_study("cpu", epochs=20).select(block="stall", init="scratch")
    assert paper_run.key() in {r.config.key() for r in stall}
    assert set(by) == set(ablations.AUGMENT_COMPONENTS)
    for name, cfg in by.items():
        # Same training as the paper-strength run in everything but the augmentation: from scratch, the chosen
        # epochs, the calibration fold, the study's model; augmentation alone (no LBP, no mixing).
        assert cfg.replace(preproc={"augment_overrides": ()}).key() == paper_run.key(), name
        assert cfg.model.init == "scratch" and cfg.data.test_fold == 9 and cfg.optim.epochs == 20
        assert cfg.model.arch == ablations.study_arch("cpu", ablations.budget("cpu"))
        assert cfg.preproc.augment and not cfg.preproc.lbp and not cfg.preproc.mix
        assert len(cfg.preproc.augment_overrides) >= 1
    # The shift-only crop holds the crop at the test transform's scale (crop / resize of the study's geometry).
    geo = dict(ablations.budget("cpu")["geometry"])
    (name, (lo, hi)), = by["shift only (crop at the test scale)"].preproc.augment_overrides
    assert name == "crop_scale" and lo == hi == pytest.approx(geo["crop"] / geo["resize"], abs=1e-4)


def test_calibration_choices_state_their_margin_in_clips():
    assert ablations.clip_margin({"sum": 50.0, "broadcast": 42.857142857}, "sum", 28) == \
        "+2.0 clips of 28 over 'broadcast' (one calibration fold)"
    # a tie rule may pick a candidate that did not score highest: the margin says so with its sign
    assert ablations.clip_margin({"paper": 40.0, "mild": 50.0}, "paper", 10).startswith("-1.0 clips of 10")
    assert ablations.clip_margin({"only": 1.0}, "only", 28) == "no alternative"
    assert ablations.clip_margin({"a": 60.0, "b": 50.0}, "a", 0) == "+10.0 WAR points over 'b' (one calibration fold)"


def test_the_margins_count_the_candidates_clips_not_the_stand_ins():
    # the calibration frame starts with the stand-in pretraining, scored on 224 held-out clips; the candidates on 28
    pre = {"block": "pretraining", "row": "stand-in", "WAR": 100.0, "n_test": 224}
    rows = [{"block": "mode", "row": k, "mode": m, "alpha": 1.0, "normalized": False, "WAR": w, "n_test": 28}
            for k in ("tpe_v1", "tpe_v2") for m, w in (("direction", 100 * 20 / 28), ("attention_bias", 100 * 22 / 28))]
    c = ablations.choose(pd.DataFrame([pre, *rows]))
    assert c["tpe_mode"] == "attention_bias"
    assert c["margin_tpe_mode"] == "+2.0 clips of 28 over 'direction' (one calibration fold)"
    assert c["margin_tpe_v1_alpha"] == "no alternative"          # one α in that reading: nothing to beat


def test_input_signal_builds_the_papers_augmentation_up_one_component_at_a_time():
    sig = ablations.input_signal("smoke", CHOICES)
    assert list(sig["input"])[:6] == ["original (no augmentation)", "shift alone (crop at the test scale)",
                                      "+ scale (the paper's crop 0.8–1.0)", "+ flip", "+ rotation",
                                      "+ colour jitter / grayscale = the paper's"]
    orig = sig.iloc[0]
    # Without augmentation the training clip is the test clip: nothing moves, every clip is its own best match.
    assert orig["mean |Δ| augmentation"] == 0 and orig["own sequence found (%)"] == 100
    assert (sig["mean |Δ| expression"] == orig["mean |Δ| expression"]).all() and orig["mean |Δ| expression"] > 0
    assert (sig["mean |Δ| augmentation"].iloc[1:] > 0).all()
    assert sig["clips"].nunique() == 1 and sig["clips"].iloc[0] >= 2


def test_the_comparisons_cpu_families_cost_about_what_the_ablations_vivit_costs_per_clip():
    """Equal terms in compute: on the cpu profile every CNN family is sized to within 25 % of the MACs per clip of
    the ablations' ViViT-FE at the ablations' clip geometry (counted, not asserted from the comments)."""
    from smate_nb.cost import count_macs
    from smate_nb.engine.model import build_model
    from smate_nb.engine.specs import ModelSpec
    from smate_nb.experiments import comparison

    b = ablations.budget("cpu")
    geo = dict(b["geometry"])
    macs = lambda arch: count_macs(build_model(ModelSpec(arch=arch), num_frames=geo["num_frames"],  # noqa: E731
                                               image_size=geo["crop"], num_classes=7), geo["num_frames"], geo["crop"])
    vivit = macs(ablations.study_arch("cpu", b))
    for row in comparison.BASELINES:
        arch = comparison._arch("cpu", row)
        assert arch != comparison.BASELINES[row]["default"], row            # the cpu profile has its own size
        assert 0.75 < macs(arch) / vivit < 1.25, (row, arch, macs(arch), vivit)


def test_ci_bounds_reads_back_what_fmt_ci_prints():
    for lo, hi in ((-2.94, 1.36), (0.0, 6.04), (-8.33, -0.71)):
        assert ci_bounds(fmt_ci({"ci_low": lo, "ci_high": hi})) == (round(lo, 1), round(hi, 1))
    none = fmt_ci({"ci_low": float("nan"), "ci_high": float("nan")})
    assert none == "—" and all(v != v for v in ci_bounds(none))          # no interval: (nan, nan)
