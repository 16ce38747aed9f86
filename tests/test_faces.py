"""Face preprocessing (paper §3.1.1) on a real photograph moved by known transforms.

``skimage.data.astronaut()`` ships with scikit-image (offline). :func:`moving_clip`
moves it by known per-frame similarity transforms; alignment must undo that
motion: ``aligned_t ∘ motion_t`` must equal the still photo's alignment.
"""
from __future__ import annotations

import json
import logging

import cv2
import numpy as np
import pytest
from skimage import data

from smate_nb.preprocess import faces as F

HAVE_DLIB = "dlib" in F.available_backends()
needs_dlib = pytest.mark.skipif(not HAVE_DLIB, reason="dlib-bin + face-recognition-models not installed "
                                "(pip install dlib-bin==20.0.1.post1 face-recognition-models==0.3.0)")

# Where the astronaut's face is (pixels, 512×512 photo): between the eyes, above the nose.
FACE_XY = np.array([224.0, 110.0])
# The default detection size (the 512² photo is upscaled; its ~87 px face is near HOG's limit).
CFG = dict(detect_side=640)


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return data.astronaut()


@pytest.fixture(scope="module")
def moving(photo):
    return F.moving_clip(photo, 16, rotation=10.0, scale=(0.9, 1.1), shift=20.0, seed=0)


def reference(photo, backend: str) -> np.ndarray:
    _, st = F.align_clip(photo[None], F.FaceConfig(backend=backend, smooth_sigma=0, **CFG))
    return st.matrices[0]


# ----------------------------------------------------------------- pieces


def test_template_is_symmetric_and_inside_the_crop():
    t = F.canonical_keypoints(256)
    cx = 255 / 2
    assert np.allclose(t[0, 0] + t[1, 0], 2 * cx) and np.allclose(t[3, 0] + t[4, 0], 2 * cx)
    assert np.isclose(t[2, 0], cx) and t[0, 1] == t[1, 1] and t[3, 1] == t[4, 1]
    assert np.isclose(t[1, 0] - t[0, 0], 0.26 * 256)       # IOD
    assert (t > 0).all() and (t < 256).all()
    assert t[0, 1] < t[2, 1] < t[3, 1]                     # eyes above nose above mouth


def test_estimate_similarity_recovers_a_known_transform():
    tpl = F.canonical_keypoints(256)
    true = cv2.getRotationMatrix2D((100.0, 80.0), 17.0, 0.6)
    true[:, 2] += (13.0, -7.0)
    inv = cv2.invertAffineTransform(true)
    src = tpl @ inv[:, :2].T + inv[:, 2]                   # points that `true` maps onto the template
    m = F.estimate_similarity(src, tpl)
    assert np.allclose(m, true, atol=1e-4)
    assert F.estimate_similarity(np.full((5, 2), np.nan), tpl) is None


def test_smooth_tracks_fills_gaps_keeps_steady_motion_and_removes_noise():
    t = np.arange(30, dtype=float)
    quad = np.stack([0.05 * t ** 2 - t, 3 * t + 2], -1)[:, None, :].repeat(5, 1)  # accelerating head
    assert np.allclose(F.smooth_tracks(quad, sigma=1.5, degree=2), quad, atol=1e-8)
    lin = np.stack([2 * t, -t], -1)[:, None, :]
    assert np.allclose(F.smooth_tracks(lin, sigma=2.0, degree=1), lin, atol=1e-8)
    # filling: missing frames are linearly interpolated, ends copy the nearest frame
    gappy = lin.copy()
    valid = np.ones(30, bool)
    valid[[0, 10, 11, 12]] = False
    gappy[~valid] = np.nan
    filled = F.smooth_tracks(gappy, valid, sigma=0)
    assert np.allclose(filled[10:13], lin[10:13]) and np.allclose(filled[0], lin[1])
    noise = np.random.default_rng(0).normal(size=(200, 5, 2))
    assert F.smooth_tracks(noise, sigma=1.5, degree=2).std() < 0.6 * noise.std()
    with pytest.raises(ValueError, match="no valid frame"):
        F.smooth_tracks(np.full((4, 5, 2), np.nan))


