"""Manifests: one CSV schema for CK+, AFEW and SynthFER (paper §4.1.1).

A manifest lists the sequences of a dataset, one row each:

==============  =======  ==========================================================
column          type     meaning
==============  =======  ==========================================================
``dataset``     str      ``ckplus`` · ``afew`` · ``synthfer-lab`` · ``synthfer-wild``
``subject``     str      person id (CK+ ``S005``; AFEW: see :func:`read_afew`)
``sequence_id`` str      unique id (CK+ ``S005/001``; AFEW ``Train/000046280``)
``label``       str      class name (:mod:`smate_nb.data.labels`)
``label_index`` int      index of ``label`` in the dataset's class list
``path``        str      frame folder or video file, relative to the dataset root
``n_frames``    int      number of frames (decoded and counted when built)
``split``       str      ``cv`` (CK+: cross-validation pool) · ``train`` · ``val`` · ``test``
``fold``        int      CK+: subject-independent fold 0..k-1; AFEW: −1
==============  =======  ==========================================================

The file starts with ``#`` comment lines: format version, builder version, dataset,
source parameters (SynthFER's configuration, as JSON), fold settings and
``rows_sha256``, the SHA-256 of the CSV text that follows (header row included).
:func:`load_manifest` verifies all of it; see ``data_manifests/README.md``.

Builders read the **distribution layouts** (:func:`read_ckplus`, :func:`read_afew`);
SynthFER is generated in those layouts and read by the same functions. Every
problem with the input raises :class:`ManifestError` naming the file and the fix,
and nothing is written unless the whole manifest was built; input that is used but
looks suspect (stray files in a frame folder, a video that decodes to fewer frames
than its container announces) is reported with a :class:`ManifestWarning`.

Rows are named in messages as ``CSV line N``: the line of the CSV part of the file,
counting its column-header row as line 1 (the ``#`` lines above it are not counted),
so the first sequence is CSV line 2.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import re
import struct
import sys
import warnings
from pathlib import Path, PurePosixPath
from typing import Any, Iterable

import cv2
import numpy as np
import pandas as pd

from ..files import write_text
from . import synthfer as sf
from .labels import AFEW_CLASSES, AFEW_FOLDERS, CKPLUS_CLASSES, CKPLUS_CODES, classes_of
from .paths import data_root, manifest_dir

__all__ = [
    "MANIFEST_COLUMNS",
    "BUILDER_VERSION",
    "ManifestError",
    "ManifestWarning",
    "CKPLUS_FRAME_RE",
    "ckplus_frame_files",
    "load_manifest",
    "save_manifest",
    "validate_manifest",
    "manifest_checksum",
    "read_ckplus",
    "read_afew",
    "assign_folds",
    "balanced_test",
    "build_manifest",
    "planned_manifest",
    "synthfer_params",
    "profile_manifest_path",
    "write_profile_manifests",
    "open_dataset",
    "resolve_path",
]

#: Column order of every manifest.
MANIFEST_COLUMNS: tuple[str, ...] = (
    "dataset", "subject", "sequence_id", "label", "label_index", "path", "n_frames", "split", "fold",
)
_INT_COLS = ("label_index", "n_frames", "fold")
#: Version of the manifest builders; bumped when the rows a builder emits change.
BUILDER_VERSION = "1.0.0"
_FORMAT = "smate-nb manifest v1"
_SPLITS = {"cv", "train", "val", "test"}
DATASETS = ("ckplus", "afew", "synthfer-lab", "synthfer-wild")


class ManifestError(ValueError):
    """Bad dataset input or a bad manifest; the message names the file and the fix."""


class ManifestWarning(UserWarning):
    """Dataset input that is used but looks suspect; the message names the files."""


def _csv_line(position: int) -> str:
    """How messages name the row at 0-based ``position``: the CSV header row is line 1."""
    return f"CSV line {position + 2}"


def _check_out(path: str | os.PathLike) -> Path:
    """Refuse a manifest destination that cannot be written, before any work is done."""
    p = Path(path)
    if p.is_dir():
        raise ManifestError(f"manifest destination {p} is a folder; pass a file name such as "
                            f"{p / 'manifest.csv'} (--out FILE)")
    parent = p.parent
    if not parent.is_dir():
        what = "is a file, not a folder" if parent.exists() else "does not exist"
        raise ManifestError(f"cannot write the manifest {p}: the folder {parent} {what}; create it first "
                            f"(mkdir -p {parent}) or choose another --out")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ManifestError(f"cannot write the manifest {p}: no write permission in {parent}; choose another --out")
    return p


# ----------------------------------------------------------------------------------------------
# Reading, writing and validating manifest files
# ----------------------------------------------------------------------------------------------

def _csv_body(df: pd.DataFrame) -> str:
    out = df.loc[:, list(MANIFEST_COLUMNS)].copy()
    for c in _INT_COLS:
        out[c] = out[c].astype("int64")
    return out.to_csv(index=False, lineterminator="\n")


def manifest_checksum(df: pd.DataFrame) -> str:
    """SHA-256 (hex) of the manifest's CSV text (header row + rows) as :func:`save_manifest` writes it."""
    return hashlib.sha256(_csv_body(df).encode("utf-8")).hexdigest()


def save_manifest(df: pd.DataFrame, path: str | os.PathLike, meta: dict[str, Any] | None = None) -> Path:
    """Validate ``df`` and write it atomically as a manifest file with its header comments.

    Args:
        df: rows with exactly :data:`MANIFEST_COLUMNS`.
        path: destination ``.csv``.
        meta: extra header entries (``df.attrs["meta"]`` if omitted); values are written as
            one-line JSON.

    Returns the path written.

    Raises:
        ManifestError: invalid rows, or a destination that is a folder or lies in a
            folder that does not exist (nothing is written).
    """
    _check_out(path)
    validate_manifest(df, source="<DataFrame to save>")
    meta = dict(df.attrs.get("meta", {}) if meta is None else meta)
    body = _csv_body(df)
    lines = [f"# {_FORMAT}", f"# builder: smate_nb.data.manifest {BUILDER_VERSION}",
             f"# dataset: {df['dataset'].iloc[0]}"]
    for k in sorted(meta):
        if k in ("builder", "dataset", "rows_sha256", "format"):
            continue
        lines.append(f"# {k}: {json.dumps(meta[k], sort_keys=True)}")
    lines.append(f"# rows_sha256: {hashlib.sha256(body.encode('utf-8')).hexdigest()}")
    return write_text(path, "\n".join(lines) + "\n" + body)


