"""Manifests (smate_nb.data.manifest): schema, readers of the CK+/AFEW layouts, folds, the balanced
AFEW test subset, bad input, and the committed SynthFER manifests.

The committed manifests are checked two ways:

* ``smoke``: the data is regenerated from scratch into a temporary folder, read back through the
  CK+/AFEW readers and the manifest must equal the committed file byte for byte.
* ``cpu``: regenerating ~7 k + ~20 k frames takes minutes, so the committed file is compared
  byte for byte with the manifest predicted from the generator's plan
  (:func:`planned_manifest`). That is the same check: the smoke test shows the plan and the
  disk-read manifest coincide byte for byte, and the plan depends only on the parameters
  recorded in the manifest header, not on pixels.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from smate_nb.config import get_profile
from smate_nb.data import manifest as M
from smate_nb.data import synthfer as sf
from smate_nb.data.labels import AFEW_CLASSES, CKPLUS_CLASSES

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO / "data_manifests"


# ------------------------------------------------------------------------------------ fixtures
def _png(path: Path, value: int = 128, size: int = 16) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), np.full((size, size), value, np.uint8))


def make_ckplus(root: Path, seqs: dict[tuple[str, str], int | None], n: int = 3) -> Path:
    """A CK+ tree: ``seqs[(subject, seq)] = code`` (None → unlabelled, empty Emotion folder)."""
    for (subj, seq), code in seqs.items():
        for t in range(1, n + 1):
            _png(root / "cohn-kanade-images" / subj / seq / f"{subj}_{seq}_{t:08d}.png", 40 * t)
        emo = root / "Emotion" / subj / seq
        emo.mkdir(parents=True, exist_ok=True)
        if code is not None:
            (emo / f"{subj}_{seq}_{n:08d}_emotion.txt").write_text(f"   {code:.7e}\n")
    (root / "cohn-kanade-images" / ".DS_Store").write_bytes(b"junk")
    return root


def _video(path: Path, n: int = 4) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (16, 16))
    for t in range(n):
        w.write(np.full((16, 16, 3), 30 * t, np.uint8))
    w.release()


def make_afew(root: Path, clips: dict[str, list[str]], split_names=("Train", "Val")) -> Path:
    """An AFEW tree: ``clips["Train/Happy"] = ["000123", ...]``."""
    for folder, names in clips.items():
        split, emo = folder.split("/")
        split = split_names[0] if split == "Train" else split_names[1]
        for i, name in enumerate(names):
            _video(root / split / emo / f"{name}.avi", 3 + i % 3)
    return root


@pytest.fixture
def ck(tmp_path):
    seqs = {(f"S{s:03d}", f"{q:03d}"): (1 + (s + q) % 7) for s in range(10, 16) for q in (1, 2, 4)}
    seqs[("S010", "003")] = None  # unlabelled
    return make_ckplus(tmp_path / "ck", seqs)


# ------------------------------------------------------------------------------------ CK+ reader
def test_read_ckplus(ck):
    df = M.read_ckplus(ck)
    assert list(df.columns) == list(M.MANIFEST_COLUMNS)
    assert len(df) == 18 and "S010/003" not in set(df["sequence_id"])      # unlabelled skipped
    row = df[df["sequence_id"] == "S011/002"].iloc[0]
    assert row["label"] == CKPLUS_CLASSES[(11 + 2) % 7] and row["label_index"] == (11 + 2) % 7
    assert row["path"] == "cohn-kanade-images/S011/002" and row["n_frames"] == 3 and row["subject"] == "S011"


def test_build_ckplus_folds_and_roundtrip(ck, tmp_path):
    out = tmp_path / "ckplus.csv"
    df = M.build_manifest("ckplus", ck, out=out, folds=3, progress=False)
    assert set(df["fold"]) == {0, 1, 2} and set(df["split"]) == {"cv"}
    back = M.load_manifest(out)
    pd.testing.assert_frame_equal(back, df, check_like=False)
    assert back.attrs["meta"]["folds"] == {"k": 3, "seed": 0, "subject_independent": True}
    assert M.manifest_checksum(back) == back.attrs["meta"]["rows_sha256"]


@pytest.mark.parametrize("damage,msg", [
    (lambda r: shutil.rmtree(r), "does not exist"),
    (lambda r: shutil.rmtree(r / "Emotion"), "Emotion is missing"),
    (lambda r: shutil.rmtree(r / "cohn-kanade-images"), "cohn-kanade-images is missing"),
    (lambda r: [p.unlink() for p in (r / "cohn-kanade-images/S012/001").iterdir()], "holds no .png frames"),
    (lambda r: shutil.rmtree(r / "cohn-kanade-images/S012/001"), "frame folder .* is missing"),
    (lambda r: (r / "cohn-kanade-images/S012/001/S012_001_00000002.png").write_bytes(b"\x89PNG broken"),
     "S012_001_00000002.png cannot be decoded"),
    (lambda r: (r / "cohn-kanade-images/S012/001/S012_001_00000002.png").write_bytes(b""), "is empty"),
    (lambda r: (r / "Emotion/S012/001/S012_001_00000003_emotion.txt").write_text("   8.0000000e+00\n"),
     "holds code .*8.0000000e\\+00.* CK\\+ codes are 1..7"),
    (lambda r: (r / "Emotion/S012/001/S012_001_00000003_emotion.txt").write_text("happy\n"),
     "does not hold a number"),
    (lambda r: (r / "Emotion/S012/001/S012_001_00000002_emotion.txt").write_text("   1.0000000e+00\n"),
     "2 emotion files"),
])
def test_ckplus_bad_input(ck, tmp_path, damage, msg):
    out = tmp_path / "ckplus.csv"
    out.write_text("previous manifest\n")
    damage(ck)
    with pytest.raises(M.ManifestError, match=msg):
        M.build_manifest("ckplus", ck, out=out, folds=3, progress=False)
    assert out.read_text() == "previous manifest\n"          # nothing half-written, old file untouched
    assert not list(tmp_path.glob(".ckplus.csv.*"))          # no temporary left behind


def test_ckplus_error_names_the_file(ck):
    f = ck / "Emotion/S013/002/S013_002_00000003_emotion.txt"
    f.write_text("   0.0000000e+00\n")
    with pytest.raises(M.ManifestError) as e:
        M.read_ckplus(ck)
    assert str(f) in str(e.value)


# ------------------------------------------------------------------------------------ AFEW reader
@pytest.fixture
def afew(tmp_path):
    clips = {}
    for split, n in (("Train", 3), ("Val", 3)):
        for folder in ("Angry", "Disgust", "Fear", "Happy", "Neutral", "Sad", "Surprise"):
            clips[f"{split}/{folder}"] = [f"{split[0]}{folder[:2]}{i:04d}" for i in range(n)]
    return make_afew(tmp_path / "afew", clips)


def test_read_afew(afew):
    df = M.read_afew(afew)
    assert len(df) == 42 and set(df["split"]) == {"train", "val"}
    row = df[df["sequence_id"] == "Val/VHa0001"].iloc[0]
    assert row["label"] == "happiness" and row["label_index"] == AFEW_CLASSES.index("happiness")
    assert row["path"] == "Val/Happy/VHa0001.avi" and row["n_frames"] == 4
    assert row["subject"] == "Val/VHa0001"                     # no actor ids in AFEW: one group per clip


def test_afew_variants_of_the_layout(tmp_path):
    root = make_afew(tmp_path / "a", {"Train/happy": ["S003_001", "S003_002"], "Val/SAD": ["S007_001"]},
                     split_names=("Train_AFEW", "Val_AFEW"))
    df = M.read_afew(root)
    assert sorted(df["subject"]) == ["S003", "S003", "S007"]  # SynthFER-style names carry the subject
    assert set(df["label"]) == {"happiness", "sadness"}


def test_build_afew_balanced_test(afew, tmp_path):
    df = M.build_manifest("afew", afew, test_size=14, progress=False)
    test = df[df["split"] == "test"]
    assert len(test) == 14 and set(test["label"].value_counts()) == {2}
    assert set(test["sequence_id"].str[:4]) == {"Val/"}
    assert (df["split"] == "val").sum() == 21 - 14
    with pytest.raises(M.ManifestError, match="balanced test set of 130"):
        M.build_manifest("afew", afew, test_size=130, progress=False)


@pytest.mark.parametrize("damage,msg", [
    (lambda r: shutil.rmtree(r), "does not exist"),
    (lambda r: shutil.rmtree(r / "Val"), "Val is missing"),
    (lambda r: (r / "Train/Happy").rename(r / "Train/Joy"), "unknown name 'Joy'"),
    (lambda r: (r / "Train/Sad/TSa0001.avi").write_bytes(b"RIFF garbage" * 20), "TSa0001.avi"),
    (lambda r: (r / "Train/Sad/TSa0001.avi").write_bytes(b""), "is empty"),
    (lambda r: shutil.copy(r / "Train/Sad/TSa0001.avi", r / "Train/Fear/TSa0001.avi"), "duplicate sequence id"),
])
def test_afew_bad_input(afew, tmp_path, damage, msg):
    out = tmp_path / "afew.csv"
    damage(afew)
    with pytest.raises(M.ManifestError, match=msg):
        M.build_manifest("afew", afew, out=out, test_size=7, progress=False)
    assert not out.exists()


# ------------------------------------------------------------------------------------ folds, balanced test
def test_folds_are_subject_independent_balanced_and_deterministic():
    rows = []
    rng = np.random.default_rng(0)
    for s in range(40):
        for q in range(int(rng.integers(1, 6))):
            c = int(rng.integers(0, 7))
            rows.append({"subject": f"S{s:03d}", "label_index": c})
    df = pd.DataFrame(rows)
    f = M.assign_folds(df, 5, seed=0)
    assert (df.assign(f=f).groupby("subject")["f"].nunique() == 1).all()  # a subject never spans folds
    sizes = f.value_counts()
    assert sizes.max() - sizes.min() <= 3
    assert f.equals(M.assign_folds(df, 5, seed=0))
    assert not f.equals(M.assign_folds(df, 5, seed=1))
    with pytest.raises(M.ManifestError, match="needs ≥ 50 subjects"):
        M.assign_folds(df, 50)


def test_balanced_test_selection():
    rows = [{"dataset": "afew", "sequence_id": f"Val/{c}{i:03d}", "label": c, "split": "val"}
            for c in AFEW_CLASSES for i in range(25)]
    rows += [{"dataset": "afew", "sequence_id": f"Train/x{i}", "label": "anger", "split": "train"} for i in range(50)]
    df = pd.DataFrame(rows)
    t = M.balanced_test(df, 130)
    counts = t["label"].value_counts()
    assert len(t) == 130 and set(counts) == {18, 19}           # 130 = 7·18 + 4
    assert list(counts[counts == 19].index.sort_values()) == sorted(AFEW_CLASSES[:4])
    assert set(t["split"]) == {"val"}
    assert t.equals(M.balanced_test(df, 130)) and not t.equals(M.balanced_test(df, 130, seed=1))
    assert len(M.balanced_test(df[df["sequence_id"] != "Val/fear000"], None)) == 130
    val = df[df["split"] == "val"]
    small = val[val["sequence_id"].str[-3:].astype(int) < 3]        # 3 clips per class …
    small = small[~small["sequence_id"].isin(["Val/fear001", "Val/fear002"])]  # … but 1 for fear (index 2)
    assert len(M.balanced_test(small, None)) == 9                  # 7·1 + anger and disgust +1
    with pytest.raises(M.ManifestError, match="fear"):
        M.balanced_test(df[~df["sequence_id"].str.startswith("Val/fear0")], 130)


# ------------------------------------------------------------------------------------ load_manifest
def _write_lines(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.fixture
def good(ck, tmp_path):
    out = tmp_path / "m.csv"
    M.build_manifest("ckplus", ck, out=out, folds=3, progress=False)
    return out


def _edit(path: Path, fn) -> Path:
    lines = path.read_text().split("\n")
    path.write_text("\n".join(fn(lines)))
    return path


def test_load_missing_file(tmp_path):
    with pytest.raises(M.ManifestError, match="does not exist; build it"):
        M.load_manifest(tmp_path / "none.csv")


def test_load_missing_and_extra_columns(good):
    def drop_fold(lines):
        return [",".join(l.split(",")[:-1]) if not l.startswith("#") and l else l for l in lines]

    with pytest.raises(M.ManifestError, match=r"missing \['fold'\], extra \[\]"):
        M.load_manifest(_edit(good, drop_fold))


def test_load_extra_column(good):
    def add(lines):
        return [(l + ",note") if l.startswith("dataset,") else (l + ",x" if l and not l.startswith("#") else l)
                for l in lines]

    with pytest.raises(M.ManifestError, match=r"extra \['note'\]"):
        M.load_manifest(_edit(good, add))


COLS = list(M.MANIFEST_COLUMNS)


def _set(field: str, value: str):
    """Edit one field of row S011/001."""
    def edit(lines):
        out = []
        for l in lines:
            if l.startswith("ckplus,S011,S011/001,"):
                parts = l.split(",")
                parts[COLS.index(field)] = value
                l = ",".join(parts)
            out.append(l)
        return out
    return edit


def test_load_checksum_mismatch(good):
    _edit(good, _set("fold", "9"))
    with pytest.raises(M.ManifestError, match="do not match their checksum"):
        M.load_manifest(good)
    df = M.load_manifest(good, verify=False)   # deliberate edits: load without the check, then re-save
    M.save_manifest(df, good)
    assert int(M.load_manifest(good).set_index("sequence_id").loc["S011/001", "fold"]) == 9


@pytest.mark.parametrize("field,value,msg", [
    ("path", "../../etc/S011/001", "escapes the data root"),
    ("path", "/abs/S011/001", "escapes the data root"),
    ("path", "C:/data/S011/001", "escapes the data root"),
    ("label", "rage", "label 'rage'"),
    ("label_index", "3", "label_index 3 does not match"),
    ("split", "holdout", "split 'holdout'"),
    ("n_frames", "three", "must be an integer"),
    ("n_frames", "0", "n_frames must be ≥ 1"),
    ("dataset", "mnist", "column 'dataset'"),
])
def test_load_bad_values(good, field, value, msg):
    _edit(good, _set(field, value))
    with pytest.raises(M.ManifestError, match=msg) as e:
        M.load_manifest(good, verify=False)
    assert str(good) in str(e.value)  # the error names the file


def test_load_duplicate_sequence_ids(good):
    def dup(lines):
        row = next(l for l in lines if l.startswith("ckplus,S011,S011/001"))
        return lines[:-1] + [row, ""]

    with pytest.raises(M.ManifestError, match="duplicate sequence ids"):
        M.load_manifest(_edit(good, dup), verify=False)


def test_resolve_path_blocks_escapes(tmp_path):
    (tmp_path / "root").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "root" / "link").symlink_to(tmp_path / "elsewhere")
    assert M.resolve_path(tmp_path / "root", "a/b") == tmp_path / "root" / "a" / "b"
    with pytest.raises(M.ManifestError, match="outside the data root"):
        M.resolve_path(tmp_path / "root", "link/x")
    with pytest.raises(M.ManifestError, match="escapes"):
        M.resolve_path(tmp_path / "root", "../elsewhere")


def test_cli(ck, tmp_path, capsys):
    out = tmp_path / "cli.csv"
    assert M.main(["ckplus", str(ck), "--out", str(out), "--folds", "3"]) == 0
    assert len(M.load_manifest(out)) == 18
    assert M.main(["ckplus", str(tmp_path / "nowhere"), "--out", str(tmp_path / "x.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err


# ------------------------------------------------------------------------------------ SynthFER manifests
@pytest.mark.parametrize("dataset", ["synthfer-lab", "synthfer-wild"])
def test_committed_smoke_manifest_is_reproduced_by_regeneration(dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("SMATE_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("SMATE_CACHE", str(tmp_path / "cache"))        # generate()'s run log
    prof = get_profile("smoke")
    committed = COMMITTED / f"{dataset}_smoke.csv"
    assert committed.is_file(), "run `python -m smate_nb.data.manifest synthfer --profile smoke`"
    kw = M._profile_kwargs(dataset, prof)
    df = M.build_manifest(dataset, None, progress=False, test_size=None, **kw)   # generates from scratch
    out = tmp_path / "rebuilt.csv"
    M.save_manifest(df, out)
    assert out.read_bytes() == committed.read_bytes()
    assert M.manifest_checksum(M.planned_manifest(dataset, **kw)) == M.manifest_checksum(df)
    # and the profile entry point finds the data it describes
    got, root = M.open_dataset(prof, "lab" if dataset.endswith("lab") else "wild", progress=False)
    assert M.manifest_checksum(got) == M.manifest_checksum(df) and Path(root).is_dir()


@pytest.mark.parametrize("dataset", ["synthfer-lab", "synthfer-wild"])
def test_committed_cpu_manifest_matches_the_plan(dataset, tmp_path):
    prof = get_profile("cpu")
    committed = COMMITTED / f"{dataset}_cpu.csv"
    df = M.load_manifest(committed)
    out = tmp_path / "planned.csv"
    M.save_manifest(M.planned_manifest(dataset, **M._profile_kwargs(dataset, prof)), out)
    assert out.read_bytes() == committed.read_bytes()
    assert df.attrs["meta"]["source"]["generator_version"] == sf.GENERATOR_VERSION
    if dataset == "synthfer-lab":
        assert df["fold"].nunique() == prof.data.folds
    else:
        t = df[df["split"] == "test"]
        assert len(t) == 130 and t["label"].value_counts().max() - t["label"].value_counts().min() <= 1


def test_open_dataset_explains_missing_real_manifest(tmp_path, monkeypatch):
    prof = get_profile("paper")
    from dataclasses import replace
    prof = replace(prof, manifest_dir=str(tmp_path))
    with pytest.raises(M.ManifestError, match="python -m smate_nb.data.manifest ckplus"):
        M.open_dataset(prof, "lab")


# ------------------------------------------------------------------------------------ issue 12, items 13–15
def _cli(argv, capsys):
    rc = M.main(argv)
    return rc, capsys.readouterr().err


@pytest.mark.parametrize("size", ["-5", "0", "3"])
def test_afew_test_size_below_one_per_class_is_refused(afew, tmp_path, capsys, size):
    out = tmp_path / "afew.csv"
    rc, err = _cli(["afew", str(afew), "--out", str(out), "--test-size", size], capsys)
    assert rc == 2 and f"test size {size}" in err and "--test-size N with N ≥ 7" in err
    assert not out.exists()
    with pytest.raises(M.ManifestError, match="at least one clip of each of the 7 classes"):
        M.balanced_test(M.read_afew(afew), int(size))


def test_afew_test_size_too_large_suggests_the_flag_with_the_largest_possible(afew, tmp_path, capsys):
    rc, err = _cli(["afew", str(afew), "--out", str(tmp_path / "afew.csv")], capsys)    # default 130
    assert rc == 2 and "cannot draw a balanced test set of 130" in err
    assert "the largest possible here is 21: pass --test-size 21" in err       # Val has 3 clips per class
    rc, _ = _cli(["afew", str(afew), "--out", str(tmp_path / "afew.csv"), "--test-size", "21"], capsys)
    df = M.load_manifest(tmp_path / "afew.csv")
    assert rc == 0 and (df["split"] == "test").sum() == 21 and df.attrs["meta"]["test"]["n"] == 21


def test_truncated_video_is_reported_with_decoded_and_container_counts(afew):
    clip = afew / "Train/Sad/TSa0001.avi"
    w = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (64, 64))
    rng = np.random.default_rng(0)
    for t in range(20):                                          # noise: frames outweigh the AVI header
        w.write(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8))
    w.release()
    data = clip.read_bytes()
    clip.write_bytes(data[: len(data) // 2])                     # cut in half: decodes as a short clip
    with pytest.warns(M.ManifestWarning, match=r"TSa0001\.avi: \d+ frames decode but its container announces 20"):
        df = M.read_afew(afew)
    assert 0 < int(df.set_index("sequence_id").loc["Train/TSa0001", "n_frames"]) < 20
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error", M.ManifestWarning)      # an intact clip gives no warning
        assert M.count_video_frames(afew / "Train/Sad/TSa0000.avi") == 3


def test_ckplus_stray_pngs_are_not_frames_and_are_reported(ck):
    folder = ck / "cohn-kanade-images/S012/001"
    _png(folder / "thumb.png", 7)
    _png(folder / "S012_001_00000002 (copy).png", 9)
    _png(folder / "zz_peak.png", 250)                            # sorts last: must not become the peak
    with pytest.warns(M.ManifestWarning, match=r"S012/001: 3 entries .* are not frames .* left out: "
                                               r"'S012_001_00000002 \(copy\)\.png', 'thumb\.png', 'zz_peak\.png'"):
        df = M.read_ckplus(ck)
    assert int(df.set_index("sequence_id").loc["S012/001", "n_frames"]) == 3
    from smate_nb.data.clips import read_frames
    frames = read_frames(folder)
    assert len(frames) == 3 and int(frames[-1].mean()) == 120      # the real last frame (40·3) is the peak


def test_ckplus_emotion_file_of_another_sequence_is_refused(ck):
    emo = ck / "Emotion/S012/001"
    (emo / "S012_001_00000003_emotion.txt").rename(emo / "S013_002_00000003_emotion.txt")
    with pytest.raises(M.ManifestError, match=r"S013_002_00000003_emotion.txt is not named for sequence S012/001"):
        M.read_ckplus(ck)


@pytest.mark.parametrize("verify", ["full", "first", "none"])
def test_ckplus_mixed_frame_sizes_are_refused_by_the_builder(ck, verify):
    _png(ck / "cohn-kanade-images/S012/001/S012_001_00000002.png", 50, size=20)
    with pytest.raises(M.ManifestError, match=r"S012/001: frame .*S012_001_00000002.png is 20×20 but "
                                              r"S012_001_00000001.png is 16×16"):
        M.read_ckplus(ck, verify_media=verify)


def test_ckplus_frames_are_png_in_the_builder_and_the_loader(ck):
    from smate_nb.data.clips import read_frames
    folder = ck / "cohn-kanade-images/S012/001"
    img = cv2.imread(str(folder / "S012_001_00000002.png"))
    (folder / "S012_001_00000002.png").unlink()
    assert cv2.imwrite(str(folder / "S012_001_00000002.jpg"), img)
    for read in (M.read_ckplus, read_frames):
        with pytest.raises(M.ManifestError, match=r"S012_001_00000002.jpg is JPG, but CK\+ frames are PNG"):
            read(ck if read is M.read_ckplus else folder)


def test_ckplus_frames_named_for_another_sequence_are_refused(ck):
    folder = ck / "cohn-kanade-images/S012/001"
    for f in folder.iterdir():
        f.rename(folder / f.name.replace("S012_001", "S012_002"))
    with pytest.raises(M.ManifestError, match="frames in .* are named for sequence S012_002"):
        M.read_ckplus(ck)


def test_out_that_cannot_be_written_is_refused_before_building(ck, tmp_path, capsys, monkeypatch):
    calls = []
    monkeypatch.setattr(M, "read_ckplus", lambda *a, **k: calls.append(1))   # must not be reached
    (tmp_path / "outdir").mkdir()
    (tmp_path / "afile").write_text("x")
    for out, msg in [(tmp_path / "outdir", "is a folder; pass a file name"),
                     (tmp_path / "missing" / "ck.csv", "the folder .*missing does not exist; create it first"),
                     (tmp_path / "afile" / "ck.csv", "the folder .*afile is a file, not a folder")]:
        rc, err = _cli(["ckplus", str(ck), "--out", str(out)], capsys)
        assert rc == 2 and re.search(msg, err), err
    assert not calls and not (tmp_path / "missing").exists()
    df = M.planned_manifest("synthfer-lab", subjects=4, image_size=32, folds=2)
    with pytest.raises(M.ManifestError, match="is a folder"):
        M.save_manifest(df, tmp_path / "outdir")


def test_cli_unknown_profile(capsys):
    rc, err = _cli(["synthfer", "--profile", "nope"], capsys)
    assert rc == 2 and "unknown profile 'nope'" in err and "smoke" in err


def test_missing_manifest_hint_names_the_real_command(tmp_path):
    for name, cmd in [("ckplus.csv", "ckplus /path/to/ckplus --out "), ("afew.csv", "afew /path/to/afew --out "),
                      ("synthfer-lab_cpu.csv", "synthfer --profile cpu")]:
        with pytest.raises(M.ManifestError) as e:
            M.load_manifest(tmp_path / name)
        assert f"python -m smate_nb.data.manifest {cmd}" in str(e.value) and "{path}" not in str(e.value)
    with pytest.raises(M.ManifestError, match=re.escape(f"--out {tmp_path / 'ckplus.csv'}`")):
        M.load_manifest(tmp_path / "ckplus.csv")


def test_rows_are_named_by_csv_line_counting_the_header_as_line_1(good):
    csv_lines = [l for l in good.read_text().split("\n") if not l.startswith("#")]
    line = next(i for i, l in enumerate(csv_lines) if l.startswith("ckplus,S011,S011/001,")) + 1
    for field, value, msg in [("n_frames", "three", "must be an integer"), ("label", "rage", "label 'rage'"),
                              ("path", "/abs", "escapes the data root")]:
        text = good.read_text()
        _edit(good, _set(field, value))
        with pytest.raises(M.ManifestError, match=rf"{re.escape(str(good))}, CSV line {line}: .*{msg}"):
            M.load_manifest(good, verify=False)
        good.write_text(text)
    with pytest.raises(M.ManifestError) as e:
        M.resolve_path(good.parent, "../x")
    assert "CSV line" not in str(e.value) and "row 0" not in str(e.value)


def test_manifest_with_a_byte_order_mark_loads(good):
    good.write_bytes(b"\xef\xbb\xbf" + good.read_bytes())        # as spreadsheets save UTF-8 CSV
    df = M.load_manifest(good)
    assert len(df) == 18 and df.attrs["meta"]["format"] == "smate-nb manifest v1"
