"""Label-free pretext tasks of the stand-in pretraining, and the nested subject subsets of the data-size curve."""
import numpy as np
import pandas as pd
import pytest
import torch

from smate_nb.data.pretext import TASKS, ArrowOfTime, Rotation, task_classes, wrap_task
from smate_nb.engine.data import subject_subset
from smate_nb.engine.specs import ConfigError, DataSpec, ExperimentConfig


class Clips:
    """Three random uint8 clips [T, H, W, C] with expression labels 4, 5, 6."""

    def __init__(self, square=True):
        g = torch.Generator().manual_seed(0)
        w = 6 if square else 7
        self.items = [(torch.randint(0, 255, (5, 6, w, 3), generator=g, dtype=torch.uint8), 4 + i) for i in range(3)]

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def test_rotation_shows_every_clip_at_every_turn_with_that_turn_as_its_label():
    base = Clips()
    ds = Rotation(base)
    assert len(ds) == 4 * len(base)
    labels = [ds[i][1] for i in range(len(ds))]
    assert sorted(labels) == sorted([0, 1, 2, 3] * 3)                    # exactly balanced
    for i in range(len(ds)):
        clip, k = ds[i]
        ref = np.rot90(base[i % 3][0].numpy(), k, axes=(1, 2))           # numpy's turn, counter-clockwise
        np.testing.assert_array_equal(clip.numpy(), ref)
        assert k not in (4, 5, 6) or k == i // 3                          # the expression label is gone
    with pytest.raises(IndexError):
        ds[len(ds)]
    with pytest.raises(ValueError, match="square"):
        Rotation(Clips(square=False))[0]


def test_arrow_of_time_reverses_the_frames_of_the_second_copy():
    base = Clips()
    ds = ArrowOfTime(base)
    assert len(ds) == 6 and [ds[i][1] for i in range(6)] == [0, 0, 0, 1, 1, 1]
    np.testing.assert_array_equal(ds[4][0].numpy(), base[1][0].numpy()[::-1])
    np.testing.assert_array_equal(ds[1][0].numpy(), base[1][0].numpy())


def test_tasks_name_their_classes_and_unknown_tasks_are_refused():
    assert task_classes("expression", ("a", "b")) == ("a", "b")
    assert task_classes("rotation", ("a",)) == ("0°", "90°", "180°", "270°")
    base = Clips()
    assert wrap_task("expression", base) is base
    with pytest.raises(ValueError, match="DataSpec.task"):
        wrap_task("identity", base)
    with pytest.raises(ConfigError, match="data.task"):
        ExperimentConfig(data=DataSpec(task="identity")).validate()
    with pytest.raises(ConfigError, match="train_subject_fraction"):
        ExperimentConfig(data=DataSpec(train_subject_fraction=0.0)).validate()
    assert set(TASKS) >= {"expression", "rotation", "arrow_of_time"}


def _rows(n_subjects=20, per=3):
    return pd.DataFrame([{"subject": f"S{s:03d}", "sequence_id": f"S{s:03d}_{j}"} for s in range(n_subjects)
                         for j in range(per)])


def test_subject_subsets_are_nested_seeded_and_whole_people():
    rows = _rows()
    spec = lambda f, fold=0, seed=0: DataSpec(train_subject_fraction=f, test_fold=fold, data_seed=seed)  # noqa: E731
    quarter, half = subject_subset(rows, spec(0.25)), subject_subset(rows, spec(0.5))
    assert subject_subset(rows, spec(1.0)) is rows
    assert quarter["subject"].nunique() == 5 and half["subject"].nunique() == 10
    assert set(quarter["subject"]) < set(half["subject"])                       # nested
    assert len(quarter) == 5 * 3                                                 # every sequence of a kept person
    assert quarter.equals(subject_subset(rows, spec(0.25)))                      # the same draw every time
    assert set(subject_subset(rows, spec(0.25, fold=1))["subject"]) != set(quarter["subject"])   # per fold
    with pytest.raises(ValueError, match="subject"):
        subject_subset(rows.drop(columns="subject"), spec(0.5))


def test_exemplar_makes_every_training_sequence_its_own_class():
    from smate_nb.data.pretext import EXEMPLAR_COPIES, Exemplar, copies_per_clip

    base = Clips()
    ds = Exemplar(base)
    assert len(ds) == EXEMPLAR_COPIES * 3 and ds.classes == ("sequence 0", "sequence 1", "sequence 2")
    for i in range(len(ds)):
        clip, label = ds[i]
        assert label == i % 3 and torch.equal(clip, base[i % 3][0])
    assert copies_per_clip("exemplar") == EXEMPLAR_COPIES and copies_per_clip("rotation") == 4
    assert copies_per_clip("expression") == 1 and copies_per_clip("arrow_of_time") == 2
    with pytest.raises(ValueError, match="copies"):
        Exemplar(base, copies=0)