def _parse(text: str, source: str) -> tuple[dict[str, Any], str]:
    meta: dict[str, Any] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines) and lines[i].startswith("#"):
        line = lines[i][1:].strip()
        if ":" in line:
            k, v = line.split(":", 1)
            v = v.strip()
            if k in ("builder", "dataset", "rows_sha256"):
                meta[k] = v
            else:
                try:
                    meta[k] = json.loads(v)
                except json.JSONDecodeError:
                    meta[k] = v
        elif line:
            meta["format"] = line
        i += 1
    return meta, "\n".join(lines[i:])


def load_manifest(path: str | os.PathLike, *, verify: bool = True) -> pd.DataFrame:
    """Read and validate a manifest file; return its rows as a DataFrame.

    Args:
        path: a manifest written by :func:`save_manifest` / :func:`build_manifest`.
        verify: check ``rows_sha256`` against the rows (set False to load a manifest you
            edited by hand; then re-save it with :func:`save_manifest`).

    Returns:
        DataFrame with :data:`MANIFEST_COLUMNS` (``label_index``, ``n_frames``, ``fold``
        int64; the rest str) and ``df.attrs["meta"]`` holding the header entries.

    Raises:
        ManifestError: missing file, missing or extra columns, bad values, duplicate
            sequence ids, paths escaping the data root, checksum mismatch.
    """
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"manifest {path} does not exist; build it with {_build_command(path)} "
                            "(see data_manifests/README.md)")
    text = path.read_text(encoding="utf-8-sig")   # -sig: a byte-order mark, as spreadsheets write, is dropped
    meta, body = _parse(text, str(path))
    if not body.strip():
        raise ManifestError(f"manifest {path} has no CSV header or rows; rebuild it")
    header = body.split("\n", 1)[0].split(",")
    missing = [c for c in MANIFEST_COLUMNS if c not in header]
    extra = [c for c in header if c not in MANIFEST_COLUMNS]
    if missing or extra:
        raise ManifestError(
            f"manifest {path}: columns must be exactly {list(MANIFEST_COLUMNS)}; "
            f"missing {missing}, extra {extra}. Rebuild it with build_manifest, or fix the header row "
            "(see data_manifests/README.md for the schema)")
    df = pd.read_csv(io.StringIO(body), dtype=str, keep_default_na=False)
    df = df.loc[:, list(MANIFEST_COLUMNS)]
    for c in _INT_COLS:
        bad = ~df[c].str.fullmatch(r"-?\d+")
        if bad.any():
            r = int(np.flatnonzero(bad.to_numpy())[0])
            raise ManifestError(f"manifest {path}, {_csv_line(r)}: column {c!r} must be an integer, got "
                                f"{df[c].iloc[r]!r}; fix the row or rebuild the manifest")
        df[c] = df[c].astype("int64")
    validate_manifest(df, source=str(path))
    if verify:
        want = meta.get("rows_sha256")
        have = manifest_checksum(df)
        if want is None:
            raise ManifestError(f"manifest {path} has no '# rows_sha256:' header line; re-save it with "
                                "save_manifest(load_manifest(path, verify=False), path)")
        if want != have:
            raise ManifestError(
                f"manifest {path}: rows do not match their checksum (rows_sha256 {want[:12]}…, rows "
                f"{have[:12]}…): the file was edited or truncated. Rebuild it, or if you edited it on "
                "purpose, re-save it with save_manifest(load_manifest(path, verify=False), path)")
    if meta.get("dataset") and meta["dataset"] != df["dataset"].iloc[0]:
        raise ManifestError(f"manifest {path}: header says dataset {meta['dataset']!r} but rows say "
                            f"{df['dataset'].iloc[0]!r}; rebuild the manifest")
    df.attrs["meta"] = meta
    df.attrs["source"] = str(path)
    return df


def _build_command(path: Path) -> str:
    """The command that (re)builds the manifest at ``path``, guessed from its name."""
    name = path.name
    if name.startswith("synthfer-"):
        profile = name.rsplit("_", 1)[-1].removesuffix(".csv") if "_" in name else "smoke|cpu"
        return f"`python -m smate_nb.data.manifest synthfer --profile {profile}`"
    dataset = next((d for d in ("ckplus", "afew") if d in name.lower()), "ckplus|afew")
    return f"`python -m smate_nb.data.manifest {dataset} /path/to/{dataset.split('|')[0]} --out {path}`"


def _check_relpath(p: str, source: str, row: int | None) -> None:
    pp = PurePosixPath(p)
    if (not p or p.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", p) or "\\" in p
            or any(part == ".." for part in pp.parts)):
        where = source if row is None else f"{source}, {_csv_line(row)}"
        raise ManifestError(
            f"{where}: path {p!r} escapes the data root (absolute, '..' or backslash); "
            "manifest paths must be relative to the dataset root with '/' separators; rebuild the manifest")


