"""The paper's reported numbers (Kim, Cho & Bae, Sensors 2022, 22, 5753), for side-by-side tables.

Accuracies are top-1 (%) as printed. "GFLOPs" are multiply-accumulates ×10⁹
(see :mod:`smate_nb.cost`); parameters are ×10⁶.
"""
from __future__ import annotations

__all__ = ["TABLE1", "TABLE2", "TABLE3", "TABLE4", "TABLE5", "TABLE6"]

#: Table 1 — ViViT-B/16x2 FE baseline: 25 frames, 224², tubelet 2×16×16.
TABLE1 = {"method": "ViViT-B/16x2 FE", "ckplus": 42.42, "afew": 37.22, "gflops": 213.93, "params_m": 171.45,
          "num_frames": 25, "image_size": 224}

#: Table 2 — position information (top-1 %).
TABLE2 = {"BERT": {"ckplus": 42.42, "afew": 34.99},
          "TPE-V1": {"ckplus": 43.18, "afew": 36.66},
          "TPE-V2": {"ckplus": 43.93, "afew": 39.44}}

#: Table 3 — progressive preprocessing, BERT-based (each row adds to the previous).
TABLE3 = {"Original": {"ckplus": 42.42, "afew": 34.99},
          "LBP": {"ckplus": 54.95, "afew": 37.22},
          "Crop, flip, rotate, color jitter": {"ckplus": 91.97, "afew": 38.33},
          "Mixed-token embedding": {"ckplus": 98.39, "afew": 38.88}}

#: Table 4 — progressive preprocessing, TPE-v2-based.
TABLE4 = {"Original": {"ckplus": 43.93, "afew": 37.22},
          "LBP": {"ckplus": 63.35, "afew": 39.71},
          "Crop, flip, rotate, color jitter": {"ckplus": 95.38, "afew": 40.83},
          "Mixed-token embedding": {"ckplus": 99.19, "afew": 41.38}}

#: Table 5 — cost by crop size: 16 frames, stride 2, RTX A6000 (training steps per minute).
TABLE5 = {"num_frames": 16, "stride": 2,
          "crop": [64, 128, 224, 320],
          "gflops": [12.5, 46.3, 142.6, 301.8],
          "steps_per_min": [23.5, 22.6, 20.3, 17.3]}

#: Table 6 — comparison with the state of the art (top-1 %; None = not reported).
TABLE6 = {"DeepEmotion": {"ckplus": 98.0, "afew": None},
          "HMTL": {"ckplus": 98.23, "afew": None},
          "C3D": {"ckplus": None, "afew": 39.69},
          "SMaTE (TPE-v2)": {"ckplus": 99.19, "afew": 41.38}}
