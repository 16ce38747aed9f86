"""Clip sampling, decoding, the clip cache and the torch dataset (smate_nb.data.clips).

Data: tiny handmade PNG folders and videos (a few 24×24 frames) and one tiny SynthFER lab
dataset shared by the module, so the whole file runs in a few seconds.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import cv2
import numpy as np
import pandas as pd
import pytest
import torch

from smate_nb.data import clips as C
from smate_nb.data import manifest as M
from smate_nb.engine.data import load_data, make_loader
from smate_nb.data import synthfer as sf


# ------------------------------------------------------------------------------------ sample_indices
def test_window_fits_exactly():
    assert C.sample_indices(7, 4, 2).tolist() == [0, 2, 4, 6]


def test_short_sequence_repeats_last_frame():
    # CK+ ends on the peak: a short sequence holds its peak
    assert C.sample_indices(5, 4, 2).tolist() == [0, 2, 4, 4]
    assert C.sample_indices(1, 3, 1).tolist() == [0, 0, 0]


def test_short_sequence_spread():
    # 6 frames for 4 indices: evenly spread over 0..5, ends included
    assert C.sample_indices(6, 4, 3, short="spread").tolist() == [0, 2, 3, 5]
    # fewer frames than T: spread repeats
    assert C.sample_indices(3, 5, 1, short="spread").tolist() == [0, 1, 1, 2, 2]  # linspace, halves round up


def test_long_sequence_policies():
    assert C.sample_indices(20, 4, 2).tolist() == [0, 2, 4, 6]                 # truncate
    assert C.sample_indices(20, 4, 2, long="end").tolist() == [13, 15, 17, 19]  # keeps stride, ends on the peak
    assert C.sample_indices(20, 4, 2, long="spread").tolist() == [0, 6, 13, 19]
    # "end" never starts before the requested start point
    idx = C.sample_indices(20, 4, 2, start=0.5, long="end")
    assert idx[0] >= 10 and idx[-1] == 19


@pytest.mark.parametrize("frac,first", [(0.25, 10), (1 / 3, 13), (0.5, 20)])
def test_start_points_of_the_appearance_bias_study(frac, first):
    # floor(frac · n): the 1/4, 1/3 and 1/2 points of a 40-frame sequence (paper §2, Fig. 1)
    idx = C.sample_indices(40, 5, 2, start=frac)
    assert idx[0] == first
    assert np.all(np.diff(idx) == 2)


def test_center_start():
    assert C.sample_indices(21, 3, 5, start="center").tolist() == [5, 10, 15]
    assert C.sample_indices(5, 3, 5, start="center").tolist() == [0, 4, 4]


def test_invariants_over_a_grid():
    for n, T, s, start, short, long in itertools.product(
            (1, 2, 7, 16, 33), (1, 4, 16), (1, 2, 3), (0.0, 0.25, 0.5, 0.9, "center"), C._SHORT, C._LONG):
        idx = C.sample_indices(n, T, s, start, short=short, long=long)
        assert idx.dtype == np.int64 and idx.shape == (T,)
        assert idx.min() >= 0 and idx.max() <= n - 1
        assert np.all(np.diff(idx) >= 0)
        if isinstance(start, float):
            assert idx[0] >= min(int(np.floor(start * n)), n - 1)
        # the stride is honoured whenever the strided window fits and nothing is spread
        span = (T - 1) * s + 1
        first = idx[0]
        if first + span <= n and not (long == "spread" and first + span < n):
            assert np.all(np.diff(idx) == s)


@pytest.mark.parametrize("kwargs", [
    dict(n_frames=0, num_frames=4), dict(n_frames=5, num_frames=0), dict(n_frames=5, num_frames=4, stride=0),
    dict(n_frames=5, num_frames=4, start=1.0), dict(n_frames=5, num_frames=4, start=-0.1),
    dict(n_frames=5, num_frames=4, start="middle"), dict(n_frames=5, num_frames=4, short="pad"),
    dict(n_frames=5, num_frames=4, long="loop"),
])
def test_bad_sampling_arguments(kwargs):
    with pytest.raises(ValueError):
        C.sample_indices(**kwargs)


# ------------------------------------------------------------------------------------ decoding
def _frames(n=5, h=24, w=24, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, h, w, 3), dtype=np.uint8)


def _png_folder(path, frames, grey=False):
    path.mkdir(parents=True)
    for i, f in enumerate(frames):
        img = f[..., 0] if grey else f[..., ::-1]
        assert cv2.imwrite(str(path / f"S001_001_{i + 1:08d}.png"), img)
    return path


def _video(path, frames, fourcc="FFV1"):
    path.parent.mkdir(parents=True, exist_ok=True)
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 25.0, (frames.shape[2], frames.shape[1]))
    assert w.isOpened()
    for f in frames:
        w.write(np.ascontiguousarray(f[..., ::-1]))
    w.release()
    return path


def test_read_png_folder_is_rgb_and_ordered(tmp_path):
    fr = _frames()
    out = C.read_frames(_png_folder(tmp_path / "seq", fr))
    assert out.dtype == np.uint8 and out.shape == fr.shape
    np.testing.assert_array_equal(out, fr)  # lossless, RGB order restored


def test_read_grey_png_folder_expands_channels(tmp_path):
    fr = _frames()
    out = C.read_frames(_png_folder(tmp_path / "seq", fr, grey=True))
    assert out.shape == fr.shape
    np.testing.assert_array_equal(out[..., 0], fr[..., 0])
    np.testing.assert_array_equal(out[..., 1], out[..., 2])


def test_read_lossless_video(tmp_path):
    fr = _frames(6)
    np.testing.assert_array_equal(C.read_frames(_video(tmp_path / "c.avi", fr)), fr)


def test_read_errors_name_the_file(tmp_path):
    with pytest.raises(M.ManifestError, match="does not exist"):
        C.read_frames(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(M.ManifestError, match="holds no .png frames"):
        C.read_frames(tmp_path / "empty")
    d = _png_folder(tmp_path / "bad", _frames(2))
    (d / "S001_001_00000003.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(M.ManifestError, match="S001_001_00000003.png cannot be decoded"):
        C.read_frames(d)
    d = _png_folder(tmp_path / "sizes", _frames(2))
    cv2.imwrite(str(d / "S001_001_00000009.png"), np.zeros((10, 12, 3), np.uint8))
    with pytest.raises(M.ManifestError, match="one size"):
        C.read_frames(d)
    bad = tmp_path / "bad.avi"
    bad.write_bytes(b"RIFF not a video at all" * 10)
    with pytest.raises(M.ManifestError, match="bad.avi"):
        C.read_frames(bad)


# ------------------------------------------------------------------------------------ dataset
@pytest.fixture(scope="module")
def tiny_lab(tmp_path_factory):
    """A tiny SynthFER lab dataset (3 subjects, 40 px, 4–9 frames) and its manifest."""
    root = tmp_path_factory.mktemp("lab")
    kw = dict(subjects=3, seed=5, image_size=40, frames=(4, 9), unlabelled_per_subject=0.0)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SMATE_CACHE", str(tmp_path_factory.mktemp("cache")))    # generate()'s run log
        df = M.build_manifest("synthfer-lab", root, folds=3, progress=False, **kw)
    return df, root


def test_dataset_items_are_the_sampled_frames(tiny_lab, tmp_path):
    df, root = tiny_lab
    ds = C.ClipDataset(df, root, num_frames=6, stride=2, cache_dir=tmp_path / "cache")
    assert len(ds) == len(df)
    clip, label = ds[3]
    assert isinstance(clip, torch.Tensor) and clip.dtype == torch.uint8 and clip.shape == (6, 40, 40, 3)
    assert label == int(df["label_index"].iloc[3])
    full = C.read_frames(root / df["path"].iloc[3])
    idx = C.sample_indices(len(full), 6, 2)
    np.testing.assert_array_equal(clip.numpy(), full[idx])
    assert ds.classes == sf.CKPLUS_CLASSES and ds.labels.dtype == np.int64


def test_cache_is_used_and_keyed_by_preprocessing(tiny_lab, tmp_path, monkeypatch):
    df, root = tiny_lab
    cache = tmp_path / "cache"
    a = C.ClipDataset(df, root, num_frames=4, preprocess=C.Resize(24), cache_dir=cache)
    first = a[0][0]
    assert first.shape == (4, 24, 24, 3)
    files = list(a.cache_dir.glob("*.npy"))
    assert len(files) == 1 and (a.cache_dir / "config.json").is_file()

    def boom(path):  # a cached sequence must not be decoded again
        raise AssertionError("decoded although cached")

    monkeypatch.setattr(C, "read_frames", boom)
    b = C.ClipDataset(df, root, num_frames=4, preprocess=C.Resize(24), cache_dir=cache)
    assert torch.equal(b[0][0], first)
    c = C.ClipDataset(df, root, num_frames=4, preprocess=C.Resize(20), cache_dir=cache)
    assert c.cache_dir != a.cache_dir  # another preprocessing config → another cache
    with pytest.raises(AssertionError, match="decoded although cached"):
        c[0]


def test_cache_key_includes_generator_version(tiny_lab, tmp_path, monkeypatch):
    df, root = tiny_lab
    a = C.ClipDataset(df, root, num_frames=4, cache_dir=tmp_path)
    meta = dict(df.attrs["meta"])
    meta["source"] = {**meta["source"], "generator_version": "0.0.0-older"}
    df2 = df.copy()
    df2.attrs.update(df.attrs)
    df2.attrs["meta"] = meta
    b = C.ClipDataset(df2, root, num_frames=4, cache_dir=tmp_path)
    assert a.cache_key != b.cache_key


def test_stale_source_is_not_served_from_cache(tmp_path):
    fr = _frames(5)
    root = tmp_path / "data"
    seq = _png_folder(root / "cohn-kanade-images" / "S001" / "001", fr)
    df = pd.DataFrame([{"dataset": "ckplus", "subject": "S001", "sequence_id": "S001/001", "label": "anger",
                        "label_index": 0, "path": "cohn-kanade-images/S001/001", "n_frames": 5, "split": "cv",
                        "fold": 0}])
    ds = C.ClipDataset(df, root, num_frames=5, cache_dir=tmp_path / "cache")
    np.testing.assert_array_equal(ds[0][0].numpy(), fr)
    new = fr.copy()
    new[2] = 255 - new[2]
    cv2.imwrite(str(seq / "S001_001_00000003.png"), new[2][..., ::-1])
    import os
    os.utime(seq / "S001_001_00000003.png", ns=(1, 1))  # a changed file changes the signature
    np.testing.assert_array_equal(ds[0][0].numpy(), new)


def test_memory_holds_sequences_read_once_within_its_budget(tmp_path, monkeypatch):
    fr = _frames(5)
    root = tmp_path / "data"
    _png_folder(root / "cohn-kanade-images" / "S001" / "001", fr)
    df = pd.DataFrame([{"dataset": "ckplus", "subject": "S001", "sequence_id": "S001/001", "label": "anger",
                        "label_index": 0, "path": "cohn-kanade-images/S001/001", "n_frames": 5, "split": "cv",
                        "fold": 0}])
    held = C.ClipDataset(df, root, num_frames=5, cache_dir=False, memory_mb=1.0)
    first = held.load_sequence(0)
    reads = []
    monkeypatch.setattr(C.ClipDataset, "_load_sequence", lambda self, i: reads.append(i) or first.copy())
    assert held.load_sequence(0) is first and not reads             # the second read touches no file
    assert not first.flags.writeable                                 # held arrays cannot be changed by a caller
    np.testing.assert_array_equal(held[0][0].numpy(), fr)
    tiny = C.ClipDataset(df, root, num_frames=5, cache_dir=False, memory_mb=first.nbytes / 2 ** 20 / 2)
    tiny.load_sequence(0); tiny.load_sequence(0)
    assert reads == [0, 0]                                           # over budget: read every time
    assert C.ClipDataset(df, root, num_frames=5, cache_dir=False).memory_budget == 0   # off by default


def test_frame_count_mismatch_is_reported(tiny_lab, tmp_path):
    df, root = tiny_lab
    bad = df.copy()
    bad.loc[0, "n_frames"] = int(bad.loc[0, "n_frames"]) + 1
    ds = C.ClipDataset(bad, root, num_frames=4, cache_dir=False)
    with pytest.raises(M.ManifestError, match="rebuild the manifest"):
        ds[0]


def test_dataset_rejects_paths_escaping_the_root(tiny_lab, tmp_path):
    df, root = tiny_lab
    outside = tmp_path / "outside"
    _png_folder(outside, _frames(3))
    (root / "link").symlink_to(outside)
    bad = df.iloc[:1].copy()
    bad.loc[bad.index[0], "path"] = "link"
    ds = C.ClipDataset(bad, root, num_frames=2, cache_dir=False)
    with pytest.raises(M.ManifestError, match="outside the data root"):
        ds[0]


def test_random_start_is_deterministic_and_changes_with_epoch(tiny_lab):
    df, root = tiny_lab
    a = C.ClipDataset(df, root, num_frames=2, start="random", random_start_max=0.9, seed=3, cache_dir=False)
    b = C.ClipDataset(df, root, num_frames=2, start="random", random_start_max=0.9, seed=3, cache_dir=False)
    ia = [a.indices(i).tolist() for i in range(len(a))]
    assert ia == [b.indices(i).tolist() for i in range(len(b))]
    a.set_epoch(1)
    assert ia != [a.indices(i).tolist() for i in range(len(a))]


def test_loader_order_depends_only_on_seed(tiny_lab, tmp_path):
    df, root = tiny_lab
    ds = C.ClipDataset(df, root, num_frames=3, return_index=True, cache_dir=tmp_path)

    def order(seed, workers):
        loader = make_loader(ds, 4, shuffle=True, seed=seed, num_workers=workers)
        return [int(i) for epoch in range(2) for _, _, idx in loader for i in idx]

    o = order(0, 0)
    assert sorted(o[: len(ds)]) == list(range(len(ds)))
    assert o == order(0, 0)
    assert o != order(1, 0)
    assert o == order(0, 2)  # worker processes do not change the order


@dataclass(frozen=True)
class _Spec:  # the fields of smate_nb.train.DataSpec that datasets_for reads
    dataset: str = "synthfer-lab"
    test_fold: int | None = 0
    folds: int = 3
    num_frames: int = 4
    stride: int = 1
    train_starts: tuple = (0.0,)
    test_starts: tuple = (0.0, 0.5)
    resize: int = 36
    crop: int = 32
    subjects: int = 3
    image_size: int = 40
    data_seed: int = 5
    manifest: str | None = None


def test_load_data_engine(tmp_path, monkeypatch):
    monkeypatch.setenv("SMATE_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("SMATE_CACHE", str(tmp_path / "cache"))
    train, tests, classes = load_data(_Spec(), progress=False)
    assert classes == sf.CKPLUS_CLASSES
    assert set(tests) == {0.0, 0.5}
    tr_subj = set(train.rows["subject"])
    te_subj = set(tests[0.0].rows["subject"])
    assert tr_subj and te_subj and not tr_subj & te_subj  # subject-independent
    clip, label = tests[0.5][0]
    assert clip.shape == (4, 36, 36, 3) and 0 <= label < 7
    both, _, _ = load_data(_Spec(train_starts=(0.0, 0.25)), progress=False)
    assert len(both) == 2 * len(train)


# ------------------------------------------------------------------------------------ face alignment (issue 12, item 12)
def _blank_ckplus(tmp_path):
    root = tmp_path / "data"
    _png_folder(root / "cohn-kanade-images" / "S001" / "001", np.full((3, 48, 48, 3), 90, np.uint8))
    df = pd.DataFrame([{"dataset": "ckplus", "subject": "S001", "sequence_id": "S001/001", "label": "anger",
                        "label_index": 0, "path": "cohn-kanade-images/S001/001", "n_frames": 3, "split": "cv",
                        "fold": 0}])
    return df, root


def test_a_clip_without_a_face_is_named_by_its_file(tmp_path):
    from smate_nb.preprocess.faces import FaceConfig, FaceNotFoundError

    df, root = _blank_ckplus(tmp_path)
    ds = C.ClipDataset(df, root, num_frames=3, preprocess=C.FaceAlign(FaceConfig(backend="haar")), cache_dir=False)
    with pytest.raises(FaceNotFoundError) as e:
        ds[0]
    msg = str(e.value)
    assert f"{root / 'cohn-kanade-images/S001/001'} (sequence S001/001)" in msg and "<clip>" not in msg
    assert "drop its row from the manifest" in msg and "backend='dlib'" in msg   # fixes that work here


def test_face_align_refuses_on_missing_skip():
    from smate_nb.preprocess.faces import FaceConfig

    with pytest.raises(ValueError, match="on_missing='skip'.* not supported by the clip dataset"):
        C.FaceAlign(FaceConfig(backend="haar", on_missing="skip"))


def test_stray_files_neither_are_frames_nor_change_the_cache_key(tmp_path):
    fr = _frames(3)
    seq = _png_folder(tmp_path / "S001" / "001", fr)
    sig = C._source_signature(seq)
    assert [s[0] for s in sig] == [f"S001_001_{i:08d}.png" for i in (1, 2, 3)]
    cv2.imwrite(str(seq / "thumb.png"), fr[0])
    np.testing.assert_array_equal(C.read_frames(seq), fr)            # thumb.png is not a frame
    assert C._source_signature(seq) == sig