def validate_manifest(df: pd.DataFrame, source: str = "<DataFrame>") -> None:
    """Check schema and values of a manifest DataFrame; raise :class:`ManifestError` on the first problem.

    A bad row is named by its CSV line (position + 2: the header row is line 1), which is
    its line in the file when ``df`` holds a whole manifest in file order.
    """
    cols = list(df.columns)
    missing = [c for c in MANIFEST_COLUMNS if c not in cols]
    extra = [c for c in cols if c not in MANIFEST_COLUMNS]
    if missing or extra:
        raise ManifestError(f"{source}: columns must be exactly {list(MANIFEST_COLUMNS)}; missing {missing}, "
                            f"extra {extra}")
    if len(df) == 0:
        raise ManifestError(f"{source}: the manifest has no rows; check the dataset root it was built from")
    datasets = sorted(set(df["dataset"]))
    if len(datasets) != 1 or datasets[0] not in DATASETS:
        raise ManifestError(f"{source}: column 'dataset' must hold one of {list(DATASETS)} on every row, got "
                            f"{datasets}; one manifest per dataset")
    classes = classes_of(datasets[0])
    dup = df["sequence_id"][df["sequence_id"].duplicated()]
    if len(dup):
        raise ManifestError(f"{source}: duplicate sequence ids {sorted(set(dup))[:5]}; every sequence must appear "
                            "once (AFEW: the same clip name in two emotion folders of one split?)")
    for r, (lab, idx, n, split, fold, p, subj) in enumerate(zip(
            df["label"], df["label_index"], df["n_frames"], df["split"], df["fold"], df["path"], df["subject"])):
        if lab not in classes:
            raise ManifestError(f"{source}, {_csv_line(r)}: label {lab!r} is not a {datasets[0]} class "
                                f"{list(classes)}")
        if int(idx) != classes.index(lab):
            raise ManifestError(f"{source}, {_csv_line(r)}: label_index {idx} does not match label {lab!r} "
                                f"(expected {classes.index(lab)}); rebuild the manifest")
        if int(n) < 1:
            raise ManifestError(f"{source}, {_csv_line(r)}: n_frames must be ≥ 1, got {n}")
        if split not in _SPLITS:
            raise ManifestError(f"{source}, {_csv_line(r)}: split {split!r} must be one of {sorted(_SPLITS)}")
        if int(fold) < -1:
            raise ManifestError(f"{source}, {_csv_line(r)}: fold must be ≥ -1, got {fold}")
        if not subj:
            raise ManifestError(f"{source}, {_csv_line(r)}: empty subject")
        _check_relpath(p, source, r)


def resolve_path(root: str | os.PathLike, rel: str) -> Path:
    """``root / rel`` after checking that ``rel`` stays inside ``root`` (also through symlinks
    that point outside). Raises :class:`ManifestError` naming both."""
    _check_relpath(rel, f"path under {root}", None)
    root_r = Path(root).resolve()
    full = (Path(root) / rel)
    try:
        full.resolve().relative_to(root_r)
    except ValueError:
        raise ManifestError(f"{full} resolves outside the data root {root_r}; manifest paths must stay inside "
                            "the dataset root (remove the symlink or copy the data in)") from None
    return full


# ----------------------------------------------------------------------------------------------
# Reading the distribution layouts
# ----------------------------------------------------------------------------------------------

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_size(f: Path) -> tuple[int, int]:
    """``(width, height)`` from a PNG file's header (no decoding)."""
    with open(f, "rb") as fh:
        head = fh.read(24)
    if len(head) == 0:
        raise ManifestError(f"image {f} is empty (0 bytes); re-extract it from the original archive")
    if len(head) < 24 or head[:8] != _PNG_SIGNATURE or head[12:16] != b"IHDR":
        raise ManifestError(f"image {f} cannot be decoded as PNG (corrupt, or another format under a .png name; "
                            "CK+ frames are PNG); re-extract it from the original archive or delete the "
                            "sequence's emotion file to drop the sequence")
    return struct.unpack(">II", head[16:24])


def _check_image(f: Path) -> tuple[int, int]:
    """Decode ``f`` fully; return its ``(width, height)``."""
    w, h = _png_size(f)
    img = cv2.imread(str(f), cv2.IMREAD_UNCHANGED)
    if img is None or img.size == 0:
        raise ManifestError(f"image {f} cannot be decoded (corrupt or not an image); re-extract it from the "
                            "original archive or delete the sequence's emotion file to drop the sequence")
    return w, h


def count_video_frames(f: Path) -> int:
    """Decode ``f`` with OpenCV and count its frames (container frame counts are unreliable).

    When fewer frames decode than the container announces (``CAP_PROP_FRAME_COUNT``) — a
    truncated or damaged file looks like a short clip — a :class:`ManifestWarning` names
    the file and both counts; the decoded count is the one used.
    """
    if f.stat().st_size == 0:
        raise ManifestError(f"video {f} is empty (0 bytes); re-extract it from the original archive")
    cap = cv2.VideoCapture(str(f))
    try:
        if not cap.isOpened():
            raise ManifestError(f"video {f} cannot be opened by OpenCV/FFmpeg (corrupt or unsupported codec); "
                                "re-extract it, or convert it with `ffmpeg -i in.avi -c:v ffv1 out.avi`")
        announced = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        n = 0
        while True:
            ok = cap.grab()
            if not ok:
                break
            n += 1
    finally:
        cap.release()
    if n == 0:
        raise ManifestError(f"video {f} has no decodable frames (corrupt?); re-extract it from the original archive")
    if n < announced:
        warnings.warn(f"video {f}: {n} frames decode but its container announces {announced}; the file may be "
                      "truncated or damaged (it is listed with the decoded count, as a short clip). Re-extract it "
                      "from the original archive if it should be longer", ManifestWarning, stacklevel=2)
    return n


#: A CK+ frame file name: ``<subject>_<sequence>_<8-digit frame number>.png`` (``S005_001_00000001.png``).
#: CK+ ships PNG frames; the manifest builder and the clip loader accept only these names.
CKPLUS_FRAME_RE = re.compile(r"^([A-Za-z0-9]+_\d+)_(\d{8})\.png$", re.IGNORECASE)
_IMAGE_EXT = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}


def ckplus_frame_files(folder: str | os.PathLike) -> tuple[list[Path], list[Path]]:
    """The frames of a CK+-style frame folder, and the other entries in it.

    Returns:
        ``(frames, others)``: ``frames`` are the files named like
        ``S005_001_00000001.png`` (:data:`CKPLUS_FRAME_RE`), in frame order; ``others``
        every other entry not starting with ``.`` (``thumb.png``, ``… (copy).png``),
        sorted — they are not frames.

    Raises:
        ManifestError: a frame-named image that is not PNG (``S005_001_00000002.jpg``: CK+
            frames are PNG, convert it), or frames of more than one sequence in the folder.
    """
    folder = Path(folder)
    frames, others = [], []
    for p in sorted(folder.iterdir()):
        if p.name.startswith("."):
            continue
        if p.is_file() and CKPLUS_FRAME_RE.match(p.name):
            frames.append(p)
        elif p.is_file() and p.suffix.lower() in _IMAGE_EXT - {".png"} and CKPLUS_FRAME_RE.match(p.stem + ".png"):
            raise ManifestError(f"frame {p} is {p.suffix.lower()[1:].upper()}, but CK+ frames are PNG; convert it "
                                f"(e.g. with OpenCV: cv2.imwrite('{p.stem}.png', cv2.imread('{p.name}'))) and remove "
                                "the original, or re-extract the sequence")
        else:
            others.append(p)
    keys = sorted({CKPLUS_FRAME_RE.match(p.name).group(1) for p in frames})
    if len(keys) > 1:
        raise ManifestError(f"frame folder {folder} holds frames of {len(keys)} sequences ({', '.join(keys)}); "
                            "a folder holds one sequence — move the others to their own folders")
    return frames, others


