"""SynthFER generator (smate_nb.data.synthfer): configuration, plan, rendering, determinism, layouts.

Every dataset here is tiny (2–4 subjects, 32–48 px, a handful of frames) so the file runs in
seconds; the profile-sized datasets are covered by tests/test_manifest.py.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

from smate_nb.data import synthfer as sf
from smate_nb.data.labels import AFEW_CLASSES, CKPLUS_CLASSES


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    """Run logs of generate() go under the cache root: keep them in the test's folder."""
    monkeypatch.setenv("SMATE_CACHE", str(tmp_path / "cache"))

REPO = Path(__file__).resolve().parents[1]

#: SHA-256 of the frames of GOLDEN_CONFIG (see test_golden_hash). Recorded on the
#: development machine; CI and every other machine must reproduce it bit for bit.
#: Update it (and bump GENERATOR_VERSION) only when rendering changes on purpose.
GOLDEN_HASH = "435dc052e9b206f76cdc2cbfaa7665ad91d6e5cd772944be2de4a855acb6bcba"
GOLDEN_CONFIG = dict(lab=dict(subjects=2, seed=11, image_size=48, frames=(5, 8)),
                     wild=dict(subjects=2, seed=11, image_size=48, frames=(5, 8), clips_per_subject=2,
                               occlusion=1.0))


def _golden_digest() -> str:
    import hashlib

    h = hashlib.sha256()
    for variant in ("lab", "wild"):
        cfg = sf.make_config(variant, **GOLDEN_CONFIG[variant])
        for spec in sf.plan(cfg):
            h.update(sf.frames_sha256(sf.render_sequence(cfg, spec)).encode())
    return h.hexdigest()


# ------------------------------------------------------------------------------------ configuration
def test_config_defaults_and_digest():
    a = sf.make_config("lab", subjects=3)
    assert a.variant == "lab" and a.codec == "png" and a.classes == CKPLUS_CLASSES
    w = sf.make_config("wild", subjects=3)
    assert w.codec == "XVID" and w.classes == AFEW_CLASSES
    assert a.digest() == sf.make_config("lab", subjects=3).digest()
    assert a.digest() != sf.make_config("lab", subjects=3, noise=0.5).digest()
    assert sf.dataset_dirname(a).startswith("synthfer-lab_s3_112px_seed0_")


@pytest.mark.parametrize("variant,kw,msg", [
    ("studio", {}, "'lab' or 'wild'"),
    ("lab", {"colour": 1}, "unknown SynthFER knob"),
    ("lab", {"subjects": 0}, "subjects"),
    ("lab", {"image_size": 16}, "image_size"),
    ("lab", {"identity_variance": 1.5}, "identity_variance"),
    ("lab", {"peak_intensity": (0.9, 0.5)}, "peak_intensity"),
    ("lab", {"frames": (1, 5)}, "frames"),
    ("lab", {"noise": -1}, "noise"),
    ("lab", {"codec": "XVID"}, "PNG"),
    ("wild", {"codec": "H264"}, "codec"),
    ("wild", {"subjects": 1}, "2 subjects"),
    ("wild", {"val_fraction": 1.0}, "val_fraction"),
])
def test_bad_config_is_rejected(variant, kw, msg):
    with pytest.raises(ValueError, match=msg):
        sf.make_config(variant, **kw)


# ------------------------------------------------------------------------------------ plan
def test_lab_plan_is_ckplus_like():
    cfg = sf.make_config("lab", subjects=6, unlabelled_per_subject=0.5)
    specs = sf.plan(cfg)
    labelled = [s for s in specs if s.label is not None]
    per_subject = Counter(s.subject for s in labelled)
    assert set(per_subject.values()) == {7}                       # one sequence per class and subject
    assert Counter(s.label for s in labelled) == Counter({c: 6 for c in CKPLUS_CLASSES})
    assert any(s.label is None for s in specs)                    # CK+ also has unlabelled sequences
    assert all(10 <= s.n_frames <= 60 for s in specs)
    keys = [(s.subject, s.number) for s in specs]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert specs == sf.plan(cfg)                                  # deterministic


