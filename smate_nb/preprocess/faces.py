"""Face preprocessing for video clips (paper §3.1.1): detection → landmarks → alignment.

The paper detects faces with LFFD, finds 68 landmarks with PFL and aligns each
frame by an affine transform. Neither model ships in a pip package that works
offline, so this module uses two offline backends behind one small interface:

``dlib`` (default)
    dlib's HOG + linear-SVM frontal face detector (no upsampling) and its
    68-point iBUG shape predictor, from the ``dlib-bin`` and
    ``face-recognition-models`` wheels. The model file is located with
    :mod:`importlib` (``face_recognition_models`` itself imports
    ``pkg_resources``, which setuptools ≥ 82 removed), or taken from
    ``$SMATE_DLIB_PREDICTOR``. HOG misses faces smaller than ~80 px, so frames
    are rescaled to ``detect_side`` pixels on their long side before detection.
``haar`` (light fallback)
    OpenCV's Haar face and eye cascades (opencv-python-headless 4.x ships
    them). Eyes come from the eye cascade; nose and mouth corners are placed at
    fixed fractions of the face box, so alignment fixes rotation and scale from
    the eyes but is coarser than with 68 landmarks.

Every backend returns boxes with *scores*, and the best-scoring box wins — the
largest box is often wrong (on ``skimage.data.astronaut()`` a low threshold
latches onto the mission patch, which is larger than the face).

Alignment maps five key points — the two eye centres, the nose tip and the
two mouth corners — onto a canonical template with the similarity transform
(rotation, uniform scale, translation) that :func:`cv2.estimateAffinePartial2D`
fits, and warps the frame to a ``size × size`` crop (256 by default: the paper
resizes to 256 before its 224 crop). A similarity, not a full affine, keeps the
face's proportions, which carry the expression.

Video clips get three extra steps (:func:`align_clip`):

1. frames without a detection reuse their neighbours' key points (linear
   interpolation in time, nearest at the ends) and are counted;
2. key-point tracks are smoothed over time with a Gaussian-weighted local
   linear fit, so the aligned face does not jitter, and frames whose key points
   jump far from the smoothed track are treated as missed detections;
3. a clip with no face at all raises :class:`FaceNotFoundError` or is skipped
   with a logged warning (``on_missing``) — never a silent empty clip.

:func:`align_clip` is the hook the clip cache calls; :func:`align_clips` runs
it over a dataset with a progress bar. :func:`moving_clip` and
:func:`alignment_error` build and score the synthetic moving-photo test clip.
"""
from __future__ import annotations

import abc
import functools
import hashlib
import importlib.util
import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Literal, Sequence

import cv2
import numpy as np

__all__ = [
    "FACES_VERSION",
    "KEYPOINT_NAMES",
    "TEMPLATE_IOD_UNITS",
    "FaceConfig",
    "FaceBackend",
    "DlibBackend",
    "HaarBackend",
    "FaceObservation",
    "ClipAlignStats",
    "FaceNotFoundError",
    "BackendUnavailableError",
    "available_backends",
    "get_backend",
    "dlib_model_path",
    "keypoints_from_68",
    "canonical_keypoints",
    "estimate_similarity",
    "observe_face",
    "warp_face",
    "smooth_tracks",
    "align_clip",
    "align_clips",
    "moving_clip",
    "compose",
    "alignment_error",
    "evaluate_moving_clip",
]

log = logging.getLogger(__name__)

#: Bump when the output of :func:`align_clip` for a given config changes, so
#: caches keyed by :meth:`FaceConfig.cache_key` are invalidated.
FACES_VERSION = "1"

#: Order of the five alignment key points (image left / right, not the subject's).
KEYPOINT_NAMES = ("left_eye", "right_eye", "nose_tip", "mouth_left", "mouth_right")

#: Canonical key points in units of the inter-ocular distance (IOD), origin at
#: the eyes' midpoint, y down. Derived from the mean dlib 68-point face shape
#: published with OpenFace (eye centres = mean of points 36–41 / 42–47, nose tip
#: = 30, mouth corners = 48 / 54), mirrored to be left/right symmetric. In the
#: same units that mean face spans brows −0.37 … chin +1.92 and is 2.33 wide.
TEMPLATE_IOD_UNITS = np.array(
    [[-0.5, 0.0], [0.5, 0.0], [0.0, 0.595], [-0.453, 1.090], [0.453, 1.090]], dtype=np.float64
)

# Haar fallback: where nose and mouth corners sit in a Haar frontal-face box
# (fractions of its width / height), and where eyes sit when the eye cascade
# finds none. Measured from dlib's 68 landmarks inside Haar boxes on the
# astronaut photo and mirrored; approximate by nature.
_HAAR_BOX_KEYPOINTS = np.array(
    [[0.275, 0.385], [0.725, 0.385], [0.5, 0.64], [0.265, 0.775], [0.735, 0.775]], dtype=np.float64
)

# The same nose / mouth points in the eyes' frame: p = mid + a·v + b·perp, with
# v the left→right eye vector and perp it turned 90° (pointing down the face).
def _eye_frame_coeffs(kp: np.ndarray) -> np.ndarray:
    mid, v = (kp[0] + kp[1]) / 2, kp[1] - kp[0]
    perp = np.array([-v[1], v[0]])
    basis = np.stack([v, perp], axis=1)          # columns v, perp
    return np.linalg.solve(basis, (kp[2:] - mid).T).T  # (3, 2): a, b per point


_HAAR_EYE_FRAME = _eye_frame_coeffs(_HAAR_BOX_KEYPOINTS)


class FaceNotFoundError(RuntimeError):
    """No face was detected in any frame of a clip (or in an image)."""


class BackendUnavailableError(RuntimeError):
    """A face backend's package or model file is missing."""


# --------------------------------------------------------------------------- config


