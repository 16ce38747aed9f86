"""WAR / UAR / confusion / bootstrap on hand-made fixtures."""
import numpy as np
import pytest

from smate_nb.metrics import bootstrap_ci, confusion_matrix, mean_std, per_class_recall, summarize, uar, war


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