def read_ckplus(root: str | os.PathLike, *, dataset: str = "ckplus", verify_media: str = "full",
                progress: bool = False) -> pd.DataFrame:
    """Labelled sequences of a CK+ distribution (or SynthFER lab) folder.

    Layout (as unpacked from ``extended-cohn-kanade-images.zip`` and ``Emotion_labels.zip``)::

        <root>/cohn-kanade-images/S005/001/S005_001_00000001.png …
        <root>/Emotion/S005/001/S005_001_00000011_emotion.txt    ("   3.0000000e+00")

    Sequences whose ``Emotion`` folder is empty or absent are unlabelled and skipped
    (CK+: 593 sequences, 327 labelled). The label is the CK+ code 1..7 of the peak frame;
    an emotion file must be named for its own sequence (``S005_001_…_emotion.txt`` in
    ``Emotion/S005/001``).

    Frames are the PNG files named ``<subject>_<sequence>_<8-digit number>.png``
    (:func:`ckplus_frame_files`), in frame order, so the last one is the peak. Other
    entries of a frame folder (``thumb.png``, ``… (copy).png``) are not frames: they are
    listed in a :class:`ManifestWarning` and left out. A frame-named JPEG is an error (CK+
    frames are PNG; the clip loader reads only PNG too), and so are frames of different
    sizes in one sequence.

    Args:
        root: the folder holding ``cohn-kanade-images/`` and ``Emotion/``.
        dataset: value of the ``dataset`` column.
        verify_media: ``"full"`` decodes every frame, ``"first"`` only the first of each
            sequence, ``"none"`` none; every mode reads each frame's PNG header (format
            and size).
        progress: show a tqdm bar.

    Returns:
        rows with :data:`MANIFEST_COLUMNS` (``split="cv"``, ``fold=-1``), sorted by sequence id.
    """
    root = Path(root)
    if not root.is_dir():
        raise ManifestError(f"CK+ root {root} does not exist; pass the folder that holds cohn-kanade-images/ and "
                            "Emotion/ (unpack extended-cohn-kanade-images.zip and Emotion_labels.zip there)")
    img_root, emo_root = root / "cohn-kanade-images", root / "Emotion"
    for d, what in ((img_root, "extended-cohn-kanade-images.zip"), (emo_root, "Emotion_labels.zip")):
        if not d.is_dir():
            raise ManifestError(f"CK+ folder {d} is missing; unpack {what} into {root} so that {d.name}/ sits "
                                "directly under the root")
    rows = []
    emo_files = sorted(emo_root.glob("*/*/*_emotion.txt"))
    by_seq: dict[tuple[str, str], list[Path]] = {}
    for f in emo_files:
        by_seq.setdefault((f.parent.parent.name, f.parent.name), []).append(f)
    from tqdm.auto import tqdm

    for (subj, seq), files in tqdm(sorted(by_seq.items()), desc=f"reading {root.name}", unit="seq",
                                   disable=not progress):
        if len(files) > 1:
            raise ManifestError(f"sequence {subj}/{seq} has {len(files)} emotion files in {files[0].parent} "
                                f"({[f.name for f in files]}): duplicate sequence labels; keep the one for the "
                                "last frame and delete the others")
        f = files[0]
        if not re.fullmatch(rf"{re.escape(subj)}_{re.escape(seq)}_\d{{8}}_emotion\.txt", f.name):
            raise ManifestError(f"emotion file {f} is not named for sequence {subj}/{seq} (expected "
                                f"{subj}_{seq}_<8-digit frame>_emotion.txt): a label copied from another sequence? "
                                "Move it to its own sequence's Emotion folder or delete it")
        try:
            raw = f.read_text(encoding="ascii", errors="strict").strip()
            val = float(raw)
        except (UnicodeDecodeError, ValueError):
            raise ManifestError(f"emotion file {f} does not hold a number (got {f.read_bytes()[:40]!r}); "
                                "it must hold one CK+ code 1..7 like '   3.0000000e+00'") from None
        if not val.is_integer() or int(val) not in CKPLUS_CODES:
            raise ManifestError(f"emotion file {f} holds code {raw!r}; CK+ codes are 1..7 "
                                f"({', '.join(f'{k}={v}' for k, v in CKPLUS_CODES.items())}); fix or delete the file")
        label = CKPLUS_CODES[int(val)]
        folder = img_root / subj / seq
        if not folder.is_dir():
            raise ManifestError(f"sequence {subj}/{seq} is labelled by {f} but its frame folder {folder} is missing; "
                                "re-extract the images or delete the emotion file to drop the sequence")
        frames, others = ckplus_frame_files(folder)
        expected = f"{subj}_{seq}_<8-digit frame>.png, e.g. {subj}_{seq}_00000001.png"
        if not frames:
            found = f" (it holds {_some_names(others)}, none named {expected})" if others else ""
            raise ManifestError(f"sequence {subj}/{seq}: frame folder {folder} holds no .png frames{found}; "
                                "re-extract the images or delete the emotion file to drop the sequence")
        key = CKPLUS_FRAME_RE.match(frames[0].name).group(1)
        if key != f"{subj}_{seq}":
            raise ManifestError(f"sequence {subj}/{seq}: the frames in {folder} are named for sequence {key} "
                                f"({frames[0].name}); expected {expected} — re-extract the sequence")
        if others:
            warnings.warn(f"sequence {subj}/{seq}: {len(others)} entries in {folder} are not frames (frames are "
                          f"named {expected}) and are left out: {_some_names(others)}; remove them to silence "
                          "this warning", ManifestWarning, stacklevel=2)
        if verify_media not in ("full", "first", "none"):
            raise ValueError(f"verify_media must be 'full', 'first' or 'none', got {verify_media!r}")
        # every mode checks that the frames are PNG of one size (from the PNG headers); "full" and
        # "first" also decode every frame / the first one
        sizes = [_check_image(fr) if verify_media == "full" or (verify_media == "first" and j == 0)
                 else _png_size(fr) for j, fr in enumerate(frames)]
        odd = next((j for j, wh in enumerate(sizes) if wh != sizes[0]), None)
        if odd is not None:
            raise ManifestError(f"sequence {subj}/{seq}: frame {frames[odd]} is {sizes[odd][0]}×{sizes[odd][1]} but "
                                f"{frames[0].name} is {sizes[0][0]}×{sizes[0][1]}; all frames of a sequence must have "
                                "one size — re-extract the sequence or delete its emotion file to drop it")
        rows.append({
            "dataset": dataset, "subject": subj, "sequence_id": f"{subj}/{seq}", "label": label,
            "label_index": CKPLUS_CLASSES.index(label),
            "path": f"cohn-kanade-images/{subj}/{seq}", "n_frames": len(frames), "split": "cv", "fold": -1,
        })
    if not rows:
        raise ManifestError(f"no labelled sequence under {emo_root} (expected Emotion/Sxxx/nnn/*_emotion.txt); "
                            "check that Emotion_labels.zip was unpacked into the root")
    return pd.DataFrame(rows, columns=list(MANIFEST_COLUMNS))