def test_warp_face_anti_aliased_shrink_keeps_the_mapping():
    # A linear ramp stays a ramp under area averaging and bilinear sampling, so
    # the pre-shrunk path must land every pixel where the direct warp does.
    yy, xx = np.mgrid[:600, :800]
    ramp = np.clip(xx * 0.25 + yy * 0.15, 0, 255).astype(np.uint8)
    m = cv2.getRotationMatrix2D((400.0, 300.0), 8.0, 0.3)
    m[:, 2] += (64 - 400, 64 - 300)             # frame point (400, 300) → crop centre
    direct = cv2.warpAffine(ramp, m, (128, 128), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    shrunk = F.warp_face(ramp, m, 128, "replicate")
    inner = (slice(8, 120), slice(8, 120))
    assert np.abs(direct[inner].astype(int) - shrunk[inner].astype(int)).max() <= 1


def test_config_validation_and_cache_key():
    with pytest.raises(ValueError, match="backend"):
        F.FaceConfig(backend="mtcnn")
    with pytest.raises(ValueError, match="on_missing"):
        F.FaceConfig(on_missing="ignore")
    a = F.FaceConfig()
    assert a.cache_key() == F.FaceConfig().cache_key()
    assert a.cache_key() != F.FaceConfig(size=224).cache_key()
    assert a.cache_key() == F.FaceConfig(on_missing="skip").cache_key()   # policy, not output
    assert a.to_dict()["faces_version"] == F.FACES_VERSION


def test_bad_frames_raise_errors_that_say_the_fix():
    with pytest.raises(TypeError, match="uint8"):
        F.align_clip(np.zeros((2, 32, 32, 3), np.float32), clip_id="S001/001")
    with pytest.raises(ValueError, match=r"S001/001.*\(T, H, W, 3\)"):
        F.align_clip(np.zeros((2, 32, 32, 4), np.uint8), clip_id="S001/001")
    with pytest.raises(ValueError, match="no frames"):
        F.align_clip(np.zeros((0, 32, 32, 3), np.uint8))


# ----------------------------------------------------------------- dlib on the photograph


@needs_dlib
def test_detection_box_and_68_landmarks_on_the_photo(photo):
    ob = F.observe_face(photo, F.get_backend("dlib"), 512)
    x0, y0, x1, y1 = ob.box
    assert x0 < FACE_XY[0] < x1 and y0 < FACE_XY[1] < y1 and 60 < x1 - x0 < 140
    assert ob.landmarks.shape == (68, 2)
    inside = (ob.landmarks[:, 0] > x0 - 10) & (ob.landmarks[:, 0] < x1 + 10) & (ob.landmarks[:, 1] > y0 - 10) \
        & (ob.landmarks[:, 1] < y1 + 25)
    assert inside.all()
    le, re, nose, ml, mr = ob.keypoints
    assert le[0] < re[0] and ml[0] < mr[0] and max(le[1], re[1]) < nose[1] < min(ml[1], mr[1])
    assert np.linalg.norm((le + re) / 2 - FACE_XY) < 15


@needs_dlib
def test_best_scoring_box_wins_not_the_largest(photo):
    loose = F.DlibBackend(score_threshold=-0.5)   # low threshold: the mission patch shows up too
    ob = F.observe_face(photo, loose, 512)
    assert len(ob.scores) >= 2
    areas = (ob.boxes[:, 2] - ob.boxes[:, 0]) * (ob.boxes[:, 3] - ob.boxes[:, 1])
    largest = ob.boxes[np.argmax(areas)]
    assert not (largest[0] < FACE_XY[0] < largest[2] and largest[1] < FACE_XY[1] < largest[3])
    assert ob.box[0] < FACE_XY[0] < ob.box[2] and ob.box[1] < FACE_XY[1] < ob.box[3]
    assert ob.score == ob.scores.max()


@needs_dlib
def test_alignment_undoes_known_motion_on_the_moving_photo(photo, moving):
    frames, motions = moving
    ref = reference(photo, "dlib")
    aligned, st = F.align_clip(frames, F.FaceConfig(**CFG), clip_id="astronaut")
    assert aligned.shape == (16, 256, 256, 3) and aligned.dtype == np.uint8
    assert st.n_detected == 16 and st.n_filled == 0
    e = F.alignment_error(st.matrices, motions, ref)
    assert e["motion_rms"] > 25          # the clip really moves (≈ 35–55 px before alignment)
    assert e["error_rms"] < 2.5 and e["error_max"] < 6, e
    assert e["jitter_rms"] < 1.5, e
    # and the pixels agree: aligned frames look like the aligned still photo
    ref_img = F.warp_face(photo, ref, 256)
    diff = np.abs(aligned[:, 64:192, 64:192].astype(int) - ref_img[None, 64:192, 64:192].astype(int)).mean()
    raw = np.abs(cv2.resize(frames[3], (256, 256))[64:192, 64:192].astype(int)
                 - cv2.resize(photo, (256, 256))[64:192, 64:192].astype(int)).mean()
    assert diff < 12 and diff < raw / 2


@needs_dlib
def test_smoothing_reduces_jitter_on_the_moving_photo(photo, moving):
    frames, motions = moving
    ref = reference(photo, "dlib")
    raw = F.alignment_error(F.align_clip(frames, F.FaceConfig(smooth_sigma=0, **CFG))[1].matrices, motions, ref)
    smooth = F.alignment_error(F.align_clip(frames, F.FaceConfig(**CFG))[1].matrices, motions, ref)
    assert smooth["jitter_step_rms"] < raw["jitter_step_rms"]


@needs_dlib
def test_frames_without_a_face_reuse_their_neighbours(photo):
    frames, motions = F.moving_clip(photo, 12, rotation=6.0, shift=12.0, seed=1)
    frames = frames.copy()
    frames[[5, 6]] = 128                       # two blank frames: nothing to detect
    _, st = F.align_clip(frames, F.FaceConfig(**CFG))
    assert st.n_detected == 10 and st.n_filled == 2
    assert np.isnan(st.keypoints_raw[5]).all() and np.isfinite(st.keypoints[5]).all()
    e = F.alignment_error(st.matrices[[5, 6]], motions[[5, 6]], reference(photo, "dlib"))
    assert e["error_rms"] < 5, e               # interpolated from frames 4 and 7


def test_clip_without_any_face_raises_or_is_skipped_with_a_warning(caplog):
    blank = np.full((3, 96, 96, 3), 90, np.uint8)
    be = F.get_backend("haar")
    with pytest.raises(F.FaceNotFoundError, match=r"no face found in any of the 3 frames of S9/001.*on_missing"):
        F.align_clip(blank, F.FaceConfig(backend="haar"), backend=be, clip_id="S9/001")
    with caplog.at_level(logging.WARNING, logger="smate_nb.preprocess.faces"):
        out, st = F.align_clip(blank, F.FaceConfig(backend="haar", on_missing="skip"), backend=be, clip_id="S9/002")
    assert out is None and st.skipped and st.n_detected == 0
    assert "S9/002" in caplog.text and "skipping" in caplog.text


class ScriptedBackend(F.FaceBackend):
    """Two candidates per frame: the true face, and on some frames a false box that outscores it."""

    name = "scripted"
    n_landmarks = 5

    def __init__(self, true_kp: np.ndarray, decoy_frames: set[int]):
        self.true_kp, self.decoys, self.t = true_kp, decoy_frames, -1

    def detect(self, gray):
        self.t = int(gray[0, 0])               # frame index written into the pixel data
        boxes = [[0, 0, 10, 10]]
        scores = [1.0]
        if self.t in self.decoys:
            boxes.append([50, 50, 60, 60])
            scores.append(2.0)                 # the decoy scores higher
        return np.array(boxes, float), np.array(scores)

    def landmarks(self, gray, box):
        kp = self.true_kp[self.t]
        return kp + 300 if box[0] == 50 else kp

    def keypoints(self, landmarks):
        return landmarks


def test_a_higher_scoring_false_box_is_re_picked_from_the_track():
    n = 12
    t = np.arange(n)[:, None, None]
    true_kp = F.canonical_keypoints(64, 0.3, 0.4)[None] * 0.5 + np.concatenate([t, 0.5 * t], -1) + 20
    frames = np.zeros((n, 64, 64), np.uint8)
    frames[:, 0, 0] = np.arange(n)
    be = ScriptedBackend(true_kp, {4, 9})
    cfg = F.FaceConfig(size=64, detect_side=0, smooth_sigma=1.0)
    _, st = F.align_clip(frames, cfg, backend=be)
    assert st.n_rejected == 2 and st.n_repicked == 2 and st.n_filled == 0
    assert np.allclose(st.keypoints_raw, true_kp)
    # with the check off, the decoys go through
    _, st_off = F.align_clip(frames, F.FaceConfig(size=64, detect_side=0, smooth_sigma=1.0, outlier_iod=0),
                             backend=be)
    assert st_off.n_rejected == 0 and np.abs(st_off.keypoints_raw[4] - true_kp[4]).max() == 300


def test_haar_fallback_aligns_the_moving_photo_coarsely(photo):
    frames, motions = F.moving_clip(photo, 10, rotation=8.0, scale=(0.9, 1.1), shift=15.0, seed=0)
    cfg = F.FaceConfig(backend="haar", **CFG)
    aligned, st = F.align_clip(frames, cfg)
    assert st.backend == "haar" and st.n_detected == 10
    e = F.alignment_error(st.matrices, motions, reference(photo, "haar"))
    assert e["error_rms"] < 5 and e["jitter_rms"] < 4, e
    assert e["motion_rms"] > 20


def test_align_clips_runs_a_dataset_in_order_with_json_stats(photo):
    frames, _ = F.moving_clip(photo, 3, seed=2)
    blank = np.full((2, 64, 64, 3), 90, np.uint8)
    cfg = F.FaceConfig(backend="haar", on_missing="skip", **CFG)
    out = list(F.align_clips([("a", frames), ("empty", blank), ("b", frames[:1])], cfg, progress=False))
    assert [k for k, _, _ in out] == ["a", "empty", "b"]
    assert out[0][1].shape == (3, 256, 256, 3) and out[1][1] is None and out[2][1].shape == (1, 256, 256, 3)
    summary = out[0][2].summary()
    json.dumps(summary)
    assert summary["n_frames"] == 3 and summary["ms_per_frame"] > 0


def test_model_files_are_found_without_pkg_resources():
    if not HAVE_DLIB:
        with pytest.raises(F.BackendUnavailableError, match="pip install"):
            F.dlib_model_path()
        return
    p = F.dlib_model_path()
    assert p.name == "shape_predictor_68_face_landmarks.dat" and p.stat().st_size > 50_000_000


def test_no_face_error_suggests_fixes_that_exist(caplog):
    # issue 12, item 12: name the clip, suggest FaceConfig settings that exist and dropping the manifest row
    blank = np.full((2, 64, 64, 3), 90, np.uint8)
    with pytest.raises(F.FaceNotFoundError) as e:
        F.align_clip(blank, F.FaceConfig(backend="haar"), backend=F.get_backend("haar"), clip_id="data/S9/003")
    msg = str(e.value)
    assert "of data/S9/003 (backend 'haar'" in msg and "drop its row from the manifest" in msg
    assert "backend='dlib'" in msg
    for knob in ("detect_side", "backend"):
        assert knob in F.FaceConfig.__dataclass_fields__
    with caplog.at_level(logging.WARNING, logger="smate_nb.preprocess.faces"):
        F.align_clip(blank, F.FaceConfig(backend="haar", on_missing="skip"), backend=F.get_backend("haar"),
                     clip_id="data/S9/004")
    assert "skipping clip — no face found" in caplog.text and "drop its row" not in caplog.text
