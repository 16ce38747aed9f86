"""WAR / UAR / confusion / bootstrap on hand-made fixtures."""
import math
import numpy as np
import pytest

from smate_nb.metrics import (VERDICTS, verdict, bootstrap_ci, clip_bootstrap, clip_paired_test, confusion_matrix,
                              mean_std, minimum_detectable_difference, paired_comparison, per_class_recall,
                              sign_test, summarize, uar, war)


def test_hand_computed_metrics():
    y_true = [0, 0, 0, 0, 1, 1, 2, 2]
    y_pred = [0, 0, 0, 1, 1, 0, 2, 1]
    cm = confusion_matrix(y_true, y_pred, 3)
    assert cm.tolist() == [[3, 1, 0], [1, 1, 0], [0, 1, 1]]
    assert war(y_true, y_pred) == pytest.approx(5 / 8)
    assert per_class_recall(y_true, y_pred, 3).tolist() == [0.75, 0.5, 0.5]
    assert uar(y_true, y_pred, 3) == pytest.approx((0.75 + 0.5 + 0.5) / 3)


def test_uar_skips_classes_without_samples():
    assert uar([0, 0, 1], [0, 1, 1], 4) == pytest.approx((0.5 + 1.0) / 2)
    rec = per_class_recall([0, 0, 1], [0, 1, 1], 4)
    assert np.isnan(rec[2]) and np.isnan(rec[3])


def test_bootstrap_interval_brackets_the_estimate_and_is_seeded():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 7, 200)
    p = np.where(rng.random(200) < 0.6, y, rng.integers(0, 7, 200))
    lo, hi = bootstrap_ci(y, p, war, n_boot=500, seed=1)
    assert lo < war(y, p) < hi and 0.05 < hi - lo < 0.2        # ≈ ±1.96·sqrt(.63·.37/200) ≈ ±0.067
    assert (lo, hi) == bootstrap_ci(y, p, war, n_boot=500, seed=1)


def test_summarize_and_errors():
    s = summarize([0, 1, 1], [0, 1, 0], ["x", "y", "z"], n_boot=50)
    assert s["per_class_recall"] == {"x": 1.0, "y": 0.5, "z": None} and s["n"] == 3
    assert mean_std([0.5]) == (0.5, 0.0)
    assert mean_std([1.0, 3.0]) == pytest.approx((2.0, 2 ** 0.5))
    with pytest.raises(ValueError, match="outside"):
        confusion_matrix([0, 5], [0, 1], 3)
    with pytest.raises(ValueError, match="y_pred"):
        confusion_matrix([0, 1], [0], 3)


@pytest.mark.parametrize("better,worse", [(9, 1), (8, 0), (5, 5), (0, 3), (12, 7), (1, 0), (30, 10)])
def test_sign_test_matches_scipy_binomtest(better, worse):
    from scipy.stats import binomtest
    assert sign_test(better, worse) == pytest.approx(binomtest(better, better + worse, 0.5).pvalue, rel=1e-12)


def test_sign_test_hand_values_and_edges():
    assert sign_test(9, 1) == pytest.approx(2 * (1 + 10) / 1024)        # 2 · P(X ≤ 1), X ~ Bin(10, ½)
    assert sign_test(8, 0) == pytest.approx(2 / 256)
    assert sign_test(0, 0) == 1.0 and sign_test(3, 3) == 1.0
    with pytest.raises(ValueError, match="≥ 0"):
        sign_test(-1, 2)


def test_paired_comparison_counts_and_differences():
    r = paired_comparison([70, 80, 60, 50], [60, 80, 65, 40])
    assert r["pairs"] == 4 and (r["better"], r["equal"], r["worse"]) == (2, 1, 1)
    assert r["mean_diff"] == pytest.approx(3.75) and r["std_diff"] == pytest.approx(np.std([10, 0, -5, 10], ddof=1))
    assert r["sign_test_p"] == pytest.approx(1.0)
    one = paired_comparison([1.0], [0.0])
    assert np.isnan(one["std_diff"]) and one["better"] == 1
    with pytest.raises(ValueError, match="equal length"):
        paired_comparison([1, 2], [1])



