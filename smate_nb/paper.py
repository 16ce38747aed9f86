"""The paper's reported numbers (Kim, Cho & Bae, Sensors 2022, 22, 5753), for side-by-side tables.

Accuracies are top-1 (%) as printed. "GFLOPs" are multiply-accumulates ×10⁹
(see :mod:`smate_nb.cost`); parameters are ×10⁶.
"""
from __future__ import annotations

__all__ = ["TABLE1", "TABLE2", "TABLE3", "TABLE4", "TABLE5", "TABLE6", "AMBIGUITIES"]

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

#: Where the paper is silent or inconsistent: the point, what the paper says, the choice made here, the parameter
#: that switches it, and the table (``<notebook>__<name>``) where it was measured — or None where it was not.
AMBIGUITIES: list[dict[str, str | None]] = [
    {"point": "How a TPE value enters the model", "paper": "\"a fixed encoding that represents a position value "
     "rather than an embedding\"; no formula for how it is combined with the tokens",
     "choice": "four readings; the literal one (one scalar on every channel) is erased by LayerNorm — proved; the "
     "reading that stands for TPE is chosen on the calibration fold",
     "parameter": "ViViTConfig.tpe_mode", "measured": "04_position_encodings__tpe_readings_paired"},
    {"point": "α of Eqs. 9–10", "paper": "not given", "choice": "chosen on the calibration fold per encoding",
     "parameter": "ViViTConfig.tpe_alpha", "measured": "04_position_encodings__alpha"},
    {"point": "Eq. 10's range", "paper": "\"normalized … between [0, 1]\", but pos^α/L leaves [0, 1] for α > 1",
     "choice": "printed form by default; (pos/L)^α offered and calibrated", "parameter": "ViViTConfig.tpe_normalized",
     "measured": "04_position_encodings__alpha"},
    {"point": "Whether the temporal CLS token takes a position", "paper": "L = tokens output by the spatial "
     "encoder (CLS not counted)", "choice": "learned table: yes (official ViViT, n_t + 1 rows); TPE: no",
     "parameter": "ViViTConfig.temporal_cls_position", "measured": None},
    {"point": "How LBP enters a row without mixed tokens", "paper": "not stated; with mixing it is one more view",
     "choice": "a training clip is replaced by its LBP image with probability 0.5 (\"input\": always LBP)",
     "parameter": "PreprocSpec.lbp_mode, lbp_prob", "measured": None},
    {"point": "p and N of Eq. 7, and its ⊕", "paper": "not given; \"subsets randomly sampled\"", "choice": "per-sample "
     "Bernoulli(0.5) average of the original and N = 2 augmented views (+ LBP)",
     "parameter": "PreprocSpec.mix_prob, n_views", "measured": None},
    {"point": "Whether z_origin of Eq. 7 is the augmented training clip", "paper": "not stated", "choice": "the "
     "training clip as the augmentation row feeds it (augmented), views augmented independently",
     "parameter": "—", "measured": None},
    {"point": "Temporal depth of ViViT-B/16x2 FE", "paper": "171.45 M parameters = 12 spatial + 12 temporal layers "
     "(official ViViT-B FE has 4 temporal layers, ≈ 115 M)", "choice": "12 + 12", "parameter": "ViViTConfig.temporal_depth",
     "measured": "01_model_walkthrough__table1_cost"},
    {"point": "Table 1 parameters vs its baseline", "paper": "171.45 M — our count without a learned temporal table; "
     "Table 1 is the learned-embedding baseline (171.46 M with its table)", "choice": "recorded, not resolved",
     "parameter": "—", "measured": "01_model_walkthrough__table1_cost"},
    {"point": "Table 1 vs Tables 2–3 on AFEW", "paper": "the baseline is 37.22 % in Table 1 but 34.99 % (BERT / "
     "Original) in Tables 2–3", "choice": "the ablations' learned row is the baseline of both", "parameter": "—",
     "measured": "06_comparison__table1"},
    {"point": "Kinetics-400 pretraining", "paper": "ViViT-B/16x2 FE pretrained on Kinetics-400", "choice": "weights "
     "unavailable offline: a stand-in pretraining on a separate SynthFER-lab corpus (identities disjoint)",
     "parameter": "ModelSpec.init = 'run:<key>'", "measured": "05_progressive_preprocessing__stall"},
    {"point": "Random crop", "paper": "§3.1.2: crop \"with appropriate reduction thresholds\", then resize; §4.2: "
     "\"center and random crops of 224×224\" from 256²", "choice": "a random square of 0.8–1.0 of the short side, "
     "resized (AugmentConfig.crop_scale); (0.875, 0.875) is the fixed-size reading",
     "parameter": "PreprocSpec.augment_overrides", "measured": "05_progressive_preprocessing__stall"},
    {"point": "Augmentation probabilities and strengths", "paper": "angles {2°, 5°, 7°} either side; nothing else",
     "choice": "flip 0.5, rotate 0.5, grey 0.2, else jitter 0.8 (lightness ±0.3, saturation ±0.4, hue ±0.05)",
     "parameter": "AugmentConfig", "measured": None},
    {"point": "Self-attention scale (Eq. 3)", "paper": "softmax(QKᵀ/√D)", "choice": "√D_h per head (Transformer, "
     "ViT)", "parameter": "—", "measured": None},
    {"point": "\"GFLOPs\"", "paper": "Tables 1, 5 print GFLOPs", "choice": "read as multiply-accumulates (the values "
     "match MAC counts within 0.5 %)", "parameter": "—", "measured": "07_cost_by_crop__table5_macs"},
    {"point": "CK+ clip length", "paper": "25 frames at stride 2 (49 frames) — longer than most CK+ sequences",
     "choice": "short sequences keep the stride and repeat the last (peak) frame; long ones are spread to end on it",
     "parameter": "smate_nb.data.clips.SHORT_POLICY / LONG_POLICY", "measured": None},
    {"point": "The AFEW test set", "paper": "130 clips drawn from Val, balanced across classes", "choice": "the "
     "largest class-balanced subset of Val up to 130 clips, seeded", "parameter": "manifest --test-size",
     "measured": None},
    {"point": "Optimiser, learning rate, epochs, batch", "paper": "not given", "choice": "AdamW, warm-up + cosine, "
     "per profile (smate_nb.config)", "parameter": "OptimSpec", "measured": None},
    {"point": "Replicates", "paper": "one run per cell, no spread", "choice": "≥ 5 folds (lab) and 3 seeds (wild) "
     "per cell, paired comparisons", "parameter": "ablations.budget", "measured": "04_position_encodings__table2_paired"},
]