def test_wild_plan_is_afew_like():
    cfg = sf.make_config("wild", subjects=12, clips_per_subject=10)
    specs = sf.plan(cfg)
    assert len(specs) == 120
    train = {s.subject for s in specs if s.split == "Train"}
    val = {s.subject for s in specs if s.split == "Val"}
    assert train and val and not train & val                      # identities never cross Train/Val
    counts = Counter(s.label for s in specs if s.split == "Train")
    # AFEW's imbalance: happiness/neutral/anger frequent, disgust/surprise rare
    assert counts["happiness"] > counts["disgust"] and counts["anger"] > counts["surprise"]
    assert set(counts) == set(AFEW_CLASSES)
    assert all(20 <= s.n_frames <= 60 for s in specs)


def test_quota_is_exact():
    assert sum(sf._quota(100, (133, 74, 81, 150, 144, 117, 74))) == 100
    assert sf._quota(7, (1, 1, 1, 1, 1, 1, 1)) == [1] * 7


# ------------------------------------------------------------------------------------ rendering
def test_render_shape_and_determinism():
    cfg = sf.make_config("lab", subjects=2, seed=1, image_size=40, frames=(6, 8))
    spec = sf.plan(cfg)[0]
    a = sf.render_sequence(cfg, spec)
    assert a.dtype == np.uint8 and a.shape == (spec.n_frames, 40, 40, 3)
    # pure in (cfg, spec): other renders in between change nothing
    for s in sf.plan(cfg)[::-1]:
        sf.render_sequence(cfg, s)
    np.testing.assert_array_equal(a, sf.render_sequence(cfg, spec))
    other = sf.make_config("lab", subjects=2, seed=2, image_size=40, frames=(6, 8))
    assert not np.array_equal(a, sf.render_sequence(other, sf.plan(other)[0]))


def test_any_size():
    for size in (32, 57, 160):
        cfg = sf.make_config("wild", subjects=2, image_size=size, frames=(3, 3), clips_per_subject=1)
        assert sf.render_sequence(cfg, sf.plan(cfg)[0]).shape == (3, size, size, 3)


def test_golden_hash():
    """Byte-identical frames on any machine: this digest was recorded on another machine."""
    digest = _golden_digest()
    assert digest == GOLDEN_HASH, (
        f"SynthFER frames differ from the recorded ones ({digest} != {GOLDEN_HASH}); if rendering changed on "
        "purpose, bump GENERATOR_VERSION and update GOLDEN_HASH")


