"""Preprocessing for FER (paper §3.1, Fig. 3): faces → augmentation → LBP.

* :mod:`.faces` (§3.1.1) — detection, 68 landmarks and similarity alignment of
  video clips; :func:`.faces.align_clip` is the clip cache's hook.
* :mod:`.augment` (§3.1.2, Fig. 4) — clip-consistent crop / resize / flip /
  rotation / colour jitter / grayscale on ``B×T×C×H×W`` tensors, any device.
* :mod:`.lbp` (§3.1.3, Eqs. 1–2, Fig. 5) — batched LBP, bit-exact with
  scikit-image or the integer 3×3 variant.

Import the submodules (``from smate_nb.preprocess import faces``); dlib is
only loaded when a dlib backend is built.
"""
from . import augment, faces, lbp

__all__ = ["augment", "faces", "lbp"]