def test_paired_bootstrap_interval_and_verdicts():
    # Differences 1, 2, 3, 4, 5: the bootstrap means lie in [1, 5]; their 95 % interval brackets the mean 3
    # and, every difference being positive, excludes 0.
    c = paired_comparison([11, 12, 13, 14, 15], [10, 10, 10, 10, 10])
    assert c["mean_diff"] == 3 and 1 <= c["ci_low"] < 3 < c["ci_high"] <= 5
    assert paired_comparison([11, 12], [10, 10], seed=3) == paired_comparison([11, 12], [10, 10], seed=3)
    assert verdict(c, +1.5) == VERDICTS[0] == "as the paper"
    assert verdict(c, -0.7) == "opposite"
    mixed = paired_comparison([1, -1, 2, -2], [0, 0, 0, 0])          # interval straddles 0
    assert mixed["ci_low"] < 0 < mixed["ci_high"] and verdict(mixed, 1.0) == "not resolved at this budget"
    with pytest.raises(ValueError):
        verdict(c, 0.0)
    one = paired_comparison([15.0], [10.0])                          # one pair: no interval, nothing resolved
    assert math.isnan(one["ci_low"]) and verdict(one, 1.0) == "not resolved at this budget"


# ----------------------------------------------------------------------------- the decision rule (clip level)


def _clips(n_right: int, n: int, rng=None) -> list[int]:
    v = [1] * n_right + [0] * (n - n_right)
    return list(rng.permutation(v)) if rng is not None else v


def test_clip_paired_test_estimate_is_the_mean_of_the_replicates_war_differences():
    rng = np.random.default_rng(0)
    sizes = (28, 30, 25)                                            # unequal folds
    cand = [_clips(k, n, rng) for k, n in zip((20, 11, 17), sizes)]
    ref = [_clips(k, n, rng) for k, n in zip((14, 12, 9), sizes)]
    c = clip_paired_test(cand, ref, [0, 1, 2], n_boot=2000)
    expect = np.mean([np.mean(a) - np.mean(b) for a, b in zip(cand, ref)])
    assert c["mean_diff"] == pytest.approx(expect) and c["pairs"] == 3 and c["clips"] == sum(sizes)
    assert c["ci_low"] < c["mean_diff"] < c["ci_high"]
    both = [(int(x), int(y)) for a, b in zip(cand, ref) for x, y in zip(a, b)]
    assert c["cand_only"] == both.count((1, 0)) and c["ref_only"] == both.count((0, 1))
    assert clip_paired_test(cand, ref, [0, 1, 2], n_boot=500, seed=4) == clip_paired_test(cand, ref, [0, 1, 2],
                                                                                          n_boot=500, seed=4)


def test_clip_paired_test_se_matches_the_stratified_formula():
    # One replicate per test set (lab folds): the bootstrap resamples clips within each fold, so the SE of the
    # mean over folds is sqrt(Σ_g var_g(d) / n_g) / G, var with ddof 0 (the bootstrap's plug-in variance).
    rng = np.random.default_rng(1)
    cand = [list((rng.random(28) < 0.7).astype(int)) for _ in range(5)]
    ref = [list((rng.random(28) < 0.55).astype(int)) for _ in range(5)]
    c = clip_paired_test(cand, ref, list(range(5)), n_boot=40000)
    d = [np.asarray(a) - np.asarray(b) for a, b in zip(cand, ref)]
    analytic = math.sqrt(sum(x.var() / x.size for x in d)) / len(d)
    assert c["se"] == pytest.approx(analytic, rel=0.03)
    # the interval is ± 1.96 SE wide up to the bootstrap's skew, and the MDD is (z.975 + z.8) · SE = 2.80 SE
    assert (c["ci_high"] - c["ci_low"]) / 2 == pytest.approx(1.96 * analytic, rel=0.08)
    assert c["mdd"] == pytest.approx((1.959964 + 0.841621) * c["se"], rel=1e-5)
    assert minimum_detectable_difference(1.0) == pytest.approx(2.801585, rel=1e-6)


