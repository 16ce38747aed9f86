"""Clips: frame sampling, decoding, an on-disk cache and a torch ``Dataset`` (paper §4.2).

* :func:`sample_indices` — which frames make a clip: ``T`` frames with stride ``s`` from
  a start point (first frame, or a fraction such as 1/4, 1/3, 1/2 for the appearance-bias
  study of §2), with explicit policies for sequences shorter or longer than the window.
* :func:`read_frames` — decode a CK+-style PNG folder or an AFEW-style video into a
  ``T×H×W×3`` uint8 RGB array, with errors that name the file.
* :class:`ClipDataset` — a manifest-driven ``torch.utils.data.Dataset`` returning
  ``(clip, label)`` with ``clip`` a uint8 tensor ``T×H×W×C``. Whole sequences are
  decoded and preprocessed once and cached on disk, keyed by a hash of the
  preprocessing configuration, the dataset's identity (SynthFER: generator version and
  parameters) and each source file's size and modification time, so a stale clip never
  survives a code, parameter or data change.
* Batches and the model's input come from the training engine: :func:`smate_nb.engine.data.make_loader`
  (a ``DataLoader`` whose order depends only on the seed) and :class:`smate_nb.engine.inputs.InputPipeline`.

Face preprocessing (``smate_nb.preprocess.faces``) plugs in as ``preprocess=``: any
callable ``frames (T×H×W×3 uint8) → frames (T×S×S×3 uint8)`` with a ``config()``
method returning a JSON-serialisable dict (it becomes part of the cache key).
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
import pandas as pd

from ..files import atomic_path, write_json
from .labels import classes_of
from .manifest import ManifestError, ckplus_frame_files, resolve_path, validate_manifest
from .paths import cache_root

__all__ = [
    "CACHE_VERSION",
    "sample_indices",
    "read_frames",
    "FramePreprocessor",
    "Resize",
    "ClipDataset",
    "FaceAlign",
    "SHORT_POLICY",
    "LONG_POLICY",
]

#: Bumped when decoding or caching changes the bytes of a cached clip.
CACHE_VERSION = "1"

_SHORT = ("repeat", "spread")
_LONG = ("truncate", "end", "spread")


def _spread(first: int, last: int, num: int) -> np.ndarray:
    """``num`` integer indices spread evenly over [first, last], ends included: ``linspace`` rounded
    half up, in exact integer arithmetic."""
    if num == 1:
        return np.array([first], dtype=np.int64)
    span = last - first
    i = np.arange(num, dtype=np.int64)
    return first + (i * span + (num - 1) // 2) // (num - 1)


def sample_indices(n_frames: int, num_frames: int, stride: int = 1, start: float | str = 0.0, *,
                   short: str = "repeat", long: str = "truncate") -> np.ndarray:
    """Frame indices of a clip: ``num_frames`` frames, ``stride`` apart, from a start point.

    Args:
        n_frames: frames in the sequence (≥ 1).
        num_frames: ``T``, frames in the clip (≥ 1).
        stride: ``s`` ≥ 1 (paper: 2 on CK+, 3 on AFEW).
        start: where the window begins. A fraction ``0 ≤ f < 1`` of the sequence
            (``first = floor(f · n_frames)``: 0 is the first frame, 1/4, 1/3, 1/2 the
            appearance-bias start points), or ``"center"`` to centre the window.
        short: when the window ``first + (T−1)·s`` runs past the last frame:
            ``"repeat"`` — take the strided frames that exist and repeat the last frame
            (CK+ ends at the peak, so the peak is held); ``"spread"`` — spread the ``T``
            indices evenly from ``first`` to the last frame (a smaller effective stride;
            repeats only when fewer than ``T`` frames remain).
        long: when frames remain after the window: ``"truncate"`` — ignore them;
            ``"end"`` — move the window later so it ends on the last frame (keeps the
            stride and the peak; never starts before ``first``); ``"spread"`` — spread the
            ``T`` indices evenly from ``first`` to the last frame (a larger stride).

    Returns:
        int64 array of shape ``(num_frames,)``, non-decreasing, within ``[0, n_frames − 1]``.

    Examples:
        >>> sample_indices(10, 4, 2).tolist()
        [0, 2, 4, 6]
        >>> sample_indices(5, 4, 2).tolist()            # short: repeat the last frame
        [0, 2, 4, 4]
        >>> sample_indices(20, 4, 2, start=0.5).tolist()
        [10, 12, 14, 16]
        >>> sample_indices(20, 4, 2, long="end").tolist()
        [13, 15, 17, 19]
    """
    n, T, s = int(n_frames), int(num_frames), int(stride)
    if n < 1:
        raise ValueError(f"n_frames must be ≥ 1, got {n_frames}")
    if T < 1:
        raise ValueError(f"num_frames must be ≥ 1, got {num_frames}")
    if s < 1:
        raise ValueError(f"stride must be ≥ 1, got {stride}")
    if short not in _SHORT:
        raise ValueError(f"short must be one of {_SHORT}, got {short!r}")
    if long not in _LONG:
        raise ValueError(f"long must be one of {_LONG}, got {long!r}")
    span = (T - 1) * s + 1  # frames the window covers
    if isinstance(start, str):
        if start != "center":
            raise ValueError(f"start must be a fraction in [0, 1) or 'center', got {start!r}")
        first = max(0, (n - span) // 2)
    else:
        f = float(start)
        if not 0.0 <= f < 1.0:
            raise ValueError(f"start must be a fraction in [0, 1) or 'center', got {start!r}")
        first = min(int(np.floor(f * n)), n - 1)
    last = n - 1
    if first + span - 1 > last:  # the window does not fit: short policy
        if short == "spread":
            return _spread(first, last, T)
        return np.minimum(first + s * np.arange(T, dtype=np.int64), last)
    if first + span - 1 < last:  # frames remain after the window: long policy
        if long == "end":
            first = last - span + 1
        elif long == "spread":
            return _spread(first, last, T)
    return first + s * np.arange(T, dtype=np.int64)


# ----------------------------------------------------------------------------------------------
# Decoding
# ----------------------------------------------------------------------------------------------

def read_frames(path: str | os.PathLike) -> np.ndarray:
    """Decode a sequence: a CK+-style folder of PNG frames or a video file.

    A folder's frames are the files the manifest builder counts
    (:func:`smate_nb.data.manifest.ckplus_frame_files`): PNGs named
    ``<subject>_<sequence>_<8-digit number>.png``, in frame order. Other files in the
    folder are not frames (the builder reports them); a frame-named JPEG is an error, as
    in the builder (CK+ frames are PNG).

    Returns:
        uint8 array ``T×H×W×3``, RGB (grey images are expanded to three equal channels).

    Raises:
        ManifestError: missing path, a folder without frames, a non-PNG frame, an
            undecodable image or video, or frames of different sizes — naming the file and
            what to do.
    """
    p = Path(path)
    if p.is_dir():
        files, others = ckplus_frame_files(p)
        if not files:
            found = f" (it holds {', '.join(repr(f.name) for f in others[:5])})" if others else ""
            raise ManifestError(f"frame folder {p} holds no .png frames named like S005_001_00000001.png{found}; "
                                "re-extract the sequence or rebuild the manifest without it")
        frames = []
        for f in files:
            img = cv2.imread(str(f), cv2.IMREAD_COLOR)
            if img is None:
                raise ManifestError(f"image {f} cannot be decoded (corrupt or not an image); re-extract it from "
                                    "the original archive")
            if frames and img.shape != frames[0].shape:
                raise ManifestError(f"image {f} is {img.shape[1]}×{img.shape[0]} but {files[0].name} is "
                                    f"{frames[0].shape[1]}×{frames[0].shape[0]}; all frames of a sequence must "
                                    "have one size")
            frames.append(img)
        arr = np.stack(frames)
    elif p.is_file():
        cap = cv2.VideoCapture(str(p))
        try:
            if not cap.isOpened():
                raise ManifestError(f"video {p} cannot be opened by OpenCV/FFmpeg (corrupt or unsupported codec); "
                                    "re-extract it, or convert it with `ffmpeg -i in.avi -c:v ffv1 out.avi`")
            frames = []
            while True:
                ok, img = cap.read()
                if not ok:
                    break
                frames.append(img)
        finally:
            cap.release()
        if not frames:
            raise ManifestError(f"video {p} has no decodable frames (corrupt?); re-extract it")
        arr = np.stack(frames)
    else:
        raise ManifestError(f"sequence path {p} does not exist; check the dataset root, or rebuild the manifest")
    return np.ascontiguousarray(arr[..., ::-1])  # BGR → RGB


# ----------------------------------------------------------------------------------------------
# Preprocessing plug-ins
# ----------------------------------------------------------------------------------------------

class FramePreprocessor(Protocol):
    """What :class:`ClipDataset` accepts as ``preprocess``.

    ``__call__`` maps a whole sequence ``T×H×W×3`` uint8 to ``T×H'×W'×3`` uint8 (same T);
    ``config()`` returns a JSON-serialisable dict that identifies the transformation
    (it is hashed into the cache key: change it whenever the output would change).
    """

    def __call__(self, frames: np.ndarray) -> np.ndarray: ...

    def config(self) -> dict[str, Any]: ...


_INTERP = {"area": cv2.INTER_AREA, "linear": cv2.INTER_LINEAR, "cubic": cv2.INTER_CUBIC,
           "nearest": cv2.INTER_NEAREST}


@dataclass(frozen=True)
class Resize:
    """Resize every frame to ``size×size`` (square; the paper resizes faces to 256²)."""

    size: int
    interpolation: str = "area"

    def __post_init__(self) -> None:
        if self.size < 1:
            raise ValueError(f"Resize size must be ≥ 1, got {self.size}")
        if self.interpolation not in _INTERP:
            raise ValueError(f"interpolation must be one of {sorted(_INTERP)}, got {self.interpolation!r}")

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        if frames.shape[1] == self.size and frames.shape[2] == self.size:
            return frames
        out = np.empty((frames.shape[0], self.size, self.size, frames.shape[3]), np.uint8)
        for t in range(frames.shape[0]):
            out[t] = cv2.resize(frames[t], (self.size, self.size), interpolation=_INTERP[self.interpolation])
        return out

    def config(self) -> dict[str, Any]:
        return {"op": "resize", "size": self.size, "interpolation": self.interpolation,
                "opencv": cv2.__version__}


# ----------------------------------------------------------------------------------------------
# Dataset
# ----------------------------------------------------------------------------------------------

def _source_signature(p: Path) -> list[Any]:
    """What identifies the bytes of a sequence on disk: names, sizes and mtimes of the files
    :func:`read_frames` decodes (a folder's frames, or the video file)."""
    if p.is_dir():
        return [[f.name, st.st_size, st.st_mtime_ns] for f in ckplus_frame_files(p)[0] for st in (f.stat(),)]
    st = p.stat()
    return [[p.name, st.st_size, st.st_mtime_ns]]


class ClipDataset:
    """Manifest rows → ``(clip, label)`` with ``clip`` a uint8 ``torch.Tensor`` ``T×H×W×C``.

    Args:
        manifest: rows of a manifest (already filtered to a split/fold as wanted).
        root: the dataset root the manifest's paths are relative to (``manifest.attrs["root"]``
            if omitted).
        num_frames, stride: clip length ``T`` and temporal stride.
        start: a fraction in [0, 1), ``"center"``, or ``"random"`` — a uniformly random start
            fraction in [0, ``random_start_max``) per item and epoch (training-time jitter),
            drawn from ``(seed, epoch, index)`` so it is the same in any worker.
        short, long: ending policies of :func:`sample_indices`.
        preprocess: a :class:`FramePreprocessor` applied to whole sequences before caching
            (e.g. ``Resize(72)``; face alignment later).
        cache_dir: clip cache folder; ``None`` → ``$SMATE_CACHE`` or ``<repo>/cache``;
            ``False`` disables caching.
        seed: seed of random starts.
        return_index: also return the row position (``(clip, label, i)``).
        memory_mb: keep up to this many MB of decoded sequences in memory after their first load (default 0:
            none — every read checks the source, so a changed file is never served stale). The engine's
            :func:`~smate_nb.engine.data.load_data` turns it on for the datasets of one training, whose data does not
            change while it runs: measured on the cpu ablation geometry (252 lab sequences at 54², ≈ 70 MB),
            loading from the disk cache took 3.2 ms per clip, ≈ 16 % of an epoch of the SMaTE row's training.

    Attributes:
        labels: int64 array of label indices (for class weights, stratification).
        classes: label names in label-index order.
    """

    def __init__(self, manifest: pd.DataFrame, root: str | os.PathLike | None = None, *, num_frames: int,
                 stride: int = 1, start: float | str = 0.0, short: str = "repeat", long: str = "truncate",
                 random_start_max: float = 0.5, preprocess: Any = None,
                 cache_dir: str | os.PathLike | None | bool = None, seed: int = 0, return_index: bool = False,
                 memory_mb: float = 0.0):
        if len(manifest) == 0:
            raise ValueError("ClipDataset: the manifest has no rows (check the split/fold filter)")
        validate_manifest(manifest.reset_index(drop=True), source=manifest.attrs.get("source", "<manifest>"))
        root = root if root is not None else manifest.attrs.get("root")
        if root is None:
            raise ValueError("ClipDataset needs the dataset root (pass root=, or a manifest from open_dataset)")
        self.root = Path(root)
        if not self.root.is_dir():
            raise ManifestError(f"dataset root {self.root} does not exist; pass the folder the manifest's paths are "
                                "relative to")
        self.rows = manifest.reset_index(drop=True)
        self.dataset_name = str(self.rows["dataset"].iloc[0])
        self.classes = classes_of(self.dataset_name)
        self.labels = self.rows["label_index"].to_numpy(dtype=np.int64)
        self.num_frames, self.stride = int(num_frames), int(stride)
        self.start, self.short, self.long = start, short, long
        self.random_start_max = float(random_start_max)
        if start != "random":  # validate once, early
            sample_indices(1, self.num_frames, self.stride, start, short=short, long=long)
        self.preprocess = preprocess
        self.seed = int(seed)
        self.epoch = 0
        self.return_index = return_index
        self.memory_budget = int(memory_mb * 2 ** 20)
        self._memory: dict[int, np.ndarray] = {}
        self._memory_bytes = 0
        prep_cfg = preprocess.config() if preprocess is not None else {"op": "none"}
        meta = manifest.attrs.get("meta", {})
        self.cache_config = {
            "cache_version": CACHE_VERSION,
            "preprocess": prep_cfg,
            "dataset": self.dataset_name,
            "root": str(self.root.resolve()),
            "source": meta.get("source"),  # SynthFER: generator version and parameters
        }
        key = hashlib.sha256(json.dumps(self.cache_config, sort_keys=True, default=str).encode()).hexdigest()
        self.cache_key = key[:20]
        if cache_dir is False:
            self.cache_dir = None
        else:
            base = cache_root() if cache_dir in (None, True) else Path(cache_dir)
            self.cache_dir = base / "clips" / self.dataset_name / self.cache_key

    def __len__(self) -> int:
        return len(self.rows)

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose random starts ``__getitem__`` draws (call once per epoch)."""
        self.epoch = int(epoch)

    def _cache_file(self, i: int, src: Path) -> Path | None:
        if self.cache_dir is None:
            return None
        sig = json.dumps([self.rows["path"].iloc[i], _source_signature(src)])
        return self.cache_dir / f"{hashlib.sha256(sig.encode()).hexdigest()[:24]}.npy"

    def load_sequence(self, i: int) -> np.ndarray:
        """The whole decoded, preprocessed sequence of item ``i``: uint8 ``N×H×W×3`` (cached).

        Errors name the sequence's file and id (its manifest row); a :class:`FaceAlign`
        preprocessor is told the file, so a clip without a face is named too. Kept in memory after the first
        load while ``memory_mb`` allows (read-only array).
        """
        if (held := self._memory.get(i)) is not None:
            return held
        frames = self._load_sequence(i)
        if self._memory_bytes + frames.nbytes <= self.memory_budget:
            frames.setflags(write=False)
            self._memory[i] = frames
            self._memory_bytes += frames.nbytes
        return frames

    def _load_sequence(self, i: int) -> np.ndarray:
        row = self.rows.iloc[i]
        src = resolve_path(self.root, row["path"])
        if not src.exists():
            raise ManifestError(f"{src} (sequence {row['sequence_id']}, dataset item {i}) does not exist; check the "
                                f"dataset root {self.root} or rebuild the manifest")
        cf = self._cache_file(i, src)
        if cf is not None and cf.is_file():
            try:
                return np.load(cf, allow_pickle=False)
            except (OSError, ValueError):
                pass  # a damaged cache file is rebuilt below
        frames = read_frames(src)
        if frames.shape[0] != int(row["n_frames"]):
            raise ManifestError(f"{src} (sequence {row['sequence_id']}): the manifest says {int(row['n_frames'])} "
                                f"frames but {frames.shape[0]} were decoded; the data changed since the manifest was "
                                "built — rebuild the manifest")
        if self.preprocess is not None:
            if isinstance(self.preprocess, FaceAlign):   # so a clip without a face is named by its file
                frames = self.preprocess(frames, clip_id=f"{src} (sequence {row['sequence_id']})")
            else:
                frames = self.preprocess(frames)
            if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
                raise TypeError(f"preprocess must return uint8 T×H×W×3, got {frames.dtype} {frames.shape}")
        frames = np.ascontiguousarray(frames)
        if cf is not None:
            if not (self.cache_dir / "config.json").is_file():
                write_json(self.cache_dir / "config.json", self.cache_config)
            with atomic_path(cf, suffix=".npy") as tmp:
                np.save(tmp, frames, allow_pickle=False)
        return frames

    def indices(self, i: int) -> np.ndarray:
        """Frame indices of item ``i`` at the current epoch."""
        n = int(self.rows["n_frames"].iloc[i])
        start = self.start
        if start == "random":
            rng = np.random.default_rng(np.random.SeedSequence([self.seed, self.epoch, i, 77]))
            start = float(rng.random()) * self.random_start_max
        return sample_indices(n, self.num_frames, self.stride, start, short=self.short, long=self.long)

    def __getitem__(self, i: int) -> Any:
        import torch

        if not 0 <= i < len(self):
            raise IndexError(f"index {i} out of range for {len(self)} clips")
        frames = self.load_sequence(i)
        clip = torch.from_numpy(np.ascontiguousarray(frames[self.indices(i)]))
        label = int(self.labels[i])
        return (clip, label, i) if self.return_index else (clip, label)

    def warm_cache(self, progress: bool = True) -> None:
        """Decode and cache every sequence now (with a progress bar), e.g. before timing training."""
        from tqdm.auto import tqdm

        for i in tqdm(range(len(self)), desc="caching clips", unit="seq", disable=not progress):
            self.load_sequence(i)


# ----------------------------------------------------------------------------------------------
# Face alignment plug-in
# ----------------------------------------------------------------------------------------------

class FaceAlign:
    """Face detection → landmarks → similarity alignment (:func:`smate_nb.preprocess.faces.align_clip`)
    as a :class:`FramePreprocessor`. ``config`` is a ``FaceConfig``; its ``to_dict()`` (with the
    faces module's version) enters the cache key.

    A clip without a face raises :class:`~smate_nb.preprocess.faces.FaceNotFoundError`
    naming the clip (:class:`ClipDataset` passes the sequence's file as ``clip_id``):
    every manifest row must give a clip, so ``FaceConfig(on_missing='skip')`` is refused
    here — drop such a sequence from the manifest instead.
    """

    def __init__(self, config: Any = None):
        from ..preprocess.faces import FaceConfig

        self.face_config = config if config is not None else FaceConfig()
        if self.face_config.on_missing != "raise":
            raise ValueError("FaceAlign: FaceConfig(on_missing='skip') is not supported by the clip dataset (every "
                             "manifest row must give a clip); keep on_missing='raise' and drop sequences without a "
                             "face from the manifest (see data_manifests/README.md)")

    def __call__(self, frames: np.ndarray, clip_id: str = "<clip>") -> np.ndarray:
        from ..preprocess.faces import align_clip

        out, _ = align_clip(frames, self.face_config, clip_id=clip_id)
        if out.ndim == 3:
            out = np.repeat(out[..., None], 3, axis=3)
        return out

    def config(self) -> dict[str, Any]:
        return {"op": "face_align", **self.face_config.to_dict()}


#: Ending policies used by :func:`datasets_for` (see :func:`sample_indices`): a short sequence
#: keeps the stride and holds its last (peak) frame; a long one is spread so the clip still
#: runs from the start point to the last frame (CK+ ends on the peak; with 16 frames at stride 1
#: a plain window would cut most SynthFER/CK+ sequences before their peak).
SHORT_POLICY = "repeat"
LONG_POLICY = "spread"