def _some_names(paths: list[Path], n: int = 8) -> str:
    more = f" … and {len(paths) - n} more" if len(paths) > n else ""
    return ", ".join(repr(p.name) for p in paths[:n]) + more


_AFEW_SPLITS = {"Train": ("Train", "Train_AFEW"), "Val": ("Val", "Val_AFEW")}
_VIDEO_EXT = {".avi", ".mp4", ".mkv", ".mov", ".webm", ".mpg", ".mpeg"}
_SUBJECT_RE = re.compile(r"^(S\d{3,})_\d+$")


def read_afew(root: str | os.PathLike, *, dataset: str = "afew", verify_media: str = "full",
              progress: bool = False) -> pd.DataFrame:
    """Clips of an AFEW distribution (or SynthFER wild) folder.

    Layout::

        <root>/Train/<Emotion>/<clip>.avi      <root>/Val/<Emotion>/<clip>.avi

    (``Train_AFEW`` / ``Val_AFEW`` are accepted too). ``<Emotion>`` is one of Angry,
    Disgust, Fear, Happy, Neutral, Sad, Surprise (case-insensitive). Hidden files and
    non-video files are ignored.

    Subjects: AFEW does not publish actor ids. A clip named ``S012_004`` (SynthFER) has
    subject ``S012``; any other clip is its own subject (``Train/000046280``), the
    conservative choice. Train and Val come from different films.

    ``n_frames`` is counted by decoding (container headers are unreliable); with
    ``verify_media="none"`` it is read from the container instead.

    Returns rows with ``split`` ``train``/``val``, ``fold=-1``, sorted by sequence id.
    """
    root = Path(root)
    if not root.is_dir():
        raise ManifestError(f"AFEW root {root} does not exist; pass the folder that holds Train/ and Val/ "
                            "(each with one folder per emotion)")
    rows = []
    valid = {k.lower(): k for k in AFEW_FOLDERS}
    from tqdm.auto import tqdm

    for split, names in _AFEW_SPLITS.items():
        sdir = next((root / n for n in names if (root / n).is_dir()), None)
        if sdir is None:
            raise ManifestError(f"AFEW folder {root / split} is missing (also tried {names[1]}); the root must hold "
                                "Train/ and Val/, each with Angry/ Disgust/ Fear/ Happy/ Neutral/ Sad/ Surprise/")
        seen: dict[str, Path] = {}
        for edir in sorted(p for p in sdir.iterdir() if p.is_dir() and not p.name.startswith(".")):
            key = valid.get(edir.name.lower())
            if key is None:
                raise ManifestError(f"AFEW emotion folder {edir} has an unknown name {edir.name!r}; expected one "
                                    f"of {sorted(AFEW_FOLDERS)}; rename or remove it")
            label = AFEW_FOLDERS[key]
            clips = sorted(p for p in edir.iterdir() if p.suffix.lower() in _VIDEO_EXT and not p.name.startswith("."))
            for clip in tqdm(clips, desc=f"{split}/{edir.name}", unit="clip", disable=not progress, leave=False):
                sid = f"{split}/{clip.stem}"
                if sid in seen:
                    raise ManifestError(f"duplicate sequence id {sid!r}: {seen[sid]} and {clip}; a clip name must "
                                        "appear once per split, remove the wrong copy")
                seen[sid] = clip
                if verify_media == "none":
                    cap = cv2.VideoCapture(str(clip))
                    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if cap.isOpened() else 0
                    cap.release()
                    if n <= 0:
                        raise ManifestError(f"video {clip} cannot be opened or reports no frames; re-extract it")
                elif verify_media in ("full", "first"):
                    n = count_video_frames(clip)
                else:
                    raise ValueError(f"verify_media must be 'full', 'first' or 'none', got {verify_media!r}")
                m = _SUBJECT_RE.match(clip.stem)
                rows.append({
                    "dataset": dataset, "subject": m.group(1) if m else sid, "sequence_id": sid, "label": label,
                    "label_index": AFEW_CLASSES.index(label),
                    "path": clip.relative_to(root).as_posix(), "n_frames": n, "split": split.lower(), "fold": -1,
                })
    if not rows:
        raise ManifestError(f"no video clips under {root}/Train or {root}/Val; check the unpacked layout")
    df = pd.DataFrame(rows, columns=list(MANIFEST_COLUMNS))
    return df.sort_values("sequence_id", kind="stable").reset_index(drop=True)


# ----------------------------------------------------------------------------------------------
# Folds and the balanced AFEW test subset
# ----------------------------------------------------------------------------------------------