def test_same_bytes_without_simd_dispatch():
    """Another CPU feature level must give the same bytes: NumPy without AVX2/AVX-512 dispatch and
    OpenCV with its CPU-specific optimisations off, in a fresh process, vs. this process."""
    code = ("import cv2; cv2.setUseOptimized(False); cv2.setNumThreads(3); import sys; "
            f"sys.path.insert(0, {str(REPO)!r}); sys.path.insert(0, {str(Path(__file__).parent)!r}); "
            "import test_synthfer as t; print(t._golden_digest())")
    env = {**os.environ, "NPY_DISABLE_CPU_FEATURES": "AVX512_ICL AVX512_SKX AVX512F X86_V4 X86_V3 AVX2 FMA3"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == _golden_digest()


def test_lab_sequence_goes_from_neutral_to_peak():
    cfg = sf.make_config("lab", subjects=3, seed=4, image_size=64, frames=(20, 24), noise=0.0)
    for spec in [s for s in sf.plan(cfg) if s.label in ("happiness", "surprise", "anger")]:
        fr = sf.render_sequence(cfg, spec).astype(np.int16)
        start = np.abs(fr[1] - fr[0]).mean()          # neutral onset: (almost) nothing moves
        change = np.abs(fr[-1] - fr[0]).mean()        # the apex differs from the neutral frame
        assert start < 0.05 and change > 0.4, (spec, start, change)


def test_classes_render_differently():
    cfg = sf.make_config("lab", subjects=1, seed=4, image_size=64, noise=0.0, resting_offset=0.0,
                         peak_intensity=(1.0, 1.0))
    apex = {s.label: sf.render_sequence(cfg, s)[-1].astype(np.int16) for s in sf.plan(cfg) if s.label}
    for a in apex:
        for b in apex:
            if a < b:
                assert np.abs(apex[a] - apex[b]).mean() > 0.3, (a, b)


def test_identity_knobs():
    same = sf.make_config("lab", subjects=3, identity_variance=0.0)
    ids = [sf._sample_identity(same, s) for s in (1, 2, 3)]
    assert len({(i.face_w, i.eye_x, i.mouth_w, tuple(i.skin)) for i in ids}) == 1  # one face for everybody
    varied = sf.make_config("lab", subjects=3, identity_variance=1.0)
    assert len({sf._sample_identity(varied, s).face_w for s in (1, 2, 3)}) == 3
    off = sf.make_config("lab", subjects=20, resting_offset=0.0)
    assert all(not sf._sample_identity(off, s).resting.any() for s in range(1, 21))
    on = sf.make_config("lab", subjects=20, resting_offset=1.0)
    assert sum(sf._sample_identity(on, s).resting.any() for s in range(1, 21)) >= 8  # ~70 % of people


def test_noise_knob_changes_pixels_only_by_noise():
    base = dict(subjects=1, seed=3, image_size=48, frames=(4, 4))
    clean = sf.make_config("lab", noise=0.0, **base)
    noisy = sf.make_config("lab", noise=4.0, **base)
    a = sf.render_sequence(clean, sf.plan(clean)[0]).astype(float)
    b = sf.render_sequence(noisy, sf.plan(noisy)[0]).astype(float)
    assert 2.0 < (b - a).std() < 6.0


# ------------------------------------------------------------------------------------ writing
def _gen(tmp_path, variant, **kw):
    base = dict(subjects=2, seed=7, image_size=40, frames=(4, 7))
    if variant == "wild":
        base.update(clips_per_subject=3, codec="FFV1")
    base.update(kw)
    workers = base.pop("workers", 1)
    return (sf.generate(variant, tmp_path / variant, progress=False, workers=workers, **base),
            sf.make_config(variant, **base))


def test_lab_layout_is_ckplus(tmp_path):
    root, cfg = _gen(tmp_path, "lab", unlabelled_per_subject=1.0)
    summary = json.loads((root / "synthfer.json").read_text())
    assert summary["complete"] and summary["layout"] == "CK+" and summary["version"] == sf.GENERATOR_VERSION
    for spec in sf.plan(cfg):
        folder = root / "cohn-kanade-images" / spec.subject_id / f"{spec.number:03d}"
        names = sorted(p.name for p in folder.iterdir())
        assert names == [f"{spec.key}_{t:08d}.png" for t in range(1, spec.n_frames + 1)]
        emo = list((root / "Emotion" / spec.subject_id / f"{spec.number:03d}").iterdir())
        if spec.label is None:
            assert emo == []  # unlabelled, as in CK+
            continue
        assert [p.name for p in emo] == [f"{spec.key}_{spec.n_frames:08d}_emotion.txt"]
        text = emo[0].read_text()
        assert text == f"   {CKPLUS_CLASSES.index(spec.label) + 1:.7e}\n"      # CK+'s own format
        decoded = np.stack([cv2.imread(str(folder / n), cv2.IMREAD_COLOR)[..., ::-1] for n in names])
        assert sf.frames_sha256(decoded) == summary["frames_sha256"][spec.key]  # PNG is lossless
        np.testing.assert_array_equal(decoded, sf.render_sequence(cfg, spec))


def test_wild_layout_is_afew(tmp_path):
    root, cfg = _gen(tmp_path, "wild")
    summary = json.loads((root / "synthfer.json").read_text())
    assert summary["layout"] == "AFEW"
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.avi"))
    assert files == sorted(s.relpath("wild") for s in sf.plan(cfg))
    assert all(f.split("/")[0] in ("Train", "Val") for f in files)
    spec = sf.plan(cfg)[0]
    cap = cv2.VideoCapture(str(root / spec.relpath("wild")))
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f[..., ::-1])
    np.testing.assert_array_equal(np.stack(frames), sf.render_sequence(cfg, spec))  # FFV1 is lossless