def test_replicates_of_one_test_set_share_the_clip_draw():
    # Three seeds that made the same per-clip differences on one shared test set carry the information of one
    # replicate: the crossed bootstrap (one clip draw for all) keeps the one-replicate SE, whereas three separate
    # test sets of those clips would shrink it by √3.
    rng = np.random.default_rng(2)
    a, b = list((rng.random(130) < 0.6).astype(int)), list((rng.random(130) < 0.5).astype(int))
    shared = clip_paired_test([a] * 3, [b] * 3, ["wild"] * 3, n_boot=20000)
    one = clip_paired_test([a], [b], ["wild"], n_boot=20000)
    separate = clip_paired_test([a] * 3, [b] * 3, [0, 1, 2], n_boot=20000)
    assert shared["se"] == pytest.approx(one["se"], rel=0.05)
    assert separate["se"] == pytest.approx(one["se"] / math.sqrt(3), rel=0.05)


def test_identical_models_are_not_resolved_and_a_clear_gain_is():
    same = [[1, 0, 1, 1, 0, 0, 1] * 4] * 5
    c = clip_paired_test(same, same, list(range(5)), n_boot=1000)
    assert (c["mean_diff"], c["ci_low"], c["ci_high"]) == (0, 0, 0) and math.isnan(c["mdd"])   # no spread: unknown
    assert verdict(c, 2.0) == "not resolved at this budget"
    up = clip_paired_test([_clips(24, 28)] * 5, [_clips(12, 28)] * 5, list(range(5)), n_boot=2000)
    assert up["ci_low"] > 0 and up["p_value"] < 0.001 and verdict(up, 2.0) == "as the paper"
    assert verdict(up, -2.0) == "opposite"


def test_clip_paired_test_rejects_what_it_cannot_pair():
    with pytest.raises(ValueError, match="replicate 0 has"):
        clip_paired_test([[1, 0]], [[1, 0, 1]], [0])
    with pytest.raises(ValueError, match="0 / 1"):
        clip_paired_test([[2, 0]], [[1, 0]], [0])
    with pytest.raises(ValueError, match="test set 'w' has replicates with 2 and 3 clips"):
        clip_paired_test([[1, 0], [1, 0, 1]], [[0, 0], [0, 0, 1]], ["w", "w"])
    with pytest.raises(ValueError, match="≥ 1 replicate"):
        clip_paired_test([], [], [])
    with pytest.raises(ValueError, match="level and power"):
        minimum_detectable_difference(1.0, power=1.0)


def test_clip_bootstrap_takes_any_per_clip_contrast():
    rng = np.random.default_rng(5)
    a = [list((rng.random(28) < 0.7).astype(int)) for _ in range(4)]
    b = [list((rng.random(28) < 0.5).astype(int)) for _ in range(4)]
    direct = clip_bootstrap([np.subtract(x, y) for x, y in zip(a, b)], list(range(4)), n_boot=3000, seed=2)
    paired = clip_paired_test(a, b, list(range(4)), n_boot=3000, seed=2)
    assert {k: paired[k] for k in direct} == direct                 # the 0 / 1 test is this bootstrap on a − b
    # a difference of two differences (the length generalisation's "loss of A − loss of B") lies in [−2, 2]
    contrast = [np.subtract(x, y) - np.subtract(y, x) for x, y in zip(a, b)]
    c = clip_bootstrap(contrast, list(range(4)), n_boot=3000)
    assert c["mean_diff"] == pytest.approx(2 * paired["mean_diff"]) and c["se"] == pytest.approx(2 * paired["se"], rel=0.1)
    with pytest.raises(ValueError, match="finite"):
        clip_bootstrap([[0.5, np.nan]], [0])
