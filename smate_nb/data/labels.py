"""Class vocabularies of the two real datasets and their on-disk codes.

One place for the names, so that SynthFER, the manifest builders and the
notebooks can never disagree on what ``label_index == 3`` means.

* CK+ (Lucey et al., 2010): seven emotion codes 1..7 in
  ``Emotion/Sxxx/nnn/*_emotion.txt`` (0 = neutral is not used for sequence
  labels). ``label_index = code - 1``.
* AFEW (Dhall et al.): seven folder names under ``Train/`` and ``Val/``;
  ``label_index`` follows the alphabetical folder order, which is also the
  order EmotiW uses.
"""
from __future__ import annotations

__all__ = [
    "CKPLUS_CLASSES",
    "CKPLUS_CODES",
    "AFEW_CLASSES",
    "AFEW_FOLDERS",
    "AFEW_FOLDER_OF",
    "classes_of",
]

#: CK+ label names in label-index order (index = CK+ code - 1).
CKPLUS_CLASSES: tuple[str, ...] = (
    "anger", "contempt", "disgust", "fear", "happiness", "sadness", "surprise",
)
#: CK+ emotion code (as written in ``*_emotion.txt``) → label name.
CKPLUS_CODES: dict[int, str] = {i + 1: name for i, name in enumerate(CKPLUS_CLASSES)}

#: AFEW label names in label-index order.
AFEW_CLASSES: tuple[str, ...] = (
    "anger", "disgust", "fear", "happiness", "neutral", "sadness", "surprise",
)
#: AFEW folder name → label name.
AFEW_FOLDERS: dict[str, str] = {
    "Angry": "anger", "Disgust": "disgust", "Fear": "fear", "Happy": "happiness",
    "Neutral": "neutral", "Sad": "sadness", "Surprise": "surprise",
}
#: label name → AFEW folder name.
AFEW_FOLDER_OF: dict[str, str] = {v: k for k, v in AFEW_FOLDERS.items()}

_BY_DATASET = {
    "ckplus": CKPLUS_CLASSES, "synthfer-lab": CKPLUS_CLASSES,
    "afew": AFEW_CLASSES, "synthfer-wild": AFEW_CLASSES,
}


def classes_of(dataset: str) -> tuple[str, ...]:
    """Label names, in label-index order, of ``dataset``.

    ``dataset`` is one of ``"ckplus"``, ``"afew"``, ``"synthfer-lab"``,
    ``"synthfer-wild"``. Raises ``ValueError`` naming the valid choices.
    """
    try:
        return _BY_DATASET[dataset]
    except KeyError:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {sorted(_BY_DATASET)}") from None