def test_default_wild_codec_writes_decodable_xvid(tmp_path):
    root, cfg = _gen(tmp_path, "wild", codec="XVID", subjects=2, clips_per_subject=1)
    spec = sf.plan(cfg)[0]
    cap = cv2.VideoCapture(str(root / spec.relpath("wild")))
    n = 0
    while cap.read()[0]:
        n += 1
    assert n == spec.n_frames


def test_rerun_reuses_complete_sequences_and_repairs_the_rest(tmp_path):
    root, cfg = _gen(tmp_path, "lab")
    specs = sf.plan(cfg)
    first = json.loads((root / "synthfer.json").read_text())
    keep = root / specs[0].relpath("lab") / f"{specs[0].key}_00000001.png"
    mtime = keep.stat().st_mtime_ns
    # damage: a deleted record (as after a crash between frames and record), a half-written temp folder
    (root / ".synthfer" / "records" / f"{specs[1].key}.json").unlink()
    (root / "cohn-kanade-images" / specs[1].subject_id / ".xyz.tmp-1").mkdir()
    (root / specs[2].relpath("lab") / f"{specs[2].key}_00000001.png").unlink()
    again = sf.generate("lab", root, progress=False, subjects=2, seed=7, image_size=40, frames=(4, 7))
    second = json.loads((again / "synthfer.json").read_text())
    run = sf.last_run(root)
    assert run["generated_sequences"] == 2
    assert second == first                     # the repaired dataset is the same, summary included
    assert keep.stat().st_mtime_ns == mtime  # complete sequences are not rewritten
    sf.generate("lab", root, progress=False, subjects=2, seed=7, image_size=40, frames=(4, 7))
    assert sf.last_run(root) == run          # nothing to do: the log keeps the run that did the work


def test_workers_do_not_change_the_output(tmp_path):
    a, _ = _gen(tmp_path / "one", "lab")
    b, _ = _gen(tmp_path / "two", "lab", workers=2)
    ha = json.loads((a / "synthfer.json").read_text())["dataset_sha256"]
    hb = json.loads((b / "synthfer.json").read_text())["dataset_sha256"]
    assert ha == hb
    assert _folder_checksums(a) == _folder_checksums(b)       # every file, not only the frames
    assert sf.last_run(a)["workers"] == 1 and sf.last_run(b)["workers"] == 2


def _folder_checksums(root: Path) -> dict[str, str]:
    import hashlib

    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("variant", ["lab", "wild"])
def test_a_dataset_folder_is_byte_identical_for_a_seed(tmp_path, variant):
    # issue 12, item 16: no run log (timings) inside the dataset; the default wild codec (XVID) too
    kw = dict(subjects=2, seed=3, image_size=32, frames=(3, 5))
    if variant == "wild":
        kw["clips_per_subject"] = 2
    a = sf.generate(variant, tmp_path / "a", progress=False, **kw)
    b = sf.generate(variant, tmp_path / "b", progress=False, **kw)
    ca, cb = _folder_checksums(a), _folder_checksums(b)
    assert "synthfer.json" in ca and len(ca) > 5
    assert ca == cb
    assert "last_run" not in json.loads((a / "synthfer.json").read_text())
    assert sf.last_run(a)["generated_sequences"] == len(sf.plan(sf.make_config(variant, **kw)))
    assert not sf._run_log_path(a).is_relative_to(a)                 # the log lives elsewhere


def test_a_folder_written_with_timings_is_still_complete_and_loses_them(tmp_path):
    kw = dict(subjects=2, seed=3, image_size=32, frames=(3, 5))
    root = sf.generate("lab", tmp_path / "old", progress=False, **kw)
    fresh = _folder_checksums(root)
    summ = json.loads((root / "synthfer.json").read_text())
    old_run = {"generated_sequences": 9, "generated_frames": 40, "wall_s": 1.5, "render_s": 1.2, "workers": 1,
               "render_fps_per_worker": 33.3}
    (root / "synthfer.json").write_text(json.dumps({**summ, "last_run": old_run}, indent=2, sort_keys=True) + "\n")
    sf._run_log_path(root).unlink()                                  # as an earlier version left it
    frame = next(root.rglob("*.png"))
    mtime = frame.stat().st_mtime_ns
    sf.generate("lab", root, progress=False, **kw)
    assert frame.stat().st_mtime_ns == mtime                          # recognised as complete: not re-rendered
    assert _folder_checksums(root) == fresh                           # the timings left the folder …
    assert sf.last_run(root) == {"root": str(root), **old_run}        # … for the run log