def assign_folds(df: pd.DataFrame, k: int = 10, seed: int = 0) -> pd.Series:
    """Deterministic, subject-independent, class-stratified k-fold assignment.

    Every subject's sequences land in one fold. Subjects are visited in a seeded random
    order (larger subjects first) and each goes to the fold that keeps per-class counts
    and fold sizes closest to 1/k of the totals. The cost is integer arithmetic, so the
    assignment is identical on every machine.

    Returns a Series of fold numbers (0..k-1) aligned with ``df.index``.
    """
    subjects = sorted(set(df["subject"]))
    if k < 2:
        raise ManifestError(f"folds must be ≥ 2, got {k}")
    if len(subjects) < k:
        raise ManifestError(f"{k}-fold subject-independent splitting needs ≥ {k} subjects, the manifest has "
                            f"{len(subjects)}; use fewer folds")
    C = int(df["label_index"].max()) + 1
    per = {s: np.zeros(C, np.int64) for s in subjects}
    for s, li in zip(df["subject"], df["label_index"]):
        per[s][int(li)] += 1
    total_c = np.zeros(C, np.int64)
    for v in per.values():
        total_c += v
    total = int(total_c.sum())
    rng = np.random.default_rng(np.random.SeedSequence([seed, 7411]))
    shuffled = [subjects[int(i)] for i in rng.permutation(len(subjects))]
    order = sorted(shuffled, key=lambda s: -int(per[s].sum()))  # stable: ties keep the seeded order
    counts = np.zeros((k, C), np.int64)
    sizes = np.zeros(k, np.int64)
    fold_of: dict[str, int] = {}
    for s in order:
        add = per[s]
        best, best_key = 0, None
        for f in range(k):
            before = k * counts[f] - total_c
            after = before + k * add
            d_cls = int((after * after).sum() - (before * before).sum())
            sb = k * int(sizes[f]) - total
            sa = sb + k * int(add.sum())
            d_size = sa * sa - sb * sb
            key = (d_cls + C * d_size, int(sizes[f]), f)
            if best_key is None or key < best_key:
                best, best_key = f, key
        fold_of[s] = best
        counts[best] += add
        sizes[best] += int(add.sum())
    return pd.Series([fold_of[s] for s in df["subject"]], index=df.index, name="fold", dtype="int64")


def _quotas(n: int, classes: Iterable[str]) -> dict[str, int]:
    cl = list(classes)
    base, r = divmod(n, len(cl))
    return {c: base + (1 if i < r else 0) for i, c in enumerate(cl)}


def _check_test_size(n: Any, classes: Iterable[str]) -> None:
    """A balanced test set holds at least one clip of every class: ``n ≥ C`` (or ``None``)."""
    c = len(list(classes))
    if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < c):
        raise ManifestError(f"test size {n!r} is not possible: a class-balanced test set needs an integer ≥ {c} "
                            f"(at least one clip of each of the {c} classes; the paper uses 130). Pass "
                            f"--test-size N with N ≥ {c} (test_size=N in Python)")


def _largest_balanced(have: dict[str, int], classes: Iterable[str], cap: int) -> int:
    """The largest ``n ≤ cap`` whose quotas the per-class counts ``have`` allow (0 if none)."""
    n = cap
    while n > 0 and any(have[c] < q for c, q in _quotas(n, classes).items()):
        n -= 1
    return n


def balanced_test(df: pd.DataFrame, n: int | None = 130, seed: int = 0, split: str = "val") -> pd.DataFrame:
    """The paper's class-balanced test subset (§4.1.1: 130 clips drawn from AFEW Val).

    ``n // C`` clips per class (the first ``n % C`` classes, in label-index order, get one
    more), each class's clips drawn by a seeded permutation of its rows sorted by
    sequence id, so the subset is deterministic. ``n=None`` takes the largest such ``n ≤ 130``
    that the ``split`` rows allow. ``n`` must be at least the number of classes ``C``.

    Returns the selected rows (a copy, original index kept, sorted by sequence id).
    Raises :class:`ManifestError` for an ``n`` below ``C``, or naming the short classes
    and the largest possible ``n`` if ``n`` is not possible.
    """
    pool = df[df["split"] == split]
    classes = classes_of(df["dataset"].iloc[0]) if len(df) else AFEW_CLASSES
    _check_test_size(n, classes)
    have = {c: int((pool["label"] == c).sum()) for c in classes}
    if n is None:
        n = _largest_balanced(have, classes, 130)
        if n < len(classes):
            raise ManifestError(f"no balanced test subset possible: {split!r} rows per class {have}; every class "
                                "needs at least one clip")
    quota = _quotas(n, classes)
    short = {c: (have[c], q) for c, q in quota.items() if have[c] < q}
    if short:
        best = _largest_balanced(have, classes, n)
        fix = (f"the largest possible here is {best}: pass --test-size {best} (test_size={best} in Python; "
               "balanced_test(df, n=None) picks it)" if best >= len(classes)
               else "every class needs at least one clip there; add the missing classes' clips")
        raise ManifestError(f"cannot draw a balanced test set of {n} from split {split!r}: classes "
                            f"{ {c: f'{h} < {q}' for c, (h, q) in short.items()} }; {fix}")
    picked = []
    for i, c in enumerate(classes):
        rows = pool[pool["label"] == c].sort_values("sequence_id", kind="stable")
        rng = np.random.default_rng(np.random.SeedSequence([seed, 1300, i]))
        idx = rng.permutation(len(rows))[: quota[c]]
        picked.append(rows.iloc[np.sort(idx)])
    out = pd.concat(picked).sort_values("sequence_id", kind="stable")
    return out.copy()


# ----------------------------------------------------------------------------------------------
# Builders
# ----------------------------------------------------------------------------------------------

def _finish_ckplus(df: pd.DataFrame, folds: int, fold_seed: int) -> pd.DataFrame:
    df = df.sort_values("sequence_id", kind="stable").reset_index(drop=True)
    df["fold"] = assign_folds(df, folds, fold_seed)
    return df


def _finish_afew(df: pd.DataFrame, test_size: int | None, test_seed: int) -> tuple[pd.DataFrame, int]:
    df = df.sort_values("sequence_id", kind="stable").reset_index(drop=True)
    test = balanced_test(df, test_size, test_seed)
    df.loc[test.index, "split"] = "test"
    return df, len(test)


def synthfer_params(dataset: str, profile: Any) -> dict[str, Any]:
    """SynthFER generation parameters of a profile for ``dataset`` (``synthfer-lab``/``-wild``)."""
    return {"subjects": profile.data.subjects, "seed": profile.data.seed, "image_size": profile.data.image_size}


def _source_meta(cfg: sf.SynthFERConfig) -> dict[str, Any]:
    return {"synthfer": cfg.to_dict(), "generator_version": sf.GENERATOR_VERSION, "dirname": sf.dataset_dirname(cfg)}