@dataclass(frozen=True)
class FaceConfig:
    """Everything that determines :func:`align_clip`'s output (hash it for caches).

    Attributes:
        backend: ``"dlib"``, ``"haar"`` or ``"auto"`` (dlib when installed, else
            Haar with a logged warning).
        size: side of the square aligned crop in pixels (paper: 256).
        iod: inter-ocular distance in the crop, as a fraction of ``size``.
        eye_y: height of the eyes' midpoint in the crop, fraction of ``size``.
            With the defaults the mean face spans rows 0.24–0.84 and columns
            0.20–0.80 of the crop, so a 224/256 centre crop keeps the chin.
        detect_side: frames are rescaled so their long side has this many
            pixels before detection and landmarks (HOG needs faces ≥ ~80 px;
            large frames get cheaper). 0 keeps the frame size.
        upsample: dlib pyramid upsampling steps (0 = as the issue measured).
        score_threshold: dlib ``adjust_threshold``; detections scoring below
            it are dropped (lower finds more, and more false boxes).
        smooth_sigma: temporal smoothing of the key-point tracks, in frames
            (Gaussian weights of a local polynomial fit); 0 disables it.
        smooth_degree: degree of that local polynomial (2: follows head
            motion up to constant acceleration without lag).
        outlier_iod: a frame whose key points lie farther than this many IODs
            (RMS) from what the other frames predict for it is re-picked from
            its other detections or treated as a missed detection (see
            :func:`align_clip`); 0 disables the check.
        on_missing: ``"raise"`` → :class:`FaceNotFoundError` for a clip with no
            face; ``"skip"`` → log a warning and return ``None``.
        border: how the warp fills pixels outside the frame:
            ``"replicate"``, ``"reflect"`` or ``"constant"`` (black).
    """

    backend: Literal["dlib", "haar", "auto"] = "dlib"
    size: int = 256
    iod: float = 0.26
    eye_y: float = 0.34
    detect_side: int = 640
    upsample: int = 0
    score_threshold: float = 0.0
    smooth_sigma: float = 1.0
    smooth_degree: int = 2
    outlier_iod: float = 0.5
    on_missing: Literal["raise", "skip"] = "raise"
    border: Literal["replicate", "reflect", "constant"] = "replicate"

    def __post_init__(self) -> None:
        if self.backend not in ("dlib", "haar", "auto"):
            raise ValueError(f"FaceConfig.backend must be 'dlib', 'haar' or 'auto', got {self.backend!r}")
        if self.on_missing not in ("raise", "skip"):
            raise ValueError(f"FaceConfig.on_missing must be 'raise' or 'skip', got {self.on_missing!r}")
        if self.border not in _BORDERS:
            raise ValueError(f"FaceConfig.border must be one of {sorted(_BORDERS)}, got {self.border!r}")
        if self.size < 16:
            raise ValueError(f"FaceConfig.size must be ≥ 16 pixels, got {self.size}")
        if not (0 < self.iod < 1 and 0 < self.eye_y < 1):
            raise ValueError(f"FaceConfig.iod and eye_y are fractions of the crop in (0, 1); got {self.iod}, {self.eye_y}")
        if self.smooth_degree not in (0, 1, 2, 3):
            raise ValueError(f"FaceConfig.smooth_degree must be 0..3, got {self.smooth_degree}")
        if self.smooth_sigma < 0 or self.outlier_iod < 0 or self.detect_side < 0 or self.upsample < 0:
            raise ValueError("FaceConfig.smooth_sigma, outlier_iod, detect_side and upsample must be ≥ 0")

    def to_dict(self) -> dict[str, Any]:
        """Plain dict, with :data:`FACES_VERSION`, for recording with cached clips."""
        return {**asdict(self), "faces_version": FACES_VERSION}

    def cache_key(self) -> str:
        """16 hex digits identifying this config *and* the code version.

        ``on_missing`` is left out: it decides whether a failure raises, not
        what a successful clip looks like.
        """
        d = self.to_dict()
        d.pop("on_missing")
        blob = json.dumps(d, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


_BORDERS = {
    "replicate": cv2.BORDER_REPLICATE,
    "reflect": cv2.BORDER_REFLECT_101,
    "constant": cv2.BORDER_CONSTANT,
}


def canonical_keypoints(size: int = 256, iod: float = 0.26, eye_y: float = 0.34) -> np.ndarray:
    """The five template key points ``(5, 2)`` (x, y) in crop pixels.

    Pixel centres are at integer coordinates (OpenCV's convention), so the
    crop's centre line is x = (size − 1) / 2.
    """
    cx = (size - 1) / 2.0
    return TEMPLATE_IOD_UNITS * (iod * size) + np.array([cx, eye_y * size - 0.5])


# --------------------------------------------------------------------------- backends


def keypoints_from_68(points: np.ndarray) -> np.ndarray:
    """Five alignment key points ``(5, 2)`` from 68 iBUG landmarks ``(68, 2)``.

    Eye centres are the means of the six eyelid points (36–41 image-left eye,
    42–47 image-right eye), the nose tip is point 30, the mouth corners 48, 54.
    """
    p = np.asarray(points, dtype=np.float64)
    if p.shape != (68, 2):
        raise ValueError(f"keypoints_from_68: expected (68, 2) landmarks, got {p.shape}")
    return np.stack([p[36:42].mean(0), p[42:48].mean(0), p[30], p[48], p[54]])


class FaceBackend(abc.ABC):
    """Detection and landmarks on one grey uint8 image ``(H, W)``.

    Subclasses implement :meth:`detect` (all candidate boxes with scores) and
    :meth:`landmarks` (points of one box). Boxes are ``(x0, y0, x1, y1)`` in
    pixels, points ``(x, y)``.
    """

    name: str = "base"
    n_landmarks: int = 0

    @abc.abstractmethod
    def detect(self, gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Candidate faces: boxes ``(N, 4)`` float64 and scores ``(N,)`` float64 (higher = surer)."""

    @abc.abstractmethod
    def landmarks(self, gray: np.ndarray, box: np.ndarray) -> np.ndarray:
        """Landmarks ``(n_landmarks, 2)`` float64 of the face in ``box``."""

    @abc.abstractmethod
    def keypoints(self, landmarks: np.ndarray) -> np.ndarray:
        """The five alignment key points ``(5, 2)`` (:data:`KEYPOINT_NAMES`) from :meth:`landmarks`."""


def dlib_model_path(name: str = "shape_predictor_68_face_landmarks.dat") -> Path:
    """Path of a model file shipped by ``face-recognition-models``.

    ``$SMATE_DLIB_PREDICTOR`` overrides it for the 68-point predictor. The
    package is located with :func:`importlib.util.find_spec`, without importing
    it (its ``__init__`` needs ``pkg_resources``).
    """
    env = os.environ.get("SMATE_DLIB_PREDICTOR")
    if env and name == "shape_predictor_68_face_landmarks.dat":
        p = Path(env)
        if not p.is_file():
            raise BackendUnavailableError(f"$SMATE_DLIB_PREDICTOR={env!r} is not a file")
        return p
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise BackendUnavailableError(
            "dlib backend: package 'face-recognition-models' is not installed; "
            "pip install face-recognition-models==0.3.0 (offline model files), "
            "set $SMATE_DLIB_PREDICTOR to a shape_predictor_68_face_landmarks.dat, "
            "or use FaceConfig(backend='haar')"
        )
    for loc in spec.submodule_search_locations:
        p = Path(loc) / "models" / name
        if p.is_file():
            return p
    raise BackendUnavailableError(f"dlib backend: {name} not found under {list(spec.submodule_search_locations)}")


@functools.lru_cache(maxsize=2)
def _load_shape_predictor(path: str):
    import dlib

    return dlib.shape_predictor(path)


class DlibBackend(FaceBackend):
    """dlib HOG detector + 68-point shape predictor (offline, CPU).

    Args:
        upsample: HOG pyramid upsampling steps (each doubles cost; 0 default).
        score_threshold: dlib's ``adjust_threshold``.
        predictor_path: 68-point model; default from :func:`dlib_model_path`.
    """

    name = "dlib"
    n_landmarks = 68

    def __init__(self, upsample: int = 0, score_threshold: float = 0.0,
                 predictor_path: str | os.PathLike | None = None) -> None:
        try:
            import dlib
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise BackendUnavailableError(
                "dlib backend: module 'dlib' is missing; pip install dlib-bin==20.0.1.post1 "
                "(prebuilt wheel, no compiler) or use FaceConfig(backend='haar')"
            ) from e
        self._dlib = dlib
        self.upsample = int(upsample)
        self.score_threshold = float(score_threshold)
        self._detector = dlib.get_frontal_face_detector()
        path = Path(predictor_path) if predictor_path else dlib_model_path()
        self._predictor = _load_shape_predictor(str(path))

    def detect(self, gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rects, scores, _ = self._detector.run(np.ascontiguousarray(gray), self.upsample, self.score_threshold)
        boxes = np.array([[r.left(), r.top(), r.right() + 1, r.bottom() + 1] for r in rects],
                         dtype=np.float64).reshape(-1, 4)
        return boxes, np.asarray(scores, dtype=np.float64).reshape(-1)

    def landmarks(self, gray: np.ndarray, box: np.ndarray) -> np.ndarray:
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        shape = self._predictor(np.ascontiguousarray(gray), self._dlib.rectangle(x0, y0, x1 - 1, y1 - 1))
        return np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64)

    def keypoints(self, landmarks: np.ndarray) -> np.ndarray:
        return keypoints_from_68(landmarks)


class HaarBackend(FaceBackend):
    """OpenCV Haar frontal-face + eye cascades: the light, less precise fallback.

    Landmarks are the five key points themselves: eye centres from the eye
    cascade (the best-scoring eye within 0.12 box widths of where an eye is
    expected; that expected spot where none is), nose tip and mouth corners at
    fixed box fractions.

    Args:
        scale_factor, min_neighbors: :meth:`cv2.CascadeClassifier.detectMultiScale3` settings.
        min_face_frac: smallest face searched, as a fraction of the image's short side.
    """

    name = "haar"
    n_landmarks = 5

    def __init__(self, scale_factor: float = 1.1, min_neighbors: int = 4, min_face_frac: float = 0.1) -> None:
        base = Path(cv2.data.haarcascades) if hasattr(cv2, "data") else Path("<no cv2.data>")
        face_xml, eye_xml = base / "haarcascade_frontalface_default.xml", base / "haarcascade_eye.xml"
        if not face_xml.is_file() or not eye_xml.is_file():
            raise BackendUnavailableError(
                f"haar backend: cascades not found under {base!s}; install opencv-python-headless 4.x "
                "(OpenCV 5 wheels ship no Haar cascades)"
            )
        self._face = cv2.CascadeClassifier(str(face_xml))
        self._eye = cv2.CascadeClassifier(str(eye_xml))
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.min_face_frac = min_face_frac

    def detect(self, gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m = max(24, int(self.min_face_frac * min(gray.shape[:2])))
        rects, _, weights = self._face.detectMultiScale3(
            gray, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors,
            minSize=(m, m), outputRejectLevels=True)
        rects = np.asarray(rects, dtype=np.float64).reshape(-1, 4)
        boxes = np.concatenate([rects[:, :2], rects[:, :2] + rects[:, 2:]], axis=1)
        return boxes, np.asarray(weights, dtype=np.float64).reshape(-1)

    def landmarks(self, gray: np.ndarray, box: np.ndarray) -> np.ndarray:
        x0, y0, x1, y1 = box
        w, h = x1 - x0, y1 - y0
        kp = _HAAR_BOX_KEYPOINTS * [w, h] + [x0, y0]
        # Eyes live in the upper ~60 % of a Haar face box.
        ix0, iy0 = int(max(0, x0)), int(max(0, y0))
        roi = gray[iy0:int(y0 + 0.6 * h), ix0:int(x1)]
        if roi.size:
            m = max(8, int(w / 8))
            rects, _, weights = self._eye.detectMultiScale3(
                roi, scaleFactor=1.1, minNeighbors=3, minSize=(m, m), maxSize=(int(w / 2), int(w / 2)),
                outputRejectLevels=True)
            rects = np.asarray(rects, dtype=np.float64).reshape(-1, 4)
            weights = np.asarray(weights, dtype=np.float64).reshape(-1)
            centres = rects[:, :2] + rects[:, 2:] / 2 + [ix0, iy0]
            found = 0
            for k in (0, 1):
                # The eye cascade also fires on brows, nostrils and glasses
                # frames: only trust a candidate near where the eye should be.
                near = np.linalg.norm(centres - kp[k], axis=1) < 0.12 * w
                if near.any():
                    kp[k] = centres[np.flatnonzero(near)[np.argmax(weights[near])]]
                    found += 1
            if found == 2:
                # Both eyes seen: place nose and mouth in the eyes' frame (so
                # they turn and scale with the head) rather than in the
                # axis-aligned box, whose size also jumps in 10 % steps.
                mid, v = (kp[0] + kp[1]) / 2, kp[1] - kp[0]
                perp = np.array([-v[1], v[0]])
                kp[2:] = mid + _HAAR_EYE_FRAME[:, :1] * v + _HAAR_EYE_FRAME[:, 1:] * perp
        return kp

    def keypoints(self, landmarks: np.ndarray) -> np.ndarray:
        return np.asarray(landmarks, dtype=np.float64)


def available_backends() -> list[str]:
    """Backends that can be constructed here (``"dlib"`` needs dlib + model files)."""
    out = []
    if importlib.util.find_spec("dlib") is not None:
        try:
            dlib_model_path()
            out.append("dlib")
        except BackendUnavailableError:
            pass
    if hasattr(cv2, "data") and (Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml").is_file():
        out.append("haar")
    return out


@functools.lru_cache(maxsize=8)
def _cached_backend(name: str, upsample: int, score_threshold: float) -> FaceBackend:
    if name == "dlib":
        return DlibBackend(upsample=upsample, score_threshold=score_threshold)
    return HaarBackend()


def get_backend(config: FaceConfig | str = "dlib") -> FaceBackend:
    """The backend a config names, built once per process (dlib's model takes ~1 s to load)."""
    cfg = FaceConfig(backend=config) if isinstance(config, str) else config
    name = cfg.backend
    if name == "auto":
        avail = available_backends()
        if "dlib" in avail:
            name = "dlib"
        elif "haar" in avail:
            log.warning("face backend 'auto': dlib unavailable, using the coarser Haar fallback")
            name = "haar"
        else:
            raise BackendUnavailableError("no face backend available: pip install dlib-bin face-recognition-models")
    return _cached_backend(name, cfg.upsample, cfg.score_threshold)


# --------------------------------------------------------------------------- one frame


@dataclass
class FaceObservation:
    """What a backend saw in one frame, in the frame's pixel coordinates.

    ``box``/``score``/``landmarks``/``keypoints`` describe the chosen (best-
    scoring) face and are ``None`` when there is none; ``boxes``/``scores``
    list every candidate (for figures and debugging).
    """

    box: np.ndarray | None
    score: float
    landmarks: np.ndarray | None
    keypoints: np.ndarray | None
    boxes: np.ndarray
    scores: np.ndarray
    detect_ms: float = 0.0
    landmark_ms: float = 0.0


def _to_gray(frame: np.ndarray) -> np.ndarray:
    if frame.ndim == 2:
        return frame
    if frame.ndim == 3 and frame.shape[2] == 3:
        return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    if frame.ndim == 3 and frame.shape[2] == 1:
        return frame[:, :, 0]
    raise ValueError(f"expected an RGB (H, W, 3) or grey (H, W) uint8 frame, got shape {frame.shape}")


def _detection_gray(frame: np.ndarray, detect_side: int) -> tuple[np.ndarray, float]:
    """Grey copy of ``frame`` rescaled so its long side is ``detect_side`` (0: as is), and the scale."""
    gray = _to_gray(frame)
    if not detect_side or max(gray.shape) == detect_side:
        return gray, 1.0
    s = detect_side / max(gray.shape)
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    size = (max(1, round(gray.shape[1] * s)), max(1, round(gray.shape[0] * s)))
    return cv2.resize(gray, size, interpolation=interp), s


def _to_frame_coords(p: np.ndarray, s: float) -> np.ndarray:
    # Pixel centres map as x_frame = (x_scaled + 0.5) / s − 0.5.
    return (p + 0.5) / s - 0.5


def _box_to_frame(box: np.ndarray, s: float) -> np.ndarray:
    return np.asarray(box, dtype=np.float64) / s  # box edges (not centres) scale directly


def observe_face(frame: np.ndarray, backend: FaceBackend, detect_side: int = 640,
                 candidate: int = 0) -> FaceObservation:
    """Detect faces in one frame, keep the best-scoring one, find its landmarks.

    Args:
        frame: ``(H, W, 3)`` RGB or ``(H, W)`` grey, uint8.
        backend: a :class:`FaceBackend`.
        detect_side: rescale so the long side has this many pixels for
            detection and landmarks (0 = as is); results are mapped back to
            the frame's pixels.
        candidate: rank of the detection to describe (0 = best-scoring; 1 =
            runner-up …), used when a video track rejects the best one.

    Returns:
        A :class:`FaceObservation`; its ``box``/``keypoints`` are ``None`` when
        there are fewer than ``candidate + 1`` detections.
    """
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8:
        raise TypeError("observe_face: frame must be a uint8 numpy array (H, W, 3) or (H, W); "
                        "convert with (x * 255).round().astype(np.uint8)")
    gray, s = _detection_gray(frame, detect_side)
    t0 = time.perf_counter()
    boxes, scores = backend.detect(gray)
    t1 = time.perf_counter()
    order = np.argsort(-scores, kind="stable")  # best-scoring first, not largest
    if len(order) <= candidate:
        return FaceObservation(None, float("nan"), None, None, _box_to_frame(boxes, s), scores,
                               (t1 - t0) * 1e3, 0.0)
    best = int(order[candidate])
    lm = backend.landmarks(gray, boxes[best])
    kp = backend.keypoints(lm)
    t2 = time.perf_counter()
    return FaceObservation(_box_to_frame(boxes[best], s), float(scores[best]), _to_frame_coords(lm, s),
                           _to_frame_coords(kp, s), _box_to_frame(boxes, s), scores,
                           (t1 - t0) * 1e3, (t2 - t1) * 1e3)


def estimate_similarity(keypoints: np.ndarray, template: np.ndarray) -> np.ndarray | None:
    """The similarity transform ``(2, 3)`` mapping ``keypoints`` onto ``template``.

    Uses :func:`cv2.estimateAffinePartial2D` (4 degrees of freedom). Its RANSAC
    threshold is set to 15 % of the template's IOD so that normal landmark noise
    keeps all five points as inliers (the final fit is then the least-squares
    fit over all of them, which is steadier frame to frame than a fit over a
    changing subset), while a grossly wrong point is still dropped. Returns
    ``None`` for degenerate input.
    """
    src = np.asarray(keypoints, dtype=np.float32).reshape(-1, 1, 2)
    dst = np.asarray(template, dtype=np.float32).reshape(-1, 1, 2)
    if not np.all(np.isfinite(src)):
        return None
    iod = float(np.linalg.norm(template[1] - template[0]))
    m, _ = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=0.15 * iod,
                                       maxIters=2000, confidence=0.999, refineIters=10)
    return None if m is None else m.astype(np.float64)


def warp_face(frame: np.ndarray, matrix: np.ndarray, size: int, border: str = "replicate") -> np.ndarray:
    """Warp ``frame`` by ``matrix`` (frame → crop pixels) into a ``size × size`` crop.

    When the crop is much smaller than the face in the frame (scale < 0.75),
    the frame is first shrunk with area averaging so the bilinear warp does not
    alias; the composite mapping is unchanged.
    """
    m = np.asarray(matrix, dtype=np.float64)
    scale = float(np.sqrt(abs(np.linalg.det(m[:, :2]))))
    if scale < 0.75:
        f = scale
        h, w = frame.shape[:2]
        nw, nh = max(1, round(w * f)), max(1, round(h * f))
        small = cv2.resize(frame, (nw, nh), interpolation=cv2.INTER_AREA)
        # small pixel centre (u+0.5) = (x+0.5)·(nw/w): express M in small coordinates.
        fx, fy = nw / w, nh / h
        to_small = np.array([[fx, 0, 0.5 * fx - 0.5], [0, fy, 0.5 * fy - 0.5], [0, 0, 1]])
        m = (np.vstack([m, [0, 0, 1]]) @ np.linalg.inv(to_small))[:2]
        frame = small
    return cv2.warpAffine(frame, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=_BORDERS[border])


# --------------------------------------------------------------------------- clips


def _fill_missing(points: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Linear interpolation in time over missing frames; nearest value at the ends."""
    t = np.arange(len(points))
    out = points.copy()
    idx = np.flatnonzero(valid)
    flat = out.reshape(len(points), -1)
    for j in range(flat.shape[1]):
        flat[:, j] = np.interp(t, idx, flat[idx, j])
    return out


def smooth_tracks(points: np.ndarray, valid: np.ndarray | None = None, sigma: float = 1.0,
                  degree: int = 2) -> np.ndarray:
    """Fill and smooth key-point tracks over time.

    Args:
        points: ``(T, K, 2)`` key points per frame (NaN where ``valid`` is False).
        valid: ``(T,)`` bool, frames with a detection (default: all finite).
        sigma: Gaussian width in frames of the local fit (0: fill only).
        degree: degree of the local polynomial (0 = Gaussian moving average,
            1 = local linear, 2 = local quadratic).

    Returns:
        ``(T, K, 2)``: missing frames filled by linear interpolation between the
        nearest detected frames, then every coordinate replaced by a
        Gaussian-weighted local polynomial fit around its frame. Why a
        polynomial: a moving average (degree 0) lags at the clip's ends and
        flattens every turn of the head; a local quadratic follows motion up to
        constant acceleration without bias and removes only frame-to-frame
        noise (measured on moving astronaut clips: degree 2 at σ = 1 frame
        halves the jitter of unsmoothed alignment, while degree 1 at σ ≥ 1
        makes it worse by flattening the motion).
    """
    p = np.asarray(points, dtype=np.float64)
    n = len(p)
    if valid is None:
        valid = np.isfinite(p).reshape(n, -1).all(1)
    valid = np.asarray(valid, dtype=bool)
    if not valid.any():
        raise ValueError("smooth_tracks: no valid frame to interpolate from")
    p = _fill_missing(p, valid)
    if sigma <= 0 or n < 3:
        return p
    return np.einsum("ts,skc->tkc", _local_poly_weights(n, float(sigma), int(degree)), p)


@functools.lru_cache(maxsize=64)
def _local_poly_weights(n: int, sigma: float, degree: int) -> np.ndarray:
    """Hat matrix ``(n, n)`` of a Gaussian-weighted local polynomial regression on frames 0..n−1.

    Row t holds the weights that give the fitted value at t: ``e0ᵀ (XᵀWX)⁻¹ XᵀW``
    with ``X = [1, d, …, d^degree]``, ``d = s − t`` and Gaussian ``W`` truncated
    at 4σ. Where too few frames fall in the window the degree is lowered.
    """
    t = np.arange(n, dtype=np.float64)
    h = np.zeros((n, n))
    for i in range(n):
        d = t - i
        keep = np.abs(d) <= 4 * sigma
        dk, w = d[keep], np.exp(-0.5 * (d[keep] / sigma) ** 2)
        deg = min(degree, int(keep.sum()) - 1)
        x = dk[:, None] ** np.arange(deg + 1)[None, :]
        xtw = x.T * w
        h[i, keep] = np.linalg.solve(xtw @ x, xtw)[0]
    h.setflags(write=False)
    return h


@dataclass
class ClipAlignStats:
    """What happened while aligning one clip (arrays are per frame).

    ``n_rejected`` frames had a best-scoring detection far off the clip's
    track; ``n_repicked`` of those were rescued by a lower-scoring detection
    that fits it. ``n_filled`` frames had no usable detection (none found, or
    rejected and not rescued) and reuse their neighbours' key points.
    ``skipped`` is True when no frame had a face and ``on_missing='skip'``.

    Per-frame arrays (frame pixel coordinates, except ``matrices``):
    ``scores`` (T,), ``boxes`` (T, 4) and ``keypoints_raw`` (T, 5, 2) of the
    detection used, NaN where none; ``keypoints`` (T, 5, 2) after filling and
    smoothing; ``matrices`` (T, 2, 3), frame → aligned crop.
    """

    clip_id: str
    backend: str
    n_frames: int
    n_detected: int = 0
    n_rejected: int = 0
    n_repicked: int = 0
    n_filled: int = 0
    skipped: bool = False
    detect_ms: float = 0.0
    landmark_ms: float = 0.0
    warp_ms: float = 0.0
    total_ms: float = 0.0
    scores: np.ndarray = field(default_factory=lambda: np.zeros(0))
    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))
    keypoints_raw: np.ndarray = field(default_factory=lambda: np.zeros((0, 5, 2)))
    keypoints: np.ndarray = field(default_factory=lambda: np.zeros((0, 5, 2)))
    matrices: np.ndarray = field(default_factory=lambda: np.zeros((0, 2, 3)))

    @property
    def ms_per_frame(self) -> float:
        return self.total_ms / max(1, self.n_frames)

    def summary(self) -> dict[str, Any]:
        """Scalars only (JSON-ready), for a cache's metadata or a table row."""
        return {
            "clip_id": self.clip_id, "backend": self.backend, "n_frames": self.n_frames,
            "n_detected": self.n_detected, "n_rejected": self.n_rejected, "n_repicked": self.n_repicked,
            "n_filled": self.n_filled,
            "skipped": self.skipped, "ms_per_frame": round(self.ms_per_frame, 3),
            "detect_ms": round(self.detect_ms, 3), "landmark_ms": round(self.landmark_ms, 3),
            "warp_ms": round(self.warp_ms, 3),
        }


def _check_frames(frames: np.ndarray, clip_id: str) -> np.ndarray:
    if not isinstance(frames, np.ndarray):
        raise TypeError(f"align_clip({clip_id}): frames must be a numpy array (T, H, W, 3) uint8, got {type(frames).__name__}")
    if frames.dtype != np.uint8:
        raise TypeError(f"align_clip({clip_id}): frames must be uint8, got {frames.dtype}; "
                        "convert with (x * 255).round().astype(np.uint8)")
    if frames.ndim == 3:
        pass  # (T, H, W) grey
    elif frames.ndim != 4 or frames.shape[3] not in (1, 3):
        raise ValueError(f"align_clip({clip_id}): frames must be (T, H, W, 3) RGB or (T, H, W) grey, "
                         f"got shape {frames.shape}")
    if frames.shape[0] == 0:
        raise ValueError(f"align_clip({clip_id}): clip has no frames")
    return frames


def align_clip(frames: np.ndarray, config: FaceConfig | None = None, *, backend: FaceBackend | None = None,
               clip_id: str = "<clip>") -> tuple[np.ndarray | None, ClipAlignStats]:
    """Detect, landmark and align every frame of a clip (the clip cache's hook).

    Args:
        frames: ``(T, H, W, 3)`` RGB uint8 (or ``(T, H, W)`` grey).
        config: :class:`FaceConfig` (defaults: dlib, 256², light smoothing).
        backend: a ready backend (default: :func:`get_backend` of ``config``).
        clip_id: name used in messages (e.g. the manifest path).

    Returns:
        ``(aligned, stats)``: ``aligned`` is ``(T, size, size, 3)`` uint8 (grey
        in → ``(T, size, size)``), or ``None`` when no frame had a face and
        ``config.on_missing == 'skip'`` (a warning is logged).

    Raises:
        FaceNotFoundError: no face in any frame and ``on_missing == 'raise'``.
    """
    cfg = config or FaceConfig()
    frames = _check_frames(frames, clip_id)
    be = backend or get_backend(cfg)
    t_start = time.perf_counter()
    n = frames.shape[0]
    stats = ClipAlignStats(clip_id=clip_id, backend=be.name, n_frames=n)
    kp = np.full((n, 5, 2), np.nan)
    boxes = np.full((n, 4), np.nan)
    scores = np.full(n, np.nan)
    n_cand = np.zeros(n, dtype=int)
    for i in range(n):
        ob = observe_face(frames[i], be, cfg.detect_side)
        stats.detect_ms += ob.detect_ms
        stats.landmark_ms += ob.landmark_ms
        n_cand[i] = len(ob.scores)
        if ob.keypoints is not None:
            kp[i], boxes[i], scores[i] = ob.keypoints, ob.box, ob.score
    valid = np.isfinite(kp).reshape(n, -1).all(1)
    stats.n_detected = int(valid.sum())
    if not valid.any():
        stats.keypoints_raw, stats.boxes, stats.scores = kp, boxes, scores
        what = (f"no face found in any of the {n} frames of {clip_id} (backend {be.name!r}, "
                f"detect_side {cfg.detect_side})")
        if cfg.on_missing != "raise":
            log.warning(f"align_clip: skipping clip — {what} (on_missing='skip')")
        else:
            if be.name == "dlib":   # the detector settings FaceConfig offers for this backend
                knobs = (f"upsample={cfg.upsample + 1} (finds smaller faces), a lower score_threshold (now "
                         f"{cfg.score_threshold}, e.g. {cfg.score_threshold - 0.5}: finds weaker ones), "
                         "backend='haar'")
            else:
                knobs = "backend='dlib' (finds more faces than the Haar cascade)"
            raise FaceNotFoundError(
                f"align_clip: {what}. Check that the clip shows a frontal face; to detect more, try FaceConfig "
                f"with a larger detect_side (small faces), {knobs}. To leave this sequence out, drop its row from "
                "the manifest and re-save it (data_manifests/README.md); a direct align_clip / align_clips call "
                "can instead pass on_missing='skip' to skip such clips with a warning.")
        stats.skipped = True
        stats.total_ms = (time.perf_counter() - t_start) * 1e3
        return None, stats

    if cfg.outlier_iod > 0 and valid.sum() >= 3:
        valid = _reject_outliers(frames, be, cfg, kp, boxes, scores, valid, n_cand, stats)
    stats.keypoints_raw, stats.boxes, stats.scores = kp, boxes, scores
    smooth = smooth_tracks(np.where(valid[:, None, None], kp, np.nan), valid, cfg.smooth_sigma,
                           cfg.smooth_degree)
    stats.n_filled = int(n - valid.sum())
    stats.keypoints = smooth

    template = canonical_keypoints(cfg.size, cfg.iod, cfg.eye_y)
    t_warp = time.perf_counter()
    mats = np.zeros((n, 2, 3))
    gray_in = frames.ndim == 3
    out = np.empty((n, cfg.size, cfg.size) if gray_in else (n, cfg.size, cfg.size, frames.shape[3]), np.uint8)
    fitted = [estimate_similarity(smooth[i], template) for i in range(n)]
    ok = np.array([m is not None for m in fitted])
    if not ok.any():  # only degenerate key points (e.g. all on one spot): nothing to align with
        raise FaceNotFoundError(f"align_clip: key points of {clip_id} are degenerate in every frame "
                                f"(backend {be.name!r}); the detections cannot be aligned")
    good = np.flatnonzero(ok)
    for i in range(n):
        # a degenerate fit reuses the nearest frame's transform, like a missed detection
        mats[i] = fitted[i] if ok[i] else fitted[good[np.argmin(np.abs(good - i))]]
        w = warp_face(frames[i], mats[i], cfg.size, cfg.border)
        out[i] = w.reshape(out.shape[1:])
    stats.matrices = mats
    stats.warp_ms = (time.perf_counter() - t_warp) * 1e3
    stats.total_ms = (time.perf_counter() - t_start) * 1e3
    return out, stats


def _loo_prediction(kp: np.ndarray, valid: np.ndarray, i: int, sigma: float) -> np.ndarray:
    """Key points of frame ``i`` predicted from the *other* valid frames.

    A Gaussian-weighted local *linear* fit over those frames, evaluated at
    ``i``: inside the clip it interpolates, at the ends it extrapolates the
    trend (a constant hold would call a fast-moving last frame an outlier).
    """
    s = np.flatnonzero(valid)
    s = s[s != i]
    d = (s - i).astype(np.float64)
    # weights relative to the nearest frame, so a long gap cannot underflow them all
    w = np.exp(-0.5 * ((d / sigma) ** 2 - (np.min(np.abs(d)) / sigma) ** 2))
    deg = 1 if len(s) >= 2 else 0
    x = d[:, None] ** np.arange(deg + 1)[None, :]
    xtw = x.T * w
    coef = np.linalg.lstsq(xtw @ x, xtw, rcond=None)[0][0]   # weights giving the value at d = 0
    return np.einsum("s,skc->kc", coef, kp[s])


def _reject_outliers(frames: np.ndarray, be: FaceBackend, cfg: FaceConfig, kp: np.ndarray,
                     boxes: np.ndarray, scores: np.ndarray, valid: np.ndarray, n_cand: np.ndarray,
                     stats: ClipAlignStats) -> np.ndarray:
    """Drop (or re-pick) frames whose key points jump away from the rest of the clip.

    Each detected frame is compared with its *leave-one-out* prediction (a
    local linear fit through the other detected frames, σ ≥ 1.5 frames), so a
    wild frame cannot hide by pulling the track towards itself. The worst
    frame beyond ``cfg.outlier_iod`` IODs (RMS over the five points) is
    handled first: of its lower-scoring detections (a false box can outscore
    the face — the astronaut's mission patch does at some poses) the one
    nearest the prediction is kept if it is within the threshold; otherwise
    the frame is marked missing. Repeat until no frame is beyond the threshold.
    The threshold is never below 4× the clip's median leave-one-out miss (fast
    motion) and is doubled at the clip's ends, where the prediction
    extrapolates.
    Updates ``kp``/``boxes``/``scores`` in place; returns the new validity mask.
    """
    valid = valid.copy()
    iod = float(np.median(np.linalg.norm(kp[valid, 1] - kp[valid, 0], axis=-1)))
    thr = cfg.outlier_iod * iod
    sigma = max(cfg.smooth_sigma, 1.5)
    kept: set[int] = set()  # frames that were re-picked: their new points fit by construction

    def rms(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.sqrt(np.mean(np.sum((a - b) ** 2, -1))))

    while valid.sum() >= 3:
        cand = [int(i) for i in np.flatnonzero(valid) if int(i) not in kept]
        if not cand:
            break
        preds = {i: _loo_prediction(kp, valid, i, sigma) for i in cand}
        resid = {i: rms(kp[i], preds[i]) for i in cand}
        # Fast head motion makes every prediction worse: never flag a frame for
        # missing by less than 4× the typical miss. A clip end is extrapolated,
        # not interpolated, so it gets twice the allowance (without that, a
        # fast-moving last frame is dropped, then the new last frame, ...).
        floor = max(thr, 4 * float(np.median(list(resid.values()))))
        idx = np.flatnonzero(valid)
        allow = {i: floor * (2 if i in (idx[0], idx[-1]) else 1) for i in cand}
        worst = max(cand, key=lambda i: resid[i] / allow[i])
        if resid[worst] <= allow[worst]:
            break
        stats.n_rejected += 1
        ref = preds[worst]
        thr_w = allow[worst]
        best: FaceObservation | None = None
        for rank in range(1, int(n_cand[worst])):
            ob = observe_face(frames[worst], be, cfg.detect_side, candidate=rank)
            stats.landmark_ms += ob.landmark_ms
            if ob.keypoints is not None and (best is None or rms(ob.keypoints, ref) < rms(best.keypoints, ref)):
                best = ob
        if best is not None and rms(best.keypoints, ref) <= thr_w:
            kp[worst], boxes[worst], scores[worst] = best.keypoints, best.box, best.score
            stats.n_repicked += 1
            kept.add(worst)
        else:
            valid[worst] = False
            kp[worst], boxes[worst], scores[worst] = np.nan, np.nan, np.nan
    return valid


def align_clips(clips: Iterable[tuple[str, np.ndarray]], config: FaceConfig | None = None, *,
                progress: bool = True, total: int | None = None,
                desc: str = "aligning faces") -> Iterator[tuple[str, np.ndarray | None, ClipAlignStats]]:
    """Align many clips with one backend and a progress bar (run once per dataset).

    Args:
        clips: iterable of ``(clip_id, frames)`` with frames as for :func:`align_clip`.
        config: shared :class:`FaceConfig`.
        progress: show a tqdm bar (with running ms/frame and filled-frame count).
        total: number of clips, for the bar when ``clips`` has no ``len``.

    Yields:
        ``(clip_id, aligned or None, stats)`` in input order.
    """
    from tqdm.auto import tqdm

    cfg = config or FaceConfig()
    be = get_backend(cfg)
    if total is None and hasattr(clips, "__len__"):
        total = len(clips)  # type: ignore[arg-type]
    frames_done, ms_done, filled, skipped = 0, 0.0, 0, 0
    with tqdm(total=total, desc=desc, unit="clip", disable=not progress) as bar:
        for clip_id, frames in clips:
            aligned, st = align_clip(frames, cfg, backend=be, clip_id=str(clip_id))
            frames_done += st.n_frames
            ms_done += st.total_ms
            filled += st.n_filled
            skipped += st.skipped
            bar.set_postfix(ms_per_frame=f"{ms_done / max(1, frames_done):.1f}", filled=filled, skipped=skipped)
            bar.update(1)
            yield clip_id, aligned, st


# --------------------------------------------------------------------------- test clips & scoring


def moving_clip(image: np.ndarray, n_frames: int = 16, *, rotation: float = 10.0,
                scale: tuple[float, float] = (0.9, 1.1), shift: float = 20.0,
                center: Sequence[float] | None = None, cycles: float = 1.0,
                seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A clip of ``image`` moving by known similarity transforms (a test target for alignment).

    Rotation (degrees, about ``center``), scale and shift follow smooth
    sinusoids over the clip, with phases drawn from ``seed``, so the motion is
    what a head does between frames (not a random shake).

    Args:
        image: ``(H, W, 3)`` uint8 source photo (e.g. ``skimage.data.astronaut()``).
        n_frames: clip length T.
        rotation: peak rotation in degrees (both directions).
        scale: (min, max) zoom.
        shift: peak translation in pixels along each axis.
        center: rotation/zoom centre (x, y) in pixels; default the image centre.
        cycles: oscillations over the clip.
        seed: phases of the sinusoids.

    Returns:
        ``(frames (T, H, W, 3) uint8, motions (T, 2, 3) float64)`` where
        ``motions[t]`` maps photo pixel (x, y) to frame-t pixel.
    """
    if image.ndim not in (2, 3) or image.dtype != np.uint8:
        raise ValueError(f"moving_clip: image must be (H, W[, C]) uint8, got {image.shape} {image.dtype}")
    h, w = image.shape[:2]
    cx, cy = ((w - 1) / 2, (h - 1) / 2) if center is None else center
    rng = np.random.default_rng(seed)
    ph = rng.uniform(0, 2 * np.pi, size=4)
    u = 2 * np.pi * cycles * np.arange(n_frames) / max(1, n_frames)
    ang = rotation * np.sin(u + ph[0])
    lo, hi = np.log(scale[0]), np.log(scale[1])
    sc = np.exp((lo + hi) / 2 + (hi - lo) / 2 * np.sin(u + ph[1]))
    tx, ty = shift * np.sin(u + ph[2]), shift * np.sin(u + ph[3])
    frames = np.empty((n_frames, *image.shape), np.uint8)
    motions = np.empty((n_frames, 2, 3))
    for t in range(n_frames):
        m = cv2.getRotationMatrix2D((float(cx), float(cy)), float(ang[t]), float(sc[t]))
        m[:, 2] += (tx[t], ty[t])
        motions[t] = m
        frames[t] = cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    return frames, motions


def compose(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a ∘ b`` for affine ``(..., 2, 3)`` matrices (apply b first)."""
    a3 = np.concatenate([a, np.broadcast_to([0.0, 0.0, 1.0], (*a.shape[:-2], 1, 3))], axis=-2)
    b3 = np.concatenate([b, np.broadcast_to([0.0, 0.0, 1.0], (*b.shape[:-2], 1, 3))], axis=-2)
    return (a3 @ b3)[..., :2, :]


def _apply(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return pts @ m[..., :2].swapaxes(-1, -2) + m[..., None, :, 2]


def alignment_error(matrices: np.ndarray, motions: np.ndarray, reference: np.ndarray, size: int = 256,
                    grid: int = 7, margin: float = 0.2) -> dict[str, float]:
    """How well per-frame alignment undoes known motion, in crop pixels.

    ``matrices[t]`` maps frame t → crop, ``motions[t]`` photo → frame t and
    ``reference`` photo → crop (the alignment of the still photo). Perfect
    alignment makes ``matrices[t] ∘ motions[t] == reference`` for every t.
    Measured on a ``grid × grid`` lattice spanning the crop's central
    ``1 − 2·margin`` (the face), mapped back into the photo.

    Returns:
        ``error_rms`` — RMS distance to where the still photo's alignment puts
        the lattice (absolute accuracy); ``jitter_rms`` — RMS spread of each
        lattice point over time around its mean (what a viewer sees as
        shaking); ``jitter_step_rms`` — RMS frame-to-frame displacement;
        ``error_max`` — worst point over all frames; ``motion_rms`` — the same
        spread *without* alignment (the raw clip's motion, in crop units).
    """
    g = np.linspace(margin * size, (1 - margin) * size, grid)
    crop_pts = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    ref3 = np.vstack([reference, [0, 0, 1]])
    photo_pts = _apply(np.linalg.inv(ref3)[:2], crop_pts)
    comp = compose(np.asarray(matrices), np.asarray(motions))
    p = _apply(comp, photo_pts[None])                       # (T, N, 2)
    err = np.linalg.norm(p - crop_pts[None], axis=-1)
    spread = np.linalg.norm(p - p.mean(0, keepdims=True), axis=-1)
    step = np.linalg.norm(np.diff(p, axis=0), axis=-1) if len(p) > 1 else np.zeros((1, 1))
    # Raw motion expressed in crop units: apply the still photo's alignment to the moving frames.
    raw = _apply(compose(np.broadcast_to(reference, np.shape(motions)), np.asarray(motions)), photo_pts[None])
    raw_spread = np.linalg.norm(raw - raw.mean(0, keepdims=True), axis=-1)
    return {
        "error_rms": float(np.sqrt(np.mean(err ** 2))),
        "error_max": float(err.max()),
        "jitter_rms": float(np.sqrt(np.mean(spread ** 2))),
        "jitter_step_rms": float(np.sqrt(np.mean(step ** 2))),
        "motion_rms": float(np.sqrt(np.mean(raw_spread ** 2))),
    }


def evaluate_moving_clip(image: np.ndarray, config: FaceConfig | None = None, *, n_frames: int = 16,
                         seed: int = 0, rotation: float = 10.0, scale: tuple[float, float] = (0.9, 1.1),
                         shift: float = 20.0, cycles: float = 1.0, frames_and_motions: tuple[np.ndarray, np.ndarray] | None = None
                         ) -> dict[str, Any]:
    """Align a :func:`moving_clip` of ``image`` and score it (the notebook's and benchmark's measurement).

    The reference is the alignment of the still ``image`` with the same
    config. Returns :func:`alignment_error`'s metrics plus timing
    (``ms_per_frame``, ``detect_ms_per_frame``, ``landmark_ms_per_frame``,
    ``warp_ms_per_frame``) and detection counts, and under ``"_aligned"``,
    ``"_stats"`` and ``"_reference"`` the aligned clip, its
    :class:`ClipAlignStats` and the still photo's alignment matrix.
    """
    cfg = config or FaceConfig()
    frames, motions = frames_and_motions or moving_clip(image, n_frames, rotation=rotation, scale=scale,
                                                        shift=shift, cycles=cycles, seed=seed)
    be = get_backend(cfg)
    _, ref_stats = align_clip(image[None], cfg, backend=be, clip_id="still photo")
    aligned, st = align_clip(frames, cfg, backend=be, clip_id="moving photo")
    out: dict[str, Any] = alignment_error(st.matrices, motions, ref_stats.matrices[0], size=cfg.size)
    n = st.n_frames
    out.update(backend=st.backend, smooth_sigma=cfg.smooth_sigma, frames=n,
               frame_size=f"{frames.shape[2]}x{frames.shape[1]}", detect_side=cfg.detect_side,
               ms_per_frame=st.ms_per_frame, detect_ms_per_frame=st.detect_ms / n,
               landmark_ms_per_frame=st.landmark_ms / n, warp_ms_per_frame=st.warp_ms / n,
               n_detected=st.n_detected, n_rejected=st.n_rejected, n_repicked=st.n_repicked,
               n_filled=st.n_filled, _aligned=aligned, _stats=st, _reference=ref_stats.matrices[0])
    return out