def test_foreign_or_mismatched_root_is_refused(tmp_path):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("do not delete")
    with pytest.raises(FileExistsError, match="not a SynthFER dataset"):
        sf.generate("lab", foreign, progress=False, subjects=2, image_size=40, frames=(4, 5))
    root, _ = _gen(tmp_path, "lab")
    with pytest.raises(FileExistsError, match="other parameters"):
        sf.generate("lab", root, progress=False, subjects=3, seed=7, image_size=40, frames=(4, 7))


def test_default_root_is_under_smate_data(tmp_path, monkeypatch):
    monkeypatch.setenv("SMATE_DATA", str(tmp_path / "d"))
    root = sf.generate("lab", None, progress=False, subjects=2, image_size=32, frames=(3, 4))
    cfg = sf.make_config("lab", subjects=2, image_size=32, frames=(3, 4))
    assert root == tmp_path / "d" / sf.dataset_dirname(cfg)


def test_lab_pose_widens_the_per_sequence_placement_and_keys_its_folder(tmp_path):
    """pose = 0 renders the lab exactly as before (the golden hash above); pose > 0 moves, scales and turns each
    sequence's face — the same placement for all its frames — and gets a folder of its own."""
    kw = dict(subjects=2, seed=3, image_size=48, progress=False)
    still = sf.generate("lab", tmp_path / "still", **kw)
    moved = sf.generate("lab", tmp_path / "moved", pose=1.0, **kw)
    a = sorted((still / "cohn-kanade-images").rglob("*.png"))
    b = sorted((moved / "cohn-kanade-images").rglob("*.png"))
    assert [p.relative_to(still) for p in a] == [p.relative_to(moved) for p in b]
    import cv2
    first = [cv2.imread(str(p)) for p in (a[0], b[0])]
    assert (first[0].astype(int) - first[1].astype(int)).any()          # placed elsewhere
    cfg0, cfg1 = (sf.make_config("lab", subjects=2, seed=3, image_size=48, pose=v) for v in (0.0, 1.0))
    assert sf.dataset_dirname(cfg0) != sf.dataset_dirname(cfg1)
    import hashlib
    import json
    plain = hashlib.sha256(json.dumps({"config": cfg1.to_dict(), "version": sf.GENERATOR_VERSION},
                                      sort_keys=True).encode()).hexdigest()
    assert cfg1.digest() != plain                                       # an older pose-blind folder is not reused


def test_render_synthfer_times_a_fresh_folder_and_says_when_it_reused_one(tmp_path, monkeypatch):
    """The engine's generation (every core) with its rate: frames ÷ wall seconds of the run that rendered them."""
    from dataclasses import replace

    from smate_nb.config import get_profile
    from smate_nb.engine.data import render_synthfer

    monkeypatch.setenv("SMATE_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("SMATE_CACHE", str(tmp_path / "cache"))
    spec = replace(get_profile("smoke").lab, subjects=2, image_size=48)
    first = render_synthfer(spec, progress=False)
    assert not first["reused"] and first["workers"] == max(1, os.cpu_count() or 1)
    frames = len(list((Path(first["root"]) / "cohn-kanade-images").rglob("*.png")))    # the CK+ layout on disk
    assert first["generated_frames"] == frames > 0
    assert first["frames_per_s"] == pytest.approx(first["generated_frames"] / first["wall_s"])
    again = render_synthfer(spec, progress=False)
    assert again["reused"] and again["root"] == first["root"]
    with pytest.raises(ValueError, match="synthfer-lab"):
        render_synthfer(replace(spec, dataset="ckplus"))