def planned_manifest(dataset: str, *, subjects: int, seed: int = 0, image_size: int = 112, folds: int = 10,
                     fold_seed: int = 0, test_size: int | None = None, test_seed: int = 0,
                     **knobs: Any) -> pd.DataFrame:
    """The manifest a SynthFER dataset **will** have, from its plan alone (no pixels).

    Used to check the committed manifests quickly and to check that a generated dataset
    on disk is the one a manifest describes; the disk-read manifest must equal it byte
    for byte (tested).
    """
    variant = _variant(dataset)
    cfg = sf.make_config(variant, subjects=subjects, seed=seed, image_size=image_size, **knobs)
    rows = []
    for s in sf.plan(cfg):
        if s.label is None:
            continue
        if variant == "lab":
            sid = f"{s.subject_id}/{s.number:03d}"
            split, li = "cv", CKPLUS_CLASSES.index(s.label)
        else:
            sid = f"{s.split}/{s.key}"
            split, li = s.split.lower(), AFEW_CLASSES.index(s.label)
        rows.append({"dataset": dataset, "subject": s.subject_id, "sequence_id": sid, "label": s.label,
                     "label_index": li, "path": s.relpath(variant), "n_frames": s.n_frames, "split": split,
                     "fold": -1})
    df = pd.DataFrame(rows, columns=list(MANIFEST_COLUMNS))
    return _assemble(dataset, df, cfg, folds, fold_seed, test_size, test_seed)


def _assemble(dataset: str, df: pd.DataFrame, cfg: sf.SynthFERConfig | None, folds: int, fold_seed: int,
              test_size: int | None, test_seed: int) -> pd.DataFrame:
    meta: dict[str, Any] = {}
    if dataset in ("ckplus", "synthfer-lab"):
        df = _finish_ckplus(df, folds, fold_seed)
        meta["folds"] = {"k": folds, "seed": fold_seed, "subject_independent": True}
    else:
        df, n = _finish_afew(df, test_size, test_seed)
        meta["test"] = {"n": n, "seed": test_seed, "from": "val", "balanced": True}
    if cfg is not None:
        meta["source"] = _source_meta(cfg)
    df.attrs["meta"] = meta
    return df


def _variant(dataset: str) -> str:
    if dataset == "synthfer-lab":
        return "lab"
    if dataset == "synthfer-wild":
        return "wild"
    raise ManifestError(f"{dataset!r} is not a SynthFER dataset ('synthfer-lab' or 'synthfer-wild')")


def build_manifest(dataset: str, root: str | os.PathLike | None = None, *, out: str | os.PathLike | None = None,
                   folds: int = 10, fold_seed: int = 0, test_size: int | None = 130, test_seed: int = 0,
                   verify_media: str = "full", progress: bool = True, **synthfer: Any) -> pd.DataFrame:
    """Build the manifest of a dataset from its distribution layout.

    Args:
        dataset: ``"ckplus"``, ``"afew"``, ``"synthfer-lab"`` or ``"synthfer-wild"``.
        root: dataset folder. Required for CK+/AFEW; for SynthFER, where to generate
            (``None`` → the data root's default folder for these parameters).
        out: if given, write the manifest there (atomically, only once everything passed).
        folds, fold_seed: CK+/lab: subject-independent k-fold (default 10, as usual on CK+).
        test_size, test_seed: AFEW/wild: size of the balanced test subset drawn from Val
            (the paper: 130). For SynthFER wild ``None`` or an impossible size falls back to
            the largest possible ≤ 130.
        verify_media: ``"full"`` (decode every frame), ``"first"`` or ``"none"``.
        progress: progress bars.
        **synthfer: SynthFER only: ``subjects``, ``seed``, ``image_size`` and knobs, passed to
            :func:`smate_nb.data.synthfer.generate` (the data is generated, or reused).

    Returns:
        The manifest DataFrame (``df.attrs["meta"]`` holds the header entries).
    """
    cfg = None
    if out is not None:
        _check_out(out)   # before any decoding: a bad destination must not cost a whole build
    if dataset in ("synthfer-lab", "synthfer-wild"):
        variant = _variant(dataset)
        if variant == "wild":
            _check_test_size(test_size, AFEW_CLASSES)
        cfg = sf.make_config(variant, **synthfer)
        root = sf.generate(variant, root, progress=progress, **synthfer)
        reader = read_ckplus if variant == "lab" else read_afew
        df = reader(root, dataset=dataset, verify_media=verify_media, progress=progress)
        if variant == "wild":
            pool = df[df["split"] == "val"]
            if test_size is None or any(int((pool["label"] == c).sum()) < q
                                        for c, q in _quotas(test_size, AFEW_CLASSES).items()):
                test_size = None
    elif dataset == "ckplus":
        if synthfer:
            raise TypeError(f"unexpected arguments for ckplus: {sorted(synthfer)}")
        if root is None:
            raise ManifestError("build_manifest('ckplus', root): root is required (the folder holding "
                                "cohn-kanade-images/ and Emotion/)")
        df = read_ckplus(root, verify_media=verify_media, progress=progress)
    elif dataset == "afew":
        if synthfer:
            raise TypeError(f"unexpected arguments for afew: {sorted(synthfer)}")
        if root is None:
            raise ManifestError("build_manifest('afew', root): root is required (the folder holding Train/ and Val/)")
        _check_test_size(test_size, AFEW_CLASSES)   # before decoding every clip
        df = read_afew(root, verify_media=verify_media, progress=progress)
    else:
        raise ManifestError(f"unknown dataset {dataset!r}; choose one of {list(DATASETS)}")
    df = _assemble(dataset, df, cfg, folds, fold_seed, test_size, test_seed)
    df.attrs["root"] = str(root)
    if out is not None:
        save_manifest(df, out)
    return df


# ----------------------------------------------------------------------------------------------
# Profiles: committed SynthFER manifests and dataset resolution
# ----------------------------------------------------------------------------------------------

def profile_manifest_path(dataset: str, profile: Any) -> Path:
    """Committed manifest of ``dataset`` for ``profile``.

    SynthFER: ``data_manifests/<dataset>_<profile>.csv`` (sizes differ per profile);
    CK+/AFEW: ``data_manifests/<dataset>.csv`` (built by the owner of the data).
    """
    d = manifest_dir(profile.data.manifest_dir)
    if dataset.startswith("synthfer-"):
        return d / f"{dataset}_{profile.name}.csv"
    return d / f"{dataset}.csv"


def _profile_kwargs(dataset: str, profile: Any) -> dict[str, Any]:
    kw = synthfer_params(dataset, profile)
    if dataset == "synthfer-lab":
        kw["folds"] = profile.data.folds
    return kw


def write_profile_manifests(profile: Any, *, generate: bool = True, progress: bool = True) -> list[Path]:
    """(Re)build the committed SynthFER manifests of a profile.

    With ``generate=True`` the data is generated (or reused) and read back through the
    CK+/AFEW readers; with ``False`` the manifests are predicted from the plan
    (:func:`planned_manifest`; identical bytes, tested).
    """
    written = []
    for dataset in (profile.data.lab, profile.data.wild):
        if not dataset.startswith("synthfer-"):
            continue
        kw = _profile_kwargs(dataset, profile)
        path = profile_manifest_path(dataset, profile)
        if generate:
            df = build_manifest(dataset, None, progress=progress, test_size=None, **kw)
        else:
            df = planned_manifest(dataset, **kw)
        save_manifest(df, path)
        written.append(path)
    return written


def _user_root(dataset: str, profile: Any) -> Path:
    env = os.environ.get({"ckplus": "SMATE_CKPLUS", "afew": "SMATE_AFEW"}[dataset])
    return Path(env).expanduser() if env else data_root(profile.data.data_root) / dataset


def open_dataset(profile: Any, which: str = "lab", *, progress: bool = True) -> tuple[pd.DataFrame, Path]:
    """Manifest and dataset root of a profile's ``lab`` or ``wild`` dataset, ready to load.

    SynthFER: loads the committed manifest, generates the data if it is not on disk yet
    (or reuses it) and checks that the manifest describes exactly that data (else the
    error names the command that rebuilds the manifest). CK+/AFEW: loads
    ``data_manifests/ckplus.csv`` / ``afew.csv`` and the root from ``$SMATE_CKPLUS`` /
    ``$SMATE_AFEW`` (default ``<data root>/ckplus`` / ``afew``).

    Returns:
        ``(manifest, root)``.
    """
    if which not in ("lab", "wild"):
        raise ValueError(f"which must be 'lab' or 'wild', got {which!r}")
    dataset = profile.data.lab if which == "lab" else profile.data.wild
    path = profile_manifest_path(dataset, profile)
    if dataset.startswith("synthfer-"):
        kw = _profile_kwargs(dataset, profile)
        folds = kw.pop("folds", 10)
        if path.is_file():
            df = load_manifest(path)
            src = df.attrs["meta"].get("source", {}).get("synthfer", {})
            knobs = {k: v for k, v in src.items() if k not in ("variant", "subjects", "seed", "image_size")}
            want = planned_manifest(dataset, folds=folds, **kw, **knobs)
            if manifest_checksum(want) != manifest_checksum(df) or src.get("subjects") != kw["subjects"]:
                raise ManifestError(
                    f"committed manifest {path} does not match SynthFER version {sf.GENERATOR_VERSION} with the "
                    f"{profile.name!r} profile's parameters {kw}; rebuild it with "
                    f"`python -m smate_nb.data.manifest synthfer --profile {profile.name}`")
        else:
            knobs = {}
            df = planned_manifest(dataset, folds=folds, **kw)
        root = sf.generate(_variant(dataset), None, progress=progress, **kw, **knobs)
        df.attrs["root"] = str(root)
        return df, root
    if not path.is_file():
        raise ManifestError(
            f"no manifest {path} for the licensed dataset {dataset!r}; build it from your copy with "
            f"`python -m smate_nb.data.manifest {dataset} /path/to/{dataset} --out {path}` (data_manifests/README.md)")
    df = load_manifest(path)
    root = _user_root(dataset, profile)
    if not root.is_dir():
        env = "SMATE_CKPLUS" if dataset == "ckplus" else "SMATE_AFEW"
        raise ManifestError(f"{dataset} root {root} does not exist; set {env}=/path/to/{dataset} or put the data "
                            "there")
    df.attrs["root"] = str(root)
    return df, root


# ----------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    """``python -m smate_nb.data.manifest {ckplus,afew} ROOT --out FILE`` or ``synthfer --profile NAME``."""
    ap = argparse.ArgumentParser(prog="python -m smate_nb.data.manifest", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("ckplus", "afew"):
        p = sub.add_parser(name, help=f"build the manifest of your {name} copy")
        p.add_argument("root", help="dataset folder in its distribution layout")
        p.add_argument("--out", default=None, help=f"manifest file (default data_manifests/{name}.csv)")
        p.add_argument("--verify", choices=("full", "first", "none"), default="full",
                       help="decode every frame (full), the first of each sequence, or none")
        if name == "ckplus":
            p.add_argument("--folds", type=int, default=10)
            p.add_argument("--fold-seed", type=int, default=0)
        else:
            p.add_argument("--test-size", type=int, default=130)
            p.add_argument("--test-seed", type=int, default=0)
    p = sub.add_parser("synthfer", help="(re)build the committed SynthFER manifests of a profile")
    p.add_argument("--profile", required=True)
    p.add_argument("--plan-only", action="store_true", help="predict from the plan; do not generate data")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "synthfer":
            from ..config import get_profile

            try:
                profile = get_profile(args.profile)
            except KeyError as e:
                raise ManifestError(f"{e.args[0]} (--profile)") from None
            for path in write_profile_manifests(profile, generate=not args.plan_only):
                print(f"wrote {path}")
            return 0
        out = args.out or str(manifest_dir() / f"{args.cmd}.csv")
        if args.cmd == "ckplus":
            df = build_manifest("ckplus", args.root, out=out, folds=args.folds, fold_seed=args.fold_seed,
                                verify_media=args.verify)
        else:
            df = build_manifest("afew", args.root, out=out, test_size=args.test_size, test_seed=args.test_seed,
                                verify_media=args.verify)
        counts = df.groupby(["split", "label"]).size().unstack(fill_value=0)
        print(f"wrote {out}: {len(df)} sequences, {df['subject'].nunique()} subjects\n{counts}")
        return 0
    except ManifestError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
